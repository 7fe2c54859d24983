/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/dp with tunnels: real frames through the worker, ESP checked by decrypting it with
 * lib/esp as the peer would, and the peer's ESP built the same way. Encapsulation and
 * decapsulation over ESP/IPv4, ESP/IPv6, ESP/UDP/IPv4 and ESP/UDP/IPv6 with IPv4 and IPv6
 * inside; every drop reason by its exact counter; path MTU (ICMP with the tunnel's inner MTU,
 * fragmentation before encryption); the hand-off to the worker that owns an SA.
 *
 *   host 10.1.0.2 / fd01::2 --- [A: 10.1.0.1/24 fd01::1/64]
 *                               [B: 10.2.0.1/24 fd02::1/64, MTU 1400] --- the peers:
 *     0 p    10.2.0.9   ESP          10.9.0.0/16  fd09::/48   (dp_env)
 *     1 p6   fd02::9    ESP          10.10.0.0/16 fd0a::/48   no ESN
 *     2 pu   10.2.0.10  ESP in UDP   10.11.0.0/16 fd0b::/48   AES-256
 *     3 pu6  fd02::10   ESP in UDP   10.12.0.0/16 fd0c::/48
 *     4 p2   10.2.0.11  ESP, 2 SAs   10.13.0.0/16             (SA 1 is worker 1's)
 *     5 k    10.2.0.12  keyed, no SA 10.14.0.0/16
 * Two workers: worker 0 is polled; worker 1 is driven by direct calls (dp_env.h).
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dp_env.h"
#include "sp_dp.h"
#include "sp_esp.h"
#include "sp_neigh.h"
#include "sp_port.h"
#include "sp_route.h"
#include "test_common.h"

enum { P_A = DP_ENV_A, P_B = DP_ENV_B, P_X = DP_ENV_X, N_PORTS = DP_ENV_PORTS };
enum { PEER_P, PEER_P6, PEER_PU, PEER_PU6, PEER_P2, PEER_K, N_PEERS };

#define K128_A "0102030405060708090a0b0c0d0e0f1011121314"
#define K128_B "1112131415161718191a1b1c1d1e1f2021222324"
#define K256_A "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf01020304"
#define K256_B "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf05060708"

static const char more_peers[] =
	"{ name = \"p6\"; address = \"fd02::9\"; esn = false;\n"
	"  prefixes = [ \"10.10.0.0/16\", \"fd0a::/48\" ];\n"
	"  manual = ( { spi_in = 0x1101; spi_out = 0x2101; key_in = \"" K128_A "\";\n"
	"               key_out = \"" K128_B "\"; } ); },\n"
	"{ name = \"pu\"; address = \"10.2.0.10\"; udp_encap = true;\n"
	"  prefixes = [ \"10.11.0.0/16\", \"fd0b::/48\" ];\n"
	"  manual = ( { spi_in = 0x1201; spi_out = 0x2201; key_in = \"" K256_A "\";\n"
	"               key_out = \"" K256_B "\"; } ); },\n"
	"{ name = \"pu6\"; address = \"fd02::10\"; udp_encap = true;\n"
	"  prefixes = [ \"10.12.0.0/16\", \"fd0c::/48\" ];\n"
	"  manual = ( { spi_in = 0x1401; spi_out = 0x2401; key_in = \"" K128_B "\";\n"
	"               key_out = \"" K128_A "\"; } ); },\n"
	"{ name = \"p2\"; address = \"10.2.0.11\"; prefixes = [ \"10.13.0.0/16\" ];\n"
	"  manual = ( { spi_in = 0x1301; spi_out = 0x2301; key_in = \"" K128_A "\";\n"
	"               key_out = \"" K128_B "\"; },\n"
	"             { spi_in = 0x1302; spi_out = 0x2302; key_in = \"" K128_B "\";\n"
	"               key_out = \"" K128_A "\"; } ); },\n"
	"{ name = \"k\"; address = \"10.2.0.12\"; identity = \"spiffe://dp-env/k\";\n"
	"  prefixes = [ \"10.14.0.0/16\" ]; }\n";

static struct dp_env env;

static const struct rte_ether_addr host_mac = { { 0x02, 0, 0, 0, 0xaa, 0x01 } };
#define peer_mac dp_env_peer_mac

/* ---------- the peers' side: lib/esp with the keys of the configuration ---------- */

struct remote {
	unsigned int n;
	struct sp_esp_sa *out[2];   /* the peer sending to us: our inbound SPIs */
	struct sp_esp_sa *in[2];    /* what we send (in rtab) */
};

static struct remote rm[N_PEERS];
static struct sp_crypto_ctx *rcc;
static struct sp_esp_ctx *rctx;
static struct sp_esp_table *rtab;

static void
key_from(struct sp_crypto_key *k, const uint8_t *km, unsigned int len)
{
	unsigned int kl = len - SP_CRYPTO_SALT_LEN;

	memset(k, 0, sizeof(*k));
	k->alg = kl == 16 ? SP_CRYPTO_AES128_GCM : SP_CRYPTO_AES256_GCM;
	memcpy(k->key, km, kl);
	memcpy(k->salt, km + kl, SP_CRYPTO_SALT_LEN);
}

/* SA pair i of a peer as the peer sees it; dir OUTBOUND: it sends to us. */
static struct sp_esp_sa *
remote_sa(unsigned int peer, unsigned int i, enum sp_esp_dir dir)
{
	const struct sp_conf_peer *pc = sp_tun_peer_conf(peer);
	const struct sp_conf_manual_sa *ms = &pc->manual[i];
	struct sp_esp_sa_conf c;
	struct sp_esp_sa *sa;
	char err[128] = "";

	memset(&c, 0, sizeof(c));
	c.dir = dir;
	c.src = pc->address;
	c.dst = *sp_tun_peer_local(peer);
	if (dir == SP_ESP_OUTBOUND) {
		c.spi = ms->spi_in;
		key_from(&c.key, ms->key_in, ms->keymat_len);
	} else {
		c.spi = ms->spi_out;
		key_from(&c.key, ms->key_out, ms->keymat_len);
	}
	c.udp_encap = pc->udp_encap;
	c.esn = pc->esn;
	c.replay_window = 1024;
	c.path_mtu = 9000;
	sa = sp_esp_sa_create(&c, env.engine, err, sizeof(err));
	if (sa == NULL)
		printf("\n  remote SA %#x: %s", c.spi, err);
	return sa;
}

/* (Also from the suite's set-up: no CUnit assertion here.) @return 0 or -1. */
static int
remote_make(unsigned int peer)
{
	struct remote *r = &rm[peer];

	r->n = sp_tun_peer_conf(peer)->n_manual;
	for (unsigned int i = 0; i < r->n; i++) {
		r->out[i] = remote_sa(peer, i, SP_ESP_OUTBOUND);
		r->in[i] = remote_sa(peer, i, SP_ESP_INBOUND);
		if (r->out[i] == NULL || r->in[i] == NULL ||
		    sp_esp_table_add(rtab, r->in[i]) != 0)
			return -1;
	}
	return 0;
}

/* The peer forgets its SAs (its inbound ones through RCU, as the table wants). */
static void
remote_drop(unsigned int peer)
{
	struct remote *r = &rm[peer];

	for (unsigned int i = 0; i < r->n; i++) {
		sp_esp_sa_destroy(r->out[i]);
		sp_esp_table_del(rtab, sp_esp_sa_spi(r->in[i]));
		r->out[i] = r->in[i] = NULL;
	}
	r->n = 0;
}

/* ---------- packets ---------- */

struct frame {
	uint8_t b[2048];
	uint16_t len;
};

static struct sp_ip
addr(const char *s)
{
	struct sp_ip a;

	CU_ASSERT_EQUAL_FATAL(sp_ip_parse(s, &a, false), 0);
	return a;
}

/* UDP from port 4000 to 5000 with payload bytes i * 7 + 3, over IPv4 or IPv6 by the source's
 * family, at p; checksums valid. IPv4 may carry another protocol (payload bytes only).
 * @return the length. */
static uint16_t
mk_ip(uint8_t *p, const char *src, const char *dst, uint8_t ttl, uint8_t proto,
      uint16_t payload, bool df)
{
	struct sp_ip s = addr(src), d = addr(dst);
	bool udp = proto == IPPROTO_UDP;
	uint16_t l4len = (udp ? 8 : 0) + payload, hl = s.family == AF_INET ? 20 : 40;
	uint8_t *l4 = p + hl;
	uint16_t i;

	memset(p, 0, hl + l4len);
	for (i = 0; i < payload; i++)
		l4[(udp ? 8 : 0) + i] = (uint8_t)(i * 7 + 3);
	if (s.family == AF_INET) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(hl + l4len);
		ip->packet_id = rte_cpu_to_be_16(0x4321);
		ip->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
		ip->time_to_live = ttl;
		ip->next_proto_id = proto;
		ip->src_addr = s.v4;
		ip->dst_addr = d.v4;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (udp) {
			struct rte_udp_hdr *u = (struct rte_udp_hdr *)l4;

			u->src_port = rte_cpu_to_be_16(4000);
			u->dst_port = rte_cpu_to_be_16(5000);
			u->dgram_len = rte_cpu_to_be_16(l4len);
			u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
		}
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)l4;

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(l4len);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = ttl;
		memcpy(ip->src_addr, s.v6, 16);
		memcpy(ip->dst_addr, d.v6, 16);
		u->src_port = rte_cpu_to_be_16(4000);
		u->dst_port = rte_cpu_to_be_16(5000);
		u->dgram_len = rte_cpu_to_be_16(l4len);
		u->dgram_cksum = rte_ipv6_udptcp_cksum(ip, u);
	}
	return hl + l4len;
}

