/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_STATS_H
#define SP_STATS_H

/**
 * @file
 * One counter schema for the whole data path: every drop has a named reason, every counter a
 * name and a description, both generated from the X-macro lists below so that the enum and the
 * names cannot drift. Each lcore writes only its own cache-aligned block with plain increments;
 * readers on the control core sum the blocks in a loop. "clear stats" records a baseline that
 * later sums subtract, so the writers are never touched.
 */

#include <stdint.h>
#include <rte_common.h>
#include <rte_lcore.h>

#define SP_MAX_PORTS 16

/* X(enum suffix, name, description) */
#define SP_DROP_REASONS(X) \
	X(ETH_TRUNC, "eth-truncated", "frame shorter than its Ethernet and VLAN headers") \
	X(ETH_DST, "eth-not-for-us", "unicast destination MAC is not the port's") \
	X(VLAN_UNKNOWN, "vlan-unknown", "no interface for this VLAN (or untagged) on the port") \
	X(ETHERTYPE, "ethertype-unknown", "ethertype is neither ARP, IPv4 nor IPv6") \
	X(ARP_MALFORMED, "arp-malformed", "ARP packet truncated or not Ethernet/IPv4") \
	X(ARP_NOT_FOR_US, "arp-not-for-us", "ARP request for an address the gateway does not own") \
	X(IP4_TRUNC, "ipv4-truncated", "IPv4 header or total length past the end of the frame") \
	X(IP4_HDR, "ipv4-bad-header", "IPv4 version, header length or total length invalid") \
	X(IP4_CKSUM, "ipv4-bad-checksum", "IPv4 header checksum mismatch") \
	X(IP4_SRC, "ipv4-martian-source", "IPv4 source is multicast, broadcast, loopback or unspecified") \
	X(IP6_TRUNC, "ipv6-truncated", "IPv6 header or payload length past the end of the frame") \
	X(IP6_HDR, "ipv6-bad-header", "IPv6 version invalid") \
	X(IP6_SRC, "ipv6-martian-source", "IPv6 source is multicast or loopback") \
	X(LINK_LOCAL, "ipv6-link-local", "IPv6 link-local source or destination is not forwarded") \
	X(MULTICAST, "multicast", "multicast or broadcast IP destination is not routed") \
	X(TTL_EXPIRED, "ttl-expired", "TTL or hop limit reached zero (time-exceeded sent)") \
	X(NO_ROUTE, "no-route", "no route to the destination (unreachable sent)") \
	X(BLACKHOLE, "blackhole", "route is a blackhole") \
	X(MTU, "mtu-exceeded", "larger than the egress MTU and not fragmentable (ICMP sent)") \
	X(FRAG_FAIL, "fragmentation-failed", "IPv4 fragmentation failed (no buffers)") \
	X(ICMP_MALFORMED, "icmp-malformed", "ICMP/ICMPv6 message for the gateway truncated or bad checksum") \
	X(NDP_MALFORMED, "ndp-malformed", "neighbour discovery message invalid (RFC 4861 7.1.1)") \
	X(NDP_NOT_FOR_US, "ndp-not-for-us", "neighbour solicitation for an address the gateway does not own") \
	X(ICMP_UNHANDLED, "icmp-unhandled", "ICMPv6 neighbour/router message the gateway ignores") \
	X(NEIGH_QUEUE_FULL, "neighbor-queue-full", "hold queue of an unresolved neighbour is full") \
	X(NEIGH_FAILED, "neighbor-unresolved", "held while resolving a neighbour that never answered") \
	X(PUNT_FULL, "punt-ring-full", "ring to the control core is full") \
	X(NO_EXCEPTION, "no-exception-port", "local traffic for the kernel but no exception port") \
	X(NO_SRC_ADDR, "no-source-address", "egress interface has no address to source an ICMP error") \
	X(LOOP, "routing-loop", "kernel traffic routed back to the kernel") \
	X(TX_FULL, "tx-full", "transmit queue full") \
	X(CTRL_TX, "control-tx-failed", "packet from the control core could not be sent") \
	X(ESP_NO_SA, "esp-no-sa", "ESP for us with an SPI no inbound SA has") \
	X(ESP_REPLAY, "esp-replay", "ESP sequence number already seen or left of the replay window") \
	X(ESP_AUTH, "esp-auth-failed", "ESP ICV verification failed (tampered or wrong key)") \
	X(ESP_LIFETIME, "esp-lifetime", "SA past its hard lifetime or out of sequence numbers") \
	X(ESP_MALFORMED, "esp-malformed", "ESP truncated, bad padding or next header, bad inner packet") \
	X(ESP_MTU, "esp-mtu", "too big for the tunnel's path MTU and not fragmentable (ICMP sent)") \
	X(ESP_NOT_ESP, "esp-not-esp", "UDP 4500 datagram that is a NAT keepalive or IKE, not ESP") \
	X(ESP_ECN, "esp-ecn", "outer CE over inner Not-ECT (RFC 6040)") \
	X(ESP_NO_ROOM, "esp-no-room", "no head/tail room for ESP, or a multi-segment packet") \
	X(ESP_CRYPTO, "esp-crypto-error", "the crypto engine refused or failed the operation") \
	X(TUN_DOWN, "tunnel-down", "routed into a tunnel that has no SA yet (never sent in clear)") \
	X(TUN_RPF, "tunnel-rpf", "decrypted packet whose source is not behind the SA's peer") \
	X(TUN_PLAINTEXT, "tunnel-plaintext", "unencrypted packet from a prefix that is behind a tunnel") \
	X(TUN_LOOP, "tunnel-loop", "ESP inside ESP, or an outer packet routed into a tunnel") \
	X(TUN_HANDOFF, "tunnel-handoff-full", "ring to the worker that owns the SA is full")

