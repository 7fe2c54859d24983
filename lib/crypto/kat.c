/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Known-answer tests run when an engine is opened. Vectors: the AES-GCM test cases of the GCM
 * specification (McGrew and Viega, cases 1-3 and 13-15: empty and block-multiple plaintexts, no
 * AAD) and the ESP cases of draft-mcgrew-gcm-test-01 (RFC 4106 layout: SPI + sequence number
 * AAD of 8 bytes, or 12 with extended sequence numbers; odd lengths down to 4 bytes). Each runs
 * encrypt, decrypt, and decrypt with a flipped ICV bit, which must fail with -EBADMSG.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "sp_crypto.h"
#include "sp_crypto_driver.h"

static const struct sp_crypto_kat_vec builtin[] = {
	{ "GCM spec case 1 (AES-128, empty)", SP_CRYPTO_AES128_GCM,
	  .key = "00000000000000000000000000000000",
	  .nonce = "000000000000000000000000",
	  .aad = "",
	  .pt = "",
	  .ct = "",
	  .tag = "58e2fccefa7e3061367f1d57a4e7455a" },
	{ "GCM spec case 2 (AES-128, 16 B)", SP_CRYPTO_AES128_GCM,
	  .key = "00000000000000000000000000000000",
	  .nonce = "000000000000000000000000",
	  .aad = "",
	  .pt = "00000000000000000000000000000000",
	  .ct = "0388dace60b6a392f328c2b971b2fe78",
	  .tag = "ab6e47d42cec13bdf53a67b21257bddf" },
	{ "GCM spec case 3 (AES-128, 64 B)", SP_CRYPTO_AES128_GCM,
	  .key = "feffe9928665731c6d6a8f9467308308",
	  .nonce = "cafebabefacedbaddecaf888",
	  .aad = "",
	  .pt = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
		"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  .ct = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
	  .tag = "4d5c2af327cd64a62cf35abd2ba6fab4" },
	{ "GCM spec case 13 (AES-256, empty)", SP_CRYPTO_AES256_GCM,
	  .key = "0000000000000000000000000000000000000000000000000000000000000000",
	  .nonce = "000000000000000000000000",
	  .aad = "",
	  .pt = "",
	  .ct = "",
	  .tag = "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "GCM spec case 14 (AES-256, 16 B)", SP_CRYPTO_AES256_GCM,
	  .key = "0000000000000000000000000000000000000000000000000000000000000000",
	  .nonce = "000000000000000000000000",
	  .aad = "",
	  .pt = "00000000000000000000000000000000",
	  .ct = "cea7403d4d606b6e074ec5d3baf39d18",
	  .tag = "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "GCM spec case 15 (AES-256, 64 B)", SP_CRYPTO_AES256_GCM,
	  .key = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  .nonce = "cafebabefacedbaddecaf888",
	  .aad = "",
	  .pt = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
		"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  .ct = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	  .tag = "b094dac5d93471bdec1a502270e3cc6c" },
	{ "ESP case 1 (AES-128, ESN)", SP_CRYPTO_AES128_GCM,
	  .key = "4c80cdefbb5d10da906ac73c3613a634",
	  .nonce = "2e443b684956ed7e3b244cfe",
	  .aad = "000043218765432100000000",
	  .pt = "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
		"00000000045f736970045f756470037369700963796265726369747902646b00"
		"0021000101020201",
	  .ct = "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
		"cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
		"61bc17d768fd9732",
	  .tag = "459018148f6cbe722fd04796562dfdb4" },
	{ "ESP case 2 (AES-128)", SP_CRYPTO_AES128_GCM,
	  .key = "feffe9928665731c6d6a8f9467308308",
	  .nonce = "cafebabefacedbaddecaf888",
	  .aad = "0000a5f80000000a",
	  .pt = "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
		"0001000000000000037369700963796265726369747902646b00000100010001",
	  .ct = "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
		"3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1",
	  .tag = "83b70d3aa8bc6ee4c309e9d85a41ad4a" },
	{ "ESP case 3 (AES-256)", SP_CRYPTO_AES256_GCM,
	  .key = "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
	  .nonce = "112233440102030405060708",
	  .aad = "4a2cbfe300000002",
	  .pt = "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
		"7002400020bf0000020405b40101040201020201",
	  .ct = "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
		"748a637985771d347f0545659f14e99def842d8e",
	  .tag = "b335f4eecfdbf831824b4c4915956c96" },
	{ "ESP case 10 (AES-128, 4 B)", SP_CRYPTO_AES128_GCM,
	  .key = "7d773d00c144c525ac619d18c84a3f47",
	  .nonce = "d966426743457e9182443bc6",
	  .aad = "335467aeffffffff",
	  .pt = "01020201",
	  .ct = "437f866b",
	  .tag = "cb3f699fe9b0822bac961c4504bef270" },
	{ "ESP case 11 (AES-128, ESN, 20 B)", SP_CRYPTO_AES128_GCM,
	  .key = "abbccddef00112233445566778899aab",
	  .nonce = "decaf888cafedebaceface74",
	  .aad = "000001000000000000000001",
	  .pt = "746f016265016f72016e6f7401746f0162650001",
	  .ct = "29c9fc69a197d038ccdd14e2ddfcaa0543332164",
	  .tag = "412503524303ed3c6c5f283843af8c3e" },
	{ "ESP case 8 (AES-256, ESN, 40 B)", SP_CRYPTO_AES256_GCM,
	  .key = "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
	  .nonce = "73616c74616e640169766563",
	  .aad = "17405e67156f3126dd0db99b",
	  .pt = "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb712602"
		"50101f646d540001",
	  .ct = "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57f"
		"f4d3a31ce673119e",
	  .tag = "451626c2415771e3b7eebca614c89b35" },
	{ "ESP case 12 (AES-256, ESN, 52 B)", SP_CRYPTO_AES256_GCM,
	  .key = "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961",
	  .nonce = "7475726e333021696765746d",
	  .aad = "796b6963ffffffffffffffff",
	  .pt = "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
		"65666768696a6b6c6d6e6f707172737401020201",
	  .ct = "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86"
		"4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9",
	  .tag = "d0937ba2945f669368661a329fb4c053" },
};

static const struct sp_crypto_kat_vec *vecs = builtin;
static unsigned int n_vecs = RTE_DIM(builtin);

#define KAT_MAX_LEN 128
#define KAT_HDR 24                  /* payload offset: where ESP header and IV would be */
#define KAT_BUF (RTE_PKTMBUF_HEADROOM + KAT_HDR + KAT_MAX_LEN + SP_CRYPTO_ICV_LEN)
#define KAT_WAIT_US 1000000         /* an asynchronous device gets a second per op */

void
sp_crypto_kat_set(const struct sp_crypto_kat_vec *v, unsigned int n)
{
	vecs = v != NULL ? v : builtin;
	n_vecs = v != NULL ? n : RTE_DIM(builtin);
}

unsigned int
sp_crypto_kat_builtin(const struct sp_crypto_kat_vec **v)
{
	*v = builtin;
	return RTE_DIM(builtin);
}

static int
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t i, n = strlen(s);

	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (uint8_t)b;
	}
	return (int)(n / 2);
}

