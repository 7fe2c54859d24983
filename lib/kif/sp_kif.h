/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_KIF_H
#define SP_KIF_H

/**
 * @file
 * The kernel side of the exception port.
 *
 * The exception port is a net_tap device: DPDK owns one end, the kernel sees an interface
 * ("sp0") that carries the gateway's own addresses, so ordinary sockets (sshd, the TLS key
 * exchange, test listeners) can be bound to them. This library configures that interface over
 * rtnetlink only (no `ip` command): optionally moves it into a named network namespace, sets
 * its MAC and MTU, quiets IPv6 autoconfiguration on it, adds the addresses as /32 and /128, and
 * sends the kernel's replies back through it with source-address policy rules:
 *
 *     for each address A:  from A lookup <table> priority <rule_priority>
 *     in <table>:          default dev <ifname>   (IPv4 and IPv6, each family that has an address)
 *
 * so the host's own routing (main table) is left alone when the interface stays in the root
 * namespace. The data path answers ARP and NDP on the exception port for any target with the
 * DPDK side's MAC, so a device route is all the kernel needs.
 *
 * Both calls block on netlink and sysctl I/O: call them from the control thread, never from a
 * worker. When a namespace is named, the calling thread (only it) enters the namespace for the
 * duration of the call and is returned to its original one before the call returns.
 *
 * net_tap's own ioctls (link up, MTU, flags) act by name in the namespace the PMD was created
 * in: start the DPDK port before moving its kernel side with sp_kif_setup().
 */

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include <rte_ether.h>

#include "sp_addr.h"

/** Addresses the kernel side can carry. */
#define SP_KIF_MAX_ADDRS 64

/** What the kernel side of the exception port should look like. */
struct sp_kif_conf {
	char ifname[IFNAMSIZ];  /**< the tap's kernel name; it exists in the current netns, or
				  *  already in netns (a second call) */
	char netns[64];         /**< "" = stay in the current netns; else move the interface into
				  *  /run/netns/<netns>, which must exist (as `ip netns add` makes) */
	struct rte_ether_addr mac; /**< MAC of the kernel side (the DPDK side has another one) */
	uint16_t mtu;           /**< MTU of the kernel side; 0 leaves it unchanged */
	unsigned int n_addrs;   /**< number of addrs[] used, at most SP_KIF_MAX_ADDRS */
	struct sp_ip addrs[SP_KIF_MAX_ADDRS]; /**< the gateway's addresses; plen is ignored, each
						is installed as /32 or /128 */
	uint32_t table;         /**< routing table for the replies: not 0 nor 253..255 (default,
				  *  main, local) */
	uint32_t rule_priority; /**< priority of the "from A" rules: not 0; below 32766 (the main
				  *  table's rule) for the rules to win over the host's routes */
};

/**
 * Configure the kernel side of the exception port.
 *
 * In order: check the configuration; open the namespace (if any) and move the interface into
 * it (unless it is there already); then inside it: set the MAC and the MTU; write the sysctls
 * ipv6 accept_dad=0, dad_transmits=0, accept_ra=0, router_solicitations=0 and ipv4 rp_filter=0
 * for the interface; set it up; remove IPv4 and global IPv6 addresses that are not wanted and
 * add the wanted ones (IPv6 without DAD and without a prefix route); remove rules with our
 * priority and table that are not exactly one of ours and add the missing ones; add (replace)
 * the default device routes in the table, and remove ours for a family with no address.
 *
 * Idempotent: a second call with the same configuration leaves the same state, and a call with
 * a changed address list converges to it. The link-local IPv6 address the kernel makes is kept.
 * It is not transactional: on failure, the steps done before the failing one stay done.
 *
 * @param c      configuration (not kept)
 * @param err    filled with one line naming the interface, the failed step and the reason
 *               (the kernel's extended ack message when it gave one); may be NULL
 * @param errlen size of err
 * @return 0 on success, or a negative errno:
 *   -EINVAL  bad configuration (empty or unterminated name, too many addresses, unknown
 *            family, table or priority refused), or refused by the kernel;
 *   -ENOENT  the namespace does not exist (message: `netns "<name>": cannot open
 *            /run/netns/<name>: No such file or directory`);
 *   -ENODEV  the interface exists neither in the current namespace nor in the named one;
 *   -EPERM   not privileged (CAP_NET_ADMIN, CAP_SYS_ADMIN for a namespace);
 *   or another errno from netlink, setns() or a sysctl write.
 */
int sp_kif_setup(const struct sp_kif_conf *c, char *err, size_t errlen);

/**
 * Remove the rules sp_kif_setup() added: every rule with c->rule_priority and c->table, in the
 * namespace named by c->netns (or the current one). Routes and addresses go with the interface
 * when DPDK closes the tap. A namespace that no longer exists has no rules left: that is
 * success. Failures are logged.
 *
 * @return 0, or a negative errno (netlink, setns()).
 */
int sp_kif_teardown(const struct sp_kif_conf *c);

#endif
