/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/pkt: address parsing, header validation (incl. malformed and truncated), builders. */

#include <string.h>

#include <rte_ip.h>

#include "sp_addr.h"
#include "sp_pkt.h"
#include "test_common.h"

/* ---------- addresses ---------- */

static void
test_addr_parse(void)
{
	static const struct {
		const char *in;
		bool allow_prefix;
		int rc;
		uint8_t family, plen;
		const char *out; /* formatted with plen */
	} cases[] = {
		{ "10.0.0.1", false, 0, AF_INET, 32, "10.0.0.1/32" },
		{ "10.0.0.0/8", true, 0, AF_INET, 8, "10.0.0.0/8" },
		{ "0.0.0.0/0", true, 0, AF_INET, 0, "0.0.0.0/0" },
		{ "fd00::1", false, 0, AF_INET6, 128, "fd00::1/128" },
		{ "fd00::/64", true, 0, AF_INET6, 64, "fd00::/64" },
		{ "::/0", true, 0, AF_INET6, 0, "::/0" },
		{ "10.0.0.0/8", false, -EINVAL, 0, 0, NULL },
		{ "10.0.0.1/33", true, -EINVAL, 0, 0, NULL },
		{ "fd00::/129", true, -EINVAL, 0, 0, NULL },
		{ "1.2.3", false, -EINVAL, 0, 0, NULL },
		{ "10.0.0.1/", true, -EINVAL, 0, 0, NULL },
		{ "/24", true, -EINVAL, 0, 0, NULL },
		{ "10.0.0.1/24x", true, -EINVAL, 0, 0, NULL },
		{ "10.0.0.1/-1", true, -EINVAL, 0, 0, NULL },
		{ "", false, -EINVAL, 0, 0, NULL },
		{ "256.0.0.1", false, -EINVAL, 0, 0, NULL },
		{ "fd00::1::2", false, -EINVAL, 0, 0, NULL },
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		struct sp_ip ip;
		char buf[SP_IP_STRLEN];
		int rc = sp_ip_parse(cases[i].in, &ip, cases[i].allow_prefix);

		CU_ASSERT_EQUAL_FATAL(rc, cases[i].rc);
		if (rc != 0)
			continue;
		CU_ASSERT_EQUAL(ip.family, cases[i].family);
		CU_ASSERT_EQUAL(ip.plen, cases[i].plen);
		CU_ASSERT(sp_ip_format(&ip, buf, sizeof(buf), true) > 0);
		CU_ASSERT_STRING_EQUAL(buf, cases[i].out);
	}
	CU_ASSERT_EQUAL(sp_ip_parse(NULL, NULL, true), -EINVAL);
}

static void
test_addr_prefix(void)
{
	struct sp_ip a, p, q;

	CU_ASSERT_EQUAL(sp_ip_parse("10.1.2.3/16", &a, true), 0);
	CU_ASSERT_FALSE(sp_ip_is_network(&a));
	sp_ip_mask(&a);
	CU_ASSERT(sp_ip_is_network(&a));
	CU_ASSERT_EQUAL(sp_ip_parse("10.1.0.0/16", &p, true), 0);
	CU_ASSERT(sp_ip_equal(&a, &p));
	CU_ASSERT_EQUAL(sp_ip_parse("10.1.255.255", &q, false), 0);
	CU_ASSERT(sp_ip_in_prefix(&q, &p));
	CU_ASSERT_EQUAL(sp_ip_parse("10.2.0.0", &q, false), 0);
	CU_ASSERT_FALSE(sp_ip_in_prefix(&q, &p));
	CU_ASSERT_EQUAL(sp_ip_parse("fd00:1:2:3::1/61", &a, true), 0);
	sp_ip_mask(&a);
	CU_ASSERT_EQUAL(sp_ip_parse("fd00:1:2::/61", &p, true), 0);
	CU_ASSERT(sp_ip_equal(&a, &p));
	CU_ASSERT_EQUAL(sp_ip_parse("fd00:1:2:7::9", &q, false), 0);
	CU_ASSERT(sp_ip_in_prefix(&q, &p));
	CU_ASSERT_EQUAL(sp_ip_parse("fd00:1:2:8::9", &q, false), 0);
	CU_ASSERT_FALSE(sp_ip_in_prefix(&q, &p));
	/* Families never match. */
	CU_ASSERT_EQUAL(sp_ip_parse("0.0.0.0/0", &p, true), 0);
	CU_ASSERT_FALSE(sp_ip_in_prefix(&q, &p));
}