/* A single-segment mbuf outside any pool: the engines never free what they are given. */
struct kat_mbuf {
	struct rte_mbuf m;
	uint8_t buf[KAT_BUF];
};

static struct kat_mbuf *
kat_mbuf_alloc(bool *from_rte)
{
	struct kat_mbuf *k;
	rte_iova_t iova;

	/* DPDK memory when the EAL runs (a hardware device needs a real IOVA), else heap. */
	k = rte_lcore_count() > 0 ?
		rte_zmalloc("sp_crypto_kat", sizeof(*k), RTE_CACHE_LINE_SIZE) : NULL;
	*from_rte = k != NULL;
	if (k == NULL)
		k = sp_crypto_zalloc(sizeof(*k));
	if (k == NULL)
		return NULL;
	/* rte_malloc_virt2iova() reads the element header: pass the allocation's start. */
	iova = *from_rte ? rte_malloc_virt2iova(k) : RTE_BAD_IOVA;
	if (iova != RTE_BAD_IOVA)
		iova += offsetof(struct kat_mbuf, buf);
	k->m.buf_addr = k->buf;
	rte_mbuf_iova_set(&k->m, iova != RTE_BAD_IOVA ? iova : (rte_iova_t)(uintptr_t)k->buf);
	k->m.buf_len = sizeof(k->buf);
	k->m.data_off = RTE_PKTMBUF_HEADROOM;
	k->m.nb_segs = 1;
	k->m.port = RTE_MBUF_PORT_INVALID;
	rte_mbuf_refcnt_set(&k->m, 1);
	return k;
}

