/* SPDX-License-Identifier: BSD-3-Clause */
/* Device probing and queue setup. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "sp_log.h"
#include "sp_port.h"
#include "sp_stats.h"

SP_LOG_TYPE(port);

static struct sp_port_info ports[SP_MAX_PORTS];
static unsigned int n_ports;
static struct rte_mempool *pool, *pool_indirect;

int
sp_port_pools_create(const struct sp_conf_mempool *mc, char *err, size_t errlen)
{
	pool = rte_pktmbuf_pool_create("sp_mbuf", mc->mbufs, mc->cache, SP_MBUF_PRIV_SIZE,
				       mc->data_room, rte_socket_id());
	if (pool == NULL) {
		snprintf(err, errlen, "mempool: cannot create %u mbufs of %u bytes: %s (hugepages?)",
			 mc->mbufs, mc->data_room, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	/* Indirect mbufs carry no data: one per fragment in flight is plenty. */
	pool_indirect = rte_pktmbuf_pool_create("sp_mbuf_ind", 4095, 128, 0, 0, rte_socket_id());
	if (pool_indirect == NULL) {
		snprintf(err, errlen, "mempool: cannot create indirect pool: %s",
			 rte_strerror(rte_errno));
		rte_mempool_free(pool);
		pool = NULL;
		return -ENOMEM;
	}
	return 0;
}

struct rte_mempool *
sp_port_pool(void)
{
	return pool;
}

struct rte_mempool *
sp_port_pool_indirect(void)
{
	return pool_indirect;
}

unsigned int
sp_port_pool_in_use(void)
{
	unsigned int n = 0;

	if (pool != NULL)
		n += rte_mempool_in_use_count(pool);
	if (pool_indirect != NULL)
		n += rte_mempool_in_use_count(pool_indirect);
	return n;
}

void
sp_port_pools_free(void)
{
	rte_mempool_free(pool);
	rte_mempool_free(pool_indirect);
	pool = pool_indirect = NULL;
}

/* "net_tap0,iface=x" -> "net_tap0"; "0000:03:00.0" stays. */
static void
device_name(const char *device, char *name, size_t size)
{
	size_t n = strcspn(device, ",");

	if (n >= size)
		n = size - 1;
	memcpy(name, device, n);
	name[n] = '\0';
}

static int
probe(const char *device, uint16_t *port_id, char *err, size_t errlen)
{
	char name[SP_CONF_DEV_MAX];
	int rc;

	device_name(device, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0) {
		/* Probed by the EAL already (a PCI device on the bus, or -a/--vdev). */
		return 0;
	}
	rc = rte_dev_probe(device);
	if (rc < 0) {
		snprintf(err, errlen, "cannot probe device \"%s\": %s", device, rte_strerror(-rc));
		return rc;
	}
	if (rte_eth_dev_get_port_by_name(name, port_id) != 0) {
		snprintf(err, errlen, "device \"%s\" probed but no Ethernet port named \"%s\"",
			 device, name);
		return -ENODEV;
	}
	return 0;
}

