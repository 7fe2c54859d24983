/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour table, driven by explicit times: solicitation, retransmission and failure,
 * resolution releasing the hold queue in order, the queue bound, re-confirmation probes,
 * MAC changes, static entries, eviction order when full, bulk lookups, key checks, deleted
 * slots held back by RCU until readers pass, and no mbuf leaked anywhere.
 *
 * Fake ops record every solicitation, send and drop; sends and drops free the mbuf, which
 * carries a sequence number in hash.usr so order is checked by value.
 *
 * Default settings: 4 entries, reachable 30 s, retransmit 1 s, 3 probes, 4 held packets.
 */

#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "sp_neigh.h"
#include "sp_rcu.h"
#include "sp_route.h"
#include "test_common.h"

#define REC_MAX 128

struct rec {
	int solicit_ret;
	unsigned int n_sol;
	struct {
		uint16_t iface;
		struct sp_ip target;
		bool unicast;
		struct rte_ether_addr dst;
	} sol[REC_MAX];
	unsigned int n_sent;
	struct {
		uint16_t iface;
		uint32_t seq;
		struct rte_ether_addr mac;
	} sent[REC_MAX];
	unsigned int n_drop;
	struct {
		uint32_t seq;
		enum sp_drop reason;
	} drop[REC_MAX];
};

static struct rec R;
static struct rte_mempool *pool;
static uint32_t next_seq;

static int
fake_solicit(void *arg, uint16_t iface, const struct sp_ip *target,
	     const struct rte_ether_addr *dst)
{
	struct rec *r = arg;

	if (r->n_sol < REC_MAX) {
		r->sol[r->n_sol].iface = iface;
		r->sol[r->n_sol].target = *target;
		r->sol[r->n_sol].unicast = dst != NULL;
		if (dst != NULL)
			r->sol[r->n_sol].dst = *dst;
	}
	r->n_sol++;
	return r->solicit_ret;
}

static void
fake_send(void *arg, uint16_t iface, struct rte_mbuf *m, const struct rte_ether_addr *mac)
{
	struct rec *r = arg;

	if (r->n_sent < REC_MAX) {
		r->sent[r->n_sent].iface = iface;
		r->sent[r->n_sent].seq = m->hash.usr;
		r->sent[r->n_sent].mac = *mac;
	}
	r->n_sent++;
	rte_pktmbuf_free(m);
}

static void
fake_drop(void *arg, struct rte_mbuf *m, enum sp_drop reason)
{
	struct rec *r = arg;

	if (r->n_drop < REC_MAX) {
		r->drop[r->n_drop].seq = m->hash.usr;
		r->drop[r->n_drop].reason = reason;
	}
	r->n_drop++;
	rte_pktmbuf_free(m);
}

static const struct sp_neigh_ops fake_ops = {
	.solicit = fake_solicit,
	.send = fake_send,
	.drop = fake_drop,
};

static const struct sp_conf_neigh default_conf = {
	.max_entries = 4, .reachable_ms = 30000, .retrans_ms = 1000, .probes = 3,
	.hold_packets = 4,
};

static const struct rte_ether_addr MAC1 = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 } };
static const struct rte_ether_addr MAC2 = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 } };
static const struct rte_ether_addr MAC3 = { { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee } };

static struct sp_neigh_key
key(uint16_t iface, const char *addr)
{
	struct sp_neigh_key k;
	struct sp_ip a;

	CU_ASSERT_EQUAL_FATAL(sp_ip_parse(addr, &a, false), 0);
	sp_neigh_key_set(&k, iface, &a);
	return k;
}

static struct rte_mbuf *
pkt(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	m->hash.usr = ++next_seq;
	return m;
}

static struct sp_neigh *
table(const char *name, const struct sp_conf_neigh *conf)
{
	struct sp_neigh *n;

	memset(&R, 0, sizeof(R));
	n = sp_neigh_create(name, conf ? conf : &default_conf, &fake_ops, &R);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	return n;
}

/* The one entry for k, through walk. @return false when there is none. */
struct find_ctx {
	const struct sp_neigh_key *k;
	struct sp_neigh_info info;
	bool found;
};

