/* SPDX-License-Identifier: BSD-3-Clause */
/* ports: devices, their untagged and VLAN interfaces, and the interfaces' addresses. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_private.h"

void
sp_conf_iface_name(const struct sp_conf_port *p, const struct sp_conf_iface *i, char *buf,
		   size_t size)
{
	if (i->vlan == 0)
		snprintf(buf, size, "%s", p->name);
	else
		snprintf(buf, size, "%s.%u", p->name, i->vlan);
}

const struct sp_conf_iface *
conf_iface_find(const struct sp_conf *conf, const char *name, const struct sp_conf_port **port)
{
	unsigned int i, k;

	for (i = 0; i < conf->n_ports; i++) {
		const struct sp_conf_port *p = &conf->ports[i];

		for (k = 0; k < p->n_ifaces; k++) {
			char n[SP_CONF_NAME_MAX + 8];

			sp_conf_iface_name(p, &p->ifaces[k], n, sizeof(n));
			if (strcmp(n, name) == 0) {
				if (port != NULL)
					*port = p;
				return &p->ifaces[k];
			}
		}
	}
	return NULL;
}

/* Why an interface address is refused ("is ..."), NULL when it is fine. */
static const char *
addr_misuse(const struct sp_ip *ip)
{
	if (ip->family == AF_INET) {
		uint32_t a = ntohl(ip->v4), host = ip->plen == 32 ? 0 : (uint32_t)~0u >> ip->plen;

		if (a == 0)
			return "is the unspecified address";
		if ((a >> 24) == 0)
			return "is in 0.0.0.0/8 (\"this network\")";
		if ((a >> 24) == 127)
			return "is a loopback address";
		if ((a >> 28) == 0xe)
			return "is a multicast address";
		if (a == UINT32_MAX)
			return "is the limited broadcast address";
		if (ip->plen == 0)
			return "has prefix length 0: its subnet would hold every address";
		if (ip->plen < 31 && (a & host) == 0)
			return "is the network address of";
		if (ip->plen < 31 && (a & host) == host)
			return "is the broadcast address of";
		return NULL;
	}
	{
		static const uint8_t zero[16];
		static const uint8_t loop[16] = { [15] = 1 };

		if (memcmp(ip->v6, zero, 16) == 0)
			return "is the unspecified address";
		if (memcmp(ip->v6, loop, 16) == 0)
			return "is a loopback address";
		if (ip->v6[0] == 0xff)
			return "is a multicast address";
		if (ip->v6[0] == 0xfe && (ip->v6[1] & 0xc0) == 0x80)
			return "is link-local (fe80::/10): the kernel owns those";
		if (ip->plen == 0)
			return "has prefix length 0: its subnet would hold every address";
	}
	return NULL;
}

static int
parse_addresses(struct conf_ctx *c, const config_setting_t *grp, struct sp_conf_iface *ifc,
		const config_setting_t **set, unsigned int mtu)
{
	const config_setting_t *seq;
	int rc, i, n;

	rc = conf_seq(c, grp, "addresses", "an array of addresses", &seq);
	if (rc <= 0)
		return rc;
	n = config_setting_length(seq);
	if (n > SP_CONF_MAX_ADDRS)
		return conf_err(c, seq, "at most %d addresses per interface", SP_CONF_MAX_ADDRS);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(seq, i);
		char q[CONF_QBUF], nb[SP_IP_STRLEN];
		struct sp_ip ip, net;
		const char *v, *why;

		rc = conf_str_value(c, s, &v);
		if (rc < 0)
			return rc;
		if (sp_ip_parse(v, &ip, true) < 0)
			return conf_err(c, s, "invalid address %s: use address/prefix-length such "
					"as \"10.1.0.1/24\" or \"fd00:1::1/64\"",
					conf_quote(v, q, sizeof(q)));
		if (strchr(v, '/') == NULL)
			return conf_err(c, s, "%s has no prefix length: write the subnet's, such as "
					"\"%s/%u\"", conf_quote(v, q, sizeof(q)), v,
					ip.family == AF_INET ? 24 : 64);
		why = addr_misuse(&ip);
		if (why != NULL && why[strlen(why) - 1] == 'f') {
			/* "... address of": name the subnet */
			net = ip;
			sp_ip_mask(&net);
			sp_ip_format(&net, nb, sizeof(nb), true);
			return conf_err(c, s, "%s %s %s", conf_quote(v, q, sizeof(q)), why, nb);
		}
		if (why != NULL)
			return conf_err(c, s, "%s %s", conf_quote(v, q, sizeof(q)), why);
		if (ip.family == AF_INET6 && mtu < 1280)
			return conf_err(c, s, "%s: IPv6 needs an MTU of at least 1280, the interface "
					"has %u", conf_quote(v, q, sizeof(q)), mtu);
		set[ifc->n_addrs] = s;
		ifc->addrs[ifc->n_addrs++] = ip;
	}
	return 1;
}