/* ---------- packet builders for the tables ---------- */

static uint16_t
mk_ip4(uint8_t *p, const char *src, const char *dst, uint8_t proto, uint16_t payload,
       uint8_t ihl_words)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	struct sp_ip s, d;
	uint16_t hlen = ihl_words * 4;

	sp_ip_parse(src, &s, false);
	sp_ip_parse(dst, &d, false);
	memset(p, 0, hlen + payload);
	ip->version_ihl = (uint8_t)(0x40 | ihl_words);
	ip->total_length = rte_cpu_to_be_16(hlen + payload);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = s.v4;
	ip->dst_addr = d.v4;
	if (ihl_words > 5)
		p[20] = 1; /* NOP options */
	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(p, hlen);
	return hlen + payload;
}

static void
refresh_cksum(uint8_t *p)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u;

	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(p, hlen < 20 ? 20 : hlen);
}

static void
test_l2(void)
{
	uint8_t f[64];
	struct sp_l2 l2;
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eh + 1);

	memset(f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(f, 13, &l2), SP_DROP_ETH_TRUNC);
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(f, 0, &l2), SP_DROP_ETH_TRUNC);
	eh->ether_type = rte_cpu_to_be_16(SP_ETHERTYPE_IPV4);
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(f, 14, &l2), SP_PKT_OK);
	CU_ASSERT_EQUAL(l2.ethertype, SP_ETHERTYPE_IPV4);
	CU_ASSERT_EQUAL(l2.l2_len, 14);
	CU_ASSERT_EQUAL(l2.vlan, 0);

	eh->ether_type = rte_cpu_to_be_16(SP_ETHERTYPE_VLAN);
	vh->vlan_tci = rte_cpu_to_be_16(0x2000 | 100); /* PCP 1, VLAN 100 */
	vh->eth_proto = rte_cpu_to_be_16(SP_ETHERTYPE_IPV6);
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(f, 17, &l2), SP_DROP_ETH_TRUNC);
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(f, 18, &l2), SP_PKT_OK);
	CU_ASSERT_EQUAL(l2.vlan, 100);
	CU_ASSERT_EQUAL(l2.ethertype, SP_ETHERTYPE_IPV6);
	CU_ASSERT_EQUAL(l2.l2_len, 18);

	vh->vlan_tci = rte_cpu_to_be_16(4095);
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(f, 18, &l2), SP_DROP_VLAN_UNKNOWN);
	vh->vlan_tci = rte_cpu_to_be_16(10);
	vh->eth_proto = rte_cpu_to_be_16(SP_ETHERTYPE_VLAN);
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(f, 22, &l2), SP_DROP_VLAN_UNKNOWN);
	eh->ether_type = rte_cpu_to_be_16(SP_ETHERTYPE_QINQ);
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(f, 22, &l2), SP_DROP_VLAN_UNKNOWN);
	/* Unknown ethertypes are the data path's business, not the parser's. */
	eh->ether_type = rte_cpu_to_be_16(0x88cc);
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(f, 60, &l2), SP_PKT_OK);
	CU_ASSERT_EQUAL(l2.ethertype, 0x88cc);
}

enum mut4 { M4_NONE, M4_VERSION, M4_IHL4, M4_TOTAL_SHORT, M4_CKSUM, M4_SRC_MCAST, M4_SRC_LOOP,
	    M4_SRC_ZERO, M4_SRC_BCAST };

