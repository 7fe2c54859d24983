/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routes, next hops and the published FIB versions.
 *
 * The control core keeps the routes in a sorted array (the source of truth) with a next-hop
 * registry beside it. A change is made on a scratch copy of both; the copy is compiled into a
 * new struct sp_rtab (a fresh rte_fib, rte_fib6 and next-hop array, built aside), and only when
 * that succeeded is the version published and the copy made current. Any failure leaves the
 * current state and the published version untouched.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_malloc.h>

#include "route_private.h"
#include "sp_rcu.h"

SP_LOG_TYPE(route);

/* 2-byte FIB entries keep one bit for the tbl8 flag: next hops and tbl8 groups < 2^15. */
#define NH_ID_MAX 32767u
#define TBL8_MAX 32767u
#define MAX_ROUTES_LIMIT (1u << 20)
/* Each IPv6 prefix longer than /24 may reserve one tbl8 per further byte of depth. */
#define TBL8_PER_V6_ROUTE 13u

struct sp_rtab {
	struct rte_fib *fib4;
	struct rte_fib6 *fib6;
	uint32_t n_nh;
	struct sp_nexthop nh[]; /* indexed by next-hop id; nh[0] is UNREACHABLE */
};

struct rt_entry {
	struct sp_route r;
	uint16_t nh;
};

struct nh_slot {
	struct sp_nexthop nh;
	uint32_t refs; /* 0: unused, id free for reuse */
};

/* One complete control-side state. Changes are made on a copy and committed by swapping. */
struct rstate {
	struct rt_entry *rt;
	unsigned int n_rt;
	unsigned int n_user;   /* CONFIG and CONSOLE routes, bounded by max_routes */
	struct nh_slot *nh;
	unsigned int n_nh;     /* ids in use are below n_nh; id 0 always exists */
};

static struct {
	bool up;
	unsigned int max_user;
	unsigned int cap_rt;
	unsigned int cap_nh;
	struct rstate cur;
	struct rstate tmp;
	uint64_t generation;
} R;

/* Written by the control core only, read by every lcore. */
static struct sp_rtab *published;

/* Never reset: names of versions still waiting in RCU must not be reused by a new build. */
static uint64_t name_seq;
static unsigned int live_versions;
static unsigned int fail_alloc_countdown;

static const char *const origin_names[] = {
	[SP_RO_LOCAL] = "local", [SP_RO_CONNECTED] = "connected",
	[SP_RO_CONFIG] = "config", [SP_RO_CONSOLE] = "console", [SP_RO_TUNNEL] = "tunnel",
};

static const char *const nh_type_names[] = {
	[SP_NH_UNREACHABLE] = "unreachable", [SP_NH_BLACKHOLE] = "blackhole",
	[SP_NH_LOCAL] = "local", [SP_NH_CONNECTED] = "connected", [SP_NH_GATEWAY] = "gateway",
	[SP_NH_TUNNEL] = "tunnel",
};

static const char *(*peer_name_fn)(uint16_t peer);

void
sp_route_set_peer_name_fn(const char *(*fn)(uint16_t peer))
{
	peer_name_fn = fn;
}

const char *
sp_route_peer_name(uint16_t peer)
{
	static char buf[16];
	const char *n = peer_name_fn != NULL ? peer_name_fn(peer) : NULL;

	if (n != NULL)
		return n;
	snprintf(buf, sizeof(buf), "peer%u", peer);
	return buf;
}

const char *
sp_route_origin_name(uint8_t origin)
{
	return origin < RTE_DIM(origin_names) ? origin_names[origin] : "?";
}

const char *
sp_nh_type_name(uint8_t type)
{
	return type < RTE_DIM(nh_type_names) ? nh_type_names[type] : "?";
}

/* ---- test hooks ---- */

void
sp_route_test_fail_alloc(unsigned int nth)
{
	fail_alloc_countdown = nth;
}

unsigned int
sp_route_test_live_versions(void)
{
	return live_versions;
}

static bool
injected_failure(void)
{
	if (fail_alloc_countdown == 0)
		return false;
	return --fail_alloc_countdown == 0;
}

