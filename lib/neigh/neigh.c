/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour table. Readers (workers) see only an rte_hash in lock-free mode whose data word is
 * the packed MAC; everything else lives in a control-core array indexed by the key's position
 * in the hash. rte_hash_add_key() returns that position; later MAC changes rewrite the data
 * word in place with rte_hash_add_key_data(), one release store. A deleted key's slot goes
 * through the RCU defer queue, so a position is reused (and our array slot with it) only after
 * every worker has passed a quiescent state.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "neigh_private.h"
#include "sp_rcu.h"
#include "sp_route.h"

SP_LOG_TYPE(neigh);

/* Data word: bit 63 = usable, bits 0..47 = MAC. 0 (a key just added) reads as unusable. */
#define NB_USABLE (UINT64_C(1) << 63)

struct nent {
	struct sp_neigh_key key;
	bool used;
	uint8_t state;
	struct rte_ether_addr mac;
	uint64_t created_ms;
	uint64_t confirmed_ms;  /* last confirmation (REACHABLE/PROBE), time added (STATIC) */
	uint64_t next_ms;       /* next retransmission or probe (INCOMPLETE/PROBE) */
	uint32_t probes;        /* solicitations sent in the current state */
	uint32_t q_len;
	uint32_t q_cap;
	struct rte_mbuf **q;    /* held packets, oldest first */
};

struct sp_neigh {
	struct rte_hash *h;     /* the only field workers read */
	struct sp_conf_neigh conf;
	struct sp_neigh_ops ops;
	void *arg;
	struct nent *e;         /* by hash position */
	uint32_t n_pos;
	uint32_t count;
	uint64_t last_now;
	struct sp_neigh_stats st;
};

static const char *const state_names[] = {
	[SP_NEIGH_INCOMPLETE] = "incomplete", [SP_NEIGH_REACHABLE] = "reachable",
	[SP_NEIGH_PROBE] = "probe", [SP_NEIGH_STATIC] = "static",
};

const char *
sp_neigh_state_name(uint8_t state)
{
	return state < RTE_DIM(state_names) ? state_names[state] : "?";
}

static inline uint64_t
mac_pack(const struct rte_ether_addr *mac)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v |= (uint64_t)mac->addr_bytes[i] << (8 * i);
	return v | NB_USABLE;
}

static inline void
mac_unpack(uint64_t v, struct rte_ether_addr *mac)
{
	unsigned int i;

	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		mac->addr_bytes[i] = (uint8_t)(v >> (8 * i));
}

/* ---- data path ---- */

int
sp_neigh_lookup(const struct sp_neigh *n, const struct sp_neigh_key *key,
		struct rte_ether_addr *mac)
{
	void *d;
	uint64_t v;

	if (rte_hash_lookup_data(n->h, key, &d) < 0)
		return -ENOENT;
	v = (uint64_t)(uintptr_t)d;
	if (!(v & NB_USABLE))
		return -ENOENT;
	mac_unpack(v, mac);
	return 0;
}

uint64_t
sp_neigh_lookup_bulk(const struct sp_neigh *n, const struct sp_neigh_key **keys,
		     unsigned int count, struct rte_ether_addr *macs)
{
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t hits = 0, usable = 0;
	unsigned int i;

	if (count == 0)
		return 0;
	if (count > RTE_HASH_LOOKUP_BULK_MAX)
		count = RTE_HASH_LOOKUP_BULK_MAX;
	if (rte_hash_lookup_bulk_data(n->h, (const void **)keys, count, &hits, data) <= 0)
		return 0;
	while (hits != 0) {
		uint64_t v;

		i = (unsigned int)__builtin_ctzll(hits);
		hits &= hits - 1;
		v = (uint64_t)(uintptr_t)data[i];
		if (v & NB_USABLE) {
			mac_unpack(v, &macs[i]);
			usable |= UINT64_C(1) << i;
		}
	}
	return usable;
}

/* ---- control core: helpers ---- */

static void
touch(struct sp_neigh *n, uint64_t now)
{
	if (now > n->last_now)
		n->last_now = now;
}