static uint16_t
mk(uint8_t *p, const char *src, const char *dst, uint16_t payload)
{
	return mk_ip(p, src, dst, 64, IPPROTO_UDP, payload, false);
}

/* What a router makes of the packet: one hop less. */
static void
hop(uint8_t *p)
{
	if ((p[0] >> 4) == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		ip->time_to_live--;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		((struct rte_ipv6_hdr *)p)->hop_limits--;
	}
}

static void
frame(struct frame *f, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
      const uint8_t *l3, uint16_t len)
{
	f->len = sp_pkt_eth_write(f->b, dst, src, 0,
				  (l3[0] >> 4) == 4 ? SP_ETHERTYPE_IPV4 : SP_ETHERTYPE_IPV6);
	memcpy(f->b + f->len, l3, len);
	f->len += len;
}

static struct rte_mbuf *
mbuf_of(const uint8_t *p, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(sp_port_pool());
	char *d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	d = rte_pktmbuf_append(m, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	memcpy(d, p, len);
	return m;
}

/* The peer's ESP (outer IP at out) carrying inner, on its SA i. @return the length. */
static uint16_t
esp_make(unsigned int peer, unsigned int i, const uint8_t *inner, uint16_t len, uint8_t *out)
{
	struct rte_mbuf *m = mbuf_of(inner, len);
	uint16_t n;

	CU_ASSERT_EQUAL_FATAL(sp_esp_encap(rctx, rm[peer].out[i], &m, 1), 1);
	n = rte_pktmbuf_data_len(m);
	memcpy(out, rte_pktmbuf_mtod(m, const uint8_t *), n);
	rte_pktmbuf_free(m);
	return n;
}

/* The frame from a peer on B. */
static void
esp_frame(struct frame *f, unsigned int peer, unsigned int i, const uint8_t *inner,
	  uint16_t len)
{
	uint8_t outer[2048];
	uint16_t n = esp_make(peer, i, inner, len, outer);

	frame(f, &env.mac_b, &peer_mac, outer, n);
}

/* ---------- driving the gateway ---------- */

static void
inject(int port, const struct frame *f)
{
	CU_ASSERT_EQUAL_FATAL(dp_env_inject(&env, port, f->b, f->len), 0);
}

static void
run(void)
{
	dp_env_run(&env);
}

static unsigned int
drain_all(void)
{
	unsigned int n = 0;

	for (int i = 0; i < N_PORTS; i++)
		n += dp_env_drain(&env, i);
	return n;
}

static uint64_t
drops(enum sp_drop r)
{
	struct sp_lcore_stats s;

	sp_stats_sum(&s);
	return s.drop[r];
}

static uint64_t
ctr(enum sp_ctr c)
{
	struct sp_lcore_stats s;

	sp_stats_sum(&s);
	return s.ctr[c];
}

static const uint8_t *
l3_of(struct rte_mbuf *m, struct sp_l2 *l2)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	CU_ASSERT_EQUAL_FATAL(sp_pkt_l2_parse(p, rte_pktmbuf_data_len(m), l2), SP_PKT_OK);
	return p + l2->l2_len;
}

/* Check a frame the gateway sent to a peer: Ethernet, outer header as lib/tunnel set the SA
 * up, SPI; then decrypt it as the peer. @return the inner packet (data at L3). */
static struct rte_mbuf *
esp_open(struct rte_mbuf *m, unsigned int peer, uint32_t spi)
{
	const struct sp_conf_peer *pc = sp_tun_peer_conf(peer);
	const struct sp_ip *local = sp_tun_peer_local(peer);
	const uint8_t *l3, *esp;
	struct sp_l2 l2;
	uint32_t v;
	uint16_t k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	l3 = l3_of(m, &l2);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &peer_mac));
	CU_ASSERT(rte_is_same_ether_addr(&l2.src, &env.mac_b));
	if (pc->address.family == AF_INET) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;

		CU_ASSERT_EQUAL(l2.ethertype, SP_ETHERTYPE_IPV4);
		CU_ASSERT_EQUAL(ip->src_addr, local->v4);
		CU_ASSERT_EQUAL(ip->dst_addr, pc->address.v4);
		CU_ASSERT_EQUAL(ip->next_proto_id, pc->udp_encap ? IPPROTO_UDP : IPPROTO_ESP);
		CU_ASSERT_EQUAL(ip->time_to_live, 64);
		CU_ASSERT(ip->fragment_offset == rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG));
		CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff);
		CU_ASSERT_EQUAL(rte_be_to_cpu_16(ip->total_length) + l2.l2_len,
				rte_pktmbuf_pkt_len(m));
		esp = l3 + 20;
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)l3;

		CU_ASSERT_EQUAL(l2.ethertype, SP_ETHERTYPE_IPV6);
		CU_ASSERT_EQUAL(memcmp(ip->src_addr, local->v6, 16), 0);
		CU_ASSERT_EQUAL(memcmp(ip->dst_addr, pc->address.v6, 16), 0);
		CU_ASSERT_EQUAL(ip->proto, pc->udp_encap ? IPPROTO_UDP : IPPROTO_ESP);
		CU_ASSERT_EQUAL(ip->hop_limits, 64);
		CU_ASSERT_EQUAL(rte_be_to_cpu_16(ip->payload_len) + 40 + l2.l2_len,
				rte_pktmbuf_pkt_len(m));
		esp = l3 + 40;
	}
	if (pc->udp_encap) {
		const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)esp;

		CU_ASSERT_EQUAL(u->src_port, rte_cpu_to_be_16(4500));
		CU_ASSERT_EQUAL(u->dst_port, rte_cpu_to_be_16(4500));
		esp += 8;
	}
	memcpy(&v, esp, 4);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(v), spi);
	rte_pktmbuf_adj(m, l2.l2_len);
	k = sp_esp_decap(rctx, &m, 1);
	if (k != 1)
		printf("\n  the peer could not decrypt: %s",
		       sp_esp_drop_name(sp_esp_drop_reason(rctx, 0)));
	CU_ASSERT_EQUAL_FATAL(k, 1);
	return m;
}