/* ---- reader side ---- */

const struct sp_rtab *
sp_route_table(void)
{
	return __atomic_load_n(&published, __ATOMIC_ACQUIRE);
}

void
sp_rtab_lookup4(const struct sp_rtab *t, const uint32_t *ips, uint64_t *nh, unsigned int n)
{
	/* rte_fib only reads ips; its prototype lacks the const. */
	rte_fib_lookup_bulk(t->fib4, (uint32_t *)(uintptr_t)ips, nh, (int)n);
}

void
sp_rtab_lookup6(const struct sp_rtab *t, const uint8_t (*ips)[16], uint64_t *nh, unsigned int n)
{
	rte_fib6_lookup_bulk(t->fib6, (uint8_t (*)[RTE_FIB6_IPV6_ADDR_SIZE])(uintptr_t)ips, nh,
			     (int)n);
}

const struct sp_nexthop *
sp_rtab_nh(const struct sp_rtab *t, uint64_t id)
{
	return id < t->n_nh ? &t->nh[id] : &t->nh[0];
}

/* ---- next-hop registry ---- */

static bool
nh_same(const struct sp_nexthop *a, const struct sp_nexthop *b)
{
	if (a->type != b->type || a->family != b->family || a->iface != b->iface ||
	    a->peer != b->peer)
		return false;
	return a->type != SP_NH_GATEWAY || sp_ip_equal(&a->gw, &b->gw);
}

/* Reference the id of an identical next hop, or of a new one. @return id, or -ENOSPC. */
static int
nh_get(struct rstate *st, const struct sp_nexthop *want, unsigned int cap)
{
	unsigned int id, free_id = 0;

	for (id = 1; id < st->n_nh; id++) {
		if (st->nh[id].refs == 0) {
			if (free_id == 0)
				free_id = id;
		} else if (nh_same(&st->nh[id].nh, want)) {
			st->nh[id].refs++;
			return (int)id;
		}
	}
	if (free_id == 0) {
		if (st->n_nh >= cap)
			return -ENOSPC;
		free_id = st->n_nh++;
	}
	st->nh[free_id].nh = *want;
	st->nh[free_id].refs = 1;
	return (int)free_id;
}

static void
nh_put(struct rstate *st, unsigned int id)
{
	if (id == 0 || id >= st->n_nh || st->nh[id].refs == 0)
		return;
	if (--st->nh[id].refs == 0)
		memset(&st->nh[id].nh, 0, sizeof(st->nh[id].nh));
	while (st->n_nh > 1 && st->nh[st->n_nh - 1].refs == 0)
		st->n_nh--;
}

/* ---- route array ---- */

static int
prefix_cmp(const struct sp_ip *a, const struct sp_ip *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->family == AF_INET)
		c = memcmp(&a->v4, &b->v4, 4);
	else
		c = memcmp(a->v6, b->v6, 16);
	if (c != 0)
		return c;
	return (int)a->plen - (int)b->plen;
}

