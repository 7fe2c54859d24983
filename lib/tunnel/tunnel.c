/* SPDX-License-Identifier: BSD-3-Clause */
/* Peers, their prefixes as TUNNEL routes, and the epochs of SAs behind each (control core). */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "tunnel_private.h"
#include "sp_rcu.h"
#include "sp_route.h"

SP_LOG_TYPE(tunnel);

struct tun_state T;

/* ---- helpers ---- */

static void
set_err(char *err, size_t len, const char *fmt, ...) __rte_format_printf(3, 4);

static void
set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

uint64_t
sp_tun_now(void)
{
	return rte_get_tsc_cycles() / rte_get_tsc_hz();
}

static struct tun_peer *
peer_get(unsigned int peer)
{
	return T.up && peer < T.n_peers ? &T.peers[peer] : NULL;
}

static struct tun_epoch *
epoch_find(struct tun_peer *p, uint64_t epoch)
{
	unsigned int i;

	for (i = 0; i < SP_TUN_EPOCHS; i++)
		if (p->ep[i].epoch == epoch && epoch != 0)
			return &p->ep[i];
	return NULL;
}

static struct tun_epoch *
epoch_get(struct tun_peer *p, uint64_t epoch, bool create)
{
	struct tun_epoch *e = epoch_find(p, epoch);
	unsigned int i;

	if (e != NULL || !create || epoch == 0)
		return e;
	for (i = 0; i < SP_TUN_EPOCHS; i++)
		if (p->ep[i].epoch == 0) {
			memset(&p->ep[i], 0, sizeof(p->ep[i]));
			p->ep[i].epoch = epoch;
			p->ep[i].created = sp_tun_now();
			return &p->ep[i];
		}
	return NULL;
}

static void
sa_destroy_cb(void *sa)
{
	sp_esp_sa_destroy(sa);
}

static void
outset_free_cb(void *o)
{
	rte_free(o);
}

/* Publish the peer's outbound set (NULL: tunnel down); the old one goes after a grace period. */
static int
publish_out(struct tun_peer *p, const struct tun_epoch *e)
{
	struct tun_outset *o = NULL, *old;
	unsigned int i;

	if (e != NULL && e->n_out > 0) {
		o = rte_zmalloc("sp_tun_out", sizeof(*o), RTE_CACHE_LINE_SIZE);
		if (o == NULL)
			return -ENOMEM;
		o->epoch = e->epoch;
		o->n = e->n_out;
		for (i = 0; i < e->n_out; i++)
			o->sa[i] = e->out[i];
	}
	old = p->out;
	__atomic_store_n(&p->out, o, __ATOMIC_RELEASE);
	p->active = o != NULL ? e->epoch : 0;
	if (old != NULL && (sp_rcu_qsbr() == NULL || sp_rcu_defer(old, outset_free_cb) < 0))
		rte_free(old);
	return 0;
}

/* Unpublish and free an epoch's SAs: inbound through the SPI table, outbound after RCU. */
static void
epoch_clear(struct tun_peer *p, struct tun_epoch *e)
{
	unsigned int i;

	if (p->active == e->epoch && e->epoch != 0)
		publish_out(p, NULL);
	for (i = 0; i < e->n_in + e->n_out; i++) {
		struct sp_esp_sa *sa = i < e->n_in ? e->in[i] : e->out[i - e->n_in];
		struct sp_esp_sa_stats st;

		if (sa == NULL)
			continue;
		sp_esp_sa_stats(sa, &st);
		p->gone_packets[i >= e->n_in] += st.packets;
		p->gone_bytes[i >= e->n_in] += st.bytes;
	}
	for (i = 0; i < e->n_in; i++)
		if (e->in[i] != NULL)
			sp_esp_table_del(T.table, sp_esp_sa_spi(e->in[i]));
	for (i = 0; i < e->n_out; i++) {
		if (e->out[i] == NULL)
			continue;
		if (sp_rcu_qsbr() == NULL || sp_rcu_defer(e->out[i], sa_destroy_cb) < 0)
			sp_esp_sa_destroy(e->out[i]);
	}
	memset(e, 0, sizeof(*e));
}