static void
find_cb(const struct sp_neigh_info *info, void *arg)
{
	struct find_ctx *c = arg;

	if (memcmp(&info->key, c->k, sizeof(*c->k)) == 0) {
		c->info = *info;
		c->found = true;
	}
}

static bool
info(struct sp_neigh *n, const struct sp_neigh_key *k, uint64_t now, struct sp_neigh_info *out)
{
	struct find_ctx c = { .k = k };

	sp_neigh_walk(n, now, find_cb, &c);
	if (c.found && out != NULL)
		*out = c.info;
	return c.found;
}

static struct sp_neigh_stats
stats(struct sp_neigh *n)
{
	struct sp_neigh_stats s;

	sp_neigh_get_stats(n, &s);
	return s;
}

static void
destroy(struct sp_neigh *n)
{
	sp_neigh_destroy(n);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
}

/* ---- tests ---- */

static void
test_create_errors(void)
{
	static const struct {
		const char *name;
		struct sp_conf_neigh conf;
	} bad[] = {
		{ NULL, { 4, 30000, 1000, 3, 4 } },
		{ "", { 4, 30000, 1000, 3, 4 } },
		{ "sixteen_chars_xx", { 4, 30000, 1000, 3, 4 } },
		{ "nb", { 0, 30000, 1000, 3, 4 } },
		{ "nb", { SP_NEIGH_MAX_ENTRIES + 1, 30000, 1000, 3, 4 } },
		{ "nb", { 4, 0, 1000, 3, 4 } },
		{ "nb", { 4, 30000, 0, 3, 4 } },
		{ "nb", { 4, 30000, 1000, 0, 4 } },
		{ "nb", { 4, 30000, 1000, 3, SP_NEIGH_MAX_HOLD + 1 } },
	};
	struct sp_neigh_ops no_drop = fake_ops;
	struct sp_neigh *n, *n2;
	unsigned int i;

	for (i = 0; i < RTE_DIM(bad); i++) {
		rte_errno = 0;
		CU_ASSERT_PTR_NULL(sp_neigh_create(bad[i].name, &bad[i].conf, &fake_ops, &R));
		CU_ASSERT_EQUAL(rte_errno, EINVAL);
	}
	no_drop.drop = NULL;
	CU_ASSERT_PTR_NULL(sp_neigh_create("nb", &default_conf, &no_drop, &R));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(sp_neigh_create("nb", &default_conf, NULL, &R));
	CU_ASSERT_PTR_NULL(sp_neigh_create("nb", NULL, &fake_ops, &R));

	n = table("fifteen_chars_x", NULL);
	rte_errno = 0;
	n2 = sp_neigh_create("fifteen_chars_x", &default_conf, &fake_ops, &R);
	CU_ASSERT_PTR_NULL(n2);
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
	destroy(n);
	/* The name is free again. */
	n = table("fifteen_chars_x", NULL);
	destroy(n);
	CU_ASSERT_STRING_EQUAL(sp_neigh_state_name(SP_NEIGH_PROBE), "probe");
	CU_ASSERT_STRING_EQUAL(sp_neigh_state_name(9), "?");
}