/* Index of the first entry not below p; *found when it is p. */
static unsigned int
rt_search(const struct rstate *st, const struct sp_ip *p, bool *found)
{
	unsigned int lo = 0, hi = st->n_rt;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (prefix_cmp(&st->rt[mid].r.prefix, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < st->n_rt && prefix_cmp(&st->rt[lo].r.prefix, p) == 0;
	return lo;
}

static bool
prefix_valid(const struct sp_ip *p)
{
	if (p->family == AF_INET)
		return p->plen <= 32 && sp_ip_is_network(p);
	if (p->family == AF_INET6)
		return p->plen <= 128 && sp_ip_is_network(p);
	return false;
}

static bool
is_link_local6(const struct sp_ip *a)
{
	return a->family == AF_INET6 && a->v6[0] == 0xfe && (a->v6[1] & 0xc0) == 0x80;
}

static bool
on_iface_subnet(const struct sp_iface *ifc, const struct sp_ip *gw)
{
	unsigned int k;

	for (k = 0; k < ifc->n_addrs; k++) {
		const struct sp_ip *a = &ifc->addrs[k];

		/* A /32 or /128 address has no subnet: only itself, which is refused earlier. */
		if (a->family == gw->family && sp_ip_in_prefix(gw, a))
			return true;
	}
	return false;
}

/* Bind a gateway to an interface: the given one (gw must be on it) or the one holding gw. */
static int
resolve_gateway(struct sp_route *r)
{
	unsigned int i;

	if (r->gw.family != r->prefix.family)
		return -EINVAL;
	if (sp_iface_is_local(&r->gw))
		return -EINVAL;
	if (r->iface != SP_IFACE_NONE) {
		const struct sp_iface *ifc = sp_iface_get(r->iface);

		if (ifc == NULL)
			return -EINVAL;
		/* A link-local gateway is on-link on whatever interface it is given with. */
		if (is_link_local6(&r->gw) || on_iface_subnet(ifc, &r->gw))
			return 0;
		return -ENETUNREACH;
	}
	for (i = 0; i < sp_iface_count(); i++) {
		if (on_iface_subnet(sp_iface_get((uint16_t)i), &r->gw)) {
			r->iface = (uint16_t)i;
			return 0;
		}
	}
	return -ENETUNREACH;
}

/* Check and complete a route given by a caller; fills *nh. */
static int
route_prepare(struct sp_route *r, struct sp_nexthop *nh)
{
	if (!prefix_valid(&r->prefix))
		return -EINVAL;
	memset(nh, 0, sizeof(*nh));
	nh->family = r->prefix.family;
	switch (r->type) {
	case SP_NH_BLACKHOLE:
		r->iface = SP_IFACE_NONE;
		memset(&r->gw, 0, sizeof(r->gw));
		break;
	case SP_NH_CONNECTED:
		if (sp_iface_get(r->iface) == NULL)
			return -EINVAL;
		memset(&r->gw, 0, sizeof(r->gw));
		break;
	case SP_NH_GATEWAY: {
		int ret = resolve_gateway(r);

		if (ret < 0)
			return ret;
		r->gw.plen = r->gw.family == AF_INET ? 32 : 128;
		nh->gw = r->gw;
		break;
	}
	case SP_NH_LOCAL:
		if (r->origin != SP_RO_LOCAL || sp_iface_get(r->iface) == NULL)
			return -EINVAL;
		memset(&r->gw, 0, sizeof(r->gw));
		break;
	case SP_NH_TUNNEL:
		if (r->origin != SP_RO_TUNNEL)
			return -EINVAL;
		r->iface = SP_IFACE_NONE;
		memset(&r->gw, 0, sizeof(r->gw));
		nh->peer = r->peer;
		break;
	default:
		return -EINVAL;
	}
	if (r->type != SP_NH_TUNNEL)
		r->peer = 0;
	if (r->origin == SP_RO_TUNNEL && r->type != SP_NH_TUNNEL)
		return -EINVAL;
	nh->type = r->type;
	nh->iface = r->iface;
	return 0;
}

static bool
user_origin(uint8_t origin)
{
	return origin == SP_RO_CONFIG || origin == SP_RO_CONSOLE;
}

/* Routes that count against max_routes: the user's and the tunnels'. */
static bool
counted_origin(uint8_t origin)
{
	return user_origin(origin) || origin == SP_RO_TUNNEL;
}

/* Insert into st. The origin must already be checked by the caller. */
static int
rt_insert(struct rstate *st, const struct sp_route *in)
{
	struct sp_route r = *in;
	struct sp_nexthop nh;
	unsigned int pos;
	bool found;
	int ret, id;

	ret = route_prepare(&r, &nh);
	if (ret < 0)
		return ret;
	pos = rt_search(st, &r.prefix, &found);
	if (found)
		return -EEXIST;
	if (st->n_rt >= R.cap_rt || (counted_origin(r.origin) && st->n_user >= R.max_user))
		return -ENOSPC;
	id = nh_get(st, &nh, R.cap_nh);
	if (id < 0)
		return id;
	memmove(&st->rt[pos + 1], &st->rt[pos], (st->n_rt - pos) * sizeof(st->rt[0]));
	st->rt[pos].r = r;
	st->rt[pos].nh = (uint16_t)id;
	st->n_rt++;
	if (counted_origin(r.origin))
		st->n_user++;
	return 0;
}

static void
rt_remove(struct rstate *st, unsigned int pos)
{
	nh_put(st, st->rt[pos].nh);
	if (counted_origin(st->rt[pos].r.origin))
		st->n_user--;
	st->n_rt--;
	memmove(&st->rt[pos], &st->rt[pos + 1], (st->n_rt - pos) * sizeof(st->rt[0]));
}

static void
state_copy(struct rstate *dst, const struct rstate *src)
{
	memcpy(dst->rt, src->rt, src->n_rt * sizeof(src->rt[0]));
	dst->n_rt = src->n_rt;
	dst->n_user = src->n_user;
	memcpy(dst->nh, src->nh, src->n_nh * sizeof(src->nh[0]));
	dst->n_nh = src->n_nh;
}

static void
state_free(struct rstate *st)
{
	free(st->rt);
	free(st->nh);
	memset(st, 0, sizeof(*st));
}

static int
state_alloc(struct rstate *st)
{
	st->rt = calloc(R.cap_rt, sizeof(st->rt[0]));
	st->nh = calloc(R.cap_nh, sizeof(st->nh[0]));
	if (st->rt == NULL || st->nh == NULL) {
		state_free(st);
		return -ENOMEM;
	}
	st->n_nh = 1; /* id 0: UNREACHABLE, all zero */
	return 0;
}

/* ---- building and publishing versions ---- */

static void
rtab_free(void *p)
{
	struct sp_rtab *t = p;

	rte_fib_free(t->fib4);
	rte_fib6_free(t->fib6);
	rte_free(t);
	live_versions--;
}

/*
 * tbl8 groups, sized from the table's capacity: an IPv4 route longer than /24 takes at most
 * one group, an IPv6 one at most one per byte past /24. 2-byte entries cap the count.
 */
static uint32_t
tbl8_count(unsigned int per_route)
{
	uint64_t n = (uint64_t)R.cap_rt * per_route;

	if (n < 64)
		n = 64;
	return n > TBL8_MAX ? TBL8_MAX : (uint32_t)n;
}

static int
fill_fibs(struct sp_rtab *t, const struct rstate *st)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < st->n_rt && ret == 0; i++) {
		const struct rt_entry *e = &st->rt[i];

		if (e->r.prefix.family == AF_INET)
			ret = rte_fib_add(t->fib4, rte_be_to_cpu_32(e->r.prefix.v4),
					  e->r.prefix.plen, e->nh);
		else
			ret = rte_fib6_add(t->fib6, e->r.prefix.v6, e->r.prefix.plen, e->nh);
	}
	return ret;
}

