/* SPDX-License-Identifier: BSD-3-Clause */
/* Tunnels in the data path: ESP to us is decrypted and its inner packets go back into IP
 * input; packets routed to a TUNNEL next hop are encrypted on this worker's SA for the peer
 * and the outer packet is routed like any other. An SA belongs to one worker; a packet that
 * reaches another worker is passed to the owner over its hand-off ring. */

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_udp.h>

#include "dp_private.h"

static const enum sp_drop esp_drop_map[SP_ESP_DROP_MAX] = {
	[SP_ESP_DROP_NONE] = SP_DROP_ESP_MALFORMED,
	[SP_ESP_DROP_NO_SA] = SP_DROP_ESP_NO_SA,
	[SP_ESP_DROP_REPLAY] = SP_DROP_ESP_REPLAY,
	[SP_ESP_DROP_AUTH] = SP_DROP_ESP_AUTH,
	[SP_ESP_DROP_LIFETIME] = SP_DROP_ESP_LIFETIME,
	[SP_ESP_DROP_MALFORMED] = SP_DROP_ESP_MALFORMED,
	[SP_ESP_DROP_MTU] = SP_DROP_ESP_MTU,
	[SP_ESP_DROP_NOT_ESP] = SP_DROP_ESP_NOT_ESP,
	[SP_ESP_DROP_ECN] = SP_DROP_ESP_ECN,
	[SP_ESP_DROP_WRONG_WORKER] = SP_DROP_TUN_HANDOFF,
	[SP_ESP_DROP_NO_ROOM] = SP_DROP_ESP_NO_ROOM,
	[SP_ESP_DROP_CRYPTO] = SP_DROP_ESP_CRYPTO,
};

bool
dp_tun_is_esp4(const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint32_t hlen = rte_ipv4_hdr_len(ip);
	const struct rte_udp_hdr *udp;

	if (ip->next_proto_id == IPPROTO_ESP)
		return true;
	if (ip->next_proto_id != IPPROTO_UDP || rte_pktmbuf_data_len(m) < hlen + sizeof(*udp) ||
	    rte_ipv4_frag_pkt_is_fragmented(ip))
		return false;
	udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, hlen);
	return udp->dst_port == rte_cpu_to_be_16(SP_ESP_UDP_PORT);
}

bool
dp_tun_is_esp6(const struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	const struct rte_udp_hdr *udp;

	if (ip->proto == IPPROTO_ESP)
		return true;
	if (ip->proto != IPPROTO_UDP || rte_pktmbuf_data_len(m) < sizeof(*ip) + sizeof(*udp))
		return false;
	udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, sizeof(*ip));
	return udp->dst_port == rte_cpu_to_be_16(SP_ESP_UDP_PORT);
}

/* The SPI of an ESP packet that decap left untouched (wrong worker), 0 when unreadable. */
static uint32_t
spi_of(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t off, len = rte_pktmbuf_data_len(m);
	uint8_t proto;
	uint32_t spi;

	if ((p[0] >> 4) == 4) {
		off = (uint32_t)(p[0] & 0xf) * 4;
		proto = p[9];
	} else {
		off = sizeof(struct rte_ipv6_hdr);
		proto = p[6];
	}
	if (proto == IPPROTO_UDP)
		off += sizeof(struct rte_udp_hdr);
	if (len < off + 4)
		return 0;
	memcpy(&spi, p + off, 4);
	return rte_be_to_cpu_32(spi);
}

static void
handoff(struct sp_worker *w, struct rte_mbuf *m, unsigned int owner, enum dp_handoff kind,
	uint16_t peer)
{
	struct sp_worker *o = dp_worker(owner);
	struct sp_meta *meta = dp_meta(m);

	if (o == NULL || o == w || o->handoff == NULL) {
		dp_drop(w, m, SP_DROP_TUN_HANDOFF);
		return;
	}
	meta->handoff = (uint8_t)kind;
	meta->ho_peer = peer;
	if (rte_ring_mp_enqueue(o->handoff, m) != 0) {
		dp_drop(w, m, SP_DROP_TUN_HANDOFF);
		return;
	}
	w->st->ctr[SP_CTR_TUN_HANDOFFS]++;
}