static void
test_ip4_check(void)
{
	static const struct {
		const char *name;
		uint32_t len, pkt_len; /* 0: the packet's own length */
		uint8_t ihl;
		enum mut4 mut;
		enum sp_drop want;
	} cases[] = {
		{ "good", 0, 0, 5, M4_NONE, SP_PKT_OK },
		{ "options", 0, 0, 6, M4_NONE, SP_PKT_OK },
		{ "19 bytes", 19, 19, 5, M4_NONE, SP_DROP_IP4_TRUNC },
		{ "empty", 0xffffffff, 0, 5, M4_NONE, SP_DROP_IP4_TRUNC },
		{ "version 6", 0, 0, 5, M4_VERSION, SP_DROP_IP4_HDR },
		{ "ihl 4", 0, 0, 5, M4_IHL4, SP_DROP_IP4_HDR },
		{ "options cut", 22, 22, 6, M4_NONE, SP_DROP_IP4_TRUNC },
		{ "total < ihl", 0, 0, 5, M4_TOTAL_SHORT, SP_DROP_IP4_HDR },
		{ "total > frame", 0, 30, 5, M4_NONE, SP_DROP_IP4_TRUNC },
		{ "checksum", 0, 0, 5, M4_CKSUM, SP_DROP_IP4_CKSUM },
		{ "src multicast", 0, 0, 5, M4_SRC_MCAST, SP_DROP_IP4_SRC },
		{ "src loopback", 0, 0, 5, M4_SRC_LOOP, SP_DROP_IP4_SRC },
		{ "src zero", 0, 0, 5, M4_SRC_ZERO, SP_DROP_IP4_SRC },
		{ "src broadcast", 0, 0, 5, M4_SRC_BCAST, SP_DROP_IP4_SRC },
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		uint8_t p[128];
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
		uint16_t n = mk_ip4(p, "10.1.0.2", "10.2.0.2", 6, 40, cases[i].ihl), total = 0;
		uint32_t len = cases[i].len ? cases[i].len : n;
		uint32_t pkt_len = cases[i].pkt_len ? cases[i].pkt_len : n;
		enum sp_drop got;

		if (cases[i].len == 0xffffffff)
			len = pkt_len = 0;
		switch (cases[i].mut) {
		case M4_VERSION: ip->version_ihl = 0x65; break;
		case M4_IHL4: ip->version_ihl = 0x44; break;
		case M4_TOTAL_SHORT: ip->total_length = rte_cpu_to_be_16(10); break;
		case M4_CKSUM: ip->hdr_checksum ^= 0x5555; break;
		case M4_SRC_MCAST: ip->src_addr = rte_cpu_to_be_32(0xe0000001); break;
		case M4_SRC_LOOP: ip->src_addr = rte_cpu_to_be_32(0x7f000001); break;
		case M4_SRC_ZERO: ip->src_addr = 0; break;
		case M4_SRC_BCAST: ip->src_addr = 0xffffffff; break;
		default: break;
		}
		if (cases[i].mut != M4_CKSUM && cases[i].mut != M4_NONE)
			refresh_cksum(p);
		got = sp_pkt_ip4_check(p, len, pkt_len, &total);
		if (got != cases[i].want)
			fprintf(stderr, "ip4 case '%s': got %d want %d\n", cases[i].name, got,
				cases[i].want);
		CU_ASSERT_EQUAL(got, cases[i].want);
		if (got == SP_PKT_OK)
			CU_ASSERT_EQUAL(total, n);
	}
	{
		uint8_t p[64];

		mk_ip4(p, "10.1.0.2", "224.0.0.5", 17, 8, 5);
		CU_ASSERT(sp_pkt_ip4_is_mcast(((struct rte_ipv4_hdr *)p)->dst_addr));
		CU_ASSERT(sp_pkt_ip4_is_mcast(0xffffffff));
		CU_ASSERT_FALSE(sp_pkt_ip4_is_mcast(rte_cpu_to_be_32(0x0a000001)));
	}
}

static void
test_ttl_dec(void)
{
	uint8_t p[1500];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	unsigned int i;

	/* Incremental update must equal a full recomputation for every TTL and many headers,
	 * including checksums at the 0x0000/0xffff wrap. */
	for (i = 0; i < 5000; i++) {
		uint16_t want;

		mk_ip4(p, "10.1.0.2", "10.2.0.2", (uint8_t)(i % 255), (uint16_t)(i % 1400), 5);
		ip->packet_id = rte_cpu_to_be_16((uint16_t)(i * 7919));
		ip->time_to_live = (uint8_t)(2 + i % 254);
		refresh_cksum(p);
		sp_pkt_ip4_ttl_dec(ip);
		CU_ASSERT_EQUAL_FATAL(rte_raw_cksum(p, 20), 0xffff);
		want = ip->hdr_checksum;
		refresh_cksum(p);
		/* 0x0000 and 0xffff are the same one's complement value. */
		CU_ASSERT(want == ip->hdr_checksum || (uint16_t)(want ^ ip->hdr_checksum) == 0xffff);
	}
}