/* ---- SA creation ---- */

static void
sa_conf_fill(struct sp_esp_sa_conf *c, const struct tun_peer *p, enum sp_esp_dir dir,
	     uint32_t spi, const struct sp_crypto_key *key, unsigned int owner)
{
	const struct sp_conf_peer *pc = &T.conf.peers[p->index];
	const struct sp_conf_lifetime *l = &T.conf.lifetime;

	memset(c, 0, sizeof(*c));
	c->spi = spi;
	c->dir = dir;
	c->key = *key;
	if (dir == SP_ESP_OUTBOUND) {
		c->src = p->local;
		c->dst = pc->address;
	} else {
		c->src = pc->address;
		c->dst = p->local;
	}
	c->udp_encap = pc->udp_encap;
	c->esn = pc->esn;
	c->replay_window = T.conf.replay_window;
	c->replay_off = T.conf.replay_window == 0;
	c->path_mtu = p->path_mtu;
	c->owner = owner;
	c->tag = p->index;
	c->created = sp_tun_now();
	if (pc->n_manual == 0) {
		c->soft.seconds = l->soft_seconds;
		c->hard.seconds = l->hard_seconds;
		c->soft.bytes = l->soft_bytes;
		c->hard.bytes = l->hard_bytes;
		c->soft.packets = l->soft_packets;
		c->hard.packets = l->hard_packets;
	}
}

static int
add_half(unsigned int peer, uint64_t epoch, const uint32_t *spis,
	 const struct sp_crypto_key *keys, unsigned int n, enum sp_esp_dir dir, char *err,
	 size_t errlen)
{
	struct tun_peer *p = peer_get(peer);
	struct sp_esp_sa *sas[SP_TUN_MAX_SAS] = { NULL };
	struct sp_esp_sa_conf c;
	struct tun_epoch *e;
	bool fresh;
	unsigned int i, k;
	char why[160];
	int rc = 0;

	/* epoch 0 means "none" (sp_tun_active_epoch): it can never be added */
	if (p == NULL || epoch == 0 || spis == NULL || keys == NULL || n == 0 ||
	    n > SP_TUN_MAX_SAS) {
		set_err(err, errlen, "invalid peer, epoch or SA count");
		return -EINVAL;
	}
	e = epoch_find(p, epoch);
	fresh = e == NULL;
	if (e != NULL && (dir == SP_ESP_INBOUND ? e->n_in : e->n_out) != 0) {
		set_err(err, errlen, "peer %s epoch %llu already has %s SAs", p->name,
			(unsigned long long)epoch, dir == SP_ESP_INBOUND ? "inbound" : "outbound");
		return -EEXIST;
	}
	e = epoch_get(p, epoch, true);
	if (e == NULL) {
		set_err(err, errlen, "peer %s: no free epoch slot (%d alive)", p->name,
			SP_TUN_EPOCHS);
		return -ENOSPC;
	}
	for (i = 0; i < n; i++) {
		if (dir == SP_ESP_INBOUND) {
			for (k = 0; k < i; k++)
				if (spis[k] == spis[i])
					break;
			if (k < i || sp_esp_table_lookup(T.table, spis[i]) != NULL) {
				set_err(err, errlen, "SPI %u is already in use", spis[i]);
				rc = -EEXIST;
				break;
			}
		}
		sa_conf_fill(&c, p, dir, spis[i], &keys[i], i % T.n_workers);
		sas[i] = sp_esp_sa_create(&c, T.engine, why, sizeof(why));
		memset(&c.key, 0, sizeof(c.key));
		__asm__ volatile("" : : "r"(&c) : "memory"); /* keep the wipe */
		if (sas[i] == NULL) {
			set_err(err, errlen, "peer %s SPI %u: %s", p->name, spis[i], why);
			rc = -EINVAL;
			break;
		}
		if (dir == SP_ESP_INBOUND) {
			rc = sp_esp_table_add(T.table, sas[i]);
			if (rc < 0) {
				set_err(err, errlen, "SPI %u: %s", spis[i], strerror(-rc));
				sp_esp_sa_destroy(sas[i]);
				sas[i] = NULL;
				break;
			}
		}
	}
	if (rc < 0) {
		for (k = 0; k < n; k++) {
			if (sas[k] == NULL)
				continue;
			if (dir == SP_ESP_INBOUND)
				sp_esp_table_del(T.table, spis[k]);
			else
				sp_esp_sa_destroy(sas[k]);
		}
		if (fresh)
			memset(e, 0, sizeof(*e));
		return rc;
	}
	for (i = 0; i < n; i++) {
		if (dir == SP_ESP_INBOUND)
			e->in[i] = sas[i];
		else
			e->out[i] = sas[i];
	}
	if (dir == SP_ESP_INBOUND)
		e->n_in = n;
	else
		e->n_out = n;
	SP_LOG(tunnel, INFO, "peer %s epoch %llu: %u %s SA%s on %s", p->name,
	       (unsigned long long)epoch, n, dir == SP_ESP_INBOUND ? "inbound" : "outbound",
	       n == 1 ? "" : "s", sp_crypto_engine_name(T.engine));
	return 0;
}

