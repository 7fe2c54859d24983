/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Console commands for interfaces and routes:
 *   show interfaces [--json]
 *   show routes [--json]
 *   route add <prefix> via <addr> [dev <iface>]
 *   route add <prefix> dev <iface>
 *   route add <prefix> blackhole
 *   route del <prefix>
 * They call the same sp_route_*() functions as the configuration.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_private.h"
#include "sp_console.h"

/* ---- formatting helpers ---- */

static void
fmt_ip(const struct sp_ip *ip, bool with_plen, char *buf, size_t size)
{
	if (sp_ip_format(ip, buf, size, with_plen) < 0)
		snprintf(buf, size, "?");
}

/* The routes, in a buffer the caller frees; NULL when there is no memory. */
static struct sp_route *
route_snapshot(unsigned int *n)
{
	unsigned int total = sp_route_list(NULL, 0);
	struct sp_route *rt = malloc((total ? total : 1) * sizeof(*rt));

	if (rt == NULL)
		return NULL;
	*n = sp_route_list(rt, total);
	if (*n > total)
		*n = total;
	return rt;
}

static bool
find_route(const struct sp_ip *prefix, struct sp_route *out)
{
	struct sp_route *rt;
	unsigned int n, i;
	bool found = false;

	rt = route_snapshot(&n);
	if (rt == NULL)
		return false;
	for (i = 0; i < n && !found; i++) {
		if (rt[i].prefix.plen == prefix->plen && sp_ip_equal(&rt[i].prefix, prefix)) {
			*out = rt[i];
			found = true;
		}
	}
	free(rt);
	return found;
}

/* ---- show ---- */

struct show_res {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t what;
	uint8_t json;
};

static cmdline_parse_token_string_t tok_show =
	TOKEN_STRING_INITIALIZER(struct show_res, show, "show");
static cmdline_parse_token_string_t tok_routes =
	TOKEN_STRING_INITIALIZER(struct show_res, what, "routes");
static cmdline_parse_token_string_t tok_interfaces =
	TOKEN_STRING_INITIALIZER(struct show_res, what, "interfaces");
static struct sp_token_json tok_show_json = SP_TOKEN_JSON_INITIALIZER(struct show_res, json);

struct route_row {
	char prefix[SP_IP_STRLEN];
	char via[SP_IP_STRLEN];
	const char *type;
	const char *iface;
	const char *origin;
};

static void
route_row(const struct sp_route *r, struct route_row *row)
{
	fmt_ip(&r->prefix, true, row->prefix, sizeof(row->prefix));
	if (r->type == SP_NH_GATEWAY)
		fmt_ip(&r->gw, false, row->via, sizeof(row->via));
	else if (r->type == SP_NH_TUNNEL)
		snprintf(row->via, sizeof(row->via), "%s", sp_route_peer_name(r->peer));
	else
		snprintf(row->via, sizeof(row->via), "-");
	row->type = sp_nh_type_name(r->type);
	row->iface = r->iface == SP_IFACE_NONE ? "-" : sp_iface_name(r->iface);
	row->origin = sp_route_origin_name(r->origin);
}

static void
show_routes_json(struct cmdline *cl, const struct sp_route *rt, unsigned int n)
{
	struct route_row row;
	struct sp_json j;
	unsigned int i;

	sp_json_begin(&j, cl);
	sp_json_obj_open(&j, NULL);
	sp_json_u64(&j, "generation", sp_route_generation());
	sp_json_arr_open(&j, "routes");
	for (i = 0; i < n; i++) {
		route_row(&rt[i], &row);
		sp_json_obj_open(&j, NULL);
		sp_json_str(&j, "prefix", row.prefix);
		sp_json_str(&j, "family", rt[i].prefix.family == AF_INET ? "ipv4" : "ipv6");
		sp_json_str(&j, "type", row.type);
		if (rt[i].type == SP_NH_GATEWAY)
			sp_json_str(&j, "via", row.via);
		if (rt[i].type == SP_NH_TUNNEL)
			sp_json_str(&j, "peer", row.via);
		if (rt[i].iface != SP_IFACE_NONE)
			sp_json_str(&j, "interface", row.iface);
		sp_json_str(&j, "origin", row.origin);
		sp_json_obj_close(&j);
	}
	sp_json_arr_close(&j);
	sp_json_obj_close(&j);
	sp_json_end(&j);
}

