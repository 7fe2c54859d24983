/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "test_common.h"

int
sp_test_eal_init(void)
{
	static int done;
	char prefix[64];
	char *argv[] = { "sp_unit", "--no-huge", "--no-pci", "-m", "512",
			 "--no-telemetry", "-l", "0", "--log-level", "*:warning", prefix, NULL };

	if (done)
		return 0;
	snprintf(prefix, sizeof(prefix), "--file-prefix=sp_unit_%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -1;
	done = 1;
	return 0;
}

int
sp_test_run(void)
{
	unsigned int failed;

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_error() != CUE_SUCCESS)
		failed++;
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
