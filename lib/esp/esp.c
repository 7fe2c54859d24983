/* SPDX-License-Identifier: BSD-3-Clause */
/* ESP tunnel-mode data path: encapsulation, decapsulation, per-worker context. */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "esp_private.h"

#define ECN_MASK 0x03
#define ECN_NOT_ECT 0x00
#define ECN_ECT1 0x01
#define ECN_ECT0 0x02
#define ECN_CE 0x03

/* RFC 4303 next header values of a tunnelled packet */
#define NH_IPV4 4
#define NH_IPV6 41

struct sp_esp_ctx {
	unsigned int worker;
	struct sp_crypto_engine *eng;
	struct sp_crypto_ctx *cc;
	struct sp_esp_table *table;
	uint64_t now;
	uint64_t drops[SP_ESP_DROP_MAX];       /**< not charged to an SA */
	/* last burst */
	uint8_t reason[SP_ESP_MAX_BURST];
	struct sp_esp_sa *sa[SP_ESP_MAX_BURST];
	/* scratch */
	struct sp_crypto_op ops[SP_ESP_MAX_BURST];
	struct sp_crypto_op *opp[SP_ESP_MAX_BURST];
	struct rte_mbuf *tmp[SP_ESP_MAX_BURST];
};

struct sp_esp_ctx *
sp_esp_ctx_create(unsigned int worker, struct sp_crypto_engine *e, struct sp_crypto_ctx *cc)
{
	struct sp_esp_ctx *c;

	if (e == NULL || cc == NULL)
		return NULL;
	c = rte_zmalloc("sp_esp_ctx", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (c == NULL)
		return NULL;
	c->worker = worker;
	c->eng = e;
	c->cc = cc;
	return c;
}

void
sp_esp_ctx_destroy(struct sp_esp_ctx *c)
{
	rte_free(c);
}

void
sp_esp_ctx_set_time(struct sp_esp_ctx *c, uint64_t now)
{
	c->now = now;
}

void
sp_esp_ctx_set_table(struct sp_esp_ctx *c, struct sp_esp_table *t)
{
	c->table = t;
}

enum sp_esp_drop
sp_esp_drop_reason(const struct sp_esp_ctx *c, uint16_t i)
{
	return i < SP_ESP_MAX_BURST ? (enum sp_esp_drop)c->reason[i] : SP_ESP_DROP_NONE;
}

struct sp_esp_sa *
sp_esp_decap_sa(const struct sp_esp_ctx *c, uint16_t i)
{
	return i < SP_ESP_MAX_BURST ? c->sa[i] : NULL;
}

uint64_t
sp_esp_ctx_drops(const struct sp_esp_ctx *c, enum sp_esp_drop r)
{
	return (unsigned int)r < SP_ESP_DROP_MAX ? c->drops[r] : 0;
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static inline void
wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)(v >> 32));
	wr32(p + 4, (uint32_t)v);
}

/*
 * Validate an IP packet at p of at most len bytes. @return its total length, or 0.
 * *tos gets the TOS / traffic class, *nh the ESP next header value.
 */
static uint32_t
ip_check(const uint8_t *p, uint32_t len, uint8_t *tos, uint8_t *nh)
{
	if (len < 1)
		return 0;
	if ((p[0] >> 4) == 4) {
		uint32_t ihl = (p[0] & 0xf) * 4u, tot;

		if (len < 20 || ihl < 20)
			return 0;
		tot = rd16(p + 2);
		if (tot < ihl || tot > len)
			return 0;
		*tos = p[1];
		*nh = NH_IPV4;
		return tot;
	}
	if ((p[0] >> 4) == 6) {
		uint32_t tot;

		if (len < 40)
			return 0;
		tot = 40u + rd16(p + 4);
		if (tot > len)
			return 0;
		*tos = (uint8_t)(rd16(p) >> 4);
		*nh = NH_IPV6;
		return tot;
	}
	return 0;
}

