/* SPDX-License-Identifier: BSD-3-Clause */
/* QSBR variable for the workers and the control core's list of objects waiting to be freed. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "sp_log.h"
#include "sp_rcu.h"

SP_LOG_TYPE(rcu);

struct deferred {
	void *p;
	void (*fn)(void *);
	uint64_t token;
};

static struct rte_rcu_qsbr *qsbr;
static struct deferred *pending;
static unsigned int n_pending, cap_pending;

int
sp_rcu_init(unsigned int max_threads)
{
	size_t sz;

	if (qsbr != NULL)
		return -EEXIST;
	if (max_threads == 0)
		max_threads = 1;
	sz = rte_rcu_qsbr_get_memsize(max_threads);
	qsbr = rte_zmalloc("sp_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (qsbr == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(qsbr, max_threads) != 0) {
		rte_free(qsbr);
		qsbr = NULL;
		return -EINVAL;
	}
	return 0;
}

struct rte_rcu_qsbr *
sp_rcu_qsbr(void)
{
	return qsbr;
}

int
sp_rcu_online(unsigned int thread_id)
{
	if (qsbr == NULL || rte_rcu_qsbr_thread_register(qsbr, thread_id) != 0)
		return -EINVAL;
	rte_rcu_qsbr_thread_online(qsbr, thread_id);
	return 0;
}

void
sp_rcu_offline(unsigned int thread_id)
{
	if (qsbr == NULL)
		return;
	rte_rcu_qsbr_thread_offline(qsbr, thread_id);
	rte_rcu_qsbr_thread_unregister(qsbr, thread_id);
}

int
sp_rcu_defer(void *p, void (*fn)(void *))
{
	if (p == NULL)
		return 0;
	if (qsbr == NULL) {
		fn(p);
		return 0;
	}
	if (n_pending == cap_pending) {
		unsigned int cap = cap_pending ? cap_pending * 2 : 16;
		struct deferred *d = realloc(pending, cap * sizeof(*d));

		if (d == NULL) {
			/* Out of memory: wait for the readers here rather than leak or free early. */
			rte_rcu_qsbr_synchronize(qsbr, RTE_QSBR_THRID_INVALID);
			fn(p);
			SP_LOG(rcu, WARNING, "deferred free done synchronously (out of memory)");
			return -ENOMEM;
		}
		pending = d;
		cap_pending = cap;
	}
	pending[n_pending].p = p;
	pending[n_pending].fn = fn;
	pending[n_pending].token = rte_rcu_qsbr_start(qsbr);
	n_pending++;
	return 0;
}

unsigned int
sp_rcu_reclaim(void)
{
	unsigned int i = 0, freed = 0;

	/* Tokens grow with the queue order, so the first one not yet passed stops the scan. */
	while (i < n_pending && rte_rcu_qsbr_check(qsbr, pending[i].token, false) == 1) {
		pending[i].fn(pending[i].p);
		i++;
		freed++;
	}
	if (freed > 0) {
		n_pending -= freed;
		memmove(pending, pending + freed, n_pending * sizeof(*pending));
	}
	return freed;
}

unsigned int
sp_rcu_pending(void)
{
	return n_pending;
}

void
sp_rcu_fini(void)
{
	unsigned int i;

	if (qsbr == NULL)
		return;
	rte_rcu_qsbr_synchronize(qsbr, RTE_QSBR_THRID_INVALID);
	for (i = 0; i < n_pending; i++)
		pending[i].fn(pending[i].p);
	free(pending);
	pending = NULL;
	n_pending = cap_pending = 0;
	rte_free(qsbr);
	qsbr = NULL;
}
