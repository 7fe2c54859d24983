/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_ROUTE_PRIVATE_H
#define SP_ROUTE_PRIVATE_H

/* Inside lib/route and its unit test only; never included from app/ or other libraries. */

#include "sp_log.h"
#include "sp_route.h"

SP_LOG_TYPE_DECLARE(route);

/* True when addr is one of the interfaces' own addresses (plen ignored). */
bool sp_iface_is_local(const struct sp_ip *addr);

/*
 * Allocation-failure injection for tests: the nth allocation made while building the next
 * table versions fails (1 = the very next one; 0 = off). Each build makes three: the version
 * with its next-hop array, the IPv4 FIB, the IPv6 FIB.
 */
void sp_route_test_fail_alloc(unsigned int nth);

/* Table versions allocated and not yet destroyed (the current one plus those waiting in RCU). */
unsigned int sp_route_test_live_versions(void);

#endif
