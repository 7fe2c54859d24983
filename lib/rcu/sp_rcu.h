/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_RCU_H
#define SP_RCU_H

/**
 * @file
 * Tables that workers read are built aside by the control core, published by pointer with a
 * release store, and the old version is freed only after every worker has reported a quiescent
 * state since (QSBR). Workers call sp_rcu_quiescent() once per poll loop and never block.
 * The control core never blocks either: sp_rcu_defer() queues the old version with a token and
 * sp_rcu_reclaim(), run from the event loop, frees what every worker has passed.
 */

#include <stdint.h>
#include <rte_rcu_qsbr.h>

/** Create the QSBR variable for up to max_threads workers. @return 0, -EEXIST, -ENOMEM. */
int sp_rcu_init(unsigned int max_threads);

/** The QSBR variable (NULL before sp_rcu_init). */
struct rte_rcu_qsbr *sp_rcu_qsbr(void);

/** Worker side: register thread id and go online. Call on the worker lcore. @return 0 or -EINVAL. */
int sp_rcu_online(unsigned int thread_id);
/** Worker side: go offline (before sleeping for long or exiting). */
void sp_rcu_offline(unsigned int thread_id);

/** Worker side: report a quiescent state; no table pointer read before this is used after. */
static inline void
sp_rcu_quiescent(struct rte_rcu_qsbr *v, unsigned int thread_id)
{
	rte_rcu_qsbr_quiescent(v, thread_id);
}

/**
 * Control core: free p with fn(p) once every online worker has been quiescent. Ownership of p
 * passes to the RCU layer in every case (on -ENOMEM it waits for readers and frees at once).
 * @return 0, or -ENOMEM when it had to wait synchronously.
 */
int sp_rcu_defer(void *p, void (*fn)(void *));

/** Control core: free what is safe to free. @return how many objects were freed. */
unsigned int sp_rcu_reclaim(void);

/** Number of objects still waiting. */
unsigned int sp_rcu_pending(void);

/** Wait for all workers, free everything pending, destroy the variable. */
void sp_rcu_fini(void);

#endif
