/* SPDX-License-Identifier: BSD-3-Clause */
/* Console: show peers, show sa, peer rekey NAME, peer reset NAME. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tunnel_private.h"
#include "sp_console.h"

static void
fmt_ip(const struct sp_ip *ip, char *b, size_t n)
{
	sp_ip_format(ip, b, n, false);
}

static void
peer_totals(const struct tun_peer *p, bool inbound, uint64_t *pk, uint64_t *by)
{
	struct sp_esp_sa_stats st;
	unsigned int e, i;

	*pk = p->gone_packets[!inbound];
	*by = p->gone_bytes[!inbound];
	for (e = 0; e < SP_TUN_EPOCHS; e++) {
		const struct tun_epoch *ep = &p->ep[e];
		unsigned int n = inbound ? ep->n_in : ep->n_out;

		for (i = 0; i < n; i++) {
			sp_esp_sa_stats(inbound ? ep->in[i] : ep->out[i], &st);
			*pk += st.packets;
			*by += st.bytes;
		}
	}
}

struct show_res {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t what;
	uint8_t json;
};

static void
show_peers(void *parsed, struct cmdline *cl, void *data)
{
	struct show_res *res = parsed;
	char a[SP_IP_STRLEN], l[SP_IP_STRLEN], pf[SP_IP_STRLEN];
	uint64_t ipk, iby, opk, oby;
	unsigned int i, k, e;

	(void)data;
	if (res->json) {
		struct sp_json j;

		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_bool(&j, "enabled", T.up);
		sp_json_str(&j, "engine", T.up ? sp_crypto_engine_name(T.engine) : "");
		sp_json_arr_open(&j, "peers");
		for (i = 0; T.up && i < T.n_peers; i++) {
			const struct tun_peer *p = &T.peers[i];
			const struct sp_conf_peer *pc = &T.conf.peers[i];

			fmt_ip(&pc->address, a, sizeof(a));
			fmt_ip(&p->local, l, sizeof(l));
			peer_totals(p, true, &ipk, &iby);
			peer_totals(p, false, &opk, &oby);
			sp_json_obj_open(&j, NULL);
			sp_json_str(&j, "name", p->name);
			sp_json_str(&j, "address", a);
			sp_json_str(&j, "local", l);
			sp_json_str(&j, "identity", pc->identity);
			sp_json_str(&j, "keys", pc->n_manual ? "manual" : "exchange");
			sp_json_str(&j, "state", p->state);
			sp_json_str(&j, "detail", p->detail);
			sp_json_u64(&j, "active_epoch", p->active);
			sp_json_arr_open(&j, "epochs");
			for (e = 0; e < SP_TUN_EPOCHS; e++) {
				if (p->ep[e].epoch == 0)
					continue;
				sp_json_obj_open(&j, NULL);
				sp_json_u64(&j, "epoch", p->ep[e].epoch);
				sp_json_u64(&j, "inbound_sas", p->ep[e].n_in);
				sp_json_u64(&j, "outbound_sas", p->ep[e].n_out);
				sp_json_obj_close(&j);
			}
			sp_json_arr_close(&j);
			sp_json_arr_open(&j, "prefixes");
			for (k = 0; k < pc->n_prefixes; k++) {
				sp_ip_format(&pc->prefixes[k], pf, sizeof(pf), true);
				sp_json_str(&j, NULL, pf);
			}
			sp_json_arr_close(&j);
			sp_json_u64(&j, "path_mtu", p->path_mtu);
			sp_json_bool(&j, "udp_encap", pc->udp_encap);
			sp_json_bool(&j, "esn", pc->esn);
			sp_json_u64(&j, "packets_in", ipk);
			sp_json_u64(&j, "bytes_in", iby);
			sp_json_u64(&j, "packets_out", opk);
			sp_json_u64(&j, "bytes_out", oby);
			sp_json_obj_close(&j);
		}
		sp_json_arr_close(&j);
		sp_json_obj_close(&j);
		sp_json_end(&j);
		return;
	}
	if (!T.up || T.n_peers == 0) {
		cmdline_printf(cl, "no tunnels configured\n");
		return;
	}
	cmdline_printf(cl, "%-16s %-22s %-22s %-12s %6s %12s %12s\n", "peer", "address", "local",
		       "state", "epoch", "pkts-in", "pkts-out");
	for (i = 0; i < T.n_peers; i++) {
		const struct tun_peer *p = &T.peers[i];
		const struct sp_conf_peer *pc = &T.conf.peers[i];

		fmt_ip(&pc->address, a, sizeof(a));
		fmt_ip(&p->local, l, sizeof(l));
		peer_totals(p, true, &ipk, &iby);
		peer_totals(p, false, &opk, &oby);
		cmdline_printf(cl, "%-16s %-22s %-22s %-12s %6" PRIu64 " %12" PRIu64 " %12" PRIu64
			       "\n", p->name, a, l, p->state, p->active, ipk, opk);
		if (p->detail[0] != '\0')
			cmdline_printf(cl, "  %s\n", p->detail);
		cmdline_printf(cl, "  prefixes:");
		for (k = 0; k < pc->n_prefixes; k++) {
			sp_ip_format(&pc->prefixes[k], pf, sizeof(pf), true);
			cmdline_printf(cl, " %s", pf);
		}
		cmdline_printf(cl, "\n");
	}
	cmdline_printf(cl, "engine: %s\n", sp_crypto_engine_name(T.engine));
}

static void
sa_json(struct sp_json *j, const struct tun_peer *p, const struct tun_epoch *ep,
	struct sp_esp_sa *sa, bool active)
{
	const struct sp_esp_sa_conf *c = sp_esp_sa_conf(sa);
	struct sp_esp_sa_stats st;
	char b[16];
	unsigned int r;

	sp_esp_sa_stats(sa, &st);
	snprintf(b, sizeof(b), "0x%08x", c->spi);
	sp_json_obj_open(j, NULL);
	sp_json_u64(j, "spi", c->spi);
	sp_json_str(j, "spi_hex", b);
	sp_json_str(j, "dir", c->dir == SP_ESP_INBOUND ? "in" : "out");
	sp_json_str(j, "peer", p->name);
	sp_json_u64(j, "epoch", ep->epoch);
	sp_json_bool(j, "active", active);
	sp_json_str(j, "engine", sp_esp_sa_engine(sa));
	sp_json_u64(j, "worker", c->owner);
	sp_json_str(j, "cipher", c->key.alg == SP_CRYPTO_AES128_GCM ? "aes-gcm-128" :
		    "aes-gcm-256");
	sp_json_bool(j, "esn", c->esn);
	sp_json_bool(j, "udp_encap", c->udp_encap);
	sp_json_u64(j, "seq", sp_esp_sa_seq(sa));
	if (c->dir == SP_ESP_INBOUND)
		sp_json_u64(j, "replay_window", c->replay_off ? 0 : c->replay_window);
	else
		sp_json_u64(j, "inner_mtu", sp_esp_inner_mtu(sa));
	sp_json_u64(j, "age_s", sp_tun_now() - c->created);
	sp_json_bool(j, "rekey_wanted", sp_esp_sa_rekey_wanted(sa));
	sp_json_bool(j, "expired", sp_esp_sa_expired(sa));
	sp_json_u64(j, "packets", st.packets);
	sp_json_u64(j, "bytes", st.bytes);
	sp_json_obj_open(j, "drops");
	for (r = 1; r < SP_ESP_DROP_MAX; r++)
		sp_json_u64(j, sp_esp_drop_name(r), st.drops[r]);
	sp_json_obj_close(j);
	sp_json_obj_close(j);
}

static void
sa_text(struct cmdline *cl, const struct tun_peer *p, const struct tun_epoch *ep,
	struct sp_esp_sa *sa, bool active)
{
	const struct sp_esp_sa_conf *c = sp_esp_sa_conf(sa);
	struct sp_esp_sa_stats st;
	unsigned int r;

	sp_esp_sa_stats(sa, &st);
	cmdline_printf(cl, "0x%08x %-3s %-16s %6" PRIu64 "%s %-9s %2u %14" PRIu64 " %14" PRIu64
		       " %16" PRIu64 "%s%s\n", c->spi, c->dir == SP_ESP_INBOUND ? "in" : "out",
		       p->name, ep->epoch, active ? "*" : " ", sp_esp_sa_engine(sa), c->owner,
		       sp_esp_sa_seq(sa), st.packets, st.bytes,
		       sp_esp_sa_rekey_wanted(sa) ? " rekey" : "",
		       sp_esp_sa_expired(sa) ? " expired" : "");
	for (r = 1; r < SP_ESP_DROP_MAX; r++)
		if (st.drops[r] != 0)
			cmdline_printf(cl, "           drop %s %" PRIu64 "\n", sp_esp_drop_name(r),
				       st.drops[r]);
}

static void
show_sa(void *parsed, struct cmdline *cl, void *data)
{
	struct show_res *res = parsed;
	struct sp_json j;
	unsigned int i, e, k;

	(void)data;
	if (res->json) {
		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_str(&j, "engine", T.up ? sp_crypto_engine_name(T.engine) : "");
		sp_json_arr_open(&j, "sas");
	} else if (!T.up || T.n_peers == 0) {
		cmdline_printf(cl, "no tunnels configured\n");
		return;
	} else {
		cmdline_printf(cl, "%-10s %-3s %-16s %7s %-9s %2s %14s %14s %16s\n", "spi", "dir",
			       "peer", "epoch", "engine", "w", "seq", "packets", "bytes");
	}
	for (i = 0; T.up && i < T.n_peers; i++) {
		const struct tun_peer *p = &T.peers[i];

		for (e = 0; e < SP_TUN_EPOCHS; e++) {
			const struct tun_epoch *ep = &p->ep[e];
			bool act = ep->epoch != 0 && ep->epoch == p->active;

			for (k = 0; k < ep->n_in; k++) {
				if (res->json)
					sa_json(&j, p, ep, ep->in[k], ep->epoch != 0);
				else
					sa_text(cl, p, ep, ep->in[k], ep->epoch != 0);
			}
			for (k = 0; k < ep->n_out; k++) {
				if (res->json)
					sa_json(&j, p, ep, ep->out[k], act);
				else
					sa_text(cl, p, ep, ep->out[k], act);
			}
		}
	}
	if (res->json) {
		sp_json_arr_close(&j);
		sp_json_obj_close(&j);
		sp_json_end(&j);
	} else {
		cmdline_printf(cl, "(* = in use; inbound SAs accept until retired)\n");
	}
}

static cmdline_parse_token_string_t tok_show = TOKEN_STRING_INITIALIZER(struct show_res, show,
									 "show");
static cmdline_parse_token_string_t tok_peers = TOKEN_STRING_INITIALIZER(struct show_res, what,
									  "peers");
static cmdline_parse_token_string_t tok_sa = TOKEN_STRING_INITIALIZER(struct show_res, what,
								       "sa");
static struct sp_token_json tok_json = SP_TOKEN_JSON_INITIALIZER(struct show_res, json);

static cmdline_parse_inst_t cmd_show_peers = {
	.f = show_peers,
	.help_str = "show peers [--json]: tunnel peers, their state, epoch, prefixes and traffic",
	.tokens = { (void *)&tok_show, (void *)&tok_peers, (void *)&tok_json, NULL },
};
SP_CONSOLE_CMD(cmd_show_peers, SP_ACCESS_READ);

static cmdline_parse_inst_t cmd_show_sa = {
	.f = show_sa,
	.help_str = "show sa [--json]: every ESP SA with its peer, epoch, engine, owning worker, "
		    "sequence number, counters and drops",
	.tokens = { (void *)&tok_show, (void *)&tok_sa, (void *)&tok_json, NULL },
};
SP_CONSOLE_CMD(cmd_show_sa, SP_ACCESS_READ);

struct peer_res {
	cmdline_fixed_string_t peer;
	cmdline_fixed_string_t op;
	cmdline_fixed_string_t name;
};

static void
peer_op(void *parsed, struct cmdline *cl, void *data)
{
	struct peer_res *res = parsed;
	const struct sp_conf_peer *pc;
	struct tun_peer *p;
	char msg[256] = "", line[320];
	int idx, rc;

	(void)data;
	idx = sp_tun_peer_find(res->name);
	if (idx < 0) {
		sp_console_error(cl, "no peer \"%s\" (show peers lists them)", res->name);
		return;
	}
	p = &T.peers[idx];
	pc = &T.conf.peers[idx];
	if (pc->n_manual > 0) {
		if (strcmp(res->op, "rekey") == 0) {
			sp_console_error(cl, "peer %s uses manual keys: there is nothing to rekey",
					 p->name);
			return;
		}
		/* New SAs from the same keys: sequence numbers and replay windows start over. */
		sp_tun_flush((unsigned int)idx);
		rc = tun_install_manual(p, pc, msg, sizeof(msg));
		if (rc < 0)
			sp_console_error(cl, "peer %s: %s", p->name, msg);
		else
			cmdline_printf(cl, "peer %s: manual SAs reinstalled\n", p->name);
		return;
	}
	if (strcmp(res->op, "rekey") == 0)
		rc = T.hooks.rekey != NULL ? T.hooks.rekey((unsigned int)idx, msg, sizeof(msg)) :
		     -ENOTSUP;
	else
		rc = T.hooks.reset != NULL ? T.hooks.reset((unsigned int)idx, msg, sizeof(msg)) :
		     -ENOTSUP;
	if (rc == -ENOTSUP && msg[0] == '\0')
		snprintf(msg, sizeof(msg), "the key exchange is not running");
	/* lib/keyx's messages already name the peer */
	if (strncmp(msg, "peer ", 5) == 0)
		snprintf(line, sizeof(line), "%s", msg);
	else
		snprintf(line, sizeof(line), "peer %s: %s", p->name, msg[0] ? msg : "done");
	if (rc < 0)
		sp_console_error(cl, "%s", line);
	else
		cmdline_printf(cl, "%s\n", line);
}

static cmdline_parse_token_string_t tok_peer = TOKEN_STRING_INITIALIZER(struct peer_res, peer,
									 "peer");
static cmdline_parse_token_string_t tok_ops = TOKEN_STRING_INITIALIZER(struct peer_res, op,
									"rekey#reset");
static cmdline_parse_token_string_t tok_name = TOKEN_STRING_INITIALIZER(struct peer_res, name,
									 NULL);

static cmdline_parse_inst_t cmd_peer_op = {
	.f = peer_op,
	.help_str = "peer rekey|reset NAME: rekey now (make-before-break), or drop the session "
		    "and SAs and start over (manual peers: reinstall their SAs)",
	.tokens = { (void *)&tok_peer, (void *)&tok_ops, (void *)&tok_name, NULL },
};
SP_CONSOLE_CMD(cmd_peer_op, SP_ACCESS_ADMIN);