static void
test_solicit_retransmit_fail(void)
{
	struct sp_neigh *n = table("nb_fail", NULL);
	struct sp_neigh_key k = key(2, "10.1.0.9");
	struct rte_ether_addr mac;
	struct sp_neigh_info in;
	struct sp_ip target;
	uint32_t s1, s2;

	s1 = next_seq + 1;
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, pkt(), 0), 0);
	s2 = next_seq + 1;
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, pkt(), 10), 0);
	/* One broadcast solicitation for the address, on the key's interface. */
	CU_ASSERT_EQUAL(R.n_sol, 1);
	CU_ASSERT_FALSE(R.sol[0].unicast);
	CU_ASSERT_EQUAL(R.sol[0].iface, 2);
	sp_ip_parse("10.1.0.9", &target, false);
	CU_ASSERT_TRUE(sp_ip_equal(&R.sol[0].target, &target));
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), -ENOENT);
	CU_ASSERT_TRUE(info(n, &k, 700, &in));
	CU_ASSERT_EQUAL(in.state, SP_NEIGH_INCOMPLETE);
	CU_ASSERT_EQUAL(in.queued, 2);
	CU_ASSERT_EQUAL(in.probes, 1);
	CU_ASSERT_EQUAL(in.age_ms, 700);

	/* Every retrans_ms another, up to `probes`; then the entry fails. */
	{
		static const struct {
			uint64_t t;
			unsigned int sol;
			bool exists;
		} steps[] = {
			{ 999, 1, true }, { 1000, 2, true }, { 1500, 2, true },
			{ 1999, 2, true }, { 2000, 3, true }, { 2999, 3, true },
			{ 3000, 3, false }, { 9000, 3, false },
		};
		unsigned int i;

		for (i = 0; i < RTE_DIM(steps); i++) {
			sp_neigh_timer(n, steps[i].t);
			CU_ASSERT_EQUAL(R.n_sol, steps[i].sol);
			CU_ASSERT_EQUAL(info(n, &k, steps[i].t, NULL), steps[i].exists);
		}
	}
	CU_ASSERT_FALSE(R.sol[1].unicast || R.sol[2].unicast);
	CU_ASSERT_EQUAL(R.n_drop, 2);
	CU_ASSERT_EQUAL(R.drop[0].seq, s1);
	CU_ASSERT_EQUAL(R.drop[1].seq, s2);
	CU_ASSERT_EQUAL(R.drop[0].reason, SP_DROP_NEIGH_FAILED);
	CU_ASSERT_EQUAL(R.drop[1].reason, SP_DROP_NEIGH_FAILED);
	CU_ASSERT_EQUAL(R.n_sent, 0);
	CU_ASSERT_EQUAL(stats(n).failed, 1);
	CU_ASSERT_EQUAL(stats(n).solicits, 3);
	CU_ASSERT_EQUAL(stats(n).held, 2);
	CU_ASSERT_EQUAL(stats(n).entries, 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);

	/* A later miss starts over. */
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, pkt(), 10000), 0);
	CU_ASSERT_EQUAL(R.n_sol, 4);
	destroy(n);
	CU_ASSERT_EQUAL(R.n_drop, 3);
}

static void
test_resolve_then_answer(void)
{
	struct sp_neigh *n = table("nb_answer", NULL);
	struct sp_neigh_key k = key(1, "fd00:1::9");
	struct rte_ether_addr mac;
	struct sp_neigh_info in;
	uint32_t first = next_seq + 1;
	unsigned int i;

	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, pkt(), 100 * i), 0);
	CU_ASSERT_EQUAL(R.n_sol, 1);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC1, true, true, 500), 0);
	/* The queue goes out in arrival order, to the answered MAC, on the key's interface. */
	CU_ASSERT_EQUAL_FATAL(R.n_sent, 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(R.sent[i].seq, first + i);
		CU_ASSERT_EQUAL(R.sent[i].iface, 1);
		CU_ASSERT_TRUE(rte_is_same_ether_addr(&R.sent[i].mac, &MAC1));
	}
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), 0);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&mac, &MAC1));
	CU_ASSERT_TRUE(info(n, &k, 800, &in));
	CU_ASSERT_EQUAL(in.state, SP_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(in.age_ms, 300);
	CU_ASSERT_EQUAL(in.probes, 0);
	CU_ASSERT_EQUAL(in.queued, 0);
	CU_ASSERT_EQUAL(in.ip.family, AF_INET6);
	CU_ASSERT_EQUAL(stats(n).resolved, 1);
	CU_ASSERT_EQUAL(stats(n).entries, 1);

	/* A miss that raced the answer is sent at once. */
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, pkt(), 900), 0);
	CU_ASSERT_EQUAL(R.n_sent, 4);
	CU_ASSERT_EQUAL(R.n_sol, 1);
	CU_ASSERT_EQUAL(stats(n).held, 3);
	/* Nothing left to time out. */
	sp_neigh_timer(n, 5000);
	CU_ASSERT_EQUAL(R.n_sol, 1);
	CU_ASSERT_EQUAL(R.n_drop, 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
	destroy(n);
}

