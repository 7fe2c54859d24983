/* SPDX-License-Identifier: BSD-3-Clause */
/* Validation of the headers the gateway parses. Every check names the drop reason it counts. */

#include <string.h>

#include <rte_ip.h>

#include "sp_pkt.h"

enum sp_drop
sp_pkt_l2_parse(const uint8_t *p, uint32_t len, struct sp_l2 *out)
{
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)p;
	uint16_t type;

	if (len < sizeof(*eh))
		return SP_DROP_ETH_TRUNC;
	rte_ether_addr_copy(&eh->dst_addr, &out->dst);
	rte_ether_addr_copy(&eh->src_addr, &out->src);
	type = rte_be_to_cpu_16(eh->ether_type);
	out->vlan = 0;
	out->l2_len = sizeof(*eh);
	if (type == SP_ETHERTYPE_VLAN) {
		const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(eh + 1);

		if (len < sizeof(*eh) + sizeof(*vh))
			return SP_DROP_ETH_TRUNC;
		out->vlan = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		type = rte_be_to_cpu_16(vh->eth_proto);
		out->l2_len += sizeof(*vh);
		/* VLAN 0 is a priority tag only; 4095 is reserved; stacked tags are not ours. */
		if (out->vlan == 4095 || type == SP_ETHERTYPE_VLAN || type == SP_ETHERTYPE_QINQ)
			return SP_DROP_VLAN_UNKNOWN;
	} else if (type == SP_ETHERTYPE_QINQ) {
		return SP_DROP_VLAN_UNKNOWN;
	}
	out->ethertype = type;
	return SP_PKT_OK;
}

bool
sp_pkt_ip4_is_mcast(rte_be32_t dst)
{
	uint32_t d = rte_be_to_cpu_32(dst);

	return (d >> 28) == 0xe || d == 0xffffffff;
}

static bool
ip4_src_martian(rte_be32_t src)
{
	uint32_t s = rte_be_to_cpu_32(src);

	return (s >> 28) >= 0xe || (s >> 24) == 127 || (s >> 24) == 0;
}

/* Header checksum over hlen bytes is valid. The common 20-byte header takes five 32-bit adds
 * instead of the generic byte-loop. */
static inline bool
ip4_cksum_ok(const uint8_t *p, uint32_t hlen)
{
	if (hlen == SP_IP4_HDR_MIN) {
		uint32_t w[5];
		uint64_t sum;

		memcpy(w, p, sizeof(w));
		sum = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
		sum = (sum & 0xffffffff) + (sum >> 32);
		sum = (sum & 0xffffffff) + (sum >> 32);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		return sum == 0xffff;
	}
	return rte_raw_cksum(p, hlen) == 0xffff;
}

enum sp_drop
sp_pkt_ip4_check(const uint8_t *p, uint32_t len, uint32_t pkt_len, uint16_t *total)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;
	uint32_t hlen;
	uint16_t tot;

	if (len < SP_IP4_HDR_MIN)
		return SP_DROP_IP4_TRUNC;
	if ((ip->version_ihl >> 4) != 4)
		return SP_DROP_IP4_HDR;
	hlen = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if (hlen < SP_IP4_HDR_MIN)
		return SP_DROP_IP4_HDR;
	if (hlen > len)
		return SP_DROP_IP4_TRUNC;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < hlen)
		return SP_DROP_IP4_HDR;
	if (tot > pkt_len)
		return SP_DROP_IP4_TRUNC;
	if (!ip4_cksum_ok(p, hlen))
		return SP_DROP_IP4_CKSUM;
	if (ip4_src_martian(ip->src_addr))
		return SP_DROP_IP4_SRC;
	*total = tot;
	return SP_PKT_OK;
}

enum sp_drop
sp_pkt_ip6_check(const uint8_t *p, uint32_t len, uint32_t pkt_len, uint16_t *total)
{
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;
	static const uint8_t loopback[16] = { [15] = 1 };
	uint32_t tot;

	if (len < SP_IP6_HDR_LEN)
		return SP_DROP_IP6_TRUNC;
	if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)
		return SP_DROP_IP6_HDR;
	tot = SP_IP6_HDR_LEN + (uint32_t)rte_be_to_cpu_16(ip->payload_len);
	/* A zero payload length with a hop-by-hop jumbogram is not supported: it is truncated. */
	if (tot > pkt_len || tot > UINT16_MAX)
		return SP_DROP_IP6_TRUNC;
	if (ip->src_addr[0] == 0xff || memcmp(ip->src_addr, loopback, 16) == 0)
		return SP_DROP_IP6_SRC;
	*total = (uint16_t)tot;
	return SP_PKT_OK;
}

enum sp_drop
sp_pkt_arp_check(const uint8_t *p, uint32_t len)
{
	const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)p;

	if (len < sizeof(*a))
		return SP_DROP_ARP_MALFORMED;
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(SP_ETHERTYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4)
		return SP_DROP_ARP_MALFORMED;
	if (a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
	    a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REPLY))
		return SP_DROP_ARP_MALFORMED;
	if (!rte_is_unicast_ether_addr(&a->arp_data.arp_sha))
		return SP_DROP_ARP_MALFORMED;
	return SP_PKT_OK;
}

