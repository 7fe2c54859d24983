/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_PORT_H
#define SP_PORT_H

/**
 * @file
 * Ethernet devices: probing from a device string (a PCI address or any vdev), queue setup with
 * offloads masked by what the device can do, the mbuf pools, and the port table that the
 * console shows. Control core only; nothing here runs on a worker.
 */

#include <stdbool.h>
#include <stdint.h>
#include <rte_ether.h>
#include <rte_mempool.h>

#include "sp_conf.h"

/** Each mbuf's private area (struct sp_meta in lib/dp) is at most this big. */
#define SP_MBUF_PRIV_SIZE 64

struct sp_port_info {
	char name[SP_CONF_NAME_MAX];
	char device[SP_CONF_DEV_MAX];
	uint16_t port_id;
	uint16_t nb_rxq;
	uint16_t nb_txq;
	uint16_t mtu;
	bool exception;
	struct rte_ether_addr mac;
};

/**
 * Create the packet pool (mbufs with SP_MBUF_PRIV_SIZE private bytes) and the small pool of
 * indirect mbufs that IPv4 fragmentation attaches to. @return 0, -ENOMEM (err filled).
 */
int sp_port_pools_create(const struct sp_conf_mempool *mc, char *err, size_t errlen);
struct rte_mempool *sp_port_pool(void);
struct rte_mempool *sp_port_pool_indirect(void);
/** Mbufs not back in the pools (call after every port is closed). */
unsigned int sp_port_pool_in_use(void);
void sp_port_pools_free(void);

/**
 * Probe, configure and start a data port with nb_rxq RX and nb_txq TX queues.
 * @return 0 and *port_id, or -errno with a one-line message in err (device missing, too few
 * queues, MTU refused, ...). On failure the device is removed again.
 */
int sp_port_open(const struct sp_conf_port *pc, uint16_t nb_rxq, uint16_t nb_txq,
		 uint16_t *port_id, char *err, size_t errlen);

/** The exception port: a net_tap named ec->iface with the DPDK side's MAC, nb_txq RX and TX
 * queues (one pair per worker). */
int sp_port_open_exception(const struct sp_conf_exception *ec, uint16_t mtu, uint16_t nb_txq,
			   uint16_t *port_id, char *err, size_t errlen);

/**
 * True when a port's driver is known not to give its mbufs back on close: DPDK 22.11's
 * net_af_xdp keeps those of its fill ring. Ask before sp_port_close_all().
 */
bool sp_port_keeps_mbufs(void);

/** Stop, close and remove every opened port. */
void sp_port_close_all(void);

unsigned int sp_port_count(void);
/** Port table entry i (0..count-1), or NULL. */
const struct sp_port_info *sp_port_info(unsigned int i);
/** Entry of a DPDK port id, or NULL. */
const struct sp_port_info *sp_port_by_id(uint16_t port_id);

/** Reset the devices' own counters (rte_eth_stats). */
void sp_port_stats_reset(void);

#endif
