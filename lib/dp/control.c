/* SPDX-License-Identifier: BSD-3-Clause */
/* The control core's side of the data path: neighbour resolution and learning. */

#include <string.h>

#include <rte_lcore.h>

#include "dp_private.h"
#include "sp_dp.h"

#define CTL_BURST 64

static struct sp_lcore_stats *
ctl_stats(void)
{
	return sp_stats_lcore(rte_lcore_id());
}

static void
ctl_drop(struct rte_mbuf *m, enum sp_drop reason)
{
	ctl_stats()->drop[reason]++;
	rte_pktmbuf_free(m);
}

/* Frames from the control core leave through worker 0, which owns a TX queue on every port. */
static void
ctl_tx(struct rte_mbuf *m, uint16_t iface)
{
	struct sp_worker *w = dp_worker(0);
	struct sp_meta *meta = dp_meta(m);

	meta->tx_iface = iface;
	meta->rx_iface = SP_IFACE_NONE;
	meta->punt = DP_PUNT_TX;
	if (w == NULL || rte_ring_sp_enqueue(w->from_ctl, m) != 0)
		ctl_drop(m, SP_DROP_CTRL_TX);
}

/* The interface address to solicit from: one in target's subnet, else the first of its family. */
static const struct sp_ip *
source_for(const struct sp_iface *ifc, const struct sp_ip *target)
{
	unsigned int i;

	for (i = 0; i < ifc->n_addrs; i++)
		if (sp_ip_in_prefix(target, &ifc->addrs[i]))
			return &ifc->addrs[i];
	return sp_iface_addr(ifc, target->family);
}

static int
ops_solicit(void *arg, uint16_t iface, const struct sp_ip *target, const struct rte_ether_addr *dst)
{
	const struct sp_iface *ifc = sp_iface_get(iface);
	const struct sp_ip *src;
	struct rte_ether_addr eth_dst, zero = { 0 };
	struct rte_mbuf *m;
	uint8_t *p;

	(void)arg;
	if (ifc == NULL)
		return -ENODEV;
	src = source_for(ifc, target);
	if (src == NULL)
		return -EADDRNOTAVAIL;
	m = rte_pktmbuf_alloc(sp_port_pool());
	if (m == NULL)
		return -ENOBUFS;
	if (target->family == AF_INET) {
		p = (uint8_t *)rte_pktmbuf_append(m, sizeof(struct rte_arp_hdr));
		if (dst != NULL)
			eth_dst = *dst;
		else
			memset(&eth_dst, 0xff, sizeof(eth_dst));
		sp_pkt_arp_write(p, RTE_ARP_OP_REQUEST, &ifc->mac, src->v4, &zero, target->v4);
		if (!dp_eth_prepend(m, ifc, &eth_dst, SP_ETHERTYPE_ARP))
			goto nobufs;
	} else {
		uint8_t ip_dst[16];

		p = (uint8_t *)rte_pktmbuf_append(m, SP_IP6_HDR_LEN + SP_ND_MIN_LEN + 8);
		if (dst != NULL) {
			memcpy(ip_dst, target->v6, 16);
			eth_dst = *dst;
		} else {
			sp_pkt_ip6_solicited_node(target->v6, ip_dst);
			sp_pkt_ip6_mcast_mac(ip_dst, &eth_dst);
		}
		sp_pkt_ns_write(p, src->v6, ip_dst, target->v6, &ifc->mac);
		if (!dp_eth_prepend(m, ifc, &eth_dst, SP_ETHERTYPE_IPV6))
			goto nobufs;
	}
	ctl_tx(m, iface);
	return 0;
nobufs:
	rte_pktmbuf_free(m);
	return -ENOBUFS;
}

static void
ops_send(void *arg, uint16_t iface, struct rte_mbuf *m, const struct rte_ether_addr *mac)
{
	const struct sp_iface *ifc = sp_iface_get(iface);
	uint8_t version = rte_pktmbuf_mtod(m, const uint8_t *)[0] >> 4;

	(void)arg;
	if (ifc == NULL ||
	    !dp_eth_prepend(m, ifc, mac, version == 4 ? SP_ETHERTYPE_IPV4 : SP_ETHERTYPE_IPV6)) {
		ctl_drop(m, SP_DROP_CTRL_TX);
		return;
	}
	ctl_tx(m, iface);
}

static void
ops_drop(void *arg, struct rte_mbuf *m, enum sp_drop reason)
{
	(void)arg;
	ctl_drop(m, reason);
}

const struct sp_neigh_ops sp_dp_neigh_ops = {
	.solicit = ops_solicit,
	.send = ops_send,
	.drop = ops_drop,
};

static void
learn_arp(struct sp_neigh *n, struct rte_mbuf *m, uint64_t now_ms)
{
	const struct rte_arp_hdr *a = rte_pktmbuf_mtod(m, const struct rte_arp_hdr *);
	bool reply = a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	struct sp_neigh_key key;
	struct sp_ip ip;

	bool gratuitous = a->arp_data.arp_sip == a->arp_data.arp_tip;

	sp_ip_from_v4(&ip, a->arp_data.arp_sip);
	sp_neigh_key_set(&key, dp_meta(m)->rx_iface, &ip);
	/* Replies answer our requests and requests for our addresses come from hosts about to
	 * talk to us (workers hand over only those): both create entries. Gratuitous ARP only
	 * updates one we have. */
	sp_neigh_input(n, &key, &a->arp_data.arp_sha, reply, !gratuitous, now_ms);
}

static void
learn_nd(struct sp_neigh *n, struct rte_mbuf *m, uint64_t now_ms)
{
	struct sp_nd nd;
	struct sp_neigh_key key;
	struct sp_ip ip;
	bool solicited;

	if (sp_pkt_nd_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &nd) !=
	    SP_PKT_OK)
		return;
	solicited = (nd.flags & SP_ND_NA_FLAG_SOLICITED) != 0;
	sp_ip_from_v6(&ip, nd.target);
	sp_neigh_key_set(&key, dp_meta(m)->rx_iface, &ip);
	sp_neigh_input(n, &key, nd.has_lladdr ? &nd.lladdr : &dp_meta(m)->src_mac, solicited,
		       solicited, now_ms);
}

unsigned int
sp_dp_ctl_poll(uint64_t now_ms)
{
	struct rte_mbuf *pkts[CTL_BURST];
	unsigned int total = 0, i, k, n;

	for (i = 0; i < sp_dp_worker_count(); i++) {
		struct sp_worker *w = dp_worker(i);

		n = rte_ring_sc_dequeue_burst(w->to_ctl, (void **)pkts, CTL_BURST, NULL);
		for (k = 0; k < n; k++) {
			struct rte_mbuf *m = pkts[k];
			struct sp_meta *meta = dp_meta(m);
			struct sp_neigh_key key;
			int rc;

			switch (meta->punt) {
			case DP_PUNT_RESOLVE:
				sp_neigh_key_set(&key, meta->tx_iface, &meta->nh);
				rc = sp_neigh_resolve(w->neigh, &key, m, now_ms);
				if (rc == -ENOBUFS)
					ctl_drop(m, SP_DROP_NEIGH_QUEUE_FULL);
				else if (rc != 0)
					ctl_drop(m, SP_DROP_NEIGH_FAILED);
				continue;
			case DP_PUNT_ARP:
				learn_arp(w->neigh, m, now_ms);
				break;
			case DP_PUNT_ND:
				learn_nd(w->neigh, m, now_ms);
				break;
			default:
				break;
			}
			rte_pktmbuf_free(m);
		}
		total += n;
	}
	return total;
}
