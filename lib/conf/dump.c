/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing a configuration back out, in the syntax it was read from: loading it again gives the
 * same struct (the unit test checks this round trip). */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_private.h"

static void
put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void
kv_str(FILE *f, const char *indent, const char *key, const char *v)
{
	fprintf(f, "%s%s = ", indent, key);
	put_str(f, v);
	fputs(";\n", f);
}

/* libconfig 1.5 reads an integer without "L" as 32 bits */
static void
kv_u32(FILE *f, const char *indent, const char *key, uint32_t v)
{
	fprintf(f, "%s%s = %u%s;\n", indent, key, v, v > INT32_MAX ? "L" : "");
}

static void
kv_u64(FILE *f, const char *indent, const char *key, uint64_t v)
{
	fprintf(f, "%s%s = %lluL;\n", indent, key, (unsigned long long)v);
}

static void
kv_ip(FILE *f, const char *indent, const char *key, const struct sp_ip *ip, bool plen)
{
	char b[SP_IP_STRLEN];

	sp_ip_format(ip, b, sizeof(b), plen);
	kv_str(f, indent, key, b);
}

static void
kv_hex(FILE *f, const char *indent, const char *key, const uint8_t *v, unsigned int n)
{
	unsigned int i;

	fprintf(f, "%s%s = \"", indent, key);
	for (i = 0; i < n; i++)
		fprintf(f, "%02x", v[i]);
	fputs("\";\n", f);
}

static void
kv_bool(FILE *f, const char *indent, const char *key, bool v)
{
	fprintf(f, "%s%s = %s;\n", indent, key, v ? "true" : "false");
}

static void
kv_mac(FILE *f, const char *indent, const struct rte_ether_addr *mac)
{
	char b[RTE_ETHER_ADDR_FMT_SIZE];

	rte_ether_format_addr(b, sizeof(b), mac);
	kv_str(f, indent, "mac", b);
}

static void
put_addrs(FILE *f, const char *indent, const struct sp_conf_iface *ifc)
{
	unsigned int i;

	fprintf(f, "%saddresses = [ ", indent);
	for (i = 0; i < ifc->n_addrs; i++) {
		char b[SP_IP_STRLEN];

		sp_ip_format(&ifc->addrs[i], b, sizeof(b), true);
		fprintf(f, "%s\"%s\"", i ? ", " : "", b);
	}
	fputs(" ];\n", f);
}

static void
dump_eal(const struct sp_conf *conf, FILE *f)
{
	const struct sp_conf_eal *e = &conf->eal;
	unsigned int i;

	fputs("eal = {\n", f);
	kv_str(f, "  ", "lcores", e->lcores);
	if (e->main_lcore >= 0)
		fprintf(f, "  main_lcore = %d;\n", e->main_lcore);
	if (e->file_prefix[0] != '\0')
		kv_str(f, "  ", "file_prefix", e->file_prefix);
	kv_u32(f, "  ", "memory_mb", e->memory_mb);
	kv_bool(f, "  ", "in_memory", e->in_memory);
	kv_bool(f, "  ", "no_huge", e->no_huge);
	kv_bool(f, "  ", "no_pci", e->no_pci);
	kv_bool(f, "  ", "no_telemetry", e->no_telemetry);
	if (e->n_extra > 0) {
		fputs("  extra = [ ", f);
		for (i = 0; i < e->n_extra; i++) {
			fputs(i ? ", " : "", f);
			put_str(f, e->extra[i]);
		}
		fputs(" ];\n", f);
	}
	fputs("};\n", f);

	fputs("workers = {\n  lcores = [ ", f);
	for (i = 0; i < conf->workers.n_lcores; i++)
		fprintf(f, "%s%u", i ? ", " : "", conf->workers.lcores[i]);
	fputs(" ];\n", f);
	kv_str(f, "  ", "idle", conf->workers.idle == SP_IDLE_POLL ? "poll" : "adaptive");
	kv_u32(f, "  ", "idle_max_us", conf->workers.idle_max_us);
	kv_u32(f, "  ", "burst", conf->workers.burst);
	fputs("};\n", f);

	fputs("mempool = {\n", f);
	kv_u32(f, "  ", "mbufs", conf->mempool.mbufs);
	kv_u32(f, "  ", "cache", conf->mempool.cache);
	kv_u32(f, "  ", "data_room", conf->mempool.data_room);
	fputs("};\n", f);
}

