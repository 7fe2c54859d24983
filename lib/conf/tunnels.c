/* SPDX-License-Identifier: BSD-3-Clause */
/* crypto and tunnels: the engine, the peers, the prefixes behind them and manual SAs. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "conf_private.h"

static const char *const engines[] = { "ipsec_mb", "cryptodev", "openssl", NULL };

int
conf_parse_crypto(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "engine", "args", NULL };
	struct sp_conf_crypto *k = &c->conf->crypto;
	const config_setting_t *grp;
	char q[CONF_QBUF];
	const char *v;
	unsigned int i;
	int rc;

	snprintf(k->engine, sizeof(k->engine), "ipsec_mb");
	rc = conf_group(c, root, "crypto", &grp);
	if (rc <= 0)
		return rc;
	if (conf_known(c, grp, known) < 0)
		return -EINVAL;
	rc = conf_str_copy(c, grp, "engine", k->engine, sizeof(k->engine));
	if (rc < 0)
		return rc;
	for (i = 0; engines[i] != NULL; i++)
		if (strcmp(engines[i], k->engine) == 0)
			break;
	if (engines[i] == NULL)
		return conf_err(c, config_setting_get_member(grp, "engine"),
				"unknown engine %s: use \"ipsec_mb\", \"cryptodev\" or \"openssl\"",
				conf_quote(k->engine, q, sizeof(q)));
	rc = conf_str(c, grp, "args", &v);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		const config_setting_t *s = config_setting_get_member(grp, "args");

		if (strlen(v) >= sizeof(k->args))
			return conf_err(c, s, "is longer than %zu characters", sizeof(k->args) - 1);
		if (!conf_printable(v))
			return conf_err(c, s, "must be printable characters");
		snprintf(k->args, sizeof(k->args), "%s", v);
	}
	return 0;
}

static bool
on_connected_subnet(const struct sp_conf *conf, const struct sp_ip *ip)
{
	unsigned int p, i, a;

	for (p = 0; p < conf->n_ports; p++)
		for (i = 0; i < conf->ports[p].n_ifaces; i++)
			for (a = 0; a < conf->ports[p].ifaces[i].n_addrs; a++)
				if (sp_ip_in_prefix(ip, &conf->ports[p].ifaces[i].addrs[a]))
					return true;
	return false;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Key material: hex digits, optionally "0x" first and ':' between bytes. @return length. */
static int
parse_keymat(const char *v, uint8_t *out, size_t max)
{
	size_t n = 0;

	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
		v += 2;
	while (*v != '\0') {
		int hi, lo;

		if (*v == ':') {
			v++;
			continue;
		}
		hi = hexval((unsigned char)v[0]);
		lo = hi < 0 ? -1 : hexval((unsigned char)v[1]);
		if (hi < 0 || lo < 0 || n == max)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		v += 2;
	}
	return (int)n;
}

static int
key_setting(struct conf_ctx *c, const config_setting_t *g, const char *name, uint8_t *out,
	    uint8_t *len)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	const char *v;
	int rc, n;

	if (s == NULL)
		return conf_err_missing(c, g, NULL, name);
	rc = conf_str_value(c, s, &v);
	if (rc < 0)
		return rc;
	n = parse_keymat(v, out, SP_CONF_KEYMAT_MAX);
	if (n != 20 && n != 36)
		return conf_err(c, s, "must be hex: a 16- or 32-byte AES-GCM key followed by its "
				"4-byte salt (20 or 36 bytes, 40 or 72 hex digits)");
	if (*len != 0 && *len != n)
		return conf_err(c, s, "is %d bytes but the other key is %u: both directions use one "
				"AES key size", n, *len);
	*len = (uint8_t)n;
	return 0;
}