static void
show_routes_text(struct cmdline *cl, const struct sp_route *rt, unsigned int n)
{
	int wp = (int)strlen("prefix"), wt = (int)strlen("type"), wv = (int)strlen("via");
	int wi = (int)strlen("interface");
	struct route_row row;
	unsigned int i;

	for (i = 0; i < n; i++) {
		route_row(&rt[i], &row);
		wp = RTE_MAX(wp, (int)strlen(row.prefix));
		wt = RTE_MAX(wt, (int)strlen(row.type));
		wv = RTE_MAX(wv, (int)strlen(row.via));
		wi = RTE_MAX(wi, (int)strlen(row.iface));
	}
	cmdline_printf(cl, "%-*s  %-*s  %-*s  %-*s  %s\n", wp, "prefix", wt, "type", wv, "via", wi,
		       "interface", "origin");
	for (i = 0; i < n; i++) {
		route_row(&rt[i], &row);
		cmdline_printf(cl, "%-*s  %-*s  %-*s  %-*s  %s\n", wp, row.prefix, wt, row.type, wv,
			       row.via, wi, row.iface, row.origin);
	}
}

static void
cmd_show_routes_cb(void *res, struct cmdline *cl, void *data __rte_unused)
{
	struct show_res *a = res;
	struct sp_route *rt;
	unsigned int n;

	if (sp_route_table() == NULL) {
		sp_console_error(cl, "show routes: routing is not running");
		return;
	}
	rt = route_snapshot(&n);
	if (rt == NULL) {
		sp_console_error(cl, "show routes: out of memory");
		return;
	}
	/* sp_route_list() sorts by family first: IPv4, then IPv6. */
	if (a->json)
		show_routes_json(cl, rt, n);
	else
		show_routes_text(cl, rt, n);
	free(rt);
}

static cmdline_parse_inst_t cmd_show_routes = {
	.f = cmd_show_routes_cb,
	.help_str = "show routes [--json]: the routing table (prefix, type, via, interface, "
		    "origin), IPv4 then IPv6",
	.tokens = { (void *)&tok_show, (void *)&tok_routes, (void *)&tok_show_json, NULL },
};
SP_CONSOLE_CMD(cmd_show_routes, SP_ACCESS_READ);

static void
iface_addrs(const struct sp_iface *ifc, char *buf, size_t size)
{
	unsigned int k;
	size_t off = 0;

	buf[0] = '\0';
	for (k = 0; k < ifc->n_addrs && off < size; k++) {
		char a[SP_IP_STRLEN];

		fmt_ip(&ifc->addrs[k], true, a, sizeof(a));
		off += snprintf(buf + off, size - off, "%s%s", k ? " " : "", a);
	}
	if (ifc->n_addrs == 0)
		snprintf(buf, size, "-");
}

static void
cmd_show_interfaces_cb(void *res, struct cmdline *cl, void *data __rte_unused)
{
	struct show_res *a = res;
	unsigned int i, k, n = sp_iface_count();
	char mac[RTE_ETHER_ADDR_FMT_SIZE], addrs[SP_CONF_MAX_ADDRS * (SP_IP_STRLEN + 1)];
	int wn = (int)strlen("name");

	if (a->json) {
		struct sp_json j;

		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_arr_open(&j, "interfaces");
		for (i = 0; i < n; i++) {
			const struct sp_iface *ifc = sp_iface_get((uint16_t)i);

			sp_mac_format(&ifc->mac, mac, sizeof(mac));
			sp_json_obj_open(&j, NULL);
			sp_json_str(&j, "name", ifc->name);
			sp_json_u64(&j, "id", ifc->id);
			sp_json_u64(&j, "port", ifc->port_id);
			sp_json_u64(&j, "vlan", ifc->vlan);
			sp_json_u64(&j, "mtu", ifc->mtu);
			sp_json_str(&j, "mac", mac);
			sp_json_bool(&j, "exception", ifc->exception);
			sp_json_arr_open(&j, "addresses");
			for (k = 0; k < ifc->n_addrs; k++) {
				char s[SP_IP_STRLEN];

				fmt_ip(&ifc->addrs[k], true, s, sizeof(s));
				sp_json_str(&j, NULL, s);
			}
			sp_json_arr_close(&j);
			sp_json_obj_close(&j);
		}
		sp_json_arr_close(&j);
		sp_json_obj_close(&j);
		sp_json_end(&j);
		return;
	}
	for (i = 0; i < n; i++)
		wn = RTE_MAX(wn, (int)strlen(sp_iface_get((uint16_t)i)->name));
	cmdline_printf(cl, "%-*s  %4s  %4s  %5s  %-17s  %s\n", wn, "name", "port", "vlan", "mtu",
		       "mac", "addresses");
	for (i = 0; i < n; i++) {
		const struct sp_iface *ifc = sp_iface_get((uint16_t)i);

		sp_mac_format(&ifc->mac, mac, sizeof(mac));
		iface_addrs(ifc, addrs, sizeof(addrs));
		cmdline_printf(cl, "%-*s  %4u  %4u  %5u  %-17s  %s%s\n", wn, ifc->name,
			       ifc->port_id, ifc->vlan, ifc->mtu, mac, addrs,
			       ifc->exception ? " (exception port)" : "");
	}
}