static uint16_t
mk_ip6(uint8_t *p, const char *src, const char *dst, uint8_t proto, uint16_t payload)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;
	struct sp_ip s, d;

	sp_ip_parse(src, &s, false);
	sp_ip_parse(dst, &d, false);
	memset(p, 0, 40 + payload);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(payload);
	ip->proto = proto;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, s.v6, 16);
	memcpy(ip->dst_addr, d.v6, 16);
	return 40 + payload;
}

static void
test_ip6_check(void)
{
	uint8_t p[128];
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;
	uint16_t n, total;

	n = mk_ip6(p, "fd01::2", "fd02::2", 6, 20);
	CU_ASSERT_EQUAL(sp_pkt_ip6_check(p, n, n, &total), SP_PKT_OK);
	CU_ASSERT_EQUAL(total, n);
	/* Ethernet padding after the payload is allowed (and trimmed by the caller). */
	CU_ASSERT_EQUAL(sp_pkt_ip6_check(p, n + 6, n + 6, &total), SP_PKT_OK);
	CU_ASSERT_EQUAL(total, n);
	CU_ASSERT_EQUAL(sp_pkt_ip6_check(p, 39, 39, &total), SP_DROP_IP6_TRUNC);
	CU_ASSERT_EQUAL(sp_pkt_ip6_check(p, n, n - 1, &total), SP_DROP_IP6_TRUNC);
	ip->payload_len = rte_cpu_to_be_16(0xffff);
	CU_ASSERT_EQUAL(sp_pkt_ip6_check(p, n, n, &total), SP_DROP_IP6_TRUNC);
	mk_ip6(p, "fd01::2", "fd02::2", 6, 20);
	ip->vtc_flow = rte_cpu_to_be_32(4u << 28);
	CU_ASSERT_EQUAL(sp_pkt_ip6_check(p, n, n, &total), SP_DROP_IP6_HDR);
	mk_ip6(p, "ff02::1", "fd02::2", 6, 20);
	CU_ASSERT_EQUAL(sp_pkt_ip6_check(p, n, n, &total), SP_DROP_IP6_SRC);
	mk_ip6(p, "::1", "fd02::2", 6, 20);
	CU_ASSERT_EQUAL(sp_pkt_ip6_check(p, n, n, &total), SP_DROP_IP6_SRC);
}

static void
test_arp_check(void)
{
	uint8_t p[28];
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)p;
	struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 0, 1 } }, zero = { 0 };

	sp_pkt_arp_write(p, RTE_ARP_OP_REQUEST, &mac, rte_cpu_to_be_32(0x0a010002), &zero,
			 rte_cpu_to_be_32(0x0a010001));
	CU_ASSERT_EQUAL(sp_pkt_arp_check(p, 28), SP_PKT_OK);
	CU_ASSERT_EQUAL(sp_pkt_arp_check(p, 27), SP_DROP_ARP_MALFORMED);
	a->arp_hardware = rte_cpu_to_be_16(6);
	CU_ASSERT_EQUAL(sp_pkt_arp_check(p, 28), SP_DROP_ARP_MALFORMED);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_plen = 16;
	CU_ASSERT_EQUAL(sp_pkt_arp_check(p, 28), SP_DROP_ARP_MALFORMED);
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(3);
	CU_ASSERT_EQUAL(sp_pkt_arp_check(p, 28), SP_DROP_ARP_MALFORMED);
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	CU_ASSERT_EQUAL(sp_pkt_arp_check(p, 28), SP_PKT_OK);
	a->arp_data.arp_sha.addr_bytes[0] = 0x01; /* multicast sender */
	CU_ASSERT_EQUAL(sp_pkt_arp_check(p, 28), SP_DROP_ARP_MALFORMED);
}

