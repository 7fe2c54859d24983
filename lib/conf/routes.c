/* SPDX-License-Identifier: BSD-3-Clause */
/* routes: static routes, checked against the interfaces they use. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_private.h"

static const char *
family_name(uint8_t family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static int
parse_prefix(struct conf_ctx *c, const config_setting_t *g, struct sp_conf_route *r)
{
	const config_setting_t *s = config_setting_get_member(g, "prefix");
	char q[CONF_QBUF], nb[SP_IP_STRLEN];
	struct sp_ip net;
	const char *v;
	int rc;

	if (s == NULL)
		return conf_err_missing(c, g, NULL, "prefix");
	rc = conf_str_value(c, s, &v);
	if (rc < 0)
		return rc;
	if (sp_ip_parse(v, &r->prefix, true) < 0)
		return conf_err(c, s, "invalid prefix %s: use network/prefix-length such as "
				"\"10.9.0.0/16\"", conf_quote(v, q, sizeof(q)));
	if (strchr(v, '/') == NULL)
		return conf_err(c, s, "%s has no prefix length: write \"%s/%u\" for a host route",
				conf_quote(v, q, sizeof(q)), v, r->prefix.plen);
	if (!sp_ip_is_network(&r->prefix)) {
		net = r->prefix;
		sp_ip_mask(&net);
		sp_ip_format(&net, nb, sizeof(nb), true);
		return conf_err(c, s, "%s has host bits set; did you mean \"%s\"?",
				conf_quote(v, q, sizeof(q)), nb);
	}
	return 0;
}

/* The interface address equal to addr, NULL when none. */
static const struct conf_addr_ref *
own_address(const struct conf_ctx *c, const struct sp_ip *addr)
{
	unsigned int k;

	for (k = 0; k < c->n_addr_refs; k++)
		if (sp_ip_equal(c->addr_refs[k].ip, addr))
			return &c->addr_refs[k];
	return NULL;
}

static int
check_via(struct conf_ctx *c, const config_setting_t *g, const struct sp_conf_route *r,
	  const struct sp_conf_iface *ifc)
{
	const config_setting_t *s = config_setting_get_member(g, "via");
	const struct conf_addr_ref *own = own_address(c, &r->via), *on = NULL;
	char vb[SP_IP_STRLEN], nb[SP_IP_STRLEN], path[128];
	unsigned int k, n = c->n_addr_refs;

	sp_ip_format(&r->via, vb, sizeof(vb), false);
	if (own != NULL) {
		conf_path(own->s, path, sizeof(path));
		return conf_err(c, s, "\"%s\" is one of our own addresses (%s)", vb, path);
	}
	for (k = 0; k < n && on == NULL; k++)
		if ((ifc == NULL || c->addr_refs[k].iface == ifc) &&
		    sp_ip_in_prefix(&r->via, c->addr_refs[k].ip))
			on = &c->addr_refs[k];
	if (on == NULL && ifc != NULL)
		return conf_err(c, s, "\"%s\" is not on a subnet of interface \"%s\"", vb, r->iface);
	if (on == NULL)
		return conf_err(c, s, "\"%s\" is on no connected subnet", vb);
	if (r->via.family == AF_INET && on->ip->plen < 31) {
		uint32_t host = (uint32_t)~0u >> on->ip->plen, a = ntohl(r->via.v4);
		struct sp_ip net = *on->ip;

		sp_ip_mask(&net);
		sp_ip_format(&net, nb, sizeof(nb), true);
		if ((a & host) == 0)
			return conf_err(c, s, "\"%s\" is the network address of %s", vb, nb);
		if ((a & host) == host)
			return conf_err(c, s, "\"%s\" is the broadcast address of %s", vb, nb);
	}
	return 0;
}

static int
parse_kind(struct conf_ctx *c, const config_setting_t *g, struct sp_conf_route *r)
{
	const config_setting_t *via = config_setting_get_member(g, "via");
	const config_setting_t *dev = config_setting_get_member(g, "interface");
	char q[CONF_QBUF];
	bool blackhole = false;
	const char *v;
	int rc;

	if (conf_bool(c, g, "blackhole", &blackhole) < 0)
		return -EINVAL;
	if (blackhole) {
		if (via != NULL || dev != NULL)
			return conf_err(c, via ? via : dev, "not allowed with blackhole = true");
		r->kind = SP_ROUTE_BLACKHOLE;
		return 0;
	}
	if (via == NULL && dev == NULL)
		return conf_err(c, g, "needs via, interface or blackhole = true");
	r->kind = via ? SP_ROUTE_VIA : SP_ROUTE_DEV;
	if (dev != NULL) {
		rc = conf_str_copy(c, g, "interface", r->iface, sizeof(r->iface));
		if (rc < 0)
			return rc;
	}
	if (via == NULL)
		return 0;
	if (conf_str_value(c, via, &v) < 0)
		return -EINVAL;
	if (sp_ip_parse(v, &r->via, false) < 0)
		return conf_err(c, via, "invalid address %s: a next hop is an address without "
				"prefix length", conf_quote(v, q, sizeof(q)));
	if (r->via.family != r->prefix.family)
		return conf_err(c, via, "%s is %s but the prefix is %s", conf_quote(v, q, sizeof(q)),
				family_name(r->via.family), family_name(r->prefix.family));
	return 0;
}

