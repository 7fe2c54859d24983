/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer harness: arbitrary frames through the whole worker data path (and the control
 * core's neighbour handling) on ring ports. First byte: the port it arrives on (inside,
 * outside, exception) and whether time moves on; the rest: the frame. Whatever the gateway
 * sends is drained; nothing may crash, and every mbuf must come back.
 *
 * With a tunnel (dp_env.h: manual peer "p" at 10.2.0.9, 10.9.0.0/16 and fd09::/48 behind it,
 * a real AES-GCM engine): ESP and ESP-in-UDP to us reach decapsulation (the seeds esp-* are
 * the peer's valid packets, made by tests/fuzz/dp_tunnel_seeds.py), and what routes to the
 * peer's prefixes reaches encryption, fragmentation and the tunnel's ICMP (seeds tun-*). */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>

#include "dp_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dp_env env;

/* At exit: the SAs' crypto sessions are malloc'd but referenced only from DPDK memory, which
 * LeakSanitizer does not scan, so they would be reported as leaks unless freed. */
static void
stop(void)
{
	dp_env_teardown(&env);
}

static void
start(void)
{
	char prefix[64];
	char *argv[] = { "fuzz_dp", "--no-huge", "--no-pci", "-m", "256", "--no-telemetry",
			 "-l", "0", "--log-level", "*:error", prefix, NULL };

	snprintf(prefix, sizeof(prefix), "--file-prefix=fuzz_dp_%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0 ||
	    dp_env_setup_tunnel(&env, NULL) != 0)
		abort();
	atexit(stop);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int started;
	int port, i;

	if (!started) {
		start();
		started = 1;
	}
	if (size < 1 || size > 2048)
		return 0;
	port = data[0] % DP_ENV_PORTS;
	if (data[0] & 0x80)
		env.now_ms += 700; /* let neighbour timers run too */
	if (dp_env_inject(&env, port, data + 1, (uint32_t)(size - 1)) != 0)
		abort();
	dp_env_run(&env);
	for (i = 0; i < DP_ENV_PORTS; i++)
		dp_env_drain(&env, i);
	return 0;
}
