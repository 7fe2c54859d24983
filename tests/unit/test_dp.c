/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/dp: real frames through the worker's data path, driven one poll at a time, with the
 * control core's side run in between. Ports are net_ring devices whose rings the test fills
 * and drains, so every byte that leaves the gateway is checked.
 *
 *   host 10.1.0.2 / fd01::2 --- [A: 10.1.0.1/24 fd01::1/64, vlan 100: 10.100.0.1/24]
 *                               [B: 10.2.0.1/24 fd02::1/64, MTU 1400] --- 10.2.0.2 (static)
 *                               [exception] --- kernel (peer MAC 02:53:50:00:00:00)
 */

#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dp_env.h"
#include "sp_dp.h"
#include "sp_neigh.h"
#include "sp_port.h"
#include "sp_rcu.h"
#include "sp_route.h"
#include "test_common.h"

enum { P_A = DP_ENV_A, P_B = DP_ENV_B, P_X = DP_ENV_X, N_PORTS = DP_ENV_PORTS };

static struct dp_env env;

static const struct rte_ether_addr host_mac = { { 0x02, 0, 0, 0, 0xaa, 0x01 } };
static const struct rte_ether_addr b_host_mac = { { 0x02, 0, 0, 0, 0xbb, 0x02 } };
#define exc_mac dp_env_exc_mac
#define kernel_mac dp_env_kernel_mac

/* ---------- frame construction ---------- */

struct frame {
	uint8_t b[2048];
	uint16_t len;
};

static uint32_t
ip4(const char *s)
{
	struct sp_ip ip;

	CU_ASSERT_EQUAL_FATAL(sp_ip_parse(s, &ip, false), 0);
	return ip.v4;
}

static void
ip6(const char *s, uint8_t out[16])
{
	struct sp_ip ip;

	CU_ASSERT_EQUAL_FATAL(sp_ip_parse(s, &ip, false), 0);
	memcpy(out, ip.v6, 16);
}

static uint8_t *
eth(struct frame *f, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
    uint16_t vlan, uint16_t type)
{
	f->len = sp_pkt_eth_write(f->b, dst, src, vlan, type);
	return f->b + f->len;
}

/* IPv4 + ICMP echo or UDP, with payload bytes; checksums valid. */
static void
ipv4(struct frame *f, const char *src, const char *dst, uint8_t ttl, uint8_t proto,
     uint16_t payload, bool df)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f->b + f->len);
	uint8_t *l4 = (uint8_t *)(ip + 1);
	uint16_t l4len = 8 + payload;

	memset(ip, 0, sizeof(*ip) + l4len);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + l4len);
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
	ip->time_to_live = ttl;
	ip->next_proto_id = proto;
	ip->src_addr = ip4(src);
	ip->dst_addr = ip4(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	for (uint16_t i = 0; i < payload; i++)
		l4[8 + i] = (uint8_t)i;
	if (proto == IPPROTO_ICMP) {
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)l4;

		ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
		ic->icmp_ident = rte_cpu_to_be_16(7);
		ic->icmp_seq_nb = rte_cpu_to_be_16(1);
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(l4, l4len);
	} else {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)l4;

		u->src_port = rte_cpu_to_be_16(4000);
		u->dst_port = rte_cpu_to_be_16(5000);
		u->dgram_len = rte_cpu_to_be_16(l4len);
		u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	}
	f->len += sizeof(*ip) + l4len;
}

static void
ipv6(struct frame *f, const char *src, const char *dst, uint8_t hlim, uint8_t icmp_type,
     uint16_t payload)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(f->b + f->len);
	uint8_t *l4 = (uint8_t *)(ip + 1);
	uint16_t ck;

	memset(ip, 0, sizeof(*ip) + 8 + payload);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(8 + payload);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = hlim;
	ip6(src, ip->src_addr);
	ip6(dst, ip->dst_addr);
	l4[0] = icmp_type;
	ck = rte_ipv6_udptcp_cksum(ip, l4);
	memcpy(l4 + 2, &ck, 2);
	f->len += sizeof(*ip) + 8 + payload;
}

