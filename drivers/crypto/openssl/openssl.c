/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenSSL engine: AES-GCM through EVP, synchronous. The reference the faster engines are
 * checked against, not a data-path choice (one EVP call chain per packet).
 *
 * A session keeps its key; a context owns one EVP_CIPHER_CTX and remembers which session's key
 * schedule it holds (by generation, not pointer, since a freed session's address comes back),
 * so a run of packets of one SA pays the key expansion once.
 */
#include <openssl/evp.h>

#include "sp_crypto_driver.h"

struct ossl_engine {
	EVP_CIPHER *cipher[2];      /* by enum sp_crypto_alg, fetched once */
};

struct ossl_sess {
	struct sp_crypto_sess base;
	uint8_t key[32];
	uint8_t salt[SP_CRYPTO_SALT_LEN];
};

struct ossl_ctx {
	struct sp_crypto_ctx base;
	EVP_CIPHER_CTX *evp;
	uint64_t cur_gen;           /* session whose key schedule evp holds; 0: none */
	struct sp_crypto_done done;
};

static void
ossl_close(struct sp_crypto_engine *e)
{
	struct ossl_engine *oe = e->priv;

	if (oe == NULL)
		return;
	EVP_CIPHER_free(oe->cipher[0]);
	EVP_CIPHER_free(oe->cipher[1]);
	sp_crypto_free(oe);
	e->priv = NULL;
}

static int
ossl_open(struct sp_crypto_engine *e, const char *args, unsigned int n_ctx)
{
	struct ossl_engine *oe;

	RTE_SET_USED(n_ctx);
	if (args[0] != '\0') {
		snprintf(e->err, sizeof(e->err), "takes no arguments (got '%s')", args);
		return -EINVAL;
	}
	oe = sp_crypto_zalloc(sizeof(*oe));
	if (oe == NULL)
		return -ENOMEM;
	e->priv = oe;
	oe->cipher[SP_CRYPTO_AES128_GCM] = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	oe->cipher[SP_CRYPTO_AES256_GCM] = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (oe->cipher[0] == NULL || oe->cipher[1] == NULL) {
		snprintf(e->err, sizeof(e->err), "OpenSSL has no AES-GCM cipher");
		ossl_close(e);
		return -ENOTSUP;
	}
	return 0;
}

static struct sp_crypto_sess *
ossl_sess_create(struct sp_crypto_engine *e, const struct sp_crypto_key *key,
		 enum sp_crypto_dir dir)
{
	struct ossl_sess *s = sp_crypto_zalloc(sizeof(*s));

	if (s == NULL)
		return NULL;
	sp_crypto_sess_init(&s->base, e, key, dir);
	memcpy(s->key, key->key, sp_crypto_key_len(key->alg));
	memcpy(s->salt, key->salt, sizeof(s->salt));
	return &s->base;
}

static void
ossl_sess_destroy(struct sp_crypto_engine *e, struct sp_crypto_sess *base)
{
	RTE_SET_USED(e);
	sp_crypto_wipe(base, sizeof(struct ossl_sess));
	sp_crypto_free(base);
}

static struct sp_crypto_ctx *
ossl_ctx_create(struct sp_crypto_engine *e, unsigned int id)
{
	struct ossl_ctx *c = sp_crypto_zalloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	sp_crypto_ctx_init(&c->base, e, id);
	c->evp = EVP_CIPHER_CTX_new();
	if (c->evp == NULL) {
		sp_crypto_free(c);
		return NULL;
	}
	return &c->base;
}

static void
ossl_ctx_destroy(struct sp_crypto_engine *e, struct sp_crypto_ctx *base)
{
	struct ossl_ctx *c = (struct ossl_ctx *)base;

	RTE_SET_USED(e);
	EVP_CIPHER_CTX_free(c->evp);    /* cleans the key schedule */
	sp_crypto_free(c);
}

static int
ossl_one(struct ossl_ctx *c, struct sp_crypto_op *op)
{
	const struct ossl_sess *s = (const struct ossl_sess *)op->sess;
	const struct ossl_engine *oe = c->base.e->priv;
	int enc = s->base.dir == SP_CRYPTO_ENCRYPT;
	uint8_t nonce[SP_CRYPTO_NONCE_LEN];
	uint8_t *data, *icv;
	int outl;

	if (sp_crypto_op_check(&c->base, op) < 0)
		return -EINVAL;
	memcpy(nonce, s->salt, SP_CRYPTO_SALT_LEN);
	memcpy(nonce + SP_CRYPTO_SALT_LEN, op->iv, SP_CRYPTO_IV_LEN);
	if (c->cur_gen != s->base.gen) {
		c->cur_gen = 0;
		if (!EVP_CipherInit_ex2(c->evp, oe->cipher[s->base.alg], s->key, nonce, enc, NULL))
			return -EIO;
		c->cur_gen = s->base.gen;
	} else if (!EVP_CipherInit_ex2(c->evp, NULL, NULL, nonce, enc, NULL)) {
		return -EIO;
	}
	data = rte_pktmbuf_mtod_offset(op->m, uint8_t *, op->data_off);
	icv = rte_pktmbuf_mtod_offset(op->m, uint8_t *, op->icv_off);
	if (op->aad_len && !EVP_CipherUpdate(c->evp, NULL, &outl, op->aad, op->aad_len))
		return -EIO;
	if (op->data_len && !EVP_CipherUpdate(c->evp, data, &outl, data, (int)op->data_len))
		return -EIO;
	if (enc) {
		if (!EVP_CipherFinal_ex(c->evp, data + op->data_len, &outl) ||
		    !EVP_CIPHER_CTX_ctrl(c->evp, EVP_CTRL_GCM_GET_TAG, SP_CRYPTO_ICV_LEN, icv))
			return -EIO;
		return 0;
	}
	if (!EVP_CIPHER_CTX_ctrl(c->evp, EVP_CTRL_GCM_SET_TAG, SP_CRYPTO_ICV_LEN, icv))
		return -EIO;
	return EVP_CipherFinal_ex(c->evp, data + op->data_len, &outl) > 0 ? 0 : -EBADMSG;
}

static uint16_t
ossl_enqueue(struct sp_crypto_ctx *base, struct sp_crypto_op **ops, uint16_t n)
{
	struct ossl_ctx *c = (struct ossl_ctx *)base;
	uint16_t i, room = sp_crypto_done_room(&c->done);

	if (n > room)
		n = room;
	for (i = 0; i < n; i++) {
		ops[i]->status = (int16_t)ossl_one(c, ops[i]);
		sp_crypto_done_push(&c->done, ops[i]);
	}
	return n;
}

static uint16_t
ossl_dequeue(struct sp_crypto_ctx *base, struct sp_crypto_op **ops, uint16_t n)
{
	return sp_crypto_done_pop(&((struct ossl_ctx *)base)->done, ops, n);
}

static const struct sp_crypto_engine_ops ossl_ops = {
	.name = "openssl",
	.open = ossl_open,
	.close = ossl_close,
	.sess_create = ossl_sess_create,
	.sess_destroy = ossl_sess_destroy,
	.ctx_create = ossl_ctx_create,
	.ctx_destroy = ossl_ctx_destroy,
	.enqueue = ossl_enqueue,
	.dequeue = ossl_dequeue,
};

SP_CRYPTO_ENGINE(ossl_ops);