/* Submit one op and wait for it to come back. @return its status, or -ETIMEDOUT/-EIO. */
static int
kat_run_op(struct sp_crypto_ctx *c, struct sp_crypto_op *op)
{
	struct sp_crypto_op *done = NULL;
	uint64_t deadline;

	op->status = -EIO;
	if (sp_crypto_enqueue(c, &op, 1) != 1)
		return -EIO;
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() * KAT_WAIT_US / 1000000;
	while (sp_crypto_dequeue(c, &done, 1) == 0) {
		if (rte_get_timer_cycles() > deadline)
			return -ETIMEDOUT;
		rte_pause();
	}
	return done == op ? op->status : -EIO;
}

struct kat_data {
	struct sp_crypto_key key;
	uint8_t aad[12], pt[KAT_MAX_LEN], ct[KAT_MAX_LEN], tag[SP_CRYPTO_ICV_LEN];
	int aad_len, len;
	uint8_t iv[SP_CRYPTO_IV_LEN];
};

static int
kat_decode(const struct sp_crypto_kat_vec *v, struct kat_data *d)
{
	uint8_t nonce[SP_CRYPTO_NONCE_LEN];
	int klen, ctlen;

	memset(d, 0, sizeof(*d));
	d->key.alg = v->alg;
	klen = unhex(v->key, d->key.key, sizeof(d->key.key));
	d->aad_len = unhex(v->aad, d->aad, sizeof(d->aad));
	d->len = unhex(v->pt, d->pt, sizeof(d->pt));
	ctlen = unhex(v->ct, d->ct, sizeof(d->ct));
	if (klen != (int)sp_crypto_key_len(v->alg) || d->aad_len < 0 || d->len < 0 ||
	    ctlen != d->len || unhex(v->tag, d->tag, sizeof(d->tag)) != SP_CRYPTO_ICV_LEN ||
	    unhex(v->nonce, nonce, sizeof(nonce)) != SP_CRYPTO_NONCE_LEN)
		return -EINVAL;
	memcpy(d->key.salt, nonce, SP_CRYPTO_SALT_LEN);
	memcpy(d->iv, nonce + SP_CRYPTO_SALT_LEN, SP_CRYPTO_IV_LEN);
	return 0;
}

enum kat_step { KAT_ENCRYPT, KAT_DECRYPT, KAT_TAMPERED };
static const char *const step_names[] = { "encrypt", "decrypt", "decrypt of a tampered ICV" };

/* One step of one vector. @return 0 when the engine gave the expected answer. */
static int
kat_step(struct sp_crypto_ctx *c, struct sp_crypto_sess *s, const struct kat_data *d,
	 struct rte_mbuf *m, enum kat_step step)
{
	struct sp_crypto_op op;
	uint8_t *p;
	int rc;

