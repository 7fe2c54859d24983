/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_DP_PRIVATE_H
#define SP_DP_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "sp_addr.h"
#include "sp_log.h"
#include "sp_neigh.h"
#include "sp_pkt.h"
#include "sp_port.h"
#include "sp_route.h"
#include "sp_stats.h"
#include "sp_tunnel.h"

SP_LOG_TYPE_DECLARE(dp);

#define DP_MAX_BURST 64
#define DP_MAX_RXQ (SP_MAX_PORTS + 1)
#define DP_TX_BUF 32
#define DP_RING_SIZE 1024

/** What a packet handed to the control core asks for. */
enum dp_punt {
	DP_PUNT_NONE = 0,
	DP_PUNT_RESOLVE, /**< wait for the neighbour meta->nh on meta->tx_iface */
	DP_PUNT_ARP,     /**< ARP message to learn from */
	DP_PUNT_ND,      /**< neighbour advertisement to learn from */
	DP_PUNT_TX,      /**< from the control core: a complete frame for meta->tx_iface */
};

/** Packets one worker passes to another because that one owns the SA (RFC 9611 style). */
enum dp_handoff {
	DP_HANDOFF_NONE = 0,
	DP_HANDOFF_DECAP,  /**< ESP for an inbound SA the receiver owns */
	DP_HANDOFF_ENCAP,  /**< inner packet for the outbound SA the receiver owns */
};

/** Every mbuf's private area. */
struct sp_meta {
	uint16_t rx_iface;
	uint16_t tx_iface;
	uint8_t punt;             /**< enum dp_punt */
	uint8_t handoff;          /**< enum dp_handoff: why another worker passed it here */
	struct rte_ether_addr src_mac; /**< Ethernet source as received */
	uint16_t tun_peer;        /**< decapsulated: peer index + 1 (0: not from a tunnel) */
	uint16_t ho_peer;         /**< DP_HANDOFF_ENCAP: the peer to encrypt for */
	uint8_t tun_outer;        /**< an ESP packet we built: must not enter a tunnel again */
	uint8_t pad[3];
	struct sp_ip nh;          /**< DP_PUNT_RESOLVE: the neighbour */
};
_Static_assert(sizeof(struct sp_meta) <= SP_MBUF_PRIV_SIZE, "mbuf private area too small");

static inline struct sp_meta *
dp_meta(struct rte_mbuf *m)
{
	return (struct sp_meta *)rte_mbuf_to_priv(m);
}

struct dp_rxq {
	uint16_t port;
	uint16_t queue;
};

struct dp_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[DP_TX_BUF];
};

/** One worker's state; written only by its lcore except the runtime settings. */
struct sp_worker {
	unsigned int id;              /**< 0..n-1: RCU thread id and TX queue index */
	unsigned int lcore;
	uint16_t burst;
	uint16_t n_rxq;
	struct dp_rxq rxq[DP_MAX_RXQ];
	struct sp_lcore_stats *st;
	struct rte_ring *to_ctl;      /**< worker -> control (SP/SC) */
	struct rte_ring *from_ctl;    /**< control -> worker (SP/SC) */
	struct rte_rcu_qsbr *qsbr;
	struct sp_neigh *neigh;
	struct sp_tun_worker *tun;    /**< NULL when the gateway has no tunnels */
	struct rte_ring *handoff;     /**< other workers -> this one (MP/SC), with tun */
	/* runtime settings, stored by the control core */
	volatile uint8_t idle_mode;
	volatile uint32_t idle_max_us;
	volatile uint64_t icmp_rate;  /**< errors per second */
	volatile uint64_t icmp_burst;
	/* ICMP error token bucket (tokens scaled by TSC hz) */
	uint64_t icmp_tokens;
	uint64_t icmp_last_tsc;
	/* neighbour answer cached for the current burst only */
	bool nc_valid;
	uint16_t nc_iface;
	struct sp_ip nc_ip;
	struct rte_ether_addr nc_mac;
	/* adaptive idle */
	uint32_t idle_polls;
	uint32_t sleep_us;
	struct dp_txbuf tx[SP_MAX_PORTS];
} __rte_cache_aligned;

/* eth.c */
void dp_rx_burst(struct sp_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n);
/** Prepend the Ethernet (and VLAN) header for ifc. @return false when there is no headroom. */
bool dp_eth_prepend(struct rte_mbuf *m, const struct sp_iface *ifc,
		    const struct rte_ether_addr *dst, uint16_t ethertype);