static void
arp(struct frame *f, uint16_t op, const struct rte_ether_addr *sha, const char *sip,
    const struct rte_ether_addr *tha, const char *tip, uint16_t vlan)
{
	static const struct rte_ether_addr bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	uint8_t *p = eth(f, op == RTE_ARP_OP_REQUEST ? &bcast : tha, sha, vlan, SP_ETHERTYPE_ARP);

	sp_pkt_arp_write(p, op, sha, ip4(sip), tha, ip4(tip));
	f->len += sizeof(struct rte_arp_hdr);
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

static struct rte_mbuf *
sent(int port)
{
	return dp_env_sent(&env, port);
}

static unsigned int
drain(int port)
{
	return dp_env_drain(&env, port);
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

/* Parse a sent frame's L2; returns the L3 pointer. */
static const uint8_t *
l3_of(struct rte_mbuf *m, struct sp_l2 *l2)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	CU_ASSERT_EQUAL_FATAL(sp_pkt_l2_parse(p, rte_pktmbuf_data_len(m), l2), SP_PKT_OK);
	return p + l2->l2_len;
}

/* ---------- cases ---------- */

static void
test_arp_reply(void)
{
	struct frame f;
	struct rte_mbuf *m;
	struct sp_l2 l2;
	const struct rte_arp_hdr *a;
	uint64_t before = drops(SP_DROP_ARP_NOT_FOR_US);

	arp(&f, RTE_ARP_OP_REQUEST, &host_mac, "10.1.0.2", &(struct rte_ether_addr){ { 0 } },
	    "10.1.0.1", 0);
	inject(P_A, &f);
	run();
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	a = (const struct rte_arp_hdr *)l3_of(m, &l2);
	CU_ASSERT_EQUAL(l2.ethertype, SP_ETHERTYPE_ARP);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &host_mac));
	CU_ASSERT(rte_is_same_ether_addr(&l2.src, &env.mac_a));
	CU_ASSERT_EQUAL(a->arp_opcode, rte_cpu_to_be_16(RTE_ARP_OP_REPLY));
	CU_ASSERT(rte_is_same_ether_addr(&a->arp_data.arp_sha, &env.mac_a));
	CU_ASSERT_EQUAL(a->arp_data.arp_sip, ip4("10.1.0.1"));
	CU_ASSERT_EQUAL(a->arp_data.arp_tip, ip4("10.1.0.2"));
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 14 + 28);
	rte_pktmbuf_free(m);
	/* ... and the requester is known from now on (RFC 826). */
	{
		struct sp_neigh_key k;
		struct sp_ip hip;
		struct rte_ether_addr got;

		sp_ip_parse("10.1.0.2", &hip, false);
		sp_neigh_key_set(&k, 0, &hip);
		CU_ASSERT_EQUAL(sp_neigh_lookup(env.neigh, &k, &got), 0);
		CU_ASSERT(rte_is_same_ether_addr(&got, &host_mac));
	}

	/* Not ours: nothing sent, counted. */
	arp(&f, RTE_ARP_OP_REQUEST, &host_mac, "10.1.0.2", &(struct rte_ether_addr){ { 0 } },
	    "10.1.0.77", 0);
	inject(P_A, &f);
	run();
	CU_ASSERT_EQUAL(drain(P_A), 0);
	CU_ASSERT_EQUAL(drops(SP_DROP_ARP_NOT_FOR_US), before + 1);
}

static void
test_echo_resolves_neighbour(void)
{
	struct frame f;
	struct rte_mbuf *m;
	struct sp_l2 l2;
	const struct rte_ipv4_hdr *ip;
	const struct rte_arp_hdr *a;
	const uint8_t *icmp;

	/* The reply to 10.1.0.3, a host never seen, waits while the gateway asks who it is. */
	eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.1.0.3", "10.1.0.1", 64, IPPROTO_ICMP, 56, false);
	inject(P_A, &f);
	run();
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	a = (const struct rte_arp_hdr *)l3_of(m, &l2);
	CU_ASSERT_EQUAL(l2.ethertype, SP_ETHERTYPE_ARP);
	CU_ASSERT(rte_is_broadcast_ether_addr(&l2.dst));
	CU_ASSERT_EQUAL(a->arp_opcode, rte_cpu_to_be_16(RTE_ARP_OP_REQUEST));
	CU_ASSERT_EQUAL(a->arp_data.arp_sip, ip4("10.1.0.1"));
	CU_ASSERT_EQUAL(a->arp_data.arp_tip, ip4("10.1.0.3"));
	rte_pktmbuf_free(m);
	CU_ASSERT_PTR_NULL(sent(P_A));

	/* The answer releases the held reply. */
	arp(&f, RTE_ARP_OP_REPLY, &host_mac, "10.1.0.3", &env.mac_a, "10.1.0.1", 0);
	inject(P_A, &f);
	run();
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv4_hdr *)l3_of(m, &l2);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &host_mac));
	CU_ASSERT_EQUAL(l2.ethertype, SP_ETHERTYPE_IPV4);
	CU_ASSERT_EQUAL(ip->src_addr, ip4("10.1.0.1"));
	CU_ASSERT_EQUAL(ip->dst_addr, ip4("10.1.0.3"));
	CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff);
	icmp = (const uint8_t *)(ip + 1);
	CU_ASSERT_EQUAL(icmp[0], RTE_IP_ICMP_ECHO_REPLY);
	CU_ASSERT_EQUAL(rte_raw_cksum(icmp, 64), 0xffff);
	CU_ASSERT_EQUAL(icmp[8 + 55], 55); /* payload intact */
	rte_pktmbuf_free(m);
	CU_ASSERT_PTR_NULL(sent(P_A));
}

