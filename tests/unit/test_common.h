/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_TEST_COMMON_H
#define SP_TEST_COMMON_H

#include <CUnit/Basic.h>

/**
 * Start the EAL for a unit test: no hugepages, no PCI, in memory, a unique file prefix, 512 MiB,
 * quiet logs. Idempotent. @return 0 or -1.
 */
int sp_test_eal_init(void);

/** Run the registry's suites verbosely; returns the process exit status (0 when all passed). */
int sp_test_run(void);

#endif
