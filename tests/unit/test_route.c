/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interfaces, routes and FIB versions: the interface table's checks and receive map, LOCAL and
 * CONNECTED routes from interface addresses, longest-prefix match (IPv4 and IPv6) against
 * tables of probes, every error of add/del/replace, all-or-nothing replace and allocation
 * failures, generations, deferred freeing through RCU, and a reader thread that looks up
 * continuously while the table is rebuilt hundreds of times.
 *
 * Interfaces used throughout:
 *   0 inside       port 0 untagged   10.1.0.254/24  fd00:1::fe/64
 *   1 inside.100   port 0 vlan 100   10.100.0.1/24
 *   2 mesh         port 1 untagged   192.0.2.1/24  2001:db8:ffff::1/64  198.51.100.7/32
 *   3 exception    port 2 untagged   (no address)
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "route_private.h"
#include "sp_rcu.h"
#include "sp_route.h"
#include "sp_stats.h"
#include "test_common.h"

#define MAX_ROUTES 64

enum { IF_INSIDE, IF_VLAN, IF_MESH, IF_EXC };

static struct sp_ip
ip(const char *s)
{
	struct sp_ip a;

	if (sp_ip_parse(s, &a, true) != 0)
		CU_FAIL_FATAL("bad address in test");
	return a;
}

static void
make_ifaces(struct sp_iface *f)
{
	memset(f, 0, 4 * sizeof(*f));
	f[0] = (struct sp_iface){ .id = 0, .port_id = 0, .vlan = 0, .mtu = 1500, .name = "inside",
				  .n_addrs = 2 };
	f[0].addrs[0] = ip("10.1.0.254/24");
	f[0].addrs[1] = ip("fd00:1::fe/64");
	f[1] = (struct sp_iface){ .id = 1, .port_id = 0, .vlan = 100, .mtu = 1500,
				  .name = "inside.100", .n_addrs = 1 };
	f[1].addrs[0] = ip("10.100.0.1/24");
	f[2] = (struct sp_iface){ .id = 2, .port_id = 1, .vlan = 0, .mtu = 1400, .name = "mesh",
				  .n_addrs = 3 };
	f[2].addrs[0] = ip("192.0.2.1/24");
	f[2].addrs[1] = ip("2001:db8:ffff::1/64");
	f[2].addrs[2] = ip("198.51.100.7/32");
	f[3] = (struct sp_iface){ .id = 3, .port_id = 2, .vlan = 0, .mtu = 1500,
				  .name = "exception", .exception = true };
}

static struct sp_route
gw_route(const char *prefix, const char *gw, uint16_t iface)
{
	struct sp_route r = { .type = SP_NH_GATEWAY, .origin = SP_RO_CONSOLE, .iface = iface };

	r.prefix = ip(prefix);
	r.gw = ip(gw);
	return r;
}

static struct sp_route
dev_route(const char *prefix, uint16_t iface)
{
	struct sp_route r = { .type = SP_NH_CONNECTED, .origin = SP_RO_CONSOLE, .iface = iface };

	r.prefix = ip(prefix);
	return r;
}

static struct sp_route
bh_route(const char *prefix)
{
	struct sp_route r = { .type = SP_NH_BLACKHOLE, .origin = SP_RO_CONSOLE,
			      .iface = SP_IFACE_NONE };

	r.prefix = ip(prefix);
	return r;
}

/* Start over with only the interface routes. */
static void
reset_routes(unsigned int max)
{
	sp_route_fini();
	sp_rcu_reclaim();
	CU_ASSERT_EQUAL_FATAL(sp_route_init(max), 0);
}

/* The next hop the current table gives for an address. */
static const struct sp_nexthop *
lookup(const char *addr)
{
	const struct sp_rtab *t = sp_route_table();
	struct sp_ip a = ip(addr);
	uint64_t id;

	if (a.family == AF_INET) {
		uint32_t h = rte_be_to_cpu_32(a.v4);

		sp_rtab_lookup4(t, &h, &id, 1);
	} else {
		sp_rtab_lookup6(t, (const uint8_t (*)[16])a.v6, &id, 1);
	}
	return sp_rtab_nh(t, id);
}

/* ---- interface table ---- */

static void
test_iface_checks(void)
{
	struct sp_iface f[4], bad[4];
	static const struct {
		const char *what;
		int idx;        /* interface to break */
		int field;
	} cases[] = {
		{ "id not its index", 1, 0 },
		{ "duplicate port and vlan", 1, 1 },
		{ "duplicate name", 2, 2 },
		{ "vlan 4095", 1, 3 },
		{ "port past SP_MAX_PORTS", 2, 4 },
		{ "empty name", 0, 5 },
		{ "too many addresses", 0, 6 },
		{ "address without family", 2, 7 },
	};
	unsigned int i;

	make_ifaces(f);
	for (i = 0; i < RTE_DIM(cases); i++) {
		memcpy(bad, f, sizeof(f));
		switch (cases[i].field) {
		case 0: bad[cases[i].idx].id = 7; break;
		case 1: bad[cases[i].idx].vlan = 0; break;
		case 2: strcpy(bad[cases[i].idx].name, "inside"); break;
		case 3: bad[cases[i].idx].vlan = 4095; break;
		case 4: bad[cases[i].idx].port_id = SP_MAX_PORTS; break;
		case 5: bad[cases[i].idx].name[0] = '\0'; break;
		case 6: bad[cases[i].idx].n_addrs = SP_CONF_MAX_ADDRS + 1; break;
		case 7: bad[cases[i].idx].addrs[1].family = 0; break;
		}
		CU_ASSERT_EQUAL(sp_iface_set(bad, 4), -EINVAL);
		CU_ASSERT_EQUAL(sp_iface_count(), 0);
	}
	CU_ASSERT_EQUAL(sp_iface_set(f, 0), -EINVAL);
	CU_ASSERT_EQUAL(sp_iface_set(NULL, 1), -EINVAL);
	CU_ASSERT_EQUAL(sp_route_init(MAX_ROUTES), -EINVAL); /* no interfaces yet */
	CU_ASSERT_EQUAL(sp_iface_set(f, 4), 0);
	CU_ASSERT_EQUAL(sp_iface_set(f, 4), -EEXIST);
	CU_ASSERT_EQUAL(sp_iface_count(), 4);
}