/* The next frame on port A must be pkt (L3 bytes) towards the inside host. */
static void
expect_inside(const uint8_t *pkt, uint16_t len)
{
	struct rte_mbuf *m = dp_env_sent(&env, P_A);
	const uint8_t *l3;
	struct sp_l2 l2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	l3 = l3_of(m, &l2);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &host_mac));
	CU_ASSERT(rte_is_same_ether_addr(&l2.src, &env.mac_a));
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), l2.l2_len + len);
	CU_ASSERT(rte_pktmbuf_pkt_len(m) == l2.l2_len + len &&
		  memcmp(l3, pkt, len) == 0);
	rte_pktmbuf_free(m);
}

/* ---------- cases ---------- */

static const struct path {
	unsigned int peer;
	const char *name;
	const char *behind4, *behind6;
} paths[] = {
	{ PEER_P, "ESP/IPv4", "10.9.1.1", "fd09::1" },
	{ PEER_P6, "ESP/IPv6", "10.10.1.1", "fd0a::1" },
	{ PEER_PU, "ESP/UDP/IPv4", "10.11.1.1", "fd0b::1" },
	{ PEER_PU6, "ESP/UDP/IPv6", "10.12.1.1", "fd0c::1" },
};

/* Inside host -> behind the peer: ESP to the peer on the configured SPI; decrypted, the
 * packet as it left the inside host, one hop less. */
static void
test_encap(void)
{
	uint8_t pkt[256];

	for (unsigned int i = 0; i < RTE_DIM(paths); i++) {
		const struct path *pa = &paths[i];
		const uint32_t spi = sp_tun_peer_conf(pa->peer)->manual[0].spi_out;

		for (int v = 4; v <= 6; v += 2) {
			uint64_t enc = ctr(SP_CTR_ESP_ENCAP), fwd = ctr(SP_CTR_FORWARDED);
			struct frame f;
			struct rte_mbuf *m;
			uint16_t len;

			len = mk(pkt, v == 4 ? "10.1.0.2" : "fd01::2",
				 v == 4 ? pa->behind4 : pa->behind6, 100 + i);
			frame(&f, &env.mac_a, &host_mac, pkt, len);
			inject(P_A, &f);
			run();
			m = esp_open(dp_env_sent(&env, P_B), pa->peer, spi);
			hop(pkt);
			CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), len);
			CU_ASSERT_EQUAL(m->packet_type,
					v == 4 ? RTE_PTYPE_L3_IPV4 : RTE_PTYPE_L3_IPV6);
			if (rte_pktmbuf_pkt_len(m) != len ||
			    memcmp(rte_pktmbuf_mtod(m, const uint8_t *), pkt, len) != 0) {
				printf("\n  %s, IPv%d inside: not the packet sent", pa->name, v);
				CU_FAIL("inner packet differs");
			}
			rte_pktmbuf_free(m);
			CU_ASSERT_EQUAL(drain_all(), 0);
			CU_ASSERT_EQUAL(ctr(SP_CTR_ESP_ENCAP), enc + 1);
			CU_ASSERT_EQUAL(ctr(SP_CTR_FORWARDED), fwd + 1);
		}
	}
}

/* One burst for several peers, IPv4 and IPv6 mixed: every packet on its own peer's SA, in
 * order per peer. */
static void
test_encap_burst(void)
{
	static const struct {
		unsigned int peer;
		const char *dst;
	} b[] = {
		{ PEER_P, "10.9.0.1" }, { PEER_P6, "10.10.0.1" }, { PEER_P, "10.9.0.2" },
		{ PEER_P, "fd09::3" }, { PEER_PU, "fd0b::1" }, { PEER_PU, "10.11.0.1" },
		{ PEER_P2, "10.13.0.1" }, { PEER_PU6, "10.12.0.1" }, { PEER_P, "10.9.0.4" },
	};
	uint8_t pkt[RTE_DIM(b)][256];
	uint16_t len[RTE_DIM(b)];
	uint64_t enc = ctr(SP_CTR_ESP_ENCAP);
	unsigned int i, k, seen[RTE_DIM(b)] = { 0 };
	struct rte_mbuf *m;
	struct frame f;

	for (i = 0; i < RTE_DIM(b); i++) {
		len[i] = mk(pkt[i], strchr(b[i].dst, ':') ? "fd01::2" : "10.1.0.2", b[i].dst,
			    (uint16_t)(20 + i));
		frame(&f, &env.mac_a, &host_mac, pkt[i], len[i]);
		inject(P_A, &f);
		hop(pkt[i]);
	}
	run();
	CU_ASSERT_EQUAL(ctr(SP_CTR_ESP_ENCAP), enc + RTE_DIM(b));
	/* each must be the next one sent to its peer in its family (the receive burst is split
	 * by family: IPv4 first) */
	for (k = 0; (m = dp_env_sent(&env, P_B)) != NULL; k++) {
		const uint8_t *l3;
		struct sp_l2 l2;
		unsigned int peer;
		uint32_t v;

		l3 = l3_of(m, &l2);
		/* the peer from the outer destination */
		for (peer = 0; peer < N_PEERS; peer++) {
			const struct sp_conf_peer *pc = sp_tun_peer_conf(peer);

			if (pc->address.family == AF_INET ?
			    memcmp(l3 + 16, &pc->address.v4, 4) == 0 :
			    memcmp(l3 + 24, pc->address.v6, 16) == 0)
				break;
		}
		CU_ASSERT_FATAL(peer < N_PEERS);
		memcpy(&v, l3 + (l3[0] >> 4 == 4 ? 20 : 40) + (sp_tun_peer_conf(peer)->udp_encap ?
								  8 : 0), 4);
		m = esp_open(m, peer, rte_be_to_cpu_32(v));
		for (i = 0; i < RTE_DIM(b); i++)
			if (b[i].peer == peer && !seen[i] &&
			    pkt[i][0] >> 4 == rte_pktmbuf_mtod(m, const uint8_t *)[0] >> 4)
				break;
		CU_ASSERT_FATAL(i < RTE_DIM(b));
		seen[i] = 1;
		CU_ASSERT(rte_pktmbuf_pkt_len(m) == len[i] &&
			  memcmp(rte_pktmbuf_mtod(m, const uint8_t *), pkt[i], len[i]) == 0);
		rte_pktmbuf_free(m);
	}
	CU_ASSERT_EQUAL(k, RTE_DIM(b));
	CU_ASSERT_EQUAL(drain_all(), 0);
}

