/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4: validation, local delivery, forwarding, fragmentation. */

#include <rte_icmp.h>
#include <rte_ip_frag.h>

#include "dp_private.h"

static void
trim_to(struct rte_mbuf *m, uint32_t total)
{
	/* Ethernet pads short frames: what follows the IP total length is not the packet. */
	if (rte_pktmbuf_pkt_len(m) > total)
		rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - total);
}

static void
echo_reply4(struct sp_worker *w, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t hlen = rte_ipv4_hdr_len(ip);
	uint32_t ilen = rte_pktmbuf_pkt_len(m) - hlen;
	struct rte_icmp_hdr *icmp;
	rte_be32_t tmp;
	uint16_t ck;

	if (rte_pktmbuf_data_len(m) < hlen + SP_ICMP_HDR_LEN) {
		dp_drop(w, m, SP_DROP_ICMP_MALFORMED);
		return;
	}
	if (rte_raw_cksum_mbuf(m, hlen, ilen, &ck) != 0 || ck != 0xffff) {
		dp_drop(w, m, SP_DROP_ICMP_MALFORMED);
		return;
	}
	icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	icmp->icmp_type = SP_ICMP_ECHO_REPLY;
	/* Type 8 -> 0 lowers the first word by 0x0800: add it back to the checksum (RFC 1624). */
	{
		uint32_t sum = (uint32_t)rte_be_to_cpu_16(icmp->icmp_cksum) + 0x0800;

		sum = (sum & 0xffff) + (sum >> 16);
		icmp->icmp_cksum = rte_cpu_to_be_16((uint16_t)sum);
	}
	tmp = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = tmp;
	ip->time_to_live = SP_DEFAULT_TTL;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	w->st->ctr[SP_CTR_ECHO_REPLIES]++;
	dp_ip4_route_out(w, m);
}

static void
local4(struct sp_worker *w, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t hlen = rte_ipv4_hdr_len(ip);

	if (ip->next_proto_id == SP_IPPROTO_ICMP && !rte_ipv4_frag_pkt_is_fragmented(ip) &&
	    rte_pktmbuf_data_len(m) > hlen &&
	    rte_pktmbuf_mtod_offset(m, const uint8_t *, hlen)[0] == SP_ICMP_ECHO) {
		echo_reply4(w, m);
		return;
	}
	/* Everything else for our addresses (TCP, UDP, other ICMP, fragments) is the kernel's. */
	dp_to_kernel(w, m, SP_ETHERTYPE_IPV4);
}

static void
fragment4(struct sp_worker *w, struct rte_mbuf *m, const struct sp_iface *ifc,
	  const struct sp_ip *nh)
{
	struct rte_mbuf *frags[64];
	struct sp_meta meta = *dp_meta(m);
	int n, i;

	n = rte_ipv4_fragment_packet(m, frags, RTE_DIM(frags), ifc->mtu, sp_port_pool(),
				     sp_port_pool_indirect());
	if (n < 0) {
		dp_drop(w, m, SP_DROP_FRAG_FAIL);
		return;
	}
	rte_pktmbuf_free(m);
	for (i = 0; i < n; i++) {
		struct rte_ipv4_hdr *fh = rte_pktmbuf_mtod(frags[i], struct rte_ipv4_hdr *);

		/* the library leaves the checksum to TX offload; not every port has it */
		fh->hdr_checksum = 0;
		fh->hdr_checksum = rte_ipv4_cksum(fh);
		*dp_meta(frags[i]) = meta;
		w->st->ctr[SP_CTR_FRAGMENTS]++;
		dp_neigh_output(w, frags[i], ifc, nh, SP_ETHERTYPE_IPV4);
	}
}

/* Send m (TTL already handled) towards next hop nhp (CONNECTED or GATEWAY). */
void
dp_ip4_output(struct sp_worker *w, struct rte_mbuf *m, const struct sp_nexthop *nhp)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	const struct sp_iface *ifc = sp_iface_get(nhp->iface);
	struct sp_ip dst;
	const struct sp_ip *nh;

	if (ifc == NULL) {
		dp_drop(w, m, SP_DROP_NO_ROUTE);
		return;
	}
	if (nhp->type == SP_NH_GATEWAY) {
		nh = &nhp->gw;
	} else {
		sp_ip_from_v4(&dst, ip->dst_addr);
		nh = &dst;
	}
	if (rte_pktmbuf_pkt_len(m) > ifc->mtu) {
		if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) {
			dp_icmp4_error(w, m, SP_ICMP_UNREACH, SP_ICMP_UNREACH_NEEDFRAG, ifc->mtu);
			dp_drop(w, m, SP_DROP_MTU);
			return;
		}
		fragment4(w, m, ifc, nh);
		return;
	}
	dp_neigh_output(w, m, ifc, nh, SP_ETHERTYPE_IPV4);
}