uint64_t
sp_neigh_last_now(const struct sp_neigh *n)
{
	return n->last_now;
}

static bool
key_valid(const struct sp_neigh_key *k)
{
	static const uint8_t zero[16];

	if (k == NULL || k->pad != 0 || k->pad2 != 0 || k->iface >= SP_MAX_IFACES)
		return false;
	if (k->family == AF_INET) {
		if (memcmp(k->ip + 4, zero, 12) != 0 || memcmp(k->ip, zero, 4) == 0)
			return false;
		/* multicast 224/4 and the limited broadcast */
		if ((k->ip[0] & 0xf0) == 0xe0)
			return false;
		return !(k->ip[0] == 255 && k->ip[1] == 255 && k->ip[2] == 255 && k->ip[3] == 255);
	}
	if (k->family == AF_INET6)
		return memcmp(k->ip, zero, 16) != 0 && k->ip[0] != 0xff;
	return false;
}

static void
key_ip(const struct sp_neigh_key *k, struct sp_ip *ip)
{
	if (k->family == AF_INET) {
		uint32_t be;

		memcpy(&be, k->ip, 4);
		sp_ip_from_v4(ip, be);
	} else {
		sp_ip_from_v6(ip, k->ip);
	}
}

static int
conf_check(const struct sp_conf_neigh *c)
{
	if (c == NULL || c->max_entries == 0 || c->max_entries > SP_NEIGH_MAX_ENTRIES ||
	    c->reachable_ms == 0 || c->retrans_ms == 0 || c->probes == 0 ||
	    c->hold_packets > SP_NEIGH_MAX_HOLD)
		return -EINVAL;
	return 0;
}

/* Make the entry's MAC (or its absence) visible to the workers: one store in the hash. */
static void
publish(struct sp_neigh *n, struct nent *e)
{
	uint64_t v = e->state == SP_NEIGH_INCOMPLETE ? 0 : mac_pack(&e->mac);

	rte_hash_add_key_data(n->h, &e->key, (void *)(uintptr_t)v);
}

static void
solicit(struct sp_neigh *n, struct nent *e, bool unicast, uint64_t now)
{
	struct sp_ip ip;
	int ret;

	key_ip(&e->key, &ip);
	ret = n->ops.solicit(n->arg, e->key.iface, &ip, unicast ? &e->mac : NULL);
	if (ret < 0)
		n->st.solicit_errors++;
	else
		n->st.solicits++;
	/* A failed send counts as an attempt, so an entry cannot retry forever. */
	e->probes++;
	e->next_ms = now + n->conf.retrans_ms;
}

/* Take the held packets off the entry, then hand each one out: callbacks see a clean entry. */
static void
flush_queue(struct sp_neigh *n, struct nent *e, bool send)
{
	struct rte_mbuf **q = e->q;
	uint32_t i, len = e->q_len;
	struct rte_ether_addr mac = e->mac;
	uint16_t iface = e->key.iface;

	e->q = NULL;
	e->q_len = e->q_cap = 0;
	for (i = 0; i < len; i++) {
		if (send)
			n->ops.send(n->arg, iface, q[i], &mac);
		else
			n->ops.drop(n->arg, q[i], SP_DROP_NEIGH_FAILED);
	}
	free(q);
}

static void
delete_entry(struct sp_neigh *n, uint32_t pos)
{
	struct nent *e = &n->e[pos];
	struct sp_neigh_key key = e->key;

	flush_queue(n, e, false);
	memset(e, 0, sizeof(*e));
	n->count--;
	/* The slot reaches the free list through the RCU defer queue. */
	if (rte_hash_del_key(n->h, &key) < 0)
		SP_LOG(neigh, ERR, "entry at %u missing from the hash", pos);
}

/* The least recently confirmed resolved entry goes. @return true when one did. */
static bool
evict_one(struct sp_neigh *n)
{
	uint32_t pos, victim = UINT32_MAX;
	uint64_t oldest = UINT64_MAX;

	for (pos = 0; pos < n->n_pos; pos++) {
		const struct nent *e = &n->e[pos];

		if (!e->used || (e->state != SP_NEIGH_REACHABLE && e->state != SP_NEIGH_PROBE))
			continue;
		if (e->confirmed_ms < oldest) {
			oldest = e->confirmed_ms;
			victim = pos;
		}
	}
	if (victim == UINT32_MAX)
		return false;
	delete_entry(n, victim);
	n->st.evicted++;
	return true;
}