/* A burst of the peers' ESP, good and bad mixed: the good ones out in order, each bad one
 * counted once. */
static void
test_decap_burst(void)
{
	uint64_t dec = ctr(SP_CTR_ESP_DECAP), auth = drops(SP_DROP_ESP_AUTH);
	uint64_t rep = drops(SP_DROP_ESP_REPLAY), nosa = drops(SP_DROP_ESP_NO_SA);
	uint8_t pkt[6][256];
	uint16_t len[6];
	struct frame f[8];
	unsigned int i;

	len[0] = mk(pkt[0], "10.9.0.1", "10.1.0.2", 30);
	len[1] = mk(pkt[1], "fd0a::1", "fd01::2", 31);
	len[2] = mk(pkt[2], "10.11.0.1", "10.1.0.2", 32);
	len[3] = mk(pkt[3], "fd09::1", "fd01::2", 33);
	len[4] = mk(pkt[4], "10.12.0.1", "10.1.0.2", 34);
	len[5] = mk(pkt[5], "10.13.0.1", "10.1.0.2", 35);
	esp_frame(&f[0], PEER_P, 0, pkt[0], len[0]);
	esp_frame(&f[1], PEER_P6, 0, pkt[1], len[1]);
	f[2] = f[0];                                   /* replay within the burst */
	esp_frame(&f[3], PEER_PU, 0, pkt[2], len[2]);
	esp_frame(&f[4], PEER_P, 0, pkt[3], len[3]);
	f[4].b[f[4].len - 5] ^= 0x10;                  /* auth */
	esp_frame(&f[5], PEER_PU6, 0, pkt[4], len[4]);
	esp_frame(&f[6], PEER_P2, 0, pkt[5], len[5]);
	f[7] = f[6];
	f[7].b[14 + 20 + 3] = 0x77;                    /* no SA */
	for (i = 0; i < RTE_DIM(f); i++)
		inject(P_B, &f[i]);
	run();
	CU_ASSERT_EQUAL(ctr(SP_CTR_ESP_DECAP), dec + 5);
	CU_ASSERT_EQUAL(drops(SP_DROP_ESP_AUTH), auth + 1);
	CU_ASSERT_EQUAL(drops(SP_DROP_ESP_REPLAY), rep + 1);
	CU_ASSERT_EQUAL(drops(SP_DROP_ESP_NO_SA), nosa + 1);
	/* the burst is split by family: the outer IPv4 packets first (pkt 0, 2, 5), then the
	 * outer IPv6 ones; of what those carry, the inner IPv4 (pkt 4) before the IPv6 (pkt 1) */
	for (i = 0; i < 6; i++)
		hop(pkt[i]);
	expect_inside(pkt[0], len[0]);
	expect_inside(pkt[2], len[2]);
	expect_inside(pkt[5], len[5]);
	expect_inside(pkt[4], len[4]);
	expect_inside(pkt[1], len[1]);
	CU_ASSERT_EQUAL(drain_all(), 0);
}

/* The peer's ESP from behind it to the inside host: the inner packet leaves A. */
static void
test_decap(void)
{
	uint8_t pkt[256];

	for (unsigned int i = 0; i < RTE_DIM(paths); i++) {
		const struct path *pa = &paths[i];

		for (int v = 4; v <= 6; v += 2) {
			uint64_t dec = ctr(SP_CTR_ESP_DECAP);
			struct frame f;
			uint16_t len;

			len = mk(pkt, v == 4 ? pa->behind4 : pa->behind6,
				 v == 4 ? "10.1.0.2" : "fd01::2", 200 + i);
			esp_frame(&f, pa->peer, 0, pkt, len);
			inject(P_B, &f);
			run();
			hop(pkt);
			expect_inside(pkt, len);
			CU_ASSERT_EQUAL(drain_all(), 0);
			CU_ASSERT_EQUAL(ctr(SP_CTR_ESP_DECAP), dec + 1);
		}
	}
}

/* One frame in, nothing out, exactly one more of the reason. */
static void
expect_drop(int port, const struct frame *f, enum sp_drop r, const char *what)
{
	uint64_t before = drops(r);

	inject(port, f);
	run();
	if (drain_all() != 0 || drops(r) != before + 1) {
		printf("\n  %s: %s %" PRIu64 " -> %" PRIu64, what, sp_drop_desc[r].name, before,
		       drops(r));
		CU_FAIL("expected drop");
	}
}

