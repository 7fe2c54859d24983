/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_CRYPTO_H
#define SP_CRYPTO_H

/**
 * @file
 * One small AEAD interface for the ESP data path, with interchangeable engines in
 * drivers/crypto/: `ipsec_mb` (Intel ipsec-mb directly), `cryptodev` (any DPDK cryptodev:
 * crypto_aesni_mb / crypto_aesni_gcm vdevs here, QAT or a SmartNIC in production) and
 * `openssl` (EVP, the reference).
 *
 * Model:
 *  - an engine registers itself at constructor time (SP_CRYPTO_ENGINE);
 *  - the control core opens it (sp_crypto_engine_open), which runs the known-answer tests
 *    (NIST GCM / RFC 4106 vectors) and refuses the engine if one fails;
 *  - sessions (one per SA and direction) are created and destroyed on the control core;
 *  - each worker owns one context (sp_crypto_ctx: an IMB_MGR, a cryptodev queue pair, an
 *    EVP_CIPHER_CTX) and submits bursts: enqueue then dequeue. Synchronous engines finish in
 *    enqueue and hand the ops back on the next dequeue (up to 256 not yet dequeued);
 *    asynchronous ones (cryptodev) complete later. A context is never shared between lcores.
 *    Context id n_ctx is the control core's own (KATs), so KATs never use a worker's queue.
 *
 * Engines and their args are described in docs/crypto.md.
 *
 * AES-GCM as ESP uses it (RFC 4106): 4-byte salt from the key material + 8-byte explicit IV =
 * 12-byte nonce; AAD = SPI + sequence number (8 bytes) or SPI + ESN high + low (12 bytes);
 * 16-byte ICV. Data is encrypted/decrypted in place in a single-segment mbuf.
 */

#include <stdbool.h>
#include <stdint.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#define SP_CRYPTO_NAME_MAX 32
#define SP_CRYPTO_ICV_LEN 16
#define SP_CRYPTO_IV_LEN 8
#define SP_CRYPTO_SALT_LEN 4
#define SP_CRYPTO_MAX_BURST 64

enum sp_crypto_alg {
	SP_CRYPTO_AES128_GCM = 0,
	SP_CRYPTO_AES256_GCM,
};

enum sp_crypto_dir {
	SP_CRYPTO_ENCRYPT = 0,
	SP_CRYPTO_DECRYPT,
};

/** Key material of one direction of an SA. Wiped by whoever holds it, when done. */
struct sp_crypto_key {
	enum sp_crypto_alg alg;
	uint8_t key[32];            /**< 16 or 32 bytes used */
	uint8_t salt[SP_CRYPTO_SALT_LEN];
};

/** One packet to seal or open. */
struct sp_crypto_op {
	struct rte_mbuf *m;
	struct sp_crypto_sess *sess;
	uint32_t data_off;          /**< offset in m of the payload (after ESP header and IV) */
	uint32_t data_len;          /**< payload length (plaintext == ciphertext length) */
	uint8_t iv[SP_CRYPTO_IV_LEN];
	uint8_t aad[12];
	uint8_t aad_len;            /**< 8, or 12 with extended sequence numbers (0: KATs) */
	uint32_t icv_off;           /**< offset in m of the 16-byte ICV (written or checked) */
	/**
	 * out: 0; -EBADMSG (ICV mismatch: the payload is then garbage, decrypted in place);
	 * -EINVAL (op malformed: other engine's session, multi-segment mbuf, payload or ICV
	 * outside the data, aad_len not 0/8/12; nothing was touched); -EIO (device error).
	 */
	int16_t status;
	void *user;                 /**< caller's, untouched */
};

struct sp_crypto_engine;
struct sp_crypto_sess;
struct sp_crypto_ctx;

