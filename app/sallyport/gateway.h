/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_GATEWAY_H
#define SP_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "sp_conf.h"

/** Exit codes of the daemon (docs/operations.md). */
enum sp_exit {
	SP_EXIT_OK = 0,      /**< clean shutdown */
	SP_EXIT_RUNTIME = 1, /**< EAL, hugepages, ports, kernel interface, mbuf leak at exit */
	SP_EXIT_CONFIG = 2,  /**< invalid configuration or command line */
};

/**
 * Bring the gateway up from a validated configuration (which it keeps): pools, ports,
 * interfaces, routes, neighbours, exception port, workers, control loop and console.
 * @return 0, or -errno with a message in err (everything started is stopped again).
 */
int sp_gw_start(struct sp_conf *conf, bool console_on_stdin, char *err, size_t errlen);

/** Run the control loop until SIGINT/SIGTERM or "quit" on the stdin console. */
int sp_gw_run(void);

/** Stop everything. @return the number of mbufs that did not come back (0 when clean). */
unsigned int sp_gw_stop(void);

/**
 * Reload the configuration file: validate it whole, refuse restart-only changes, then apply
 * routes, neighbour timers, idle mode, ICMP limits and logging. All or nothing.
 * @return 0, or -errno with the reason in msg.
 */
int sp_gw_reload(char *msg, size_t size);

/** The running configuration. */
const struct sp_conf *sp_gw_conf(void);

/** Apply the log section (format and levels). */
void sp_gw_apply_log(const struct sp_conf_log *lc);

#endif
