/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cryptodev engine: AES-GCM on a DPDK cryptodev, asynchronous (lookaside). Args:
 * "<device name>[,<vdev args>]", e.g. "crypto_aesni_gcm0" or "crypto_aesni_mb0,socket_id=0";
 * a device not present yet is created with rte_vdev_init() and removed at close.
 *
 * Queue pair q belongs to context q (n_ctx workers + the control core's, so KATs never touch a
 * worker's queue). Each context takes its rte_crypto_ops from the pool once, at creation, and
 * keeps them on a private free stack: the data path never touches the mempool. The nonce and
 * the AAD live in the op's private area, the ICV in the mbuf. A device session has one AAD
 * length, so each of our sessions holds three: no AAD (KATs), 8 bytes, 12 bytes (ESN).
 */
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "sp_crypto_driver.h"

#define CDEV_QDESC 512              /* descriptors per queue pair, ops per context */
#define CDEV_SESSIONS 1024          /* our sessions; three device sessions each */
#define CDEV_PRIV_OFF (sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op))

/* Private area of an rte_crypto_op, right after the symmetric op (where DPDK expects IVs). */
struct cdev_priv {
	uint8_t nonce[16];
	uint8_t aad[16];
	struct sp_crypto_op *op;
};

struct cdev_engine {
	char name[RTE_CRYPTODEV_NAME_MAX_LEN];
	uint8_t dev_id;
	bool created;               /* we made the vdev: remove it at close */
	bool started;
	int socket;
	struct rte_mempool *sess_pool;
	struct rte_mempool *op_pool;
};

struct cdev_sess {
	struct sp_crypto_sess base;
	uint8_t salt[SP_CRYPTO_SALT_LEN];
	void *dsess[3];             /* by AAD length: 0, 8, 12 */
};

struct cdev_ctx {
	struct sp_crypto_ctx base;
	uint8_t dev_id;
	uint16_t qp;
	uint16_t n_free;
	struct sp_crypto_done rejected;   /* -EINVAL ops, returned first by dequeue */
	struct rte_crypto_op *free[CDEV_QDESC];
};

static inline unsigned int
aad_idx(uint8_t aad_len)
{
	return aad_len == 0 ? 0 : aad_len == 8 ? 1 : 2;
}

static void
cdev_close(struct sp_crypto_engine *e)
{
	struct cdev_engine *ce = e->priv;

	if (ce == NULL)
		return;
	if (ce->started)
		rte_cryptodev_stop(ce->dev_id);
	if (ce->created) {
		rte_cryptodev_close(ce->dev_id);
		rte_vdev_uninit(ce->name);
	}
	rte_mempool_free(ce->op_pool);
	rte_mempool_free(ce->sess_pool);
	sp_crypto_free(ce);
	e->priv = NULL;
}

/* The device must do AES-GCM with both key sizes, a 16-byte ICV and every AAD length we use. */
static int
cdev_check_caps(struct sp_crypto_engine *e, uint8_t dev_id)
{
	const struct rte_cryptodev_symmetric_capability *cap;
	struct rte_cryptodev_sym_capability_idx idx = {
		.type = RTE_CRYPTO_SYM_XFORM_AEAD,
		.algo.aead = RTE_CRYPTO_AEAD_AES_GCM,
	};
	static const uint16_t keys[] = { 16, 32 }, aads[] = { 0, 8, 12 };
	unsigned int k, a;

	cap = rte_cryptodev_sym_capability_get(dev_id, &idx);
	if (cap == NULL) {
		snprintf(e->err, sizeof(e->err), "device does not do AES-GCM");
		return -ENOTSUP;
	}
	for (k = 0; k < RTE_DIM(keys); k++) {
		for (a = 0; a < RTE_DIM(aads); a++) {
			if (rte_cryptodev_sym_capability_check_aead(cap, keys[k], SP_CRYPTO_ICV_LEN,
								    aads[a],
								    SP_CRYPTO_NONCE_LEN) != 0) {
				snprintf(e->err, sizeof(e->err),
					 "device lacks AES-GCM with a %u-byte key, %u-byte AAD",
					 keys[k], aads[a]);
				return -ENOTSUP;
			}
		}
	}
	return 0;
}

static int
cdev_setup(struct sp_crypto_engine *e, struct cdev_engine *ce, unsigned int n_qp)
{
	struct rte_cryptodev_config conf = {
		.socket_id = ce->socket,
		.nb_queue_pairs = (uint16_t)n_qp,
		.ff_disable = RTE_CRYPTODEV_FF_ASYMMETRIC_CRYPTO | RTE_CRYPTODEV_FF_SECURITY,
	};
	struct rte_cryptodev_qp_conf qpc = { .nb_descriptors = CDEV_QDESC };
	struct rte_cryptodev_info info;
	char pname[RTE_MEMPOOL_NAMESIZE];
	unsigned int q;
	int rc;

	rte_cryptodev_info_get(ce->dev_id, &info);
	if (info.max_nb_queue_pairs < n_qp) {
		snprintf(e->err, sizeof(e->err), "device has %u queue pairs, %u needed",
			 info.max_nb_queue_pairs, n_qp);
		return -ENOSPC;
	}
	rc = cdev_check_caps(e, ce->dev_id);
	if (rc < 0)
		return rc;
	rc = rte_cryptodev_configure(ce->dev_id, &conf);
	if (rc == -EBUSY) {
		snprintf(e->err, sizeof(e->err), "device %s is in use", ce->name);
		return rc;
	} else if (rc < 0) {
		snprintf(e->err, sizeof(e->err), "rte_cryptodev_configure: %s", strerror(-rc));
		return rc;
	}
	for (q = 0; q < n_qp; q++) {
		rc = rte_cryptodev_queue_pair_setup(ce->dev_id, (uint16_t)q, &qpc, ce->socket);
		if (rc < 0) {
			snprintf(e->err, sizeof(e->err), "queue pair %u: %s", q, strerror(-rc));
			return rc;
		}
	}
	snprintf(pname, sizeof(pname), "spc_sess_%u", ce->dev_id);
	ce->sess_pool = rte_cryptodev_sym_session_pool_create(pname, 3 * CDEV_SESSIONS,
		rte_cryptodev_sym_get_private_session_size(ce->dev_id), 0, 0, ce->socket);
	snprintf(pname, sizeof(pname), "spc_op_%u", ce->dev_id);
	ce->op_pool = rte_crypto_op_pool_create(pname, RTE_CRYPTO_OP_TYPE_SYMMETRIC,
						n_qp * CDEV_QDESC, 0, sizeof(struct cdev_priv),
						ce->socket);
	if (ce->sess_pool == NULL || ce->op_pool == NULL) {
		snprintf(e->err, sizeof(e->err), "cannot create the session or op pool: %s",
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = rte_cryptodev_start(ce->dev_id);
	if (rc < 0) {
		snprintf(e->err, sizeof(e->err), "rte_cryptodev_start: %s", strerror(-rc));
		return rc;
	}
	ce->started = true;
	return 0;
}

static int
cdev_open(struct sp_crypto_engine *e, const char *args, unsigned int n_ctx)
{
	struct cdev_engine *ce;
	const char *comma = strchr(args, ',');
	size_t nlen = comma != NULL ? (size_t)(comma - args) : strlen(args);
	int id, rc;

	if (rte_eal_process_type() == RTE_PROC_INVALID || rte_lcore_count() == 0) {
		snprintf(e->err, sizeof(e->err), "needs the EAL");
		return -ENOTSUP;
	}
	if (nlen == 0 || nlen >= RTE_CRYPTODEV_NAME_MAX_LEN) {
		snprintf(e->err, sizeof(e->err), "args: a device name, e.g. crypto_aesni_gcm0");
		return -EINVAL;
	}
	ce = sp_crypto_zalloc(sizeof(*ce));
	if (ce == NULL)
		return -ENOMEM;
	e->priv = ce;
	memcpy(ce->name, args, nlen);
	id = rte_cryptodev_get_dev_id(ce->name);
	if (id < 0) {
		rc = rte_vdev_init(ce->name, comma != NULL ? comma + 1 : "");
		id = rte_cryptodev_get_dev_id(ce->name);
		if (rc < 0 || id < 0) {
			/* rte_vdev_init() returns -1 for most failures: no errno to give. */
			snprintf(e->err, sizeof(e->err),
				 "no cryptodev '%s', and creating it as a vdev failed", ce->name);
			cdev_close(e);
			return -ENODEV;
		}
		ce->created = true;
	}
	ce->dev_id = (uint8_t)id;
	ce->socket = rte_cryptodev_socket_id(ce->dev_id);
	if (ce->socket < 0)
		ce->socket = SOCKET_ID_ANY;
	rc = cdev_setup(e, ce, n_ctx + 1);
	if (rc < 0) {
		cdev_close(e);
		return rc;
	}
	{
		struct rte_cryptodev_info info;

		rte_cryptodev_info_get(ce->dev_id, &info);
		SP_LOG(crypto, INFO, "cryptodev: %s (driver %s), %u queue pairs", ce->name,
		       info.driver_name, n_ctx + 1);
	}
	return 0;
}

static void
cdev_sess_destroy(struct sp_crypto_engine *e, struct sp_crypto_sess *base)
{
	struct cdev_engine *ce = e->priv;
	struct cdev_sess *s = (struct cdev_sess *)base;
	unsigned int i;

	for (i = 0; i < RTE_DIM(s->dsess); i++) {
		if (s->dsess[i] != NULL)
			rte_cryptodev_sym_session_free(ce->dev_id, s->dsess[i]);
	}
	sp_crypto_wipe(s, sizeof(*s));
	sp_crypto_free(s);
}

static struct sp_crypto_sess *
cdev_sess_create(struct sp_crypto_engine *e, const struct sp_crypto_key *key,
		 enum sp_crypto_dir dir)
{
	static const uint16_t aads[] = { 0, 8, 12 };
	struct cdev_engine *ce = e->priv;
	struct rte_crypto_sym_xform x = {
		.type = RTE_CRYPTO_SYM_XFORM_AEAD,
		.aead = {
			.op = dir == SP_CRYPTO_ENCRYPT ? RTE_CRYPTO_AEAD_OP_ENCRYPT :
							 RTE_CRYPTO_AEAD_OP_DECRYPT,
			.algo = RTE_CRYPTO_AEAD_AES_GCM,
			.key = {
				.data = key->key,
				.length = (uint16_t)sp_crypto_key_len(key->alg),
			},
			.iv = { .offset = CDEV_PRIV_OFF, .length = SP_CRYPTO_NONCE_LEN },
			.digest_length = SP_CRYPTO_ICV_LEN,
		},
	};
	struct cdev_sess *s = sp_crypto_zalloc(sizeof(*s));
	unsigned int i;

	if (s == NULL)
		return NULL;
	sp_crypto_sess_init(&s->base, e, key, dir);
	memcpy(s->salt, key->salt, sizeof(s->salt));
	for (i = 0; i < RTE_DIM(aads); i++) {
		x.aead.aad_length = aads[i];
		s->dsess[i] = rte_cryptodev_sym_session_create(ce->dev_id, &x, ce->sess_pool);
		if (s->dsess[i] == NULL) {
			SP_LOG(crypto, ERR, "cryptodev %s: session: %s", ce->name,
			       rte_strerror(rte_errno));
			cdev_sess_destroy(e, &s->base);
			return NULL;
		}
	}
	return &s->base;
}

static struct sp_crypto_ctx *
cdev_ctx_create(struct sp_crypto_engine *e, unsigned int id)
{
	struct cdev_engine *ce = e->priv;
	struct cdev_ctx *c = sp_crypto_zalloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	sp_crypto_ctx_init(&c->base, e, id);
	c->dev_id = ce->dev_id;
	c->qp = (uint16_t)id;
	if (rte_crypto_op_bulk_alloc(ce->op_pool, RTE_CRYPTO_OP_TYPE_SYMMETRIC, c->free,
				     CDEV_QDESC) != CDEV_QDESC) {
		sp_crypto_free(c);
		return NULL;
	}
	c->n_free = CDEV_QDESC;
	return &c->base;
}

static void
cdev_ctx_destroy(struct sp_crypto_engine *e, struct sp_crypto_ctx *base)
{
	struct cdev_engine *ce = e->priv;
	struct cdev_ctx *c = (struct cdev_ctx *)base;
	struct rte_crypto_op *cops[SP_CRYPTO_MAX_BURST];
	unsigned int tries = 0;
	uint16_t k, i;

	/* Take back what is still in flight (the caller has stopped submitting). */
	while (c->n_free < CDEV_QDESC && tries++ < 100000) {
		k = rte_cryptodev_dequeue_burst(c->dev_id, c->qp, cops, SP_CRYPTO_MAX_BURST);
		for (i = 0; i < k; i++)
			c->free[c->n_free++] = cops[i];
	}
	for (i = 0; i < c->n_free; i++)
		memset(c->free[i] + 1, 0, sizeof(struct rte_crypto_sym_op) +
		       sizeof(struct cdev_priv));  /* nonce and AAD */
	rte_mempool_put_bulk(ce->op_pool, (void **)c->free, c->n_free);
	sp_crypto_free(c);
}

static inline void
cdev_fill(struct rte_crypto_op *cop, struct sp_crypto_op *op)
{
	const struct cdev_sess *s = (const struct cdev_sess *)op->sess;
	struct cdev_priv *p = rte_crypto_op_ctod_offset(cop, struct cdev_priv *, CDEV_PRIV_OFF);
	struct rte_crypto_sym_op *sym = cop->sym;

	memcpy(p->nonce, s->salt, SP_CRYPTO_SALT_LEN);
	memcpy(p->nonce + SP_CRYPTO_SALT_LEN, op->iv, SP_CRYPTO_IV_LEN);
	memcpy(p->aad, op->aad, sizeof(op->aad));
	p->op = op;
	cop->status = RTE_CRYPTO_OP_STATUS_NOT_PROCESSED;
	rte_crypto_op_attach_sym_session(cop, s->dsess[aad_idx(op->aad_len)]);
	sym->m_src = op->m;
	sym->m_dst = NULL;
	sym->aead.data.offset = op->data_off;
	sym->aead.data.length = op->data_len;
	sym->aead.digest.data = rte_pktmbuf_mtod_offset(op->m, uint8_t *, op->icv_off);
	sym->aead.digest.phys_addr = rte_pktmbuf_iova_offset(op->m, op->icv_off);
	sym->aead.aad.data = p->aad;
	sym->aead.aad.phys_addr = rte_crypto_op_ctophys_offset(cop, CDEV_PRIV_OFF +
							       offsetof(struct cdev_priv, aad));
}

static uint16_t
cdev_enqueue(struct sp_crypto_ctx *base, struct sp_crypto_op **ops, uint16_t n)
{
	struct cdev_ctx *c = (struct cdev_ctx *)base;
	struct rte_crypto_op *cops[SP_CRYPTO_MAX_BURST];
	uint16_t idx[SP_CRYPTO_MAX_BURST];  /* ops[] index of each cops[] entry */
	uint16_t i, k = 0, sent, taken, rej = 0, room = sp_crypto_done_room(&c->rejected);

	if (n > SP_CRYPTO_MAX_BURST)
		n = SP_CRYPTO_MAX_BURST;
	for (i = 0; i < n; i++) {
		if (unlikely(sp_crypto_op_check(base, ops[i]) < 0)) {
			if (rej == room)
				break;
			ops[i]->status = -EINVAL;
			rej++;
			continue;
		}
		if (unlikely(c->n_free == 0))
			break;
		ops[i]->status = -EIO;  /* until the device says otherwise */
		cops[k] = c->free[--c->n_free];
		cdev_fill(cops[k], ops[i]);
		idx[k++] = i;
	}
	sent = k ? rte_cryptodev_enqueue_burst(c->dev_id, c->qp, cops, k) : 0;
	/* Taken: everything before the first op the device did not accept. */
	taken = sent < k ? idx[sent] : i;
	while (k > sent)
		c->free[c->n_free++] = cops[--k];
	for (i = 0; i < taken; i++) {
		if (ops[i]->status == -EINVAL)
			sp_crypto_done_push(&c->rejected, ops[i]);
	}
	return taken;
}

static uint16_t
cdev_dequeue(struct sp_crypto_ctx *base, struct sp_crypto_op **ops, uint16_t n)
{
	struct cdev_ctx *c = (struct cdev_ctx *)base;
	struct rte_crypto_op *cops[SP_CRYPTO_MAX_BURST];
	uint16_t k, i, got;

	got = sp_crypto_done_pop(&c->rejected, ops, n);
	n = RTE_MIN((uint16_t)(n - got), (uint16_t)SP_CRYPTO_MAX_BURST);
	if (n == 0)
		return got;
	k = rte_cryptodev_dequeue_burst(c->dev_id, c->qp, cops, n);
	for (i = 0; i < k; i++) {
		struct cdev_priv *p = rte_crypto_op_ctod_offset(cops[i], struct cdev_priv *,
								CDEV_PRIV_OFF);
		struct sp_crypto_op *op = p->op;

		switch (cops[i]->status) {
		case RTE_CRYPTO_OP_STATUS_SUCCESS:
			op->status = 0;
			break;
		case RTE_CRYPTO_OP_STATUS_AUTH_FAILED:
			op->status = -EBADMSG;
			break;
		default:
			op->status = -EIO;
			break;
		}
		ops[got++] = op;
		c->free[c->n_free++] = cops[i];
	}
	return got;
}

static const struct sp_crypto_engine_ops cdev_ops = {
	.name = "cryptodev",
	.open = cdev_open,
	.close = cdev_close,
	.sess_create = cdev_sess_create,
	.sess_destroy = cdev_sess_destroy,
	.ctx_create = cdev_ctx_create,
	.ctx_destroy = cdev_ctx_destroy,
	.enqueue = cdev_enqueue,
	.dequeue = cdev_dequeue,
};

SP_CRYPTO_ENGINE(cdev_ops);