static void
test_iface_lookup(void)
{
	static const struct {
		uint16_t port, vlan, iface;
	} rx[] = {
		{ 0, 0, IF_INSIDE }, { 0, 100, IF_VLAN }, { 1, 0, IF_MESH }, { 2, 0, IF_EXC },
		{ 0, 5, SP_IFACE_NONE }, { 1, 100, SP_IFACE_NONE }, { 3, 0, SP_IFACE_NONE },
		{ 15, 0, SP_IFACE_NONE }, { SP_MAX_PORTS, 0, SP_IFACE_NONE },
		{ 0, 4095, SP_IFACE_NONE }, { 0, 4096, SP_IFACE_NONE },
		{ UINT16_MAX, UINT16_MAX, SP_IFACE_NONE },
	};
	const struct sp_iface *m;
	unsigned int i;

	for (i = 0; i < RTE_DIM(rx); i++)
		CU_ASSERT_EQUAL(sp_iface_rx(rx[i].port, rx[i].vlan), rx[i].iface);
	CU_ASSERT_EQUAL(sp_iface_by_name("inside.100")->id, IF_VLAN);
	CU_ASSERT_PTR_NULL(sp_iface_by_name("inside.101"));
	CU_ASSERT_PTR_NULL(sp_iface_by_name(NULL));
	CU_ASSERT_PTR_NULL(sp_iface_get(4));
	CU_ASSERT_PTR_NULL(sp_iface_get(SP_IFACE_NONE));
	m = sp_iface_get(IF_MESH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	if (m == NULL)
		return;
	CU_ASSERT_STRING_EQUAL(m->name, "mesh");
	CU_ASSERT_EQUAL(m->mtu, 1400);
	CU_ASSERT_TRUE(sp_ip_equal(sp_iface_addr(m, AF_INET), &m->addrs[0]));
	CU_ASSERT_TRUE(sp_ip_equal(sp_iface_addr(m, AF_INET6), &m->addrs[1]));
	CU_ASSERT_PTR_NULL(sp_iface_addr(sp_iface_get(IF_VLAN), AF_INET6));
	CU_ASSERT_PTR_NULL(sp_iface_addr(sp_iface_get(IF_EXC), AF_INET));
}

/* ---- interface routes ---- */

static void
test_iface_routes(void)
{
	static const struct {
		const char *prefix;
		uint8_t type, origin;
		uint16_t iface;
	} want[] = {
		/* sorted: IPv4 then IPv6, by address, then by length */
		{ "10.1.0.0/24", SP_NH_CONNECTED, SP_RO_CONNECTED, IF_INSIDE },
		{ "10.1.0.254/32", SP_NH_LOCAL, SP_RO_LOCAL, IF_INSIDE },
		{ "10.100.0.0/24", SP_NH_CONNECTED, SP_RO_CONNECTED, IF_VLAN },
		{ "10.100.0.1/32", SP_NH_LOCAL, SP_RO_LOCAL, IF_VLAN },
		{ "192.0.2.0/24", SP_NH_CONNECTED, SP_RO_CONNECTED, IF_MESH },
		{ "192.0.2.1/32", SP_NH_LOCAL, SP_RO_LOCAL, IF_MESH },
		{ "198.51.100.7/32", SP_NH_LOCAL, SP_RO_LOCAL, IF_MESH },
		{ "2001:db8:ffff::/64", SP_NH_CONNECTED, SP_RO_CONNECTED, IF_MESH },
		{ "2001:db8:ffff::1/128", SP_NH_LOCAL, SP_RO_LOCAL, IF_MESH },
		{ "fd00:1::/64", SP_NH_CONNECTED, SP_RO_CONNECTED, IF_INSIDE },
		{ "fd00:1::fe/128", SP_NH_LOCAL, SP_RO_LOCAL, IF_INSIDE },
	};
	struct sp_route got[32];
	unsigned int i, n;

	reset_routes(MAX_ROUTES);
	CU_ASSERT_EQUAL(sp_route_generation(), 1);
	n = sp_route_list(got, RTE_DIM(got));
	CU_ASSERT_EQUAL_FATAL(n, RTE_DIM(want));
	for (i = 0; i < n; i++) {
		struct sp_ip p = ip(want[i].prefix);

		CU_ASSERT_TRUE(sp_ip_equal(&got[i].prefix, &p));
		CU_ASSERT_EQUAL(got[i].prefix.plen, p.plen);
		CU_ASSERT_EQUAL(got[i].type, want[i].type);
		CU_ASSERT_EQUAL(got[i].origin, want[i].origin);
		CU_ASSERT_EQUAL(got[i].iface, want[i].iface);
	}
	/* A short buffer still reports the total. */
	CU_ASSERT_EQUAL(sp_route_list(got, 2), RTE_DIM(want));
	CU_ASSERT_EQUAL(lookup("10.1.0.254")->type, SP_NH_LOCAL);
	CU_ASSERT_EQUAL(lookup("fd00:1::fe")->iface, IF_INSIDE);
	CU_ASSERT_EQUAL(lookup("10.1.0.9")->type, SP_NH_CONNECTED);
	CU_ASSERT_EQUAL(lookup("198.51.100.8")->type, SP_NH_UNREACHABLE);
	CU_ASSERT_STRING_EQUAL(sp_nh_type_name(SP_NH_GATEWAY), "gateway");
	CU_ASSERT_STRING_EQUAL(sp_nh_type_name(99), "?");
	CU_ASSERT_STRING_EQUAL(sp_route_origin_name(SP_RO_CONSOLE), "console");
	CU_ASSERT_EQUAL(sp_route_init(MAX_ROUTES), -EEXIST);
}

/* ---- longest-prefix match ---- */

struct probe {
	const char *addr;
	uint8_t type;
	const char *gw;     /* GATEWAY only */
	uint16_t iface;
};

static void
check_probes(const struct probe *p, unsigned int n)
{
	const struct sp_rtab *t = sp_route_table();
	uint32_t v4[32];
	uint8_t v6[32][16];
	uint64_t nh4[32], nh6[32];
	unsigned int i, n4 = 0, n6 = 0;

	/* One bulk lookup per family, as the data path does. */
	for (i = 0; i < n; i++) {
		struct sp_ip a = ip(p[i].addr);

		if (a.family == AF_INET)
			v4[n4++] = rte_be_to_cpu_32(a.v4);
		else
			memcpy(v6[n6++], a.v6, 16);
	}
	sp_rtab_lookup4(t, v4, nh4, n4);
	sp_rtab_lookup6(t, (const uint8_t (*)[16])v6, nh6, n6);
	n4 = n6 = 0;
	for (i = 0; i < n; i++) {
		struct sp_ip a = ip(p[i].addr);
		uint64_t id = a.family == AF_INET ? nh4[n4++] : nh6[n6++];
		const struct sp_nexthop *nh = sp_rtab_nh(t, id);
		bool ok = nh->type == p[i].type;

		if (p[i].type == SP_NH_UNREACHABLE)
			ok = ok && id == 0;
		else if (p[i].type != SP_NH_BLACKHOLE)
			ok = ok && nh->iface == p[i].iface;
		if (p[i].type == SP_NH_GATEWAY) {
			struct sp_ip g = ip(p[i].gw);

			ok = ok && sp_ip_equal(&nh->gw, &g);
		}
		if (!ok)
			fprintf(stderr, "\n  probe %s: got type %u iface %u (id %lu)\n", p[i].addr,
				nh->type, nh->iface, (unsigned long)id);
		CU_ASSERT_TRUE(ok);
	}
}

static void
test_lpm4(void)
{
	static const struct probe probes[] = {
		{ "203.0.113.5", SP_NH_GATEWAY, "10.1.0.1", IF_INSIDE },        /* default */
		{ "0.0.0.0", SP_NH_GATEWAY, "10.1.0.1", IF_INSIDE },
		{ "255.255.255.255", SP_NH_GATEWAY, "10.1.0.1", IF_INSIDE },
		{ "10.20.0.0", SP_NH_GATEWAY, "10.1.0.2", IF_INSIDE },          /* /16 */
		{ "10.20.1.1", SP_NH_GATEWAY, "10.1.0.2", IF_INSIDE },
		{ "10.20.255.255", SP_NH_GATEWAY, "10.1.0.2", IF_INSIDE },
		{ "10.21.0.0", SP_NH_GATEWAY, "10.1.0.1", IF_INSIDE },          /* just past it */
		{ "10.20.30.1", SP_NH_GATEWAY, "192.0.2.9", IF_MESH },          /* /24 in the /16 */
		{ "10.20.30.39", SP_NH_GATEWAY, "192.0.2.9", IF_MESH },
		{ "10.20.30.40", SP_NH_BLACKHOLE, NULL, 0 },                   /* /32 in the /24 */
		{ "10.20.30.41", SP_NH_GATEWAY, "192.0.2.9", IF_MESH },
		{ "10.20.30.64", SP_NH_GATEWAY, "10.1.0.9", IF_INSIDE },        /* /27 */
		{ "10.20.30.95", SP_NH_GATEWAY, "10.1.0.9", IF_INSIDE },
		{ "10.20.30.96", SP_NH_GATEWAY, "192.0.2.9", IF_MESH },
		{ "10.30.5.5", SP_NH_CONNECTED, NULL, IF_VLAN },                 /* dev route */
		{ "10.1.0.254", SP_NH_LOCAL, NULL, IF_INSIDE },
		{ "10.1.0.7", SP_NH_CONNECTED, NULL, IF_INSIDE },
		{ "10.100.0.1", SP_NH_LOCAL, NULL, IF_VLAN },
		{ "10.100.0.200", SP_NH_CONNECTED, NULL, IF_VLAN },
		{ "198.51.100.7", SP_NH_LOCAL, NULL, IF_MESH },
		{ "198.51.100.8", SP_NH_GATEWAY, "10.1.0.1", IF_INSIDE },
		{ "192.0.2.1", SP_NH_LOCAL, NULL, IF_MESH },
		{ "192.0.2.200", SP_NH_CONNECTED, NULL, IF_MESH },
	};
	static const struct probe after_default_del[] = {
		{ "203.0.113.5", SP_NH_UNREACHABLE, NULL, 0 },
		{ "0.0.0.0", SP_NH_UNREACHABLE, NULL, 0 },
		{ "10.21.0.0", SP_NH_UNREACHABLE, NULL, 0 },
		{ "10.20.1.1", SP_NH_GATEWAY, "10.1.0.2", IF_INSIDE },
		{ "10.20.30.40", SP_NH_BLACKHOLE, NULL, 0 },
	};
	struct sp_route r;
	struct sp_ip def = ip("0.0.0.0/0");

	reset_routes(MAX_ROUTES);
	r = gw_route("0.0.0.0/0", "10.1.0.1", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = gw_route("10.20.0.0/16", "10.1.0.2", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = gw_route("10.20.30.0/24", "192.0.2.9", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = bh_route("10.20.30.40/32");
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = gw_route("10.20.30.64/27", "10.1.0.9", IF_INSIDE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = dev_route("10.30.0.0/16", IF_VLAN);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	check_probes(probes, RTE_DIM(probes));

	CU_ASSERT_EQUAL(sp_route_del(&def), 0);
	check_probes(after_default_del, RTE_DIM(after_default_del));
}

static void
test_lpm6(void)
{
	static const struct probe probes[] = {
		{ "2001:db9::1", SP_NH_GATEWAY, "fd00:1::1", IF_INSIDE },        /* default */
		{ "::", SP_NH_GATEWAY, "fd00:1::1", IF_INSIDE },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SP_NH_GATEWAY, "fd00:1::1",
		  IF_INSIDE },
		{ "2001:db8::", SP_NH_GATEWAY, "fd00:1::2", IF_INSIDE },         /* /32 */
		{ "2001:db8:abcd::1", SP_NH_GATEWAY, "fd00:1::2", IF_INSIDE },
		{ "2001:db8:1::1", SP_NH_GATEWAY, "2001:db8:ffff::9", IF_MESH }, /* /48 */
		{ "2001:db8:1:2::5", SP_NH_BLACKHOLE, NULL, 0 },                  /* /128 */
		{ "2001:db8:1:2::4", SP_NH_GATEWAY, "2001:db8:ffff::9", IF_MESH },
		{ "2001:db8:1:2::6", SP_NH_GATEWAY, "2001:db8:ffff::9", IF_MESH },
		{ "2001:db8:1:3::", SP_NH_GATEWAY, "fd00:1::3", IF_INSIDE },     /* /64 */
		{ "2001:db8:1:3:ffff:ffff:ffff:ffff", SP_NH_GATEWAY, "fd00:1::3", IF_INSIDE },
		{ "2001:db8:5::1", SP_NH_GATEWAY, "fe80::1", IF_MESH },          /* link-local gw */
		{ "fd00:1::fe", SP_NH_LOCAL, NULL, IF_INSIDE },
		{ "fd00:1::77", SP_NH_CONNECTED, NULL, IF_INSIDE },
		{ "2001:db8:ffff::1", SP_NH_LOCAL, NULL, IF_MESH },
		{ "2001:db8:ffff::2", SP_NH_CONNECTED, NULL, IF_MESH },
		{ "2001:db8:ffff:1::2", SP_NH_GATEWAY, "fd00:1::2", IF_INSIDE },
	};
	static const struct probe after_del[] = {
		{ "2001:db9::1", SP_NH_GATEWAY, "fd00:1::1", IF_INSIDE },
		{ "2001:db8:1::1", SP_NH_GATEWAY, "fd00:1::2", IF_INSIDE },
		{ "2001:db8:1:2::5", SP_NH_BLACKHOLE, NULL, 0 },
		{ "2001:db8:1:3::", SP_NH_GATEWAY, "fd00:1::3", IF_INSIDE },
	};
	struct sp_route r;
	struct sp_ip p = ip("2001:db8:1::/48");

	reset_routes(MAX_ROUTES);
	r = gw_route("::/0", "fd00:1::1", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = gw_route("2001:db8::/32", "fd00:1::2", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = gw_route("2001:db8:1::/48", "2001:db8:ffff::9", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = bh_route("2001:db8:1:2::5/128");
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = gw_route("2001:db8:1:3::/64", "fd00:1::3", IF_INSIDE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = gw_route("2001:db8:5::/48", "fe80::1", IF_MESH);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	check_probes(probes, RTE_DIM(probes));

	/* The /48 goes; its more-specifics stay and the /32 covers the rest again. */
	CU_ASSERT_EQUAL(sp_route_del(&p), 0);
	check_probes(after_del, RTE_DIM(after_del));
}

/* Identical next hops share one id; different gateways do not. */
static void
test_nh_sharing(void)
{
	const struct sp_rtab *t;
	struct sp_route r;
	uint32_t a[4];
	uint64_t id[4];
	const char *addrs[4] = { "10.40.0.1", "10.41.0.1", "10.42.0.1", "10.43.0.1" };
	unsigned int i;

	reset_routes(MAX_ROUTES);
	r = gw_route("10.40.0.0/16", "10.1.0.1", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = gw_route("10.41.0.0/16", "10.1.0.1", IF_INSIDE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = gw_route("10.42.0.0/16", "10.1.0.2", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	r = bh_route("10.43.0.0/16");
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	t = sp_route_table();
	for (i = 0; i < 4; i++) {
		struct sp_ip x = ip(addrs[i]);

		a[i] = rte_be_to_cpu_32(x.v4);
	}
	sp_rtab_lookup4(t, a, id, 4);
	CU_ASSERT_EQUAL(id[0], id[1]);
	CU_ASSERT_NOT_EQUAL(id[0], id[2]);
	CU_ASSERT_NOT_EQUAL(id[2], id[3]);
	CU_ASSERT_NOT_EQUAL(id[0], 0);
	/* Out-of-range ids read as UNREACHABLE rather than past the array. */
	CU_ASSERT_EQUAL(sp_rtab_nh(t, 1u << 20)->type, SP_NH_UNREACHABLE);
	CU_ASSERT_EQUAL(sp_rtab_nh(t, 0)->type, SP_NH_UNREACHABLE);
}

/* ---- errors ---- */

static void
test_add_errors(void)
{
	struct {
		const char *what;
		struct sp_route r;
		int err;
	} cases[] = {
		{ "host bits set", gw_route("10.20.0.1/16", "10.1.0.1", SP_IFACE_NONE), -EINVAL },
		{ "v6 host bits", bh_route("2001:db8::1/32"), -EINVAL },
		{ "gateway family", gw_route("10.9.0.0/16", "fd00:1::1", SP_IFACE_NONE), -EINVAL },
		{ "gateway off-link", gw_route("10.9.0.0/16", "10.3.0.1", SP_IFACE_NONE),
		  -ENETUNREACH },
		{ "gateway on another iface", gw_route("10.9.0.0/16", "10.1.0.1", IF_MESH),
		  -ENETUNREACH },
		{ "gateway behind a /32 address", gw_route("10.9.0.0/16", "198.51.100.8",
							   SP_IFACE_NONE), -ENETUNREACH },
		{ "v6 gateway off-link", gw_route("2001:db8::/32", "fd00:2::1", SP_IFACE_NONE),
		  -ENETUNREACH },
		{ "link-local gateway without dev", gw_route("2001:db8::/32", "fe80::1",
							     SP_IFACE_NONE), -ENETUNREACH },
		{ "gateway is our address", gw_route("10.9.0.0/16", "10.1.0.254", SP_IFACE_NONE),
		  -EINVAL },
		{ "gateway with bad iface", gw_route("10.9.0.0/16", "10.1.0.1", 9), -EINVAL },
		{ "dev with bad iface", dev_route("10.9.0.0/16", 9), -EINVAL },
		{ "dev with no iface", dev_route("10.9.0.0/16", SP_IFACE_NONE), -EINVAL },
		{ "same prefix as connected", bh_route("10.1.0.0/24"), -EEXIST },
		{ "same prefix as local", bh_route("10.1.0.254/32"), -EEXIST },
		{ "same prefix as a route", gw_route("10.20.0.0/16", "10.1.0.3", SP_IFACE_NONE),
		  -EEXIST },
	};
	struct sp_route r;
	unsigned int i;
	uint64_t gen;

	reset_routes(MAX_ROUTES);
	r = gw_route("10.20.0.0/16", "10.1.0.2", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	gen = sp_route_generation();
	for (i = 0; i < RTE_DIM(cases); i++) {
		int ret = sp_route_add(&cases[i].r);

		if (ret != cases[i].err)
			fprintf(stderr, "\n  %s: got %d, want %d\n", cases[i].what, ret,
				cases[i].err);
		CU_ASSERT_EQUAL(ret, cases[i].err);
	}
	/* Malformed routes. */
	r = bh_route("10.9.0.0/16");
	r.prefix.plen = 33;
	CU_ASSERT_EQUAL(sp_route_add(&r), -EINVAL);
	r = bh_route("10.9.0.0/16");
	r.prefix.family = 0;
	CU_ASSERT_EQUAL(sp_route_add(&r), -EINVAL);
	r = bh_route("10.9.0.0/16");
	r.type = SP_NH_LOCAL;
	CU_ASSERT_EQUAL(sp_route_add(&r), -EINVAL);
	r.type = SP_NH_UNREACHABLE;
	CU_ASSERT_EQUAL(sp_route_add(&r), -EINVAL);
	r.type = 42;
	CU_ASSERT_EQUAL(sp_route_add(&r), -EINVAL);
	r = dev_route("10.9.0.0/16", IF_INSIDE);
	r.origin = SP_RO_CONNECTED;
	CU_ASSERT_EQUAL(sp_route_add(&r), -EINVAL);
	CU_ASSERT_EQUAL(sp_route_add(NULL), -EINVAL);
	CU_ASSERT_EQUAL(sp_route_generation(), gen);
	CU_ASSERT_EQUAL(sp_route_list(NULL, 0), 11 + 1);

	/* The gateway's interface is resolved and stored. */
	r = gw_route("10.9.0.0/16", "192.0.2.50", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	CU_ASSERT_EQUAL(lookup("10.9.1.1")->iface, IF_MESH);
}

static void
test_del_errors(void)
{
	static const struct {
		const char *prefix;
		int err;
	} cases[] = {
		{ "10.77.0.0/16", -ENOENT },
		{ "10.20.0.0/17", -ENOENT },   /* a different length is a different route */
		{ "10.20.0.0/15", -ENOENT },
		{ "10.1.0.0/24", -EPERM },     /* connected */
		{ "10.1.0.254/32", -EPERM },   /* local */
		{ "fd00:1::fe/128", -EPERM },
		{ "10.20.0.1/16", -EINVAL },   /* host bits */
	};
	struct sp_route r;
	struct sp_ip p;
	unsigned int i;
	uint64_t gen;

	reset_routes(MAX_ROUTES);
	r = gw_route("10.20.0.0/16", "10.1.0.2", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	gen = sp_route_generation();
	for (i = 0; i < RTE_DIM(cases); i++) {
		p = ip(cases[i].prefix);
		CU_ASSERT_EQUAL(sp_route_del(&p), cases[i].err);
	}
	CU_ASSERT_EQUAL(sp_route_del(NULL), -EINVAL);
	CU_ASSERT_EQUAL(sp_route_generation(), gen);
	p = ip("10.20.0.0/16");
	CU_ASSERT_EQUAL(sp_route_del(&p), 0);
	CU_ASSERT_EQUAL(sp_route_del(&p), -ENOENT);
	CU_ASSERT_EQUAL(sp_route_generation(), gen + 1);
}

static void
test_capacity(void)
{
	struct sp_route r, cfg[3];
	struct sp_ip p;
	unsigned int bad = 99;
	char s[32];
	int i;

	reset_routes(4);
	for (i = 0; i < 4; i++) {
		snprintf(s, sizeof(s), "10.%d.0.0/16", 50 + i);
		r = bh_route(s);
		CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	}
	r = bh_route("10.60.0.0/16");
	CU_ASSERT_EQUAL(sp_route_add(&r), -ENOSPC);
	/* Interface routes do not count against max_routes; config and console ones do. */
	cfg[0] = bh_route("10.61.0.0/16");
	CU_ASSERT_EQUAL(sp_route_replace(SP_RO_CONFIG, cfg, 1, &bad), -ENOSPC);
	CU_ASSERT_EQUAL(bad, 0);
	p = ip("10.50.0.0/16");
	CU_ASSERT_EQUAL(sp_route_del(&p), 0);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	CU_ASSERT_EQUAL(sp_route_list(NULL, 0), 11 + 4);

	sp_route_fini();
	CU_ASSERT_EQUAL(sp_route_init(0), -EINVAL);
	CU_ASSERT_EQUAL(sp_route_add(&r), -EINVAL); /* not running */
	CU_ASSERT_PTR_NULL(sp_route_table());
	reset_routes(MAX_ROUTES);
}

/* Every allocation of a build failing in turn: nothing changes, nothing leaks. */
static void
test_alloc_failure(void)
{
	struct sp_route before[32], after[32], r;
	struct sp_ip p = ip("10.20.0.0/16");
	unsigned int n, nth, bad;
	const struct sp_rtab *t;
	uint64_t gen;

	reset_routes(MAX_ROUTES);
	r = gw_route("10.20.0.0/16", "10.1.0.2", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	sp_rcu_reclaim();
	n = sp_route_list(before, RTE_DIM(before));
	gen = sp_route_generation();
	t = sp_route_table();
	for (nth = 1; nth <= 3; nth++) {
		r = gw_route("10.30.0.0/16", "10.1.0.3", SP_IFACE_NONE);
		sp_route_test_fail_alloc(nth);
		CU_ASSERT_EQUAL(sp_route_add(&r), -ENOMEM);
		sp_route_test_fail_alloc(nth);
		CU_ASSERT_EQUAL(sp_route_del(&p), -ENOMEM);
		sp_route_test_fail_alloc(nth);
		CU_ASSERT_EQUAL(sp_route_replace(SP_RO_CONSOLE, &r, 1, &bad), -ENOMEM);
		CU_ASSERT_EQUAL(bad, 1); /* no route at fault */
		CU_ASSERT_EQUAL(sp_route_generation(), gen);
		CU_ASSERT_PTR_EQUAL(sp_route_table(), t);
		CU_ASSERT_EQUAL(sp_route_test_live_versions(), 1);
		CU_ASSERT_EQUAL(sp_route_list(after, RTE_DIM(after)), n);
		CU_ASSERT_EQUAL(memcmp(before, after, n * sizeof(before[0])), 0);
		CU_ASSERT_EQUAL(lookup("10.20.1.1")->type, SP_NH_GATEWAY);
		CU_ASSERT_EQUAL(lookup("10.30.1.1")->type, SP_NH_UNREACHABLE);
	}
	sp_route_test_fail_alloc(0);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	CU_ASSERT_EQUAL(lookup("10.30.1.1")->type, SP_NH_GATEWAY);
}

/* ---- replace ---- */

static void
test_replace(void)
{
	struct sp_route cfg[4], before[32], after[32], con;
	struct sp_conf_route cr;
	unsigned int bad, n;
	uint64_t gen;

	reset_routes(MAX_ROUTES);
	con = gw_route("10.70.0.0/16", "10.1.0.7", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&con), 0);
	cfg[0] = gw_route("10.60.0.0/16", "10.1.0.6", SP_IFACE_NONE);
	cfg[1] = bh_route("10.61.0.0/16");
	cfg[2] = dev_route("10.62.0.0/16", IF_MESH);
	gen = sp_route_generation();
	CU_ASSERT_EQUAL(sp_route_replace(SP_RO_CONFIG, cfg, 3, &bad), 0);
	CU_ASSERT_EQUAL(sp_route_generation(), gen + 1);
	CU_ASSERT_EQUAL(lookup("10.60.1.1")->type, SP_NH_GATEWAY);
	CU_ASSERT_EQUAL(lookup("10.62.1.1")->iface, IF_MESH);
	n = sp_route_list(before, RTE_DIM(before));
	CU_ASSERT_EQUAL(n, 11 + 4);

	/* A bad route anywhere leaves the old set intact and names its index. */
	{
		static const struct {
			unsigned int idx;
			int err;
		} bad_cases[] = {
			{ 2, -ENETUNREACH },  /* gateway off-link */
			{ 1, -EEXIST },       /* duplicate inside the new set */
			{ 0, -EEXIST },       /* collides with a console route */
			{ 3, -EINVAL },       /* host bits */
		};
		unsigned int i;

		for (i = 0; i < RTE_DIM(bad_cases); i++) {
			cfg[0] = gw_route("10.63.0.0/16", "10.1.0.6", SP_IFACE_NONE);
			cfg[1] = bh_route("10.64.0.0/16");
			cfg[2] = bh_route("10.65.0.0/16");
			cfg[3] = bh_route("10.66.0.0/16");
			switch (i) {
			case 0: cfg[2] = gw_route("10.65.0.0/16", "10.3.0.1", SP_IFACE_NONE); break;
			case 1: cfg[1] = cfg[0]; break;
			case 2: cfg[0] = bh_route("10.70.0.0/16"); break;
			case 3: cfg[3].prefix = ip("10.66.0.1/16"); break;
			}
			bad = 99;
			CU_ASSERT_EQUAL(sp_route_replace(SP_RO_CONFIG, cfg, 4, &bad),
					bad_cases[i].err);
			CU_ASSERT_EQUAL(bad, bad_cases[i].idx);
			CU_ASSERT_EQUAL(sp_route_generation(), gen + 1);
			CU_ASSERT_EQUAL(sp_route_list(after, RTE_DIM(after)), n);
			CU_ASSERT_EQUAL(memcmp(before, after, n * sizeof(before[0])), 0);
			CU_ASSERT_EQUAL(lookup("10.63.1.1")->type, SP_NH_UNREACHABLE);
			CU_ASSERT_EQUAL(lookup("10.60.1.1")->type, SP_NH_GATEWAY);
		}
	}
	CU_ASSERT_EQUAL(sp_route_replace(SP_RO_LOCAL, cfg, 1, &bad), -EINVAL);
	CU_ASSERT_EQUAL(bad, 1);
	CU_ASSERT_EQUAL(sp_route_replace(SP_RO_CONNECTED, NULL, 0, &bad), -EINVAL);

	/* The origin is the replace's: routes given as CONSOLE become CONFIG. */
	cfg[0] = bh_route("10.68.0.0/16");
	CU_ASSERT_EQUAL(sp_route_replace(SP_RO_CONFIG, cfg, 1, NULL), 0);
	n = sp_route_list(after, RTE_DIM(after));
	CU_ASSERT_EQUAL(n, 11 + 2);
	CU_ASSERT_EQUAL(lookup("10.60.1.1")->type, SP_NH_UNREACHABLE);
	CU_ASSERT_EQUAL(lookup("10.68.1.1")->type, SP_NH_BLACKHOLE);
	CU_ASSERT_EQUAL(lookup("10.70.1.1")->type, SP_NH_GATEWAY); /* console route kept */

	/* An empty set removes every config route, only those. */
	CU_ASSERT_EQUAL(sp_route_replace(SP_RO_CONFIG, NULL, 0, &bad), 0);
	CU_ASSERT_EQUAL(sp_route_list(NULL, 0), 11 + 1);
	CU_ASSERT_EQUAL(sp_route_generation(), gen + 3);

	/* From the config structs. */
	memset(&cr, 0, sizeof(cr));
	cr.prefix = ip("10.80.0.0/16");
	cr.kind = SP_ROUTE_VIA;
	cr.via = ip("10.100.0.9");
	CU_ASSERT_EQUAL(sp_route_from_conf(&cr, &cfg[0]), 0);
	CU_ASSERT_EQUAL(cfg[0].type, SP_NH_GATEWAY);
	CU_ASSERT_EQUAL(cfg[0].origin, SP_RO_CONFIG);
	CU_ASSERT_EQUAL(cfg[0].iface, SP_IFACE_NONE);
	strcpy(cr.iface, "inside.100");
	CU_ASSERT_EQUAL(sp_route_from_conf(&cr, &cfg[0]), 0);
	CU_ASSERT_EQUAL(cfg[0].iface, IF_VLAN);
	cr.prefix = ip("10.81.0.0/16");
	cr.kind = SP_ROUTE_DEV;
	strcpy(cr.iface, "mesh");
	CU_ASSERT_EQUAL(sp_route_from_conf(&cr, &cfg[1]), 0);
	CU_ASSERT_EQUAL(cfg[1].type, SP_NH_CONNECTED);
	CU_ASSERT_EQUAL(cfg[1].iface, IF_MESH);
	cr.prefix = ip("10.82.0.0/16");
	cr.kind = SP_ROUTE_BLACKHOLE;
	cr.iface[0] = '\0';
	CU_ASSERT_EQUAL(sp_route_from_conf(&cr, &cfg[2]), 0);
	CU_ASSERT_EQUAL(cfg[2].type, SP_NH_BLACKHOLE);
	CU_ASSERT_EQUAL(sp_route_replace(SP_RO_CONFIG, cfg, 3, &bad), 0);
	CU_ASSERT_EQUAL(lookup("10.80.1.1")->iface, IF_VLAN);
	CU_ASSERT_EQUAL(lookup("10.81.1.1")->type, SP_NH_CONNECTED);
	strcpy(cr.iface, "nosuch");
	CU_ASSERT_EQUAL(sp_route_from_conf(&cr, &cfg[3]), -ENOENT);
	cr.kind = SP_ROUTE_DEV;
	cr.iface[0] = '\0';
	CU_ASSERT_EQUAL(sp_route_from_conf(&cr, &cfg[3]), -ENOENT);
}

/* ---- versions and RCU ---- */

static uint64_t
heap_bytes(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t sum = 0;
	unsigned int s;

	for (s = 0; s < rte_socket_count(); s++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0)
			sum += st.heap_allocsz_bytes;
	return sum;
}

static void
test_versions_rcu(void)
{
	struct rte_rcu_qsbr *v = sp_rcu_qsbr();
	struct sp_route r = bh_route("10.90.0.0/16");
	const struct sp_rtab *t0, *t1;
	uint64_t gen, mem_before;

	reset_routes(MAX_ROUTES);
	sp_rcu_reclaim();
	CU_ASSERT_EQUAL(sp_route_test_live_versions(), 1);
	gen = sp_route_generation();
	t0 = sp_route_table();

	/* A reader that has not passed a quiescent state keeps the old version alive. */
	CU_ASSERT_EQUAL_FATAL(sp_rcu_online(1), 0);
	CU_ASSERT_EQUAL(sp_route_add(&r), 0);
	t1 = sp_route_table();
	CU_ASSERT_PTR_NOT_EQUAL(t0, t1);
	CU_ASSERT_EQUAL(sp_route_generation(), gen + 1);
	CU_ASSERT_EQUAL(sp_route_test_live_versions(), 2);
	CU_ASSERT_EQUAL(sp_rcu_reclaim(), 0);
	CU_ASSERT_EQUAL(sp_route_test_live_versions(), 2);

	/* Once it has, reclaim frees the old version: its two 32 MiB tbl24 arrays included. */
	mem_before = heap_bytes();
	sp_rcu_quiescent(v, 1);
	CU_ASSERT_EQUAL(sp_rcu_reclaim(), 1);
	CU_ASSERT_EQUAL(sp_route_test_live_versions(), 1);
	CU_ASSERT_TRUE(mem_before - heap_bytes() >= 64u << 20);
	sp_rcu_offline(1);

	/* Failed changes publish nothing. */
	CU_ASSERT_EQUAL(sp_route_add(&r), -EEXIST);
	CU_ASSERT_EQUAL(sp_route_generation(), gen + 1);
	CU_ASSERT_PTR_EQUAL(sp_route_table(), t1);
	CU_ASSERT_EQUAL(sp_rcu_pending(), 0);

	/* fini retires the last version through RCU too. */
	sp_route_fini();
	CU_ASSERT_PTR_NULL(sp_route_table());
	CU_ASSERT_EQUAL(sp_route_generation(), 0);
	sp_rcu_reclaim();
	CU_ASSERT_EQUAL(sp_route_test_live_versions(), 0);
	reset_routes(MAX_ROUTES);
}

/* ---- a reader racing the writer ---- */

struct race {
	volatile bool stop;
	volatile bool ready;
	uint64_t lookups;
	uint64_t bad;
	uint64_t saw_specific;
	uint64_t saw_general;
	uint32_t v4[4];
	uint8_t v6[2][16];
	struct sp_ip gw_general4, gw_specific4, gw_general6, gw_specific6;
};

static bool
is_gw(const struct sp_nexthop *nh, const struct sp_ip *gw, uint16_t iface)
{
	return nh->type == SP_NH_GATEWAY && nh->iface == iface && sp_ip_equal(&nh->gw, gw);
}

static void *
reader(void *arg)
{
	struct race *rc = arg;
	struct rte_rcu_qsbr *v = sp_rcu_qsbr();
	uint64_t nh4[4], nh6[2];

	if (sp_rcu_online(0) != 0) {
		rc->bad++;
		rc->ready = true;
		return NULL;
	}
	rc->ready = true;
	while (!rc->stop) {
		const struct sp_rtab *t = sp_route_table();
		const struct sp_nexthop *a, *b, *c, *d, *e, *f;

		sp_rtab_lookup4(t, rc->v4, nh4, 4);
		sp_rtab_lookup6(t, (const uint8_t (*)[16])rc->v6, nh6, 2);
		a = sp_rtab_nh(t, nh4[0]);
		b = sp_rtab_nh(t, nh4[1]);
		c = sp_rtab_nh(t, nh4[2]);
		d = sp_rtab_nh(t, nh4[3]);
		e = sp_rtab_nh(t, nh6[0]);
		f = sp_rtab_nh(t, nh6[1]);
		/* 10.20.1.5: the /16 or the toggled /24, never anything else. */
		if (is_gw(a, &rc->gw_specific4, IF_MESH))
			rc->saw_specific++;
		else if (is_gw(a, &rc->gw_general4, IF_INSIDE))
			rc->saw_general++;
		else
			rc->bad++;
		/* 10.20.2.5 and 10.1.0.7 never change; 203.0.113.1 has no route. */
		if (!is_gw(b, &rc->gw_general4, IF_INSIDE) || c->type != SP_NH_CONNECTED ||
		    c->iface != IF_INSIDE || nh4[3] != 0 || d->type != SP_NH_UNREACHABLE)
			rc->bad++;
		/* 2001:db8:1::5 follows the toggled /48; 2001:db8:2::5 stays on the /32. */
		if (!is_gw(e, &rc->gw_specific6, IF_MESH) && !is_gw(e, &rc->gw_general6, IF_INSIDE))
			rc->bad++;
		if (!is_gw(f, &rc->gw_general6, IF_INSIDE))
			rc->bad++;
		rc->lookups++;
		sp_rcu_quiescent(v, 0);
		/* Leave the writer some time when the two cores are shared with other jobs. */
		if ((rc->lookups & 255) == 0)
			sched_yield();
		else
			rte_pause();
	}
	sp_rcu_offline(0);
	return NULL;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_concurrent_reader(void)
{
	static struct race rc;
	struct sp_route r4 = gw_route("10.20.1.0/24", "192.0.2.9", SP_IFACE_NONE);
	struct sp_route r6 = gw_route("2001:db8:1::/48", "2001:db8:ffff::9", SP_IFACE_NONE);
	struct sp_route base;
	const char *p4[4] = { "10.20.1.5", "10.20.2.5", "10.1.0.7", "203.0.113.1" };
	const char *p6[2] = { "2001:db8:1::5", "2001:db8:2::5" };
	unsigned int i, changes = 0, failures = 0;
	pthread_t th;
	uint64_t gen;
	double t0;

	reset_routes(MAX_ROUTES);
	base = gw_route("10.20.0.0/16", "10.1.0.1", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&base), 0);
	base = gw_route("2001:db8::/32", "fd00:1::1", SP_IFACE_NONE);
	CU_ASSERT_EQUAL(sp_route_add(&base), 0);
	memset(&rc, 0, sizeof(rc));
	for (i = 0; i < 4; i++) {
		struct sp_ip a = ip(p4[i]);

		rc.v4[i] = rte_be_to_cpu_32(a.v4);
	}
	for (i = 0; i < 2; i++) {
		struct sp_ip a = ip(p6[i]);

		memcpy(rc.v6[i], a.v6, 16);
	}
	rc.gw_general4 = ip("10.1.0.1");
	rc.gw_specific4 = ip("192.0.2.9");
	rc.gw_general6 = ip("fd00:1::1");
	rc.gw_specific6 = ip("2001:db8:ffff::9");
	gen = sp_route_generation();

	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, reader, &rc), 0);
	while (!rc.ready)
		rte_pause();
	/* Hundreds of versions, bounded in time: each build fills two 32 MiB tables. */
	t0 = mono_s();
	for (i = 0; i < 100 && mono_s() - t0 < 2.5; i++) {
		bool add = (i % 2) == 0;

		if (add)
			failures += sp_route_add(&r4) != 0;
		else
			failures += sp_route_del(&r4.prefix) != 0;
		if (add)
			failures += sp_route_add(&r6) != 0;
		else
			failures += sp_route_del(&r6.prefix) != 0;
		changes += 2;
		sp_rcu_reclaim();
	}
	rc.stop = true;
	pthread_join(th, NULL);
	sp_rcu_reclaim();

	printf("\n    %u changes, %lu lookups, %lu/%lu specific/general\n", changes,
	       (unsigned long)rc.lookups, (unsigned long)rc.saw_specific,
	       (unsigned long)rc.saw_general);
	CU_ASSERT_EQUAL(failures, 0);
	CU_ASSERT_EQUAL(rc.bad, 0);
	/* ~200 on an idle machine; fewer under a sanitizer or when other jobs share the cores. */
	CU_ASSERT_TRUE(changes >= 20);
	CU_ASSERT_TRUE(rc.lookups > 0);
	CU_ASSERT_TRUE(rc.saw_specific > 0);
	CU_ASSERT_TRUE(rc.saw_general > 0);
	CU_ASSERT_EQUAL(sp_route_generation(), gen + changes);
	CU_ASSERT_EQUAL(sp_route_test_live_versions(), 1);
	CU_ASSERT_EQUAL(sp_rcu_pending(), 0);
}

static int
suite_init(void)
{
	if (sp_test_eal_init() != 0)
		return -1;
	return sp_rcu_init(2) == 0 ? 0 : -1;
}

static int
suite_fini(void)
{
	sp_route_fini();
	sp_iface_clear();
	sp_rcu_fini();
	return 0;
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("route", suite_init, suite_fini);
	CU_add_test(s, "interface table checks", test_iface_checks);
	CU_add_test(s, "interface receive map and names", test_iface_lookup);
	CU_add_test(s, "local and connected routes", test_iface_routes);
	CU_add_test(s, "IPv4 longest-prefix match", test_lpm4);
	CU_add_test(s, "IPv6 longest-prefix match", test_lpm6);
	CU_add_test(s, "identical next hops shared", test_nh_sharing);
	CU_add_test(s, "add errors", test_add_errors);
	CU_add_test(s, "del errors", test_del_errors);
	CU_add_test(s, "max_routes", test_capacity);
	CU_add_test(s, "allocation failures change nothing", test_alloc_failure);
	CU_add_test(s, "replace is all-or-nothing", test_replace);
	CU_add_test(s, "versions freed after RCU", test_versions_rcu);
	CU_add_test(s, "reader during hundreds of changes", test_concurrent_reader);
	return sp_test_run();
}
