/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_ESP_H
#define SP_ESP_H

/**
 * @file
 * RFC 4303 ESP in tunnel mode with AES-GCM (RFC 4106), over the AEAD engines of lib/crypto.
 *
 * Objects and who touches them:
 *  - struct sp_esp_sa: one SA, one direction. Created and destroyed on the control core. Its
 *    configuration is immutable; its mutable state (sequence number, replay window, lifetime
 *    use, counters) is written only by its owning worker (conf.owner). The control core reads
 *    the counters (sp_esp_sa_stats) and polls the rekey/expired flags, nothing else.
 *  - struct sp_esp_table: SPI -> inbound SA, a read-only open-addressing snapshot that the
 *    control core rebuilds and publishes by pointer; workers look up without locks, the old
 *    snapshot (and a deleted SA) is freed through lib/rcu once every worker was quiescent.
 *  - struct sp_esp_ctx: one per worker: its crypto context, its clock, the result of its last
 *    burst. Never shared between lcores.
 *
 * Burst contract (sp_esp_encap / sp_esp_decap): take (ctx, pkts[], n) with each packet's data
 * at its L3 header in a single-segment mbuf; return k, the number of packets that continue,
 * which are pkts[0..k-1] in their original order. The rejected ones are moved to pkts[k..n-1]
 * (original order too), still owned by the caller, with their reason in
 * sp_esp_drop_reason(ctx, i). A packet rejected with SP_ESP_DROP_MTU is unmodified: the caller
 * sends ICMP "fragmentation needed" / "packet too big" with sp_esp_inner_mtu(sa), then frees it.
 * Crypto completes inside the call (asynchronous engines are polled to completion).
 */

#include <stdbool.h>
#include <stdint.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#include "sp_addr.h"
#include "sp_crypto.h"

#define SP_ESP_MAX_BURST SP_CRYPTO_MAX_BURST
#define SP_ESP_UDP_PORT 4500
#define SP_ESP_REPLAY_MIN 64
#define SP_ESP_REPLAY_MAX 32768
#define SP_ESP_HDR_LEN 8     /**< SPI + sequence number */
#define SP_ESP_IV_LEN SP_CRYPTO_IV_LEN
#define SP_ESP_ICV_LEN SP_CRYPTO_ICV_LEN

/* X(enum suffix, name, description): per-SA (and per-worker for no-sa) drop reasons. */
#define SP_ESP_DROPS(X) \
	X(NO_SA, "no-sa", "no inbound SA for the SPI") \
	X(REPLAY, "replay", "sequence number already seen or left of the replay window") \
	X(AUTH, "auth-failed", "ICV verification failed") \
	X(LIFETIME, "lifetime", "SA past its hard lifetime or sequence numbers exhausted") \
	X(MALFORMED, "malformed", "outer, ESP or inner packet invalid (length, padding, ...)") \
	X(MTU, "mtu", "encapsulated packet larger than the path MTU (ICMP to the inner sender)") \
	X(NOT_ESP, "not-esp", "UDP 4500 datagram that is a NAT keepalive or IKE, not ESP") \
	X(ECN, "ecn", "outer CE over inner Not-ECT (RFC 6040 says drop)") \
	X(WRONG_WORKER, "wrong-worker", "SA owned by another worker (steer by SPI)") \
	X(NO_ROOM, "no-room", "not enough head/tail room, or a multi-segment mbuf") \
	X(CRYPTO, "crypto-error", "engine refused or failed the operation")

#define SP_ESP_DROP_ENUM(e, n, d) SP_ESP_DROP_##e,
enum sp_esp_drop {
	SP_ESP_DROP_NONE = 0,
	SP_ESP_DROPS(SP_ESP_DROP_ENUM)
	SP_ESP_DROP_MAX
};
#undef SP_ESP_DROP_ENUM

/** Name ("replay") of a drop reason, "none" for 0, "?" out of range. */
const char *sp_esp_drop_name(enum sp_esp_drop r);
/** One-line description of a drop reason. */
const char *sp_esp_drop_desc(enum sp_esp_drop r);

enum sp_esp_dir {
	SP_ESP_OUTBOUND = 0,
	SP_ESP_INBOUND,
};

/** Lifetime limits; 0 means no limit. */
struct sp_esp_limits {
	uint64_t bytes;    /**< inner (plaintext L3) bytes */
	uint64_t packets;
	uint64_t seconds;  /**< since conf.created, on the clock given to sp_esp_ctx_set_time */
};

