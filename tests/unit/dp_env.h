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
 */

#include <stdint.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_private.h"

enum { DP_ENV_A, DP_ENV_B, DP_ENV_X, DP_ENV_PORTS };

struct dp_env {
	struct rte_ring *rx[DP_ENV_PORTS], *tx[DP_ENV_PORTS];
	uint16_t port[DP_ENV_PORTS];
	struct sp_neigh *neigh;
	struct sp_worker *w;
	uint64_t now_ms;
	struct rte_ether_addr mac_a, mac_b;
};

extern const struct rte_ether_addr dp_env_exc_mac, dp_env_kernel_mac;

/** Build everything. @return 0 or -1 (a message on stderr). */
int dp_env_setup(struct dp_env *e);
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
