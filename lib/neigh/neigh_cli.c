/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Console commands for the neighbour table:
 *   show neighbors [--json]
 *   neighbor add <ip> <mac> dev <iface>     (a static entry)
 *   neighbor del <ip> dev <iface>
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "neigh_private.h"
#include "sp_console.h"
#include "sp_route.h"

static struct sp_neigh *console_table;

void
sp_neigh_console_attach(struct sp_neigh *n)
{
	console_table = n;
}

void
sp_neigh_console_forget(const struct sp_neigh *n)
{
	if (console_table == n)
		console_table = NULL;
}

/* ---- show neighbors ---- */

struct collect {
	struct sp_neigh_info *v;
	unsigned int n, cap;
	bool oom;
};

static void
collect_cb(const struct sp_neigh_info *info, void *arg)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		unsigned int cap = c->cap ? 2 * c->cap : 64;
		struct sp_neigh_info *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL) {
			c->oom = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *info;
}

/* By interface, then IPv4 before IPv6, then address. */
static int
info_cmp(const void *pa, const void *pb)
{
	const struct sp_neigh_info *a = pa, *b = pb;

	if (a->key.iface != b->key.iface)
		return a->key.iface < b->key.iface ? -1 : 1;
	if (a->key.family != b->key.family)
		return a->key.family < b->key.family ? -1 : 1;
	return memcmp(a->key.ip, b->key.ip, sizeof(a->key.ip));
}

struct show_res {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t what;
	uint8_t json;
};

static cmdline_parse_token_string_t tok_show =
	TOKEN_STRING_INITIALIZER(struct show_res, show, "show");
static cmdline_parse_token_string_t tok_neighbors =
	TOKEN_STRING_INITIALIZER(struct show_res, what, "neighbors");
static struct sp_token_json tok_show_json = SP_TOKEN_JSON_INITIALIZER(struct show_res, json);

#define STATS(X) \
	X(entries, "entries") X(resolved, "resolved") X(failed, "failed") \
	X(expired, "expired") X(evicted, "evicted") X(solicits, "solicits") \
	X(solicit_errors, "solicit-errors") X(held, "held") X(hold_drops, "hold-drops") \
	X(table_full, "table-full") X(updates, "updates")

static void
show_json(struct cmdline *cl, const struct collect *c, const struct sp_neigh_stats *st)
{
	char ip[SP_IP_STRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];
	struct sp_json j;
	unsigned int i;

	sp_json_begin(&j, cl);
	sp_json_obj_open(&j, NULL);
	sp_json_arr_open(&j, "neighbors");
	for (i = 0; i < c->n; i++) {
		const struct sp_neigh_info *x = &c->v[i];

		sp_ip_format(&x->ip, ip, sizeof(ip), false);
		sp_json_obj_open(&j, NULL);
		sp_json_str(&j, "address", ip);
		sp_json_str(&j, "family", x->key.family == AF_INET ? "ipv4" : "ipv6");
		sp_json_str(&j, "interface", sp_iface_name(x->key.iface));
		if (x->state != SP_NEIGH_INCOMPLETE) {
			sp_mac_format(&x->mac, mac, sizeof(mac));
			sp_json_str(&j, "mac", mac);
		}
		sp_json_str(&j, "state", sp_neigh_state_name(x->state));
		sp_json_u64(&j, "age_ms", x->age_ms);
		sp_json_u64(&j, "probes", x->probes);
		sp_json_u64(&j, "queued", x->queued);
		sp_json_obj_close(&j);
	}
	sp_json_arr_close(&j);
	sp_json_obj_open(&j, "stats");
#define SP_X(f, name) sp_json_u64(&j, name, st->f);
	STATS(SP_X)
#undef SP_X
	sp_json_obj_close(&j);
	sp_json_obj_close(&j);
	sp_json_end(&j);
}