static void
dump_port(const struct sp_conf_port *p, FILE *f)
{
	unsigned int k, nv = 0;

	kv_str(f, "    ", "name", p->name);
	kv_str(f, "    ", "device", p->device);
	if (p->has_mac)
		kv_mac(f, "    ", &p->mac);
	kv_u32(f, "    ", "mtu", p->mtu);
	kv_u32(f, "    ", "rx_desc", p->rx_desc);
	kv_u32(f, "    ", "tx_desc", p->tx_desc);
	kv_bool(f, "    ", "promiscuous", p->promiscuous);
	for (k = 0; k < p->n_ifaces; k++) {
		const struct sp_conf_iface *ifc = &p->ifaces[k];

		if (ifc->vlan == 0) {
			put_addrs(f, "    ", ifc);
			continue;
		}
		fputs(nv++ ? ",\n" : "    vlans = (\n", f);
		fprintf(f, "      {\n        id = %u;\n        mtu = %u;\n", ifc->vlan, ifc->mtu);
		if (ifc->n_addrs > 0)
			put_addrs(f, "        ", ifc);
		fputs("      }", f);
	}
	if (nv > 0)
		fputs("\n    );\n", f);
}

static void
dump_routes(const struct sp_conf *conf, FILE *f)
{
	unsigned int i;

	if (conf->n_routes == 0)
		return;
	fputs("routes = (\n", f);
	for (i = 0; i < conf->n_routes; i++) {
		const struct sp_conf_route *r = &conf->routes[i];
		char b[SP_IP_STRLEN];

		sp_ip_format(&r->prefix, b, sizeof(b), true);
		fprintf(f, "  { prefix = \"%s\";", b);
		if (r->kind == SP_ROUTE_VIA) {
			sp_ip_format(&r->via, b, sizeof(b), false);
			fprintf(f, " via = \"%s\";", b);
		}
		if (r->kind != SP_ROUTE_BLACKHOLE && r->iface[0] != '\0') {
			fputs(" interface = ", f);
			put_str(f, r->iface);
			fputc(';', f);
		}
		if (r->kind == SP_ROUTE_BLACKHOLE)
			fputs(" blackhole = true;", f);
		fprintf(f, " }%s\n", i + 1 < conf->n_routes ? "," : "");
	}
	fputs(");\n", f);
}

static void
kv_path(FILE *f, const char *indent, const char *key, const char *v)
{
	if (v[0] != '\0')
		kv_str(f, indent, key, v);
}