void
dp_ip4_route_out(struct sp_worker *w, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	const struct sp_rtab *rt = sp_route_table();
	const struct sp_nexthop *nhp;
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	uint64_t id;

	sp_rtab_lookup4(rt, &dst, &id, 1);
	nhp = sp_rtab_nh(rt, id);
	switch (nhp->type) {
	case SP_NH_LOCAL:
		/* An error or reply addressed to one of our own addresses: the kernel sent the
		 * original, so the kernel gets the answer. */
		dp_to_kernel(w, m, SP_ETHERTYPE_IPV4);
		break;
	case SP_NH_CONNECTED:
	case SP_NH_GATEWAY:
		dp_ip4_output(w, m, nhp);
		break;
	case SP_NH_BLACKHOLE:
		dp_drop(w, m, SP_DROP_BLACKHOLE);
		break;
	case SP_NH_TUNNEL:
		/* an outer packet must never be routed into a tunnel (it would nest forever) */
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

void
dp_ip4_input(struct sp_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *ok[DP_MAX_BURST], *esp[DP_MAX_BURST], *tun[DP_MAX_BURST];
	uint32_t dst[DP_MAX_BURST], src[DP_MAX_BURST];
	uint64_t nh[DP_MAX_BURST], snh[DP_MAX_BURST];
	uint16_t tun_peer[DP_MAX_BURST];
	const struct sp_iface *exc = dp_exception_iface();
	const struct sp_rtab *rt;
	uint16_t k = 0, i, ne = 0, nt = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
		enum sp_drop r;
		uint16_t total;

		r = sp_pkt_ip4_check((const uint8_t *)ip, rte_pktmbuf_data_len(m),
				     rte_pktmbuf_pkt_len(m), &total);
		if (r != SP_PKT_OK) {
			dp_drop(w, m, r);
			continue;
		}
		trim_to(m, total);
		if (sp_pkt_ip4_is_mcast(ip->dst_addr)) {
			dp_drop(w, m, SP_DROP_MULTICAST);
			continue;
		}
		ok[k] = m;
		src[k] = rte_be_to_cpu_32(ip->src_addr);
		dst[k++] = rte_be_to_cpu_32(ip->dst_addr);
	}
	if (k == 0)
		return;

	rt = sp_route_table();
	sp_rtab_lookup4(rt, dst, nh, k);
	if (w->tun != NULL)
		sp_rtab_lookup4(rt, src, snh, k);
	for (i = 0; i < k; i++) {
		struct rte_mbuf *m = ok[i];
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
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
			} else if (w->tun != NULL && dp_tun_is_esp4(m)) {
				if (dp_meta(m)->tun_peer != 0)
					dp_drop(w, m, SP_DROP_TUN_LOOP);
				else
					esp[ne++] = m;
			} else {
				local4(w, m);
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
			dp_icmp4_error(w, m, SP_ICMP_UNREACH, SP_ICMP_UNREACH_NET, 0);
			dp_drop(w, m, SP_DROP_NO_ROUTE);
			continue;
		}
		if (from_kernel) {
			/* Originated by our own stack: not a hop, no TTL to spend. */
			w->st->ctr[SP_CTR_FROM_KERNEL]++;
		} else {
			if (ip->time_to_live <= 1) {
				dp_icmp4_error(w, m, SP_ICMP_TIMXCEED, 0, 0);
				dp_drop(w, m, SP_DROP_TTL_EXPIRED);
				continue;
			}
			sp_pkt_ip4_ttl_dec(ip);
			w->st->ctr[SP_CTR_FORWARDED]++;
		}
		if (nhp->type == SP_NH_TUNNEL) {
			tun_peer[nt] = nhp->peer;
			tun[nt++] = m;
			continue;
		}
		dp_ip4_output(w, m, nhp);
	}
	if (ne > 0)
		dp_tun_decap(w, esp, ne);
	if (nt > 0)
		dp_tun_encap(w, tun, tun_peer, nt);
}
