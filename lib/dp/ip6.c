/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv6: validation, neighbour discovery for our addresses, local delivery, forwarding. */

#include <string.h>

#include "dp_private.h"

static bool
is_link_local(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static bool
iface_owns6(const struct sp_iface *ifc, const uint8_t ip[16])
{
	unsigned int i;

	for (i = 0; i < ifc->n_addrs; i++)
		if (ifc->addrs[i].family == AF_INET6 && memcmp(ifc->addrs[i].v6, ip, 16) == 0)
			return true;
	return false;
}

/* Answer a neighbour solicitation in place; learn from advertisements on the control core. */
void
dp_nd_input(struct sp_worker *w, const struct sp_iface *ifc, struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	static const uint8_t unspecified[16];
	uint8_t src[16], dst[16];
	struct rte_ether_addr mac;
	struct sp_nd nd;
	enum sp_drop r;
	bool dad;
	uint8_t *p;

	r = sp_pkt_nd_parse((const uint8_t *)ip, rte_pktmbuf_data_len(m), &nd);
	if (r != SP_PKT_OK) {
		dp_drop(w, m, r);
		return;
	}
	if (nd.type == SP_ND_NEIGHBOR_ADVERT) {
		if (ifc->exception)
			dp_drop(w, m, SP_DROP_ICMP_UNHANDLED);
		else
			dp_punt(w, m, DP_PUNT_ND);
		return;
	}
	/* The kernel behind the exception port resolves every destination through us (proxy). */
	if (!ifc->exception && !iface_owns6(ifc, nd.target)) {
		dp_drop(w, m, SP_DROP_NDP_NOT_FOR_US);
		return;
	}
	dad = memcmp(ip->src_addr, unspecified, 16) == 0;
	if (dad) {
		/* Someone probes for our address: defend it to all nodes (RFC 4862 5.4.3). */
		memcpy(dst, all_nodes, 16);
		sp_pkt_ip6_mcast_mac(all_nodes, &mac);
	} else {
		memcpy(dst, ip->src_addr, 16);
		mac = nd.has_lladdr ? nd.lladdr : dp_meta(m)->src_mac;
	}
	memcpy(src, nd.target, 16);
	rte_pktmbuf_reset(m);
	p = (uint8_t *)rte_pktmbuf_append(m, SP_IP6_HDR_LEN + SP_ND_MIN_LEN + 8);
	if (p == NULL) {
		dp_drop(w, m, SP_DROP_NDP_MALFORMED);
		return;
	}
	sp_pkt_na_write(p, src, dst, src,
			SP_ND_NA_FLAG_OVERRIDE | (dad ? 0 : SP_ND_NA_FLAG_SOLICITED), &ifc->mac);
	if (!dp_eth_prepend(m, ifc, &mac, SP_ETHERTYPE_IPV6)) {
		dp_drop(w, m, SP_DROP_ETH_TRUNC);
		return;
	}
	w->st->ctr[SP_CTR_NDP_ADVERTS]++;
	dp_tx(w, ifc->port_id, m);
}

static void
echo_reply6(struct sp_worker *w, struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	uint8_t *icmp = (uint8_t *)(ip + 1);
	uint8_t tmp[16];
	uint16_t ck;

	if (rte_pktmbuf_data_len(m) < SP_IP6_HDR_LEN + SP_ICMP_HDR_LEN ||
	    rte_ipv6_udptcp_cksum_mbuf_verify(m, ip, SP_IP6_HDR_LEN) != 0) {
		dp_drop(w, m, SP_DROP_ICMP_MALFORMED);
		return;
	}
	memcpy(tmp, ip->src_addr, 16);
	memcpy(ip->src_addr, ip->dst_addr, 16);
	memcpy(ip->dst_addr, tmp, 16);
	ip->hop_limits = SP_DEFAULT_TTL;
	icmp[0] = SP_ICMP6_ECHO_REPLY;
	icmp[2] = icmp[3] = 0;
	ck = rte_ipv6_udptcp_cksum_mbuf(m, ip, SP_IP6_HDR_LEN);
	memcpy(icmp + 2, &ck, 2);
	w->st->ctr[SP_CTR_ECHO_REPLIES]++;
	dp_ip6_route_out(w, m);
}

static void
local6(struct sp_worker *w, struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);

	if (ip->proto == SP_IPPROTO_ICMPV6 && rte_pktmbuf_data_len(m) > SP_IP6_HDR_LEN &&
	    ((const uint8_t *)(ip + 1))[0] == SP_ICMP6_ECHO_REQUEST) {
		echo_reply6(w, m);
		return;
	}
	dp_to_kernel(w, m, SP_ETHERTYPE_IPV6);
}