/* ip4.c / ip6.c */
void dp_ip4_input(struct sp_worker *w, struct rte_mbuf **pkts, uint16_t n);
void dp_ip6_input(struct sp_worker *w, struct rte_mbuf **pkts, uint16_t n);
/** Send towards a CONNECTED or GATEWAY next hop (MTU, fragmentation, neighbour). */
void dp_ip4_output(struct sp_worker *w, struct rte_mbuf *m, const struct sp_nexthop *nhp);
void dp_ip6_output(struct sp_worker *w, struct rte_mbuf *m, const struct sp_nexthop *nhp);
/** Route a packet the gateway originated (echo reply, ICMP error, kernel traffic). */
void dp_ip4_route_out(struct sp_worker *w, struct rte_mbuf *m);
void dp_ip6_route_out(struct sp_worker *w, struct rte_mbuf *m);
void dp_nd_input(struct sp_worker *w, const struct sp_iface *ifc, struct rte_mbuf *m);

/* tunnel.c */
/** ESP (or UDP 4500) addressed to us: decrypt, then the inner packets re-enter IP input. */
void dp_tun_decap(struct sp_worker *w, struct rte_mbuf **pkts, uint16_t n);
/** Inner packets routed into tunnels (peers[i] for pkts[i]): encrypt and route the outer. */
void dp_tun_encap(struct sp_worker *w, struct rte_mbuf **pkts, const uint16_t *peers,
		  uint16_t n);
/** Packets other workers passed to this one. @return how many. */
uint16_t dp_tun_drain_handoff(struct sp_worker *w);
/** Is this (valid, local) IPv4/IPv6 packet ESP or UDP-encapsulated ESP? */
bool dp_tun_is_esp4(const struct rte_mbuf *m);
bool dp_tun_is_esp6(const struct rte_mbuf *m);

/*
 * With tunnels, a source behind a peer is only believed when the packet came out of that
 * peer's tunnel: plaintext from such a source is spoofed, and a decrypted packet from a source
 * behind another peer (or behind no peer) is refused too. snh is the source's next hop.
 * @return the drop reason, or 0.
 */
static inline enum sp_drop
dp_tun_src_check(const struct sp_meta *meta, const struct sp_nexthop *snh, bool from_kernel)
{
	if (meta->tun_peer != 0) {
		if (snh->type != SP_NH_TUNNEL || snh->peer + 1 != meta->tun_peer)
			return SP_DROP_TUN_RPF;
	} else if (snh->type == SP_NH_TUNNEL && !from_kernel) {
		return SP_DROP_TUN_PLAINTEXT;
	}
	return 0;
}

/* icmp.c */
/** Send an ICMP error about m (which the caller still drops). */
void dp_icmp4_error(struct sp_worker *w, struct rte_mbuf *m, uint8_t type, uint8_t code,
		    uint16_t mtu);
void dp_icmp6_error(struct sp_worker *w, struct rte_mbuf *m, uint8_t type, uint8_t code,
		    uint32_t param);

/* output.c */
void dp_drop(struct sp_worker *w, struct rte_mbuf *m, enum sp_drop reason);
void dp_tx(struct sp_worker *w, uint16_t port, struct rte_mbuf *m);
void dp_tx_flush(struct sp_worker *w);
/** Resolve nh on ifc and transmit, or hand to the control core to resolve. */
void dp_neigh_output(struct sp_worker *w, struct rte_mbuf *m, const struct sp_iface *ifc,
		     const struct sp_ip *nh, uint16_t ethertype);
/** Deliver to the kernel through the exception port. */
void dp_to_kernel(struct sp_worker *w, struct rte_mbuf *m, uint16_t ethertype);
/** Hand to the control core. */
void dp_punt(struct sp_worker *w, struct rte_mbuf *m, enum dp_punt what);

/* worker.c */
struct sp_worker *dp_worker(unsigned int id);
/** One iteration of the poll loop: RX, control frames, TX flush, quiescent state.
 * @return packets handled. (The unit tests drive workers through this.) */
uint32_t dp_poll_once(struct sp_worker *w);
/** The exception interface, or NULL. */
const struct sp_iface *dp_exception_iface(void);

#endif