static void
test_forward_ttl(void)
{
	struct sp_neigh_key k;
	struct sp_ip nip;
	struct frame f;
	struct rte_mbuf *m;
	struct sp_l2 l2;
	const struct rte_ipv4_hdr *ip;
	const uint8_t *icmp;
	uint64_t fwd = ctr(SP_CTR_FORWARDED), ttl = drops(SP_DROP_TTL_EXPIRED);

	sp_ip_parse("10.2.0.2", &nip, false);
	sp_neigh_key_set(&k, 2, &nip);
	CU_ASSERT_EQUAL_FATAL(sp_neigh_add_static(env.neigh, &k, &b_host_mac), 0);

	eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.1.0.2", "10.2.0.2", 64, IPPROTO_UDP, 100, false);
	inject(P_A, &f);
	run();
	m = sent(P_B);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv4_hdr *)l3_of(m, &l2);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &b_host_mac));
	CU_ASSERT(rte_is_same_ether_addr(&l2.src, &env.mac_b));
	CU_ASSERT_EQUAL(ip->time_to_live, 63);
	CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), f.len);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(ctr(SP_CTR_FORWARDED), fwd + 1);

	/* TTL 1: time exceeded back to the sender, from the receiving interface. */
	eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.1.0.2", "10.2.0.2", 1, IPPROTO_UDP, 100, false);
	inject(P_A, &f);
	run();
	CU_ASSERT_PTR_NULL(sent(P_B));
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv4_hdr *)l3_of(m, &l2);
	CU_ASSERT_EQUAL(ip->next_proto_id, IPPROTO_ICMP);
	CU_ASSERT_EQUAL(ip->src_addr, ip4("10.1.0.1"));
	CU_ASSERT_EQUAL(ip->dst_addr, ip4("10.1.0.2"));
	icmp = (const uint8_t *)(ip + 1);
	CU_ASSERT_EQUAL(icmp[0], SP_ICMP_TIMXCEED);
	CU_ASSERT_EQUAL(icmp[1], 0);
	/* The quoted header is the original one, TTL 1 included. */
	CU_ASSERT_EQUAL(((const struct rte_ipv4_hdr *)(icmp + 8))->time_to_live, 1);
	CU_ASSERT_EQUAL(rte_raw_cksum(icmp, rte_be_to_cpu_16(ip->total_length) - 20), 0xffff);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(drops(SP_DROP_TTL_EXPIRED), ttl + 1);
}

