/* SPDX-License-Identifier: BSD-3-Clause */
/* Console: show keyx - the key exchange's counters, per peer and in total. */

#include <inttypes.h>
#include <stdio.h>

#include "keyx_private.h"
#include "sp_console.h"

static struct sp_keyx *cli_kx;

void
sp_keyx_console_attach(struct sp_keyx *k)
{
	cli_kx = k;
}

#define KX_COUNTERS(X) \
	X(connects) X(handshakes_ok) X(handshakes_failed) X(epochs) X(rekeys) X(dpd_timeouts) \
	X(bad_messages) X(sessions_lost) X(sa_failures)

static void
counters_json(struct sp_json *j, const struct sp_keyx_counters *c)
{
	unsigned int r;

#define KX_J(f) sp_json_u64(j, #f, c->f);
	KX_COUNTERS(KX_J)
#undef KX_J
	sp_json_obj_open(j, "refused");
	for (r = 0; r < SP_KEYX_REFUSE_MAX; r++)
		sp_json_u64(j, sp_keyx_refusal_name(r), c->refused[r]);
	sp_json_obj_close(j);
}

static void
counters_text(struct cmdline *cl, const char *who, const struct sp_keyx_counters *c)
{
	unsigned int r;

	cmdline_printf(cl, "%-16s connects %" PRIu64 ", handshakes %" PRIu64 " ok %" PRIu64
		       " failed, epochs %" PRIu64 " (rekeys %" PRIu64 "), dpd timeouts %" PRIu64
		       ", bad messages %" PRIu64 ", sessions lost %" PRIu64 ", SA failures %"
		       PRIu64 "\n", who, c->connects, c->handshakes_ok, c->handshakes_failed,
		       c->epochs, c->rekeys, c->dpd_timeouts, c->bad_messages, c->sessions_lost,
		       c->sa_failures);
	for (r = 0; r < SP_KEYX_REFUSE_MAX; r++)
		if (c->refused[r] != 0)
			cmdline_printf(cl, "%-16s   refused %s: %" PRIu64 "\n", "",
				       sp_keyx_refusal_name(r), c->refused[r]);
}

struct show_res {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t keyx;
	uint8_t json;
};

static void
show_keyx(void *parsed, struct cmdline *cl, void *data)
{
	struct show_res *res = parsed;
	struct sp_keyx *k = cli_kx;
	struct sp_keyx_counters c;
	unsigned int i;

	(void)data;
	if (res->json) {
		struct sp_json j;

		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_bool(&j, "running", k != NULL);
		if (k != NULL) {
			sp_keyx_counters(k, &c);
			sp_json_obj_open(&j, "total");
			counters_json(&j, &c);
			sp_json_obj_close(&j);
			sp_json_arr_open(&j, "peers");
			for (i = 0; i < k->n_peers; i++) {
				const struct kx_peer *p = &k->peers[i];

				if (!p->keyed)
					continue;
				sp_json_obj_open(&j, NULL);
				sp_json_str(&j, "name", p->conf->name);
				sp_json_str(&j, "role", p->client ? "client" : "server");
				sp_json_u64(&j, "epoch", sp_keyx_peer_epoch(k, i));
				counters_json(&j, &p->cnt);
				sp_json_obj_close(&j);
			}
			sp_json_arr_close(&j);
		}
		sp_json_obj_close(&j);
		sp_json_end(&j);
		return;
	}
	if (k == NULL) {
		cmdline_printf(cl, "key exchange not running (no keyed peer)\n");
		return;
	}
	for (i = 0; i < k->n_peers; i++) {
		const struct kx_peer *p = &k->peers[i];

		if (p->keyed)
			counters_text(cl, p->conf->name, &p->cnt);
	}
	sp_keyx_counters(k, &c);
	counters_text(cl, "total", &c);
}

static cmdline_parse_token_string_t tok_show = TOKEN_STRING_INITIALIZER(struct show_res, show,
									 "show");
static cmdline_parse_token_string_t tok_keyx = TOKEN_STRING_INITIALIZER(struct show_res, keyx,
									 "keyx");
static struct sp_token_json tok_json = SP_TOKEN_JSON_INITIALIZER(struct show_res, json);

static cmdline_parse_inst_t cmd_show_keyx = {
	.f = show_keyx,
	.help_str = "show keyx [--json]: key exchange counters per peer and in total, refusals "
		    "by cause (revoked, wrong-identity, unknown-ca, ...)",
	.tokens = { (void *)&tok_show, (void *)&tok_keyx, (void *)&tok_json, NULL },
};
SP_CONSOLE_CMD(cmd_show_keyx, SP_ACCESS_READ);
