/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP and ICMPv6 errors: time exceeded, unreachable, fragmentation needed / packet too big. */

#include <string.h>

#include <rte_cycles.h>

#include "dp_private.h"

/* Token bucket per worker (RFC 1812 4.3.2.8, RFC 4443 2.4 f). Tokens are kept in units of
 * 1/hz of a packet so that refill is one multiply. */
static bool
icmp_allowed(struct sp_worker *w)
{
	uint64_t hz = rte_get_tsc_hz(), now = rte_get_tsc_cycles();
	uint64_t rate = w->icmp_rate, cap = w->icmp_burst * hz;

	if (rate == 0) {
		w->st->ctr[SP_CTR_ICMP_RATELIMITED]++;
		return false;
	}
	w->icmp_tokens += (now - w->icmp_last_tsc) * rate;
	w->icmp_last_tsc = now;
	if (w->icmp_tokens > cap)
		w->icmp_tokens = cap;
	if (w->icmp_tokens < hz) {
		w->st->ctr[SP_CTR_ICMP_RATELIMITED]++;
		return false;
	}
	w->icmp_tokens -= hz;
	return true;
}

/* The address to send an error from: the receiving interface's, so that traceroute shows the
 * hop the packet came through. Kernel-originated packets get the error from their own source. */
static const struct sp_ip *
error_source(struct sp_worker *w, struct rte_mbuf *m, uint8_t family, struct sp_ip *tmp)
{
	const struct sp_iface *ifc = sp_iface_get(dp_meta(m)->rx_iface);
	const struct sp_ip *src = ifc ? sp_iface_addr(ifc, family) : NULL;

	if (src == NULL && ifc != NULL && ifc->exception) {
		if (family == AF_INET)
			sp_ip_from_v4(tmp, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *)->src_addr);
		else
			sp_ip_from_v6(tmp, rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *)->src_addr);
		src = tmp;
	}
	if (src == NULL)
		w->st->drop[SP_DROP_NO_SRC_ADDR]++;
	return src;
}

/* The first len bytes of m into buf (rte_pktmbuf_read only copies when m is segmented). */
static bool
copy_original(struct rte_mbuf *m, uint8_t *buf, uint32_t len)
{
	const void *p = rte_pktmbuf_read(m, 0, len, buf);

	if (p == NULL)
		return false;
	if (p != buf)
		memcpy(buf, p, len);
	return true;
}

void
dp_icmp4_error(struct sp_worker *w, struct rte_mbuf *m, uint8_t type, uint8_t code, uint16_t mtu)
{
	const struct rte_ipv4_hdr *orig = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	const uint32_t hdrs = SP_IP4_HDR_MIN + SP_ICMP_HDR_LEN;
	uint32_t keep = rte_pktmbuf_pkt_len(m);
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *e;
	struct sp_ip tmp;
	const struct sp_ip *src;
	uint8_t *icmp;

	if (!sp_pkt_ip4_error_allowed((const uint8_t *)orig, rte_pktmbuf_data_len(m)))
		return;
	src = error_source(w, m, AF_INET, &tmp);
	if (src == NULL || !icmp_allowed(w))
		return;
	if (keep > SP_ICMP4_ERR_MAX - hdrs)
		keep = SP_ICMP4_ERR_MAX - hdrs;
	/* A fresh mbuf: errors are rare, and the original may be segmented or shared. */
	e = rte_pktmbuf_alloc(sp_port_pool());
	if (e == NULL)
		return;
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(e, hdrs + keep);
	if (ip == NULL || !copy_original(m, (uint8_t *)ip + hdrs, keep)) {
		rte_pktmbuf_free(e);
		return;
	}
	memset(ip, 0, hdrs);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0xc0; /* internetwork control */
	ip->total_length = rte_cpu_to_be_16(hdrs + keep);
	ip->time_to_live = SP_DEFAULT_TTL;
	ip->next_proto_id = SP_IPPROTO_ICMP;
	ip->src_addr = src->v4;
	ip->dst_addr = ((const struct rte_ipv4_hdr *)((uint8_t *)ip + hdrs))->src_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp = (uint8_t *)(ip + 1);
	icmp[0] = type;
	icmp[1] = code;
	if (type == SP_ICMP_UNREACH && code == SP_ICMP_UNREACH_NEEDFRAG) {
		uint16_t be = rte_cpu_to_be_16(mtu);

		memcpy(icmp + 6, &be, 2); /* next-hop MTU, RFC 1191 */
	}
	{
		uint16_t ck = (uint16_t)~rte_raw_cksum(icmp, SP_ICMP_HDR_LEN + keep);

		memcpy(icmp + 2, &ck, 2);
	}
	*dp_meta(e) = *dp_meta(m);
	w->st->ctr[SP_CTR_ICMP_ERRORS]++;
	dp_ip4_route_out(w, e);
}

void
dp_icmp6_error(struct sp_worker *w, struct rte_mbuf *m, uint8_t type, uint8_t code,
	       uint32_t param)
{
	const uint32_t hdrs = SP_IP6_HDR_LEN + SP_ICMP_HDR_LEN;
	uint32_t keep = rte_pktmbuf_pkt_len(m);
	struct rte_ipv6_hdr *ip;
	struct rte_mbuf *e;
	struct sp_ip tmp;
	const struct sp_ip *src;
	uint8_t *icmp;
	uint16_t ck;
	rte_be32_t be;

	if (!sp_pkt_ip6_error_allowed(rte_pktmbuf_mtod(m, const uint8_t *),
				      rte_pktmbuf_data_len(m), type))
		return;
	src = error_source(w, m, AF_INET6, &tmp);
	if (src == NULL || !icmp_allowed(w))
		return;
	/* As much of the original as fits in the minimum MTU (RFC 4443 2.4 c). */
	if (keep > SP_IP6_MIN_MTU - hdrs)
		keep = SP_IP6_MIN_MTU - hdrs;
	e = rte_pktmbuf_alloc(sp_port_pool());
	if (e == NULL)
		return;
	ip = (struct rte_ipv6_hdr *)rte_pktmbuf_append(e, hdrs + keep);
	if (ip == NULL || !copy_original(m, (uint8_t *)ip + hdrs, keep)) {
		rte_pktmbuf_free(e);
		return;
	}
	memset(ip, 0, hdrs);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(SP_ICMP_HDR_LEN + keep);
	ip->proto = SP_IPPROTO_ICMPV6;
	ip->hop_limits = SP_DEFAULT_TTL;
	memcpy(ip->src_addr, src->v6, 16);
	memcpy(ip->dst_addr, ((const struct rte_ipv6_hdr *)((uint8_t *)ip + hdrs))->src_addr, 16);
	icmp = (uint8_t *)(ip + 1);
	icmp[0] = type;
	icmp[1] = code;
	be = rte_cpu_to_be_32(param); /* MTU for packet-too-big, pointer for parameter problem */
	memcpy(icmp + 4, &be, 4);
	ck = rte_ipv6_udptcp_cksum(ip, icmp);
	memcpy(icmp + 2, &ck, 2);
	*dp_meta(e) = *dp_meta(m);
	w->st->ctr[SP_CTR_ICMP_ERRORS]++;
	dp_ip6_route_out(w, e);
}