static int
spi_setting(struct conf_ctx *c, const config_setting_t *g, const char *name, uint32_t *out)
{
	long long v;
	int rc = conf_int(c, g, name, 256, UINT32_MAX, &v);

	if (rc == 0)
		return conf_err_missing(c, g, NULL, name);
	if (rc < 0)
		return rc;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_manual(struct conf_ctx *c, const config_setting_t *pg, struct sp_conf_peer *p,
	     unsigned int pi)
{
	static const char *const known[] = { "spi_in", "spi_out", "key_in", "key_out", NULL };
	const config_setting_t *seq;
	unsigned int i, j, q;
	int rc;

	rc = conf_seq(c, pg, "manual", "a list of SA groups", &seq);
	if (rc <= 0)
		return rc;
	if (config_setting_length(seq) == 0)
		return conf_err(c, seq, "is empty: leave it out to use the key exchange");
	if (config_setting_length(seq) > SP_CONF_MAX_MANUAL_SA)
		return conf_err(c, seq, "more than %d SA pairs", SP_CONF_MAX_MANUAL_SA);
	for (i = 0; i < (unsigned int)config_setting_length(seq); i++) {
		const config_setting_t *g = config_setting_get_elem(seq, i);
		struct sp_conf_manual_sa *m = &p->manual[i];

		if (!config_setting_is_group(g))
			return conf_err(c, g, "must be a group { spi_in = ...; spi_out = ...; "
					"key_in = \"...\"; key_out = \"...\"; }");
		if (conf_known(c, g, known) < 0 ||
		    spi_setting(c, g, "spi_in", &m->spi_in) < 0 ||
		    spi_setting(c, g, "spi_out", &m->spi_out) < 0 ||
		    key_setting(c, g, "key_in", m->key_in, &m->keymat_len) < 0 ||
		    key_setting(c, g, "key_out", m->key_out, &m->keymat_len) < 0)
			return -EINVAL;
		m->line = config_setting_source_line(g);
		/* Inbound SPIs pick the SA for every packet we receive: one SA per SPI. */
		for (q = 0; q <= pi; q++) {
			const struct sp_conf_peer *o = &c->conf->tunnels.peers[q];
			unsigned int n = q == pi ? i : o->n_manual;

			for (j = 0; j < n; j++)
				if (o->manual[j].spi_in == m->spi_in)
					return conf_err(c, config_setting_get_member(g, "spi_in"),
							"SPI %u is already inbound SPI of peer "
							"\"%s\"", m->spi_in,
							q == pi ? p->name : o->name);
			for (j = 0; j < n && q == pi; j++)
				if (o->manual[j].spi_out == m->spi_out)
					return conf_err(c, config_setting_get_member(g, "spi_out"),
							"SPI %u is already used by SA pair %u",
							m->spi_out, j);
		}
		p->n_manual = i + 1;
	}
	return 0;
}

static int
parse_prefixes(struct conf_ctx *c, const config_setting_t *pg, struct sp_conf_peer *p,
	       unsigned int pi)
{
	const config_setting_t *seq;
	char q[CONF_QBUF], b[SP_IP_STRLEN];
	unsigned int i, j, k;
	int rc;

	rc = conf_seq(c, pg, "prefixes", "a list of prefixes", &seq);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_err_missing(c, pg, NULL, "prefixes");
	if (config_setting_length(seq) == 0)
		return conf_err(c, seq, "is empty: name the networks behind the peer");
	if (config_setting_length(seq) > SP_CONF_MAX_PEER_PREFIXES)
		return conf_err(c, seq, "more than %d prefixes", SP_CONF_MAX_PEER_PREFIXES);
	for (i = 0; i < (unsigned int)config_setting_length(seq); i++) {
		const config_setting_t *s = config_setting_get_elem(seq, i);
		struct sp_ip *ip = &p->prefixes[i];
		const char *v;

		rc = conf_str_value(c, s, &v);
		if (rc < 0)
			return rc;
		if (sp_ip_parse(v, ip, true) < 0 || strchr(v, '/') == NULL)
			return conf_err(c, s, "invalid prefix %s: use network/prefix-length such as "
					"\"10.2.0.0/24\"", conf_quote(v, q, sizeof(q)));
		if (!sp_ip_is_network(ip))
			return conf_err(c, s, "%s has host bits set", conf_quote(v, q, sizeof(q)));
		if (ip->plen == 0)
			return conf_err(c, s, "a default route into a tunnel would also carry the "
					"tunnel itself: name the networks");
		if (on_connected_subnet(c->conf, ip) || sp_ip_in_prefix(&p->address, ip))
			return conf_err(c, s, "%s overlaps a connected subnet or the peer's own "
					"address", conf_quote(v, q, sizeof(q)));
		for (k = 0; k < c->conf->n_routes; k++)
			if (sp_ip_equal(&c->conf->routes[k].prefix, ip))
				return conf_err(c, s, "%s is also a static route (routes.[%u])",
						conf_quote(v, q, sizeof(q)), k);
		for (k = 0; k <= pi; k++) {
			const struct sp_conf_peer *o = &c->conf->tunnels.peers[k];
			unsigned int n = k == pi ? i : o->n_prefixes;

			for (j = 0; j < n; j++)
				if (sp_ip_equal(&o->prefixes[j], ip)) {
					sp_ip_format(ip, b, sizeof(b), true);
					return conf_err(c, s, "%s is already behind peer \"%s\"", b,
							k == pi ? p->name : o->name);
				}
			if (k < pi && sp_ip_in_prefix(&o->address, ip))
				return conf_err(c, s, "%s holds the address of peer \"%s\": its "
						"tunnel would run through itself",
						conf_quote(v, q, sizeof(q)), o->name);
		}
		p->n_prefixes = i + 1;
	}
	return 0;
}

static int
parse_peer(struct conf_ctx *c, const config_setting_t *g, unsigned int pi)
{
	static const char *const known[] = { "name", "identity", "address", "local", "prefixes",
		"udp_encap", "esn", "path_mtu", "manual", NULL };
	struct sp_conf_tunnels *t = &c->conf->tunnels;
	struct sp_conf_peer *p = &t->peers[pi];
	const config_setting_t *s;
	char q[CONF_QBUF];
	const char *v;
	unsigned int k;
	uint32_t mtu;
	int rc;

	if (!config_setting_is_group(g))
		return conf_err(c, g, "must be a group { name = ...; address = ...; ... }");
	if (conf_known(c, g, known) < 0)
		return -EINVAL;
	p->line = config_setting_source_line(g);
	rc = conf_str_copy(c, g, "name", p->name, sizeof(p->name));
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_err_missing(c, g, NULL, "name");
	if (!conf_name_ok(p->name, sizeof(p->name)))
		return conf_err(c, config_setting_get_member(g, "name"),
				"%s: use letters, digits, '_' and '-'",
				conf_quote(p->name, q, sizeof(q)));
	for (k = 0; k < pi; k++)
		if (strcmp(t->peers[k].name, p->name) == 0)
			return conf_err(c, config_setting_get_member(g, "name"),
					"\"%s\" is already the name of tunnels.peers.[%u]", p->name,
					k);

	s = config_setting_get_member(g, "address");
	if (s == NULL)
		return conf_err_missing(c, g, NULL, "address");
	if (conf_str_value(c, s, &v) < 0)
		return -EINVAL;
	if (sp_ip_parse(v, &p->address, false) < 0)
		return conf_err(c, s, "invalid address %s", conf_quote(v, q, sizeof(q)));
	if (conf_own_address(c->conf, &p->address))
		return conf_err(c, s, "%s is one of our own addresses", conf_quote(v, q, sizeof(q)));
	for (k = 0; k < pi; k++) {
		unsigned int j;

		if (sp_ip_equal(&t->peers[k].address, &p->address))
			return conf_err(c, s, "%s is already the address of peer \"%s\"",
					conf_quote(v, q, sizeof(q)), t->peers[k].name);
		for (j = 0; j < t->peers[k].n_prefixes; j++)
			if (sp_ip_in_prefix(&p->address, &t->peers[k].prefixes[j]))
				return conf_err(c, s, "%s is behind peer \"%s\" (tunnels.peers.[%u]."
						"prefixes.[%u]): its tunnel would run through "
						"that one", conf_quote(v, q, sizeof(q)),
						t->peers[k].name, k, j);
	}

	s = config_setting_get_member(g, "local");
	if (s != NULL) {
		if (conf_str_value(c, s, &v) < 0)
			return -EINVAL;
		if (sp_ip_parse(v, &p->local, false) < 0)
			return conf_err(c, s, "invalid address %s", conf_quote(v, q, sizeof(q)));
		if (p->local.family != p->address.family)
			return conf_err(c, s, "%s and the peer's address are of different families",
					conf_quote(v, q, sizeof(q)));
		if (!conf_own_address(c->conf, &p->local))
			return conf_err(c, s, "%s is not an address of the gateway "
					"(ports.*.addresses)", conf_quote(v, q, sizeof(q)));
		p->has_local = true;
	}

	p->udp_encap = t->udp_encap;
	p->esn = t->esn;
	if (conf_bool(c, g, "udp_encap", &p->udp_encap) < 0 ||
	    conf_bool(c, g, "esn", &p->esn) < 0 ||
	    conf_u32(c, g, "path_mtu", 0, 9000, 0, &mtu) < 0)
		return -EINVAL;
	if (mtu != 0 && mtu < (p->address.family == AF_INET ? 576u : 1280u))
		return conf_err(c, config_setting_get_member(g, "path_mtu"),
				"%u is below the minimum MTU of %s (%u)", mtu,
				p->address.family == AF_INET ? "IPv4" : "IPv6",
				p->address.family == AF_INET ? 576u : 1280u);
	p->path_mtu = (uint16_t)mtu;
	if (parse_prefixes(c, g, p, pi) < 0 || parse_manual(c, g, p, pi) < 0)
		return -EINVAL;

	rc = conf_str_copy(c, g, "identity", p->identity, sizeof(p->identity));
	if (rc < 0)
		return rc;
	if (rc > 0 && strncmp(p->identity, "spiffe://", 9) != 0)
		return conf_err(c, config_setting_get_member(g, "identity"),
				"%s is not a SPIFFE ID (spiffe://<trust-domain>/...)",
				conf_quote(p->identity, q, sizeof(q)));
	if (p->n_manual > 0)
		return 0;
	/* Keyed peers: the key exchange authenticates with the gateway's certificate. */
	if (rc == 0)
		return conf_err(c, g, "peer \"%s\" has no manual SAs, so the key exchange needs "
				"its identity: add identity = \"spiffe://...\"", p->name);
	if (!c->conf->pki.enabled)
		return conf_err(c, config_setting_get_member(g, "identity"),
				"the key exchange needs the gateway's certificate: add a pki "
				"section");
	if (!c->conf->exception.enabled)
		return conf_err(c, config_setting_get_member(g, "identity"),
				"the key exchange runs over the exception port: set "
				"exception.enabled");
	return 0;
}

static int
u64_setting(struct conf_ctx *c, const config_setting_t *g, const char *name, uint64_t *out)
{
	long long v;
	int rc = conf_int(c, g, name, 0, (long long)1 << 62, &v);

	if (rc > 0)
		*out = (uint64_t)v;
	return rc < 0 ? rc : 0;
}

static int
parse_lifetime(struct conf_ctx *c, const config_setting_t *tg)
{
	static const char *const known[] = { "soft_seconds", "hard_seconds", "soft_bytes",
		"hard_bytes", "soft_packets", "hard_packets", NULL };
	struct sp_conf_lifetime *l = &c->conf->tunnels.lifetime;
	const config_setting_t *g;
	int rc;

	/* Defaults: rekey hourly, stop at 75 minutes; volume limits come from the sequence
	 * space (ESN) or 2^32 packets without it. */
	l->soft_seconds = 3600;
	l->hard_seconds = 4500;
	rc = conf_group(c, tg, "lifetime", &g);
	if (rc <= 0)
		return rc;
	if (conf_known(c, g, known) < 0 ||
	    u64_setting(c, g, "soft_seconds", &l->soft_seconds) < 0 ||
	    u64_setting(c, g, "hard_seconds", &l->hard_seconds) < 0 ||
	    u64_setting(c, g, "soft_bytes", &l->soft_bytes) < 0 ||
	    u64_setting(c, g, "hard_bytes", &l->hard_bytes) < 0 ||
	    u64_setting(c, g, "soft_packets", &l->soft_packets) < 0 ||
	    u64_setting(c, g, "hard_packets", &l->hard_packets) < 0)
		return -EINVAL;
#define SOFT_BELOW_HARD(x) \
	if (l->hard_##x != 0 && (l->soft_##x == 0 || l->soft_##x >= l->hard_##x)) \
		return conf_err(c, g, "soft_" #x " (%llu) must be set and below hard_" #x \
				" (%llu): the rekey has to happen before the SA stops", \
				(unsigned long long)l->soft_##x, (unsigned long long)l->hard_##x)
	SOFT_BELOW_HARD(seconds);
	SOFT_BELOW_HARD(bytes);
	SOFT_BELOW_HARD(packets);
#undef SOFT_BELOW_HARD
	return 0;
}

int
conf_parse_tunnels(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "port", "cipher", "esn", "udp_encap",
		"replay_window", "lifetime", "dpd_interval_ms", "dpd_timeout_ms", "drain_ms",
		"retry_ms", "peers", NULL };
	struct sp_conf_tunnels *t = &c->conf->tunnels;
	const config_setting_t *grp, *seq, *s;
	char q[CONF_QBUF];
	const char *v;
	uint32_t port;
	unsigned int i;
	int rc;

	t->port = 4501;
	t->key_bits = 256;
	t->esn = true;
	t->replay_window = 1024;
	t->dpd_interval_ms = 1000;
	t->dpd_timeout_ms = 5000;
	t->drain_ms = 2000;
	t->retry_ms = 500;
	rc = conf_group(c, root, "tunnels", &grp);
	if (rc <= 0)
		return rc;
	t->enabled = true;
	t->line = config_setting_source_line(grp);
	if (conf_known(c, grp, known) < 0 ||
	    conf_u32(c, grp, "port", 1, 65535, 4501, &port) < 0 ||
	    conf_bool(c, grp, "esn", &t->esn) < 0 ||
	    conf_bool(c, grp, "udp_encap", &t->udp_encap) < 0 ||
	    conf_u32(c, grp, "replay_window", 0, 32768, 1024, &t->replay_window) < 0 ||
	    conf_u32(c, grp, "dpd_interval_ms", 100, 60000, 1000, &t->dpd_interval_ms) < 0 ||
	    conf_u32(c, grp, "dpd_timeout_ms", 300, 600000, 5000, &t->dpd_timeout_ms) < 0 ||
	    conf_u32(c, grp, "drain_ms", 0, 60000, 2000, &t->drain_ms) < 0 ||
	    conf_u32(c, grp, "retry_ms", 100, 60000, 500, &t->retry_ms) < 0 ||
	    parse_lifetime(c, grp) < 0)
		return -EINVAL;
	t->port = (uint16_t)port;
	if ((t->replay_window & (t->replay_window - 1)) != 0 || (t->replay_window != 0 &&
							       t->replay_window < 64))
		return conf_err(c, config_setting_get_member(grp, "replay_window"),
				"%u is not 0 (off) or a power of two in 64..32768",
				t->replay_window);
	if (t->dpd_timeout_ms < 2 * t->dpd_interval_ms)
		return conf_err(c, config_setting_get_member(grp, "dpd_timeout_ms"),
				"%u must be at least twice dpd_interval_ms (%u)", t->dpd_timeout_ms,
				t->dpd_interval_ms);
	rc = conf_str(c, grp, "cipher", &v);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		s = config_setting_get_member(grp, "cipher");
		if (strcmp(v, "aes-gcm-128") == 0)
			t->key_bits = 128;
		else if (strcmp(v, "aes-gcm-256") == 0)
			t->key_bits = 256;
		else
			return conf_err(c, s, "unknown cipher %s: use \"aes-gcm-128\" or "
					"\"aes-gcm-256\"", conf_quote(v, q, sizeof(q)));
	}
	rc = conf_seq(c, grp, "peers", "a list of peer groups", &seq);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return 0;
	if (config_setting_length(seq) > SP_CONF_MAX_PEERS)
		return conf_err(c, seq, "more than %d peers", SP_CONF_MAX_PEERS);
	for (i = 0; i < (unsigned int)config_setting_length(seq); i++) {
		if (parse_peer(c, config_setting_get_elem(seq, i), i) < 0)
			return -EINVAL;
		t->n_peers = i + 1;
	}
	/* RFC 4303 3.4.3 lets a receiver turn anti-replay off; only where keys are static
	 * anyway (manual SAs restart their sequence numbers) and no ESN needs a window */
	for (i = 0; t->replay_window == 0 && i < t->n_peers; i++)
		if (t->peers[i].n_manual == 0 || t->peers[i].esn)
			return conf_err(c, config_setting_get_member(grp, "replay_window"),
					"0 (anti-replay off) is only for manual peers without ESN: "
					"peer \"%s\" %s", t->peers[i].name,
					t->peers[i].n_manual == 0 ? "is keyed by the key exchange" :
					"uses ESN");
	return 0;
}