/** What a back end provides. All functions but the per-burst ones run on the control core. */
struct sp_crypto_engine_ops {
	const char *name;           /**< "ipsec_mb", "cryptodev", "openssl" */
	/**
	 * Prepare the engine (args: engine-specific string, e.g. the cryptodev vdev
	 * "crypto_aesni_gcm0"), for up to n_ctx worker contexts. @return 0 or -errno.
	 */
	int (*open)(struct sp_crypto_engine *e, const char *args, unsigned int n_ctx);
	void (*close)(struct sp_crypto_engine *e);
	struct sp_crypto_sess *(*sess_create)(struct sp_crypto_engine *e,
					      const struct sp_crypto_key *key,
					      enum sp_crypto_dir dir);
	void (*sess_destroy)(struct sp_crypto_engine *e, struct sp_crypto_sess *s);
	/**
	 * Context of worker `id` (0..n_ctx-1), or the control core's own (id n_ctx: KATs,
	 * tests); created on the control core.
	 */
	struct sp_crypto_ctx *(*ctx_create)(struct sp_crypto_engine *e, unsigned int id);
	void (*ctx_destroy)(struct sp_crypto_engine *e, struct sp_crypto_ctx *c);
	/** Data path: submit up to SP_CRYPTO_MAX_BURST ops. @return how many were taken. */
	uint16_t (*enqueue)(struct sp_crypto_ctx *c, struct sp_crypto_op **ops, uint16_t n);
	/**
	 * Data path: completed ops (status set), oldest first (on an asynchronous engine, ops
	 * refused with -EINVAL may come back before older valid ones). @return how many.
	 */
	uint16_t (*dequeue)(struct sp_crypto_ctx *c, struct sp_crypto_op **ops, uint16_t n);
};

/** Register a back end (constructor time). */
void sp_crypto_register(const struct sp_crypto_engine_ops *ops);
#define SP_CRYPTO_ENGINE(ops) \
	RTE_INIT(sp_crypto_reg_##ops) { sp_crypto_register(&(ops)); }

/** Names of the registered engines, for help texts. @return how many (up to max). */
unsigned int sp_crypto_engine_names(const char **names, unsigned int max);

/**
 * Open an engine by name and run its known-answer tests; refuse it when one fails.
 * @return the engine, or NULL with a one-line reason in err ("unknown engine", "KAT 3
 * (RFC 4106 case 2, decrypt) failed", the device's error ...).
 */
struct sp_crypto_engine *sp_crypto_engine_open(const char *name, const char *args,
					       unsigned int n_ctx, char *err, size_t errlen);
void sp_crypto_engine_close(struct sp_crypto_engine *e);
const char *sp_crypto_engine_name(const struct sp_crypto_engine *e);

/**
 * Run the known-answer vectors against an opened engine (sp_crypto_engine_open does it).
 * @return 0, or -EBADMSG with the failing vector named in err.
 */
int sp_crypto_kat(struct sp_crypto_engine *e, char *err, size_t errlen);

/* Thin wrappers over the engine's ops, so callers need not know the back end. */
struct sp_crypto_sess *sp_crypto_sess_create(struct sp_crypto_engine *e,
					     const struct sp_crypto_key *key,
					     enum sp_crypto_dir dir);
void sp_crypto_sess_destroy(struct sp_crypto_engine *e, struct sp_crypto_sess *s);
struct sp_crypto_ctx *sp_crypto_ctx_create(struct sp_crypto_engine *e, unsigned int id);
void sp_crypto_ctx_destroy(struct sp_crypto_engine *e, struct sp_crypto_ctx *c);
uint16_t sp_crypto_enqueue(struct sp_crypto_ctx *c, struct sp_crypto_op **ops, uint16_t n);
uint16_t sp_crypto_dequeue(struct sp_crypto_ctx *c, struct sp_crypto_op **ops, uint16_t n);

/** Key length in bytes of an algorithm (16 or 32). */
unsigned int sp_crypto_key_len(enum sp_crypto_alg alg);

#endif