static void
test_esp_drops(void)
{
	uint8_t pkt[256], outer[512];
	struct frame f, g;
	uint16_t len, n;
	uint64_t dec;

	/* tampered: one ciphertext byte flipped */
	len = mk(pkt, "10.9.1.1", "10.1.0.2", 64);
	esp_frame(&f, PEER_P, 0, pkt, len);
	f.b[14 + 20 + 16 + 10] ^= 0x40;
	expect_drop(P_B, &f, SP_DROP_ESP_AUTH, "flipped byte");
	/* the ICV itself */
	esp_frame(&f, PEER_PU6, 0, pkt, len);
	f.b[f.len - 1] ^= 1;
	expect_drop(P_B, &f, SP_DROP_ESP_AUTH, "flipped ICV bit, UDP/IPv6");

	/* replayed: the same packet twice */
	esp_frame(&f, PEER_P, 0, pkt, len);
	inject(P_B, &f);
	run();
	hop(pkt);
	expect_inside(pkt, len);
	expect_drop(P_B, &f, SP_DROP_ESP_REPLAY, "replay");

	/* no SA: an SPI nobody has, and an outbound SPI of ours */
	len = mk(pkt, "10.9.1.1", "10.1.0.2", 64);
	esp_frame(&f, PEER_P, 0, pkt, len);
	f.b[14 + 20 + 2] ^= 0x77;
	expect_drop(P_B, &f, SP_DROP_ESP_NO_SA, "unknown SPI");
	esp_frame(&f, PEER_P, 0, pkt, len);
	f.b[14 + 20 + 2] = 0x20; /* 0x1001 -> 0x2001 */
	expect_drop(P_B, &f, SP_DROP_ESP_NO_SA, "our outbound SPI");

	/* truncated: header, IV and 4 bytes (the outer lengths made to match) */
	esp_frame(&f, PEER_P, 0, pkt, len);
	{
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f.b + 14);

		f.len = 14 + 20 + 8 + 8 + 4;
		ip->total_length = rte_cpu_to_be_16(20 + 8 + 8 + 4);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	expect_drop(P_B, &f, SP_DROP_ESP_MALFORMED, "truncated");
	/* ... and UDP-encapsulated with the UDP length past the packet */
	esp_frame(&f, PEER_PU, 0, pkt, len);
	{
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(f.b + 14 + 20);

		u->dgram_len = rte_cpu_to_be_16(rte_be_to_cpu_16(u->dgram_len) + 8);
	}
	expect_drop(P_B, &f, SP_DROP_ESP_MALFORMED, "UDP length");

	/* NAT keepalive on 4500 */
	n = mk(outer, "10.2.0.10", "10.2.0.1", 1);
	{
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)outer;
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(outer + 20);

		u->src_port = rte_cpu_to_be_16(4500);
		u->dst_port = rte_cpu_to_be_16(4500);
		outer[28] = 0xff;
		u->dgram_cksum = 0;
		u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	}
	frame(&f, &env.mac_b, &peer_mac, outer, n);
	expect_drop(P_B, &f, SP_DROP_ESP_NOT_ESP, "keepalive");

	/* reverse path: decrypted fine, but the inner source is not behind this peer */
	dec = ctr(SP_CTR_ESP_DECAP);
	len = mk(pkt, "10.50.0.1", "10.1.0.2", 64);
	esp_frame(&f, PEER_P, 0, pkt, len);
	expect_drop(P_B, &f, SP_DROP_TUN_RPF, "source behind no peer");
	len = mk(pkt, "10.10.1.1", "10.1.0.2", 64);
	esp_frame(&f, PEER_P, 0, pkt, len);
	expect_drop(P_B, &f, SP_DROP_TUN_RPF, "source behind another peer");
	len = mk(pkt, "fd0a::5", "fd01::2", 64);
	esp_frame(&f, PEER_P, 0, pkt, len);
	expect_drop(P_B, &f, SP_DROP_TUN_RPF, "IPv6 source behind another peer");
	len = mk(pkt, "10.1.0.2", "10.1.0.3", 64);
	esp_frame(&f, PEER_PU6, 0, pkt, len);
	expect_drop(P_B, &f, SP_DROP_TUN_RPF, "source on our inside");
	CU_ASSERT_EQUAL(ctr(SP_CTR_ESP_DECAP), dec + 4); /* the ESP layer accepted them */

	/* plaintext claiming a source behind a tunnel, on either side */
	len = mk(pkt, "10.9.1.1", "10.1.0.2", 64);
	frame(&f, &env.mac_b, &peer_mac, pkt, len);
	expect_drop(P_B, &f, SP_DROP_TUN_PLAINTEXT, "clear from 10.9.1.1 on B");
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	expect_drop(P_A, &f, SP_DROP_TUN_PLAINTEXT, "clear from 10.9.1.1 on A");
	len = mk(pkt, "fd09::1", "fd01::2", 64);
	frame(&f, &env.mac_b, &peer_mac, pkt, len);
	expect_drop(P_B, &f, SP_DROP_TUN_PLAINTEXT, "clear from fd09::1 on B");
	/* ... even to our own address */
	len = mk(pkt, "10.11.0.7", "10.2.0.1", 64);
	frame(&f, &env.mac_b, &peer_mac, pkt, len);
	expect_drop(P_B, &f, SP_DROP_TUN_PLAINTEXT, "clear from 10.11.0.7 to us");

	/* ESP inside ESP: an inner packet that is ESP (or UDP 4500) to us again */
	n = esp_make(PEER_P, 0, pkt, mk(pkt, "10.9.1.1", "10.1.0.2", 10), outer);
	len = mk_ip(pkt, "10.9.1.1", "10.2.0.1", 64, IPPROTO_ESP, (uint16_t)(n - 20), false);
	memcpy(pkt + 20, outer + 20, n - 20u);
	esp_frame(&g, PEER_P, 0, pkt, len);
	expect_drop(P_B, &g, SP_DROP_TUN_LOOP, "ESP in ESP");
	n = esp_make(PEER_PU, 0, pkt, mk(pkt, "10.11.1.1", "10.1.0.2", 10), outer);
	esp_frame(&g, PEER_PU, 0, outer, n); /* pu's ESP/UDP from 10.2.0.10: not behind pu */
	expect_drop(P_B, &g, SP_DROP_TUN_RPF, "ESP/UDP in ESP from the peer's own address");
	len = mk_ip(pkt, "10.11.1.1", "10.2.0.1", 64, IPPROTO_UDP, (uint16_t)(n - 28), false);
	{
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(pkt + 20);

		memcpy(pkt + 28, outer + 28, n - 28u);
		u->src_port = rte_cpu_to_be_16(4500);
		u->dst_port = rte_cpu_to_be_16(4500);
		u->dgram_cksum = 0;
	}
	esp_frame(&g, PEER_PU, 0, pkt, len);
	expect_drop(P_B, &g, SP_DROP_TUN_LOOP, "ESP/UDP in ESP");
}

