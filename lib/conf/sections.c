/* SPDX-License-Identifier: BSD-3-Clause */
/* exception, neighbors, icmp, log and console, and the MAC settings shared with ports. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_private.h"

static const struct rte_ether_addr exception_mac_default = {
	.addr_bytes = { 0x02, 0x53, 0x50, 0x00, 0x00, 0x01 } };

static bool
linux_name_ok(const char *s, size_t max, bool empty_ok)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	if (i == 0)
		return empty_ok;
	return i < max && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int
conf_mac_setting(struct conf_ctx *c, const config_setting_t *grp, bool *has,
		 struct rte_ether_addr *mac)
{
	const config_setting_t *s;
	char q[CONF_QBUF];
	const char *v;
	int rc = conf_str(c, grp, "mac", &v);

	if (rc <= 0)
		return rc;
	s = config_setting_get_member(grp, "mac");
	if (conf_mac_parse(v, mac) < 0)
		return conf_err(c, s, "invalid MAC address %s: use six hex bytes such as "
				"\"02:00:00:00:01:01\"", conf_quote(v, q, sizeof(q)));
	if (rte_is_multicast_ether_addr(mac))
		return conf_err(c, s, "%s is a multicast address", conf_quote(v, q, sizeof(q)));
	if (rte_is_zero_ether_addr(mac))
		return conf_err(c, s, "%s is the zero address", conf_quote(v, q, sizeof(q)));
	*has = true;
	return 1;
}

/* Two ports (or a port and the exception port) with one MAC would confuse every neighbour. */
int
conf_mac_unique(struct conf_ctx *c, const config_setting_t *s, const char *what,
		const struct rte_ether_addr *mac, unsigned int n_ports)
{
	char b[RTE_ETHER_ADDR_FMT_SIZE];
	unsigned int i;

	for (i = 0; i < n_ports; i++) {
		const struct sp_conf_port *p = &c->conf->ports[i];

		if (!p->has_mac || !rte_is_same_ether_addr(&p->mac, mac))
			continue;
		rte_ether_format_addr(b, sizeof(b), mac);
		return conf_err(c, s, "%s\"%s\" is already the MAC of ports.[%u] (\"%s\")", what, b, i,
				p->name);
	}
	return 0;
}

int
conf_parse_exception(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "enabled", "iface", "netns", "mac", "table",
		"rule_priority", NULL };
	struct sp_conf_exception *x = &c->conf->exception;
	const config_setting_t *grp;
	char q[CONF_QBUF];
	int rc;

	snprintf(x->iface, sizeof(x->iface), "sp0");
	x->mac = exception_mac_default;
	rc = conf_group(c, root, "exception", &grp);
	if (rc < 0)
		return rc;
	if (grp != NULL) {
		x->line = config_setting_source_line(grp);
		if (conf_known(c, grp, known) < 0 || conf_bool(c, grp, "enabled", &x->enabled) < 0)
			return -EINVAL;
	}
	rc = conf_str_copy(c, grp, "iface", x->iface, sizeof(x->iface));
	if (rc < 0)
		return rc;
	if (!linux_name_ok(x->iface, IFNAMSIZ, false))
		return conf_err(c, config_setting_get_member(grp, "iface"),
				"invalid interface name %s: use 1..%d characters of [A-Za-z0-9_.-]",
				conf_quote(x->iface, q, sizeof(q)), IFNAMSIZ - 1);
	if (grp != NULL && config_setting_get_member(grp, "netns") != NULL) {
		const char *v;

		rc = conf_str(c, grp, "netns", &v);
		if (rc < 0)
			return rc;
		if (!linux_name_ok(v, sizeof(x->netns), true))
			return conf_err(c, config_setting_get_member(grp, "netns"),
					"invalid namespace name %s: use 0..%zu characters of "
					"[A-Za-z0-9_.-]", conf_quote(v, q, sizeof(q)),
					sizeof(x->netns) - 1);
		snprintf(x->netns, sizeof(x->netns), "%s", v);
	}
	rc = conf_mac_setting(c, grp, &x->has_mac, &x->mac);
	if (rc < 0)
		return rc;
	if (x->enabled && conf_mac_unique(c, rc > 0 ? config_setting_get_member(grp, "mac") : grp,
					   rc > 0 ? "" : "the default MAC ", &x->mac,
					   c->conf->n_ports) < 0)
		return -EINVAL;
	rc = conf_u32(c, grp, "table", 1, UINT32_MAX, 100, &x->table);
	if (rc < 0)
		return rc;
	if (x->table >= 253 && x->table <= 255)
		return conf_err(c, config_setting_get_member(grp, "table"),
				"%u is a reserved kernel table (253 default, 254 main, 255 local)",
				x->table);
	return conf_u32(c, grp, "rule_priority", 1, 32765, 100, &x->rule_priority);
}

int
conf_parse_neigh(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "max_entries", "reachable_ms", "retrans_ms", "probes",
		"hold_packets", NULL };
	struct sp_conf_neigh *nb = &c->conf->neigh;
	const config_setting_t *grp;
	int rc = conf_group(c, root, "neighbors", &grp);

	if (rc < 0 || (grp != NULL && conf_known(c, grp, known) < 0))
		return -EINVAL;
	if (conf_u32(c, grp, "max_entries", 16, 1048576, 4096, &nb->max_entries) < 0 ||
	    conf_u32(c, grp, "reachable_ms", 1000, 3600000, 30000, &nb->reachable_ms) < 0 ||
	    conf_u32(c, grp, "retrans_ms", 100, 60000, 1000, &nb->retrans_ms) < 0 ||
	    conf_u32(c, grp, "probes", 1, 10, 3, &nb->probes) < 0 ||
	    conf_u32(c, grp, "hold_packets", 1, 1024, 16, &nb->hold_packets) < 0)
		return -EINVAL;
	return 0;
}

