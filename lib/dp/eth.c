/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet and VLAN input, ARP. */

#include <string.h>

#include <rte_prefetch.h>

#include "dp_private.h"

bool
dp_eth_prepend(struct rte_mbuf *m, const struct sp_iface *ifc, const struct rte_ether_addr *dst,
	       uint16_t ethertype)
{
	uint16_t len = ifc->vlan ? RTE_ETHER_HDR_LEN + 4 : RTE_ETHER_HDR_LEN;
	uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, len);

	if (p == NULL)
		return false;
	sp_pkt_eth_write(p, dst, &ifc->mac, ifc->vlan, ethertype);
	return true;
}

/* Is ip one of ifc's IPv4 addresses? */
static bool
iface_owns4(const struct sp_iface *ifc, rte_be32_t ip)
{
	unsigned int i;

	for (i = 0; i < ifc->n_addrs; i++)
		if (ifc->addrs[i].family == AF_INET && ifc->addrs[i].v4 == ip)
			return true;
	return false;
}

/* RFC 826: the target of a request learns the requester. The reply is built in place, so when
 * the requester is new (or moved) a copy of the request goes to the control core. */
static void
learn_requester(struct sp_worker *w, const struct sp_iface *ifc, struct rte_mbuf *m,
		const struct rte_ether_addr *sha, rte_be32_t sip)
{
	struct sp_neigh_key key;
	struct rte_ether_addr known;
	struct rte_mbuf *c;
	struct sp_ip ip;

	sp_ip_from_v4(&ip, sip);
	sp_neigh_key_set(&key, ifc->id, &ip);
	if (sp_neigh_lookup(w->neigh, &key, &known) == 0 && rte_is_same_ether_addr(&known, sha))
		return;
	c = rte_pktmbuf_copy(m, sp_port_pool(), 0, sizeof(struct rte_arp_hdr));
	if (c == NULL)
		return;
	*dp_meta(c) = *dp_meta(m);
	dp_punt(w, c, DP_PUNT_ARP);
}

static void
arp_input(struct sp_worker *w, const struct sp_iface *ifc, struct rte_mbuf *m)
{
	struct rte_arp_hdr *a = rte_pktmbuf_mtod(m, struct rte_arp_hdr *);
	enum sp_drop r = sp_pkt_arp_check((const uint8_t *)a, rte_pktmbuf_data_len(m));
	struct rte_ether_addr sha;
	rte_be32_t sip, tip;

	if (r != SP_PKT_OK) {
		dp_drop(w, m, r);
		return;
	}
	sip = a->arp_data.arp_sip;
	tip = a->arp_data.arp_tip;
	if (a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY)) {
		if (ifc->exception)
			dp_drop(w, m, SP_DROP_ARP_NOT_FOR_US);
		else
			dp_punt(w, m, DP_PUNT_ARP);
		return;
	}
	if (sip == tip) {
		/* Gratuitous: a neighbour announcing a (new) MAC. */
		if (ifc->exception)
			dp_drop(w, m, SP_DROP_ARP_NOT_FOR_US);
		else
			dp_punt(w, m, DP_PUNT_ARP);
		return;
	}
	/* The kernel behind the exception port resolves every destination through us: answer
	 * for any address (proxy), so its device route simply works. */
	if (!ifc->exception && !iface_owns4(ifc, tip)) {
		dp_drop(w, m, SP_DROP_ARP_NOT_FOR_US);
		return;
	}
	rte_ether_addr_copy(&a->arp_data.arp_sha, &sha);
	if (!ifc->exception)
		learn_requester(w, ifc, m, &sha, sip);
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - sizeof(*a));
	sp_pkt_arp_write((uint8_t *)a, RTE_ARP_OP_REPLY, &ifc->mac, tip, &sha, sip);
	if (!dp_eth_prepend(m, ifc, &sha, SP_ETHERTYPE_ARP)) {
		dp_drop(w, m, SP_DROP_ETH_TRUNC);
		return;
	}
	w->st->ctr[SP_CTR_ARP_REPLIES]++;
	dp_tx(w, ifc->port_id, m);
}

void
dp_rx_burst(struct sp_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *v4[DP_MAX_BURST], *v6[DP_MAX_BURST];
	uint16_t n4 = 0, n6 = 0, i;
	struct sp_port_ctr *pc = &w->st->port[port];
	uint64_t bytes = 0;

	/* Headers are usually out of L1 by now (the burst's data was just written): ask for all
	 * of them before the first is read. */
	for (i = 0; i < n; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
	}
	pc->rx_pkts += n;
	pc->rx_bytes += bytes;
	w->st->ctr[SP_CTR_RX_PKTS] += n;
	w->st->ctr[SP_CTR_RX_BYTES] += bytes;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct sp_meta *meta = dp_meta(m);
		const struct sp_iface *ifc;
		struct sp_l2 l2;
		enum sp_drop r;
		uint16_t id;

		meta->punt = DP_PUNT_NONE;
		meta->rx_iface = SP_IFACE_NONE;
		meta->handoff = DP_HANDOFF_NONE;
		meta->tun_peer = 0;
		meta->tun_outer = 0;

		r = sp_pkt_l2_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				    &l2);
		if (r != SP_PKT_OK) {
			dp_drop(w, m, r);
			continue;
		}
		id = sp_iface_rx(port, l2.vlan);
		ifc = sp_iface_get(id);
		if (ifc == NULL) {
			dp_drop(w, m, SP_DROP_VLAN_UNKNOWN);
			continue;
		}
		/* Promiscuous vdevs (af_packet, tap) show frames meant for other hosts. */
		if (rte_is_unicast_ether_addr(&l2.dst) && !rte_is_same_ether_addr(&l2.dst, &ifc->mac)) {
			dp_drop(w, m, SP_DROP_ETH_DST);
			continue;
		}
		meta->rx_iface = id;
		rte_ether_addr_copy(&l2.src, &meta->src_mac);
		rte_pktmbuf_adj(m, l2.l2_len);
		m->l2_len = 0;

		switch (l2.ethertype) {
		case SP_ETHERTYPE_IPV4:
			v4[n4++] = m;
			break;
		case SP_ETHERTYPE_IPV6:
			v6[n6++] = m;
			break;
		case SP_ETHERTYPE_ARP:
			arp_input(w, ifc, m);
			break;
		default:
			dp_drop(w, m, SP_DROP_ETHERTYPE);
			break;
		}
	}
	if (n4 > 0)
		dp_ip4_input(w, v4, n4);
	if (n6 > 0)
		dp_ip6_input(w, v6, n6);
}