/* Never in clear: a keyed peer without SAs, and a manual one flushed; then new SAs. */
static void
test_tunnel_down(void)
{
	uint8_t pkt[256];
	struct frame f, g;
	uint16_t len;
	const struct sp_conf_peer *pc = sp_tun_peer_conf(PEER_P);
	struct sp_crypto_key kin, kout;
	uint32_t spi_in = pc->manual[0].spi_in, spi_out = pc->manual[0].spi_out;
	char err[128];
	struct rte_mbuf *m;

	len = mk(pkt, "10.1.0.2", "10.14.0.9", 64);
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	expect_drop(P_A, &f, SP_DROP_TUN_DOWN, "keyed peer, no SA yet");

	/* an ESP packet for p made before the flush */
	len = mk(pkt, "10.9.1.1", "10.1.0.2", 64);
	esp_frame(&g, PEER_P, 0, pkt, len);
	sp_tun_flush(PEER_P);
	len = mk(pkt, "10.1.0.2", "10.9.1.1", 64);
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	expect_drop(P_A, &f, SP_DROP_TUN_DOWN, "flushed peer, IPv4");
	len = mk(pkt, "fd01::2", "fd09::1", 64);
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	expect_drop(P_A, &f, SP_DROP_TUN_DOWN, "flushed peer, IPv6");
	expect_drop(P_B, &g, SP_DROP_ESP_NO_SA, "ESP to a flushed peer");

	/* epoch 2 from the same keys: both directions work again, sequence numbers anew */
	key_from(&kin, pc->manual[0].key_in, pc->manual[0].keymat_len);
	key_from(&kout, pc->manual[0].key_out, pc->manual[0].keymat_len);
	CU_ASSERT_EQUAL_FATAL(sp_tun_add_inbound(PEER_P, 2, &spi_in, &kin, 1, err, sizeof(err)),
			      0);
	CU_ASSERT_EQUAL_FATAL(sp_tun_add_outbound(PEER_P, 2, &spi_out, &kout, 1, err,
						  sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(sp_tun_activate(PEER_P, 2), 0);
	remote_drop(PEER_P);
	CU_ASSERT_EQUAL_FATAL(remote_make(PEER_P), 0);
	len = mk(pkt, "10.1.0.2", "10.9.1.1", 64);
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	inject(P_A, &f);
	run();
	m = esp_open(dp_env_sent(&env, P_B), PEER_P, spi_out);
	CU_ASSERT_EQUAL(sp_esp_sa_seq(rm[PEER_P].in[0]), 1);
	rte_pktmbuf_free(m);
	len = mk(pkt, "10.9.1.1", "10.1.0.2", 64);
	esp_frame(&g, PEER_P, 0, pkt, len);
	inject(P_B, &g);
	run();
	hop(pkt);
	expect_inside(pkt, len);
	CU_ASSERT_EQUAL(drain_all(), 0);
}

/* Too big for the tunnel: ICMP with the tunnel's inner MTU when DF is set (and for IPv6),
 * fragments encrypted one by one when it is not. */
static void
test_mtu(void)
{
	const uint16_t inner_mtu = sp_esp_inner_mtu(sp_tun_out_sa(env.tw[0], PEER_P));
	uint64_t mtu = drops(SP_DROP_ESP_MTU), enc = ctr(SP_CTR_ESP_ENCAP);
	uint64_t frags = ctr(SP_CTR_FRAGMENTS);
	static uint8_t pkt[2048];
	uint8_t rebuilt[2048];
	const struct rte_ipv4_hdr *ip;
	const struct rte_ipv6_hdr *ip6;
	const uint8_t *icmp;
	struct rte_mbuf *m;
	struct sp_l2 l2;
	struct frame f;
	uint16_t len, got = 0;
	unsigned int n;

	/* B's MTU 1400, ESP over IPv4: 1400 - 20 - 8 - 8 - 16 = 1348, minus 2, 4-aligned */
	CU_ASSERT_EQUAL(inner_mtu, 1346);

	/* DF: fragmentation needed, quoting the tunnel's inner MTU */
	len = mk_ip(pkt, "10.1.0.2", "10.9.1.1", 64, IPPROTO_UDP, 1400, true);
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	inject(P_A, &f);
	run();
	CU_ASSERT_PTR_NULL(dp_env_sent(&env, P_B));
	m = dp_env_sent(&env, P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv4_hdr *)l3_of(m, &l2);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &host_mac));
	CU_ASSERT_EQUAL(ip->next_proto_id, IPPROTO_ICMP);
	CU_ASSERT_EQUAL(ip->src_addr, addr("10.1.0.1").v4);
	CU_ASSERT_EQUAL(ip->dst_addr, addr("10.1.0.2").v4);
	icmp = (const uint8_t *)(ip + 1);
	CU_ASSERT_EQUAL(icmp[0], SP_ICMP_UNREACH);
	CU_ASSERT_EQUAL(icmp[1], SP_ICMP_UNREACH_NEEDFRAG);
	CU_ASSERT_EQUAL((icmp[6] << 8) | icmp[7], inner_mtu);
	CU_ASSERT_EQUAL(rte_raw_cksum(icmp, rte_be_to_cpu_16(ip->total_length) - 20), 0xffff);
	CU_ASSERT_EQUAL(((const struct rte_ipv4_hdr *)(icmp + 8))->dst_addr,
			addr("10.9.1.1").v4);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(drain_all(), 0);
	CU_ASSERT_EQUAL(drops(SP_DROP_ESP_MTU), mtu + 1);
	CU_ASSERT_EQUAL(ctr(SP_CTR_ESP_ENCAP), enc);
	/* exactly the inner MTU still goes through whole */
	len = mk_ip(pkt, "10.1.0.2", "10.9.1.1", 64, IPPROTO_UDP, inner_mtu - 28, true);
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	inject(P_A, &f);
	run();
	m = esp_open(dp_env_sent(&env, P_B), PEER_P, DP_ENV_P_SPI_OUT);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), inner_mtu);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(drain_all(), 0);
	enc++;

	/* no DF: two fragments, each encrypted, each with a valid header */
	len = mk_ip(pkt, "10.1.0.2", "10.9.1.1", 64, IPPROTO_UDP, 1450, false);
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	inject(P_A, &f);
	run();
	for (n = 0; (m = dp_env_sent(&env, P_B)) != NULL; n++) {
		uint16_t tl, off;

		m = esp_open(m, PEER_P, DP_ENV_P_SPI_OUT);
		ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
		tl = rte_be_to_cpu_16(ip->total_length);
		off = rte_be_to_cpu_16(ip->fragment_offset);
		CU_ASSERT(tl <= inner_mtu);
		CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), tl);
		CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff);
		CU_ASSERT_EQUAL(ip->time_to_live, 63);
		CU_ASSERT_EQUAL(ip->packet_id, rte_cpu_to_be_16(0x4321));
		CU_ASSERT_EQUAL(!!(off & RTE_IPV4_HDR_MF_FLAG), n == 0);
		CU_ASSERT_EQUAL((off & RTE_IPV4_HDR_OFFSET_MASK) * 8, got);
		if (got + tl - 20 <= (int)sizeof(rebuilt))
			memcpy(rebuilt + got, (const uint8_t *)ip + 20, tl - 20u);
		got += tl - 20;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(got, 8 + 1450);
	CU_ASSERT_EQUAL(memcmp(rebuilt, pkt + 20, 8 + 1450), 0);
	CU_ASSERT_EQUAL(ctr(SP_CTR_FRAGMENTS), frags + 2);
	CU_ASSERT_EQUAL(ctr(SP_CTR_ESP_ENCAP), enc + 2);
	CU_ASSERT_EQUAL(drain_all(), 0);

	/* IPv6: packet too big from the inside interface's address */
	len = mk(pkt, "fd01::2", "fd09::1", 1400);
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	inject(P_A, &f);
	run();
	CU_ASSERT_PTR_NULL(dp_env_sent(&env, P_B));
	m = dp_env_sent(&env, P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip6 = (const struct rte_ipv6_hdr *)l3_of(m, &l2);
	CU_ASSERT_EQUAL(ip6->proto, IPPROTO_ICMPV6);
	CU_ASSERT_EQUAL(memcmp(ip6->src_addr, addr("fd01::1").v6, 16), 0);
	CU_ASSERT_EQUAL(memcmp(ip6->dst_addr, addr("fd01::2").v6, 16), 0);
	icmp = (const uint8_t *)(ip6 + 1);
	CU_ASSERT_EQUAL(icmp[0], SP_ICMP6_PACKET_TOO_BIG);
	CU_ASSERT_EQUAL(icmp[1], 0);
	CU_ASSERT_EQUAL(((uint32_t)icmp[4] << 24 | (uint32_t)icmp[5] << 16 |
			 (uint32_t)icmp[6] << 8 | icmp[7]), inner_mtu);
	CU_ASSERT_EQUAL(rte_ipv6_udptcp_cksum_verify(ip6, icmp), 0);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(drops(SP_DROP_ESP_MTU), mtu + 2);
	CU_ASSERT_EQUAL(drain_all(), 0);

	/* the IPv6 tunnel has its own, smaller inner MTU: 1400 - 40 - 32 - 2 */
	CU_ASSERT_EQUAL(sp_esp_inner_mtu(sp_tun_out_sa(env.tw[0], PEER_P6)), 1326);
	len = mk_ip(pkt, "10.1.0.2", "10.10.1.1", 64, IPPROTO_UDP, 1326 - 28 + 1, true);
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	inject(P_A, &f);
	run();
	m = dp_env_sent(&env, P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	icmp = l3_of(m, &l2) + 20;
	CU_ASSERT_EQUAL(icmp[0], SP_ICMP_UNREACH);
	CU_ASSERT_EQUAL((icmp[6] << 8) | icmp[7], 1326);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(drain_all(), 0);
}

/* What the gateway itself sends into a tunnel: an echo reply, an ICMP error about a packet
 * that came out of the tunnel, the kernel's traffic. */
static void
test_own_traffic(void)
{
	uint64_t ttl = drops(SP_DROP_TTL_EXPIRED), fk = ctr(SP_CTR_FROM_KERNEL);
	uint8_t pkt[256];
	const struct rte_ipv4_hdr *ip;
	const uint8_t *icmp;
	struct rte_mbuf *m;
	struct frame f;
	uint16_t len;

	/* ping through the tunnel to our inside address: the reply goes back the same way */
	len = mk_ip(pkt, "10.9.1.1", "10.1.0.1", 64, IPPROTO_ICMP, 40, false);
	memset(pkt + 20, 0, 8);
	pkt[20] = SP_ICMP_ECHO;
	((struct rte_icmp_hdr *)(pkt + 20))->icmp_cksum = (uint16_t)~rte_raw_cksum(pkt + 20, 40);
	esp_frame(&f, PEER_P, 0, pkt, len);
	inject(P_B, &f);
	run();
	m = esp_open(dp_env_sent(&env, P_B), PEER_P, DP_ENV_P_SPI_OUT);
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	CU_ASSERT_EQUAL(ip->src_addr, addr("10.1.0.1").v4);
	CU_ASSERT_EQUAL(ip->dst_addr, addr("10.9.1.1").v4);
	CU_ASSERT_EQUAL(((const uint8_t *)(ip + 1))[0], SP_ICMP_ECHO_REPLY);
	CU_ASSERT_EQUAL(rte_raw_cksum(ip + 1, 40), 0xffff);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(drain_all(), 0);

	/* TTL 1 out of the tunnel: time exceeded, from the interface it arrived on, back in */
	len = mk_ip(pkt, "10.9.1.1", "10.1.0.2", 1, IPPROTO_UDP, 30, false);
	esp_frame(&f, PEER_P, 0, pkt, len);
	inject(P_B, &f);
	run();
	m = esp_open(dp_env_sent(&env, P_B), PEER_P, DP_ENV_P_SPI_OUT);
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	icmp = (const uint8_t *)(ip + 1);
	CU_ASSERT_EQUAL(ip->src_addr, addr("10.2.0.1").v4);
	CU_ASSERT_EQUAL(ip->dst_addr, addr("10.9.1.1").v4);
	CU_ASSERT_EQUAL(icmp[0], SP_ICMP_TIMXCEED);
	CU_ASSERT_EQUAL(memcmp(icmp + 8, pkt, 20), 0);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(drops(SP_DROP_TTL_EXPIRED), ttl + 1);
	CU_ASSERT_EQUAL(drain_all(), 0);

	/* the kernel's own packet to a host behind p: encrypted, no hop spent */
	len = mk(pkt, "10.1.0.1", "10.9.1.1", 60);
	frame(&f, &dp_env_exc_mac, &dp_env_kernel_mac, pkt, len);
	inject(P_X, &f);
	run();
	m = esp_open(dp_env_sent(&env, P_B), PEER_P, DP_ENV_P_SPI_OUT);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), len);
	CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod(m, const uint8_t *), pkt, len), 0);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(ctr(SP_CTR_FROM_KERNEL), fk + 1);
	CU_ASSERT_EQUAL(drain_all(), 0);
}