/* Lifetime accounting of one packet of len inner bytes. @return false past the hard limit. */
static bool
life_charge(struct sp_esp_sa *sa, uint64_t now, uint32_t len)
{
	const struct sp_esp_limits *h = &sa->conf.hard, *s = &sa->conf.soft;
	struct esp_state *st = &sa->s;
	uint64_t age = now > sa->conf.created ? now - sa->conf.created : 0;

	if (st->expired)
		return false;
	if ((h->packets && st->st.packets + 1 > h->packets) ||
	    (h->bytes && st->st.bytes + len > h->bytes) || (h->seconds && age >= h->seconds)) {
		st->expired = 1;
		st->rekey = 1;
		return false;
	}
	st->st.packets++;
	st->st.bytes += len;
	if ((s->packets && st->st.packets >= s->packets) ||
	    (s->bytes && st->st.bytes >= s->bytes) || (s->seconds && age >= s->seconds))
		st->rekey = 1;
	return true;
}

/* Submit ops and wait until the engine has handed every accepted one back. */
static uint16_t
crypto_run(struct sp_esp_ctx *c, uint16_t n)
{
	uint16_t sent, done = 0;
	uint64_t spins = 0;

	if (n == 0)
		return 0;
	sent = sp_crypto_enqueue(c->cc, c->opp, n);
	for (uint16_t i = sent; i < n; i++)
		c->opp[i]->status = -EBUSY;
	while (done < sent) {
		struct sp_crypto_op *out[SP_ESP_MAX_BURST];
		uint16_t k = sp_crypto_dequeue(c->cc, out, sent - done);

		done += k;
		/* a lookaside device that stops answering: give up rather than hang the worker */
		if (k == 0 && ++spins > (UINT64_C(1) << 26)) {
			SP_LOG(esp, ERR, "engine %s lost %u operations",
			       sp_crypto_engine_name(c->eng), sent - done);
			break;
		}
	}
	return sent;
}

/* Accepted packets first, rejected after, each in order, reasons alongside. */
static uint16_t
compact(struct sp_esp_ctx *c, struct rte_mbuf **pkts, uint16_t n)
{
	uint8_t why[SP_ESP_MAX_BURST];
	struct sp_esp_sa *sas[SP_ESP_MAX_BURST];
	uint16_t k = 0, r;

	for (uint16_t i = 0; i < n; i++)
		if (c->reason[i] == SP_ESP_DROP_NONE)
			k++;
	r = k;
	k = 0;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t j = c->reason[i] == SP_ESP_DROP_NONE ? k++ : r++;

		c->tmp[j] = pkts[i];
		why[j] = c->reason[i];
		sas[j] = c->sa[i];
	}
	memcpy(pkts, c->tmp, n * sizeof(pkts[0]));
	memcpy(c->reason, why, n);
	memcpy(c->sa, sas, n * sizeof(sas[0]));
	return k;
}

static inline void
reject(struct sp_esp_ctx *c, struct sp_esp_sa *sa, uint16_t i, enum sp_esp_drop why)
{
	c->reason[i] = why;
	if (sa != NULL)
		sa->s.st.drops[why]++;
	else
		c->drops[why]++;
}