static void
show_text(struct cmdline *cl, const struct collect *c, const struct sp_neigh_stats *st)
{
	char ip[SP_IP_STRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];
	int wa = (int)strlen("address"), wi = (int)strlen("interface");
	unsigned int i;

	for (i = 0; i < c->n; i++) {
		sp_ip_format(&c->v[i].ip, ip, sizeof(ip), false);
		wa = RTE_MAX(wa, (int)strlen(ip));
		wi = RTE_MAX(wi, (int)strlen(sp_iface_name(c->v[i].key.iface)));
	}
	cmdline_printf(cl, "%-*s  %-*s  %-17s  %-10s  %10s  %6s  %6s\n", wa, "address", wi,
		       "interface", "mac", "state", "age", "probes", "queued");
	for (i = 0; i < c->n; i++) {
		const struct sp_neigh_info *x = &c->v[i];

		sp_ip_format(&x->ip, ip, sizeof(ip), false);
		if (x->state == SP_NEIGH_INCOMPLETE)
			snprintf(mac, sizeof(mac), "-");
		else
			sp_mac_format(&x->mac, mac, sizeof(mac));
		cmdline_printf(cl, "%-*s  %-*s  %-17s  %-10s  %7u.%01us  %6u  %6u\n", wa, ip, wi,
			       sp_iface_name(x->key.iface), mac, sp_neigh_state_name(x->state),
			       x->age_ms / 1000, (x->age_ms % 1000) / 100, x->probes, x->queued);
	}
	cmdline_printf(cl, "\n");
#define SP_X(f, name) cmdline_printf(cl, "%-15s %lu\n", name, (unsigned long)st->f);
	STATS(SP_X)
#undef SP_X
}

static void
cmd_show_neighbors_cb(void *res, struct cmdline *cl, void *data __rte_unused)
{
	struct show_res *a = res;
	struct collect c = { 0 };
	struct sp_neigh_stats st;
	struct sp_neigh *n = console_table;

	if (n == NULL) {
		sp_console_error(cl, "show neighbors: the neighbor table is not running");
		return;
	}
	sp_neigh_walk(n, sp_neigh_last_now(n), collect_cb, &c);
	if (c.oom) {
		free(c.v);
		sp_console_error(cl, "show neighbors: out of memory");
		return;
	}
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(c.v[0]), info_cmp);
	sp_neigh_get_stats(n, &st);
	if (a->json)
		show_json(cl, &c, &st);
	else
		show_text(cl, &c, &st);
	free(c.v);
}

static cmdline_parse_inst_t cmd_show_neighbors = {
	.f = cmd_show_neighbors_cb,
	.help_str = "show neighbors [--json]: ARP/NDP entries (address, interface, MAC, state, "
		    "age, probes, queued packets) and counters",
	.tokens = { (void *)&tok_show, (void *)&tok_neighbors, (void *)&tok_show_json, NULL },
};
SP_CONSOLE_CMD(cmd_show_neighbors, SP_ACCESS_READ);

/* ---- neighbor add / del ---- */

struct nb_res {
	cmdline_fixed_string_t neighbor;
	cmdline_fixed_string_t op;
	cmdline_fixed_string_t ip;
	cmdline_fixed_string_t mac;
	cmdline_fixed_string_t dev;
	cmdline_fixed_string_t iface;
	uint8_t json;
};

static cmdline_parse_token_string_t tok_neighbor =
	TOKEN_STRING_INITIALIZER(struct nb_res, neighbor, "neighbor");
static cmdline_parse_token_string_t tok_add = TOKEN_STRING_INITIALIZER(struct nb_res, op, "add");
static cmdline_parse_token_string_t tok_del = TOKEN_STRING_INITIALIZER(struct nb_res, op, "del");
static cmdline_parse_token_string_t tok_ip = TOKEN_STRING_INITIALIZER(struct nb_res, ip, NULL);
static cmdline_parse_token_string_t tok_mac = TOKEN_STRING_INITIALIZER(struct nb_res, mac, NULL);
static cmdline_parse_token_string_t tok_dev = TOKEN_STRING_INITIALIZER(struct nb_res, dev, "dev");
static cmdline_parse_token_string_t tok_iface =
	TOKEN_STRING_INITIALIZER(struct nb_res, iface, NULL);
static struct sp_token_json tok_nb_json = SP_TOKEN_JSON_INITIALIZER(struct nb_res, json);

/* Common checks. @return the table, or NULL after reporting. */
static struct sp_neigh *
nb_prepare(struct cmdline *cl, const char *cmd, const struct nb_res *a, struct sp_neigh_key *key)
{
	const struct sp_iface *ifc;
	struct sp_ip ip;

	if (console_table == NULL) {
		sp_console_error(cl, "%s: the neighbor table is not running", cmd);
		return NULL;
	}
	if (sp_ip_parse(a->ip, &ip, false) < 0) {
		sp_console_error(cl, "%s: invalid address (expected e.g. 10.0.0.1 or fd00::1)",
				 cmd);
		return NULL;
	}
	ifc = sp_iface_by_name(a->iface);
	if (ifc == NULL) {
		sp_console_error(cl, "%s: unknown interface %s", cmd, a->iface);
		return NULL;
	}
	sp_neigh_key_set(key, ifc->id, &ip);
	return console_table;
}