static void
test_hold_bound(void)
{
	struct sp_conf_neigh c = default_conf;
	struct sp_neigh *n = table("nb_hold", NULL);
	struct sp_neigh_key k = key(0, "10.1.0.10");
	struct sp_neigh_info in;
	struct rte_mbuf *extra;
	unsigned int i;

	for (i = 0; i < default_conf.hold_packets; i++)
		CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, pkt(), 0), 0);
	extra = pkt();
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, extra, 0), -ENOBUFS);
	/* Not taken: still ours, neither sent nor dropped. */
	CU_ASSERT_EQUAL(R.n_drop + R.n_sent, 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), default_conf.hold_packets + 1);
	rte_pktmbuf_free(extra);
	CU_ASSERT_EQUAL(stats(n).hold_drops, 1);
	CU_ASSERT_EQUAL(stats(n).held, default_conf.hold_packets);
	CU_ASSERT_TRUE(info(n, &k, 0, &in));
	CU_ASSERT_EQUAL(in.queued, default_conf.hold_packets);

	/* A smaller bound on reload takes no more; a larger one takes more. */
	c.hold_packets = 6;
	CU_ASSERT_EQUAL(sp_neigh_set_conf(n, &c), 0);
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, pkt(), 0), 0);
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, pkt(), 0), 0);
	extra = pkt();
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, extra, 0), -ENOBUFS);
	rte_pktmbuf_free(extra);
	c.hold_packets = 2;
	CU_ASSERT_EQUAL(sp_neigh_set_conf(n, &c), 0);
	extra = pkt();
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, extra, 0), -ENOBUFS);
	rte_pktmbuf_free(extra);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC2, true, false, 10), 0);
	CU_ASSERT_EQUAL(R.n_sent, 6);

	/* Zero held packets: resolution still starts, the packet is refused. */
	c.hold_packets = 0;
	CU_ASSERT_EQUAL(sp_neigh_set_conf(n, &c), 0);
	k = key(0, "10.1.0.11");
	extra = pkt();
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, extra, 20), -ENOBUFS);
	rte_pktmbuf_free(extra);
	CU_ASSERT_EQUAL(R.n_sol, 2);
	CU_ASSERT_TRUE(info(n, &k, 20, NULL));

	c.max_entries = 5;
	CU_ASSERT_EQUAL(sp_neigh_set_conf(n, &c), -EINVAL);
	c = default_conf;
	c.retrans_ms = 0;
	CU_ASSERT_EQUAL(sp_neigh_set_conf(n, &c), -EINVAL);
	destroy(n);
}

static void
test_probe_cycle(void)
{
	struct sp_neigh *n = table("nb_probe", NULL);
	struct sp_neigh_key k = key(3, "192.0.2.77");
	struct rte_ether_addr mac;
	struct sp_neigh_info in;
	unsigned int i;

	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC1, true, true, 0), 0);
	CU_ASSERT_EQUAL(R.n_sol, 0);
	sp_neigh_timer(n, 29999);
	CU_ASSERT_EQUAL(R.n_sol, 0);
	/* reachable_ms after the confirmation: a unicast probe, and the MAC stays usable. */
	sp_neigh_timer(n, 30000);
	CU_ASSERT_EQUAL_FATAL(R.n_sol, 1);
	CU_ASSERT_TRUE(R.sol[0].unicast);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&R.sol[0].dst, &MAC1));
	CU_ASSERT_EQUAL(R.sol[0].iface, 3);
	CU_ASSERT_TRUE(info(n, &k, 30000, &in));
	CU_ASSERT_EQUAL(in.state, SP_NEIGH_PROBE);
	CU_ASSERT_EQUAL(in.probes, 1);
	CU_ASSERT_EQUAL(in.age_ms, 30000);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), 0);

	/* Answered: reachable again, for another reachable_ms. */
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC1, true, false, 30500), 0);
	CU_ASSERT_TRUE(info(n, &k, 30500, &in));
	CU_ASSERT_EQUAL(in.state, SP_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(in.age_ms, 0);
	CU_ASSERT_EQUAL(in.probes, 0);
	sp_neigh_timer(n, 60499);
	CU_ASSERT_EQUAL(R.n_sol, 1);
	CU_ASSERT_EQUAL(stats(n).updates, 0);

	/* Unanswered: `probes` unicast probes retrans_ms apart, then the entry is gone. */
	for (i = 0; i < 3; i++) {
		sp_neigh_timer(n, 60500 + 1000 * i);
		CU_ASSERT_EQUAL(R.n_sol, 2 + i);
		CU_ASSERT_TRUE(R.sol[1 + i].unicast);
		CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), 0);
	}
	sp_neigh_timer(n, 63499);
	CU_ASSERT_TRUE(info(n, &k, 63499, NULL));
	sp_neigh_timer(n, 63500);
	CU_ASSERT_FALSE(info(n, &k, 63500, NULL));
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), -ENOENT);
	CU_ASSERT_EQUAL(R.n_sol, 4);
	CU_ASSERT_EQUAL(stats(n).expired, 1);
	CU_ASSERT_EQUAL(stats(n).failed, 0);
	CU_ASSERT_EQUAL(stats(n).solicits, 4);
	destroy(n);
}