void
esp_outer_template(struct sp_esp_sa *sa)
{
	const struct sp_esp_sa_conf *cf = &sa->conf;
	uint8_t proto = cf->udp_encap ? IPPROTO_UDP : IPPROTO_ESP;
	uint8_t *h = sa->outer_tmpl;
	uint32_t l4, sum = 0;

	memset(h, 0, sizeof(sa->outer_tmpl));
	if (cf->dst.family == AF_INET) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)h;

		ip->version_ihl = 0x45;
		/* never fragmented on the mesh link: the inner sender gets the PMTU instead */
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = cf->ttl;
		ip->next_proto_id = proto;
		ip->src_addr = cf->src.v4;
		ip->dst_addr = cf->dst.v4;
		/* the words as rte_raw_cksum reads them; TOS and length are added per packet */
		for (l4 = 0; l4 < 20; l4 += 2)
			sum += (uint32_t)h[l4] | (uint32_t)h[l4 + 1] << 8;
		l4 = 20;
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)h;

		ip->proto = proto;
		ip->hop_limits = cf->ttl;
		memcpy(ip->src_addr, cf->src.v6, 16);
		memcpy(ip->dst_addr, cf->dst.v6, 16);
		l4 = 40;
	}
	if (cf->udp_encap) {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(h + l4);

		u->src_port = rte_cpu_to_be_16(cf->udp_sport);
		u->dst_port = rte_cpu_to_be_16(cf->udp_dport);
		/* RFC 3948: checksum 0 over IPv4; IPv6 computed after sealing */
	}
	sa->v4_sum = sum;
}

/*
 * The outer header from the SA's template: one copy, then TOS and lengths. The IPv4 checksum
 * is summed from the template's precomputed words instead of read back from the freshly
 * written header (mixed-size stores followed by 16-bit loads stall store forwarding, and
 * the headroom line is often still on its way in).
 */
static inline void
outer_build(const struct sp_esp_sa *sa, uint8_t *h, uint32_t tot, uint8_t tos)
{
	const struct sp_esp_sa_conf *cf = &sa->conf;
	uint32_t l4;

	memcpy(h, sa->outer_tmpl, sa->outer_len);
	if (cf->dst.family == AF_INET) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)h;
		uint16_t len_be = rte_cpu_to_be_16((uint16_t)tot);
		uint32_t sum = sa->v4_sum + ((uint32_t)tos << 8) + len_be;

		ip->type_of_service = tos;
		ip->total_length = len_be;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		ip->hdr_checksum = sum == 0xffff ? (uint16_t)sum : (uint16_t)~sum;
		l4 = 20;
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)h;

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)tos << 20);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(tot - 40));
		l4 = 40;
	}
	if (cf->udp_encap) {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(h + l4);

		u->dgram_len = rte_cpu_to_be_16((uint16_t)(tot - l4));
	}
}