/* Compile st into a new, unpublished version. @return 0, -ENOMEM or -ENOSPC. */
static int
build(const struct rstate *st, struct sp_rtab **out)
{
	struct rte_fib_conf c4 = { 0 };
	struct rte_fib6_conf c6 = { 0 };
	char name[32];
	struct sp_rtab *t;
	unsigned int i, n4 = 0, n6 = 0;
	uint64_t seq = name_seq++;
	int ret;

	for (i = 0; i < st->n_rt; i++) {
		if (st->rt[i].r.prefix.family == AF_INET)
			n4++;
		else
			n6++;
	}
	t = injected_failure() ? NULL :
		rte_zmalloc("sp_rtab", sizeof(*t) + st->n_nh * sizeof(t->nh[0]),
			    RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		return -ENOMEM;
	t->n_nh = st->n_nh;
	for (i = 0; i < st->n_nh; i++)
		t->nh[i] = st->nh[i].nh;

	c4.type = RTE_FIB_DIR24_8;
	c4.default_nh = 0;
	c4.max_routes = (int)(n4 + 1);
	c4.dir24_8.nh_sz = RTE_FIB_DIR24_8_2B;
	c4.dir24_8.num_tbl8 = tbl8_count(1);
	snprintf(name, sizeof(name), "sp4_%" PRIu64, seq);
	t->fib4 = injected_failure() ? NULL : rte_fib_create(name, SOCKET_ID_ANY, &c4);
	if (t->fib4 == NULL) {
		ret = -ENOMEM;
		goto fail;
	}

	c6.type = RTE_FIB6_TRIE;
	c6.default_nh = 0;
	c6.max_routes = (int)(n6 + 1);
	c6.trie.nh_sz = RTE_FIB6_TRIE_2B;
	c6.trie.num_tbl8 = tbl8_count(TBL8_PER_V6_ROUTE);
	snprintf(name, sizeof(name), "sp6_%" PRIu64, seq);
	t->fib6 = injected_failure() ? NULL : rte_fib6_create(name, SOCKET_ID_ANY, &c6);
	if (t->fib6 == NULL) {
		ret = -ENOMEM;
		goto fail;
	}

	ret = fill_fibs(t, st);
	if (ret < 0) {
		SP_LOG(route, ERR, "building table version %" PRIu64 ": %s", seq, strerror(-ret));
		ret = ret == -ENOSPC ? -ENOSPC : -ENOMEM;
		goto fail;
	}
	live_versions++;
	*out = t;
	return 0;
fail:
	rte_fib_free(t->fib4);
	rte_fib6_free(t->fib6);
	rte_free(t);
	return ret;
}

static void
publish(struct sp_rtab *t)
{
	struct sp_rtab *old = published;

	__atomic_store_n(&published, t, __ATOMIC_RELEASE);
	R.generation++;
	if (old != NULL)
		sp_rcu_defer(old, rtab_free);
}

/* Build R.tmp, publish it and make it current. On error R.cur and the table are unchanged. */
static int
commit(void)
{
	struct sp_rtab *t;
	struct rstate swap;
	int ret;

	/* Each version holds two 32 MiB tbl24 arrays: free the retired ones readers have passed
	 * before allocating another, so a burst of changes does not pile them up.
	 */
	sp_rcu_reclaim();
	ret = build(&R.tmp, &t);
	if (ret < 0)
		return ret;
	publish(t);
	swap = R.cur;
	R.cur = R.tmp;
	R.tmp = swap;
	return 0;
}

/* ---- control API ---- */

static unsigned int
iface_route_count(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < sp_iface_count(); i++)
		n += 2 * sp_iface_get((uint16_t)i)->n_addrs;
	return n;
}

