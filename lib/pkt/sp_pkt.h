/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_PKT_H
#define SP_PKT_H

/**
 * @file
 * Header parsing, validation and construction for the data path. Every function here is pure
 * (bytes in, verdict or bytes out, no global state), so that it can be unit tested with tables of
 * packets and fuzzed. Validators return SP_PKT_OK or the drop reason that the data path counts.
 *
 * Lengths: `len` is what is contiguous at `p` (the first segment); `pkt_len` the whole packet.
 */

#include <stdbool.h>
#include <stdint.h>
#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "sp_addr.h"
#include "sp_stats.h"

/** "No drop": the packet passed. */
#define SP_PKT_OK SP_DROP__MAX

/* Protocol numbers and message types the gateway handles itself. */
enum sp_proto {
	SP_ETHERTYPE_IPV4 = 0x0800,
	SP_ETHERTYPE_ARP = 0x0806,
	SP_ETHERTYPE_VLAN = 0x8100,
	SP_ETHERTYPE_QINQ = 0x88a8,
	SP_ETHERTYPE_IPV6 = 0x86dd,

	SP_IPPROTO_ICMP = 1,
	SP_IPPROTO_ICMPV6 = 58,

	SP_ICMP_ECHO_REPLY = 0,
	SP_ICMP_UNREACH = 3,
	SP_ICMP_UNREACH_NET = 0,
	SP_ICMP_UNREACH_HOST = 1,
	SP_ICMP_UNREACH_NEEDFRAG = 4,
	SP_ICMP_SOURCEQUENCH = 4,
	SP_ICMP_REDIRECT = 5,
	SP_ICMP_ECHO = 8,
	SP_ICMP_TIMXCEED = 11,
	SP_ICMP_PARAMPROB = 12,

	SP_ICMP6_UNREACH = 1,
	SP_ICMP6_UNREACH_NOROUTE = 0,
	SP_ICMP6_UNREACH_ADDR = 3,
	SP_ICMP6_PACKET_TOO_BIG = 2,
	SP_ICMP6_TIME_EXCEEDED = 3,
	SP_ICMP6_PARAM_PROB = 4,
	SP_ICMP6_ECHO_REQUEST = 128,
	SP_ICMP6_ECHO_REPLY = 129,
	SP_ND_ROUTER_SOLICIT = 133,
	SP_ND_ROUTER_ADVERT = 134,
	SP_ND_NEIGHBOR_SOLICIT = 135,
	SP_ND_NEIGHBOR_ADVERT = 136,
	SP_ND_REDIRECT = 137,

	SP_ND_OPT_SOURCE_LINKADDR = 1,
	SP_ND_OPT_TARGET_LINKADDR = 2,

	SP_ND_NA_FLAG_ROUTER = 0x80,
	SP_ND_NA_FLAG_SOLICITED = 0x40,
	SP_ND_NA_FLAG_OVERRIDE = 0x20,

	SP_IP4_HDR_MIN = 20,
	SP_IP6_HDR_LEN = 40,
	SP_ICMP_HDR_LEN = 8,
	SP_ND_MIN_LEN = 24,          /* ICMPv6 header + reserved + target */
	SP_IP6_MIN_MTU = 1280,
	SP_ICMP4_ERR_MAX = 576,      /* RFC 1812 4.3.2.3: errors no longer than this */
	SP_DEFAULT_TTL = 64,
};

/** Result of Ethernet/802.1Q parsing. */
struct sp_l2 {
	struct rte_ether_addr dst;
	struct rte_ether_addr src;
	uint16_t vlan;        /**< 0 when untagged */
	uint16_t ethertype;   /**< host order, after the VLAN tag */
	uint16_t l2_len;      /**< 14 or 18 */
};

/** Parse Ethernet and at most one 802.1Q tag (QinQ is refused as VLAN_UNKNOWN). */
enum sp_drop sp_pkt_l2_parse(const uint8_t *p, uint32_t len, struct sp_l2 *out);

/**
 * Validate an IPv4 header at p (RFC 1812 5.2.2): length, version, IHL, total length, header
 * checksum, martian source. *total receives the total length (trim the frame to it).
 */
enum sp_drop sp_pkt_ip4_check(const uint8_t *p, uint32_t len, uint32_t pkt_len, uint16_t *total);