uint16_t
sp_esp_encap(struct sp_esp_ctx *c, struct sp_esp_sa *sa, struct rte_mbuf **pkts, uint16_t n)
{
	const struct sp_esp_sa_conf *cf = &sa->conf;
	uint16_t hdr = sa->outer_len + SP_ESP_HDR_LEN + SP_ESP_IV_LEN;
	uint16_t nops = 0;

	if (n > SP_ESP_MAX_BURST)
		n = SP_ESP_MAX_BURST;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct sp_crypto_op *op;
		uint8_t tos = 0, nh = 0, pad, *t, *h;
		uint32_t tot, enc, outer;
		uint64_t seq;

		c->reason[i] = SP_ESP_DROP_NONE;
		c->sa[i] = sa;
		if (cf->dir != SP_ESP_OUTBOUND || sa->eng != c->eng) {
			reject(c, NULL, i, SP_ESP_DROP_CRYPTO);
			continue;
		}
		if (sa->conf.owner != c->worker) {
			reject(c, NULL, i, SP_ESP_DROP_WRONG_WORKER);
			continue;
		}
		if (m->nb_segs != 1) {
			reject(c, sa, i, SP_ESP_DROP_NO_ROOM);
			continue;
		}
		tot = ip_check(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &tos, &nh);
		if (tot == 0) {
			reject(c, sa, i, SP_ESP_DROP_MALFORMED);
			continue;
		}
		pad = (4 - ((tot + 2) & 3)) & 3;
		enc = tot + pad + 2;
		outer = hdr + enc + SP_ESP_ICV_LEN;
		if (outer > cf->path_mtu) {
			reject(c, sa, i, SP_ESP_DROP_MTU);
			continue;
		}
		if (rte_pktmbuf_headroom(m) < hdr ||
		    rte_pktmbuf_tailroom(m) + (m->data_len - tot) < pad + 2u + SP_ESP_ICV_LEN) {
			reject(c, sa, i, SP_ESP_DROP_NO_ROOM);
			continue;
		}
		seq = sa->s.seq + 1;
		/* RFC 4303 3.3.3: the counter never cycles; 2^32-1 (or 2^64-1) is the last */
		if ((!cf->esn && seq > UINT32_MAX) || seq == 0) {
			sa->s.expired = 1;
			sa->s.rekey = 1;
			reject(c, sa, i, SP_ESP_DROP_LIFETIME);
			continue;
		}
		if (!life_charge(sa, c->now, tot)) {
			reject(c, sa, i, SP_ESP_DROP_LIFETIME);
			continue;
		}
		sa->s.seq = seq;
		if (!cf->esn && seq >= UINT32_MAX - (UINT32_C(1) << 20))
			sa->s.rekey = 1;

		rte_pktmbuf_trim(m, m->data_len - tot);
		t = (uint8_t *)rte_pktmbuf_append(m, pad + 2 + SP_ESP_ICV_LEN);
		for (uint8_t k = 0; k < pad; k++)
			t[k] = k + 1;
		t[pad] = pad;
		t[pad + 1] = nh;
		h = (uint8_t *)rte_pktmbuf_prepend(m, hdr);
		outer_build(sa, h, outer, tos);
		wr32(h + sa->outer_len, cf->spi);
		wr32(h + sa->outer_len + 4, (uint32_t)seq);
		wr64(h + sa->outer_len + 8, seq);

		op = &c->ops[nops];
		c->opp[nops++] = op;
		op->m = m;
		op->sess = sa->sess;
		op->data_off = hdr;
		op->data_len = enc;
		op->icv_off = hdr + enc;
		wr64(op->iv, seq);
		wr32(op->aad, cf->spi);
		if (cf->esn) {
			wr64(op->aad + 4, seq);
			op->aad_len = 12;
		} else {
			wr32(op->aad + 4, (uint32_t)seq);
			op->aad_len = 8;
		}
		op->status = 0;
		op->user = (void *)(uintptr_t)i;
		m->packet_type = cf->dst.family == AF_INET ? RTE_PTYPE_L3_IPV4 : RTE_PTYPE_L3_IPV6;
	}

	crypto_run(c, nops);
	for (uint16_t j = 0; j < nops; j++) {
		struct sp_crypto_op *op = &c->ops[j];
		uint16_t i = (uint16_t)(uintptr_t)op->user;

		if (op->status != 0) {
			reject(c, sa, i, SP_ESP_DROP_CRYPTO);
			continue;
		}
		if (cf->udp_encap && cf->dst.family == AF_INET6) {
			struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(op->m, struct rte_ipv6_hdr *);
			struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

			u->dgram_cksum = rte_ipv6_udptcp_cksum(ip, u);
		}
	}
	return compact(c, pkts, n);
}

/* RFC 6040 normal-mode decapsulation: the ECN the inner header leaves with, or -1: drop. */
static int
ecn_decap(uint8_t outer, uint8_t inner)
{
	outer &= ECN_MASK;
	inner &= ECN_MASK;
	if (outer == ECN_CE)
		return inner == ECN_NOT_ECT ? -1 : ECN_CE;
	if (outer == ECN_ECT1 && inner == ECN_ECT0)
		return ECN_ECT1;
	return inner;
}

