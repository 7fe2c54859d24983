/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_KEYX_H
#define SP_KEYX_H

/**
 * @file
 * Key exchange between gateways (docs/tunnels.md, "Key exchange"): the control cores talk TLS
 * 1.3 with mutual authentication by the internal CA's certificates (the peer's leaf must carry
 * the peer's configured SPIFFE ID, chain to our bundle and pass our CRLs), and a small
 * versioned protocol inside the session proposes SAs whose keys come from the TLS exporter
 * (RFC 8446 section 7.5) with a context that binds the epoch, the direction and the SPI.
 *
 * lib/keyx does not know lib/tunnel: it installs SAs through an ops table (the daemon binds it
 * to sp_tun_*, the unit test to a recorder). Peers with manual keys are ignored.
 *
 * Everything runs on the control core, driven by sp_ctl (fd events and one timer); nothing
 * blocks. One instance per gateway.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_addr.h"
#include "sp_conf.h"
#include "sp_crypto.h"

struct sp_ctl;
struct sp_certd;
struct sp_keyx;

#define SP_KEYX_MAX_SAS 16     /**< SAs per direction per epoch: at most this many workers */
#define SP_KEYX_VERSION 1      /**< protocol version in every message header */
#define SP_KEYX_EXPORTER_LABEL "EXPORTER-sallyport-esp-v1"

/**
 * How keyx changes the data path. Every function gets the arg of sp_keyx_params and the peer
 * index (into tun->peers). Keys are the caller's: copy them, keyx wipes its buffers after the
 * call. err is filled on failure (one line).
 */
struct sp_keyx_sa_ops {
	/** Fill spis[0..n-1] with distinct free inbound SPIs (>= 256). @return 0 or -errno. */
	int (*spi_alloc)(void *arg, uint32_t *spis, unsigned int n);
	/** Install an epoch's inbound SAs (we receive on spis[k] with keys[k]). @return 0/-errno */
	int (*add_inbound)(void *arg, unsigned int peer, uint64_t epoch, const uint32_t *spis,
			   const struct sp_crypto_key *keys, unsigned int n, char *err,
			   size_t errlen);
	/** Create an epoch's outbound SAs (the peer's inbound SPIs), not used yet. */
	int (*add_outbound)(void *arg, unsigned int peer, uint64_t epoch, const uint32_t *spis,
			    const struct sp_crypto_key *keys, unsigned int n, char *err,
			    size_t errlen);
	/** Send on epoch's outbound SAs from now on. @return 0 or -errno. */
	int (*activate)(void *arg, unsigned int peer, uint64_t epoch);
	/** Delete an epoch (both halves). @return 0 or -errno (ignored). */
	int (*retire)(void *arg, unsigned int peer, uint64_t epoch);
	/** Delete every epoch of the peer: no SA left (tunnel down, never plaintext). */
	void (*flush)(void *arg, unsigned int peer);
	/** Optional: the active epoch wants a rekey (soft limit); *hard when one SA expired. */
	bool (*rekey_wanted)(void *arg, unsigned int peer, bool *hard);
	/**
	 * Optional: the peer's state for `show peers`: "connecting", "handshake", "established",
	 * "rekeying", "down" or "refused", and a detail ("epoch 3, TLSv1.3, spiffe://...", or the
	 * reason). Strings are valid during the call only.
	 */
	void (*set_status)(void *arg, unsigned int peer, const char *state, const char *detail);
};

struct sp_keyx_params {
	struct sp_ctl *ctl;
	struct sp_certd *certd;            /**< our certificate, bundle and CRLs (followed) */
	const struct sp_conf_tunnels *tun; /**< copied */
	const struct sp_ip *locals;        /**< our outer address per peer (index = peer) */
	const char *netns;                 /**< sockets are created in it; NULL/"" = ours */
	unsigned int n_workers;            /**< SAs we send on per epoch: 1..SP_KEYX_MAX_SAS */
	const struct sp_keyx_sa_ops *ops;
	void *arg;
};

