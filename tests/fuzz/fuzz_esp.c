/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: arbitrary bytes into the ESP inbound path (sp_esp_decap) of two SAs, one
 * with 32-bit and one with extended sequence numbers. Nothing may read past `size`, crash,
 * loop, or hand back a packet that is not a sane inner IPv4/IPv6 packet.
 *
 * A real AEAD would stop the fuzzer at the ICV, leaving padding, next header and inner checks
 * unexplored. So the SAs run on a transparent engine defined here: "decryption" leaves the
 * bytes as they are and the ICV verifies when it is 16 zero bytes. Seeds in
 * tests/fuzz/corpus/esp/ (written by tests/unit/esp_vectors/gen.py) are scapy's real
 * packets (auth-failed path) and the same packets in this transparent form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "sp_crypto_driver.h"
#include "sp_esp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SPI 0x1000
#define FUZZ_SPI_ESN 0x2000

static struct sp_crypto_op *done[SP_CRYPTO_MAX_BURST];
static uint16_t n_done;

/* Static storage: the harness lives as long as the process (and LSan stays quiet). */
static struct sp_crypto_sess sessions[2];
static unsigned int n_sessions;
static struct sp_crypto_ctx the_ctx;

static struct sp_crypto_sess *
t_sess_create(struct sp_crypto_engine *e, const struct sp_crypto_key *key, enum sp_crypto_dir dir)
{
	struct sp_crypto_sess *s;

	if (n_sessions == RTE_DIM(sessions))
		return NULL;
	s = &sessions[n_sessions++];
	sp_crypto_sess_init(s, e, key, dir);
	return s;
}

static void
t_sess_destroy(struct sp_crypto_engine *e, struct sp_crypto_sess *s)
{
	RTE_SET_USED(e);
	RTE_SET_USED(s);
}

static struct sp_crypto_ctx *
t_ctx_create(struct sp_crypto_engine *e, unsigned int id)
{
	sp_crypto_ctx_init(&the_ctx, e, id);
	return &the_ctx;
}

static void
t_ctx_destroy(struct sp_crypto_engine *e, struct sp_crypto_ctx *c)
{
	RTE_SET_USED(e);
	RTE_SET_USED(c);
}

static uint16_t
t_enqueue(struct sp_crypto_ctx *c, struct sp_crypto_op **ops, uint16_t n)
{
	for (uint16_t i = 0; i < n && n_done < SP_CRYPTO_MAX_BURST; i++) {
		struct sp_crypto_op *op = ops[i];
		const uint8_t *p = rte_pktmbuf_mtod(op->m, const uint8_t *);
		uint8_t acc = 0;

		op->status = sp_crypto_op_check(c, op);
		if (op->status == 0) {
			/* touch every byte a real engine would read */
			for (uint32_t k = 0; k < op->data_len; k++)
				acc |= p[op->data_off + k] & 0;
			for (uint32_t k = 0; k < SP_CRYPTO_ICV_LEN; k++)
				acc |= p[op->icv_off + k];
			if (acc != 0)
				op->status = -EBADMSG;
		}
		done[n_done++] = op;
	}
	return n;
}

static uint16_t
t_dequeue(struct sp_crypto_ctx *c, struct sp_crypto_op **ops, uint16_t n)
{
	uint16_t k = RTE_MIN(n, n_done);

	RTE_SET_USED(c);
	memcpy(ops, done, k * sizeof(ops[0]));
	memmove(done, done + k, (n_done - k) * sizeof(done[0]));
	n_done -= k;
	return k;
}

static const struct sp_crypto_engine_ops transparent = {
	.name = "fuzz-transparent",
	.sess_create = t_sess_create,
	.sess_destroy = t_sess_destroy,
	.ctx_create = t_ctx_create,
	.ctx_destroy = t_ctx_destroy,
	.enqueue = t_enqueue,
	.dequeue = t_dequeue,
};

static struct sp_crypto_engine engine = { .ops = &transparent };
static struct sp_esp_ctx *ctx;
static struct sp_esp_sa *sa, *sa_esn;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = { "fuzz_esp", "--no-huge", "--no-pci", "-l", "0", "-m", "64",
			"--no-telemetry", "--log-level", "*:error", prefix, NULL };
	struct sp_esp_sa_conf c = { .dir = SP_ESP_INBOUND, .replay_window = 128 };
	struct sp_esp_table *t;
	struct sp_crypto_ctx *cc;
	char err[128];

	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	snprintf(prefix, sizeof(prefix), "--file-prefix=fuzz_esp_%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		abort();
	c.key.alg = SP_CRYPTO_AES128_GCM;
	c.spi = FUZZ_SPI;
	sa = sp_esp_sa_create(&c, &engine, err, sizeof(err));
	c.spi = FUZZ_SPI_ESN;
	c.esn = true;
	sa_esn = sp_esp_sa_create(&c, &engine, err, sizeof(err));
	cc = sp_crypto_ctx_create(&engine, 0);
	ctx = sp_esp_ctx_create(0, &engine, cc);
	t = sp_esp_table_create();
	if (sa == NULL || sa_esn == NULL || ctx == NULL || t == NULL ||
	    sp_esp_table_add(t, sa) < 0 || sp_esp_table_add(t, sa_esn) < 0)
		abort();
	sp_esp_ctx_set_table(ctx, t);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The mbuf's buffer is exactly the input, so ASan sees any overread. */
	struct rte_mbuf mb, *m = &mb;
	uint8_t *p;
	uint16_t k;

	if (size > UINT16_MAX)
		return 0;
	p = malloc(size ? size : 1);
	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	memset(&mb, 0, sizeof(mb));
	mb.buf_addr = p;
	mb.buf_len = (uint16_t)size;
	mb.data_off = 0;
	mb.data_len = (uint16_t)size;
	mb.pkt_len = (uint32_t)size;
	mb.nb_segs = 1;
	rte_mbuf_refcnt_set(&mb, 1);
	/* same window every run: deterministic inputs */
	sp_esp_sa_set_seq(sa, 100);
	sp_esp_sa_set_seq(sa_esn, (UINT64_C(3) << 32) | 10);
	k = sp_esp_decap(ctx, &m, 1);
	if (k == 1) {
		const uint8_t *in = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t len = m->data_len;

		if (len < 20 || in < p || in + len > p + size)
			abort();
		if ((in[0] >> 4) == 4 && (len < (uint32_t)(in[2] << 8 | in[3]) ||
					  (in[0] & 0xf) < 5))
			abort();
		if ((in[0] >> 4) == 6 && (len < 40 || len != 40u + (in[4] << 8 | in[5])))
			abort();
		if ((in[0] >> 4) != 4 && (in[0] >> 4) != 6)
			abort();
	} else if (sp_esp_drop_reason(ctx, 0) == SP_ESP_DROP_NONE) {
		abort();
	}
	free(p);
	return 0;
}
