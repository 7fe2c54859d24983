/* SPDX-License-Identifier: BSD-3-Clause */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "test_common.h"

static int eal_started;
static char runtime_dir[128];

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
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	eal_started = 1;
	done = 1;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
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
	/* Without --in-memory (which --no-huge refuses) the EAL leaves its runtime directory. */
	if (eal_started) {
		rte_eal_cleanup();
		if (runtime_dir[0] != '\0')
			nftw(runtime_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
	return failed ? 1 : 0;
}