static cmdline_parse_inst_t cmd_show_interfaces = {
	.f = cmd_show_interfaces_cb,
	.help_str = "show interfaces [--json]: L3 interfaces (name, port, vlan, mtu, mac, "
		    "addresses)",
	.tokens = { (void *)&tok_show, (void *)&tok_interfaces, (void *)&tok_show_json, NULL },
};
SP_CONSOLE_CMD(cmd_show_interfaces, SP_ACCESS_READ);

/* ---- route add / del ---- */

enum add_kind { ADD_VIA, ADD_VIA_DEV, ADD_DEV, ADD_BLACKHOLE, DEL };

struct route_res {
	cmdline_fixed_string_t route;
	cmdline_fixed_string_t op;
	cmdline_fixed_string_t prefix;
	cmdline_fixed_string_t kw1;
	cmdline_fixed_string_t arg1;
	cmdline_fixed_string_t kw2;
	cmdline_fixed_string_t arg2;
	uint8_t json;
};

static cmdline_parse_token_string_t tok_route =
	TOKEN_STRING_INITIALIZER(struct route_res, route, "route");
static cmdline_parse_token_string_t tok_add =
	TOKEN_STRING_INITIALIZER(struct route_res, op, "add");
static cmdline_parse_token_string_t tok_del =
	TOKEN_STRING_INITIALIZER(struct route_res, op, "del");
static cmdline_parse_token_string_t tok_prefix =
	TOKEN_STRING_INITIALIZER(struct route_res, prefix, NULL);
static cmdline_parse_token_string_t tok_via =
	TOKEN_STRING_INITIALIZER(struct route_res, kw1, "via");
static cmdline_parse_token_string_t tok_gw =
	TOKEN_STRING_INITIALIZER(struct route_res, arg1, NULL);
static cmdline_parse_token_string_t tok_dev1 =
	TOKEN_STRING_INITIALIZER(struct route_res, kw1, "dev");
static cmdline_parse_token_string_t tok_ifc1 =
	TOKEN_STRING_INITIALIZER(struct route_res, arg1, NULL);
static cmdline_parse_token_string_t tok_dev2 =
	TOKEN_STRING_INITIALIZER(struct route_res, kw2, "dev");
static cmdline_parse_token_string_t tok_ifc2 =
	TOKEN_STRING_INITIALIZER(struct route_res, arg2, NULL);
static cmdline_parse_token_string_t tok_blackhole =
	TOKEN_STRING_INITIALIZER(struct route_res, kw1, "blackhole");
static struct sp_token_json tok_route_json = SP_TOKEN_JSON_INITIALIZER(struct route_res, json);

/* Parse "<prefix>", refusing host bits with a hint. @return 0, or -1 after reporting. */
static int
parse_prefix(struct cmdline *cl, const char *cmd, const char *s, struct sp_ip *out)
{
	struct sp_ip net;
	char buf[SP_IP_STRLEN];

	if (sp_ip_parse(s, out, true) < 0) {
		sp_console_error(cl, "%s %s: invalid prefix (expected e.g. 10.0.0.0/8 or "
				 "fd00::/64)", cmd, s);
		return -1;
	}
	if (!sp_ip_is_network(out)) {
		net = *out;
		sp_ip_mask(&net);
		fmt_ip(&net, true, buf, sizeof(buf));
		sp_console_error(cl, "%s %s: host bits set (the network is %s)", cmd, s, buf);
		return -1;
	}
	return 0;
}

