/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_DP_H
#define SP_DP_H

/**
 * @file
 * The worker data path and its hand-off to the control core.
 *
 * Each worker lcore polls its RX queues and runs every packet of a burst to completion:
 * Ethernet/VLAN -> ARP/NDP answers -> IPv4/IPv6 validation -> one FIB lookup per packet (which
 * also says "for us") -> local delivery (echo reply, or the exception port to the kernel) or
 * forwarding (TTL, MTU, fragmentation) -> neighbour lookup -> transmit on the worker's own TX
 * queue. No locks, no system calls and no heap allocation on that path; tables are read under
 * RCU; counters are the worker's own (lib/stats).
 *
 * What a worker cannot finish alone goes to the control core on a per-worker single-producer
 * ring: packets waiting for a neighbour, and ARP replies / neighbour advertisements to learn
 * from. The control core sends its own frames (solicitations, released packets) through a ring
 * back to a worker, so it needs no TX queue of its own.
 */

#include <stdbool.h>
#include <stdint.h>

#include "sp_conf.h"
#include "sp_neigh.h"
#include "sp_tunnel.h"

/** Start-up parameters of the data path. */
struct sp_dp_params {
	unsigned int n_workers;
	const unsigned int *lcores;  /**< worker lcore ids */
	uint16_t burst;
	uint16_t n_data_ports;
	const uint16_t *data_ports;  /**< DPDK port ids; each has n_workers RX and TX queues */
	bool has_exception;
	uint16_t exception_port;     /**< n_workers RX and TX queues, queue i on worker i */
	struct sp_neigh *neigh;
	/** Per worker tunnel state (lib/tunnel), or NULL when there are no tunnels. */
	struct sp_tun_worker *const *tun;
};

/** Create rings and per-worker state. @return 0, -EINVAL, -ENOMEM. */
int sp_dp_init(const struct sp_dp_params *p);

/** Settings that a reload may change: idle mode, ICMP rate limit. Any time, control core. */
void sp_dp_set_runtime(const struct sp_conf *conf);

/** Launch every worker on its lcore. @return 0 or -errno. */
int sp_dp_start(void);

/** Ask workers to stop and wait for them; then free packets still in the rings. */
void sp_dp_stop(void);

/** Free rings and state (after sp_dp_stop). */
void sp_dp_fini(void);

/**
 * Control core: handle what workers handed over (resolution requests, ARP/NDP to learn from).
 * @return the number of packets handled (the caller polls sooner while it is non-zero).
 */
unsigned int sp_dp_ctl_poll(uint64_t now_ms);

/** The neighbour callbacks that send solicitations and released packets through a worker. */
extern const struct sp_neigh_ops sp_dp_neigh_ops;

unsigned int sp_dp_worker_count(void);

#endif