/** What the control core decides about an SA. */
struct sp_esp_sa_conf {
	uint32_t spi;                 /**< host order; 1..255 are reserved (RFC 4303 2.1) */
	enum sp_esp_dir dir;
	struct sp_crypto_key key;     /**< AES-GCM-128/256 key and salt; copied, wipe yours */
	struct sp_ip src;             /**< outer tunnel source (ours when outbound) */
	struct sp_ip dst;             /**< outer tunnel destination */
	bool udp_encap;               /**< RFC 3948 UDP encapsulation */
	uint16_t udp_sport;           /**< 0: 4500 */
	uint16_t udp_dport;           /**< 0: 4500 */
	bool esn;                     /**< 64-bit extended sequence numbers */
	uint32_t replay_window;       /**< inbound: power of two 64..SP_ESP_REPLAY_MAX; 0: 64 */
	bool replay_off;              /**< inbound: no anti-replay (RFC 4303 3.4.3 lets the
				       *   receiver disable it; manual keys, never with esn) */
	uint16_t path_mtu;            /**< outbound: largest outer packet the mesh link takes */
	uint8_t ttl;                  /**< outer TTL / hop limit; 0: 64 */
	unsigned int owner;           /**< worker id that owns the SA's state */
	uint32_t tag;                 /**< the caller's (lib/tunnel: peer index); not used here */
	uint64_t created;             /**< install time, same clock as sp_esp_ctx_set_time */
	struct sp_esp_limits soft;    /**< reaching one sets the rekey flag */
	struct sp_esp_limits hard;    /**< reaching one stops the SA (drop "lifetime") */
};

/** Counters of one SA, written by its owner only. */
struct sp_esp_sa_stats {
	uint64_t packets;             /**< encapsulated or accepted */
	uint64_t bytes;               /**< inner L3 bytes */
	uint64_t drops[SP_ESP_DROP_MAX];
};

struct sp_esp_sa;
struct sp_esp_ctx;
struct sp_esp_table;

/**
 * Create an SA and its crypto session on engine e (control core).
 * @return the SA, or NULL with a one-line reason in err.
 */
struct sp_esp_sa *sp_esp_sa_create(const struct sp_esp_sa_conf *conf,
				   struct sp_crypto_engine *e, char *err, size_t errlen);
/** Destroy an SA: session destroyed, keys wiped. No worker may still use it. NULL is fine. */
void sp_esp_sa_destroy(struct sp_esp_sa *sa);
/** The configuration it was created with (key wiped from this copy). */
const struct sp_esp_sa_conf *sp_esp_sa_conf(const struct sp_esp_sa *sa);
uint32_t sp_esp_sa_spi(const struct sp_esp_sa *sa);
/** Name of the engine the SA runs on ("openssl"), for `show sa`. */
const char *sp_esp_sa_engine(const struct sp_esp_sa *sa);
/** Copy the counters (control core; a snapshot, each counter read once). */
void sp_esp_sa_stats(const struct sp_esp_sa *sa, struct sp_esp_sa_stats *out);
/** Highest sequence number sent (outbound) or accepted (inbound), 64 bits with ESN. */
uint64_t sp_esp_sa_seq(const struct sp_esp_sa *sa);
/**
 * Set the last sequence number sent (outbound) or the top of the replay window (inbound,
 * clearing it): resuming an SA, and tests. Only before the owner uses the SA.
 * @return 0, or -ERANGE past 2^32-1 without ESN.
 */
int sp_esp_sa_set_seq(struct sp_esp_sa *sa, uint64_t seq);
/**
 * Charge a drop the caller decided to the SA's counters (e.g. SP_ESP_DROP_MTU when the caller
 * checks the inner MTU itself before encapsulating). Owner worker only.
 */
void sp_esp_sa_count_drop(struct sp_esp_sa *sa, enum sp_esp_drop r);
/** Soft limit reached (or sequence space nearly used): the control core should rekey. */
bool sp_esp_sa_rekey_wanted(const struct sp_esp_sa *sa);
/** Hard limit reached: the SA drops everything with SP_ESP_DROP_LIFETIME. */
bool sp_esp_sa_expired(const struct sp_esp_sa *sa);

/**
 * Largest inner packet (L3 bytes) that fits in the SA's path MTU once encapsulated: the MTU
 * to report in ICMP "fragmentation needed" / "packet too big". 0 when none fits.
 */
uint16_t sp_esp_inner_mtu(const struct sp_esp_sa *sa);
/** Outer bytes added to an inner packet of inner_len bytes (headers, IV, padding, ICV). */
uint32_t sp_esp_overhead(const struct sp_esp_sa *sa, uint32_t inner_len);

/** Per-worker context over the worker's crypto context (same engine as its SAs). */
struct sp_esp_ctx *sp_esp_ctx_create(unsigned int worker, struct sp_crypto_engine *e,
				     struct sp_crypto_ctx *cc);