static int
add_iface_routes(struct rstate *st)
{
	unsigned int i, k;
	int ret;

	for (i = 0; i < sp_iface_count(); i++) {
		const struct sp_iface *ifc = sp_iface_get((uint16_t)i);

		for (k = 0; k < ifc->n_addrs; k++) {
			const struct sp_ip *a = &ifc->addrs[k];
			struct sp_route r = { .type = SP_NH_LOCAL, .origin = SP_RO_LOCAL,
					      .iface = ifc->id };
			unsigned int host = a->family == AF_INET ? 32 : 128;

			r.prefix = *a;
			r.prefix.plen = (uint8_t)host;
			ret = rt_insert(st, &r);
			if (ret < 0) {
				SP_LOG(route, ERR, "interface %s: address %u: %s", ifc->name, k,
				       ret == -EEXIST ? "duplicate address" : strerror(-ret));
				return ret == -EEXIST ? -EINVAL : ret;
			}
			if (a->plen >= host)
				continue;
			r.type = SP_NH_CONNECTED;
			r.origin = SP_RO_CONNECTED;
			r.prefix = *a;
			sp_ip_mask(&r.prefix);
			ret = rt_insert(st, &r);
			/* Two addresses in one subnet share its connected route. */
			if (ret < 0 && ret != -EEXIST)
				return ret;
		}
	}
	return 0;
}