static void
test_unreachable_and_bad(void)
{
	struct frame f;
	struct rte_mbuf *m;
	struct sp_l2 l2;
	const struct rte_ipv4_hdr *ip;
	uint64_t nr = drops(SP_DROP_NO_ROUTE), ck = drops(SP_DROP_IP4_CKSUM);
	uint64_t vl = drops(SP_DROP_VLAN_UNKNOWN), et = drops(SP_DROP_ETHERTYPE);

	eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.1.0.2", "10.99.0.1", 64, IPPROTO_UDP, 10, false);
	inject(P_A, &f);
	run();
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv4_hdr *)l3_of(m, &l2);
	CU_ASSERT_EQUAL(((const uint8_t *)(ip + 1))[0], SP_ICMP_UNREACH);
	CU_ASSERT_EQUAL(((const uint8_t *)(ip + 1))[1], SP_ICMP_UNREACH_NET);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(drops(SP_DROP_NO_ROUTE), nr + 1);

	eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.1.0.2", "10.2.0.2", 64, IPPROTO_UDP, 10, false);
	f.b[14 + 10] ^= 0xff; /* header checksum */
	inject(P_A, &f);
	eth(&f, &env.mac_a, &host_mac, 200, SP_ETHERTYPE_IPV4); /* no VLAN 200 */
	ipv4(&f, "10.1.0.2", "10.2.0.2", 64, IPPROTO_UDP, 10, false);
	inject(P_A, &f);
	eth(&f, &env.mac_a, &host_mac, 0, 0x88b5);
	f.len = 60;
	inject(P_A, &f);
	f.len = 9; /* runt */
	inject(P_A, &f);
	run();
	CU_ASSERT_EQUAL(drain(P_A) + drain(P_B) + drain(P_X), 0);
	CU_ASSERT_EQUAL(drops(SP_DROP_IP4_CKSUM), ck + 1);
	CU_ASSERT_EQUAL(drops(SP_DROP_VLAN_UNKNOWN), vl + 1);
	CU_ASSERT_EQUAL(drops(SP_DROP_ETHERTYPE), et + 1);
}

static void
test_vlan(void)
{
	struct sp_neigh_key k;
	struct sp_ip nip;
	struct frame f;
	struct rte_mbuf *m;
	struct sp_l2 l2;
	const struct rte_ipv4_hdr *ip;

	sp_ip_parse("10.100.0.2", &nip, false);
	sp_neigh_key_set(&k, 1, &nip);
	CU_ASSERT_EQUAL_FATAL(sp_neigh_add_static(env.neigh, &k, &host_mac), 0);
	eth(&f, &env.mac_a, &host_mac, 100, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.100.0.2", "10.100.0.1", 64, IPPROTO_ICMP, 8, false);
	inject(P_A, &f);
	run();
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv4_hdr *)l3_of(m, &l2);
	CU_ASSERT_EQUAL(l2.vlan, 100);
	CU_ASSERT_EQUAL(l2.l2_len, 18);
	CU_ASSERT_EQUAL(ip->src_addr, ip4("10.100.0.1"));
	CU_ASSERT_EQUAL(((const uint8_t *)(ip + 1))[0], RTE_IP_ICMP_ECHO_REPLY);
	rte_pktmbuf_free(m);

	/* Routed from the VLAN to B: the tag is gone on B. */
	eth(&f, &env.mac_a, &host_mac, 100, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.100.0.2", "10.2.0.2", 64, IPPROTO_UDP, 8, false);
	inject(P_A, &f);
	run();
	m = sent(P_B);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	l3_of(m, &l2);
	CU_ASSERT_EQUAL(l2.vlan, 0);
	rte_pktmbuf_free(m);
}

static void
test_exception_path(void)
{
	struct frame f;
	struct rte_mbuf *m;
	struct sp_l2 l2;
	const struct rte_ipv4_hdr *ip;
	const struct rte_arp_hdr *a;
	uint64_t loop = drops(SP_DROP_LOOP);

	/* UDP to our address goes to the kernel, untouched but for the Ethernet header. */
	eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.1.0.2", "10.1.0.1", 64, IPPROTO_UDP, 20, false);
	inject(P_A, &f);
	run();
	m = sent(P_X);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv4_hdr *)l3_of(m, &l2);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &kernel_mac));
	CU_ASSERT(rte_is_same_ether_addr(&l2.src, &exc_mac));
	CU_ASSERT_EQUAL(ip->time_to_live, 64);
	CU_ASSERT_EQUAL(memcmp(ip, f.b + 14, f.len - 14), 0);
	rte_pktmbuf_free(m);

	/* The kernel resolves anything through us (proxy ARP). */
	arp(&f, RTE_ARP_OP_REQUEST, &kernel_mac, "10.1.0.1", &(struct rte_ether_addr){ { 0 } },
	    "10.1.0.2", 0);
	inject(P_X, &f);
	run();
	m = sent(P_X);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	a = (const struct rte_arp_hdr *)l3_of(m, &l2);
	CU_ASSERT(rte_is_same_ether_addr(&a->arp_data.arp_sha, &exc_mac));
	CU_ASSERT_EQUAL(a->arp_data.arp_sip, ip4("10.1.0.2"));
	rte_pktmbuf_free(m);

	/* The kernel's reply is routed out of A without spending TTL. */
	eth(&f, &exc_mac, &kernel_mac, 0, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.1.0.1", "10.1.0.2", 64, IPPROTO_UDP, 20, false);
	inject(P_X, &f);
	run();
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv4_hdr *)l3_of(m, &l2);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &host_mac));
	CU_ASSERT_EQUAL(ip->time_to_live, 64);
	rte_pktmbuf_free(m);

	/* The kernel talking to our own address through us would loop. */
	eth(&f, &exc_mac, &kernel_mac, 0, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.1.0.1", "10.2.0.1", 64, IPPROTO_UDP, 20, false);
	inject(P_X, &f);
	run();
	CU_ASSERT_EQUAL(drain(P_X) + drain(P_A), 0);
	CU_ASSERT_EQUAL(drops(SP_DROP_LOOP), loop + 1);
}