static int
check_iface(struct conf_ctx *c, const config_setting_t *g, const struct sp_conf_route *r,
	    const struct sp_conf_iface **ifc)
{
	const config_setting_t *s = config_setting_get_member(g, "interface");
	char q[CONF_QBUF];
	unsigned int i;

	*ifc = NULL;
	if (r->iface[0] == '\0')
		return 0;
	*ifc = conf_iface_find(c->conf, r->iface, NULL);
	if (*ifc == NULL) {
		for (i = 0; i < c->conf->n_ports; i++)
			if (strcmp(c->conf->ports[i].name, r->iface) == 0)
				return conf_err(c, s, "port %s has no addresses of its own, so no "
						"untagged interface", conf_quote(r->iface, q, sizeof(q)));
		return conf_err(c, s, "unknown interface %s: use \"port\" or \"port.vlan\"",
				conf_quote(r->iface, q, sizeof(q)));
	}
	if (r->kind == SP_ROUTE_DEV) {
		for (i = 0; i < (*ifc)->n_addrs; i++)
			if ((*ifc)->addrs[i].family == r->prefix.family)
				return 0;
		/* neighbour discovery needs a source address on the link */
		return conf_err(c, s, "interface %s has no %s address",
				conf_quote(r->iface, q, sizeof(q)), family_name(r->prefix.family));
	}
	return 0;
}

/* A route must not shadow an earlier route, a connected subnet or one of our addresses. */
static int
check_prefix_unique(struct conf_ctx *c, unsigned int ri, const config_setting_t *g)
{
	const struct sp_conf_route *r = &c->conf->routes[ri];
	const config_setting_t *s = config_setting_get_member(g, "prefix");
	unsigned int i, n = c->n_addr_refs;
	char pb[SP_IP_STRLEN], name[SP_CONF_NAME_MAX + 8];

	sp_ip_format(&r->prefix, pb, sizeof(pb), true);
	for (i = 0; i < ri; i++) {
		const struct sp_ip *o = &c->conf->routes[i].prefix;

		if (sp_ip_equal(o, &r->prefix) && o->plen == r->prefix.plen)
			return conf_err(c, s, "\"%s\" is already routed by routes.[%u]", pb, i);
	}
	for (i = 0; i < n; i++) {
		const struct conf_addr_ref *a = &c->addr_refs[i];
		struct sp_ip net = *a->ip;

		sp_conf_iface_name(a->port, a->iface, name, sizeof(name));
		if (r->prefix.family == AF_INET ? r->prefix.plen == 32 : r->prefix.plen == 128) {
			if (sp_ip_equal(&r->prefix, a->ip))
				return conf_err(c, s, "\"%s\" is our own address on interface \"%s\"",
						pb, name);
		}
		sp_ip_mask(&net);
		if (sp_ip_equal(&net, &r->prefix) && net.plen == r->prefix.plen)
			return conf_err(c, s, "\"%s\" is the connected subnet of interface \"%s\"",
					pb, name);
	}
	return 0;
}

static int
parse_route(struct conf_ctx *c, unsigned int ri, const config_setting_t *g)
{
	static const char *const known[] = { "prefix", "via", "interface", "blackhole", NULL };
	struct sp_conf_route *r = &c->conf->routes[ri];
	const struct sp_conf_iface *ifc;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return conf_err(c, g, "must be a group { prefix = ...; ... }");
	if (conf_known(c, g, known) < 0)
		return -EINVAL;
	r->line = config_setting_source_line(g);
	c->route_set[ri] = g;
	if (parse_prefix(c, g, r) < 0 || parse_kind(c, g, r) < 0 || check_iface(c, g, r, &ifc) < 0)
		return -EINVAL;
	if (r->kind == SP_ROUTE_VIA && check_via(c, g, r, ifc) < 0)
		return -EINVAL;
	return check_prefix_unique(c, ri, g);
}

int
conf_parse_routes(struct conf_ctx *c, const config_setting_t *root)
{
	const config_setting_t *seq;
	int rc, i, n;

	rc = conf_seq(c, root, "routes", "a list of groups ( { prefix = ...; } )", &seq);
	if (rc <= 0)
		return rc;
	n = config_setting_length(seq);
	if (n > SP_CONF_MAX_ROUTES)
		return conf_err(c, seq, "at most %d routes", SP_CONF_MAX_ROUTES);
	for (i = 0; i < n; i++) {
		rc = parse_route(c, i, config_setting_get_elem(seq, i));
		if (rc < 0)
			return rc;
		c->conf->n_routes++;
	}
	return 0;
}
