/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/stats: schema consistency, aggregation over lcores, clear by baseline. */

#include <string.h>

#include "sp_stats.h"
#include "test_common.h"

static void
test_schema(void)
{
	int i, j;

	/* Every reason and counter has a unique, non-empty name and a description. */
	for (i = 0; i < SP_DROP__MAX; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(sp_drop_desc[i].name);
		CU_ASSERT(strlen(sp_drop_desc[i].help) > 10);
		CU_ASSERT_EQUAL(sp_stats_drop_by_name(sp_drop_desc[i].name), i);
		for (j = 0; j < i; j++)
			CU_ASSERT(strcmp(sp_drop_desc[i].name, sp_drop_desc[j].name) != 0);
	}
	for (i = 0; i < SP_CTR__MAX; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(sp_ctr_desc[i].name);
		CU_ASSERT(strlen(sp_ctr_desc[i].help) > 10);
		CU_ASSERT_EQUAL(sp_stats_ctr_by_name(sp_ctr_desc[i].name), i);
	}
	CU_ASSERT_EQUAL(sp_stats_drop_by_name("no-such-reason"), -ENOENT);
	CU_ASSERT_EQUAL(sp_stats_ctr_by_name(""), -ENOENT);
	CU_ASSERT_STRING_EQUAL(sp_drop_desc[SP_DROP_TTL_EXPIRED].name, "ttl-expired");
}

static void
test_sum(void)
{
	struct sp_lcore_stats sum;
	unsigned int l;

	sp_stats_clear();
	/* Distinct values per lcore and field, so that a field summed with '=' instead of '+='
	 * or skipped altogether shows. */
	for (l = 0; l < 4; l++) {
		struct sp_lcore_stats *s = sp_stats_lcore(l);
		unsigned int p;

		s->drop[SP_DROP_NO_ROUTE] += 1 + l;
		s->drop[SP_DROP__MAX - 1] += 10 * (l + 1);
		s->ctr[SP_CTR_RX_PKTS] += 100 + l;
		s->ctr[SP_CTR__MAX - 1] += 7;
		for (p = 0; p < SP_MAX_PORTS; p++) {
			s->port[p].rx_pkts += p + 1;
			s->port[p].tx_bytes += 1000;
			s->port[p].drops += l;
		}
	}
	sp_stats_lcore(RTE_MAX_LCORE - 1)->ctr[SP_CTR_TX_PKTS] += 5;
	sp_stats_sum(&sum);
	CU_ASSERT_EQUAL(sum.drop[SP_DROP_NO_ROUTE], 1 + 2 + 3 + 4);
	CU_ASSERT_EQUAL(sum.drop[SP_DROP__MAX - 1], 10 + 20 + 30 + 40);
	CU_ASSERT_EQUAL(sum.ctr[SP_CTR_RX_PKTS], 406);
	CU_ASSERT_EQUAL(sum.ctr[SP_CTR__MAX - 1], 28);
	CU_ASSERT_EQUAL(sum.ctr[SP_CTR_TX_PKTS], 5);
	CU_ASSERT_EQUAL(sum.port[0].rx_pkts, 4);
	CU_ASSERT_EQUAL(sum.port[SP_MAX_PORTS - 1].rx_pkts, 4 * SP_MAX_PORTS);
	CU_ASSERT_EQUAL(sum.port[SP_MAX_PORTS - 1].tx_bytes, 4000);
	CU_ASSERT_EQUAL(sum.port[3].drops, 0 + 1 + 2 + 3);
}

static void
test_clear(void)
{
	struct sp_lcore_stats sum, one;

	sp_stats_lcore(2)->ctr[SP_CTR_FORWARDED] += 50;
	sp_stats_clear();
	sp_stats_sum(&sum);
	CU_ASSERT_EQUAL(sum.ctr[SP_CTR_FORWARDED], 0);
	CU_ASSERT_EQUAL(sum.drop[SP_DROP_NO_ROUTE], 0);
	/* Writers keep counting from where they were; readers see only what came after. */
	sp_stats_lcore(2)->ctr[SP_CTR_FORWARDED] += 3;
	sp_stats_lcore(1)->drop[SP_DROP_MTU]++;
	sp_stats_sum(&sum);
	CU_ASSERT_EQUAL(sum.ctr[SP_CTR_FORWARDED], 3);
	CU_ASSERT_EQUAL(sum.drop[SP_DROP_MTU], 1);
	sp_stats_get_lcore(2, &one);
	CU_ASSERT_EQUAL(one.ctr[SP_CTR_FORWARDED], 3);
	CU_ASSERT_EQUAL(sp_stats_lcore(2)->ctr[SP_CTR_FORWARDED], 53);
	sp_stats_get_lcore(RTE_MAX_LCORE + 5, &one);
	CU_ASSERT_EQUAL(one.ctr[SP_CTR_FORWARDED], 0);
}

static void
test_add(void)
{
	struct sp_lcore_stats a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.port[7].tx_pkts = 1;
	b.port[7].tx_pkts = 2;
	b.drop[0] = 9;
	sp_stats_add(&a, &b);
	sp_stats_add(&a, &b);
	CU_ASSERT_EQUAL(a.port[7].tx_pkts, 5);
	CU_ASSERT_EQUAL(a.drop[0], 18);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("stats", NULL, NULL);
	CU_add_test(s, "schema names", test_schema);
	CU_add_test(s, "sum over lcores", test_sum);
	CU_add_test(s, "clear keeps writers untouched", test_clear);
	CU_add_test(s, "add", test_add);
	return sp_test_run();
}