/* Parse the outer headers. @return the ESP offset, 0 with *why set. */
static uint32_t
outer_parse(struct rte_mbuf *m, uint8_t *tos, enum sp_esp_drop *why)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = m->data_len, tot, l4;
	uint8_t proto;

	*why = SP_ESP_DROP_MALFORMED;
	if (len < 1)
		return 0;
	if ((p[0] >> 4) == 4) {
		l4 = (p[0] & 0xf) * 4u;
		if (len < 20 || l4 < 20 || len < l4)
			return 0;
		tot = rd16(p + 2);
		if (tot < l4 || tot > len)
			return 0;
		if (rte_raw_cksum(p, l4) != 0xffff)
			return 0;
		/* fragments are not reassembled here */
		if (rd16(p + 6) & 0x3fff)
			return 0;
		proto = p[9];
		*tos = p[1];
	} else if ((p[0] >> 4) == 6) {
		if (len < 40)
			return 0;
		tot = 40u + rd16(p + 4);
		if (tot > len)
			return 0;
		proto = p[6];
		*tos = (uint8_t)(rd16(p) >> 4);
		l4 = 40;
	} else {
		return 0;
	}
	rte_pktmbuf_trim(m, len - tot);
	if (proto == IPPROTO_UDP) {
		if (tot < l4 + 8 || rd16(p + l4 + 4) != tot - l4)
			return 0;
		/* RFC 3948: a lone 0xff is a NAT keepalive, a zero "SPI" marks IKE */
		if ((tot - l4 - 8 == 1 && p[l4 + 8] == 0xff) ||
		    (tot - l4 - 8 >= 4 && rd32(p + l4 + 8) == 0)) {
			*why = SP_ESP_DROP_NOT_ESP;
			return 0;
		}
		l4 += 8;
	} else if (proto != IPPROTO_ESP) {
		return 0;
	}
	if (tot - l4 < SP_ESP_HDR_LEN)
		return 0;
	*why = SP_ESP_DROP_NONE;
	return l4;
}