static void
test_nd(void)
{
	uint8_t p[128], src[16], dst[16], tgt[16], sn[16];
	struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 0, 9 } }, mm;
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;
	struct sp_ip a;
	struct sp_nd nd;
	uint16_t n;

	sp_ip_parse("fd01::2", &a, false);
	memcpy(src, a.v6, 16);
	sp_ip_parse("fd01::1", &a, false);
	memcpy(tgt, a.v6, 16);
	sp_pkt_ip6_solicited_node(tgt, sn);
	sp_ip_parse("ff02::1:ff00:1", &a, false);
	CU_ASSERT_EQUAL(memcmp(sn, a.v6, 16), 0);
	sp_pkt_ip6_mcast_mac(sn, &mm);
	CU_ASSERT_EQUAL(mm.addr_bytes[0], 0x33);
	CU_ASSERT_EQUAL(mm.addr_bytes[2], 0xff);
	CU_ASSERT_EQUAL(mm.addr_bytes[5], 0x01);

	n = sp_pkt_ns_write(p, src, sn, tgt, &mac);
	CU_ASSERT_EQUAL(n, 72);
	CU_ASSERT_EQUAL(sp_pkt_nd_parse(p, n, &nd), SP_PKT_OK);
	CU_ASSERT_EQUAL(nd.type, SP_ND_NEIGHBOR_SOLICIT);
	CU_ASSERT(nd.has_lladdr);
	CU_ASSERT(rte_is_same_ether_addr(&nd.lladdr, &mac));
	CU_ASSERT_EQUAL(memcmp(nd.target, tgt, 16), 0);
	CU_ASSERT_EQUAL(sp_pkt_nd_parse(p, 50, &nd), SP_DROP_NDP_MALFORMED); /* cut */
	ip->hop_limits = 64;
	CU_ASSERT_EQUAL(sp_pkt_nd_parse(p, n, &nd), SP_DROP_NDP_MALFORMED);
	ip->hop_limits = 255;
	p[40 + 10] ^= 1; /* target bit: checksum now wrong */
	CU_ASSERT_EQUAL(sp_pkt_nd_parse(p, n, &nd), SP_DROP_NDP_MALFORMED);

	/* A zero-length option would loop forever in a careless parser. */
	n = sp_pkt_ns_write(p, src, sn, tgt, &mac);
	p[40 + 25] = 0;
	p[40 + 2] = p[40 + 3] = 0;
	{
		uint16_t ck = rte_ipv6_udptcp_cksum(ip, p + 40);

		memcpy(p + 42, &ck, 2);
	}
	CU_ASSERT_EQUAL(sp_pkt_nd_parse(p, n, &nd), SP_DROP_NDP_MALFORMED);

	/* DAD probe from :: with a source link-layer option is invalid (RFC 4861 7.1.1). */
	memset(dst, 0, 16);
	n = sp_pkt_ns_write(p, dst, sn, tgt, &mac);
	CU_ASSERT_EQUAL(sp_pkt_nd_parse(p, n, &nd), SP_DROP_NDP_MALFORMED);

	/* Solicited NA to a multicast destination is invalid; unsolicited is fine. */
	sp_ip_parse("ff02::1", &a, false);
	n = sp_pkt_na_write(p, tgt, a.v6, tgt, SP_ND_NA_FLAG_SOLICITED, &mac);
	CU_ASSERT_EQUAL(sp_pkt_nd_parse(p, n, &nd), SP_DROP_NDP_MALFORMED);
	n = sp_pkt_na_write(p, tgt, a.v6, tgt, SP_ND_NA_FLAG_OVERRIDE, &mac);
	CU_ASSERT_EQUAL(sp_pkt_nd_parse(p, n, &nd), SP_PKT_OK);
	CU_ASSERT_EQUAL(nd.type, SP_ND_NEIGHBOR_ADVERT);
	CU_ASSERT_EQUAL(nd.flags, SP_ND_NA_FLAG_OVERRIDE);

	/* Echo request is not neighbour discovery. */
	n = mk_ip6(p, "fd01::2", "fd01::1", SP_IPPROTO_ICMPV6, 8);
	p[40] = SP_ICMP6_ECHO_REQUEST;
	CU_ASSERT_EQUAL(sp_pkt_nd_parse(p, n, &nd), SP_DROP_ICMP_UNHANDLED);
}

