/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_TUNNEL_H
#define SP_TUNNEL_H

/**
 * @file
 * The mesh's tunnels: peers (other gateways), the prefixes behind each, and the ESP SAs that
 * carry traffic to and from them (docs/tunnels.md).
 *
 * Each peer's prefixes are routes of type TUNNEL in lib/route: a packet routed to one is
 * encrypted on the SA of the peer's active epoch, or dropped (`tunnel-down`) when there is
 * none - never sent in plaintext. A decapsulated packet is accepted only when its inner source
 * routes back to the same peer (the tunnel's reverse-path check).
 *
 * SAs come in epochs. An epoch of a peer is a set of inbound SAs (SPIs we chose; SA k is owned
 * by worker k % n_workers) and a set of outbound SAs (worker w sends on SA w % n, which worker
 * (w % n) % n_workers owns; a worker that does not own its SA hands the packet to the owner).
 * Inbound SAs are in the SPI table as soon as they are added; the outbound SAs of an epoch
 * are used once the epoch is activated, which swaps the peer's outbound set for all workers
 * at once (RCU). Key exchange (lib/keyx) drives the epochs of keyed peers; manual peers get
 * epoch 1 from the configuration at start.
 *
 * Threads: everything here runs on the control core, except the data-path functions at the
 * end, which workers call.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "sp_conf.h"
#include "sp_crypto.h"
#include "sp_esp.h"

#define SP_TUN_MAX_PEERS SP_CONF_MAX_PEERS
#define SP_TUN_MAX_SAS 16          /**< SAs per direction per epoch */
#define SP_TUN_EPOCHS 3            /**< epochs alive per peer: draining, active, next */

struct sp_tun_params {
	const struct sp_conf *conf;      /**< tunnels and crypto sections; copied */
	struct sp_crypto_engine *engine; /**< every SA's session lives here */
	unsigned int n_workers;
};

/**
 * Set up peers from conf->tunnels: route every peer prefix to its tunnel, install manual SAs
 * (epoch 1, activated). Needs lib/route initialised. Nothing is left behind on failure.
 * @return 0, or -errno with err filled ("tunnels.peers.[1].prefixes.[0]: ...").
 */
int sp_tun_init(const struct sp_tun_params *p, char *err, size_t errlen);
/** Remove routes and every SA (after the workers stopped). */
void sp_tun_fini(void);

unsigned int sp_tun_peer_count(void);
/** Peer index by name, or -ENOENT. */
int sp_tun_peer_find(const char *name);
/** The peer's configuration (NULL when out of range). */
const struct sp_conf_peer *sp_tun_peer_conf(unsigned int peer);
/** Our outer address towards the peer (configured, or the egress interface's). */
const struct sp_ip *sp_tun_peer_local(unsigned int peer);
/** The tunnels section in force. */
const struct sp_conf_tunnels *sp_tun_conf(void);
unsigned int sp_tun_n_workers(void);
/** Seconds on the clock SAs' lifetimes use (monotonic, shared with the workers). */
uint64_t sp_tun_now(void);

/** Fill spis[0..n-1] with random SPIs that no inbound SA uses. @return 0 or -ENOSPC. */
int sp_tun_spi_alloc(uint32_t *spis, unsigned int n);

/**
 * Add an epoch's inbound SAs (keys[k] with SPI spis[k], SA k owned by worker k % n_workers),
 * published at once. The epoch must be new for the peer. Keys are copied; wipe yours.
 * @return 0, -EEXIST (epoch or an SPI in use), -ENOSPC (no free epoch slot), -EINVAL, or
 * -ENOMEM/-ENOTSUP from the engine; nothing is left behind on failure.
 */
int sp_tun_add_inbound(unsigned int peer, uint64_t epoch, const uint32_t *spis,
		       const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen);
/**
 * Create an epoch's outbound SAs (the peer's inbound SPIs), not yet used. The epoch may
 * already have its inbound half.
 */
int sp_tun_add_outbound(unsigned int peer, uint64_t epoch, const uint32_t *spis,
			const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen);
/** Send on epoch's outbound SAs from now on (make-before-break). @return 0, -ENOENT. */
int sp_tun_activate(unsigned int peer, uint64_t epoch);
/**
 * Delete an epoch (both halves); its SAs are freed after an RCU grace period. Retiring the
 * active epoch leaves the peer without outbound SAs (tunnel down). @return 0, -ENOENT.
 */
int sp_tun_retire(unsigned int peer, uint64_t epoch);
/** Delete every epoch of the peer: the tunnel is down until new SAs are added. */
void sp_tun_flush(unsigned int peer);
/** The active epoch, 0 when none. */
uint64_t sp_tun_active_epoch(unsigned int peer);
/** Epochs alive (active or not), up to max of them. @return the count. */
unsigned int sp_tun_epochs(unsigned int peer, uint64_t *epochs, unsigned int max);
/**
 * Soft limit reached (or sequence space nearly used) on any SA of the active epoch: time to
 * rekey. *hard is set when one is already expired.
 */
bool sp_tun_rekey_wanted(unsigned int peer, bool *hard);

/** Key exchange's view of a peer, shown by `show peers` (strings are copied). */
void sp_tun_set_status(unsigned int peer, const char *state, const char *detail);

/** What `peer rekey|reset NAME` call; installed by lib/keyx. @return 0 or -errno, msg filled. */
struct sp_tun_hooks {
	int (*rekey)(unsigned int peer, char *msg, size_t len);
	int (*reset)(unsigned int peer, char *msg, size_t len);
};
void sp_tun_set_hooks(const struct sp_tun_hooks *h);

/* ---- data path (workers) ---- */

struct sp_tun_worker;

/** Per-worker tunnel state; created on the control core before the worker starts. */
struct sp_tun_worker *sp_tun_worker_create(unsigned int worker, struct sp_crypto_ctx *cc);
void sp_tun_worker_destroy(struct sp_tun_worker *tw);
/** The worker's ESP context (clock, table, last burst's verdicts). */
struct sp_esp_ctx *sp_tun_worker_esp(struct sp_tun_worker *tw);
/**
 * The outbound SA worker tw uses for peer now, or NULL (tunnel down). Valid until the
 * worker's next quiescent state.
 */
struct sp_esp_sa *sp_tun_out_sa(struct sp_tun_worker *tw, uint16_t peer);
/** The inbound SA for spi (host order), or NULL; lock-free, any worker. */
struct sp_esp_sa *sp_tun_in_sa(uint32_t spi);
/** The peer an inbound or outbound SA belongs to. */
uint16_t sp_tun_sa_peer(const struct sp_esp_sa *sa);
/** Once per poll: the worker's clock for lifetimes, and the current SPI table. */
void sp_tun_worker_poll(struct sp_tun_worker *tw);

#endif