/** Validate an IPv6 header: length, version, payload length, martian source. */
enum sp_drop sp_pkt_ip6_check(const uint8_t *p, uint32_t len, uint32_t pkt_len, uint16_t *total);

/** True for IPv4 multicast, limited broadcast. */
bool sp_pkt_ip4_is_mcast(rte_be32_t dst);

/** Validate an Ethernet/IPv4 ARP message (RFC 826). */
enum sp_drop sp_pkt_arp_check(const uint8_t *p, uint32_t len);

/** A parsed neighbour solicitation or advertisement. */
struct sp_nd {
	uint8_t type;                    /**< SP_ND_NEIGHBOR_SOLICIT or _ADVERT */
	uint8_t flags;                   /**< NA flags */
	uint8_t target[16];
	bool has_lladdr;                 /**< source (NS) or target (NA) link-layer option */
	struct rte_ether_addr lladdr;
};

/**
 * Validate and parse an NS/NA whose IPv6 header is at p (RFC 4861 7.1.1, 7.1.2): hop limit
 * 255, code 0, length, checksum, option lengths non-zero, no link-layer option from the
 * unspecified source, NA to multicast without S flag.
 * @return SP_PKT_OK, NDP_MALFORMED, or ICMP_UNHANDLED for other ICMPv6 types.
 */
enum sp_drop sp_pkt_nd_parse(const uint8_t *p, uint32_t len, struct sp_nd *out);

/** Verify an IPv4 ICMP message's checksum (icmp points at the ICMP header, len bytes). */
bool sp_pkt_icmp4_cksum_ok(const uint8_t *icmp, uint32_t len);

/** Decrement TTL and patch the header checksum incrementally (RFC 1624). */
static inline void
sp_pkt_ip4_ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint32_t sum;

	ip->time_to_live--;
	/* TTL is the high byte of its 16-bit word: the word fell by 0x0100. */
	sum = (uint32_t)rte_be_to_cpu_16(ip->hdr_checksum) + 0x0100;
	sum = (sum & 0xffff) + (sum >> 16);
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)sum);
}

/** Write an Ethernet/IPv4 ARP message (28 bytes) at p. op is RTE_ARP_OP_REQUEST or _REPLY. */
void sp_pkt_arp_write(uint8_t *p, uint16_t op, const struct rte_ether_addr *sha, rte_be32_t sip,
		      const struct rte_ether_addr *tha, rte_be32_t tip);

/** Solicited-node multicast address of target, and its Ethernet address. */
void sp_pkt_ip6_solicited_node(const uint8_t target[16], uint8_t out[16]);
void sp_pkt_ip6_mcast_mac(const uint8_t ip6[16], struct rte_ether_addr *mac);

/**
 * Write an IPv6 neighbour solicitation (target, with source link-layer option) or an
 * advertisement (flags, with target link-layer option), IPv6 header included, at p.
 * @return the number of bytes written (always 72 = 40 + 32).
 */
uint16_t sp_pkt_ns_write(uint8_t *p, const uint8_t src[16], const uint8_t dst[16],
			 const uint8_t target[16], const struct rte_ether_addr *lladdr);
uint16_t sp_pkt_na_write(uint8_t *p, const uint8_t src[16], const uint8_t dst[16],
			 const uint8_t target[16], uint8_t flags,
			 const struct rte_ether_addr *lladdr);

/**
 * Decide whether an ICMP error may be sent about the IPv4 packet at p (RFC 1812 4.3.2.7):
 * not about an ICMP error, a non-first fragment, a multicast/broadcast destination or a martian
 * source.
 */
bool sp_pkt_ip4_error_allowed(const uint8_t *p, uint32_t len);
/** Same for IPv6 (RFC 4443 2.4 e): not about an ICMPv6 error; multicast only for too-big. */
bool sp_pkt_ip6_error_allowed(const uint8_t *p, uint32_t len, uint8_t type);

/** Write an Ethernet header (and 802.1Q tag when vlan != 0) at p. @return its length. */
uint16_t sp_pkt_eth_write(uint8_t *p, const struct rte_ether_addr *dst,
			  const struct rte_ether_addr *src, uint16_t vlan, uint16_t ethertype);

#endif