static void
test_mac_change(void)
{
	struct sp_neigh *n = table("nb_update", NULL);
	struct sp_neigh_key k = key(0, "10.1.0.20");
	struct rte_ether_addr mac;
	struct sp_neigh_info in;

	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC1, true, true, 0), 0);
	/* Unsolicited, same MAC: nothing changes (not a confirmation either). */
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC1, false, true, 1000), 0);
	CU_ASSERT_TRUE(info(n, &k, 1000, &in));
	CU_ASSERT_EQUAL(in.age_ms, 1000);
	CU_ASSERT_EQUAL(stats(n).updates, 0);

	/* Unsolicited, new MAC: used at once, and probed to confirm it. */
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC2, false, true, 2000), 0);
	CU_ASSERT_EQUAL(stats(n).updates, 1);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), 0);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&mac, &MAC2));
	CU_ASSERT_TRUE(info(n, &k, 2000, &in));
	CU_ASSERT_EQUAL(in.state, SP_NEIGH_PROBE);
	sp_neigh_timer(n, 2000);
	CU_ASSERT_EQUAL_FATAL(R.n_sol, 1);
	CU_ASSERT_TRUE(R.sol[0].unicast);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&R.sol[0].dst, &MAC2));

	/* A solicited answer with yet another MAC: updated and confirmed. */
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC3, true, false, 2100), 0);
	CU_ASSERT_EQUAL(stats(n).updates, 2);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), 0);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&mac, &MAC3));
	CU_ASSERT_TRUE(info(n, &k, 2100, &in));
	CU_ASSERT_EQUAL(in.state, SP_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(stats(n).resolved, 0); /* created resolved, never INCOMPLETE */

	/* Unknown key without create. */
	k = key(0, "10.1.0.21");
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC1, false, false, 2200), -ENOENT);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC1, false, true, 2200), 0);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), 0);
	destroy(n);
}

static void
test_static(void)
{
	struct sp_neigh *n = table("nb_static", NULL);
	struct sp_neigh_key k = key(0, "10.1.0.30"), k2 = key(0, "10.1.0.31");
	struct rte_ether_addr mac;
	struct sp_neigh_info in;
	uint32_t first;

	CU_ASSERT_EQUAL(sp_neigh_add_static(n, &k, &MAC1), 0);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), 0);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&mac, &MAC1));
	sp_neigh_timer(n, 10ull * 24 * 3600 * 1000);
	CU_ASSERT_EQUAL(R.n_sol, 0);
	CU_ASSERT_TRUE(info(n, &k, 0, &in));
	CU_ASSERT_EQUAL(in.state, SP_NEIGH_STATIC);
	/* ARP/ND cannot move it. */
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC2, true, true, 100), -EPERM);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k, &MAC2, false, false, 100), -EPERM);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), 0);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&mac, &MAC1));
	/* Adding again changes its MAC. */
	CU_ASSERT_EQUAL(sp_neigh_add_static(n, &k, &MAC3), 0);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), 0);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&mac, &MAC3));

	/* An entry being resolved becomes static and its queue goes out. */
	first = next_seq + 1;
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k2, pkt(), 0), 0);
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k2, pkt(), 0), 0);
	CU_ASSERT_EQUAL(sp_neigh_add_static(n, &k2, &MAC2), 0);
	CU_ASSERT_EQUAL_FATAL(R.n_sent, 2);
	CU_ASSERT_EQUAL(R.sent[0].seq, first);
	CU_ASSERT_EQUAL(R.sent[1].seq, first + 1);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&R.sent[1].mac, &MAC2));
	sp_neigh_timer(n, 1000000);
	CU_ASSERT_EQUAL(R.n_sol, 1);

	CU_ASSERT_EQUAL(sp_neigh_del(n, &k), 0);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &k, &mac), -ENOENT);
	CU_ASSERT_EQUAL(sp_neigh_del(n, &k), -ENOENT);
	CU_ASSERT_EQUAL(stats(n).entries, 1);

	/* del of an entry being resolved drops its queue. */
	k = key(0, "10.1.0.32");
	first = next_seq + 1;
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, pkt(), 0), 0);
	CU_ASSERT_EQUAL(sp_neigh_del(n, &k), 0);
	CU_ASSERT_EQUAL(R.n_drop, 1);
	CU_ASSERT_EQUAL(R.drop[0].seq, first);
	CU_ASSERT_EQUAL(R.drop[0].reason, SP_DROP_NEIGH_FAILED);
	destroy(n);
}