static void
test_mtu(void)
{
	struct frame f;
	struct rte_mbuf *m;
	struct sp_l2 l2;
	const struct rte_ipv4_hdr *ip;
	const uint8_t *icmp;
	uint32_t total = 0, n = 0;

	/* B's MTU is 1400. DF set: fragmentation needed with the next-hop MTU (RFC 1191). */
	eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.1.0.2", "10.2.0.2", 64, IPPROTO_UDP, 1450, true);
	inject(P_A, &f);
	run();
	CU_ASSERT_PTR_NULL(sent(P_B));
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv4_hdr *)l3_of(m, &l2);
	icmp = (const uint8_t *)(ip + 1);
	CU_ASSERT_EQUAL(icmp[0], SP_ICMP_UNREACH);
	CU_ASSERT_EQUAL(icmp[1], SP_ICMP_UNREACH_NEEDFRAG);
	CU_ASSERT_EQUAL((icmp[6] << 8) | icmp[7], 1400);
	CU_ASSERT(rte_be_to_cpu_16(ip->total_length) <= SP_ICMP4_ERR_MAX);
	rte_pktmbuf_free(m);

	/* DF clear: fragments that each fit and add up to the original payload. */
	eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV4);
	ipv4(&f, "10.1.0.2", "10.2.0.2", 64, IPPROTO_UDP, 1450, false);
	inject(P_A, &f);
	run();
	while ((m = sent(P_B)) != NULL) {
		ip = (const struct rte_ipv4_hdr *)l3_of(m, &l2);
		CU_ASSERT(rte_pktmbuf_pkt_len(m) - l2.l2_len <= 1400);
		CU_ASSERT_EQUAL(ip->time_to_live, 63);
		total += rte_be_to_cpu_16(ip->total_length) - 20;
		n++;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(total, 8 + 1450);
}

