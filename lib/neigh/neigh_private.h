/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_NEIGH_PRIVATE_H
#define SP_NEIGH_PRIVATE_H

/* Inside lib/neigh only. */

#include "sp_log.h"
#include "sp_neigh.h"

SP_LOG_TYPE_DECLARE(neigh);

/* The latest now_ms any call gave the table (the console's clock for ages). */
uint64_t sp_neigh_last_now(const struct sp_neigh *n);

/* Called by sp_neigh_destroy(): the console must stop using n. */
void sp_neigh_console_forget(const struct sp_neigh *n);

#endif