static void
dump_pki(const struct sp_conf *conf, FILE *f)
{
	const struct sp_conf_pki *k = &conf->pki;
	const struct sp_conf_issuer *is = &conf->issuer;
	unsigned int i;

	if (k->enabled) {
		fputs("pki = {\n", f);
		kv_str(f, "  ", "cert", k->cert);
		kv_str(f, "  ", "key", k->key);
		kv_str(f, "  ", "bundle", k->bundle);
		fputs("  crls = [", f);
		for (i = 0; i < k->n_crls; i++) {
			fputs(i ? ", " : " ", f);
			put_str(f, k->crls[i]);
		}
		fputs(k->n_crls ? " ];\n" : "];\n", f);
		kv_path(f, "  ", "identity", k->identity);
		kv_bool(f, "  ", "watch", k->watch);
		if (k->renew.enabled) {
			fputs("  renew = {\n", f);
			kv_str(f, "    ", "source",
			       k->renew.source == SP_RENEW_GATEWAY ? "gateway" : "file");
			kv_path(f, "    ", "ca_cert", k->renew.ca_cert);
			kv_path(f, "    ", "ca_key", k->renew.ca_key);
			kv_path(f, "    ", "url", k->renew.url);
			fprintf(f, "    at = %.17g;\n", k->renew.at);
			kv_u32(f, "    ", "retry_s", k->renew.retry_s);
			fputs("  };\n", f);
		}
		fputs("};\n", f);
	}
	fputs("issuer = {\n", f);
	kv_bool(f, "  ", "enabled", is->enabled);
	if (is->enabled) {
		kv_str(f, "  ", "listen", is->listen_str);
		kv_str(f, "  ", "ca_cert", is->ca_cert);
		kv_str(f, "  ", "ca_key", is->ca_key);
		kv_str(f, "  ", "policy", is->policy);
		kv_str(f, "  ", "tokens", is->tokens);
		kv_str(f, "  ", "audit", is->audit);
	}
	kv_u32(f, "  ", "max_seconds", is->max_seconds);
	kv_u32(f, "  ", "max_conns", is->max_conns);
	fputs("};\n", f);
}

/* Manual keys are secrets: "show config" prints them, as the file holds them; the console
 * is for administrators, and read-only users cannot run it (docs/console.md). */
static void
dump_peer(const struct sp_conf_peer *p, FILE *f)
{
	unsigned int i;

	kv_str(f, "      ", "name", p->name);
	if (p->identity[0] != '\0')
		kv_str(f, "      ", "identity", p->identity);
	kv_ip(f, "      ", "address", &p->address, false);
	if (p->has_local)
		kv_ip(f, "      ", "local", &p->local, false);
	fputs("      prefixes = [", f);
	for (i = 0; i < p->n_prefixes; i++) {
		char b[SP_IP_STRLEN];

		sp_ip_format(&p->prefixes[i], b, sizeof(b), true);
		fprintf(f, "%s\"%s\"", i ? ", " : " ", b);
	}
	fputs(" ];\n", f);
	kv_bool(f, "      ", "udp_encap", p->udp_encap);
	kv_bool(f, "      ", "esn", p->esn);
	kv_u32(f, "      ", "path_mtu", p->path_mtu);
	if (p->n_manual == 0)
		return;
	fputs("      manual = (\n", f);
	for (i = 0; i < p->n_manual; i++) {
		const struct sp_conf_manual_sa *m = &p->manual[i];

		fputs("        {\n", f);
		kv_u32(f, "          ", "spi_in", m->spi_in);
		kv_u32(f, "          ", "spi_out", m->spi_out);
		kv_hex(f, "          ", "key_in", m->key_in, m->keymat_len);
		kv_hex(f, "          ", "key_out", m->key_out, m->keymat_len);
		fprintf(f, "        }%s\n", i + 1 < p->n_manual ? "," : "");
	}
	fputs("      );\n", f);
}

static void
dump_tunnels(const struct sp_conf *conf, FILE *f)
{
	const struct sp_conf_tunnels *t = &conf->tunnels;
	const struct sp_conf_lifetime *l = &t->lifetime;
	unsigned int i;

	fputs("crypto = {\n", f);
	kv_str(f, "  ", "engine", conf->crypto.engine);
	kv_str(f, "  ", "args", conf->crypto.args);
	fputs("};\n", f);
	if (!t->enabled)
		return;
	fputs("tunnels = {\n", f);
	kv_u32(f, "  ", "port", t->port);
	kv_str(f, "  ", "cipher", t->key_bits == 128 ? "aes-gcm-128" : "aes-gcm-256");
	kv_bool(f, "  ", "esn", t->esn);
	kv_bool(f, "  ", "udp_encap", t->udp_encap);
	kv_u32(f, "  ", "replay_window", t->replay_window);
	fputs("  lifetime = {\n", f);
	kv_u64(f, "    ", "soft_seconds", l->soft_seconds);
	kv_u64(f, "    ", "hard_seconds", l->hard_seconds);
	kv_u64(f, "    ", "soft_bytes", l->soft_bytes);
	kv_u64(f, "    ", "hard_bytes", l->hard_bytes);
	kv_u64(f, "    ", "soft_packets", l->soft_packets);
	kv_u64(f, "    ", "hard_packets", l->hard_packets);
	fputs("  };\n", f);
	kv_u32(f, "  ", "dpd_interval_ms", t->dpd_interval_ms);
	kv_u32(f, "  ", "dpd_timeout_ms", t->dpd_timeout_ms);
	kv_u32(f, "  ", "drain_ms", t->drain_ms);
	kv_u32(f, "  ", "retry_ms", t->retry_ms);
	fputs("  peers = (\n", f);
	for (i = 0; i < t->n_peers; i++) {
		fputs("    {\n", f);
		dump_peer(&t->peers[i], f);
		fprintf(f, "    }%s\n", i + 1 < t->n_peers ? "," : "");
	}
	fputs("  );\n};\n", f);
}

