/* SPDX-License-Identifier: BSD-3-Clause */
/* Construction of the few packets the gateway originates itself. */

#include <string.h>

#include <rte_ip.h>

#include "sp_pkt.h"

void
sp_pkt_arp_write(uint8_t *p, uint16_t op, const struct rte_ether_addr *sha, rte_be32_t sip,
		 const struct rte_ether_addr *tha, rte_be32_t tip)
{
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)p;

	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(SP_ETHERTYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(sha, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = sip;
	rte_ether_addr_copy(tha, &a->arp_data.arp_tha);
	a->arp_data.arp_tip = tip;
}

void
sp_pkt_ip6_solicited_node(const uint8_t target[16], uint8_t out[16])
{
	static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	memcpy(out, prefix, 13);
	memcpy(out + 13, target + 13, 3);
}

void
sp_pkt_ip6_mcast_mac(const uint8_t ip6[16], struct rte_ether_addr *mac)
{
	mac->addr_bytes[0] = 0x33;
	mac->addr_bytes[1] = 0x33;
	memcpy(&mac->addr_bytes[2], ip6 + 12, 4);
}

static uint16_t
nd_write(uint8_t *p, uint8_t type, uint8_t flags, uint8_t opt, const uint8_t src[16],
	 const uint8_t dst[16], const uint8_t target[16], const struct rte_ether_addr *lladdr)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;
	uint8_t *icmp = p + SP_IP6_HDR_LEN;
	const uint16_t ilen = SP_ND_MIN_LEN + 8;
	uint16_t ck;

	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(ilen);
	ip->proto = SP_IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	memset(icmp, 0, ilen);
	icmp[0] = type;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	icmp[24] = opt;
	icmp[25] = 1; /* 8 bytes */
	memcpy(icmp + 26, lladdr, RTE_ETHER_ADDR_LEN);
	ck = rte_ipv6_udptcp_cksum(ip, icmp);
	memcpy(icmp + 2, &ck, 2);
	return SP_IP6_HDR_LEN + ilen;
}

uint16_t
sp_pkt_ns_write(uint8_t *p, const uint8_t src[16], const uint8_t dst[16], const uint8_t target[16],
		const struct rte_ether_addr *lladdr)
{
	return nd_write(p, SP_ND_NEIGHBOR_SOLICIT, 0, SP_ND_OPT_SOURCE_LINKADDR, src, dst, target,
			lladdr);
}

uint16_t
sp_pkt_na_write(uint8_t *p, const uint8_t src[16], const uint8_t dst[16], const uint8_t target[16],
		uint8_t flags, const struct rte_ether_addr *lladdr)
{
	return nd_write(p, SP_ND_NEIGHBOR_ADVERT, flags, SP_ND_OPT_TARGET_LINKADDR, src, dst, target,
			lladdr);
}

uint16_t
sp_pkt_eth_write(uint8_t *p, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
		 uint16_t vlan, uint16_t ethertype)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;

	rte_ether_addr_copy(dst, &eh->dst_addr);
	rte_ether_addr_copy(src, &eh->src_addr);
	if (vlan == 0) {
		eh->ether_type = rte_cpu_to_be_16(ethertype);
		return sizeof(*eh);
	}
	eh->ether_type = rte_cpu_to_be_16(SP_ETHERTYPE_VLAN);
	((struct rte_vlan_hdr *)(eh + 1))->vlan_tci = rte_cpu_to_be_16(vlan);
	((struct rte_vlan_hdr *)(eh + 1))->eth_proto = rte_cpu_to_be_16(ethertype);
	return sizeof(*eh) + sizeof(struct rte_vlan_hdr);
}