int
sp_tun_add_inbound(unsigned int peer, uint64_t epoch, const uint32_t *spis,
		   const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen)
{
	return add_half(peer, epoch, spis, keys, n, SP_ESP_INBOUND, err, errlen);
}

int
sp_tun_add_outbound(unsigned int peer, uint64_t epoch, const uint32_t *spis,
		    const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen)
{
	return add_half(peer, epoch, spis, keys, n, SP_ESP_OUTBOUND, err, errlen);
}

int
sp_tun_activate(unsigned int peer, uint64_t epoch)
{
	struct tun_peer *p = peer_get(peer);
	struct tun_epoch *e = p != NULL ? epoch_find(p, epoch) : NULL;
	int rc;

	if (e == NULL || e->n_out == 0)
		return -ENOENT;
	rc = publish_out(p, e);
	if (rc == 0) {
		e->activated = sp_tun_now();
		SP_LOG(tunnel, INFO, "peer %s: sending on epoch %llu", p->name,
		       (unsigned long long)epoch);
	}
	return rc;
}

int
sp_tun_retire(unsigned int peer, uint64_t epoch)
{
	struct tun_peer *p = peer_get(peer);
	struct tun_epoch *e = p != NULL ? epoch_find(p, epoch) : NULL;

	if (e == NULL)
		return -ENOENT;
	SP_LOG(tunnel, INFO, "peer %s: epoch %llu retired", p->name, (unsigned long long)epoch);
	epoch_clear(p, e);
	return 0;
}

void
sp_tun_flush(unsigned int peer)
{
	struct tun_peer *p = peer_get(peer);
	unsigned int i, n = 0;

	if (p == NULL)
		return;
	publish_out(p, NULL);
	for (i = 0; i < SP_TUN_EPOCHS; i++)
		if (p->ep[i].epoch != 0) {
			epoch_clear(p, &p->ep[i]);
			n++;
		}
	if (n > 0)
		SP_LOG(tunnel, NOTICE, "peer %s: every SA removed, tunnel down", p->name);
}

uint64_t
sp_tun_active_epoch(unsigned int peer)
{
	struct tun_peer *p = peer_get(peer);

	return p != NULL ? p->active : 0;
}

unsigned int
sp_tun_epochs(unsigned int peer, uint64_t *epochs, unsigned int max)
{
	struct tun_peer *p = peer_get(peer);
	unsigned int i, n = 0;

	if (p == NULL)
		return 0;
	for (i = 0; i < SP_TUN_EPOCHS; i++)
		if (p->ep[i].epoch != 0) {
			if (n < max)
				epochs[n] = p->ep[i].epoch;
			n++;
		}
	return n;
}