uint16_t
sp_esp_decap(struct sp_esp_ctx *c, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t seqs[SP_ESP_MAX_BURST];
	uint8_t tos[SP_ESP_MAX_BURST];
	uint16_t nops = 0;

	if (n > SP_ESP_MAX_BURST)
		n = SP_ESP_MAX_BURST;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		enum sp_esp_drop why;
		struct sp_esp_sa *sa;
		struct sp_crypto_op *op;
		uint32_t off, esp_len, spi;
		uint8_t *p;

		c->reason[i] = SP_ESP_DROP_NONE;
		c->sa[i] = NULL;
		if (m->nb_segs != 1) {
			reject(c, NULL, i, SP_ESP_DROP_NO_ROOM);
			continue;
		}
		off = outer_parse(m, &tos[i], &why);
		if (off == 0) {
			reject(c, NULL, i, why);
			continue;
		}
		p = rte_pktmbuf_mtod(m, uint8_t *);
		esp_len = m->data_len - off;
		spi = rd32(p + off);
		sa = c->table != NULL ? sp_esp_table_lookup(c->table, spi) : NULL;
		if (sa == NULL) {
			reject(c, NULL, i, SP_ESP_DROP_NO_SA);
			continue;
		}
		if (sa->conf.owner != c->worker) {
			/* not ours to write: the caller hands it to the owner or drops it */
			reject(c, NULL, i, SP_ESP_DROP_WRONG_WORKER);
			continue;
		}
		c->sa[i] = sa;
		if (sa->eng != c->eng) {
			reject(c, sa, i, SP_ESP_DROP_CRYPTO);
			continue;
		}
		/* header, IV, at least pad length and next header, ICV */
		if (esp_len < SP_ESP_HDR_LEN + SP_ESP_IV_LEN + 2 + SP_ESP_ICV_LEN) {
			reject(c, sa, i, SP_ESP_DROP_MALFORMED);
			continue;
		}
		if (sa->s.expired ||
		    (sa->conf.hard.seconds && c->now >= sa->conf.created + sa->conf.hard.seconds)) {
			sa->s.expired = 1;
			sa->s.rekey = 1;
			reject(c, sa, i, SP_ESP_DROP_LIFETIME);
			continue;
		}
		/* replay check before spending a decryption on it */
		if (sa->conf.replay_off) {
			seqs[i] = rd32(p + off + 4);
		} else if (sp_esp_replay_check(&sa->s.rp, rd32(p + off + 4), &seqs[i]) != 0) {
			reject(c, sa, i, SP_ESP_DROP_REPLAY);
			continue;
		}
		op = &c->ops[nops];
		c->opp[nops++] = op;
		op->m = m;
		op->sess = sa->sess;
		op->data_off = off + SP_ESP_HDR_LEN + SP_ESP_IV_LEN;
		op->data_len = esp_len - SP_ESP_HDR_LEN - SP_ESP_IV_LEN - SP_ESP_ICV_LEN;
		op->icv_off = m->data_len - SP_ESP_ICV_LEN;
		memcpy(op->iv, p + off + SP_ESP_HDR_LEN, SP_ESP_IV_LEN);
		wr32(op->aad, spi);
		if (sa->conf.esn) {
			wr64(op->aad + 4, seqs[i]);
			op->aad_len = 12;
		} else {
			wr32(op->aad + 4, (uint32_t)seqs[i]);
			op->aad_len = 8;
		}
		op->status = 0;
		op->user = (void *)(uintptr_t)i;
	}

	crypto_run(c, nops);
	for (uint16_t j = 0; j < nops; j++) {
		struct sp_crypto_op *op = &c->ops[j];
		uint16_t i = (uint16_t)(uintptr_t)op->user;
		struct sp_esp_sa *sa = c->sa[i];
		struct rte_mbuf *m = op->m;
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		uint8_t *in = p + op->data_off, padlen, nh, itos = 0, inh = 0;
		uint32_t plen, itot;
		int ecn;

		if (op->status != 0) {
			reject(c, sa, i, op->status == -EBADMSG ? SP_ESP_DROP_AUTH :
			       SP_ESP_DROP_CRYPTO);
			continue;
		}
		/* authentic: only now may the window move */
		if (sa->conf.replay_off)
			sa->s.rp.top = seqs[i];   /* shown as the last accepted number */
		else if (sp_esp_replay_update(&sa->s.rp, seqs[i]) != 0) {
			reject(c, sa, i, SP_ESP_DROP_REPLAY);
			continue;
		}
		padlen = p[op->icv_off - 2];
		nh = p[op->icv_off - 1];
		if (padlen + 2u > op->data_len) {
			reject(c, sa, i, SP_ESP_DROP_MALFORMED);
			continue;
		}
		plen = op->data_len - padlen - 2;
		for (uint8_t k = 0; k < padlen; k++) {
			if (in[plen + k] != k + 1) {
				nh = 0;
				break;
			}
		}
		itot = ip_check(in, plen, &itos, &inh);
		if ((nh != NH_IPV4 && nh != NH_IPV6) || itot == 0 || inh != nh) {
			reject(c, sa, i, SP_ESP_DROP_MALFORMED);
			continue;
		}
		ecn = ecn_decap(tos[i], itos);
		if (ecn < 0) {
			reject(c, sa, i, SP_ESP_DROP_ECN);
			continue;
		}
		if (!life_charge(sa, c->now, itot)) {
			reject(c, sa, i, SP_ESP_DROP_LIFETIME);
			continue;
		}
		if ((uint8_t)ecn != (itos & ECN_MASK)) {
			if (nh == NH_IPV4) {
				struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)in;

				ip->type_of_service = (itos & ~ECN_MASK) | ecn;
				ip->hdr_checksum = 0;
				ip->hdr_checksum = rte_ipv4_cksum(ip);
			} else {
				in[1] = (uint8_t)((in[1] & ~(ECN_MASK << 4)) | ecn << 4);
			}
		}
		rte_pktmbuf_adj(m, (uint16_t)op->data_off);
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - itot));
		m->packet_type = nh == NH_IPV4 ? RTE_PTYPE_L3_IPV4 : RTE_PTYPE_L3_IPV6;
	}
	return compact(c, pkts, n);
}