/* Success: one line of text, or {"result":"ok","generation":N} for --json. */
static void
report_ok(struct cmdline *cl, bool json, const char *text)
{
	if (json) {
		struct sp_json j;

		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_str(&j, "result", "ok");
		sp_json_u64(&j, "generation", sp_route_generation());
		sp_json_obj_close(&j);
		sp_json_end(&j);
		return;
	}
	cmdline_printf(cl, "%s\n", text);
}

static void
add_error(struct cmdline *cl, const char *pfx, int err, const struct sp_route *r,
	  const char *gw, const char *dev)
{
	switch (err) {
	case -EEXIST:
		sp_console_error(cl, "%s: a route for this prefix already exists (delete it first)",
				 pfx);
		break;
	case -ENETUNREACH:
		if (dev != NULL)
			sp_console_error(cl, "%s: gateway %s is not on a subnet of interface %s",
					 pfx, gw, dev);
		else
			sp_console_error(cl, "%s: gateway %s is not on a connected subnet", pfx,
					 gw);
		break;
	case -ENOSPC:
		sp_console_error(cl, "%s: the route table is full", pfx);
		break;
	case -ENOMEM:
		sp_console_error(cl, "%s: out of memory building the new table (nothing changed)",
				 pfx);
		break;
	case -EINVAL:
		if (r->type == SP_NH_GATEWAY && sp_iface_is_local(&r->gw))
			sp_console_error(cl, "%s: gateway %s is one of our own addresses", pfx, gw);
		else
			sp_console_error(cl, "%s: invalid route", pfx);
		break;
	default:
		sp_console_error(cl, "%s: %s", pfx, strerror(-err));
		break;
	}
}

static void
cmd_route_add_cb(void *res, struct cmdline *cl, void *data)
{
	struct route_res *a = res;
	enum add_kind kind = (enum add_kind)(uintptr_t)data;
	const char *dev = NULL;
	const struct sp_iface *ifc;
	struct sp_route r = { .origin = SP_RO_CONSOLE, .iface = SP_IFACE_NONE };
	char pfx[STR_TOKEN_SIZE + 16], gw[SP_IP_STRLEN], out[SP_IP_STRLEN];
	char msg[3 * SP_IP_STRLEN + SP_IFACE_NAME_MAX];
	struct sp_route added;
	int ret;

	snprintf(pfx, sizeof(pfx), "route add %s", a->prefix);
	if (sp_route_table() == NULL) {
		sp_console_error(cl, "%s: routing is not running", pfx);
		return;
	}
	if (parse_prefix(cl, "route add", a->prefix, &r.prefix) < 0)
		return;
	switch (kind) {
	case ADD_VIA_DEV:
		dev = a->arg2;
		/* fall through */
	case ADD_VIA:
		r.type = SP_NH_GATEWAY;
		if (sp_ip_parse(a->arg1, &r.gw, false) < 0) {
			sp_console_error(cl, "%s: invalid gateway address %s", pfx, a->arg1);
			return;
		}
		if (r.gw.family != r.prefix.family) {
			sp_console_error(cl, "%s: gateway %s is not an %s address", pfx, a->arg1,
					 r.prefix.family == AF_INET ? "IPv4" : "IPv6");
			return;
		}
		break;
	case ADD_DEV:
		dev = a->arg1;
		r.type = SP_NH_CONNECTED;
		break;
	case ADD_BLACKHOLE:
	default:
		r.type = SP_NH_BLACKHOLE;
		break;
	}
	if (dev != NULL) {
		ifc = sp_iface_by_name(dev);
		if (ifc == NULL) {
			sp_console_error(cl, "%s: unknown interface %s", pfx, dev);
			return;
		}
		r.iface = ifc->id;
	}
	fmt_ip(&r.gw, false, gw, sizeof(gw));
	ret = sp_route_add(&r);
	if (ret < 0) {
		add_error(cl, pfx, ret, &r, gw, dev);
		return;
	}
	fmt_ip(&r.prefix, true, out, sizeof(out));
	if (!find_route(&r.prefix, &added))
		added = r;
	if (added.type == SP_NH_GATEWAY)
		snprintf(msg, sizeof(msg), "added %s via %s dev %s", out, gw,
			 sp_iface_name(added.iface));
	else if (added.type == SP_NH_CONNECTED)
		snprintf(msg, sizeof(msg), "added %s dev %s", out, sp_iface_name(added.iface));
	else
		snprintf(msg, sizeof(msg), "added %s blackhole", out);
	report_ok(cl, a->json, msg);
}