	m->data_len = KAT_HDR + d->len + SP_CRYPTO_ICV_LEN;
	m->pkt_len = m->data_len;
	p = rte_pktmbuf_mtod(m, uint8_t *);
	memset(p, 0xa5, m->data_len);
	if (step == KAT_ENCRYPT) {
		memcpy(p + KAT_HDR, d->pt, d->len);
	} else {
		memcpy(p + KAT_HDR, d->ct, d->len);
		memcpy(p + KAT_HDR + d->len, d->tag, SP_CRYPTO_ICV_LEN);
		if (step == KAT_TAMPERED)
			p[KAT_HDR + d->len + SP_CRYPTO_ICV_LEN - 1] ^= 0x01;
	}
	memset(&op, 0, sizeof(op));
	op.m = m;
	op.sess = s;
	op.data_off = KAT_HDR;
	op.data_len = (uint32_t)d->len;
	op.icv_off = KAT_HDR + (uint32_t)d->len;
	memcpy(op.iv, d->iv, sizeof(op.iv));
	memcpy(op.aad, d->aad, sizeof(op.aad));
	op.aad_len = (uint8_t)d->aad_len;
	rc = kat_run_op(c, &op);
	switch (step) {
	case KAT_ENCRYPT:
		return rc == 0 && memcmp(p + KAT_HDR, d->ct, d->len) == 0 &&
		       memcmp(p + KAT_HDR + d->len, d->tag, SP_CRYPTO_ICV_LEN) == 0 ? 0 : -1;
	case KAT_DECRYPT:
		return rc == 0 && memcmp(p + KAT_HDR, d->pt, d->len) == 0 ? 0 : -1;
	case KAT_TAMPERED:
		return rc == -EBADMSG ? 0 : -1;
	}
	return -1;
}

static int
kat_vector(struct sp_crypto_engine *e, struct sp_crypto_ctx *c, struct rte_mbuf *m,
	   const struct sp_crypto_kat_vec *v, unsigned int idx, char *err, size_t errlen)
{
	struct sp_crypto_sess *s[2] = { NULL, NULL };
	struct kat_data d;
	int rc = 0;
	unsigned int st;

	if (kat_decode(v, &d) < 0) {
		snprintf(err, errlen, "KAT %u (%s): malformed vector", idx + 1, v->name);
		return -EINVAL;
	}
	s[0] = sp_crypto_sess_create(e, &d.key, SP_CRYPTO_ENCRYPT);
	s[1] = sp_crypto_sess_create(e, &d.key, SP_CRYPTO_DECRYPT);
	if (s[0] == NULL || s[1] == NULL) {
		snprintf(err, errlen, "KAT %u (%s): cannot create a session", idx + 1, v->name);
		rc = -ENOMEM;
		goto out;
	}
	for (st = KAT_ENCRYPT; st <= KAT_TAMPERED; st++) {
		if (kat_step(c, s[st != KAT_ENCRYPT], &d, m, st) < 0) {
			snprintf(err, errlen, "KAT %u (%s, %s) failed", idx + 1, v->name,
				 step_names[st]);
			rc = -EBADMSG;
			break;
		}
	}
out:
	sp_crypto_sess_destroy(e, s[1]);
	sp_crypto_sess_destroy(e, s[0]);
	sp_crypto_wipe(&d, sizeof(d));
	return rc;
}

int
sp_crypto_kat(struct sp_crypto_engine *e, char *err, size_t errlen)
{
	struct sp_crypto_ctx *c;
	struct kat_mbuf *k;
	bool from_rte;
	unsigned int i;
	int rc = 0;

	/* The control core's context (id n_ctx): never one a worker may be using. */
	c = sp_crypto_ctx_create(e, e->n_ctx);
	if (c == NULL) {
		snprintf(err, errlen, "%s: cannot create a context for the KATs", e->ops->name);
		return -ENOMEM;
	}
	k = kat_mbuf_alloc(&from_rte);
	if (k == NULL) {
		snprintf(err, errlen, "%s: out of memory for the KATs", e->ops->name);
		rc = -ENOMEM;
		goto out_ctx;
	}
	for (i = 0; i < n_vecs && rc == 0; i++)
		rc = kat_vector(e, c, &k->m, &vecs[i], i, err, errlen);
	if (rc < 0)
		rc = -EBADMSG;
	if (from_rte)
		rte_free(k);
	else
		sp_crypto_free(k);
out_ctx:
	sp_crypto_ctx_destroy(e, c);
	return rc;
}