/* Worker 1 owns SA 1 of p2; worker 0 owns p's only SA. */
static void
test_handoff(void)
{
	struct sp_worker *w1 = dp_worker(1);
	const uint16_t pa = env.port[P_A], pb = env.port[P_B];
	uint64_t ho = ctr(SP_CTR_TUN_HANDOFFS), dec = ctr(SP_CTR_ESP_DECAP);
	uint16_t peer;
	uint8_t pkt[256];
	struct rte_mbuf *m;
	struct sp_l2 l2;
	struct frame f;
	uint16_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w1->handoff);
	CU_ASSERT_EQUAL(sp_esp_sa_conf(sp_tun_in_sa(0x1302))->owner, 1);
	CU_ASSERT_EQUAL(sp_esp_sa_conf(sp_tun_in_sa(0x1301))->owner, 0);

	/* SA 0 of p2: worker 0's, decrypted where it arrived */
	len = mk(pkt, "10.13.0.5", "10.1.0.2", 80);
	esp_frame(&f, PEER_P2, 0, pkt, len);
	inject(P_B, &f);
	run();
	hop(pkt);
	expect_inside(pkt, len);
	CU_ASSERT_EQUAL(rte_ring_count(w1->handoff), 0);

	/* SA 1: passed to worker 1 untouched; it decrypts and forwards */
	len = mk(pkt, "10.13.0.6", "10.1.0.2", 81);
	esp_frame(&f, PEER_P2, 1, pkt, len);
	inject(P_B, &f);
	run();
	CU_ASSERT_EQUAL(drain_all(), 0);
	CU_ASSERT_EQUAL(rte_ring_count(w1->handoff), 1);
	CU_ASSERT_EQUAL(ctr(SP_CTR_TUN_HANDOFFS), ho + 1);
	CU_ASSERT_EQUAL(ctr(SP_CTR_ESP_DECAP), dec + 1);
	CU_ASSERT_EQUAL(dp_tun_drain_handoff(w1), 1);
	CU_ASSERT_EQUAL(ctr(SP_CTR_ESP_DECAP), dec + 2);
	CU_ASSERT_EQUAL_FATAL(w1->tx[pa].n, 1);
	m = w1->tx[pa].pkts[0];
	w1->tx[pa].n = 0;
	hop(pkt);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 14 + len);
	CU_ASSERT_EQUAL(memcmp(l3_of(m, &l2), pkt, len), 0);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &host_mac));
	rte_pktmbuf_free(m);

	/* worker 1's ring full: dropped and counted, nothing lost track of */
	{
		static struct rte_mbuf *fill[DP_RING_SIZE];
		unsigned int room = rte_ring_free_count(w1->handoff), got;
		uint64_t full = drops(SP_DROP_TUN_HANDOFF);

		CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(sp_port_pool(), fill, room), 0);
		CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_bulk(w1->handoff, (void **)fill, room,
							    NULL), room);
		len = mk(pkt, "10.13.0.7", "10.1.0.2", 82);
		esp_frame(&f, PEER_P2, 1, pkt, len);
		expect_drop(P_B, &f, SP_DROP_TUN_HANDOFF, "hand-off ring full");
		CU_ASSERT_EQUAL(drops(SP_DROP_TUN_HANDOFF), full + 1);
		got = rte_ring_dequeue_burst(w1->handoff, (void **)fill, RTE_DIM(fill), NULL);
		CU_ASSERT_EQUAL(got, room);
		rte_pktmbuf_free_bulk(fill, got);
	}

	/* worker 1 sending to p (one SA, worker 0's): handed to worker 0, which encrypts */
	len = mk(pkt, "10.1.0.2", "10.9.3.3", 90);
	m = mbuf_of(pkt, len);
	memset(dp_meta(m), 0, sizeof(struct sp_meta));
	dp_meta(m)->rx_iface = 0;
	peer = PEER_P;
	dp_tun_encap(w1, &m, &peer, 1);
	CU_ASSERT_EQUAL(w1->tx[pb].n, 0);
	CU_ASSERT_EQUAL(rte_ring_count(env.w->handoff), 1);
	CU_ASSERT_EQUAL(ctr(SP_CTR_TUN_HANDOFFS), ho + 2);
	run();
	CU_ASSERT_EQUAL(rte_ring_count(env.w->handoff), 0);
	m = esp_open(dp_env_sent(&env, P_B), PEER_P, DP_ENV_P_SPI_OUT);
	CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod(m, const uint8_t *), pkt, len), 0);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(drain_all(), 0);

	/* worker 1 sending to p2 uses p2's SA 1, its own: no hand-off */
	len = mk(pkt, "10.1.0.2", "10.13.3.3", 91);
	m = mbuf_of(pkt, len);
	memset(dp_meta(m), 0, sizeof(struct sp_meta));
	peer = PEER_P2;
	dp_tun_encap(w1, &m, &peer, 1);
	CU_ASSERT_EQUAL(ctr(SP_CTR_TUN_HANDOFFS), ho + 2);
	CU_ASSERT_EQUAL_FATAL(w1->tx[pb].n, 1);
	m = w1->tx[pb].pkts[0];
	w1->tx[pb].n = 0;
	m = esp_open(m, PEER_P2, 0x2302);
	CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod(m, const uint8_t *), pkt, len), 0);
	rte_pktmbuf_free(m);
	/* ... and worker 0 sends on SA 0 */
	frame(&f, &env.mac_a, &host_mac, pkt, len);
	inject(P_A, &f);
	run();
	m = esp_open(dp_env_sent(&env, P_B), PEER_P2, 0x2301);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(drain_all(), 0);
}