static void
dump_rest(const struct sp_conf *conf, FILE *f)
{
	const struct sp_conf_exception *x = &conf->exception;
	const struct sp_conf_neigh *nb = &conf->neigh;
	unsigned int i;

	fputs("exception = {\n", f);
	kv_bool(f, "  ", "enabled", x->enabled);
	kv_str(f, "  ", "iface", x->iface);
	kv_str(f, "  ", "netns", x->netns);
	if (x->has_mac)
		kv_mac(f, "  ", &x->mac);
	kv_u32(f, "  ", "table", x->table);
	kv_u32(f, "  ", "rule_priority", x->rule_priority);
	fputs("};\n", f);

	dump_routes(conf, f);

	fputs("neighbors = {\n", f);
	kv_u32(f, "  ", "max_entries", nb->max_entries);
	kv_u32(f, "  ", "reachable_ms", nb->reachable_ms);
	kv_u32(f, "  ", "retrans_ms", nb->retrans_ms);
	kv_u32(f, "  ", "probes", nb->probes);
	kv_u32(f, "  ", "hold_packets", nb->hold_packets);
	fputs("};\n", f);

	fputs("icmp = {\n", f);
	kv_u32(f, "  ", "errors_per_sec", conf->icmp.errors_per_sec);
	kv_u32(f, "  ", "burst", conf->icmp.burst);
	fputs("};\n", f);

	fputs("log = {\n", f);
	kv_str(f, "  ", "format", conf->log.format == SP_LOG_JSON ? "json" : "text");
	kv_str(f, "  ", "level", sp_log_level_name(conf->log.level));
	for (i = 0; i < conf->log.n_types; i++) {
		fputs(i ? ",\n    { pattern = " : "  types = (\n    { pattern = ", f);
		put_str(f, conf->log.types[i].pattern);
		fprintf(f, "; level = \"%s\"; }", sp_log_level_name(conf->log.types[i].level));
	}
	if (conf->log.n_types > 0)
		fputs("\n  );\n", f);
	fputs("};\n", f);

	fputs("console = {\n", f);
	kv_str(f, "  ", "socket", conf->console.socket);
	fputs("};\n", f);
	dump_pki(conf, f);
	dump_tunnels(conf, f);
}

int
sp_conf_dump(const struct sp_conf *conf, FILE *f)
{
	unsigned int i;

	fputs("# sallyport configuration, loaded from ", f);
	for (i = 0; conf->path[i] != '\0'; i++)
		fputc((unsigned char)conf->path[i] < 0x20 ? '?' : conf->path[i], f);
	fputc('\n', f);
	kv_str(f, "", "name", conf->name);
	dump_eal(conf, f);
	fputs("ports = (\n", f);
	for (i = 0; i < conf->n_ports; i++) {
		fputs("  {\n", f);
		dump_port(&conf->ports[i], f);
		fprintf(f, "  }%s\n", i + 1 < conf->n_ports ? "," : "");
	}
	fputs(");\n", f);
	dump_rest(conf, f);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}