static void
decap_burst(struct sp_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	struct sp_esp_ctx *c = sp_tun_worker_esp(w->tun);
	struct rte_mbuf *v4[SP_ESP_MAX_BURST], *v6[SP_ESP_MAX_BURST];
	uint16_t k, i, n4 = 0, n6 = 0;

	k = sp_esp_decap(c, pkts, n);
	for (i = k; i < n; i++) {
		enum sp_esp_drop r = sp_esp_drop_reason(c, i);

		if (r == SP_ESP_DROP_WRONG_WORKER) {
			struct sp_esp_sa *sa = sp_tun_in_sa(spi_of(pkts[i]));

			if (sa != NULL) {
				handoff(w, pkts[i], sp_esp_sa_conf(sa)->owner, DP_HANDOFF_DECAP, 0);
				continue;
			}
			r = SP_ESP_DROP_NO_SA;
		}
		dp_drop(w, pkts[i], esp_drop_map[r < SP_ESP_DROP_MAX ? r : 0]);
	}
	for (i = 0; i < k; i++) {
		struct rte_mbuf *m = pkts[i];
		struct sp_meta *meta = dp_meta(m);

		meta->tun_peer = (uint16_t)(sp_tun_sa_peer(sp_esp_decap_sa(c, i)) + 1);
		meta->handoff = DP_HANDOFF_NONE;
		if (RTE_ETH_IS_IPV4_HDR(m->packet_type))
			v4[n4++] = m;
		else
			v6[n6++] = m;
	}
	w->st->ctr[SP_CTR_ESP_DECAP] += k;
	if (n4 > 0)
		dp_ip4_input(w, v4, n4);
	if (n6 > 0)
		dp_ip6_input(w, v6, n6);
}

void
dp_tun_decap(struct sp_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i, m;

	for (i = 0; i < n; i += m) {
		m = RTE_MIN((uint16_t)(n - i), (uint16_t)SP_ESP_MAX_BURST);
		decap_burst(w, pkts + i, m);
	}
}

/* Too big for the tunnel: tell the inner sender the tunnel's MTU (it must not be fragmented
 * on the mesh link, and ours is the hop that knows). */
static void
too_big(struct sp_worker *w, struct rte_mbuf *m, uint16_t inner_mtu)
{
	if ((rte_pktmbuf_mtod(m, const uint8_t *)[0] >> 4) == 4)
		dp_icmp4_error(w, m, SP_ICMP_UNREACH, SP_ICMP_UNREACH_NEEDFRAG, inner_mtu);
	else
		dp_icmp6_error(w, m, SP_ICMP6_PACKET_TOO_BIG, 0, inner_mtu);
	dp_drop(w, m, SP_DROP_ESP_MTU);
}

static void
encap_flush(struct sp_worker *w, struct sp_esp_sa *sa, struct rte_mbuf **pkts, uint16_t n)
{
	struct sp_esp_ctx *c = sp_tun_worker_esp(w->tun);
	bool outer4 = sp_esp_sa_conf(sa)->dst.family == AF_INET;
	uint16_t k, i;

	if (n == 0)
		return;
	k = sp_esp_encap(c, sa, pkts, n);
	for (i = k; i < n; i++) {
		enum sp_esp_drop r = sp_esp_drop_reason(c, i);

		if (r == SP_ESP_DROP_MTU) {
			too_big(w, pkts[i], sp_esp_inner_mtu(sa));
			continue;
		}
		dp_drop(w, pkts[i], esp_drop_map[r < SP_ESP_DROP_MAX ? r : 0]);
	}
	w->st->ctr[SP_CTR_ESP_ENCAP] += k;
	if (k == 0)
		return;
	/* Every packet of the burst goes to the same tunnel end: one route lookup for all. */
	{
		const struct sp_rtab *rt = sp_route_table();
		const struct sp_ip *dst = &sp_esp_sa_conf(sa)->dst;
		const struct sp_nexthop *nhp;
		uint64_t id;

		if (outer4) {
			uint32_t d = rte_be_to_cpu_32(dst->v4);

			sp_rtab_lookup4(rt, &d, &id, 1);
		} else {
			sp_rtab_lookup6(rt, (const uint8_t(*)[16])dst->v6, &id, 1);
		}
		nhp = sp_rtab_nh(rt, id);
		for (i = 0; i < k; i++) {
			dp_meta(pkts[i])->tun_outer = 1;
			if (nhp->type == SP_NH_CONNECTED || nhp->type == SP_NH_GATEWAY) {
				if (outer4)
					dp_ip4_output(w, pkts[i], nhp);
				else
					dp_ip6_output(w, pkts[i], nhp);
			} else if (outer4) {
				dp_ip4_route_out(w, pkts[i]);   /* local, blackhole, loop: its rules */
			} else {
				dp_ip6_route_out(w, pkts[i]);
			}
		}
	}
}