static void
unprobe(uint16_t port_id)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (rte_eth_dev_info_get(port_id, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
	if (dev != NULL)
		rte_dev_remove(dev);
}

static int
setup(uint16_t port_id, const char *what, uint16_t nb_rxq, uint16_t nb_txq, uint16_t mtu,
      uint16_t rx_desc, uint16_t tx_desc, char *err, size_t errlen)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t q;
	int rc, socket = rte_eth_dev_socket_id(port_id);

	if (socket < 0)
		socket = (int)rte_socket_id();
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot get device info: %s", what, rte_strerror(-rc));
		return rc;
	}
	if (nb_rxq > info.max_rx_queues || nb_txq > info.max_tx_queues) {
		snprintf(err, errlen,
			 "%s: device %s has %u RX / %u TX queues, %u / %u needed (one RX queue per "
			 "worker polling it, one TX queue per worker; for net_af_packet set qpairs=)",
			 what, info.driver_name, info.max_rx_queues, info.max_tx_queues, nb_rxq,
			 nb_txq);
		return -ENOSPC;
	}
	if (nb_rxq > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
		if (conf.rx_adv_conf.rss_conf.rss_hf == 0)
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	}
	/* Multi-segment transmit is needed for IPv4 fragments (header + attached data). */
	conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS & info.tx_offload_capa;
	/* A frame that does not fit one mbuf needs scatter RX, else the device drops it. */
	if ((uint32_t)mtu + RTE_ETHER_HDR_LEN + 4 + RTE_ETHER_CRC_LEN >
	    (uint32_t)rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM) {
		if (!(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)) {
			snprintf(err, errlen,
				 "%s: MTU %u does not fit one mbuf (mempool.data_room %u) and "
				 "device %s cannot scatter: raise mempool.data_room", what, mtu,
				 rte_pktmbuf_data_room_size(pool), info.driver_name);
			return -EINVAL;
		}
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	}
	rc = rte_eth_dev_configure(port_id, nb_rxq, nb_txq, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "%s: configure failed: %s", what, rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rx_desc, &tx_desc);
	if (rc != 0) {
		snprintf(err, errlen, "%s: descriptor counts refused: %s", what, rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_set_mtu(port_id, mtu);
	/* Some vdevs (memif, pcap) cannot change MTU; fine as long as frames fit. */
	if (rc != 0 && rc != -ENOTSUP) {
		snprintf(err, errlen, "%s: MTU %u refused: %s", what, mtu, rte_strerror(-rc));
		return rc;
	}
	for (q = 0; q < nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, rx_desc, socket, NULL, pool);
		if (rc != 0) {
			snprintf(err, errlen, "%s: RX queue %u setup failed: %s", what, q,
				 rte_strerror(-rc));
			return rc;
		}
	}
	for (q = 0; q < nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(port_id, q, tx_desc, socket, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "%s: TX queue %u setup failed: %s", what, q,
				 rte_strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int
start(uint16_t port_id, const char *what, bool promisc, char *err, size_t errlen)
{
	int rc = rte_eth_dev_start(port_id);

	if (rc != 0) {
		snprintf(err, errlen, "%s: start failed: %s", what, rte_strerror(-rc));
		return rc;
	}
	if (promisc)
		rte_eth_promiscuous_enable(port_id);
	/* Neighbour solicitations go to solicited-node multicast groups. */
	rc = rte_eth_allmulticast_enable(port_id);
	if (rc != 0 && rc != -ENOTSUP)
		SP_LOG(port, WARNING, "%s: cannot enable all-multicast: %s", what,
		       rte_strerror(-rc));
	return 0;
}

static int
record(const char *name, const char *device, uint16_t port_id, uint16_t nb_rxq, uint16_t nb_txq,
       uint16_t mtu, bool exception)
{
	struct sp_port_info *p;

	if (n_ports == SP_MAX_PORTS)
		return -ENOSPC;
	p = &ports[n_ports++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->device, sizeof(p->device), "%s", device);
	p->port_id = port_id;
	p->nb_rxq = nb_rxq;
	p->nb_txq = nb_txq;
	p->mtu = mtu;
	p->exception = exception;
	rte_eth_macaddr_get(port_id, &p->mac);
	return 0;
}

int
sp_port_open(const struct sp_conf_port *pc, uint16_t nb_rxq, uint16_t nb_txq, uint16_t *port_id,
	     char *err, size_t errlen)
{
	char what[64];
	int rc;

	snprintf(what, sizeof(what), "port %s", pc->name);
	if (port_id == NULL || pool == NULL) {
		snprintf(err, errlen, "%s: pools not created", what);
		return -EINVAL;
	}
	rc = probe(pc->device, port_id, err, errlen);
	if (rc != 0) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%s: %s", what, err);
		snprintf(err, errlen, "%s", tmp);
		return rc;
	}
	if (rte_eth_dev_is_valid_port(*port_id) == 0 || *port_id >= SP_MAX_PORTS) {
		snprintf(err, errlen, "%s: port id %u out of range", what, *port_id);
		rc = -ERANGE;
		goto fail;
	}
	rc = setup(*port_id, what, nb_rxq, nb_txq, pc->mtu, pc->rx_desc, pc->tx_desc, err, errlen);
	if (rc != 0)
		goto fail;
	if (pc->has_mac) {
		rc = rte_eth_dev_default_mac_addr_set(*port_id, (struct rte_ether_addr *)&pc->mac);
		/* Capture and sink vdevs (pcap, null) have no MAC filter to program: the
		 * address is still ours in software, which is all the data path needs. */
		if (rc == -ENOTSUP) {
			SP_LOG(port, WARNING, "%s: device cannot set its MAC, using it in software",
			       what);
		} else if (rc != 0) {
			snprintf(err, errlen, "%s: cannot set MAC: %s", what, rte_strerror(-rc));
			goto fail;
		}
	}
	rc = start(*port_id, what, pc->promiscuous, err, errlen);
	if (rc != 0)
		goto fail;
	rc = record(pc->name, pc->device, *port_id, nb_rxq, nb_txq, pc->mtu, false);
	if (rc != 0) {
		snprintf(err, errlen, "%s: too many ports", what);
		goto fail;
	}
	if (pc->has_mac)
		ports[n_ports - 1].mac = pc->mac;
	SP_LOG(port, INFO, "%s: %s up as port %u, %u RX / %u TX queues, MTU %u", what,
	       pc->device, *port_id, nb_rxq, nb_txq, pc->mtu);
	return 0;
fail:
	unprobe(*port_id);
	return rc;
}

int
sp_port_open_exception(const struct sp_conf_exception *ec, uint16_t mtu, uint16_t nb_txq,
		       uint16_t *port_id, char *err, size_t errlen)
{
	char device[SP_CONF_DEV_MAX];
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	int rc;

	rte_ether_format_addr(mac, sizeof(mac), &ec->mac);
	snprintf(device, sizeof(device), "net_tap_sp,iface=%s,mac=%s", ec->iface, mac);
	rc = probe(device, port_id, err, errlen);
	if (rc != 0)
		return rc;
	/* net_tap wants as many RX as TX queues; each worker polls its own (the kernel spreads
	 * its flows over them) */
	rc = setup(*port_id, "exception port", nb_txq, nb_txq, mtu, 1024, 1024, err, errlen);
	if (rc == 0)
		rc = start(*port_id, "exception port", false, err, errlen);
	if (rc == 0)
		rc = record("exception", device, *port_id, nb_txq, nb_txq, mtu, true);
	if (rc != 0) {
		unprobe(*port_id);
		return rc;
	}
	SP_LOG(port, INFO, "exception port: tap %s up as port %u", ec->iface, *port_id);
	return 0;
}

bool
sp_port_keeps_mbufs(void)
{
	unsigned int i;

	for (i = 0; i < n_ports; i++)
		if (strncmp(ports[i].device, "net_af_xdp", 10) == 0)
			return true;
	return false;
}

void
sp_port_close_all(void)
{
	while (n_ports > 0) {
		struct sp_port_info *p = &ports[--n_ports];

		unprobe(p->port_id);
		SP_LOG(port, INFO, "port %s closed", p->name);
	}
}

unsigned int
sp_port_count(void)
{
	return n_ports;
}

const struct sp_port_info *
sp_port_info(unsigned int i)
{
	return i < n_ports ? &ports[i] : NULL;
}

const struct sp_port_info *
sp_port_by_id(uint16_t port_id)
{
	unsigned int i;

	for (i = 0; i < n_ports; i++)
		if (ports[i].port_id == port_id)
			return &ports[i];
	return NULL;
}

void
sp_port_stats_reset(void)
{
	unsigned int i;

	for (i = 0; i < n_ports; i++)
		rte_eth_stats_reset(ports[i].port_id);
}
