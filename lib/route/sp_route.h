/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_ROUTE_H
#define SP_ROUTE_H

/**
 * @file
 * L3 interfaces, next hops and longest-prefix-match tables (rte_fib for IPv4, rte_fib6 for
 * IPv6).
 *
 * Interfaces are fixed at start-up (a restart changes them). Routes change at run time: every
 * change builds a complete new table version (both FIBs and the next-hop array) aside, publishes
 * it with one release store, and hands the old version to sp_rcu_defer(). Workers load the
 * current version once per burst with sp_route_table() and never see a half-built table.
 *
 * The gateway's own addresses are routes too (type LOCAL, /32 and /128), and each interface
 * address installs a CONNECTED route for its subnet, so one lookup decides "for us, on-link,
 * via a gateway, or unreachable".
 *
 * Threads: sp_route_table() and the sp_rtab_*() lookups on any lcore; everything else on the
 * control core only.
 */

#include <stdbool.h>
#include <stdint.h>
#include <rte_ether.h>

#include "sp_addr.h"
#include "sp_conf.h"

#define SP_MAX_IFACES 64
#define SP_IFACE_NONE UINT16_MAX
#define SP_IFACE_NAME_MAX 48

/** An L3 interface: a port, or a VLAN on a port. */
struct sp_iface {
	uint16_t id;                 /**< index in the interface table */
	uint16_t port_id;            /**< DPDK port */
	uint16_t vlan;               /**< 0: untagged */
	uint16_t mtu;                /**< IP MTU */
	bool exception;              /**< the kernel exception port */
	struct rte_ether_addr mac;   /**< our MAC on it */
	struct rte_ether_addr peer_mac; /**< exception port: the kernel side's MAC */
	char name[SP_IFACE_NAME_MAX]; /**< "inside", "inside.100", "exception" */
	unsigned int n_addrs;
	struct sp_ip addrs[SP_CONF_MAX_ADDRS]; /**< address + subnet prefix length */
};

/**
 * Install the interface table (copied). Called once before sp_route_init().
 * ifaces[i].id must be i; port_id < SP_MAX_PORTS; vlan 0..4094; names unique and non-empty.
 * @return 0, -EINVAL (duplicate port/vlan or name, bad id, port, vlan or address, n == 0 or
 * > SP_MAX_IFACES), -EEXIST (already set).
 */
int sp_iface_set(const struct sp_iface *ifaces, unsigned int n);
unsigned int sp_iface_count(void);
/** NULL when id is out of range. */
const struct sp_iface *sp_iface_get(uint16_t id);
/** By name ("inside" or "inside.100"). */
const struct sp_iface *sp_iface_by_name(const char *name);
/** Receive side: interface of (port, vlan), or SP_IFACE_NONE. O(1), any lcore. */
uint16_t sp_iface_rx(uint16_t port_id, uint16_t vlan);
/** The interface's name, or "-" when id is not an interface (for displays). */
const char *sp_iface_name(uint16_t id);
/** The interface's first address of a family (the source of ICMP errors), or NULL. */
const struct sp_ip *sp_iface_addr(const struct sp_iface *ifc, uint8_t family);
/** Drop the table (after sp_route_fini); sp_iface_set() may be called again. */
void sp_iface_clear(void);

enum sp_nh_type {
	SP_NH_UNREACHABLE = 0, /**< next hop 0: no route */
	SP_NH_BLACKHOLE,
	SP_NH_LOCAL,           /**< one of the gateway's addresses */
	SP_NH_CONNECTED,       /**< on-link: the destination itself is the neighbour */
	SP_NH_GATEWAY,         /**< via gw on iface */
	SP_NH_TUNNEL,          /**< into the ESP tunnel to peer (lib/tunnel); no iface */
};

struct sp_nexthop {
	uint8_t type;          /**< enum sp_nh_type */
	uint8_t family;
	uint16_t iface;        /**< egress (LOCAL: the interface that owns the address) */
	uint16_t peer;         /**< SP_NH_TUNNEL only: lib/tunnel's peer index */
	struct sp_ip gw;       /**< SP_NH_GATEWAY only */
};

enum sp_route_origin {
	SP_RO_LOCAL = 0,   /**< from an interface address */
	SP_RO_CONNECTED,   /**< from an interface subnet */
	SP_RO_CONFIG,      /**< from the config file's routes */
	SP_RO_CONSOLE,     /**< added at run time */
	SP_RO_TUNNEL,      /**< a peer's prefix (lib/tunnel, through sp_route_replace only) */
};

