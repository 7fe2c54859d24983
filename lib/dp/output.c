/* SPDX-License-Identifier: BSD-3-Clause */
/* The end of every packet's path: transmit, hand to the control core, or drop by reason. */

#include <string.h>

#include <rte_ethdev.h>

#include "dp_private.h"

void
dp_drop(struct sp_worker *w, struct rte_mbuf *m, enum sp_drop reason)
{
	const struct sp_iface *ifc = sp_iface_get(dp_meta(m)->rx_iface);

	w->st->drop[reason]++;
	if (ifc != NULL)
		w->st->port[ifc->port_id].drops++;
	rte_pktmbuf_free(m);
}

static void
flush_port(struct sp_worker *w, uint16_t port)
{
	struct dp_txbuf *b = &w->tx[port];
	struct sp_port_ctr *pc = &w->st->port[port];
	uint64_t bytes = 0;
	uint16_t sent, i;

	for (i = 0; i < b->n; i++)
		bytes += rte_pktmbuf_pkt_len(b->pkts[i]);
	sent = rte_eth_tx_burst(port, (uint16_t)w->id, b->pkts, b->n);
	/* What the queue refused is counted by its length before being dropped. */
	for (i = sent; i < b->n; i++) {
		bytes -= rte_pktmbuf_pkt_len(b->pkts[i]);
		w->st->drop[SP_DROP_TX_FULL]++;
		pc->drops++;
		rte_pktmbuf_free(b->pkts[i]);
	}
	pc->tx_pkts += sent;
	pc->tx_bytes += bytes;
	w->st->ctr[SP_CTR_TX_PKTS] += sent;
	w->st->ctr[SP_CTR_TX_BYTES] += bytes;
	b->n = 0;
}

void
dp_tx(struct sp_worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct dp_txbuf *b = &w->tx[port];

	b->pkts[b->n++] = m;
	if (b->n == DP_TX_BUF)
		flush_port(w, port);
}

void
dp_tx_flush(struct sp_worker *w)
{
	uint16_t port;

	for (port = 0; port < SP_MAX_PORTS; port++)
		if (w->tx[port].n > 0)
			flush_port(w, port);
}

void
dp_punt(struct sp_worker *w, struct rte_mbuf *m, enum dp_punt what)
{
	dp_meta(m)->punt = what;
	if (rte_ring_sp_enqueue(w->to_ctl, m) != 0) {
		dp_drop(w, m, SP_DROP_PUNT_FULL);
		return;
	}
	if (what == DP_PUNT_RESOLVE)
		w->st->ctr[SP_CTR_NEIGH_HELD]++;
	else
		w->st->ctr[SP_CTR_NEIGH_PUNTED]++;
}

/* Same next hop as the cached one? Compares the address directly, without building a key. */
static inline bool
cache_hit(const struct sp_worker *w, uint16_t iface, const struct sp_ip *nh)
{
	if (!w->nc_valid || w->nc_iface != iface || w->nc_ip.family != nh->family)
		return false;
	if (nh->family == AF_INET)
		return w->nc_ip.v4 == nh->v4;
	return memcmp(w->nc_ip.v6, nh->v6, 16) == 0;
}

void
dp_neigh_output(struct sp_worker *w, struct rte_mbuf *m, const struct sp_iface *ifc,
		const struct sp_ip *nh, uint16_t ethertype)
{
	struct sp_neigh_key key;
	struct rte_ether_addr mac;

	/* Most packets of a burst go to the same next hop: remember the last answer for the
	 * rest of the burst (never longer, so an update is seen at the next burst). */
	if (cache_hit(w, ifc->id, nh)) {
		mac = w->nc_mac;
	} else {
		sp_neigh_key_set(&key, ifc->id, nh);
		if (sp_neigh_lookup(w->neigh, &key, &mac) != 0) {
			struct sp_meta *meta = dp_meta(m);

			meta->tx_iface = ifc->id;
			meta->nh = *nh;
			dp_punt(w, m, DP_PUNT_RESOLVE);
			return;
		}
		w->nc_iface = ifc->id;
		w->nc_ip = *nh;
		w->nc_mac = mac;
		w->nc_valid = true;
	}
	if (!dp_eth_prepend(m, ifc, &mac, ethertype)) {
		dp_drop(w, m, SP_DROP_ETH_TRUNC);
		return;
	}
	dp_tx(w, ifc->port_id, m);
}

void
dp_to_kernel(struct sp_worker *w, struct rte_mbuf *m, uint16_t ethertype)
{
	const struct sp_iface *exc = dp_exception_iface();

	if (exc == NULL) {
		dp_drop(w, m, SP_DROP_NO_EXCEPTION);
		return;
	}
	if (!dp_eth_prepend(m, exc, &exc->peer_mac, ethertype)) {
		dp_drop(w, m, SP_DROP_ETH_TRUNC);
		return;
	}
	w->st->ctr[SP_CTR_LOCAL_TO_KERNEL]++;
	dp_tx(w, exc->port_id, m);
}