static void
test_ipv6(void)
{
	uint8_t p[128], src[16], sn[16], tgt[16];
	struct frame f;
	struct rte_mbuf *m;
	struct sp_l2 l2;
	const struct rte_ipv6_hdr *ip;
	struct sp_nd nd;
	struct rte_ether_addr mm;
	uint16_t n;

	/* Neighbour solicitation for our address: advertisement back, solicited + override. */
	ip6("fd01::2", src);
	ip6("fd01::1", tgt);
	sp_pkt_ip6_solicited_node(tgt, sn);
	sp_pkt_ip6_mcast_mac(sn, &mm);
	n = sp_pkt_ns_write(p, src, sn, tgt, &host_mac);
	memcpy(eth(&f, &mm, &host_mac, 0, SP_ETHERTYPE_IPV6), p, n);
	f.len += n;
	inject(P_A, &f);
	run();
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv6_hdr *)l3_of(m, &l2);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &host_mac));
	CU_ASSERT_EQUAL_FATAL(sp_pkt_nd_parse((const uint8_t *)ip, rte_pktmbuf_data_len(m) - 14,
					      &nd), SP_PKT_OK);
	CU_ASSERT_EQUAL(nd.type, SP_ND_NEIGHBOR_ADVERT);
	CU_ASSERT_EQUAL(nd.flags, SP_ND_NA_FLAG_SOLICITED | SP_ND_NA_FLAG_OVERRIDE);
	CU_ASSERT(rte_is_same_ether_addr(&nd.lladdr, &env.mac_a));
	CU_ASSERT_EQUAL(memcmp(ip->dst_addr, src, 16), 0);
	rte_pktmbuf_free(m);

	/* Echo to fd01::1: the reply waits for NDP; our NS goes out; the host's NA releases it. */
	eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV6);
	ipv6(&f, "fd01::2", "fd01::1", 64, SP_ICMP6_ECHO_REQUEST, 16);
	inject(P_A, &f);
	run();
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv6_hdr *)l3_of(m, &l2);
	CU_ASSERT_EQUAL_FATAL(sp_pkt_nd_parse((const uint8_t *)ip, rte_pktmbuf_data_len(m) - 14,
					      &nd), SP_PKT_OK);
	CU_ASSERT_EQUAL(nd.type, SP_ND_NEIGHBOR_SOLICIT);
	CU_ASSERT_EQUAL(memcmp(nd.target, src, 16), 0);
	rte_pktmbuf_free(m);
	n = sp_pkt_na_write(p, src, tgt, src, SP_ND_NA_FLAG_SOLICITED | SP_ND_NA_FLAG_OVERRIDE,
			    &host_mac);
	memcpy(eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV6), p, n);
	f.len += n;
	inject(P_A, &f);
	run();
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv6_hdr *)l3_of(m, &l2);
	CU_ASSERT_EQUAL(((const uint8_t *)(ip + 1))[0], SP_ICMP6_ECHO_REPLY);
	CU_ASSERT_EQUAL(rte_ipv6_udptcp_cksum_verify(ip, ip + 1), 0);
	rte_pktmbuf_free(m);

	/* Hop limit 1 towards B: time exceeded from fd01::1. */
	eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV6);
	ipv6(&f, "fd01::2", "fd02::2", 1, SP_ICMP6_ECHO_REQUEST, 16);
	inject(P_A, &f);
	run();
	m = sent(P_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	ip = (const struct rte_ipv6_hdr *)l3_of(m, &l2);
	CU_ASSERT_EQUAL(((const uint8_t *)(ip + 1))[0], SP_ICMP6_TIME_EXCEEDED);
	CU_ASSERT_EQUAL(memcmp(ip->src_addr, tgt, 16), 0);
	CU_ASSERT_EQUAL(rte_ipv6_udptcp_cksum_verify(ip, ip + 1), 0);
	rte_pktmbuf_free(m);
}

static void
test_unresolved(void)
{
	struct frame f;
	uint64_t full = drops(SP_DROP_NEIGH_QUEUE_FULL), failed = drops(SP_DROP_NEIGH_FAILED);
	unsigned int i, arps;

	/* Nobody answers for 10.2.0.9: 4 packets wait (hold_packets), the 5th is refused, and
	 * after 3 unanswered requests one second apart the 4 are dropped. */
	for (i = 0; i < 5; i++) {
		eth(&f, &env.mac_a, &host_mac, 0, SP_ETHERTYPE_IPV4);
		ipv4(&f, "10.1.0.2", "10.2.0.9", 64, IPPROTO_UDP, 10, false);
		inject(P_A, &f);
	}
	run();
	CU_ASSERT_EQUAL(drops(SP_DROP_NEIGH_QUEUE_FULL), full + 1);
	arps = drain(P_B);
	for (i = 0; i < 5; i++) {
		env.now_ms += 1000;
		run();
		arps += drain(P_B);
	}
	CU_ASSERT_EQUAL(arps, 3);
	CU_ASSERT_EQUAL(drops(SP_DROP_NEIGH_FAILED), failed + 4);
}

static void
test_teardown_no_leak(void)
{
	CU_ASSERT_EQUAL(dp_env_teardown(&env), 0);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (sp_test_eal_init() != 0 || dp_env_setup(&env) != 0) {
		fprintf(stderr, "test_dp: setup failed\n");
		return 1;
	}
	s = CU_add_suite("dp", NULL, NULL);
	CU_add_test(s, "ARP reply for our address, not for others", test_arp_reply);
	CU_add_test(s, "echo reply waits for ARP, then leaves", test_echo_resolves_neighbour);
	CU_add_test(s, "forwarding, TTL, time exceeded", test_forward_ttl);
	CU_add_test(s, "unreachable and malformed input", test_unreachable_and_bad);
	CU_add_test(s, "VLAN interface", test_vlan);
	CU_add_test(s, "exception path both ways", test_exception_path);
	CU_add_test(s, "MTU: frag needed, fragmentation", test_mtu);
	CU_add_test(s, "IPv6: NDP, echo, hop limit", test_ipv6);
	CU_add_test(s, "unresolved neighbour: queue bound and failure", test_unresolved);
	CU_add_test(s, "teardown returns every mbuf", test_teardown_no_leak);
	return sp_test_run();
}