bool
sp_tun_rekey_wanted(unsigned int peer, bool *hard)
{
	struct tun_peer *p = peer_get(peer);
	struct tun_epoch *e;
	bool want = false, h = false;
	unsigned int i;

	if (p != NULL && p->active != 0 && (e = epoch_find(p, p->active)) != NULL) {
		for (i = 0; i < e->n_out; i++) {
			want |= sp_esp_sa_rekey_wanted(e->out[i]);
			h |= sp_esp_sa_expired(e->out[i]);
		}
		for (i = 0; i < e->n_in; i++) {
			want |= sp_esp_sa_rekey_wanted(e->in[i]);
			h |= sp_esp_sa_expired(e->in[i]);
		}
	}
	if (hard != NULL)
		*hard = h;
	return want || h;
}

int
sp_tun_spi_alloc(uint32_t *spis, unsigned int n)
{
	unsigned int i, k, tries = 0;

	if (!T.up)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		uint32_t v;

		do {
			if (++tries > 64 * (n + 1))
				return -ENOSPC;
			if (getrandom(&v, sizeof(v), 0) != sizeof(v))
				v = (uint32_t)rte_rand();
			for (k = 0; k < i && spis[k] != v; k++)
				;
		} while (v < 256 || k < i || sp_esp_table_lookup(T.table, v) != NULL ||
			 T.reserved_spi(v));
		spis[i] = v;
	}
	return 0;
}

void
sp_tun_set_status(unsigned int peer, const char *state, const char *detail)
{
	struct tun_peer *p = peer_get(peer);

	if (p == NULL)
		return;
	snprintf(p->state, sizeof(p->state), "%s", state != NULL ? state : "");
	snprintf(p->detail, sizeof(p->detail), "%s", detail != NULL ? detail : "");
}

void
sp_tun_set_hooks(const struct sp_tun_hooks *h)
{
	if (h != NULL)
		T.hooks = *h;
	else
		memset(&T.hooks, 0, sizeof(T.hooks));
}

/* ---- peers ---- */

unsigned int
sp_tun_peer_count(void)
{
	return T.up ? T.n_peers : 0;
}