/** A route as the control core knows it. */
struct sp_route {
	struct sp_ip prefix;   /**< host bits zero */
	uint8_t type;          /**< enum sp_nh_type (not UNREACHABLE) */
	uint8_t origin;        /**< enum sp_route_origin */
	uint16_t iface;        /**< SP_IFACE_NONE for BLACKHOLE; resolved for GATEWAY */
	uint16_t peer;         /**< TUNNEL only */
	struct sp_ip gw;       /**< GATEWAY only */
};

/** One published version. Opaque to readers except through the functions below. */
struct sp_rtab;

/**
 * The current version (acquire load), NULL before sp_route_init() and after sp_route_fini().
 * Valid until the caller's next quiescent state.
 */
const struct sp_rtab *sp_route_table(void);

/** IPv4 bulk lookup; ips in host byte order; nh[i] = next-hop id (0 = no route). */
void sp_rtab_lookup4(const struct sp_rtab *t, const uint32_t *ips, uint64_t *nh, unsigned int n);
/** IPv6 bulk lookup. */
void sp_rtab_lookup6(const struct sp_rtab *t, const uint8_t (*ips)[16], uint64_t *nh,
		     unsigned int n);
/** The next hop behind an id returned by a lookup (id 0 is the UNREACHABLE next hop). */
const struct sp_nexthop *sp_rtab_nh(const struct sp_rtab *t, uint64_t id);

/**
 * Create the tables and install LOCAL and CONNECTED routes for every interface address.
 * max_routes (1..2^20) bounds the CONFIG and CONSOLE routes together; the interface routes
 * come on top. The FIBs' tbl8 groups are sized from that capacity.
 * Changes cost about two 32 MiB table initialisations each (DIR24_8 and TRIE tbl24).
 * @return 0, -EINVAL (no interfaces, bad max_routes, two interfaces with the same address),
 * -EEXIST (already initialised), -ENOMEM.
 */
int sp_route_init(unsigned int max_routes);
void sp_route_fini(void);

/**
 * Add one route and publish. A GATEWAY route without iface is bound to the interface whose
 * connected subnet holds gw; with iface, gw must be on one of its subnets, or be an IPv6
 * link-local address. r->origin must be CONFIG or CONSOLE; r->type BLACKHOLE, CONNECTED (an
 * on-link "dev" route, iface required) or GATEWAY.
 * @return 0, -EEXIST (same prefix already routed, whatever its origin), -EINVAL (bad prefix,
 * host bits set, family mismatch, gw is one of our own addresses, bad type/origin/iface, not
 * initialised), -ENETUNREACH (gw on no connected subnet, or not on the given interface),
 * -ENOSPC (max_routes or next hops exhausted), -ENOMEM (tables could not be built; nothing
 * changed).
 */
int sp_route_add(const struct sp_route *r);

/**
 * Delete the route for exactly this prefix (address and length).
 * @return 0, -ENOENT, -EPERM (LOCAL/CONNECTED origin), -EINVAL (bad prefix, host bits set),
 * -ENOMEM (nothing changed).
 */
int sp_route_del(const struct sp_ip *prefix);

/**
 * Replace every route of one origin (CONFIG on reload, TUNNEL from lib/tunnel) with routes[], in one new version.
 * Each route's origin field is ignored (they all get `origin`). bad may be NULL.
 * All-or-nothing: on error nothing changed and *bad is the index of the offending route, or n
 * when no single route is at fault (-EINVAL for an origin other than CONFIG/CONSOLE/TUNNEL,
 * -ENOMEM). TUNNEL routes must have type TUNNEL and count against max_routes.
 * @return 0 or the errno of sp_route_add() for routes[*bad].
 */
int sp_route_replace(enum sp_route_origin origin, const struct sp_route *routes, unsigned int n,
		     unsigned int *bad);

/**
 * Turn a configured route into a sp_route (interface name resolved; origin CONFIG).
 * @return 0, or -ENOENT when the interface name is unknown.
 */
int sp_route_from_conf(const struct sp_conf_route *cr, struct sp_route *out);

/**
 * Copy up to max routes, sorted by family (IPv4 first), then address, then prefix length.
 * out may be NULL when max is 0. @return the total number.
 */
unsigned int sp_route_list(struct sp_route *out, unsigned int max);

/** Table versions published so far (each add/del/replace makes one). */
uint64_t sp_route_generation(void);

const char *sp_route_origin_name(uint8_t origin);
const char *sp_nh_type_name(uint8_t type);
/** Name of a tunnel peer for displays (lib/tunnel installs it; default "peer<N>"). */
void sp_route_set_peer_name_fn(const char *(*fn)(uint16_t peer));
const char *sp_route_peer_name(uint16_t peer);

#endif