static cmdline_parse_inst_t cmd_route_add_via = {
	.f = cmd_route_add_cb,
	.data = (void *)(uintptr_t)ADD_VIA,
	.help_str = "route add <prefix> via <addr>: route a prefix through a gateway on a "
		    "connected subnet (the interface is the subnet's)",
	.tokens = { (void *)&tok_route, (void *)&tok_add, (void *)&tok_prefix, (void *)&tok_via,
		    (void *)&tok_gw, (void *)&tok_route_json, NULL },
};
SP_CONSOLE_CMD(cmd_route_add_via, SP_ACCESS_ADMIN);

static cmdline_parse_inst_t cmd_route_add_via_dev = {
	.f = cmd_route_add_cb,
	.data = (void *)(uintptr_t)ADD_VIA_DEV,
	.help_str = "route add <prefix> via <addr> dev <iface>: route a prefix through a gateway "
		    "on the given interface",
	.tokens = { (void *)&tok_route, (void *)&tok_add, (void *)&tok_prefix, (void *)&tok_via,
		    (void *)&tok_gw, (void *)&tok_dev2, (void *)&tok_ifc2, (void *)&tok_route_json,
		    NULL },
};
SP_CONSOLE_CMD(cmd_route_add_via_dev, SP_ACCESS_ADMIN);

static cmdline_parse_inst_t cmd_route_add_dev = {
	.f = cmd_route_add_cb,
	.data = (void *)(uintptr_t)ADD_DEV,
	.help_str = "route add <prefix> dev <iface>: a prefix directly on an interface (on-link)",
	.tokens = { (void *)&tok_route, (void *)&tok_add, (void *)&tok_prefix, (void *)&tok_dev1,
		    (void *)&tok_ifc1, (void *)&tok_route_json, NULL },
};
SP_CONSOLE_CMD(cmd_route_add_dev, SP_ACCESS_ADMIN);

static cmdline_parse_inst_t cmd_route_add_blackhole = {
	.f = cmd_route_add_cb,
	.data = (void *)(uintptr_t)ADD_BLACKHOLE,
	.help_str = "route add <prefix> blackhole: drop traffic to a prefix",
	.tokens = { (void *)&tok_route, (void *)&tok_add, (void *)&tok_prefix,
		    (void *)&tok_blackhole, (void *)&tok_route_json, NULL },
};
SP_CONSOLE_CMD(cmd_route_add_blackhole, SP_ACCESS_ADMIN);

static void
cmd_route_del_cb(void *res, struct cmdline *cl, void *data __rte_unused)
{
	struct route_res *a = res;
	struct sp_route old;
	struct sp_ip prefix;
	char pfx[STR_TOKEN_SIZE + 16], out[SP_IP_STRLEN], msg[SP_IP_STRLEN + 16];
	int ret;

	snprintf(pfx, sizeof(pfx), "route del %s", a->prefix);
	if (sp_route_table() == NULL) {
		sp_console_error(cl, "%s: routing is not running", pfx);
		return;
	}
	if (parse_prefix(cl, "route del", a->prefix, &prefix) < 0)
		return;
	ret = sp_route_del(&prefix);
	switch (ret) {
	case 0:
		fmt_ip(&prefix, true, out, sizeof(out));
		snprintf(msg, sizeof(msg), "deleted %s", out);
		report_ok(cl, a->json, msg);
		break;
	case -ENOENT:
		sp_console_error(cl, "%s: no route for this prefix", pfx);
		break;
	case -EPERM:
		if (!find_route(&prefix, &old))
			old.origin = SP_RO_LOCAL;
		sp_console_error(cl, "%s: %s routes come from interface addresses and cannot be "
				 "deleted", pfx, sp_route_origin_name(old.origin));
		break;
	case -ENOMEM:
		sp_console_error(cl, "%s: out of memory building the new table (nothing changed)",
				 pfx);
		break;
	default:
		sp_console_error(cl, "%s: %s", pfx, strerror(-ret));
		break;
	}
}

static cmdline_parse_inst_t cmd_route_del = {
	.f = cmd_route_del_cb,
	.data = (void *)(uintptr_t)DEL,
	.help_str = "route del <prefix>: delete the route for exactly this prefix",
	.tokens = { (void *)&tok_route, (void *)&tok_del, (void *)&tok_prefix,
		    (void *)&tok_route_json, NULL },
};
SP_CONSOLE_CMD(cmd_route_del, SP_ACCESS_ADMIN);
