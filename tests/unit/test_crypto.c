/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto engines: known-answer tests, round trips over every size with one engine encrypting
 * and each other one decrypting (the engines must agree byte for byte), tampering, malformed
 * ops, and a wrong known-answer vector making open refuse the engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include <sp_crypto.h>
#include <sp_crypto_driver.h>

#include "test_common.h"

/* Engines under test: one registered engine may appear with several arguments. */
static const struct {
	const char *label;
	const char *engine;
	const char *args;
	const char *args2;          /* a second instance (a device can be opened once) */
} candidates[] = {
	{ "openssl", "openssl", "", "" },
	{ "ipsec_mb", "ipsec_mb", "", "" },
	{ "cryptodev/aesni_gcm", "cryptodev", "crypto_aesni_gcm_spt", "crypto_aesni_gcm_spu" },
	{ "cryptodev/aesni_mb", "cryptodev", "crypto_aesni_mb_spt", "crypto_aesni_mb_spu" },
};

#define MAX_ENG RTE_DIM(candidates)
#define MAX_PAYLOAD 2048
#define HDR 24

static struct {
	const char *label;
	struct sp_crypto_engine *e;
	struct sp_crypto_ctx *c;
} eng[MAX_ENG];
static unsigned int n_eng;
static struct rte_mempool *pool;

static bool
registered(const char *name)
{
	const char *names[16];
	unsigned int i, n = sp_crypto_engine_names(names, RTE_DIM(names));

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return true;
	}
	return false;
}

static int
suite_init(void)
{
	char err[256];
	unsigned int i;

	if (sp_test_eal_init() < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("crypto_test", 256, 0, 0,
				       RTE_PKTMBUF_HEADROOM + HDR + MAX_PAYLOAD + 64, 0);
	if (pool == NULL)
		return -1;
	for (i = 0; i < MAX_ENG; i++) {
		if (!registered(candidates[i].engine))
			continue;
		eng[n_eng].e = sp_crypto_engine_open(candidates[i].engine, candidates[i].args, 1,
						     err, sizeof(err));
		if (eng[n_eng].e == NULL) {
			fprintf(stderr, "engine %s: %s\n", candidates[i].label, err);
			return -1;
		}
		eng[n_eng].c = sp_crypto_ctx_create(eng[n_eng].e, 0);
		if (eng[n_eng].c == NULL)
			return -1;
		eng[n_eng].label = candidates[i].label;
		printf("\n  engine %s open", eng[n_eng].label);
		n_eng++;
	}
	return 0;
}

static int
suite_clean(void)
{
	unsigned int i;

	for (i = 0; i < n_eng; i++) {
		sp_crypto_ctx_destroy(eng[i].e, eng[i].c);
		sp_crypto_engine_close(eng[i].e);
	}
	rte_mempool_free(pool);
	return 0;
}

/* Every op submitted, every op back in order, within a second. @return ops back. */
static unsigned int
run_burst(struct sp_crypto_ctx *c, struct sp_crypto_op **ops, unsigned int n)
{
	struct sp_crypto_op *done[SP_CRYPTO_MAX_BURST];
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz();
	unsigned int sent = 0, back = 0, i, k;

	while (back < n && rte_get_timer_cycles() < deadline) {
		unsigned int want = RTE_MIN(n - sent, (unsigned int)SP_CRYPTO_MAX_BURST);

		if (sent < n)
			sent += sp_crypto_enqueue(c, ops + sent, (uint16_t)want);
		k = sp_crypto_dequeue(c, done, SP_CRYPTO_MAX_BURST);
		for (i = 0; i < k; i++)
			CU_ASSERT_PTR_EQUAL(done[i], ops[back + i]);
		back += k;
	}
	return back;
}

struct pkt {
	struct sp_crypto_op op;
	uint8_t pt[MAX_PAYLOAD];
	uint8_t out[MAX_PAYLOAD + SP_CRYPTO_ICV_LEN];   /* first engine's ciphertext + ICV */
};

static void
fill_random(void *p, size_t len)
{
	uint8_t *b = p;

	while (len--)
		*b++ = (uint8_t)rte_rand();
}

static struct rte_mbuf *
mbuf_with(const uint8_t *payload, uint32_t len, const uint8_t *icv)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, HDR + len + SP_CRYPTO_ICV_LEN);
	memset(p, 0x5a, HDR);
	memcpy(p + HDR, payload, len);
	if (icv != NULL)
		memcpy(p + HDR + len, icv, SP_CRYPTO_ICV_LEN);
	return m;
}