/* A new, unusable entry. @return its position, or -ENOSPC. */
static int
new_entry(struct sp_neigh *n, const struct sp_neigh_key *key, uint64_t now)
{
	struct nent *e;
	int32_t pos;

	if (n->count >= n->conf.max_entries && !evict_one(n))
		return -ENOSPC;
	pos = rte_hash_add_key(n->h, key);
	if (pos < 0 || (uint32_t)pos >= n->n_pos)
		return -ENOSPC;
	e = &n->e[pos];
	memset(e, 0, sizeof(*e));
	e->key = *key;
	e->used = true;
	e->state = SP_NEIGH_INCOMPLETE;
	e->created_ms = now;
	e->confirmed_ms = now;
	n->count++;
	return pos;
}

static int
find(const struct sp_neigh *n, const struct sp_neigh_key *key)
{
	int32_t pos = rte_hash_lookup(n->h, key);

	return (pos >= 0 && (uint32_t)pos < n->n_pos && n->e[pos].used) ? pos : -ENOENT;
}

static int
enqueue(struct sp_neigh *n, struct nent *e, struct rte_mbuf *m)
{
	if (e->q_len >= n->conf.hold_packets) {
		n->st.hold_drops++;
		return -ENOBUFS;
	}
	if (e->q_len == e->q_cap) {
		uint32_t cap = n->conf.hold_packets;
		struct rte_mbuf **q = realloc(e->q, cap * sizeof(*q));

		if (q == NULL) {
			n->st.hold_drops++;
			return -ENOBUFS;
		}
		e->q = q;
		e->q_cap = cap;
	}
	e->q[e->q_len++] = m;
	n->st.held++;
	return 0;
}

/* ---- control core: API ---- */