int
sp_route_init(unsigned int max_routes)
{
	int ret;

	if (R.up)
		return -EEXIST;
	if (sp_iface_count() == 0 || max_routes == 0 || max_routes > MAX_ROUTES_LIMIT)
		return -EINVAL;
	R.max_user = max_routes;
	R.cap_rt = max_routes + iface_route_count();
	R.cap_nh = R.cap_rt + 1 > NH_ID_MAX + 1 ? NH_ID_MAX + 1 : R.cap_rt + 1;
	R.generation = 0;
	ret = state_alloc(&R.cur);
	if (ret == 0)
		ret = state_alloc(&R.tmp);
	if (ret < 0)
		goto fail;
	ret = add_iface_routes(&R.tmp);
	if (ret < 0)
		goto fail;
	ret = commit();
	if (ret < 0)
		goto fail;
	R.up = true;
	SP_LOG(route, INFO, "route table up: %u interface routes, room for %u more",
	       R.cur.n_rt, max_routes);
	return 0;
fail:
	state_free(&R.tmp);
	state_free(&R.cur);
	return ret;
}

void
sp_route_fini(void)
{
	struct sp_rtab *old = published;

	if (!R.up)
		return;
	__atomic_store_n(&published, NULL, __ATOMIC_RELEASE);
	sp_rcu_defer(old, rtab_free);
	state_free(&R.cur);
	state_free(&R.tmp);
	R.up = false;
	R.generation = 0;
}

int
sp_route_add(const struct sp_route *r)
{
	int ret;

	if (!R.up)
		return -EINVAL;
	if (r == NULL || !user_origin(r->origin))
		return -EINVAL;
	state_copy(&R.tmp, &R.cur);
	ret = rt_insert(&R.tmp, r);
	if (ret == 0)
		ret = commit();
	return ret;
}

int
sp_route_del(const struct sp_ip *prefix)
{
	unsigned int pos;
	bool found;

	if (!R.up)
		return -EINVAL;
	if (prefix == NULL || !prefix_valid(prefix))
		return -EINVAL;
	pos = rt_search(&R.cur, prefix, &found);
	if (!found)
		return -ENOENT;
	if (!user_origin(R.cur.rt[pos].r.origin))
		return -EPERM;
	state_copy(&R.tmp, &R.cur);
	rt_remove(&R.tmp, pos);
	return commit();
}

int
sp_route_replace(enum sp_route_origin origin, const struct sp_route *routes, unsigned int n,
		 unsigned int *bad)
{
	unsigned int i, dummy;
	int ret;

	if (bad == NULL)
		bad = &dummy;
	*bad = n;
	if (!R.up || !counted_origin(origin) || (routes == NULL && n > 0))
		return -EINVAL;
	state_copy(&R.tmp, &R.cur);
	for (i = R.tmp.n_rt; i-- > 0;)
		if (R.tmp.rt[i].r.origin == origin)
			rt_remove(&R.tmp, i);
	for (i = 0; i < n; i++) {
		struct sp_route r = routes[i];

		r.origin = (uint8_t)origin;
		ret = rt_insert(&R.tmp, &r);
		if (ret < 0) {
			*bad = i;
			return ret;
		}
	}
	return commit();
}

int
sp_route_from_conf(const struct sp_conf_route *cr, struct sp_route *out)
{
	const struct sp_iface *ifc = NULL;

	memset(out, 0, sizeof(*out));
	out->prefix = cr->prefix;
	out->origin = SP_RO_CONFIG;
	out->iface = SP_IFACE_NONE;
	if (cr->iface[0] != '\0') {
		ifc = sp_iface_by_name(cr->iface);
		if (ifc == NULL)
			return -ENOENT;
	}
	switch (cr->kind) {
	case SP_ROUTE_VIA:
		out->type = SP_NH_GATEWAY;
		out->gw = cr->via;
		if (ifc != NULL)
			out->iface = ifc->id;
		break;
	case SP_ROUTE_DEV:
		if (ifc == NULL)
			return -ENOENT;
		out->type = SP_NH_CONNECTED;
		out->iface = ifc->id;
		break;
	case SP_ROUTE_BLACKHOLE:
	default:
		out->type = SP_NH_BLACKHOLE;
		break;
	}
	return 0;
}

unsigned int
sp_route_list(struct sp_route *out, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < R.cur.n_rt && i < max; i++)
		out[i] = R.cur.rt[i].r;
	return R.cur.n_rt;
}

uint64_t
sp_route_generation(void)
{
	return R.generation;
}
