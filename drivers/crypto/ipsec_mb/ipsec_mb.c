/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec-mb engine: AES-GCM with Intel's multi-buffer library, synchronous. Each context owns
 * one IMB_MGR (never shared between threads); sessions hold the expanded keys and GHASH tables,
 * precomputed once on the control core with the engine's own manager. Each op goes through
 * the library's direct GCM calls (IMB_AES*_GCM_ENC/DEC): GCM gains nothing from the job
 * manager's multi-buffer queue, and filling a job costs more than a 64-byte packet's cipher
 * work. Ops are done when enqueue returns and come back in order on the next dequeue. In
 * place; the ICV is written straight into the mbuf on encrypt and compared in constant time
 * on decrypt.
 */
#include <intel-ipsec-mb.h>

#include "sp_crypto_driver.h"

struct imb_engine {
	IMB_MGR *mgr;               /* control core: key precomputation */
};

struct imb_sess {
	struct sp_crypto_sess base;
	uint8_t salt[SP_CRYPTO_SALT_LEN];
	struct gcm_key_data keys __rte_cache_aligned;
};

struct imb_ctx {
	struct sp_crypto_ctx base;
	IMB_MGR *mgr;
	struct sp_crypto_done done;
};

static IMB_MGR *
mgr_new(void)
{
	IMB_MGR *m = alloc_mb_mgr(0);

	if (m == NULL)
		return NULL;
	init_mb_mgr_auto(m, NULL);
	if (imb_get_errno(m) != 0) {
		free_mb_mgr(m);
		return NULL;
	}
	return m;
}

static void
imb_close(struct sp_crypto_engine *e)
{
	struct imb_engine *ie = e->priv;

	if (ie == NULL)
		return;
	if (ie->mgr != NULL)
		free_mb_mgr(ie->mgr);
	sp_crypto_free(ie);
	e->priv = NULL;
}

static int
imb_open(struct sp_crypto_engine *e, const char *args, unsigned int n_ctx)
{
	struct imb_engine *ie;

	RTE_SET_USED(n_ctx);
	if (args[0] != '\0') {
		snprintf(e->err, sizeof(e->err), "takes no arguments (got '%s')", args);
		return -EINVAL;
	}
	ie = sp_crypto_zalloc(sizeof(*ie));
	if (ie == NULL)
		return -ENOMEM;
	e->priv = ie;
	ie->mgr = mgr_new();
	if (ie->mgr == NULL) {
		snprintf(e->err, sizeof(e->err), "cannot set up an ipsec-mb %s manager",
			 IMB_VERSION_STR);
		imb_close(e);
		return -ENOTSUP;
	}
	SP_LOG(crypto, INFO, "ipsec_mb: library %s, architecture %s", imb_get_version_str(),
	       ie->mgr->used_arch == IMB_ARCH_AVX512 ? "avx512" :
	       ie->mgr->used_arch == IMB_ARCH_AVX2 ? "avx2" :
	       ie->mgr->used_arch == IMB_ARCH_AVX ? "avx" : "sse");
	return 0;
}

static struct sp_crypto_sess *
imb_sess_create(struct sp_crypto_engine *e, const struct sp_crypto_key *key,
		enum sp_crypto_dir dir)
{
	struct imb_engine *ie = e->priv;
	struct imb_sess *s = sp_crypto_zalloc(sizeof(*s));

	if (s == NULL)
		return NULL;
	sp_crypto_sess_init(&s->base, e, key, dir);
	memcpy(s->salt, key->salt, sizeof(s->salt));
	if (key->alg == SP_CRYPTO_AES128_GCM)
		IMB_AES128_GCM_PRE(ie->mgr, key->key, &s->keys);
	else
		IMB_AES256_GCM_PRE(ie->mgr, key->key, &s->keys);
	return &s->base;
}

static void
imb_sess_destroy(struct sp_crypto_engine *e, struct sp_crypto_sess *base)
{
	RTE_SET_USED(e);
	sp_crypto_wipe(base, sizeof(struct imb_sess));
	sp_crypto_free(base);
}

static struct sp_crypto_ctx *
imb_ctx_create(struct sp_crypto_engine *e, unsigned int id)
{
	struct imb_ctx *c = sp_crypto_zalloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	sp_crypto_ctx_init(&c->base, e, id);
	c->mgr = mgr_new();
	if (c->mgr == NULL) {
		sp_crypto_free(c);
		return NULL;
	}
	return &c->base;
}

