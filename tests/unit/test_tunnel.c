/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tunnel on its own: peers from a configuration loaded with sp_conf_load_string, their
 * prefixes as TUNNEL routes, our outer address and path MTU per peer, start-up errors with
 * their exact messages (and nothing left behind), manual SAs as epoch 1, the epochs of a keyed
 * peer (add, activate, retire, flush, every refusal), which SA each worker sends on and owns,
 * SPI allocation against a scripted random source, rekey and expiry flags driven by real
 * traffic, and the DPDK heap back to where it started.
 *
 * Interfaces (as in test_route.c):
 *   0 inside       port 0 untagged   10.1.0.254/24  fd00:1::fe/64
 *   1 inside.100   port 0 vlan 100   10.100.0.1/24  (no IPv6)
 *   2 mesh         port 1 untagged   192.0.2.1/24  2001:db8:ffff::1/64  198.51.100.7/32, MTU 1400
 *   3 exception    port 2 untagged   (no address)
 * Peers:
 *   0 man   192.0.2.9, local 198.51.100.7, 10.9.0.0/16 fd09::/48, two manual SA pairs, no ESN
 *   1 key   2001:db8:ffff::9, 10.8.0.0/16 fd08::/48, path_mtu 1380, UDP encapsulation
 *   2 far   203.0.113.5 via 192.0.2.254, 10.7.0.0/16, path_mtu 9000
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "sp_conf.h"
#include "sp_crypto.h"
#include "sp_esp.h"
#include "sp_rcu.h"
#include "sp_route.h"
#include "sp_tunnel.h"
#include "test_common.h"

#define N_WORKERS 3
#define MAX_ROUTES 64

enum { IF_INSIDE, IF_VLAN, IF_MESH, IF_EXC };
enum { P_MAN, P_KEY, P_FAR };

static struct sp_crypto_engine *engine;
static struct sp_crypto_ctx *cctx[N_WORKERS];
static struct rte_mempool *pool;
static struct sp_conf *conf;
static struct rte_malloc_socket_stats heap0;

/* ---------- a scripted getrandom() ----------
 * lib/tunnel draws SPIs from getrandom(); defining it here takes the call (the libraries are
 * linked into this executable), so a test can hand out chosen values. Everyone else gets the
 * kernel's randomness. */

static const uint32_t *script;
static unsigned int script_len, script_pos;
static bool script_loop;

ssize_t
getrandom(void *buf, size_t len, unsigned int flags)
{
	if (script != NULL && len == sizeof(uint32_t)) {
		if (script_pos == script_len) {
			if (!script_loop)
				return (ssize_t)syscall(SYS_getrandom, buf, len, flags);
			script_pos = 0;
		}
		memcpy(buf, &script[script_pos++], sizeof(uint32_t));
		return (ssize_t)len;
	}
	return (ssize_t)syscall(SYS_getrandom, buf, len, flags);
}

static void
script_set(const uint32_t *v, unsigned int n, bool loop)
{
	script = v;
	script_len = n;
	script_pos = 0;
	script_loop = loop;
}

/* ---------- set-up ---------- */

static struct sp_ip
addr(const char *s)
{
	struct sp_ip a;

	if (sp_ip_parse(s, &a, true) != 0)
		CU_FAIL_FATAL("bad address in test");
	return a;
}

static bool
ip_is(const struct sp_ip *a, const char *s)
{
	struct sp_ip b = addr(s);

	return a != NULL && sp_ip_equal(a, &b) && a->plen == b.plen;
}

static int
ifaces_set(void)
{
	struct sp_iface f[4];

	memset(f, 0, sizeof(f));
	f[0] = (struct sp_iface){ .id = 0, .port_id = 0, .mtu = 1500, .name = "inside",
				  .n_addrs = 2 };
	f[0].addrs[0] = addr("10.1.0.254/24");
	f[0].addrs[1] = addr("fd00:1::fe/64");
	f[1] = (struct sp_iface){ .id = 1, .port_id = 0, .vlan = 100, .mtu = 1500,
				  .name = "inside.100", .n_addrs = 1 };
	f[1].addrs[0] = addr("10.100.0.1/24");
	f[2] = (struct sp_iface){ .id = 2, .port_id = 1, .mtu = 1400, .name = "mesh",
				  .n_addrs = 3 };
	f[2].addrs[0] = addr("192.0.2.1/24");
	f[2].addrs[1] = addr("2001:db8:ffff::1/64");
	f[2].addrs[2] = addr("198.51.100.7/32");
	f[3] = (struct sp_iface){ .id = 3, .port_id = 2, .mtu = 1500, .name = "exception",
				  .exception = true };
	return sp_iface_set(f, 4);
}

#define KEY_MAN0_IN "000102030405060708090a0b0c0d0e0f10111213"
#define KEY_MAN0_OUT "202122232425262728292a2b2c2d2e2f30313233"
#define KEY_MAN1_IN "404142434445464748494a4b4c4d4e4f50515253"
#define KEY_MAN1_OUT "606162636465666768696a6b6c6d6e6f70717273"

static const char conf_head[] =
	"eal = { lcores = \"0-3\"; };\n"
	"workers = { lcores = [ 1, 2, 3 ]; };\n"
	"ports = (\n"
	"  { name = \"inside\"; device = \"net_null0\";\n"
	"    addresses = [ \"10.1.0.254/24\", \"fd00:1::fe/64\" ];\n"
	"    vlans = ( { id = 100; addresses = [ \"10.100.0.1/24\" ]; } ); },\n"
	"  { name = \"mesh\"; device = \"net_null1\"; mtu = 1400;\n"
	"    addresses = [ \"192.0.2.1/24\", \"2001:db8:ffff::1/64\", \"198.51.100.7/32\" ]; }\n"
	");\n"
	"exception = { enabled = true; };\n"
	"pki = { cert = \"/etc/sallyport/g1.crt\"; key = \"/etc/sallyport/g1.key\";\n"
	"        bundle = \"/etc/sallyport/bundle.pem\";\n"
	"        identity = \"spiffe://example.org/gateway/g1\"; };\n";

