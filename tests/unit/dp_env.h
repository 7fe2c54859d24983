/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_TEST_DP_ENV_H
#define SP_TEST_DP_ENV_H

/*
 * A gateway's data path in one process, on net_ring ports whose rings the caller fills and
 * drains, driven one poll at a time (tests/unit/test_dp.c, tests/fuzz/fuzz_dp.c):
 *
 *   host 10.1.0.2 / fd01::2 --- [A: 10.1.0.1/24 fd01::1/64, vlan 100: 10.100.0.1/24]
 *                               [B: 10.2.0.1/24 fd02::1/64, MTU 1400] --- 10.2.0.2
 *                               [exception] --- kernel (peer MAC 02:53:50:00:00:00)
 *
 * The EAL must be running. The calling thread becomes worker 0.
 *
 * dp_env_setup_tunnel() adds lib/tunnel (tests/unit/test_dp_tunnel.c, tests/fuzz/fuzz_dp.c):
 * a crypto engine (ipsec_mb, else openssl), the configuration's tunnels section, and
 * manual peer "p" at 10.2.0.9 with 10.9.0.0/16 and fd09::/48 behind it: it sends to us on SPI
 * DP_ENV_P_SPI_IN with DP_ENV_P_KEY_IN, we send on DP_ENV_P_SPI_OUT with DP_ENV_P_KEY_OUT
 * (AES-GCM-128 key + salt, hex), ESN on. 10.2.0.9 and fd02::9 are static neighbours on B with
 * MAC dp_env_peer_mac. The engine has one context more than the workers for the test's own
 * use (id n_workers). With two
 * workers, worker 1 has its state, crypto context and hand-off ring but is never polled (its
 * ports' queue 1 does not exist): tests call into it directly.
 */

#include <stdint.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_private.h"
#include "sp_conf.h"
#include "sp_crypto.h"
#include "sp_tunnel.h"

enum { DP_ENV_A, DP_ENV_B, DP_ENV_X, DP_ENV_PORTS };

#define DP_ENV_MAX_WORKERS 2
#define DP_ENV_P_SPI_IN 0x1001
#define DP_ENV_P_SPI_OUT 0x2001
#define DP_ENV_P_KEY_IN "00112233445566778899aabbccddeeff0a0b0c0d"
#define DP_ENV_P_KEY_OUT "f0e0d0c0b0a090807060504030201000a1b2c3d4"

struct dp_env {
	struct rte_ring *rx[DP_ENV_PORTS], *tx[DP_ENV_PORTS];
	uint16_t port[DP_ENV_PORTS];
	struct sp_neigh *neigh;
	struct sp_worker *w;
	uint64_t now_ms;
	struct rte_ether_addr mac_a, mac_b;
	/* dp_env_setup_tunnel() only */
	unsigned int n_workers;
	struct sp_conf *conf;          /**< the configuration the tunnels came from */
	struct sp_crypto_engine *engine; /**< contexts 0..n_workers-1 are the workers' */
	struct sp_crypto_ctx *cctx[DP_ENV_MAX_WORKERS];
	struct sp_tun_worker *tw[DP_ENV_MAX_WORKERS];
};

/** What dp_env_setup_tunnel() adds to peer "p". */
struct dp_env_tun {
	unsigned int n_workers;  /**< 1 (0 counts as 1) or DP_ENV_MAX_WORKERS */
	const char *options;     /**< tunnels settings before the peers ("esn = false;"), or NULL */
	const char *peers;       /**< more peer groups after "p"'s (libconfig text), or NULL */
};

extern const struct rte_ether_addr dp_env_exc_mac, dp_env_kernel_mac, dp_env_peer_mac;

/** Build everything. @return 0 or -1 (a message on stderr). */
int dp_env_setup(struct dp_env *e);
/** The same with tunnels (t may be NULL: peer "p" only, one worker). @return 0 or -1. */
int dp_env_setup_tunnel(struct dp_env *e, const struct dp_env_tun *t);
/** Queue a frame for reception on a port. @return 0, or -1 when no mbuf or ring room. */
int dp_env_inject(struct dp_env *e, int port, const uint8_t *p, uint32_t len);
/** One worker poll, the control core's work, one more poll to send what it queued. */
void dp_env_run(struct dp_env *e);
/** The next frame transmitted on a port, or NULL. Caller frees. */
struct rte_mbuf *dp_env_sent(struct dp_env *e, int port);
/** Free everything transmitted on a port. @return how many frames there were. */
unsigned int dp_env_drain(struct dp_env *e, int port);
/** Stop and free everything; return the mbufs still out of the pool (0 when clean). */
unsigned int dp_env_teardown(struct dp_env *e);

#endif