static void
test_full_eviction(void)
{
	struct sp_neigh *n = table("nb_full", NULL);
	struct sp_neigh_key a = key(0, "10.1.0.1"), b = key(0, "10.1.0.2"), c = key(0, "10.1.0.3");
	struct sp_neigh_key d = key(0, "10.1.0.4"), e = key(0, "10.1.0.5"), f = key(0, "10.1.0.6");
	struct sp_neigh_key g = key(0, "10.1.0.7"), h = key(0, "10.1.0.8");
	struct rte_ether_addr mac;
	struct rte_mbuf *m;

	CU_ASSERT_EQUAL(sp_neigh_input(n, &a, &MAC1, true, true, 100), 0);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &b, &MAC1, true, true, 200), 0);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &c, &MAC1, true, true, 300), 0);
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &d, pkt(), 400), 0);
	CU_ASSERT_EQUAL(stats(n).entries, 4);

	/* Full: the least recently confirmed resolved entry makes room. */
	CU_ASSERT_EQUAL(sp_neigh_input(n, &e, &MAC2, true, true, 500), 0);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &a, &mac), -ENOENT);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &e, &mac), 0);
	CU_ASSERT_EQUAL(stats(n).evicted, 1);
	/* Confirming b makes c the oldest. */
	CU_ASSERT_EQUAL(sp_neigh_input(n, &b, &MAC1, true, false, 600), 0);
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &f, pkt(), 700), 0);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &c, &mac), -ENOENT);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &b, &mac), 0);
	/* Now e (500) goes before b (600); the INCOMPLETE d and f are never evicted. */
	CU_ASSERT_EQUAL(sp_neigh_add_static(n, &g, &MAC3), 0);
	CU_ASSERT_EQUAL(sp_neigh_lookup(n, &e, &mac), -ENOENT);
	CU_ASSERT_TRUE(info(n, &d, 800, NULL));
	CU_ASSERT_TRUE(info(n, &f, 800, NULL));
	CU_ASSERT_EQUAL(stats(n).evicted, 3);
	CU_ASSERT_EQUAL(sp_neigh_add_static(n, &b, &MAC1), 0);

	/* Only static and INCOMPLETE entries left: refused, packet not taken. */
	m = pkt();
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &h, m, 900), -ENOSPC);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &h, &MAC1, true, true, 900), -ENOSPC);
	CU_ASSERT_EQUAL(sp_neigh_add_static(n, &h, &MAC1), -ENOSPC);
	CU_ASSERT_EQUAL(stats(n).table_full, 3);
	CU_ASSERT_EQUAL(stats(n).entries, 4);
	CU_ASSERT_EQUAL(stats(n).evicted, 3);
	/* Deleting one makes room again. */
	CU_ASSERT_EQUAL(sp_neigh_del(n, &g), 0);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &h, &MAC1, true, true, 1000), 0);
	destroy(n);
	CU_ASSERT_EQUAL(R.n_drop, 2); /* d's and f's held packets */
}