static int
parse_vlan(struct conf_ctx *c, unsigned int pi, const config_setting_t *g)
{
	static const char *const known[] = { "id", "mtu", "addresses", NULL };
	struct sp_conf_port *p = &c->conf->ports[pi];
	struct sp_conf_iface *ifc = &p->ifaces[p->n_ifaces];
	const config_setting_t *s;
	long long v;
	unsigned int k;
	int rc;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return conf_err(c, g, "must be a group { id = ...; }");
	if (conf_known(c, g, known) < 0)
		return -EINVAL;
	ifc->line = config_setting_source_line(g);
	rc = conf_int(c, g, "id", 1, 4094, &v);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_err_missing(c, g, NULL, "id");
	s = config_setting_get_member(g, "id");
	for (k = 0; k < p->n_ifaces; k++)
		if (p->ifaces[k].vlan == v)
			return conf_err(c, s, "VLAN %lld is defined twice on port \"%s\"", v, p->name);
	ifc->vlan = (uint16_t)v;
	rc = conf_int(c, g, "mtu", 0, 9000, &v);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		s = config_setting_get_member(g, "mtu");
		if (v > p->mtu)
			return conf_err(c, s, "%lld is more than the port's mtu (%u)", v, p->mtu);
		if (v > 0 && v < 68)
			return conf_err(c, s, "%lld is below the IPv4 minimum of 68 (0 means the "
					"port's mtu)", v);
		ifc->mtu = (uint16_t)v;
	}
	rc = parse_addresses(c, g, ifc, c->addr_set[pi][p->n_ifaces], ifc->mtu ? ifc->mtu : p->mtu);
	if (rc < 0)
		return rc;
	p->n_ifaces++;
	return 0;
}

/* The DPDK device name is the part before the first ',': two ports cannot probe one device. */
static int
check_device(struct conf_ctx *c, unsigned int pi, const config_setting_t *s)
{
	const char *d = c->conf->ports[pi].device;
	size_t len = strcspn(d, ",");
	unsigned int i;

	for (i = 0; i < pi; i++) {
		const char *o = c->conf->ports[i].device;

		if (strcspn(o, ",") == len && strncmp(o, d, len) == 0)
			return conf_err(c, s, "device \"%.*s\" is already used by ports.[%u] (\"%s\")",
					(int)len, d, i, c->conf->ports[i].name);
	}
	return 0;
}

static int
port_names(struct conf_ctx *c, unsigned int pi, const config_setting_t *g)
{
	struct sp_conf_port *p = &c->conf->ports[pi];
	const config_setting_t *s;
	char q[CONF_QBUF];
	const char *v;
	unsigned int i;
	int rc;

	rc = conf_str(c, g, "name", &v);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_err_missing(c, g, NULL, "name");
	s = config_setting_get_member(g, "name");
	if (!conf_name_ok(v, SP_CONF_NAME_MAX))
		return conf_err(c, s, "invalid name %s: use 1..%d characters of [A-Za-z0-9_-]",
				conf_quote(v, q, sizeof(q)), SP_CONF_NAME_MAX - 1);
	if (strcmp(v, "exception") == 0)
		return conf_err(c, s, "\"exception\" is the name of the exception port");
	for (i = 0; i < pi; i++)
		if (strcmp(c->conf->ports[i].name, v) == 0)
			return conf_err(c, s, "%s is already the name of ports.[%u]",
					conf_quote(v, q, sizeof(q)), i);
	snprintf(p->name, sizeof(p->name), "%s", v);

	rc = conf_str_copy(c, g, "device", p->device, sizeof(p->device));
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_err_missing(c, g, NULL, "device");
	return check_device(c, pi, config_setting_get_member(g, "device"));
}

