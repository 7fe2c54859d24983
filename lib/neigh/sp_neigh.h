/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_NEIGH_H
#define SP_NEIGH_H

/**
 * @file
 * Neighbour table (ARP for IPv4, NDP for IPv6).
 *
 * The control core owns all state and all writes. Workers only look MAC addresses up, lock
 * free: the table is an rte_hash in lock-free read/write concurrency mode whose data word packs
 * "usable" and the MAC, so an update is one atomic store and deleted keys are reclaimed through
 * the RCU QSBR variable (sp_rcu_qsbr()).
 *
 * On a miss a worker hands the packet to the control core, which calls sp_neigh_resolve(): the
 * packet waits in a bounded per-entry queue while solicitations go out every retrans_ms; an
 * answer (sp_neigh_input()) releases the queue through ops->send, and after `probes` unanswered
 * solicitations the entry fails and its queue is dropped through ops->drop. A resolved entry is
 * re-confirmed with unicast probes every reachable_ms, and deleted when those go unanswered.
 * Its MAC stays usable while it is being probed (like Linux's STALE/PROBE).
 *
 * Time is passed in by the caller (milliseconds, monotonic) so tests drive aging exactly. The
 * console shows ages relative to the latest time any call was given.
 *
 * Entries are created by sp_neigh_resolve(), sp_neigh_input(create) and sp_neigh_add_static().
 * When max_entries are in use, the least recently confirmed REACHABLE or PROBE entry is evicted
 * to make room; when there is none (all INCOMPLETE or STATIC) the new entry is refused with
 * -ENOSPC.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "sp_addr.h"
#include "sp_conf.h"
#include "sp_stats.h"

/**
 * Hash key: an address on an interface. Zero the padding (use sp_neigh_key_set()).
 * A key is bad (-EINVAL) when its family is not AF_INET/AF_INET6, iface >= SP_MAX_IFACES,
 * pad or the unused bytes of an IPv4 key are not zero, or the address is unspecified,
 * multicast or (IPv4) limited broadcast.
 */
struct sp_neigh_key {
	uint8_t ip[16];   /**< IPv4 in ip[0..3], the rest zero */
	uint16_t iface;
	uint8_t family;
	uint8_t pad;
	uint32_t pad2;    /**< rte_hash's CRC reads keys 8 bytes at a time: 24 bytes, aligned */
} __rte_aligned(8);

static inline void
sp_neigh_key_set(struct sp_neigh_key *k, uint16_t iface, const struct sp_ip *ip)
{
	memset(k, 0, sizeof(*k));
	if (ip->family == AF_INET)
		memcpy(k->ip, &ip->v4, 4);
	else
		memcpy(k->ip, ip->v6, 16);
	k->iface = iface;
	k->family = ip->family;
}

enum sp_neigh_state {
	SP_NEIGH_INCOMPLETE = 0, /**< soliciting; packets wait */
	SP_NEIGH_REACHABLE,      /**< confirmed less than reachable_ms ago */
	SP_NEIGH_PROBE,          /**< unicast probes sent; MAC still used */
	SP_NEIGH_STATIC,         /**< configured; never ages */
};

/** Callbacks to the data path glue; all run on the control core. */
struct sp_neigh_ops {
	/**
	 * Send an ARP request / neighbour solicitation for target out of iface: broadcast
	 * (solicited-node multicast) when dst is NULL, else a unicast probe to dst.
	 * @return 0 or -errno (counted as a failed solicitation).
	 */
	int (*solicit)(void *arg, uint16_t iface, const struct sp_ip *target,
		       const struct rte_ether_addr *dst);
	/** Send a held packet to mac out of iface. Takes ownership of m. */
	void (*send)(void *arg, uint16_t iface, struct rte_mbuf *m,
		     const struct rte_ether_addr *mac);
	/** A held packet cannot be sent (reason NEIGH_FAILED). Takes ownership of m. */
	void (*drop)(void *arg, struct rte_mbuf *m, enum sp_drop reason);
};

struct sp_neigh_stats {
	uint64_t entries;      /**< current */
	uint64_t resolved;     /**< INCOMPLETE -> REACHABLE */
	uint64_t failed;       /**< INCOMPLETE entries that got no answer */
	uint64_t expired;      /**< resolved entries deleted after unanswered probes */
	uint64_t solicits;     /**< solicitations and probes sent */
	uint64_t solicit_errors;
	uint64_t held;         /**< packets queued */
	uint64_t hold_drops;   /**< packets refused because a queue was full */
	uint64_t table_full;   /**< resolutions refused because the table was full */
	uint64_t updates;      /**< MAC changes of existing entries */
	uint64_t evicted;      /**< resolved entries evicted to make room for new ones */
};

struct sp_neigh_info {
	struct sp_neigh_key key;
	struct sp_ip ip;
	struct rte_ether_addr mac;
	uint8_t state;         /**< enum sp_neigh_state */
	uint32_t age_ms;       /**< since last confirmation (or since created if INCOMPLETE) */
	uint32_t probes;       /**< solicitations sent in the current state */
	uint32_t queued;       /**< packets waiting */
};

