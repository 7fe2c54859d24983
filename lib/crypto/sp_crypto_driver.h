/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_CRYPTO_DRIVER_H
#define SP_CRYPTO_DRIVER_H

/**
 * @file
 * What a crypto engine in drivers/crypto/ sees of lib/crypto: the engine object, the common
 * first member of its sessions and contexts (so the wrappers can dispatch), op validation and
 * the completion ring that synchronous engines hand their ops back through. Never included
 * from app/ or from users of sp_crypto.h.
 */

#include <errno.h>
#include <string.h>

#include <sp_log.h>

#include "sp_crypto.h"

SP_LOG_TYPE_DECLARE(crypto);

/** One opened engine. Allocated and freed by lib/crypto; drivers own `priv`. */
struct sp_crypto_engine {
	const struct sp_crypto_engine_ops *ops;
	void *priv;                 /**< driver state (device id, control manager, ...) */
	unsigned int n_ctx;         /**< worker contexts; id n_ctx is the control core's */
	char err[128];              /**< driver's reason when open fails ("" if none) */
};

/** First member of every driver's session. */
struct sp_crypto_sess {
	struct sp_crypto_engine *e;
	enum sp_crypto_alg alg;
	enum sp_crypto_dir dir;
	uint64_t gen;               /**< unique per session ever created (cache key for contexts) */
};

/** First member of every driver's context. */
struct sp_crypto_ctx {
	const struct sp_crypto_engine_ops *ops;
	struct sp_crypto_engine *e;
	unsigned int id;
};

/** Fill the common part of a new session. */
void sp_crypto_sess_init(struct sp_crypto_sess *s, struct sp_crypto_engine *e,
			 const struct sp_crypto_key *key, enum sp_crypto_dir dir);

/** Fill the common part of a new context. */
static inline void
sp_crypto_ctx_init(struct sp_crypto_ctx *c, struct sp_crypto_engine *e, unsigned int id)
{
	c->ops = e->ops;
	c->e = e;
	c->id = id;
}

/**
 * Check an op against its context before any engine touches memory: same engine, single
 * segment, payload and ICV inside the data, AAD of 0, 8 or 12 bytes. @return 0 or -EINVAL.
 */
static inline int
sp_crypto_op_check(const struct sp_crypto_ctx *c, const struct sp_crypto_op *op)
{
	const struct rte_mbuf *m = op->m;

	if (unlikely(m == NULL || op->sess == NULL || op->sess->e != c->e || m->nb_segs != 1))
		return -EINVAL;
	if (unlikely((uint64_t)op->data_off + op->data_len > m->data_len ||
		     (uint64_t)op->icv_off + SP_CRYPTO_ICV_LEN > m->data_len))
		return -EINVAL;
	if (unlikely(op->aad_len != 0 && op->aad_len != 8 && op->aad_len != 12))
		return -EINVAL;
	return 0;
}

/** 12-byte GCM nonce of an op: salt of the session's key, then the explicit IV. */
#define SP_CRYPTO_NONCE_LEN (SP_CRYPTO_SALT_LEN + SP_CRYPTO_IV_LEN)

/** Constant-time comparison of two ICVs. @return 0 when equal. */
static inline int
sp_crypto_icv_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;
	unsigned int i;

	for (i = 0; i < SP_CRYPTO_ICV_LEN; i++)
		d |= a[i] ^ b[i];
	return d;
}

/*
 * Completion ring of a synchronous engine: enqueue does the work and pushes the ops, dequeue
 * pops them, oldest first. Single producer and consumer, the same lcore: plain indices.
 */
#define SP_CRYPTO_DONE_SIZE 256u    /* power of two, >= 2 * SP_CRYPTO_MAX_BURST */

struct sp_crypto_done {
	uint32_t head;              /* next to pop */
	uint32_t tail;              /* next free slot */
	struct sp_crypto_op *ring[SP_CRYPTO_DONE_SIZE];
};

static inline uint16_t
sp_crypto_done_room(const struct sp_crypto_done *d)
{
	return (uint16_t)(SP_CRYPTO_DONE_SIZE - (d->tail - d->head));
}

static inline void
sp_crypto_done_push(struct sp_crypto_done *d, struct sp_crypto_op *op)
{
	d->ring[d->tail++ & (SP_CRYPTO_DONE_SIZE - 1)] = op;
}

static inline uint16_t
sp_crypto_done_pop(struct sp_crypto_done *d, struct sp_crypto_op **ops, uint16_t n)
{
	uint16_t i, avail = (uint16_t)(d->tail - d->head);

	if (n > avail)
		n = avail;
	for (i = 0; i < n; i++)
		ops[i] = d->ring[d->head++ & (SP_CRYPTO_DONE_SIZE - 1)];
	return n;
}

/** Zero memory that held key material; not optimised away. */
void sp_crypto_wipe(void *p, size_t len);

/**
 * Aligned, zeroed allocation for sessions and contexts (works with or without the EAL, so the
 * synchronous engines also serve tools that do not start it). Free with sp_crypto_free().
 */
void *sp_crypto_zalloc(size_t size);
void sp_crypto_free(void *p);

/** One known-answer vector, hex strings (nonce = 4-byte salt + 8-byte IV). */
struct sp_crypto_kat_vec {
	const char *name;
	enum sp_crypto_alg alg;
	const char *key;
	const char *nonce;
	const char *aad;            /**< 0, 8 or 12 bytes */
	const char *pt;
	const char *ct;
	const char *tag;
};

/**
 * Replace the vectors sp_crypto_kat() runs (tests use it to check that a wrong vector makes
 * open refuse the engine); NULL restores the built-in table. Control core only.
 */
void sp_crypto_kat_set(const struct sp_crypto_kat_vec *v, unsigned int n);

/** The built-in vectors. @return their number. */
unsigned int sp_crypto_kat_builtin(const struct sp_crypto_kat_vec **v);

#endif