#define SP_COUNTERS(X) \
	X(RX_PKTS, "rx-packets", "packets received from all ports") \
	X(RX_BYTES, "rx-bytes", "bytes received from all ports") \
	X(TX_PKTS, "tx-packets", "packets transmitted on all ports") \
	X(TX_BYTES, "tx-bytes", "bytes transmitted on all ports") \
	X(FORWARDED, "forwarded", "IP packets routed to another interface") \
	X(LOCAL_TO_KERNEL, "to-kernel", "packets for the gateway's addresses sent to the exception port") \
	X(FROM_KERNEL, "from-kernel", "packets from the kernel routed out of a data port") \
	X(ARP_REPLIES, "arp-replies", "ARP replies sent for the gateway's addresses") \
	X(NDP_ADVERTS, "ndp-adverts", "neighbour advertisements sent for the gateway's addresses") \
	X(NEIGH_PUNTED, "neighbor-punted", "ARP/ND messages handed to the control core") \
	X(NEIGH_HELD, "neighbor-held", "packets handed to the control core to wait for resolution") \
	X(ECHO_REPLIES, "echo-replies", "ICMP/ICMPv6 echo replies sent") \
	X(ICMP_ERRORS, "icmp-errors", "ICMP/ICMPv6 errors sent (time exceeded, unreachable, too big)") \
	X(ICMP_RATELIMITED, "icmp-rate-limited", "ICMP errors suppressed by the rate limit") \
	X(FRAGMENTS, "fragments", "IPv4 fragments sent") \
	X(ESP_ENCAP, "esp-encap", "packets encrypted into a tunnel") \
	X(ESP_DECAP, "esp-decap", "packets decrypted and verified (before the inner packet checks)") \
	X(TUN_HANDOFFS, "tunnel-handoffs", "packets passed to the worker that owns their SA") \
	X(CTRL_TX, "control-tx", "packets sent on behalf of the control core") \
	X(POLLS, "polls", "poll loop iterations") \
	X(IDLE_POLLS, "idle-polls", "poll loop iterations that found no packet") \
	X(SLEEPS, "sleeps", "times the worker slept in adaptive idle mode")

enum sp_drop {
#define SP_X(e, n, d) SP_DROP_##e,
	SP_DROP_REASONS(SP_X)
#undef SP_X
	SP_DROP__MAX
};

enum sp_ctr {
#define SP_X(e, n, d) SP_CTR_##e,
	SP_COUNTERS(SP_X)
#undef SP_X
	SP_CTR__MAX
};

struct sp_stats_desc {
	const char *name;
	const char *help;
};

extern const struct sp_stats_desc sp_drop_desc[SP_DROP__MAX];
extern const struct sp_stats_desc sp_ctr_desc[SP_CTR__MAX];

struct sp_port_ctr {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t drops;
};

/** One lcore's counters, written only by that lcore. */
struct sp_lcore_stats {
	uint64_t drop[SP_DROP__MAX];
	uint64_t ctr[SP_CTR__MAX];
	struct sp_port_ctr port[SP_MAX_PORTS];
} __rte_cache_aligned;

/** The counter block owned by an lcore (worker or control core). Never NULL for a valid id. */
struct sp_lcore_stats *sp_stats_lcore(unsigned int lcore_id);

/** Sum of every lcore's block, less the baseline of the last sp_stats_clear(). */
void sp_stats_sum(struct sp_lcore_stats *out);

/** One lcore's block less its baseline. */
void sp_stats_get_lcore(unsigned int lcore_id, struct sp_lcore_stats *out);

/** Add every field of src into dst (the one aggregation loop, shared by all readers). */
void sp_stats_add(struct sp_lcore_stats *dst, const struct sp_lcore_stats *src);

/** Record the current values as baseline: later reads start from zero. Control core only. */
void sp_stats_clear(void);

/** Look a drop reason or a counter up by name. @return its index, or -ENOENT. */
int sp_stats_drop_by_name(const char *name);
int sp_stats_ctr_by_name(const char *name);

#endif