static void
test_lookup_bulk(void)
{
	struct sp_neigh *n = table("nb_bulk", NULL);
	struct sp_neigh_key k[5] = {
		key(0, "10.1.0.1"), key(0, "fd00:1::1"), key(0, "10.1.0.3"), key(0, "10.1.0.4"),
		key(1, "10.1.0.1"),
	};
	const struct sp_neigh_key *kp[70];
	struct rte_ether_addr macs[70];
	unsigned int i;

	CU_ASSERT_EQUAL(sp_neigh_input(n, &k[0], &MAC1, true, true, 0), 0);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &k[1], &MAC2, true, true, 0), 0);
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k[2], pkt(), 0), 0);   /* INCOMPLETE */
	/* k[3]: absent; k[4]: same address, other interface, static */
	CU_ASSERT_EQUAL(sp_neigh_add_static(n, &k[4], &MAC3), 0);
	for (i = 0; i < 5; i++)
		kp[i] = &k[i];
	memset(macs, 0, sizeof(macs));
	CU_ASSERT_EQUAL(sp_neigh_lookup_bulk(n, kp, 5, macs), 0x13);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&macs[0], &MAC1));
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&macs[1], &MAC2));
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&macs[4], &MAC3));
	CU_ASSERT_TRUE(rte_is_zero_ether_addr(&macs[2]));
	CU_ASSERT_TRUE(rte_is_zero_ether_addr(&macs[3]));
	CU_ASSERT_EQUAL(sp_neigh_lookup_bulk(n, kp, 0, macs), 0);
	/* More than 64 keys: the first 64 are looked up. */
	for (i = 0; i < 70; i++)
		kp[i] = &k[i % 2];
	CU_ASSERT_EQUAL(sp_neigh_lookup_bulk(n, kp, 70, macs), UINT64_MAX);
	CU_ASSERT_TRUE(rte_is_same_ether_addr(&macs[63], &MAC2));
	destroy(n);
}

static void
test_bad_keys(void)
{
	struct sp_neigh *n = table("nb_keys", NULL);
	struct sp_neigh_key bad[9];
	struct rte_ether_addr mac, bcast, zero;
	struct sp_neigh_key good = key(0, "10.1.0.1");
	struct rte_mbuf *m = pkt();
	unsigned int i;

	bad[0] = key(0, "10.1.0.1");
	bad[0].family = 0;
	bad[1] = key(0, "10.1.0.1");
	bad[1].ip[7] = 1;
	bad[2] = key(0, "224.0.0.5");
	bad[3] = key(0, "255.255.255.255");
	bad[4] = key(0, "0.0.0.0");
	bad[5] = key(SP_MAX_IFACES, "10.1.0.1");
	bad[6] = key(0, "10.1.0.1");
	bad[6].pad = 1;
	bad[7] = key(0, "ff02::1:ff00:1");
	bad[8] = key(0, "::");
	for (i = 0; i < RTE_DIM(bad); i++) {
		CU_ASSERT_EQUAL(sp_neigh_resolve(n, &bad[i], m, 0), -EINVAL);
		CU_ASSERT_EQUAL(sp_neigh_input(n, &bad[i], &MAC1, true, true, 0), -EINVAL);
		CU_ASSERT_EQUAL(sp_neigh_add_static(n, &bad[i], &MAC1), -EINVAL);
		CU_ASSERT_EQUAL(sp_neigh_del(n, &bad[i]), -EINVAL);
		CU_ASSERT_EQUAL(sp_neigh_lookup(n, &bad[i], &mac), -ENOENT);
	}
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &good, NULL, 0), -EINVAL);
	memset(&bcast, 0xff, sizeof(bcast));
	memset(&zero, 0, sizeof(zero));
	CU_ASSERT_EQUAL(sp_neigh_input(n, &good, &bcast, true, true, 0), -EINVAL);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &good, &zero, true, true, 0), -EINVAL);
	CU_ASSERT_EQUAL(sp_neigh_add_static(n, &good, &bcast), -EINVAL);
	CU_ASSERT_EQUAL(stats(n).entries, 0);
	CU_ASSERT_EQUAL(R.n_sol + R.n_sent + R.n_drop, 0);
	rte_pktmbuf_free(m);
	destroy(n);
}