void sp_esp_ctx_destroy(struct sp_esp_ctx *c);
/** Set the worker's clock (seconds, any epoch shared with conf.created); once per poll. */
void sp_esp_ctx_set_time(struct sp_esp_ctx *c, uint64_t now);
/** Inbound table the worker looks SPIs up in (NULL: every packet is no-sa). */
void sp_esp_ctx_set_table(struct sp_esp_ctx *c, struct sp_esp_table *t);
/** Why pkts[i] of the last burst was rejected (SP_ESP_DROP_NONE for i < the returned k). */
enum sp_esp_drop sp_esp_drop_reason(const struct sp_esp_ctx *c, uint16_t i);
/** The SA that accepted pkts[i] of the last sp_esp_decap (i < k), for the policy check. */
struct sp_esp_sa *sp_esp_decap_sa(const struct sp_esp_ctx *c, uint16_t i);
/**
 * Drops with no SA to charge them to: no-sa, wrong-worker, not-esp, and malformed or no-room
 * before the SPI was read.
 */
uint64_t sp_esp_ctx_drops(const struct sp_esp_ctx *c, enum sp_esp_drop r);

/**
 * Outbound: encapsulate inner IPv4/IPv6 packets (data at the inner L3 header) into ESP for
 * outbound SA sa; on return pkts[0..k-1] start at the outer IP header, complete (lengths,
 * checksums). At most SP_ESP_MAX_BURST packets. See the burst contract above.
 */
uint16_t sp_esp_encap(struct sp_esp_ctx *c, struct sp_esp_sa *sa, struct rte_mbuf **pkts,
		      uint16_t n);

/**
 * Inbound: packets addressed to us with data at the outer IPv4/IPv6 header, protocol ESP or
 * UDP to port 4500; the SA is found by SPI in the ctx's table. On return pkts[0..k-1] start
 * at the inner L3 header, trimmed to its length; m->packet_type is RTE_PTYPE_L3_IPV4 or
 * RTE_PTYPE_L3_IPV6. At most SP_ESP_MAX_BURST packets. See the burst contract above.
 */
uint16_t sp_esp_decap(struct sp_esp_ctx *c, struct rte_mbuf **pkts, uint16_t n);

/* ---- inbound SA table (control core writes, workers read) ---- */

/** An empty table. @return it, or NULL. */
struct sp_esp_table *sp_esp_table_create(void);
/**
 * Free the table and destroy every SA still in it. Workers must no longer use it.
 */
void sp_esp_table_destroy(struct sp_esp_table *t);
/** Publish sa (inbound) under its SPI. @return 0, -EEXIST, -EINVAL, -ENOMEM. */
int sp_esp_table_add(struct sp_esp_table *t, struct sp_esp_sa *sa);
/**
 * Unpublish the SA with this SPI; it is destroyed after an RCU grace period (lib/rcu must be
 * initialised), or at once when sp_rcu_qsbr() is NULL (no workers). @return 0 or -ENOENT.
 */
int sp_esp_table_del(struct sp_esp_table *t, uint32_t spi);
/** Worker side: the inbound SA for spi (host order), or NULL. Lock-free. */
struct sp_esp_sa *sp_esp_table_lookup(const struct sp_esp_table *t, uint32_t spi);
/** Number of SAs published. */
unsigned int sp_esp_table_count(const struct sp_esp_table *t);

/* ---- anti-replay window (RFC 6479 bitmap; exposed for tests and `show sa`) ---- */

/**
 * Window of size bits (power of two, 64..SP_ESP_REPLAY_MAX) kept as a ring of 64-bit blocks
 * one block larger than the window (rounded to a power of two), so that sliding only clears
 * the blocks it enters and never shifts the bitmap.
 */
struct sp_esp_replay {
	uint64_t top;        /**< highest sequence number accepted (64-bit with ESN), 0: none */
	uint32_t size;       /**< window size in packets */
	uint32_t mask;       /**< number of blocks - 1 */
	bool esn;
	uint64_t *bits;      /**< mask + 1 blocks */
};

/** Bytes of bitmap a window of size packets needs (0 when size is invalid). */
size_t sp_esp_replay_mem(uint32_t size);
/** Initialise over caller-provided bits (sp_esp_replay_mem bytes). @return 0 or -EINVAL. */
int sp_esp_replay_init(struct sp_esp_replay *r, uint32_t size, bool esn, uint64_t *bits);
/**
 * Before decryption: may the packet with wire sequence number seq_lo be accepted?
 * @return 0 with *seq the full sequence number (ESN high bits inferred, RFC 4303 A2),
 * or -EEXIST (already seen), -ERANGE (left of the window, or 0).
 */
int sp_esp_replay_check(const struct sp_esp_replay *r, uint32_t seq_lo, uint64_t *seq);
/**
 * After successful verification: mark seq (the full number from the check) seen, sliding the
 * window. Rechecks, since another packet of the burst may have taken the number meanwhile.
 * @return 0, -EEXIST or -ERANGE.
 */
int sp_esp_replay_update(struct sp_esp_replay *r, uint64_t seq);

#endif