struct sp_neigh;

#define SP_NEIGH_NAME_MAX 15
#define SP_NEIGH_MAX_ENTRIES (1u << 20)
#define SP_NEIGH_MAX_HOLD 4096

/**
 * Create a table. Needs sp_rcu_init() first. *ops is copied, arg is kept.
 * name: 1..SP_NEIGH_NAME_MAX characters, unique (it names DPDK rings and the hash).
 * conf: max_entries 1..SP_NEIGH_MAX_ENTRIES, reachable_ms, retrans_ms and probes > 0,
 * hold_packets <= SP_NEIGH_MAX_HOLD.
 * @return the table, or NULL (rte_errno set: EINVAL, ENOMEM, EEXIST).
 */
struct sp_neigh *sp_neigh_create(const char *name, const struct sp_conf_neigh *conf,
				 const struct sp_neigh_ops *ops, void *arg);
/** Free everything; held packets go to ops->drop. Workers must be stopped. */
void sp_neigh_destroy(struct sp_neigh *n);

/**
 * Apply new timers and queue length (reload). max_entries cannot change: -EINVAL; invalid
 * values as for sp_neigh_create(): -EINVAL. Queues longer than a reduced hold_packets keep
 * their packets but take no more.
 */
int sp_neigh_set_conf(struct sp_neigh *n, const struct sp_conf_neigh *conf);

/* ---- data path (any lcore) ---- */

/** @return 0 and *mac when the entry is usable, else -ENOENT. */
int sp_neigh_lookup(const struct sp_neigh *n, const struct sp_neigh_key *key,
		    struct rte_ether_addr *mac);

/**
 * Look up to 64 keys. Bit i of the returned mask is set when macs[i] was filled.
 */
uint64_t sp_neigh_lookup_bulk(const struct sp_neigh *n, const struct sp_neigh_key **keys,
			      unsigned int count, struct rte_ether_addr *macs);

/* ---- control core ---- */

/**
 * A worker could not resolve key for packet m. If the entry has become usable meanwhile m is
 * sent at once; else m is queued and solicitation starts (if it has not).
 * @return 0 (m taken), -ENOBUFS (queue full, m NOT taken), -ENOSPC (table full, m NOT taken),
 * -EINVAL (bad key, m NOT taken).
 */
int sp_neigh_resolve(struct sp_neigh *n, const struct sp_neigh_key *key, struct rte_mbuf *m,
		     uint64_t now_ms);

/**
 * An ARP reply/request or neighbour advertisement/solicitation told us key is at mac.
 * solicited: an answer to our request (ARP reply, NA with S flag) – confirms reachability.
 * create: make an entry when none exists (true for answers; for unsolicited messages only the
 * caller knows whether it wants one). Releases queued packets.
 * An INCOMPLETE entry becomes REACHABLE either way (its queue goes out through ops->send, in
 * arrival order). On a resolved entry a solicited answer confirms it (REACHABLE, age 0, MAC
 * updated); an unsolicited message with a different MAC updates it and starts unicast probes
 * to confirm the new one (PROBE); an unsolicited one with the same MAC changes nothing.
 * @return 0, -ENOENT (no entry and !create), -ENOSPC, -EPERM (entry is static), -EINVAL (bad
 * key, or mac not a unicast address).
 */
int sp_neigh_input(struct sp_neigh *n, const struct sp_neigh_key *key,
		   const struct rte_ether_addr *mac, bool solicited, bool create, uint64_t now_ms);

/**
 * Static entries (never age). An existing entry becomes static with this MAC; packets it held
 * while INCOMPLETE are sent. @return 0, -ENOSPC, -EINVAL (bad key or MAC).
 */
int sp_neigh_add_static(struct sp_neigh *n, const struct sp_neigh_key *key,
			const struct rte_ether_addr *mac);
/**
 * Delete any entry, static ones included. Held packets of an INCOMPLETE entry are dropped
 * (ops->drop, NEIGH_FAILED). @return 0, -ENOENT, -EINVAL (bad key).
 */
int sp_neigh_del(struct sp_neigh *n, const struct sp_neigh_key *key);

/** Retransmit, probe, fail and expire. Call every few hundred milliseconds. */
void sp_neigh_timer(struct sp_neigh *n, uint64_t now_ms);

/** Call cb for each entry (snapshot at call time). @return the number of entries visited. */
unsigned int sp_neigh_walk(const struct sp_neigh *n, uint64_t now_ms,
			   void (*cb)(const struct sp_neigh_info *info, void *arg), void *arg);

void sp_neigh_get_stats(const struct sp_neigh *n, struct sp_neigh_stats *out);

const char *sp_neigh_state_name(uint8_t state);

/** The table that "show neighbors", "neighbor add" and "neighbor del" act on (NULL: none). */
void sp_neigh_console_attach(struct sp_neigh *n);

#endif