static void
test_solicit_errors(void)
{
	struct sp_neigh *n = table("nb_solerr", NULL);
	struct sp_neigh_key k = key(0, "10.1.0.40");

	R.solicit_ret = -EIO;
	CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k, pkt(), 0), 0);
	sp_neigh_timer(n, 1000);
	sp_neigh_timer(n, 2000);
	sp_neigh_timer(n, 3000);
	/* Failed sends count as attempts: the entry still fails after `probes`. */
	CU_ASSERT_EQUAL(R.n_sol, 3);
	CU_ASSERT_EQUAL(stats(n).solicit_errors, 3);
	CU_ASSERT_EQUAL(stats(n).solicits, 0);
	CU_ASSERT_EQUAL(stats(n).failed, 1);
	CU_ASSERT_EQUAL(R.n_drop, 1);
	destroy(n);
}

/* Deleted keys' slots return to the hash only after every reader has been quiescent. */
static void
test_rcu_slots(void)
{
	struct sp_neigh *n = table("nb_rcu", NULL);
	struct rte_hash *h = rte_hash_find_existing("nb_rcu");
	struct rte_rcu_qsbr *v = sp_rcu_qsbr();
	struct sp_neigh_key a = key(0, "10.1.0.50"), b = key(0, "10.1.0.51");

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL_FATAL(sp_rcu_online(1), 0);
	CU_ASSERT_EQUAL(sp_neigh_input(n, &a, &MAC1, true, true, 0), 0);
	CU_ASSERT_EQUAL(rte_hash_count(h), 1);
	CU_ASSERT_EQUAL(sp_neigh_del(n, &a), 0);
	/* A reader may still hold a's slot: it is not free yet. */
	CU_ASSERT_EQUAL(rte_hash_count(h), 1);
	CU_ASSERT_EQUAL(stats(n).entries, 0);
	sp_rcu_quiescent(v, 1);
	/* The next delete reclaims a's slot; b's waits for the next quiescent state. */
	CU_ASSERT_EQUAL(sp_neigh_input(n, &b, &MAC1, true, true, 0), 0);
	CU_ASSERT_EQUAL(rte_hash_count(h), 2);
	CU_ASSERT_EQUAL(sp_neigh_del(n, &b), 0);
	CU_ASSERT_EQUAL(rte_hash_count(h), 1);
	sp_rcu_offline(1);
	destroy(n);
}

static void
test_destroy_drops(void)
{
	struct sp_neigh *n = table("nb_destroy", NULL);
	struct sp_neigh_key k1 = key(0, "10.1.0.60"), k2 = key(2, "2001:db8::60");
	unsigned int i;

	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k1, pkt(), 0), 0);
	for (i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(sp_neigh_resolve(n, &k2, pkt(), 0), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 5);
	sp_neigh_destroy(n);
	CU_ASSERT_EQUAL(R.n_drop, 5);
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(R.drop[i].reason, SP_DROP_NEIGH_FAILED);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
	sp_neigh_destroy(NULL);
}

static int
suite_init(void)
{
	if (sp_test_eal_init() != 0 || sp_rcu_init(2) != 0)
		return -1;
	/* No per-lcore cache, so the in-use count is exact. */
	pool = rte_pktmbuf_pool_create("nb_test_pool", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	return pool != NULL ? 0 : -1;
}

static int
suite_fini(void)
{
	rte_mempool_free(pool);
	sp_rcu_fini();
	return 0;
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("neigh", suite_init, suite_fini);
	CU_add_test(s, "create checks", test_create_errors);
	CU_add_test(s, "solicit, retransmit, fail", test_solicit_retransmit_fail);
	CU_add_test(s, "answer releases the queue in order", test_resolve_then_answer);
	CU_add_test(s, "hold queue bound", test_hold_bound);
	CU_add_test(s, "reachable, probe, expire", test_probe_cycle);
	CU_add_test(s, "MAC changes", test_mac_change);
	CU_add_test(s, "static entries", test_static);
	CU_add_test(s, "eviction order when full", test_full_eviction);
	CU_add_test(s, "bulk lookup hit mask", test_lookup_bulk);
	CU_add_test(s, "bad keys and MACs", test_bad_keys);
	CU_add_test(s, "failed solicitations", test_solicit_errors);
	CU_add_test(s, "deleted slots wait for RCU", test_rcu_slots);
	CU_add_test(s, "destroy drops held packets", test_destroy_drops);
	return sp_test_run();
}