static void
test_error_allowed(void)
{
	uint8_t p[128];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	uint16_t n;

	n = mk_ip4(p, "10.1.0.2", "10.2.0.2", SP_IPPROTO_ICMP, 8, 5);
	p[20] = SP_ICMP_ECHO;
	CU_ASSERT(sp_pkt_ip4_error_allowed(p, n));
	p[20] = SP_ICMP_TIMXCEED;
	CU_ASSERT_FALSE(sp_pkt_ip4_error_allowed(p, n));
	p[20] = SP_ICMP_UNREACH;
	CU_ASSERT_FALSE(sp_pkt_ip4_error_allowed(p, n));
	n = mk_ip4(p, "10.1.0.2", "10.2.0.2", 17, 8, 5);
	CU_ASSERT(sp_pkt_ip4_error_allowed(p, n));
	ip->fragment_offset = rte_cpu_to_be_16(10); /* not the first fragment */
	CU_ASSERT_FALSE(sp_pkt_ip4_error_allowed(p, n));
	n = mk_ip4(p, "10.1.0.2", "239.1.1.1", 17, 8, 5);
	CU_ASSERT_FALSE(sp_pkt_ip4_error_allowed(p, n));
	CU_ASSERT_FALSE(sp_pkt_ip4_error_allowed(p, 10));

	n = mk_ip6(p, "fd01::2", "fd02::2", 17, 8);
	CU_ASSERT(sp_pkt_ip6_error_allowed(p, n, SP_ICMP6_TIME_EXCEEDED));
	n = mk_ip6(p, "fd01::2", "ff0e::1", 17, 8);
	CU_ASSERT_FALSE(sp_pkt_ip6_error_allowed(p, n, SP_ICMP6_TIME_EXCEEDED));
	CU_ASSERT(sp_pkt_ip6_error_allowed(p, n, SP_ICMP6_PACKET_TOO_BIG));
	n = mk_ip6(p, "fd01::2", "fd02::2", SP_IPPROTO_ICMPV6, 8);
	p[40] = SP_ICMP6_TIME_EXCEEDED;
	CU_ASSERT_FALSE(sp_pkt_ip6_error_allowed(p, n, SP_ICMP6_UNREACH));
	p[40] = SP_ICMP6_ECHO_REQUEST;
	CU_ASSERT(sp_pkt_ip6_error_allowed(p, n, SP_ICMP6_UNREACH));
}

static void
test_eth_write(void)
{
	uint8_t p[32];
	struct rte_ether_addr d = { { 2, 0, 0, 0, 0, 1 } }, s = { { 2, 0, 0, 0, 0, 2 } };
	struct sp_l2 l2;

	CU_ASSERT_EQUAL(sp_pkt_eth_write(p, &d, &s, 0, SP_ETHERTYPE_IPV4), 14);
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(p, 14, &l2), SP_PKT_OK);
	CU_ASSERT(rte_is_same_ether_addr(&l2.dst, &d));
	CU_ASSERT(rte_is_same_ether_addr(&l2.src, &s));
	CU_ASSERT_EQUAL(sp_pkt_eth_write(p, &d, &s, 4094, SP_ETHERTYPE_ARP), 18);
	CU_ASSERT_EQUAL(sp_pkt_l2_parse(p, 18, &l2), SP_PKT_OK);
	CU_ASSERT_EQUAL(l2.vlan, 4094);
	CU_ASSERT_EQUAL(l2.ethertype, SP_ETHERTYPE_ARP);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("pkt", NULL, NULL);
	CU_add_test(s, "address parse/format", test_addr_parse);
	CU_add_test(s, "address prefixes", test_addr_prefix);
	CU_add_test(s, "ethernet/vlan", test_l2);
	CU_add_test(s, "ipv4 validation table", test_ip4_check);
	CU_add_test(s, "ttl decrement checksum", test_ttl_dec);
	CU_add_test(s, "ipv6 validation", test_ip6_check);
	CU_add_test(s, "arp validation", test_arp_check);
	CU_add_test(s, "neighbour discovery", test_nd);
	CU_add_test(s, "icmp error rules", test_error_allowed);
	CU_add_test(s, "ethernet write", test_eth_write);
	return sp_test_run();
}