static int
parse_port(struct conf_ctx *c, unsigned int pi, const config_setting_t *g)
{
	static const char *const known[] = { "name", "device", "mac", "mtu", "rx_desc", "tx_desc",
		"promiscuous", "addresses", "vlans", NULL };
	struct sp_conf_port *p = &c->conf->ports[pi];
	const config_setting_t *seq;
	uint32_t v;
	int rc, i, n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return conf_err(c, g, "must be a group { name = ...; device = ...; }");
	if (conf_known(c, g, known) < 0 || port_names(c, pi, g) < 0)
		return -EINVAL;
	p->line = config_setting_source_line(g);
	c->port_set[pi] = g;
	rc = conf_mac_setting(c, g, &p->has_mac, &p->mac);
	if (rc < 0)
		return rc;
	if (rc > 0 && conf_mac_unique(c, config_setting_get_member(g, "mac"), "", &p->mac, pi) < 0)
		return -EINVAL;
	if (conf_u32(c, g, "mtu", 68, 9000, 1500, &v) < 0)
		return -EINVAL;
	p->mtu = (uint16_t)v;
	if (conf_u32(c, g, "rx_desc", 64, 16384, 1024, &v) < 0)
		return -EINVAL;
	p->rx_desc = (uint16_t)v;
	if (conf_u32(c, g, "tx_desc", 64, 16384, 1024, &v) < 0)
		return -EINVAL;
	p->tx_desc = (uint16_t)v;
	if (conf_bool(c, g, "promiscuous", &p->promiscuous) < 0)
		return -EINVAL;

	/* the untagged interface exists when the port has addresses of its own */
	rc = parse_addresses(c, g, &p->ifaces[0], c->addr_set[pi][0], p->mtu);
	if (rc < 0)
		return rc;
	if (p->ifaces[0].n_addrs > 0) {
		p->ifaces[0].line = config_setting_source_line(config_setting_get_member(g,
											 "addresses"));
		p->n_ifaces = 1;
	}
	rc = conf_seq(c, g, "vlans", "a list of groups ( { id = ...; } )", &seq);
	if (rc <= 0)
		return rc;
	n = config_setting_length(seq);
	if (n > SP_CONF_MAX_VLANS)
		return conf_err(c, seq, "at most %d VLANs per port", SP_CONF_MAX_VLANS);
	for (i = 0; i < n; i++)
		if (parse_vlan(c, pi, config_setting_get_elem(seq, i)) < 0)
			return -EINVAL;
	return 0;
}

static bool
subnets_overlap(const struct sp_ip *a, const struct sp_ip *b)
{
	return sp_ip_in_prefix(a, b) || sp_ip_in_prefix(b, a);
}

/* Every address against every earlier one: no duplicates, no subnet on two interfaces. */
static int
check_overlaps(struct conf_ctx *c)
{
	const struct sp_conf *conf = c->conf;
	struct conf_addr_ref *r = c->addr_refs;
	unsigned int n = 0, pi, k, j, i;

	for (pi = 0; pi < conf->n_ports; pi++)
		for (k = 0; k < conf->ports[pi].n_ifaces; k++)
			for (j = 0; j < conf->ports[pi].ifaces[k].n_addrs; j++)
				r[n++] = (struct conf_addr_ref){
					.ip = &conf->ports[pi].ifaces[k].addrs[j],
					.s = c->addr_set[pi][k][j],
					.port = &conf->ports[pi],
					.iface = &conf->ports[pi].ifaces[k],
				};
	c->n_addr_refs = n;
	for (i = 1; i < n; i++) {
		for (j = 0; j < i; j++) {
			char path[128], an[SP_IP_STRLEN], bn[SP_IP_STRLEN], name[SP_CONF_NAME_MAX + 8];
			char q[CONF_QBUF];
			struct sp_ip na = *r[i].ip, nb = *r[j].ip;

			conf_path(r[j].s, path, sizeof(path));
			conf_quote(config_setting_get_string(r[i].s), q, sizeof(q));
			if (sp_ip_equal(r[i].ip, r[j].ip)) {
				sp_ip_format(r[i].ip, an, sizeof(an), false);
				return conf_err(c, r[i].s, "%s: address %s is already used by %s", q, an,
						path);
			}
			if (r[i].iface == r[j].iface || !subnets_overlap(r[i].ip, r[j].ip))
				continue;
			sp_ip_mask(&na);
			sp_ip_mask(&nb);
			sp_ip_format(&na, an, sizeof(an), true);
			sp_ip_format(&nb, bn, sizeof(bn), true);
			sp_conf_iface_name(r[j].port, r[j].iface, name, sizeof(name));
			return conf_err(c, r[i].s, "%s: subnet %s overlaps %s of interface \"%s\" (%s)",
					q, an, bn, name, path);
		}
	}
	return 0;
}

int
conf_parse_ports(struct conf_ctx *c, const config_setting_t *root)
{
	const config_setting_t *seq;
	int rc, i, n;

	rc = conf_seq(c, root, "ports", "a list of groups ( { name = ...; } )", &seq);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_err_missing(c, NULL, NULL, "ports");
	n = config_setting_length(seq);
	if (n == 0)
		return conf_err(c, seq, "at least one port is needed");
	if (n > SP_CONF_MAX_PORTS)
		return conf_err(c, seq, "at most %d ports", SP_CONF_MAX_PORTS);
	for (i = 0; i < n; i++) {
		rc = parse_port(c, i, config_setting_get_elem(seq, i));
		if (rc < 0)
			return rc;
		c->conf->n_ports++;
	}
	return check_overlaps(c);
}