bool
sp_pkt_icmp4_cksum_ok(const uint8_t *icmp, uint32_t len)
{
	return len >= SP_ICMP_HDR_LEN && rte_raw_cksum(icmp, len) == 0xffff;
}

static bool
ip6_is_unspecified(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

enum sp_drop
sp_pkt_nd_parse(const uint8_t *p, uint32_t len, struct sp_nd *out)
{
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;
	const uint8_t *icmp = p + SP_IP6_HDR_LEN;
	uint32_t ilen, off;

	if (len < SP_IP6_HDR_LEN + 4 || ip->proto != SP_IPPROTO_ICMPV6)
		return SP_DROP_ICMP_UNHANDLED;
	ilen = rte_be_to_cpu_16(ip->payload_len);
	if (ilen > len - SP_IP6_HDR_LEN)
		return SP_DROP_NDP_MALFORMED;
	out->type = icmp[0];
	if (out->type != SP_ND_NEIGHBOR_SOLICIT && out->type != SP_ND_NEIGHBOR_ADVERT)
		return SP_DROP_ICMP_UNHANDLED;
	if (ip->hop_limits != 255 || icmp[1] != 0 || ilen < SP_ND_MIN_LEN)
		return SP_DROP_NDP_MALFORMED;
	if (rte_ipv6_udptcp_cksum_verify(ip, icmp) != 0)
		return SP_DROP_NDP_MALFORMED;
	out->flags = icmp[4];
	memcpy(out->target, icmp + 8, 16);
	if (out->target[0] == 0xff)
		return SP_DROP_NDP_MALFORMED;
	out->has_lladdr = false;
	for (off = SP_ND_MIN_LEN; off < ilen;) {
		uint32_t olen;

		if (ilen - off < 2)
			return SP_DROP_NDP_MALFORMED;
		olen = (uint32_t)icmp[off + 1] * 8;
		if (olen == 0 || olen > ilen - off)
			return SP_DROP_NDP_MALFORMED;
		if (((out->type == SP_ND_NEIGHBOR_SOLICIT && icmp[off] == SP_ND_OPT_SOURCE_LINKADDR) ||
		     (out->type == SP_ND_NEIGHBOR_ADVERT && icmp[off] == SP_ND_OPT_TARGET_LINKADDR)) &&
		    olen >= 8) {
			memcpy(&out->lladdr, icmp + off + 2, RTE_ETHER_ADDR_LEN);
			out->has_lladdr = true;
		}
		off += olen;
	}
	if (out->type == SP_ND_NEIGHBOR_SOLICIT) {
		/* DAD probes come from :: and must go to a solicited-node address, without lladdr. */
		if (ip6_is_unspecified(ip->src_addr) &&
		    (out->has_lladdr || ip->dst_addr[0] != 0xff || ip->dst_addr[11] != 0x01 ||
		     ip->dst_addr[12] != 0xff))
			return SP_DROP_NDP_MALFORMED;
	} else if (ip->dst_addr[0] == 0xff && (out->flags & SP_ND_NA_FLAG_SOLICITED)) {
		return SP_DROP_NDP_MALFORMED;
	}
	return SP_PKT_OK;
}

bool
sp_pkt_ip4_error_allowed(const uint8_t *p, uint32_t len)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;
	uint32_t hlen;

	if (len < SP_IP4_HDR_MIN)
		return false;
	hlen = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if (rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK)
		return false;
	if (sp_pkt_ip4_is_mcast(ip->dst_addr) || ip4_src_martian(ip->src_addr))
		return false;
	if (ip->next_proto_id == SP_IPPROTO_ICMP) {
		uint8_t type;

		if (len < hlen + 1)
			return false;
		type = p[hlen];
		/* Only queries (echo, timestamp, ...) may trigger errors, never errors themselves. */
		if (type == SP_ICMP_UNREACH || type == SP_ICMP_SOURCEQUENCH ||
		    type == SP_ICMP_REDIRECT || type == SP_ICMP_TIMXCEED ||
		    type == SP_ICMP_PARAMPROB)
			return false;
	}
	return true;
}

bool
sp_pkt_ip6_error_allowed(const uint8_t *p, uint32_t len, uint8_t type)
{
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;

	if (len < SP_IP6_HDR_LEN)
		return false;
	if (ip->src_addr[0] == 0xff || ip6_is_unspecified(ip->src_addr))
		return false;
	if (ip->dst_addr[0] == 0xff && type != SP_ICMP6_PACKET_TOO_BIG)
		return false;
	if (ip->proto == SP_IPPROTO_ICMPV6) {
		if (len < SP_IP6_HDR_LEN + 1)
			return false;
		if (p[SP_IP6_HDR_LEN] < 128)
			return false;
	}
	return true;
}