/* fuzz_dp's tunnel seeds (tests/fuzz/dp_tunnel_seeds.py, scapy's ESP) still reach what they
 * were made for: decryption, the gateway answering through the tunnel, encryption. */
static void
test_fuzz_seeds(void)
{
	static const struct {
		const char *name;
		unsigned int decap, encap, frames;
		enum sp_drop drop;       /* one of these too, or SP_DROP__MAX */
	} seeds[] = {
		{ "esp-udp4", 1, 0, 1, SP_DROP__MAX },
		{ "esp-echo4", 1, 1, 1, SP_DROP__MAX },
		{ "esp-echo6", 1, 1, 1, SP_DROP__MAX },
		{ "esp-natt-udp4", 1, 0, 1, SP_DROP__MAX },
		{ "esp-in-esp", 1, 0, 0, SP_DROP_TUN_LOOP },
		{ "tun-udp4", 0, 1, 1, SP_DROP__MAX },
		{ "tun-frag4", 0, 2, 2, SP_DROP__MAX },
		{ "tun-big6", 0, 0, 1, SP_DROP_ESP_MTU },
	};
	uint8_t b[2048];

	for (unsigned int i = 0; i < RTE_DIM(seeds); i++) {
		uint64_t dec = ctr(SP_CTR_ESP_DECAP), enc = ctr(SP_CTR_ESP_ENCAP);
		uint64_t d = seeds[i].drop < SP_DROP__MAX ? drops(seeds[i].drop) : 0;
		char path[128];
		unsigned int out;
		FILE *fp;
		size_t n;

		snprintf(path, sizeof(path), "../fuzz/corpus/dp/%s", seeds[i].name);
		fp = fopen(path, "rb");
		CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
		n = fread(b, 1, sizeof(b), fp);
		fclose(fp);
		CU_ASSERT_FATAL(n > 1 && n < sizeof(b));
		CU_ASSERT_EQUAL_FATAL(dp_env_inject(&env, b[0] % N_PORTS, b + 1,
						    (uint32_t)(n - 1)), 0);
		run();
		out = drain_all();
		if (ctr(SP_CTR_ESP_DECAP) != dec + seeds[i].decap ||
		    ctr(SP_CTR_ESP_ENCAP) != enc + seeds[i].encap || out != seeds[i].frames ||
		    (seeds[i].drop < SP_DROP__MAX && drops(seeds[i].drop) != d + 1)) {
			printf("\n  seed %s: decap +%" PRIu64 ", encap +%" PRIu64 ", %u frames",
			       seeds[i].name, ctr(SP_CTR_ESP_DECAP) - dec,
			       ctr(SP_CTR_ESP_ENCAP) - enc, out);
			CU_FAIL("seed");
		}
	}
}

static int
suite_init(void)
{
	static const struct dp_env_tun t = { .n_workers = 2, .peers = more_peers };
	static const char *const hosts[] = { "10.1.0.2", "fd01::2" };
	static const char *const peers[] = { "fd02::9", "10.2.0.10", "fd02::10", "10.2.0.11",
					     "10.2.0.12" };
	struct sp_neigh_key k;
	struct sp_ip a;
	unsigned int i;

	if (sp_test_eal_init() != 0 || dp_env_setup_tunnel(&env, &t) != 0)
		return -1;
	for (i = 0; i < RTE_DIM(hosts); i++) {
		sp_ip_parse(hosts[i], &a, false);
		sp_neigh_key_set(&k, 0, &a);
		if (sp_neigh_add_static(env.neigh, &k, &host_mac) != 0)
			return -1;
	}
	for (i = 0; i < RTE_DIM(peers); i++) {
		sp_ip_parse(peers[i], &a, false);
		sp_neigh_key_set(&k, 2, &a);
		if (sp_neigh_add_static(env.neigh, &k, &peer_mac) != 0)
			return -1;
	}
	if (sp_tun_peer_count() != N_PEERS)
		return -1;
	/* the peers' side runs on the engine's spare context */
	rcc = sp_crypto_ctx_create(env.engine, env.n_workers);
	rctx = rcc != NULL ? sp_esp_ctx_create(0, env.engine, rcc) : NULL;
	rtab = sp_esp_table_create();
	if (rctx == NULL || rtab == NULL)
		return -1;
	sp_esp_ctx_set_table(rctx, rtab);
	printf("\n  engine %s, %u workers", sp_crypto_engine_name(env.engine), env.n_workers);
	for (i = 0; i < N_PEERS; i++)
		if (sp_tun_peer_conf(i)->n_manual > 0 && remote_make(i) != 0)
			return -1;
	return 0;
}

static void
test_teardown_no_leak(void)
{
	for (unsigned int i = 0; i < N_PEERS; i++)
		for (unsigned int k = 0; k < rm[i].n; k++)
			sp_esp_sa_destroy(rm[i].out[k]);
	memset(rm, 0, sizeof(rm));
	sp_esp_table_destroy(rtab);
	sp_esp_ctx_destroy(rctx);
	sp_crypto_ctx_destroy(env.engine, rcc);
	rtab = NULL;
	rctx = NULL;
	rcc = NULL;
	CU_ASSERT_EQUAL(dp_env_teardown(&env), 0);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("dp tunnels", suite_init, NULL);
	CU_add_test(s, "inside -> tunnel: ESP/UDP, IPv4/IPv6 outer and inner", test_encap);
	CU_add_test(s, "tunnel -> inside: ESP/UDP, IPv4/IPv6 outer and inner", test_decap);
	CU_add_test(s, "one burst into several tunnels", test_encap_burst);
	CU_add_test(s, "one burst out of several tunnels, good and bad", test_decap_burst);
	CU_add_test(s, "ESP and tunnel drops by reason", test_esp_drops);
	CU_add_test(s, "tunnel down: no SA, flushed, new epoch", test_tunnel_down);
	CU_add_test(s, "path MTU: ICMP, fragments before encryption", test_mtu);
	CU_add_test(s, "the gateway's own packets into the tunnel", test_own_traffic);
	CU_add_test(s, "hand-off to the worker that owns the SA", test_handoff);
	CU_add_test(s, "fuzz_dp's tunnel seeds", test_fuzz_seeds);
	CU_add_test(s, "teardown returns every mbuf", test_teardown_no_leak);
	return sp_test_run();
}