/* X(enum suffix, name, description): why a TLS session with a peer was refused. */
#define SP_KEYX_REFUSALS(X) \
	X(REVOKED, "revoked", "peer certificate revoked by a CRL") \
	X(EXPIRED, "expired", "peer certificate expired (a session ends at its notAfter)") \
	X(NOT_YET_VALID, "not-yet-valid", "peer certificate not valid yet") \
	X(WRONG_IDENTITY, "wrong-identity", "peer certificate lacks the peer's SPIFFE ID") \
	X(UNKNOWN_CA, "unknown-ca", "peer certificate does not chain to our trust bundle") \
	X(BAD_CERT, "bad-certificate", "other certificate problem (CRL missing or stale, ...)") \
	X(NO_CERT, "no-certificate", "peer sent no certificate") \
	X(PEER_REJECTED, "rejected-by-peer", "the peer refused our certificate (TLS alert)") \
	X(TLS, "tls-error", "TLS handshake failed otherwise (version, closed, timed out)") \
	X(UNKNOWN_PEER, "unknown-peer", "connection from an address that is no keyed peer")

#define SP_KEYX_REFUSAL_ENUM(e, n, d) SP_KEYX_REFUSE_##e,
enum sp_keyx_refusal {
	SP_KEYX_REFUSALS(SP_KEYX_REFUSAL_ENUM)
	SP_KEYX_REFUSE_MAX
};
#undef SP_KEYX_REFUSAL_ENUM

/** Name ("revoked") of a refusal cause, "?" out of range. */
const char *sp_keyx_refusal_name(enum sp_keyx_refusal r);
/** One-line description of a refusal cause. */
const char *sp_keyx_refusal_desc(enum sp_keyx_refusal r);

struct sp_keyx_counters {
	uint64_t connects;          /**< TCP connections started (client) or accepted (server) */
	uint64_t handshakes_ok;     /**< TLS verified and both HELLOs exchanged */
	uint64_t handshakes_failed; /**< TLS handshakes that did not complete */
	uint64_t refused[SP_KEYX_REFUSE_MAX];
	uint64_t epochs;            /**< epochs activated (first keying and rekeys) */
	uint64_t rekeys;            /**< epochs activated after the first of a session */
	uint64_t dpd_timeouts;      /**< peers declared dead */
	uint64_t bad_messages;      /**< garbled or out-of-state messages (session closed) */
	uint64_t sessions_lost;     /**< established sessions that ended, any cause */
	uint64_t sa_failures;       /**< an SA operation failed (session reset) */
};

/**
 * Start: build TLS contexts from certd's current material, listen on tun->port of every local
 * address we accept on, start connecting to the peers we call (the side with the numerically
 * lower local address connects). Does not block.
 * @return the instance, or NULL with err filled ("tunnels.peers.[1]: ...", "no certificates").
 */
struct sp_keyx *sp_keyx_create(const struct sp_keyx_params *p, char *err, size_t errlen);
/** Close every session (CLOSE sent when possible), flush every keyed peer's SAs, wipe. */
void sp_keyx_destroy(struct sp_keyx *k);

/**
 * Rekey now (the connecting side proposes; the accepting side asks it to).
 * @return 0 (msg says what was done), -ENOENT (no such peer), -EINVAL (manual keys),
 *         -ENOTCONN (no session), -EBUSY (a rekey is in flight).
 */
int sp_keyx_rekey(struct sp_keyx *k, unsigned int peer, char *msg, size_t len);
/** Drop the session and the peer's SAs, then reconnect. @return 0, -ENOENT, -EINVAL. */
int sp_keyx_reset(struct sp_keyx *k, unsigned int peer, char *msg, size_t len);

/** Counters of the whole instance (sum over peers, plus unknown-peer refusals). */
void sp_keyx_counters(const struct sp_keyx *k, struct sp_keyx_counters *out);
/** Counters of one peer. @return 0 or -ENOENT. */
int sp_keyx_peer_counters(const struct sp_keyx *k, unsigned int peer,
			  struct sp_keyx_counters *out);
/** Serve `show keyx` from k (NULL: "not running"). */
void sp_keyx_console_attach(struct sp_keyx *k);

/** The peer's active epoch in the current session, 0 when none. */
uint64_t sp_keyx_peer_epoch(const struct sp_keyx *k, unsigned int peer);

#endif