static void
op_init(struct sp_crypto_op *op, struct rte_mbuf *m, struct sp_crypto_sess *s, uint32_t len)
{
	op->m = m;
	op->sess = s;
	op->data_off = HDR;
	op->data_len = len;
	op->icv_off = HDR + len;
	op->status = 1;
}

static void
test_registry(void)
{
	const char *names[16];
	char err[128];

	CU_ASSERT(sp_crypto_engine_names(names, RTE_DIM(names)) >= 1);
	CU_ASSERT(registered("openssl"));
	CU_ASSERT_PTR_NULL(sp_crypto_engine_open("nope", "", 1, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "unknown engine 'nope'");
	CU_ASSERT_PTR_NULL(sp_crypto_engine_open("openssl", "x=1", 1, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "openssl: takes no arguments (got 'x=1')");
	CU_ASSERT_EQUAL(sp_crypto_key_len(SP_CRYPTO_AES128_GCM), 16);
	CU_ASSERT_EQUAL(sp_crypto_key_len(SP_CRYPTO_AES256_GCM), 32);
	if (registered("cryptodev")) {
		CU_ASSERT_PTR_NULL(sp_crypto_engine_open("cryptodev", candidates[2].args, 1, err,
							 sizeof(err)));
		CU_ASSERT_STRING_EQUAL(err, "cryptodev: device crypto_aesni_gcm_spt is in use");
		CU_ASSERT_PTR_NULL(sp_crypto_engine_open("cryptodev", "", 1, err, sizeof(err)));
		CU_ASSERT_STRING_EQUAL(err, "cryptodev: args: a device name, "
				       "e.g. crypto_aesni_gcm0");
		CU_ASSERT_PTR_NULL(sp_crypto_engine_open("cryptodev", "crypto_nonexistent0", 1,
							 err, sizeof(err)));
		CU_ASSERT_STRING_EQUAL(err, "cryptodev: no cryptodev 'crypto_nonexistent0', and "
				       "creating it as a vdev failed");
	}
}

static void
test_kat(void)
{
	char err[256];
	unsigned int i;

	CU_ASSERT(n_eng >= 1);
	for (i = 0; i < n_eng; i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(sp_crypto_kat(eng[i].e, err, sizeof(err)), 0);
		if (err[0])
			printf("\n  %s: %s", eng[i].label, err);
	}
}

/* Payload sizes: every one up to 64, then steps and the boundaries around blocks and MTUs. */
static unsigned int
sizes(uint32_t *out)
{
	static const uint32_t extra[] = { 127, 128, 129, 255, 256, 257, 1023, 1024, 1025, 1419,
					  1420, 1421, 1500, 2047, 2048 };
	unsigned int n = 0, i;
	uint32_t s;

	for (s = 0; s <= 64; s++)
		out[n++] = s;
	for (s = 65; s < MAX_PAYLOAD; s += 61)
		out[n++] = s;
	for (i = 0; i < RTE_DIM(extra); i++)
		out[n++] = extra[i];
	return n;
}

#define MAX_SIZES 128

/*
 * One round: random key, salt, IVs and AAD; engine `a` encrypts a burst of every size, then
 * every engine decrypts it, and every engine's ciphertext must equal engine 0's.
 */
static void
round_trip(enum sp_crypto_alg alg, unsigned int a)
{
	static struct pkt pk[MAX_SIZES];
	struct sp_crypto_op *ops[MAX_SIZES];
	struct sp_crypto_sess *enc[MAX_ENG], *dec[MAX_ENG];
	struct rte_mbuf *m[MAX_SIZES];
	struct sp_crypto_key key;
	uint32_t sz[MAX_SIZES];
	unsigned int n = sizes(sz), i, b, x;

	memset(&key, 0, sizeof(key));
	key.alg = alg;
	fill_random(key.key, sizeof(key.key));
	fill_random(key.salt, sizeof(key.salt));
	for (b = 0; b < n_eng; b++) {
		enc[b] = sp_crypto_sess_create(eng[b].e, &key, SP_CRYPTO_ENCRYPT);
		dec[b] = sp_crypto_sess_create(eng[b].e, &key, SP_CRYPTO_DECRYPT);
		CU_ASSERT_FATAL(enc[b] != NULL && dec[b] != NULL);
	}
	for (i = 0; i < n; i++) {
		fill_random(pk[i].pt, sz[i]);
		memset(&pk[i].op, 0, sizeof(pk[i].op));
		fill_random(pk[i].op.iv, sizeof(pk[i].op.iv));
		pk[i].op.aad_len = i % 2 ? 12 : 8;
		fill_random(pk[i].op.aad, pk[i].op.aad_len);
	}
	/* Encrypt with every engine, engine `a` first: its output is the reference. */
	for (x = 0; x < n_eng; x++) {
		unsigned int e = (a + x) % n_eng;

		for (i = 0; i < n; i++) {
			m[i] = mbuf_with(pk[i].pt, sz[i], NULL);
			CU_ASSERT_FATAL(m[i] != NULL);
			op_init(&pk[i].op, m[i], enc[e], sz[i]);
			ops[i] = &pk[i].op;
		}
		CU_ASSERT_EQUAL(run_burst(eng[e].c, ops, n), n);
		for (i = 0; i < n; i++) {
			const uint8_t *p = rte_pktmbuf_mtod_offset(m[i], uint8_t *, HDR);

			CU_ASSERT_EQUAL(pk[i].op.status, 0);
			if (x == 0)
				memcpy(pk[i].out, p, sz[i] + SP_CRYPTO_ICV_LEN);
			else if (memcmp(pk[i].out, p, sz[i] + SP_CRYPTO_ICV_LEN) != 0) {
				CU_FAIL("engines disagree on a ciphertext");
				printf("\n  %s vs %s: size %u", eng[a].label, eng[e].label, sz[i]);
			}
			/* The bytes before the payload are never touched. */
			CU_ASSERT_EQUAL(rte_pktmbuf_mtod(m[i], uint8_t *)[HDR - 1], 0x5a);
			rte_pktmbuf_free(m[i]);
		}
	}
	/* Decrypt the reference with every engine. */
	for (b = 0; b < n_eng; b++) {
		for (i = 0; i < n; i++) {
			m[i] = mbuf_with(pk[i].out, sz[i], pk[i].out + sz[i]);
			CU_ASSERT_FATAL(m[i] != NULL);
			op_init(&pk[i].op, m[i], dec[b], sz[i]);
			ops[i] = &pk[i].op;
		}
		CU_ASSERT_EQUAL(run_burst(eng[b].c, ops, n), n);
		for (i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(pk[i].op.status, 0);
			if (memcmp(rte_pktmbuf_mtod_offset(m[i], uint8_t *, HDR), pk[i].pt,
				   sz[i]) != 0) {
				CU_FAIL("decrypted payload differs");
				printf("\n  %s -> %s: size %u", eng[a].label, eng[b].label, sz[i]);
			}
			rte_pktmbuf_free(m[i]);
		}
	}
	for (b = 0; b < n_eng; b++) {
		sp_crypto_sess_destroy(eng[b].e, enc[b]);
		sp_crypto_sess_destroy(eng[b].e, dec[b]);
	}
}

static void
test_round_trip(void)
{
	unsigned int a;

	for (a = 0; a < n_eng; a++) {
		round_trip(SP_CRYPTO_AES128_GCM, a);
		round_trip(SP_CRYPTO_AES256_GCM, a);
	}
}

/* Tampering: a payload bit, an ICV bit, an AAD bit, a wrong IV; each must fail -EBADMSG. */
static void
test_tamper(void)
{
	static const uint32_t tsizes[] = { 0, 1, 16, 61, 1420 };
	enum { T_NONE, T_DATA, T_ICV, T_AAD, T_IV, T_N };
	uint8_t pt[1420], ct[1420 + SP_CRYPTO_ICV_LEN];
	struct sp_crypto_key key = { .alg = SP_CRYPTO_AES256_GCM };
	struct sp_crypto_op op, *opp = &op;
	unsigned int e, i, t;

	fill_random(key.key, sizeof(key.key));
	fill_random(key.salt, sizeof(key.salt));
	for (e = 0; e < n_eng; e++) {
		struct sp_crypto_sess *se, *sd;

		se = sp_crypto_sess_create(eng[e].e, &key, SP_CRYPTO_ENCRYPT);
		sd = sp_crypto_sess_create(eng[e].e, &key, SP_CRYPTO_DECRYPT);
		CU_ASSERT_FATAL(se != NULL && sd != NULL);
		for (i = 0; i < RTE_DIM(tsizes); i++) {
			uint32_t len = tsizes[i];
			struct rte_mbuf *m;

			fill_random(pt, len);
			memset(&op, 0, sizeof(op));
			fill_random(op.iv, sizeof(op.iv));
			op.aad_len = 12;
			fill_random(op.aad, op.aad_len);
			m = mbuf_with(pt, len, NULL);
			op_init(&op, m, se, len);
			CU_ASSERT_EQUAL(run_burst(eng[e].c, &opp, 1), 1);
			CU_ASSERT_EQUAL(op.status, 0);
			memcpy(ct, rte_pktmbuf_mtod_offset(m, uint8_t *, HDR),
			       len + SP_CRYPTO_ICV_LEN);
			rte_pktmbuf_free(m);
			for (t = T_NONE; t < T_N; t++) {
				uint8_t *p;

				if (t == T_DATA && len == 0)
					continue;
				m = mbuf_with(ct, len, ct + len);
				p = rte_pktmbuf_mtod_offset(m, uint8_t *, HDR);
				op_init(&op, m, sd, len);
				if (t == T_DATA)
					p[len / 2] ^= 0x80;
				if (t == T_ICV)
					p[len + 3] ^= 0x04;
				if (t == T_AAD)
					op.aad[11] ^= 0x01;
				if (t == T_IV)
					op.iv[0] ^= 0x10;
				CU_ASSERT_EQUAL(run_burst(eng[e].c, &opp, 1), 1);
				CU_ASSERT_EQUAL(op.status, t == T_NONE ? 0 : -EBADMSG);
				if (t == T_NONE)
					CU_ASSERT_EQUAL(memcmp(p, pt, len), 0);
				if (t == T_AAD)
					op.aad[11] ^= 0x01;
				if (t == T_IV)
					op.iv[0] ^= 0x10;
				rte_pktmbuf_free(m);
			}
		}
		sp_crypto_sess_destroy(eng[e].e, se);
		sp_crypto_sess_destroy(eng[e].e, sd);
	}
}

/*
 * Malformed ops come back with -EINVAL and their data untouched; a valid op after them (with a
 * stale -EINVAL status from an earlier use) is still processed.
 */
static void
test_invalid(void)
{
	struct sp_crypto_key key = { .alg = SP_CRYPTO_AES128_GCM };
	struct sp_crypto_op op[5], *ops[5] = { &op[0], &op[1], &op[2], &op[3], &op[4] };
	uint8_t pt[64];
	unsigned int e, i;

	memset(pt, 0x11, sizeof(pt));
	for (e = 0; e < n_eng; e++) {
		struct sp_crypto_sess *s = sp_crypto_sess_create(eng[e].e, &key, SP_CRYPTO_ENCRYPT);
		struct sp_crypto_sess *other =
			sp_crypto_sess_create(eng[(e + 1) % n_eng].e, &key, SP_CRYPTO_ENCRYPT);

		memset(op, 0, sizeof(op));
		for (i = 0; i < 5; i++) {
			op_init(&op[i], mbuf_with(pt, sizeof(pt), NULL), s, sizeof(pt));
			op[i].aad_len = 8;
		}
		op[0].data_len = sizeof(pt) + SP_CRYPTO_ICV_LEN + 1;  /* beyond the data */
		op[1].icv_off = HDR + sizeof(pt) + 1;                 /* ICV beyond the data */
		op[2].aad_len = 4;
		if (n_eng > 1)
			op[3].sess = other;                           /* another engine's */
		else
			op[3].m->nb_segs = 2;
		op[4].status = -EINVAL;
		CU_ASSERT_EQUAL(run_burst(eng[e].c, ops, 5), 5);
		for (i = 0; i < 5; i++) {
			int same = memcmp(rte_pktmbuf_mtod_offset(op[i].m, uint8_t *, HDR), pt,
					  sizeof(pt)) == 0;

			CU_ASSERT_EQUAL(op[i].status, i < 4 ? -EINVAL : 0);
			CU_ASSERT_EQUAL(same, i < 4);
			op[i].m->nb_segs = 1;
			rte_pktmbuf_free(op[i].m);
		}
		sp_crypto_sess_destroy(eng[e].e, s);
		sp_crypto_sess_destroy(eng[(e + 1) % n_eng].e, other);
	}
}

/* Submitting without collecting: enqueue takes less, then nothing; every op taken comes back. */
static void
test_backpressure(void)
{
	static struct sp_crypto_op op[1024];
	static struct sp_crypto_op *ops[1024], *done[SP_CRYPTO_MAX_BURST];
	struct sp_crypto_key key = { .alg = SP_CRYPTO_AES128_GCM };
	uint8_t pt[64] = { 0 };
	unsigned int e, i, taken, back;
	uint64_t deadline;

	for (e = 0; e < n_eng; e++) {
		struct sp_crypto_sess *s = sp_crypto_sess_create(eng[e].e, &key, SP_CRYPTO_ENCRYPT);
		struct rte_mbuf *m = mbuf_with(pt, sizeof(pt), NULL);
		uint16_t k;

		for (i = 0; i < RTE_DIM(op); i++) {
			memset(&op[i], 0, sizeof(op[i]));
			op_init(&op[i], m, s, sizeof(pt));
			op[i].aad_len = 8;
			ops[i] = &op[i];
		}
		taken = 0;
		do {
			k = sp_crypto_enqueue(eng[e].c, ops + taken, SP_CRYPTO_MAX_BURST);
			taken += k;
		} while (k > 0 && taken + SP_CRYPTO_MAX_BURST <= RTE_DIM(op));
		CU_ASSERT(taken >= SP_CRYPTO_DONE_SIZE && taken < RTE_DIM(op));
		CU_ASSERT_EQUAL(sp_crypto_enqueue(eng[e].c, ops + taken, 1), 0);
		back = 0;
		deadline = rte_get_timer_cycles() + rte_get_timer_hz();
		while (back < taken && rte_get_timer_cycles() < deadline) {
			k = sp_crypto_dequeue(eng[e].c, done, SP_CRYPTO_MAX_BURST);
			for (i = 0; i < k; i++) {
				CU_ASSERT_PTR_EQUAL(done[i], ops[back + i]);
				CU_ASSERT_EQUAL(done[i]->status, 0);
			}
			back += k;
		}
		CU_ASSERT_EQUAL(back, taken);
		CU_ASSERT_EQUAL(sp_crypto_dequeue(eng[e].c, done, SP_CRYPTO_MAX_BURST), 0);
		rte_pktmbuf_free(m);
		sp_crypto_sess_destroy(eng[e].e, s);
	}
}

/* A vector with one wrong ciphertext byte: every engine must be refused at open. */
static void
test_bad_kat(void)
{
	static struct sp_crypto_kat_vec bad[32];
	static char ct[256];
	const struct sp_crypto_kat_vec *v;
	unsigned int n = sp_crypto_kat_builtin(&v), i;
	char err[256], want[256];

	CU_ASSERT_FATAL(n >= 13 && n <= RTE_DIM(bad));
	memcpy(bad, v, n * sizeof(*v));
	snprintf(ct, sizeof(ct), "%s", bad[2].ct);
	ct[10] = ct[10] == '0' ? '1' : '0';
	bad[2].ct = ct;
	sp_crypto_kat_set(bad, n);
	for (i = 0; i < MAX_ENG; i++) {
		if (!registered(candidates[i].engine))
			continue;
		err[0] = '\0';
		CU_ASSERT_PTR_NULL(sp_crypto_engine_open(candidates[i].engine,
							 candidates[i].args2, 1, err, sizeof(err)));
		snprintf(want, sizeof(want), "KAT 3 (%s, encrypt) failed", v[2].name);
		CU_ASSERT_STRING_EQUAL(err, want);
	}
	/* A wrong expected ICV: the encrypt step catches it, on an engine already open. */
	snprintf(ct, sizeof(ct), "%s", v[6].tag);
	ct[0] = ct[0] == 'f' ? 'e' : 'f';
	memcpy(bad, v, n * sizeof(*v));
	bad[6].tag = ct;
	for (i = 0; i < n_eng; i++) {
		snprintf(want, sizeof(want), "KAT 7 (%s, encrypt) failed", v[6].name);
		CU_ASSERT_EQUAL(sp_crypto_kat(eng[i].e, err, sizeof(err)), -EBADMSG);
		CU_ASSERT_STRING_EQUAL(err, want);
	}
	sp_crypto_kat_set(NULL, 0);
	for (i = 0; i < n_eng; i++)
		CU_ASSERT_EQUAL(sp_crypto_kat(eng[i].e, err, sizeof(err)), 0);
}

/*
 * Benchmark mode (not a unit test): `test_crypto bench [rounds]`, run by
 * scripts/bench-crypto.sh. One core; AES-128-GCM, 8-byte AAD, bursts of 32 in place; each
 * round measures every engine in turn (interleaved, so machine noise hits them alike) and the
 * medians are printed. Decrypt keeps decrypting the same buffers: after the first pass their ICV
 * no longer matches, which costs every engine the same full decrypt + GHASH + compare.
 */
#define BENCH_BURST 32
#define BENCH_SAMPLE_HZ_DIV 10          /* 100 ms per sample */
#define BENCH_MAX_ROUNDS 15

static const uint32_t bench_sizes[] = { 64, 1420 };

static double
bench_one(unsigned int e, struct sp_crypto_sess *s, struct sp_crypto_op *ops,
	  struct sp_crypto_op **pp)
{
	struct sp_crypto_op *done[BENCH_BURST];
	uint64_t t0 = rte_get_timer_cycles(), t1, n = 0;
	uint64_t end = t0 + rte_get_timer_hz() / BENCH_SAMPLE_HZ_DIV;
	unsigned int i;

	for (i = 0; i < BENCH_BURST; i++)
		ops[i].sess = s;
	do {
		uint16_t sent = 0, back = 0;

		while (back < BENCH_BURST) {
			if (sent < BENCH_BURST)
				sent += sp_crypto_enqueue(eng[e].c, pp + sent,
							  (uint16_t)(BENCH_BURST - sent));
			back += sp_crypto_dequeue(eng[e].c, done, BENCH_BURST);
		}
		n += BENCH_BURST;
		t1 = rte_get_timer_cycles();
	} while (t1 < end);
	return (double)n * rte_get_timer_hz() / (double)(t1 - t0) / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
bench(unsigned int rounds)
{
	static double mops[MAX_ENG][RTE_DIM(bench_sizes)][2][BENCH_MAX_ROUNDS];
	static struct sp_crypto_op ops[BENCH_BURST];
	struct sp_crypto_op *pp[BENCH_BURST];
	struct sp_crypto_key key = { .alg = SP_CRYPTO_AES128_GCM };
	struct sp_crypto_sess *ss[MAX_ENG][2];
	struct rte_mbuf *m[RTE_DIM(bench_sizes)][BENCH_BURST];
	unsigned int r, e, z, d, i;
	double med[MAX_ENG][RTE_DIM(bench_sizes)][2];

	if (rounds < 1 || rounds > BENCH_MAX_ROUNDS)
		rounds = 5;
	if (suite_init() < 0)
		return 1;
	fill_random(key.key, sizeof(key.key));
	fill_random(key.salt, sizeof(key.salt));
	for (e = 0; e < n_eng; e++) {
		ss[e][0] = sp_crypto_sess_create(eng[e].e, &key, SP_CRYPTO_ENCRYPT);
		ss[e][1] = sp_crypto_sess_create(eng[e].e, &key, SP_CRYPTO_DECRYPT);
	}
	for (z = 0; z < RTE_DIM(bench_sizes); z++) {
		static uint8_t pt[MAX_PAYLOAD];

		fill_random(pt, bench_sizes[z]);
		for (i = 0; i < BENCH_BURST; i++)
			m[z][i] = mbuf_with(pt, bench_sizes[z], NULL);
	}
	printf("\nAES-128-GCM, 8-byte AAD, bursts of %u, one core, %u rounds of 100 ms samples\n",
	       BENCH_BURST, rounds);
	for (r = 0; r < rounds; r++) {
		for (e = 0; e < n_eng; e++) {
			for (z = 0; z < RTE_DIM(bench_sizes); z++) {
				for (i = 0; i < BENCH_BURST; i++) {
					memset(&ops[i], 0, sizeof(ops[i]));
					op_init(&ops[i], m[z][i], NULL, bench_sizes[z]);
					ops[i].aad_len = 8;
					ops[i].iv[0] = (uint8_t)i;
					pp[i] = &ops[i];
				}
				for (d = 0; d < 2; d++)
					mops[e][z][d][r] = bench_one(e, ss[e][d], ops, pp);
			}
		}
	}
	printf("%-22s %12s %12s %12s %12s\n", "engine", "enc 64 B", "dec 64 B", "enc 1420 B",
	       "dec 1420 B");
	for (e = 0; e < n_eng; e++) {
		printf("%-22s", eng[e].label);
		for (z = 0; z < RTE_DIM(bench_sizes); z++) {
			for (d = 0; d < 2; d++) {
				qsort(mops[e][z][d], rounds, sizeof(double), cmp_double);
				med[e][z][d] = mops[e][z][d][rounds / 2];
				printf(" %7.2f Mops", med[e][z][d]);
			}
		}
		printf("\n");
	}
	printf("ratios to %s (medians):\n", eng[0].label);
	for (e = 1; e < n_eng; e++) {
		printf("%-22s", eng[e].label);
		for (z = 0; z < RTE_DIM(bench_sizes); z++)
			for (d = 0; d < 2; d++)
				printf(" %11.2fx", med[e][z][d] / med[0][z][d]);
		printf("\n");
	}
	for (z = 0; z < RTE_DIM(bench_sizes); z++)
		for (i = 0; i < BENCH_BURST; i++)
			rte_pktmbuf_free(m[z][i]);
	for (e = 0; e < n_eng; e++) {
		sp_crypto_sess_destroy(eng[e].e, ss[e][0]);
		sp_crypto_sess_destroy(eng[e].e, ss[e][1]);
	}
	suite_clean();
	return 0;
}

int
main(int argc, char **argv)
{
	CU_pSuite s;

	if (argc > 1 && strcmp(argv[1], "bench") == 0)
		return bench(argc > 2 ? (unsigned int)atoi(argv[2]) : 5);

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("crypto", suite_init, suite_clean);
	CU_add_test(s, "registry and errors", test_registry);
	CU_add_test(s, "known-answer tests of every engine", test_kat);
	CU_add_test(s, "round trips across engines, 0..2048 B", test_round_trip);
	CU_add_test(s, "tampered data, ICV, AAD, IV", test_tamper);
	CU_add_test(s, "malformed ops", test_invalid);
	CU_add_test(s, "enqueue without dequeue", test_backpressure);
	CU_add_test(s, "a wrong vector refuses the engine", test_bad_kat);
	return sp_test_run();
}