static const char peers_std[] =
	"{ name = \"man\"; address = \"192.0.2.9\"; local = \"198.51.100.7\"; esn = false;\n"
	"  prefixes = [ \"10.9.0.0/16\", \"fd09::/48\" ];\n"
	"  manual = ( { spi_in = 0x1001; spi_out = 0x2001; key_in = \"" KEY_MAN0_IN "\";\n"
	"               key_out = \"" KEY_MAN0_OUT "\"; },\n"
	"             { spi_in = 0x1002; spi_out = 0x2002; key_in = \"" KEY_MAN1_IN "\";\n"
	"               key_out = \"" KEY_MAN1_OUT "\"; } ); },\n"
	"{ name = \"key\"; address = \"2001:db8:ffff::9\"; udp_encap = true; path_mtu = 1380;\n"
	"  identity = \"spiffe://example.org/gateway/g2\";\n"
	"  prefixes = [ \"10.8.0.0/16\", \"fd08::/48\" ]; },\n"
	"{ name = \"far\"; address = \"203.0.113.5\"; path_mtu = 9000;\n"
	"  identity = \"spiffe://example.org/gateway/g3\"; prefixes = [ \"10.7.0.0/16\" ]; }\n";

static const char opts_std[] =
	"replay_window = 2048;\n"
	"lifetime = { soft_packets = 3; hard_packets = 5; };\n";

/* Load head + tunnels { opts peers = ( peers ); } into conf. */
static int
conf_make(const char *opts, const char *peers)
{
	struct sp_conf_err err;
	size_t n = strlen(conf_head) + strlen(opts) + strlen(peers) + 64;
	char *text = malloc(n);
	int rc;

	if (text == NULL)
		return -ENOMEM;
	snprintf(text, n, "%stunnels = {\n%speers = (\n%s);\n};\n", conf_head, opts, peers);
	memset(conf, 0, sizeof(*conf));
	rc = sp_conf_load_string(text, "tunnel-test", conf, &err);
	if (rc != 0)
		printf("\n  configuration refused: line %d: %s", err.line, err.msg);
	free(text);
	return rc;
}

static int
tun_init(unsigned int n_workers, char *err, size_t errlen)
{
	struct sp_tun_params p = { .conf = conf, .engine = engine, .n_workers = n_workers };

	return sp_tun_init(&p, err, errlen);
}

static struct sp_route
route_gw(const char *prefix, const char *gw)
{
	struct sp_route r = { .type = SP_NH_GATEWAY, .origin = SP_RO_CONSOLE, .iface = IF_MESH };

	r.prefix = addr(prefix);
	r.gw = addr(gw);
	return r;
}

/* TUNNEL routes in the table, copied to out (up to max). @return how many there are. */
static unsigned int
tunnel_routes(struct sp_route *out, unsigned int max)
{
	static struct sp_route all[256];
	unsigned int n = sp_route_list(all, RTE_DIM(all)), i, k = 0;

	for (i = 0; i < n && i < RTE_DIM(all); i++) {
		if (all[i].origin != SP_RO_TUNNEL && all[i].type != SP_NH_TUNNEL)
			continue;
		if (k < max)
			out[k] = all[i];
		k++;
	}
	return k;
}

static void
heap_stats(struct rte_malloc_socket_stats *s)
{
	memset(s, 0, sizeof(*s));
	rte_malloc_get_socket_stats(rte_socket_id(), s);
}

static const struct {
	const char *name, *args;
} engines[] = { { "ipsec_mb", "" }, { "openssl", "" } };