void
dp_ip6_output(struct sp_worker *w, struct rte_mbuf *m, const struct sp_nexthop *nhp)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	const struct sp_iface *ifc = sp_iface_get(nhp->iface);
	struct sp_ip dst;
	const struct sp_ip *nh;

	if (ifc == NULL) {
		dp_drop(w, m, SP_DROP_NO_ROUTE);
		return;
	}
	/* Routers never fragment IPv6: the sender learns the MTU (RFC 8200 5). */
	if (rte_pktmbuf_pkt_len(m) > ifc->mtu) {
		dp_icmp6_error(w, m, SP_ICMP6_PACKET_TOO_BIG, 0, ifc->mtu);
		dp_drop(w, m, SP_DROP_MTU);
		return;
	}
	if (nhp->type == SP_NH_GATEWAY) {
		nh = &nhp->gw;
	} else {
		sp_ip_from_v6(&dst, ip->dst_addr);
		nh = &dst;
	}
	dp_neigh_output(w, m, ifc, nh, SP_ETHERTYPE_IPV6);
}

void
dp_ip6_route_out(struct sp_worker *w, struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	const struct sp_rtab *rt = sp_route_table();
	const struct sp_nexthop *nhp;
	uint64_t id;

	sp_rtab_lookup6(rt, (const uint8_t(*)[16])ip->dst_addr, &id, 1);
	nhp = sp_rtab_nh(rt, id);
	switch (nhp->type) {
	case SP_NH_LOCAL:
		dp_to_kernel(w, m, SP_ETHERTYPE_IPV6);
		break;
	case SP_NH_CONNECTED:
	case SP_NH_GATEWAY:
		dp_ip6_output(w, m, nhp);
		break;
	case SP_NH_BLACKHOLE:
		dp_drop(w, m, SP_DROP_BLACKHOLE);
		break;
	case SP_NH_TUNNEL:
		if (dp_meta(m)->tun_outer)
			dp_drop(w, m, SP_DROP_TUN_LOOP);
		else
			dp_tun_encap(w, &m, &nhp->peer, 1);
		break;
	default:
		dp_drop(w, m, SP_DROP_NO_ROUTE);
		break;
	}
}

static bool
is_nd(const struct rte_ipv6_hdr *ip, uint32_t len)
{
	uint8_t type;

	if (ip->proto != SP_IPPROTO_ICMPV6 || len < SP_IP6_HDR_LEN + 1)
		return false;
	type = ((const uint8_t *)(ip + 1))[0];
	return type >= SP_ND_ROUTER_SOLICIT && type <= SP_ND_REDIRECT;
}