static void
encap_run(struct sp_worker *w, uint16_t peer, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *batch[SP_ESP_MAX_BURST], *frags[SP_ESP_MAX_BURST];
	struct sp_esp_sa *sa = sp_tun_out_sa(w->tun, peer);
	unsigned int owner;
	uint16_t inner_mtu, nb = 0, i;

	if (sa == NULL) {
		for (i = 0; i < n; i++)
			dp_drop(w, pkts[i], SP_DROP_TUN_DOWN);
		return;
	}
	owner = sp_esp_sa_conf(sa)->owner;
	if (owner != w->id) {
		for (i = 0; i < n; i++)
			handoff(w, pkts[i], owner, DP_HANDOFF_ENCAP, peer);
		return;
	}
	inner_mtu = sp_esp_inner_mtu(sa);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
		struct sp_meta meta;
		int nf, f;

		if (nb == SP_ESP_MAX_BURST) {
			encap_flush(w, sa, batch, nb);
			nb = 0;
		}
		if (rte_pktmbuf_pkt_len(m) <= inner_mtu) {
			batch[nb++] = m;
			continue;
		}
		/* IPv4 without DF may be fragmented by any router: do it before encrypting, so
		 * that the mesh link never carries outer fragments. */
		if ((ip->version_ihl >> 4) != 4 ||
		    (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) != 0) {
			sp_esp_sa_count_drop(sa, SP_ESP_DROP_MTU);
			too_big(w, m, inner_mtu);
			continue;
		}
		meta = *dp_meta(m);
		nf = rte_ipv4_fragment_packet(m, frags, RTE_DIM(frags), inner_mtu, sp_port_pool(),
					      sp_port_pool_indirect());
		if (nf < 0) {
			dp_drop(w, m, SP_DROP_FRAG_FAIL);
			continue;
		}
		rte_pktmbuf_free(m);
		for (f = 0; f < nf; f++) {
			/* the ESP layer wants one segment: the fragments are chains */
			struct rte_mbuf *l = rte_pktmbuf_copy(frags[f], sp_port_pool(), 0, UINT32_MAX);

			rte_pktmbuf_free(frags[f]);
			if (l == NULL) {
				w->st->drop[SP_DROP_FRAG_FAIL]++;
				continue;
			}
			*dp_meta(l) = meta;
			l->packet_type = RTE_PTYPE_L3_IPV4;
			{
				struct rte_ipv4_hdr *fh = rte_pktmbuf_mtod(l, struct rte_ipv4_hdr *);

				/* the library leaves the header checksum to TX offload */
				fh->hdr_checksum = 0;
				fh->hdr_checksum = rte_ipv4_cksum(fh);
			}
			w->st->ctr[SP_CTR_FRAGMENTS]++;
			if (nb == SP_ESP_MAX_BURST) {
				encap_flush(w, sa, batch, nb);
				nb = 0;
			}
			batch[nb++] = l;
		}
	}
	encap_flush(w, sa, batch, nb);
}

void
dp_tun_encap(struct sp_worker *w, struct rte_mbuf **pkts, const uint16_t *peers, uint16_t n)
{
	uint16_t i = 0, j;

	if (w->tun == NULL) {
		for (i = 0; i < n; i++)
			dp_drop(w, pkts[i], SP_DROP_TUN_DOWN);
		return;
	}
	while (i < n) {
		for (j = i + 1; j < n && peers[j] == peers[i]; j++)
			;
		encap_run(w, peers[i], pkts + i, (uint16_t)(j - i));
		i = j;
	}
}

uint16_t
dp_tun_drain_handoff(struct sp_worker *w)
{
	struct rte_mbuf *pkts[DP_MAX_BURST], *dec[DP_MAX_BURST], *enc[DP_MAX_BURST];
	uint16_t peers[DP_MAX_BURST];
	unsigned int n, i, nd = 0, ne = 0;

	n = rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts, DP_MAX_BURST, NULL);
	if (n == 0)
		return 0;
	w->nc_valid = false;
	for (i = 0; i < n; i++) {
		struct sp_meta *meta = dp_meta(pkts[i]);

		if (meta->handoff == DP_HANDOFF_DECAP) {
			dec[nd++] = pkts[i];
		} else {
			peers[ne] = meta->ho_peer;
			enc[ne++] = pkts[i];
		}
		meta->handoff = DP_HANDOFF_NONE;
	}
	if (nd > 0)
		dp_tun_decap(w, dec, (uint16_t)nd);
	if (ne > 0)
		dp_tun_encap(w, enc, peers, (uint16_t)ne);
	return (uint16_t)n;
}