int
sp_tun_peer_find(const char *name)
{
	unsigned int i;

	for (i = 0; T.up && i < T.n_peers; i++)
		if (strcmp(T.peers[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

const struct sp_conf_peer *
sp_tun_peer_conf(unsigned int peer)
{
	return peer_get(peer) != NULL ? &T.conf.peers[peer] : NULL;
}

const struct sp_ip *
sp_tun_peer_local(unsigned int peer)
{
	struct tun_peer *p = peer_get(peer);

	return p != NULL ? &p->local : NULL;
}

const struct sp_conf_tunnels *
sp_tun_conf(void)
{
	return &T.conf;
}

unsigned int
sp_tun_n_workers(void)
{
	return T.n_workers;
}

static const char *
peer_name(uint16_t peer)
{
	return peer < T.n_peers ? T.peers[peer].name : NULL;
}

/* A manual peer's SPIs are fixed by the operator; random ones must not take them. */
static bool
manual_spi(uint32_t spi)
{
	unsigned int i, k;

	for (i = 0; i < T.conf.n_peers; i++)
		for (k = 0; k < T.conf.peers[i].n_manual; k++)
			if (T.conf.peers[i].manual[k].spi_in == spi)
				return true;
	return false;
}

/* The next hop the current routing table gives for an address. */
static const struct sp_nexthop *
route_to(const struct sp_ip *addr)
{
	const struct sp_rtab *rt = sp_route_table();
	uint64_t id;

	if (addr->family == AF_INET) {
		uint32_t v4 = rte_be_to_cpu_32(addr->v4);

		sp_rtab_lookup4(rt, &v4, &id, 1);
	} else {
		sp_rtab_lookup6(rt, (const uint8_t (*)[16])addr->v6, &id, 1);
	}
	return sp_rtab_nh(rt, id);
}

/* Our end and the largest outer packet: from the route to the peer's address. */
static int
peer_path(struct tun_peer *p, const struct sp_conf_peer *pc, char *err, size_t errlen)
{
	const struct sp_nexthop *nh;
	const struct sp_iface *ifc = NULL;
	const struct sp_ip *a;
	char b[SP_IP_STRLEN];

	sp_ip_format(&pc->address, b, sizeof(b), false);
	nh = route_to(&pc->address);
	if (nh->type == SP_NH_CONNECTED || nh->type == SP_NH_GATEWAY)
		ifc = sp_iface_get(nh->iface);
	if (ifc == NULL) {
		set_err(err, errlen, "tunnels.peers.[%u] (\"%s\"): no route to its address %s "
			"outside the tunnels", p->index, pc->name, b);
		return -ENETUNREACH;
	}
	if (pc->has_local) {
		p->local = pc->local;
	} else {
		a = sp_iface_addr(ifc, pc->address.family);
		if (a == NULL) {
			set_err(err, errlen, "tunnels.peers.[%u] (\"%s\"): interface %s has no %s "
				"address to reach %s from", p->index, pc->name, ifc->name,
				pc->address.family == AF_INET ? "IPv4" : "IPv6", b);
			return -EADDRNOTAVAIL;
		}
		p->local = *a;
		p->local.plen = pc->address.family == AF_INET ? 32 : 128;
	}
	p->path_mtu = pc->path_mtu != 0 && pc->path_mtu < ifc->mtu ? pc->path_mtu : ifc->mtu;
	return 0;
}

int
tun_install_manual(struct tun_peer *p, const struct sp_conf_peer *pc, char *err, size_t errlen)
{
	uint32_t spi_in[SP_TUN_MAX_SAS], spi_out[SP_TUN_MAX_SAS];
	struct sp_crypto_key kin[SP_TUN_MAX_SAS], kout[SP_TUN_MAX_SAS];
	unsigned int i, klen = pc->manual[0].keymat_len - SP_CRYPTO_SALT_LEN;
	enum sp_crypto_alg alg = klen == 16 ? SP_CRYPTO_AES128_GCM : SP_CRYPTO_AES256_GCM;
	int rc;

	memset(kin, 0, sizeof(kin));
	memset(kout, 0, sizeof(kout));
	for (i = 0; i < pc->n_manual; i++) {
		const struct sp_conf_manual_sa *m = &pc->manual[i];

		spi_in[i] = m->spi_in;
		spi_out[i] = m->spi_out;
		kin[i].alg = alg;
		kout[i].alg = alg;
		memcpy(kin[i].key, m->key_in, klen);
		memcpy(kin[i].salt, m->key_in + klen, SP_CRYPTO_SALT_LEN);
		memcpy(kout[i].key, m->key_out, klen);
		memcpy(kout[i].salt, m->key_out + klen, SP_CRYPTO_SALT_LEN);
	}
	rc = sp_tun_add_inbound(p->index, 1, spi_in, kin, pc->n_manual, err, errlen);
	if (rc == 0)
		rc = sp_tun_add_outbound(p->index, 1, spi_out, kout, pc->n_manual, err, errlen);
	if (rc == 0)
		rc = sp_tun_activate(p->index, 1);
	memset(kin, 0, sizeof(kin));
	memset(kout, 0, sizeof(kout));
	__asm__ volatile("" : : "r"(kin), "r"(kout) : "memory");
	if (rc == 0)
		sp_tun_set_status(p->index, "manual", "static keys from the configuration");
	return rc;
}

int
sp_tun_init(const struct sp_tun_params *prm, char *err, size_t errlen)
{
	static struct sp_route routes[SP_CONF_MAX_PEERS * SP_CONF_MAX_PEER_PREFIXES];
	const struct sp_conf_tunnels *tc;
	unsigned int i, k, n_rt = 0, bad = 0;
	int rc;

	if (T.up)
		return -EEXIST;
	if (prm == NULL || prm->conf == NULL || prm->engine == NULL || prm->n_workers == 0 ||
	    prm->n_workers > SP_TUN_MAX_SAS) {
		set_err(err, errlen, "tunnels: invalid parameters");
		return -EINVAL;
	}
	tc = &prm->conf->tunnels;
	memset(&T, 0, sizeof(T));
	T.conf = *tc;
	T.engine = prm->engine;
	T.n_workers = prm->n_workers;
	T.n_peers = tc->n_peers;
	T.reserved_spi = manual_spi;
	T.table = sp_esp_table_create();
	if (T.table == NULL) {
		set_err(err, errlen, "tunnels: SPI table: out of memory");
		return -ENOMEM;
	}
	T.up = true;
	for (i = 0; i < T.n_peers; i++) {
		const struct sp_conf_peer *pc = &tc->peers[i];
		struct tun_peer *p = &T.peers[i];

		p->index = i;
		snprintf(p->name, sizeof(p->name), "%s", pc->name);
		snprintf(p->state, sizeof(p->state), "%s", pc->n_manual ? "manual" : "down");
		rc = peer_path(p, pc, err, errlen);
		if (rc < 0)
			goto fail;
		for (k = 0; k < pc->n_prefixes; k++) {
			struct sp_route *r = &routes[n_rt++];

			memset(r, 0, sizeof(*r));
			r->prefix = pc->prefixes[k];
			r->type = SP_NH_TUNNEL;
			r->origin = SP_RO_TUNNEL;
			r->iface = SP_IFACE_NONE;
			r->peer = (uint16_t)i;
		}
	}
	sp_route_set_peer_name_fn(peer_name);
	rc = sp_route_replace(SP_RO_TUNNEL, routes, n_rt, &bad);
	if (rc < 0) {
		char b[SP_IP_STRLEN] = "-";

		if (bad < n_rt)
			sp_ip_format(&routes[bad].prefix, b, sizeof(b), true);
		set_err(err, errlen, "tunnels: route for prefix %s: %s", b,
			rc == -EEXIST ? "already routed (a console route?)" : strerror(-rc));
		goto fail;
	}
	/* A peer's address behind another peer's prefix would send its ESP into that tunnel
	 * (dropped as tunnel-loop): check with the prefixes in place. */
	for (i = 0; i < T.n_peers; i++) {
		const struct sp_nexthop *nh = route_to(&tc->peers[i].address);

		if (nh->type == SP_NH_TUNNEL) {
			char b[SP_IP_STRLEN];

			sp_ip_format(&tc->peers[i].address, b, sizeof(b), false);
			set_err(err, errlen, "tunnels.peers.[%u] (\"%s\"): its address %s would be "
				"routed into the tunnel to peer \"%s\"", i, tc->peers[i].name, b,
				peer_name(nh->peer));
			rc = -ELOOP;
			goto fail;
		}
	}
	for (i = 0; i < T.n_peers; i++) {
		if (tc->peers[i].n_manual == 0)
			continue;
		rc = tun_install_manual(&T.peers[i], &tc->peers[i], err, errlen);
		if (rc < 0)
			goto fail;
	}
	SP_LOG(tunnel, INFO, "%u peer%s, %u prefix route%s, engine %s", T.n_peers,
	       T.n_peers == 1 ? "" : "s", n_rt, n_rt == 1 ? "" : "s",
	       sp_crypto_engine_name(T.engine));
	return 0;
fail:
	sp_tun_fini();
	return rc;
}

void
sp_tun_fini(void)
{
	unsigned int i;

	if (!T.up)
		return;
	sp_route_replace(SP_RO_TUNNEL, NULL, 0, NULL);
	sp_route_set_peer_name_fn(NULL);
	for (i = 0; i < T.n_peers; i++)
		sp_tun_flush(i);
	/* Workers are stopped: what is still deferred is reclaimed with lib/rcu. */
	sp_esp_table_destroy(T.table);
	memset(&T, 0, sizeof(T));
}