static int
suite_init(void)
{
	char err[256];
	unsigned int i;

	if (sp_test_eal_init() != 0 || sp_rcu_init(N_WORKERS) != 0 || ifaces_set() != 0 ||
	    sp_route_init(MAX_ROUTES) != 0)
		return -1;
	for (i = 0; i < RTE_DIM(engines) && engine == NULL; i++) {
		engine = sp_crypto_engine_open(engines[i].name, engines[i].args, N_WORKERS + 1,
					       err, sizeof(err));
		if (engine == NULL)
			printf("\n  engine %s: %s", engines[i].name, err);
	}
	if (engine == NULL)
		return -1;
	printf("\n  engine %s", sp_crypto_engine_name(engine));
	for (i = 0; i < N_WORKERS; i++) {
		cctx[i] = sp_crypto_ctx_create(engine, i);
		if (cctx[i] == NULL)
			return -1;
	}
	pool = rte_pktmbuf_pool_create("tun_test", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	conf = calloc(1, sizeof(*conf));
	if (pool == NULL || conf == NULL)
		return -1;
	return 0;
}

static int
suite_fini(void)
{
	unsigned int i;

	sp_tun_fini();
	sp_route_fini();
	sp_iface_clear();
	sp_rcu_fini();
	for (i = 0; i < N_WORKERS; i++)
		if (cctx[i] != NULL)
			sp_crypto_ctx_destroy(engine, cctx[i]);
	if (engine != NULL)
		sp_crypto_engine_close(engine);
	rte_mempool_free(pool);
	free(conf);
	return 0;
}

/* ---------- start-up and its errors ---------- */

static void
expect_nothing_left(void)
{
	struct sp_route r[4];

	CU_ASSERT_EQUAL(tunnel_routes(r, RTE_DIM(r)), 0);
	CU_ASSERT_EQUAL(sp_tun_peer_count(), 0);
	CU_ASSERT_EQUAL(sp_tun_peer_find("man"), -ENOENT);
	CU_ASSERT_PTR_NULL(sp_tun_in_sa(0x1001));
	CU_ASSERT_PTR_NULL(sp_tun_in_sa(0x1002));
	CU_ASSERT_PTR_NULL(sp_tun_peer_local(0));
	CU_ASSERT_STRING_EQUAL(sp_route_peer_name(0), "peer0");
}

static void
test_init_errors(void)
{
	struct sp_tun_params p = { .conf = NULL, .engine = NULL, .n_workers = 1 };
	struct sp_route far = route_gw("203.0.113.0/24", "192.0.2.254");
	struct sp_route con = route_gw("10.8.0.0/16", "192.0.2.254");
	struct rte_malloc_socket_stats hs;
	char err[256];
	int rc;

	CU_ASSERT_EQUAL_FATAL(conf_make(opts_std, peers_std), 0);

	/* parameters */
	CU_ASSERT_EQUAL(sp_tun_init(NULL, err, sizeof(err)), -EINVAL);
	p.conf = conf;
	CU_ASSERT_EQUAL(sp_tun_init(&p, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "tunnels: invalid parameters");
	CU_ASSERT_EQUAL(tun_init(0, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(tun_init(SP_TUN_MAX_SAS + 1, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "tunnels: invalid parameters");
	expect_nothing_left();

	/* "far" has no route yet: its address is unreachable outside the tunnels */
	err[0] = '\0';
	CU_ASSERT_EQUAL(tun_init(N_WORKERS, err, sizeof(err)), -ENETUNREACH);
	CU_ASSERT_STRING_EQUAL(err, "tunnels.peers.[2] (\"far\"): no route to its address "
			       "203.0.113.5 outside the tunnels");
	expect_nothing_left();
	CU_ASSERT_EQUAL_FATAL(sp_route_add(&far), 0);
	/* the baseline for the memory checks: everything but lib/tunnel is in place */
	sp_rcu_reclaim();
	heap_stats(&heap0);

	/* a console route already holds one of the prefixes */
	CU_ASSERT_EQUAL_FATAL(sp_route_add(&con), 0);
	err[0] = '\0';
	CU_ASSERT_EQUAL(tun_init(N_WORKERS, err, sizeof(err)), -EEXIST);
	CU_ASSERT_STRING_EQUAL(err, "tunnels: route for prefix 10.8.0.0/16: already routed "
			       "(a console route?)");
	expect_nothing_left();
	CU_ASSERT_EQUAL(sp_route_del(&con.prefix), 0);

	/* failing after the routes went in (the manual SAs): the routes go again */
	conf->tunnels.peers[P_MAN].path_mtu = 60;
	err[0] = '\0';
	rc = tun_init(N_WORKERS, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "peer man SPI 8193: path MTU 60 leaves no room for an inner "
			       "packet");
	expect_nothing_left();

	/* an egress interface without an address of the peer's family */
	CU_ASSERT_EQUAL_FATAL(conf_make("",
		"{ name = \"v6\"; address = \"2001:db8:77::9\"; prefixes = [ \"10.6.0.0/16\" ];\n"
		"  identity = \"spiffe://example.org/gateway/g6\"; }\n"), 0);
	{
		struct sp_route dev = { .type = SP_NH_CONNECTED, .origin = SP_RO_CONSOLE,
					.iface = IF_VLAN };

		dev.prefix = addr("2001:db8:77::/48");
		CU_ASSERT_EQUAL_FATAL(sp_route_add(&dev), 0);
		err[0] = '\0';
		CU_ASSERT_EQUAL(tun_init(1, err, sizeof(err)), -EADDRNOTAVAIL);
		CU_ASSERT_STRING_EQUAL(err, "tunnels.peers.[0] (\"v6\"): interface inside.100 has "
				       "no IPv6 address to reach 2001:db8:77::9 from");
		CU_ASSERT_EQUAL(sp_route_del(&dev.prefix), 0);
	}
	expect_nothing_left();

	/* the same peer, explicitly behind the VLAN's IPv4 neighbour: routed into itself */
	CU_ASSERT_EQUAL_FATAL(conf_make("",
		"{ name = \"a\"; address = \"10.100.0.9\"; prefixes = [ \"10.5.0.0/16\" ];\n"
		"  manual = ( { spi_in = 0x3001; spi_out = 0x3002; key_in = \"" KEY_MAN0_IN "\";\n"
		"               key_out = \"" KEY_MAN0_OUT "\"; } ); },\n"
		"{ name = \"b\"; address = \"10.100.0.10\"; prefixes = [ \"10.4.0.0/16\" ];\n"
		"  manual = ( { spi_in = 0x3003; spi_out = 0x3004; key_in = \"" KEY_MAN0_IN "\";\n"
		"               key_out = \"" KEY_MAN0_OUT "\"; } ); }\n"), 0);
	/* lib/conf refuses an address behind an earlier peer's prefix; lib/tunnel checks again
	 * with the routes in place (a console route could do the same) */
	conf->tunnels.peers[1].address = addr("10.5.0.9");
	err[0] = '\0';
	CU_ASSERT_EQUAL(tun_init(1, err, sizeof(err)), -ENETUNREACH);
	CU_ASSERT_STRING_EQUAL(err, "tunnels.peers.[1] (\"b\"): no route to its address "
			       "10.5.0.9 outside the tunnels");
	expect_nothing_left();

	/* b's address lies behind a: reachable now (the default route), but once a's prefixes
	 * are routes, b's own ESP would go into a's tunnel. */
	{
		struct sp_route dflt = route_gw("0.0.0.0/0", "192.0.2.254");

		CU_ASSERT_EQUAL_FATAL(sp_route_add(&dflt), 0);
		err[0] = '\0';
		CU_ASSERT_EQUAL(tun_init(1, err, sizeof(err)), -ELOOP);
		CU_ASSERT_STRING_EQUAL(err, "tunnels.peers.[1] (\"b\"): its address 10.5.0.9 "
				       "would be routed into the tunnel to peer \"a\"");
		expect_nothing_left();
		CU_ASSERT_EQUAL(sp_route_del(&dflt.prefix), 0);
	}

	/* every SA and table version of those attempts is freed once RCU lets go */
	sp_rcu_reclaim();
	CU_ASSERT_EQUAL(sp_rcu_pending(), 0);
	heap_stats(&hs);
	CU_ASSERT_EQUAL(hs.alloc_count, heap0.alloc_count);
	CU_ASSERT_EQUAL_FATAL(conf_make(opts_std, peers_std), 0);
}

static struct sp_tun_worker *tw[N_WORKERS];

static void
test_init_peers_routes(void)
{
	static const struct {
		const char *prefix;
		uint16_t peer;
	} want[] = {
		{ "10.7.0.0/16", P_FAR }, { "10.8.0.0/16", P_KEY }, { "10.9.0.0/16", P_MAN },
		{ "fd08::/48", P_KEY }, { "fd09::/48", P_MAN },
	};
	struct sp_route r[8];
	char err[256] = "";
	unsigned int i, n;
	uint64_t ep[4];

	CU_ASSERT_EQUAL_FATAL(tun_init(N_WORKERS, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(tun_init(N_WORKERS, err, sizeof(err)), -EEXIST);
	for (i = 0; i < N_WORKERS; i++) {
		tw[i] = sp_tun_worker_create(i, cctx[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(tw[i]);
		CU_ASSERT_PTR_NOT_NULL(sp_tun_worker_esp(tw[i]));
	}
	CU_ASSERT_PTR_NULL(sp_tun_worker_create(0, NULL));

	/* the prefixes, sorted as sp_route_list sorts them */
	n = tunnel_routes(r, RTE_DIM(r));
	CU_ASSERT_EQUAL_FATAL(n, RTE_DIM(want));
	for (i = 0; i < n; i++) {
		CU_ASSERT(ip_is(&r[i].prefix, want[i].prefix));
		CU_ASSERT_EQUAL(r[i].type, SP_NH_TUNNEL);
		CU_ASSERT_EQUAL(r[i].origin, SP_RO_TUNNEL);
		CU_ASSERT_EQUAL(r[i].iface, SP_IFACE_NONE);
		CU_ASSERT_EQUAL(r[i].peer, want[i].peer);
	}
	/* ... and what the workers' lookups give */
	{
		const struct sp_rtab *t = sp_route_table();
		struct sp_ip a = addr("10.9.200.1");
		uint32_t h = rte_be_to_cpu_32(a.v4);
		uint64_t id;
		const struct sp_nexthop *nh;

		sp_rtab_lookup4(t, &h, &id, 1);
		nh = sp_rtab_nh(t, id);
		CU_ASSERT_EQUAL(nh->type, SP_NH_TUNNEL);
		CU_ASSERT_EQUAL(nh->peer, P_MAN);
		a = addr("fd08:0:0:1::5");
		sp_rtab_lookup6(t, (const uint8_t (*)[16])a.v6, &id, 1);
		nh = sp_rtab_nh(t, id);
		CU_ASSERT_EQUAL(nh->type, SP_NH_TUNNEL);
		CU_ASSERT_EQUAL(nh->peer, P_KEY);
	}
	CU_ASSERT_STRING_EQUAL(sp_route_peer_name(P_KEY), "key");
	CU_ASSERT_STRING_EQUAL(sp_route_peer_name(7), "peer7");

	CU_ASSERT_EQUAL(sp_tun_peer_count(), 3);
	CU_ASSERT_EQUAL(sp_tun_n_workers(), N_WORKERS);
	CU_ASSERT_EQUAL(sp_tun_peer_find("man"), P_MAN);
	CU_ASSERT_EQUAL(sp_tun_peer_find("far"), P_FAR);
	CU_ASSERT_EQUAL(sp_tun_peer_find("nobody"), -ENOENT);
	CU_ASSERT_STRING_EQUAL(sp_tun_peer_conf(P_KEY)->name, "key");
	CU_ASSERT_PTR_NULL(sp_tun_peer_conf(3));
	CU_ASSERT_PTR_NULL(sp_tun_peer_local(3));
	CU_ASSERT_EQUAL(sp_tun_conf()->n_peers, 3);
	CU_ASSERT_EQUAL(sp_tun_conf()->replay_window, 2048);

	/* our end: configured; the egress interface's first address of the family (full
	 * length), also through a gateway route */
	CU_ASSERT(ip_is(sp_tun_peer_local(P_MAN), "198.51.100.7"));
	CU_ASSERT(ip_is(sp_tun_peer_local(P_KEY), "2001:db8:ffff::1/128"));
	CU_ASSERT(ip_is(sp_tun_peer_local(P_FAR), "192.0.2.1/32"));

	/* the manual peer sends on epoch 1 from the start; keyed peers have nothing yet */
	CU_ASSERT_EQUAL(sp_tun_active_epoch(P_MAN), 1);
	CU_ASSERT_EQUAL(sp_tun_epochs(P_MAN, ep, RTE_DIM(ep)), 1);
	CU_ASSERT_EQUAL(ep[0], 1);
	CU_ASSERT_EQUAL(sp_tun_active_epoch(P_KEY), 0);
	CU_ASSERT_EQUAL(sp_tun_epochs(P_KEY, ep, RTE_DIM(ep)), 0);
	CU_ASSERT_EQUAL(sp_tun_active_epoch(9), 0);
	for (i = 0; i < N_WORKERS; i++) {
		CU_ASSERT_PTR_NULL(sp_tun_out_sa(tw[i], P_KEY));
		CU_ASSERT_PTR_NULL(sp_tun_out_sa(tw[i], P_FAR));
		CU_ASSERT_PTR_NULL(sp_tun_out_sa(tw[i], 3));
	}
	CU_ASSERT(!sp_tun_rekey_wanted(P_KEY, NULL));
}

/* The manual peer: two SA pairs over three workers. */
static void
test_manual_sas(void)
{
	static const uint32_t out_spi[N_WORKERS] = { 0x2001, 0x2002, 0x2001 };
	struct sp_esp_sa *sa;
	const struct sp_esp_sa_conf *c;
	bool hard = true;
	unsigned int w;

	for (w = 0; w < N_WORKERS; w++) {
		sa = sp_tun_out_sa(tw[w], P_MAN);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
		c = sp_esp_sa_conf(sa);
		CU_ASSERT_EQUAL(c->spi, out_spi[w]);
		CU_ASSERT_EQUAL(c->dir, SP_ESP_OUTBOUND);
		CU_ASSERT_EQUAL(c->owner, (w % 2) % N_WORKERS);
		CU_ASSERT(ip_is(&c->src, "198.51.100.7"));
		CU_ASSERT(ip_is(&c->dst, "192.0.2.9"));
		CU_ASSERT_EQUAL(c->path_mtu, 1400);
		CU_ASSERT(!c->esn && !c->udp_encap);
		CU_ASSERT_EQUAL(c->tag, P_MAN);
		/* manual SAs have no lifetime */
		CU_ASSERT(c->soft.seconds == 0 && c->hard.seconds == 0 && c->hard.packets == 0);
		CU_ASSERT_EQUAL(sp_tun_sa_peer(sa), P_MAN);
		CU_ASSERT_EQUAL(sp_esp_inner_mtu(sa), 1346);
		CU_ASSERT_STRING_EQUAL(sp_esp_sa_engine(sa), sp_crypto_engine_name(engine));
	}
	for (w = 0; w < 2; w++) {
		sa = sp_tun_in_sa(0x1001 + w);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
		c = sp_esp_sa_conf(sa);
		CU_ASSERT_EQUAL(c->dir, SP_ESP_INBOUND);
		CU_ASSERT_EQUAL(c->owner, w);
		CU_ASSERT_EQUAL(c->replay_window, 2048);
		CU_ASSERT(ip_is(&c->src, "192.0.2.9"));
		CU_ASSERT(ip_is(&c->dst, "198.51.100.7"));
		CU_ASSERT_EQUAL(sp_tun_sa_peer(sa), P_MAN);
	}
	CU_ASSERT_PTR_NULL(sp_tun_in_sa(0x2001)); /* outbound SPIs are the peer's */
	CU_ASSERT(!sp_tun_rekey_wanted(P_MAN, &hard));
	CU_ASSERT(!hard);
}

static void
key256(struct sp_crypto_key *k, uint8_t seed)
{
	memset(k, 0, sizeof(*k));
	k->alg = SP_CRYPTO_AES256_GCM;
	for (unsigned int i = 0; i < 32; i++)
		k->key[i] = (uint8_t)(seed + i);
	memcpy(k->salt, "\x01\x02\x03\x04", 4);
	k->salt[3] = seed;
}

static void
keys_make(struct sp_crypto_key *k, unsigned int n, uint8_t seed)
{
	for (unsigned int i = 0; i < n; i++)
		key256(&k[i], (uint8_t)(seed + i));
}

/* Epochs of the keyed peer: which worker sends on which SA and who owns it, every refusal. */
static void
test_epochs(void)
{
	static const uint32_t in1[2] = { 0x51000, 0x51001 }, out1[2] = { 0x61000, 0x61001 };
	static const uint32_t in2[5] = { 0x52000, 0x52001, 0x52002, 0x52003, 0x52004 };
	static const uint32_t out2[5] = { 0x62000, 0x62001, 0x62002, 0x62003, 0x62004 };
	static const uint32_t in3[1] = { 0x53000 }, out3[1] = { 0x63000 };
	struct sp_crypto_key k[SP_TUN_MAX_SAS + 1];
	uint32_t spis[SP_TUN_MAX_SAS + 1];
	const struct sp_esp_sa_conf *c;
	struct sp_esp_sa *sa;
	char err[256];
	uint64_t ep[4];
	unsigned int w, i;

	keys_make(k, RTE_DIM(k), 0x40);

	/* epoch 1: two SAs per direction for three workers */
	CU_ASSERT_EQUAL_FATAL(sp_tun_add_inbound(P_KEY, 1, in1, k, 2, err, sizeof(err)), 0);
	for (i = 0; i < 2; i++) {
		sa = sp_tun_in_sa(in1[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
		c = sp_esp_sa_conf(sa);
		CU_ASSERT_EQUAL(c->owner, i % N_WORKERS);
		CU_ASSERT_EQUAL(sp_tun_sa_peer(sa), P_KEY);
		CU_ASSERT(ip_is(&c->src, "2001:db8:ffff::9"));
		CU_ASSERT(ip_is(&c->dst, "2001:db8:ffff::1/128"));
		CU_ASSERT(c->udp_encap && c->esn);
		CU_ASSERT_EQUAL(c->replay_window, 2048);
		/* keyed SAs carry the configured lifetimes (and the default seconds) */
		CU_ASSERT_EQUAL(c->soft.packets, 3);
		CU_ASSERT_EQUAL(c->hard.packets, 5);
		CU_ASSERT_EQUAL(c->soft.seconds, 3600);
		CU_ASSERT_EQUAL(c->hard.seconds, 4500);
	}
	/* inbound alone is not enough to send */
	CU_ASSERT_EQUAL(sp_tun_activate(P_KEY, 1), -ENOENT);
	CU_ASSERT_PTR_NULL(sp_tun_out_sa(tw[0], P_KEY));
	CU_ASSERT_EQUAL(sp_tun_add_outbound(P_KEY, 1, out1, k, 2, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(sp_tun_out_sa(tw[0], P_KEY)); /* not before activation */
	CU_ASSERT_EQUAL(sp_tun_active_epoch(P_KEY), 0);
	CU_ASSERT_EQUAL(sp_tun_activate(P_KEY, 1), 0);
	CU_ASSERT_EQUAL(sp_tun_active_epoch(P_KEY), 1);
	for (w = 0; w < N_WORKERS; w++) {
		sa = sp_tun_out_sa(tw[w], P_KEY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
		c = sp_esp_sa_conf(sa);
		CU_ASSERT_EQUAL(c->spi, out1[w % 2]);
		CU_ASSERT_EQUAL(c->owner, (w % 2) % N_WORKERS);
		CU_ASSERT_EQUAL(c->path_mtu, 1380);
		CU_ASSERT(ip_is(&c->src, "2001:db8:ffff::1/128"));
		CU_ASSERT(ip_is(&c->dst, "2001:db8:ffff::9"));
		CU_ASSERT_EQUAL(sp_esp_inner_mtu(sa), 1298);
	}

	/* epoch 2: five SAs for three workers (make-before-break: both epochs alive) */
	CU_ASSERT_EQUAL(sp_tun_add_outbound(P_KEY, 2, out2, k, 5, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 2, in2, k, 5, err, sizeof(err)), 0);
	for (i = 0; i < 5; i++) {
		sa = sp_tun_in_sa(in2[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
		CU_ASSERT_EQUAL(sp_esp_sa_conf(sa)->owner, i % N_WORKERS);
	}
	CU_ASSERT_EQUAL(sp_tun_out_sa(tw[2], P_KEY) != NULL ?
			sp_esp_sa_conf(sp_tun_out_sa(tw[2], P_KEY))->spi : 0, out1[0]);
	CU_ASSERT_EQUAL(sp_tun_activate(P_KEY, 2), 0);
	CU_ASSERT_EQUAL(sp_tun_active_epoch(P_KEY), 2);
	for (w = 0; w < N_WORKERS; w++) {
		sa = sp_tun_out_sa(tw[w], P_KEY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
		CU_ASSERT_EQUAL(sp_esp_sa_conf(sa)->spi, out2[w]);
		CU_ASSERT_EQUAL(sp_esp_sa_conf(sa)->owner, w);
	}
	/* epoch 1's inbound SAs still accept until retired */
	CU_ASSERT_PTR_NOT_NULL(sp_tun_in_sa(in1[0]));

	/* refusals */
	err[0] = '\0';
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 2, in3, k, 1, err, sizeof(err)), -EEXIST);
	CU_ASSERT_STRING_EQUAL(err, "peer key epoch 2 already has inbound SAs");
	CU_ASSERT_EQUAL(sp_tun_add_outbound(P_KEY, 1, out3, k, 1, err, sizeof(err)), -EEXIST);
	CU_ASSERT_STRING_EQUAL(err, "peer key epoch 1 already has outbound SAs");
	/* an SPI in use, by this peer or by the manual one; or twice in the list */
	spis[0] = 0x53001;
	spis[1] = in2[3];
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 3, spis, k, 2, err, sizeof(err)), -EEXIST);
	CU_ASSERT_STRING_EQUAL(err, "SPI 335875 is already in use");
	spis[1] = 0x1002;
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 3, spis, k, 2, err, sizeof(err)), -EEXIST);
	CU_ASSERT_STRING_EQUAL(err, "SPI 4098 is already in use");
	spis[1] = 0x53001;
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 3, spis, k, 2, err, sizeof(err)), -EEXIST);
	CU_ASSERT_STRING_EQUAL(err, "SPI 339969 is already in use");
	/* ... and nothing of those attempts stayed: no SA, no epoch 3 */
	CU_ASSERT_PTR_NULL(sp_tun_in_sa(0x53001));
	CU_ASSERT_EQUAL(sp_esp_sa_conf(sp_tun_in_sa(0x1002))->tag, P_MAN);
	CU_ASSERT_EQUAL(sp_tun_epochs(P_KEY, ep, RTE_DIM(ep)), 2);
	/* SPIs 1..255 are reserved: the engine-independent check of lib/esp */
	spis[0] = 255;
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 3, spis, k, 1, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "peer key SPI 255: SPI 255 is reserved (0..255)");
	/* counts, peers and epoch 0 */
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 3, in3, k, 0, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "invalid peer, epoch or SA count");
	for (i = 0; i < RTE_DIM(spis); i++)
		spis[i] = 0x54000 + i;
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 3, spis, k, SP_TUN_MAX_SAS + 1, err,
					   sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(sp_tun_add_outbound(3, 3, out3, k, 1, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 3, NULL, k, 1, err, sizeof(err)), -EINVAL);
	err[0] = '\0';
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 0, in3, k, 1, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "invalid peer, epoch or SA count");
	CU_ASSERT_EQUAL(sp_tun_epochs(P_KEY, ep, RTE_DIM(ep)), 2);
	/* the full sixteen are fine */
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 3, spis, k, SP_TUN_MAX_SAS, err, sizeof(err)),
			0);
	CU_ASSERT_EQUAL(sp_esp_sa_conf(sp_tun_in_sa(spis[15]))->owner, 15 % N_WORKERS);
	CU_ASSERT_EQUAL(sp_tun_retire(P_KEY, 3), 0);
	for (i = 0; i < SP_TUN_MAX_SAS; i++)
		CU_ASSERT_PTR_NULL(sp_tun_in_sa(spis[i]));

	/* three epochs alive at most */
	CU_ASSERT_EQUAL(sp_tun_add_outbound(P_KEY, 3, out3, k, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sp_tun_epochs(P_KEY, ep, RTE_DIM(ep)), 3);
	err[0] = '\0';
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 4, in3, k, 1, err, sizeof(err)), -ENOSPC);
	CU_ASSERT_STRING_EQUAL(err, "peer key: no free epoch slot (3 alive)");
	CU_ASSERT_PTR_NULL(sp_tun_in_sa(in3[0]));
	CU_ASSERT_EQUAL(sp_tun_add_outbound(P_KEY, 4, out3, k, 1, err, sizeof(err)), -ENOSPC);
	CU_ASSERT_EQUAL(sp_tun_epochs(P_KEY, ep, 2), 3); /* the count, even past max */

	/* activate / retire unknown */
	CU_ASSERT_EQUAL(sp_tun_activate(P_KEY, 9), -ENOENT);
	CU_ASSERT_EQUAL(sp_tun_activate(P_KEY, 0), -ENOENT);
	CU_ASSERT_EQUAL(sp_tun_activate(7, 1), -ENOENT);
	CU_ASSERT_EQUAL(sp_tun_retire(P_KEY, 9), -ENOENT);
	CU_ASSERT_EQUAL(sp_tun_retire(7, 1), -ENOENT);
	CU_ASSERT_EQUAL(sp_tun_active_epoch(P_KEY), 2);

	/* retiring a draining epoch changes nothing for the senders */
	CU_ASSERT_EQUAL(sp_tun_retire(P_KEY, 1), 0);
	CU_ASSERT_PTR_NULL(sp_tun_in_sa(in1[0]));
	CU_ASSERT_PTR_NULL(sp_tun_in_sa(in1[1]));
	CU_ASSERT_EQUAL(sp_tun_active_epoch(P_KEY), 2);
	CU_ASSERT_EQUAL(sp_esp_sa_conf(sp_tun_out_sa(tw[1], P_KEY))->spi, out2[1]);
	/* epoch 3 has only its outbound half: activating it works, then the slot freed by
	 * epoch 1 takes epoch 4 */
	CU_ASSERT_EQUAL(sp_tun_activate(P_KEY, 3), 0);
	for (w = 0; w < N_WORKERS; w++)
		CU_ASSERT_EQUAL(sp_esp_sa_conf(sp_tun_out_sa(tw[w], P_KEY))->spi, out3[0]);
	CU_ASSERT_EQUAL(sp_esp_sa_conf(sp_tun_out_sa(tw[2], P_KEY))->owner, 0);
	CU_ASSERT_EQUAL(sp_tun_add_inbound(P_KEY, 4, in3, k, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sp_tun_epochs(P_KEY, ep, RTE_DIM(ep)), 3);

	/* retiring the active epoch: the tunnel is down for every worker */
	CU_ASSERT_EQUAL(sp_tun_retire(P_KEY, 3), 0);
	CU_ASSERT_EQUAL(sp_tun_active_epoch(P_KEY), 0);
	for (w = 0; w < N_WORKERS; w++)
		CU_ASSERT_PTR_NULL(sp_tun_out_sa(tw[w], P_KEY));
	CU_ASSERT_PTR_NOT_NULL(sp_tun_in_sa(in2[4]));
	CU_ASSERT_PTR_NOT_NULL(sp_tun_in_sa(in3[0]));

	/* flush: every epoch gone */
	sp_tun_flush(P_KEY);
	CU_ASSERT_EQUAL(sp_tun_epochs(P_KEY, ep, RTE_DIM(ep)), 0);
	for (i = 0; i < 5; i++)
		CU_ASSERT_PTR_NULL(sp_tun_in_sa(in2[i]));
	CU_ASSERT_PTR_NULL(sp_tun_in_sa(in3[0]));
	/* the other peers are untouched */
	CU_ASSERT_EQUAL(sp_tun_active_epoch(P_MAN), 1);
	CU_ASSERT_PTR_NOT_NULL(sp_tun_in_sa(0x1001));

	/* "far": IPv4 through a gateway route, its path_mtu above the interface's */
	CU_ASSERT_EQUAL(sp_tun_add_outbound(P_FAR, 1, out3, k, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sp_tun_activate(P_FAR, 1), 0);
	sa = sp_tun_out_sa(tw[1], P_FAR);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
	c = sp_esp_sa_conf(sa);
	CU_ASSERT_EQUAL(c->path_mtu, 1400);
	CU_ASSERT(ip_is(&c->src, "192.0.2.1/32"));
	CU_ASSERT(ip_is(&c->dst, "203.0.113.5"));
	CU_ASSERT(!c->udp_encap && c->esn);
	CU_ASSERT_EQUAL(sp_tun_sa_peer(sa), P_FAR);
	sp_tun_flush(P_FAR);
	CU_ASSERT_PTR_NULL(sp_tun_out_sa(tw[1], P_FAR));
	sp_rcu_reclaim();
}

/* SPIs from a scripted random source: everything unusable is skipped. */
static void
test_spi_alloc(void)
{
	static const uint32_t in[2] = { 0x70000, 0x70001 };
	static const uint32_t seq[] = {
		0, 17, 255,        /* reserved by RFC 4303 */
		0x1001, 0x1002,    /* manual inbound SPIs */
		0x70001,           /* a keyed inbound SA has it */
		256,               /* the first usable one */
		256,               /* twice in one call */
		0x2001,            /* the manual peer's outbound SPI is the peer's: usable */
		0xffffffffu,
	};
	static const uint32_t same[] = { 0x1001 };
	struct sp_crypto_key k[2];
	uint32_t spis[SP_TUN_MAX_SAS];
	char err[128];

	keys_make(k, 2, 0x10);
	CU_ASSERT_EQUAL_FATAL(sp_tun_add_inbound(P_KEY, 5, in, k, 2, err, sizeof(err)), 0);
	script_set(seq, RTE_DIM(seq), false);
	CU_ASSERT_EQUAL(sp_tun_spi_alloc(spis, 3), 0);
	CU_ASSERT_EQUAL(script_pos, RTE_DIM(seq));
	CU_ASSERT_EQUAL(spis[0], 256);
	CU_ASSERT_EQUAL(spis[1], 0x2001);
	CU_ASSERT_EQUAL(spis[2], 0xffffffffu);
	/* a manual SPI stays reserved while its peer is flushed (peer reset reinstalls it) */
	sp_tun_flush(P_MAN);
	CU_ASSERT_PTR_NULL(sp_tun_in_sa(0x1001));
	script_set(same, RTE_DIM(same), true);
	CU_ASSERT_EQUAL(sp_tun_spi_alloc(spis, 1), -ENOSPC);
	CU_ASSERT_EQUAL(sp_tun_spi_alloc(spis, SP_TUN_MAX_SAS), -ENOSPC);
	script_set(NULL, 0, false);
	/* the kernel's: sixteen distinct, none in use */
	CU_ASSERT_EQUAL(sp_tun_spi_alloc(spis, SP_TUN_MAX_SAS), 0);
	for (unsigned int i = 0; i < SP_TUN_MAX_SAS; i++) {
		CU_ASSERT(spis[i] >= 256 && spis[i] != in[0] && spis[i] != in[1]);
		CU_ASSERT(spis[i] != 0x1001 && spis[i] != 0x1002);
		for (unsigned int j = 0; j < i; j++)
			CU_ASSERT(spis[i] != spis[j]);
	}
	sp_tun_flush(P_KEY);
}

static struct rte_mbuf *
inner4(uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ipv4_hdr *ip;

	if (m == NULL)
		return NULL;
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, len);
	if (ip == NULL || len < sizeof(*ip)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(ip, 0, len);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = addr("10.1.0.2").v4;
	ip->dst_addr = addr("10.8.0.2").v4;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	m->packet_type = RTE_PTYPE_L3_IPV4;
	return m;
}

/* Encapsulate n packets on worker w's SA for the peer. @return how many went through. */
static uint16_t
send_n(unsigned int w, unsigned int peer, uint16_t n)
{
	struct sp_esp_sa *sa = sp_tun_out_sa(tw[w], (uint16_t)peer);
	struct rte_mbuf *m[8];
	uint16_t i, k;

	if (sa == NULL || n > RTE_DIM(m))
		return 0;
	for (i = 0; i < n; i++) {
		m[i] = inner4(100);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
	}
	k = sp_esp_encap(sp_tun_worker_esp(tw[w]), sa, m, n);
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
	return k;
}

/* Soft and hard packet limits (3 and 5 here) reached by real traffic. */
static void
test_rekey_wanted(void)
{
	static const uint32_t in[1] = { 0x71000 }, out[1] = { 0x72000 };
	struct sp_crypto_key k[1];
	struct sp_esp_sa_stats st;
	char err[128];
	bool hard = true;

	keys_make(k, 1, 0x20);
	CU_ASSERT_EQUAL_FATAL(sp_tun_add_inbound(P_KEY, 6, in, k, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(sp_tun_add_outbound(P_KEY, 6, out, k, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(sp_tun_activate(P_KEY, 6), 0);
	CU_ASSERT(!sp_tun_rekey_wanted(P_KEY, &hard));
	CU_ASSERT(!hard);
	/* worker 0 owns the only SA; worker 1 would be refused (its packets are handed over) */
	CU_ASSERT_EQUAL(send_n(1, P_KEY, 1), 0);
	CU_ASSERT_EQUAL(sp_esp_drop_reason(sp_tun_worker_esp(tw[1]), 0),
			SP_ESP_DROP_WRONG_WORKER);
	CU_ASSERT_EQUAL(send_n(0, P_KEY, 2), 2);
	CU_ASSERT(!sp_tun_rekey_wanted(P_KEY, &hard));
	CU_ASSERT_EQUAL(send_n(0, P_KEY, 1), 1);
	CU_ASSERT(sp_tun_rekey_wanted(P_KEY, &hard));
	CU_ASSERT(!hard);
	CU_ASSERT_EQUAL(send_n(0, P_KEY, 3), 2);
	CU_ASSERT_EQUAL(sp_esp_drop_reason(sp_tun_worker_esp(tw[0]), 2),
			SP_ESP_DROP_LIFETIME);
	CU_ASSERT(sp_tun_rekey_wanted(P_KEY, &hard));
	CU_ASSERT(hard);
	CU_ASSERT(sp_tun_rekey_wanted(P_KEY, NULL));
	sp_esp_sa_stats(sp_tun_out_sa(tw[0], P_KEY), &st);
	CU_ASSERT_EQUAL(st.packets, 5);
	CU_ASSERT_EQUAL(st.drops[SP_ESP_DROP_LIFETIME], 1);

	/* a fresh epoch: the flags are the new SAs' (make-before-break) */
	CU_ASSERT_EQUAL_FATAL(sp_tun_add_outbound(P_KEY, 7, in, k, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sp_tun_activate(P_KEY, 7), 0);
	CU_ASSERT(!sp_tun_rekey_wanted(P_KEY, &hard));
	CU_ASSERT(!hard);
	CU_ASSERT_EQUAL(send_n(2, P_KEY, 3), 0); /* worker 2 sends on SA 0, worker 0's */
	CU_ASSERT_EQUAL(send_n(0, P_KEY, 3), 3);
	CU_ASSERT(sp_tun_rekey_wanted(P_KEY, &hard));
	CU_ASSERT(!hard);
	/* no active epoch: nothing to rekey */
	sp_tun_flush(P_KEY);
	CU_ASSERT(!sp_tun_rekey_wanted(P_KEY, &hard));
	CU_ASSERT(!hard);
	CU_ASSERT(!sp_tun_rekey_wanted(99, &hard));
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
}

/* Status strings and hooks are plain storage; nothing to do with no peer. */
static void
test_status_hooks(void)
{
	struct sp_tun_hooks h = { NULL, NULL };

	sp_tun_set_status(P_KEY, "up", "epoch 7");
	sp_tun_set_status(99, "up", NULL);
	sp_tun_set_hooks(&h);
	sp_tun_set_hooks(NULL);
	CU_ASSERT_EQUAL(sp_tun_peer_count(), 3);
}

static void
test_fini(void)
{
	struct rte_malloc_socket_stats hs;
	unsigned int i;

	for (i = 0; i < N_WORKERS; i++) {
		sp_tun_worker_poll(tw[i]);
		sp_tun_worker_destroy(tw[i]);
		tw[i] = NULL;
	}
	sp_tun_worker_destroy(NULL);
	sp_tun_fini();
	sp_tun_fini(); /* twice is fine */
	expect_nothing_left();
	CU_ASSERT_EQUAL(sp_tun_spi_alloc((uint32_t[1]){ 0 }, 1), -EINVAL);
	CU_ASSERT_PTR_NULL(sp_tun_worker_create(0, cctx[0]));
	sp_rcu_reclaim();
	CU_ASSERT_EQUAL(sp_rcu_pending(), 0);
	heap_stats(&hs);
	/* (bytes vary with where the allocator placed things: count the allocations) */
	CU_ASSERT_EQUAL(hs.alloc_count, heap0.alloc_count);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("tunnel", suite_init, suite_fini);
	CU_add_test(s, "start-up errors, nothing left behind", test_init_errors);
	CU_add_test(s, "peers, prefixes as TUNNEL routes, local address", test_init_peers_routes);
	CU_add_test(s, "manual peer: epoch 1, SA per worker", test_manual_sas);
	CU_add_test(s, "keyed epochs: add, activate, retire, flush, refusals", test_epochs);
	CU_add_test(s, "SPI allocation skips reserved and used SPIs", test_spi_alloc);
	CU_add_test(s, "rekey and expiry from traffic", test_rekey_wanted);
	CU_add_test(s, "status and hooks", test_status_hooks);
	CU_add_test(s, "fini: routes, SAs and memory gone", test_fini);
	return sp_test_run();
}