static void
report_ok(struct cmdline *cl, bool json, const char *text)
{
	if (json) {
		struct sp_json j;

		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_str(&j, "result", "ok");
		sp_json_obj_close(&j);
		sp_json_end(&j);
		return;
	}
	cmdline_printf(cl, "%s\n", text);
}

static void
cmd_neighbor_add_cb(void *res, struct cmdline *cl, void *data __rte_unused)
{
	struct nb_res *a = res;
	struct rte_ether_addr mac;
	struct sp_neigh_key key;
	struct sp_neigh *n;
	char cmd[STR_TOKEN_SIZE + 16], macs[RTE_ETHER_ADDR_FMT_SIZE], msg[3 * STR_TOKEN_SIZE];
	int ret;

	snprintf(cmd, sizeof(cmd), "neighbor add %s", a->ip);
	n = nb_prepare(cl, cmd, a, &key);
	if (n == NULL)
		return;
	if (rte_ether_unformat_addr(a->mac, &mac) != 0) {
		sp_console_error(cl, "%s: invalid MAC address %s (expected e.g. 02:00:00:00:00:01)",
				 cmd, a->mac);
		return;
	}
	if (!rte_is_valid_assigned_ether_addr(&mac)) {
		sp_console_error(cl, "%s: %s is not a unicast MAC address", cmd, a->mac);
		return;
	}
	ret = sp_neigh_add_static(n, &key, &mac);
	switch (ret) {
	case 0:
		sp_mac_format(&mac, macs, sizeof(macs));
		snprintf(msg, sizeof(msg), "added %s lladdr %s dev %s (static)", a->ip, macs,
			 a->iface);
		report_ok(cl, a->json, msg);
		break;
	case -ENOSPC:
		sp_console_error(cl, "%s: the neighbor table is full of static and unresolved "
				 "entries", cmd);
		break;
	case -EINVAL:
		sp_console_error(cl, "%s: not a unicast host address", cmd);
		break;
	default:
		sp_console_error(cl, "%s: %s", cmd, strerror(-ret));
		break;
	}
}

static cmdline_parse_inst_t cmd_neighbor_add = {
	.f = cmd_neighbor_add_cb,
	.help_str = "neighbor add <ip> <mac> dev <iface>: a static neighbor entry (never ages)",
	.tokens = { (void *)&tok_neighbor, (void *)&tok_add, (void *)&tok_ip, (void *)&tok_mac,
		    (void *)&tok_dev, (void *)&tok_iface, (void *)&tok_nb_json, NULL },
};
SP_CONSOLE_CMD(cmd_neighbor_add, SP_ACCESS_ADMIN);

static void
cmd_neighbor_del_cb(void *res, struct cmdline *cl, void *data __rte_unused)
{
	struct nb_res *a = res;
	struct sp_neigh_key key;
	struct sp_neigh *n;
	char cmd[STR_TOKEN_SIZE + 16], msg[3 * STR_TOKEN_SIZE];
	int ret;

	snprintf(cmd, sizeof(cmd), "neighbor del %s", a->ip);
	n = nb_prepare(cl, cmd, a, &key);
	if (n == NULL)
		return;
	ret = sp_neigh_del(n, &key);
	switch (ret) {
	case 0:
		snprintf(msg, sizeof(msg), "deleted %s dev %s", a->ip, a->iface);
		report_ok(cl, a->json, msg);
		break;
	case -ENOENT:
	case -EINVAL:
		sp_console_error(cl, "%s: no neighbor entry on %s", cmd, a->iface);
		break;
	default:
		sp_console_error(cl, "%s: %s", cmd, strerror(-ret));
		break;
	}
}

static cmdline_parse_inst_t cmd_neighbor_del = {
	.f = cmd_neighbor_del_cb,
	.help_str = "neighbor del <ip> dev <iface>: delete a neighbor entry (static or learned)",
	.tokens = { (void *)&tok_neighbor, (void *)&tok_del, (void *)&tok_ip, (void *)&tok_dev,
		    (void *)&tok_iface, (void *)&tok_nb_json, NULL },
};
SP_CONSOLE_CMD(cmd_neighbor_del, SP_ACCESS_ADMIN);