static void
imb_ctx_destroy(struct sp_crypto_engine *e, struct sp_crypto_ctx *base)
{
	struct imb_ctx *c = (struct imb_ctx *)base;

	RTE_SET_USED(e);
	free_mb_mgr(c->mgr);
	sp_crypto_free(c);
}

/* One op, synchronously: encrypt writes the ICV in place; decrypt compares it. */
static inline void
imb_run(IMB_MGR *mgr, struct gcm_context_data *gctx, struct sp_crypto_op *op)
{
	const struct imb_sess *s = (const struct imb_sess *)op->sess;
	uint8_t *data = rte_pktmbuf_mtod_offset(op->m, uint8_t *, op->data_off);
	uint8_t *icv = rte_pktmbuf_mtod_offset(op->m, uint8_t *, op->icv_off);
	uint8_t nonce[SP_CRYPTO_NONCE_LEN], tag[SP_CRYPTO_ICV_LEN];
	bool k128 = s->base.alg == SP_CRYPTO_AES128_GCM;

	memcpy(nonce, s->salt, SP_CRYPTO_SALT_LEN);
	memcpy(nonce + SP_CRYPTO_SALT_LEN, op->iv, SP_CRYPTO_IV_LEN);
	if (s->base.dir == SP_CRYPTO_ENCRYPT) {
		if (k128)
			IMB_AES128_GCM_ENC(mgr, &s->keys, gctx, data, data, op->data_len, nonce,
					   op->aad, op->aad_len, icv, SP_CRYPTO_ICV_LEN);
		else
			IMB_AES256_GCM_ENC(mgr, &s->keys, gctx, data, data, op->data_len, nonce,
					   op->aad, op->aad_len, icv, SP_CRYPTO_ICV_LEN);
		op->status = 0;
		return;
	}
	if (k128)
		IMB_AES128_GCM_DEC(mgr, &s->keys, gctx, data, data, op->data_len, nonce, op->aad,
				   op->aad_len, tag, SP_CRYPTO_ICV_LEN);
	else
		IMB_AES256_GCM_DEC(mgr, &s->keys, gctx, data, data, op->data_len, nonce, op->aad,
				   op->aad_len, tag, SP_CRYPTO_ICV_LEN);
	op->status = sp_crypto_icv_cmp(tag, icv) == 0 ? 0 : -EBADMSG;
}

static uint16_t
imb_enqueue(struct sp_crypto_ctx *base, struct sp_crypto_op **ops, uint16_t n)
{
	struct imb_ctx *c = (struct imb_ctx *)base;
	struct gcm_context_data gctx;
	uint16_t i, room = sp_crypto_done_room(&c->done);

	if (n > room)
		n = room;
	if (n > SP_CRYPTO_MAX_BURST)
		n = SP_CRYPTO_MAX_BURST;
	for (i = 0; i < n; i++) {
		struct sp_crypto_op *op = ops[i];

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod_offset(ops[i + 1]->m, void *,
							      ops[i + 1]->data_off));
		if (unlikely(sp_crypto_op_check(base, op) < 0)) {
			op->status = -EINVAL;
			continue;
		}
		imb_run(c->mgr, &gctx, op);
	}
	/* the GCM state holds the last block's keystream and hash state */
	sp_crypto_wipe(&gctx, sizeof(gctx));
	/* Everything is done: hand the ops back in submission order. */
	for (i = 0; i < n; i++)
		sp_crypto_done_push(&c->done, ops[i]);
	return n;
}

static uint16_t
imb_dequeue(struct sp_crypto_ctx *base, struct sp_crypto_op **ops, uint16_t n)
{
	return sp_crypto_done_pop(&((struct imb_ctx *)base)->done, ops, n);
}

static const struct sp_crypto_engine_ops imb_ops = {
	.name = "ipsec_mb",
	.open = imb_open,
	.close = imb_close,
	.sess_create = imb_sess_create,
	.sess_destroy = imb_sess_destroy,
	.ctx_create = imb_ctx_create,
	.ctx_destroy = imb_ctx_destroy,
	.enqueue = imb_enqueue,
	.dequeue = imb_dequeue,
};

SP_CRYPTO_ENGINE(imb_ops);