int
conf_parse_icmp(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "errors_per_sec", "burst", NULL };
	const config_setting_t *grp;
	int rc = conf_group(c, root, "icmp", &grp);

	if (rc < 0 || (grp != NULL && conf_known(c, grp, known) < 0))
		return -EINVAL;
	if (conf_u32(c, grp, "errors_per_sec", 0, 1000000, 1000, &c->conf->icmp.errors_per_sec) < 0 ||
	    conf_u32(c, grp, "burst", 1, 10000, 50, &c->conf->icmp.burst) < 0)
		return -EINVAL;
	return 0;
}

static int
log_level(struct conf_ctx *c, const config_setting_t *grp, const char *name, int *out)
{
	char q[CONF_QBUF];
	const char *v;
	int rc = conf_str(c, grp, name, &v), level;

	if (rc <= 0)
		return rc;
	level = sp_log_level_parse(v);
	if (level < 0)
		return conf_err(c, config_setting_get_member(grp, name),
				"unknown level %s: use emerg, alert, crit, error, warning, notice, "
				"info or debug", conf_quote(v, q, sizeof(q)));
	*out = level;
	return 1;
}

static int
parse_log_types(struct conf_ctx *c, const config_setting_t *grp)
{
	static const char *const known[] = { "pattern", "level", NULL };
	struct sp_conf_log *l = &c->conf->log;
	const config_setting_t *seq;
	int rc, i, n;

	rc = conf_seq(c, grp, "types", "a list of groups", &seq);
	if (rc <= 0)
		return rc;
	n = config_setting_length(seq);
	if (n > SP_CONF_MAX_LOG_TYPES)
		return conf_err(c, seq, "at most %d entries", SP_CONF_MAX_LOG_TYPES);
	for (i = 0; i < n; i++) {
		const config_setting_t *t = config_setting_get_elem(seq, i);
		struct sp_conf_log_type *lt = &l->types[l->n_types];

		if (config_setting_type(t) != CONFIG_TYPE_GROUP)
			return conf_err(c, t, "must be a group { pattern = ...; level = ...; }");
		if (conf_known(c, t, known) < 0)
			return -EINVAL;
		rc = conf_str_copy(c, t, "pattern", lt->pattern, sizeof(lt->pattern));
		if (rc < 0)
			return rc;
		if (rc == 0)
			return conf_err_missing(c, t, NULL, "pattern");
		rc = log_level(c, t, "level", &lt->level);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return conf_err_missing(c, t, NULL, "level");
		l->n_types++;
	}
	return 0;
}

int
conf_parse_log(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "format", "level", "types", NULL };
	struct sp_conf_log *l = &c->conf->log;
	const config_setting_t *grp;
	char q[CONF_QBUF];
	const char *v;
	int rc;

	l->format = SP_LOG_TEXT;
	l->level = RTE_LOG_INFO;
	rc = conf_group(c, root, "log", &grp);
	if (rc <= 0)
		return rc;
	if (conf_known(c, grp, known) < 0)
		return -EINVAL;
	rc = conf_str(c, grp, "format", &v);
	if (rc < 0)
		return rc;
	if (rc > 0 && sp_log_format_parse(v, &l->format) < 0)
		return conf_err(c, config_setting_get_member(grp, "format"),
				"unknown format %s: use \"text\" or \"json\"",
				conf_quote(v, q, sizeof(q)));
	if (log_level(c, grp, "level", &l->level) < 0)
		return -EINVAL;
	return parse_log_types(c, grp);
}

int
conf_parse_console(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "socket", NULL };
	struct sp_conf_console *k = &c->conf->console;
	const config_setting_t *grp, *s;
	char q[CONF_QBUF];
	const char *v;
	size_t len;
	int rc;

	snprintf(k->socket, sizeof(k->socket), "/run/sallyport/%s.sock", c->conf->name);
	rc = conf_group(c, root, "console", &grp);
	if (rc <= 0)
		return rc;
	if (conf_known(c, grp, known) < 0)
		return -EINVAL;
	rc = conf_str(c, grp, "socket", &v);
	if (rc <= 0)
		return rc;
	s = config_setting_get_member(grp, "socket");
	len = strlen(v);
	if (v[0] != '/')
		return conf_err(c, s, "%s is not an absolute path", conf_quote(v, q, sizeof(q)));
	if (!conf_printable(v))
		return conf_err(c, s, "%s contains control characters or spaces",
				conf_quote(v, q, sizeof(q)));
	if (v[len - 1] == '/')
		return conf_err(c, s, "%s is a directory, not a socket path",
				conf_quote(v, q, sizeof(q)));
	/* sun_path holds 108 bytes including the NUL */
	if (len >= 108)
		return conf_err(c, s, "%s is %zu bytes; a UNIX socket path must be shorter than 108",
				conf_quote(v, q, sizeof(q)), len);
	memcpy(k->socket, v, len + 1);
	return 0;
}