struct sp_neigh *
sp_neigh_create(const char *name, const struct sp_conf_neigh *conf,
		const struct sp_neigh_ops *ops, void *arg)
{
	struct rte_hash_parameters hp = { 0 };
	struct rte_hash_rcu_config rc = { 0 };
	struct sp_neigh *n;
	size_t len;
	int32_t max_id;

	len = name != NULL ? strlen(name) : 0;
	if (len == 0 || len > SP_NEIGH_NAME_MAX || conf_check(conf) < 0 || ops == NULL ||
	    ops->solicit == NULL || ops->send == NULL || ops->drop == NULL ||
	    sp_rcu_qsbr() == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	/* Checked first so that a duplicate does not make DPDK log allocation errors. */
	if (rte_hash_find_existing(name) != NULL) {
		rte_errno = EEXIST;
		return NULL;
	}
	/* Heap, not DPDK memory: the control-core arrays it points to must stay visible to
	 * leak checkers, which do not scan hugepage memory. Workers only read n->h. */
	n = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*n), RTE_CACHE_LINE_SIZE));
	if (n != NULL)
		memset(n, 0, sizeof(*n));
	if (n == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	n->conf = *conf;
	n->ops = *ops;
	n->arg = arg;

	hp.name = name;
	/*
	 * Twice the entries: cuckoo inserts stay cheap at half load, and slots of deleted keys
	 * waiting for the RCU grace period do not block new ones.
	 */
	hp.entries = RTE_MAX(2 * conf->max_entries, 64u);
	hp.key_len = sizeof(struct sp_neigh_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = (int)rte_socket_id();
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	n->h = rte_hash_create(&hp);
	if (n->h == NULL) {
		if (rte_errno != EEXIST)
			rte_errno = ENOMEM;
		goto fail;
	}
	rc.v = sp_rcu_qsbr();
	rc.mode = RTE_HASH_QSBR_MODE_DQ;
	if (rte_hash_rcu_qsbr_add(n->h, &rc) != 0) {
		rte_errno = rte_errno == EEXIST ? EEXIST : ENOMEM;
		goto fail;
	}
	max_id = rte_hash_max_key_id(n->h);
	n->n_pos = max_id > 0 ? (uint32_t)max_id : 0;
	n->e = calloc(n->n_pos, sizeof(n->e[0]));
	if (n->e == NULL) {
		rte_errno = ENOMEM;
		goto fail;
	}
	SP_LOG(neigh, INFO, "neighbour table %s: %u entries", name, conf->max_entries);
	return n;
fail:
	rte_hash_free(n->h);
	free(n);
	return NULL;
}

void
sp_neigh_destroy(struct sp_neigh *n)
{
	uint32_t pos;

	if (n == NULL)
		return;
	sp_neigh_console_forget(n);
	for (pos = 0; pos < n->n_pos; pos++)
		if (n->e[pos].used)
			flush_queue(n, &n->e[pos], false);
	rte_hash_free(n->h);
	free(n->e);
	free(n);
}

int
sp_neigh_set_conf(struct sp_neigh *n, const struct sp_conf_neigh *conf)
{
	if (conf_check(conf) < 0 || conf->max_entries != n->conf.max_entries)
		return -EINVAL;
	n->conf = *conf;
	return 0;
}

int
sp_neigh_resolve(struct sp_neigh *n, const struct sp_neigh_key *key, struct rte_mbuf *m,
		 uint64_t now_ms)
{
	struct nent *e;
	bool created = false;
	int pos, ret;

	if (!key_valid(key) || m == NULL)
		return -EINVAL;
	touch(n, now_ms);
	pos = find(n, key);
	if (pos < 0) {
		pos = new_entry(n, key, now_ms);
		if (pos < 0) {
			n->st.table_full++;
			return -ENOSPC;
		}
		created = true;
	}
	e = &n->e[pos];
	if (e->state != SP_NEIGH_INCOMPLETE) {
		/* Resolved between the worker's miss and now. */
		n->ops.send(n->arg, e->key.iface, m, &e->mac);
		return 0;
	}
	ret = enqueue(n, e, m);
	if (created)
		solicit(n, e, false, now_ms);
	return ret;
}

int
sp_neigh_input(struct sp_neigh *n, const struct sp_neigh_key *key,
	       const struct rte_ether_addr *mac, bool solicited, bool create, uint64_t now_ms)
{
	struct nent *e;
	bool changed;
	int pos;

	if (!key_valid(key) || mac == NULL || !rte_is_valid_assigned_ether_addr(mac))
		return -EINVAL;
	touch(n, now_ms);
	pos = find(n, key);
	if (pos < 0) {
		if (!create)
			return -ENOENT;
		pos = new_entry(n, key, now_ms);
		if (pos < 0) {
			n->st.table_full++;
			return -ENOSPC;
		}
		e = &n->e[pos];
		e->mac = *mac;
		e->state = SP_NEIGH_REACHABLE;
		publish(n, e);
		return 0;
	}
	e = &n->e[pos];
	switch (e->state) {
	case SP_NEIGH_STATIC:
		return -EPERM;
	case SP_NEIGH_INCOMPLETE:
		e->mac = *mac;
		e->state = SP_NEIGH_REACHABLE;
		e->confirmed_ms = now_ms;
		e->probes = 0;
		publish(n, e);
		n->st.resolved++;
		flush_queue(n, e, true);
		return 0;
	default:
		break;
	}
	changed = !rte_is_same_ether_addr(&e->mac, mac);
	if (changed) {
		e->mac = *mac;
		publish(n, e);
		n->st.updates++;
	}
	if (solicited) {
		e->state = SP_NEIGH_REACHABLE;
		e->confirmed_ms = now_ms;
		e->probes = 0;
	} else if (changed) {
		/* Somebody claims the address with a new MAC: use it, but make it answer. */
		e->state = SP_NEIGH_PROBE;
		e->probes = 0;
		e->next_ms = now_ms;
	}
	return 0;
}

int
sp_neigh_add_static(struct sp_neigh *n, const struct sp_neigh_key *key,
		    const struct rte_ether_addr *mac)
{
	struct nent *e;
	uint8_t was;
	int pos;

	if (!key_valid(key) || mac == NULL || !rte_is_valid_assigned_ether_addr(mac))
		return -EINVAL;
	pos = find(n, key);
	if (pos < 0) {
		pos = new_entry(n, key, n->last_now);
		if (pos < 0) {
			n->st.table_full++;
			return -ENOSPC;
		}
	}
	e = &n->e[pos];
	was = e->state;
	if (was != SP_NEIGH_INCOMPLETE && !rte_is_same_ether_addr(&e->mac, mac))
		n->st.updates++;
	e->mac = *mac;
	e->state = SP_NEIGH_STATIC;
	e->probes = 0;
	e->confirmed_ms = n->last_now;
	publish(n, e);
	if (was == SP_NEIGH_INCOMPLETE)
		flush_queue(n, e, true);
	return 0;
}

int
sp_neigh_del(struct sp_neigh *n, const struct sp_neigh_key *key)
{
	int pos;

	if (!key_valid(key))
		return -EINVAL;
	pos = find(n, key);
	if (pos < 0)
		return -ENOENT;
	delete_entry(n, (uint32_t)pos);
	return 0;
}

void
sp_neigh_timer(struct sp_neigh *n, uint64_t now_ms)
{
	uint32_t pos;

	touch(n, now_ms);
	for (pos = 0; pos < n->n_pos; pos++) {
		struct nent *e = &n->e[pos];

		if (!e->used)
			continue;
		switch (e->state) {
		case SP_NEIGH_INCOMPLETE:
			if (now_ms < e->next_ms)
				break;
			if (e->probes >= n->conf.probes) {
				n->st.failed++;
				delete_entry(n, pos);
			} else {
				solicit(n, e, false, now_ms);
			}
			break;
		case SP_NEIGH_REACHABLE:
			if (now_ms < e->confirmed_ms ||
			    now_ms - e->confirmed_ms < n->conf.reachable_ms)
				break;
			e->state = SP_NEIGH_PROBE;
			e->probes = 0;
			solicit(n, e, true, now_ms);
			break;
		case SP_NEIGH_PROBE:
			if (now_ms < e->next_ms)
				break;
			if (e->probes >= n->conf.probes) {
				n->st.expired++;
				delete_entry(n, pos);
			} else {
				solicit(n, e, true, now_ms);
			}
			break;
		default:
			break;
		}
	}
}

static void
fill_info(const struct nent *e, uint64_t now, struct sp_neigh_info *info)
{
	uint64_t since = e->state == SP_NEIGH_INCOMPLETE ? e->created_ms : e->confirmed_ms;
	uint64_t age = now > since ? now - since : 0;

	memset(info, 0, sizeof(*info));
	info->key = e->key;
	key_ip(&e->key, &info->ip);
	info->mac = e->mac;
	info->state = e->state;
	info->age_ms = age > UINT32_MAX ? UINT32_MAX : (uint32_t)age;
	info->probes = e->probes;
	info->queued = e->q_len;
}

unsigned int
sp_neigh_walk(const struct sp_neigh *n, uint64_t now_ms,
	      void (*cb)(const struct sp_neigh_info *info, void *arg), void *arg)
{
	struct sp_neigh_info *snap, one;
	uint32_t pos, k = 0, i;

	snap = malloc((n->count ? n->count : 1) * sizeof(*snap));
	for (pos = 0; pos < n->n_pos; pos++) {
		if (!n->e[pos].used)
			continue;
		if (snap == NULL) {
			/* No memory for a snapshot: report live entries (fine for readers). */
			fill_info(&n->e[pos], now_ms, &one);
			cb(&one, arg);
			k++;
			continue;
		}
		if (k < n->count)
			fill_info(&n->e[pos], now_ms, &snap[k++]);
	}
	if (snap != NULL) {
		for (i = 0; i < k; i++)
			cb(&snap[i], arg);
		free(snap);
	}
	return k;
}

void
sp_neigh_get_stats(const struct sp_neigh *n, struct sp_neigh_stats *out)
{
	*out = n->st;
	out->entries = n->count;
}
