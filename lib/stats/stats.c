/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-lcore counters and their one aggregation loop. */

#include <errno.h>
#include <string.h>

#include "sp_stats.h"

const struct sp_stats_desc sp_drop_desc[SP_DROP__MAX] = {
#define SP_X(e, n, d) [SP_DROP_##e] = { n, d },
	SP_DROP_REASONS(SP_X)
#undef SP_X
};

const struct sp_stats_desc sp_ctr_desc[SP_CTR__MAX] = {
#define SP_X(e, n, d) [SP_CTR_##e] = { n, d },
	SP_COUNTERS(SP_X)
#undef SP_X
};

/* Written by their lcores; the baselines only by the control core. */
static struct sp_lcore_stats lcore_stats[RTE_MAX_LCORE];
static struct sp_lcore_stats baseline[RTE_MAX_LCORE];

struct sp_lcore_stats *
sp_stats_lcore(unsigned int lcore_id)
{
	if (lcore_id >= RTE_MAX_LCORE)
		lcore_id = RTE_MAX_LCORE - 1;
	return &lcore_stats[lcore_id];
}

/* The block is nothing but uint64_t fields: walk it as an array so that a field added to the
 * struct can never be left out of a sum. */
#define N_FIELDS (sizeof(struct sp_lcore_stats) / sizeof(uint64_t))

static void
sub_into(struct sp_lcore_stats *dst, const struct sp_lcore_stats *a, const struct sp_lcore_stats *b)
{
	const volatile uint64_t *pa = (const volatile uint64_t *)a;
	const uint64_t *pb = (const uint64_t *)b;
	uint64_t *pd = (uint64_t *)dst;
	size_t i;

	for (i = 0; i < N_FIELDS; i++)
		pd[i] = pa[i] - pb[i];
}

void
sp_stats_add(struct sp_lcore_stats *dst, const struct sp_lcore_stats *src)
{
	const uint64_t *ps = (const uint64_t *)src;
	uint64_t *pd = (uint64_t *)dst;
	size_t i;

	for (i = 0; i < N_FIELDS; i++)
		pd[i] += ps[i];
}

void
sp_stats_get_lcore(unsigned int lcore_id, struct sp_lcore_stats *out)
{
	if (lcore_id >= RTE_MAX_LCORE) {
		memset(out, 0, sizeof(*out));
		return;
	}
	sub_into(out, &lcore_stats[lcore_id], &baseline[lcore_id]);
}

void
sp_stats_sum(struct sp_lcore_stats *out)
{
	struct sp_lcore_stats one;
	unsigned int l;

	memset(out, 0, sizeof(*out));
	for (l = 0; l < RTE_MAX_LCORE; l++) {
		sp_stats_get_lcore(l, &one);
		sp_stats_add(out, &one);
	}
}

void
sp_stats_clear(void)
{
	unsigned int l;

	for (l = 0; l < RTE_MAX_LCORE; l++) {
		const volatile uint64_t *src = (const volatile uint64_t *)&lcore_stats[l];
		uint64_t *dst = (uint64_t *)&baseline[l];
		size_t i;

		for (i = 0; i < N_FIELDS; i++)
			dst[i] = src[i];
	}
}

int
sp_stats_drop_by_name(const char *name)
{
	int i;

	for (i = 0; i < SP_DROP__MAX; i++)
		if (strcmp(sp_drop_desc[i].name, name) == 0)
			return i;
	return -ENOENT;
}

int
sp_stats_ctr_by_name(const char *name)
{
	int i;

	for (i = 0; i < SP_CTR__MAX; i++)
		if (strcmp(sp_ctr_desc[i].name, name) == 0)
			return i;
	return -ENOENT;
}