void
dp_ip6_input(struct sp_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *ok[DP_MAX_BURST], *esp[DP_MAX_BURST], *tun[DP_MAX_BURST];
	uint8_t dst[DP_MAX_BURST][16], src[DP_MAX_BURST][16];
	uint64_t nh[DP_MAX_BURST], snh[DP_MAX_BURST];
	uint16_t tun_peer[DP_MAX_BURST];
	const struct sp_iface *exc = dp_exception_iface();
	const struct sp_rtab *rt;
	uint16_t k = 0, i, ne = 0, nt = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
		enum sp_drop r;
		uint16_t total;

		r = sp_pkt_ip6_check((const uint8_t *)ip, rte_pktmbuf_data_len(m),
				     rte_pktmbuf_pkt_len(m), &total);
		if (r != SP_PKT_OK) {
			dp_drop(w, m, r);
			continue;
		}
		if (rte_pktmbuf_pkt_len(m) > total)
			rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - total);
		/* Neighbour discovery is link-local business, whatever the destination. */
		if (is_nd(ip, rte_pktmbuf_data_len(m))) {
			dp_nd_input(w, sp_iface_get(dp_meta(m)->rx_iface), m);
			continue;
		}
		if (ip->dst_addr[0] == 0xff) {
			dp_drop(w, m, SP_DROP_MULTICAST);
			continue;
		}
		/* Link-local traffic is never forwarded (RFC 4291 2.5.6); we own no such address. */
		if (is_link_local(ip->src_addr) || is_link_local(ip->dst_addr)) {
			dp_drop(w, m, SP_DROP_LINK_LOCAL);
			continue;
		}
		ok[k] = m;
		memcpy(src[k], ip->src_addr, 16);
		memcpy(dst[k++], ip->dst_addr, 16);
	}
	if (k == 0)
		return;

	rt = sp_route_table();
	sp_rtab_lookup6(rt, (const uint8_t(*)[16])dst, nh, k);
	if (w->tun != NULL)
		sp_rtab_lookup6(rt, (const uint8_t(*)[16])src, snh, k);
	for (i = 0; i < k; i++) {
		struct rte_mbuf *m = ok[i];
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
		const struct sp_nexthop *nhp = sp_rtab_nh(rt, nh[i]);
		bool from_kernel = exc != NULL && dp_meta(m)->rx_iface == exc->id;

		if (w->tun != NULL) {
			enum sp_drop r = dp_tun_src_check(dp_meta(m), sp_rtab_nh(rt, snh[i]),
							from_kernel);

			if (r != 0) {
				dp_drop(w, m, r);
				continue;
			}
		}
		switch (nhp->type) {
		case SP_NH_LOCAL:
			if (from_kernel) {
				dp_drop(w, m, SP_DROP_LOOP);
			} else if (w->tun != NULL && dp_tun_is_esp6(m)) {
				if (dp_meta(m)->tun_peer != 0)
					dp_drop(w, m, SP_DROP_TUN_LOOP);
				else
					esp[ne++] = m;
			} else {
				local6(w, m);
			}
			continue;
		case SP_NH_BLACKHOLE:
			dp_drop(w, m, SP_DROP_BLACKHOLE);
			continue;
		case SP_NH_CONNECTED:
		case SP_NH_GATEWAY:
		case SP_NH_TUNNEL:
			break;
		default:
			dp_icmp6_error(w, m, SP_ICMP6_UNREACH, SP_ICMP6_UNREACH_NOROUTE, 0);
			dp_drop(w, m, SP_DROP_NO_ROUTE);
			continue;
		}
		if (from_kernel) {
			w->st->ctr[SP_CTR_FROM_KERNEL]++;
		} else {
			if (ip->hop_limits <= 1) {
				dp_icmp6_error(w, m, SP_ICMP6_TIME_EXCEEDED, 0, 0);
				dp_drop(w, m, SP_DROP_TTL_EXPIRED);
				continue;
			}
			ip->hop_limits--;
			w->st->ctr[SP_CTR_FORWARDED]++;
		}
		if (nhp->type == SP_NH_TUNNEL) {
			tun_peer[nt] = nhp->peer;
			tun[nt++] = m;
			continue;
		}
		dp_ip6_output(w, m, nhp);
	}
	if (ne > 0)
		dp_tun_decap(w, esp, ne);
	if (nt > 0)
		dp_tun_encap(w, tun, tun_peer, nt);
}
