/* SPDX-License-Identifier: BSD-3-Clause */
/* SA life cycle (control core) and the SPI table workers read without locks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>

#include "esp_private.h"
#include "sp_rcu.h"

SP_LOG_TYPE(esp);

#define DROP_NAME(e, n, d) [SP_ESP_DROP_##e] = n,
#define DROP_DESC(e, n, d) [SP_ESP_DROP_##e] = d,
static const char *const drop_names[SP_ESP_DROP_MAX] = {
	[SP_ESP_DROP_NONE] = "none",
	SP_ESP_DROPS(DROP_NAME)
};
static const char *const drop_descs[SP_ESP_DROP_MAX] = {
	[SP_ESP_DROP_NONE] = "not dropped",
	SP_ESP_DROPS(DROP_DESC)
};

const char *
sp_esp_drop_name(enum sp_esp_drop r)
{
	return (unsigned int)r < SP_ESP_DROP_MAX ? drop_names[r] : "?";
}

const char *
sp_esp_drop_desc(enum sp_esp_drop r)
{
	return (unsigned int)r < SP_ESP_DROP_MAX ? drop_descs[r] : "?";
}

static void
wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

static uint16_t
outer_hdr_len(const struct sp_esp_sa_conf *c)
{
	return (c->dst.family == AF_INET6 ? 40 : 20) + (c->udp_encap ? 8 : 0);
}

uint32_t
sp_esp_overhead(const struct sp_esp_sa *sa, uint32_t inner_len)
{
	uint32_t pad = (4 - ((inner_len + 2) & 3)) & 3;

	return sa->outer_len + SP_ESP_HDR_LEN + SP_ESP_IV_LEN + pad + 2 + SP_ESP_ICV_LEN;
}

static uint16_t
inner_mtu(uint16_t path_mtu, uint16_t outer_len)
{
	int room = (int)path_mtu - outer_len - SP_ESP_HDR_LEN - SP_ESP_IV_LEN - SP_ESP_ICV_LEN;

	/* payload + pad + 2 is a multiple of 4 */
	room &= ~3;
	return room >= 2 ? (uint16_t)(room - 2) : 0;
}

uint16_t
sp_esp_inner_mtu(const struct sp_esp_sa *sa)
{
	return sa->inner_mtu;
}

static int
conf_check(const struct sp_esp_sa_conf *c, char *err, size_t errlen)
{
	if (c->spi < 256) {
		snprintf(err, errlen, "SPI %u is reserved (0..255)", c->spi);
		return -EINVAL;
	}
	if (c->key.alg != SP_CRYPTO_AES128_GCM && c->key.alg != SP_CRYPTO_AES256_GCM) {
		snprintf(err, errlen, "unknown algorithm %d", (int)c->key.alg);
		return -EINVAL;
	}
	if (c->dir == SP_ESP_OUTBOUND) {
		if ((c->src.family != AF_INET && c->src.family != AF_INET6) ||
		    c->src.family != c->dst.family) {
			snprintf(err, errlen,
				 "outer source and destination must be both IPv4 or IPv6");
			return -EINVAL;
		}
		if (inner_mtu(c->path_mtu, outer_hdr_len(c)) < 68) {
			snprintf(err, errlen, "path MTU %u leaves no room for an inner packet",
				 c->path_mtu);
			return -EINVAL;
		}
	} else if (c->dir == SP_ESP_INBOUND) {
		uint32_t w = c->replay_window ? c->replay_window : SP_ESP_REPLAY_MIN;

		/* without a window there is nothing to infer the high half of an ESN from */
		if (c->replay_off && c->esn) {
			snprintf(err, errlen, "anti-replay can only be off without extended "
				 "sequence numbers");
			return -EINVAL;
		}

		if (sp_esp_replay_mem(w) == 0) {
			snprintf(err, errlen, "replay window %u is not a power of two in %u..%u",
				 c->replay_window, SP_ESP_REPLAY_MIN, SP_ESP_REPLAY_MAX);
			return -EINVAL;
		}
	} else {
		snprintf(err, errlen, "unknown direction %d", (int)c->dir);
		return -EINVAL;
	}
	return 0;
}

struct sp_esp_sa *
sp_esp_sa_create(const struct sp_esp_sa_conf *conf, struct sp_crypto_engine *e, char *err,
		 size_t errlen)
{
	struct sp_esp_sa *sa;
	uint32_t w = 0;
	size_t mem = 0;

	if (conf == NULL || e == NULL) {
		snprintf(err, errlen, "no configuration or engine");
		return NULL;
	}
	if (conf_check(conf, err, errlen) < 0)
		return NULL;
	if (conf->dir == SP_ESP_INBOUND) {
		w = conf->replay_window ? conf->replay_window : SP_ESP_REPLAY_MIN;
		mem = sp_esp_replay_mem(w);
	}
	sa = rte_zmalloc("sp_esp_sa", sizeof(*sa) + mem, RTE_CACHE_LINE_SIZE);
	if (sa == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sa->conf = *conf;
	wipe(&sa->conf.key.key, sizeof(sa->conf.key.key));
	wipe(&sa->conf.key.salt, sizeof(sa->conf.key.salt));
	if (sa->conf.udp_encap) {
		if (sa->conf.udp_sport == 0)
			sa->conf.udp_sport = SP_ESP_UDP_PORT;
		if (sa->conf.udp_dport == 0)
			sa->conf.udp_dport = SP_ESP_UDP_PORT;
	}
	if (sa->conf.ttl == 0)
		sa->conf.ttl = 64;
	sa->conf.replay_window = w;
	sa->eng = e;
	sa->spi_be = rte_cpu_to_be_32(conf->spi);
	sa->outer_len = outer_hdr_len(conf);
	if (conf->dir == SP_ESP_OUTBOUND) {
		sa->inner_mtu = inner_mtu(conf->path_mtu, sa->outer_len);
		esp_outer_template(sa);
	} else
		sp_esp_replay_init(&sa->s.rp, w, conf->esn, sa->bits);
	sa->sess = sp_crypto_sess_create(e, &conf->key, conf->dir == SP_ESP_OUTBOUND ?
					 SP_CRYPTO_ENCRYPT : SP_CRYPTO_DECRYPT);
	if (sa->sess == NULL) {
		snprintf(err, errlen, "engine %s refused the session", sp_crypto_engine_name(e));
		rte_free(sa);
		return NULL;
	}
	return sa;
}

void
sp_esp_sa_destroy(struct sp_esp_sa *sa)
{
	if (sa == NULL)
		return;
	sp_crypto_sess_destroy(sa->eng, sa->sess);
	wipe(sa, sizeof(*sa));
	rte_free(sa);
}

const struct sp_esp_sa_conf *
sp_esp_sa_conf(const struct sp_esp_sa *sa)
{
	return &sa->conf;
}

uint32_t
sp_esp_sa_spi(const struct sp_esp_sa *sa)
{
	return sa->conf.spi;
}

const char *
sp_esp_sa_engine(const struct sp_esp_sa *sa)
{
	return sp_crypto_engine_name(sa->eng);
}

void
sp_esp_sa_stats(const struct sp_esp_sa *sa, struct sp_esp_sa_stats *out)
{
	const volatile uint64_t *src = (const volatile uint64_t *)&sa->s.st;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = src[i];
}

uint64_t
sp_esp_sa_seq(const struct sp_esp_sa *sa)
{
	return sa->conf.dir == SP_ESP_OUTBOUND ? sa->s.seq : sa->s.rp.top;
}

int
sp_esp_sa_set_seq(struct sp_esp_sa *sa, uint64_t seq)
{
	if (sa->conf.dir == SP_ESP_OUTBOUND) {
		if (!sa->conf.esn && seq > UINT32_MAX)
			return -ERANGE;
		sa->s.seq = seq;
	} else {
		if (!sa->conf.esn && seq > UINT32_MAX)
			return -ERANGE;
		memset(sa->bits, 0, sp_esp_replay_mem(sa->s.rp.size));
		sa->s.rp.top = seq;
	}
	return 0;
}

bool
sp_esp_sa_rekey_wanted(const struct sp_esp_sa *sa)
{
	return sa->s.rekey != 0;
}

bool
sp_esp_sa_expired(const struct sp_esp_sa *sa)
{
	return sa->s.expired != 0;
}

/* ---- SPI table: immutable snapshots, replaced whole ---- */

struct esp_slot {
	uint32_t spi;
	struct sp_esp_sa *sa;
};

struct esp_snap {
	uint32_t mask;
	uint32_t count;
	struct esp_slot slot[];
};

struct sp_esp_table {
	struct esp_snap *cur;
};

static inline uint32_t
spi_hash(uint32_t spi)
{
	return (spi * 2654435761u) ^ (spi >> 16);
}

static struct esp_snap *
snap_build(const struct esp_snap *old, struct sp_esp_sa *add, uint32_t del_spi)
{
	uint32_t n = (old ? old->count : 0) + (add ? 1 : 0);
	uint32_t size = rte_align32pow2(n * 2 < 16 ? 16 : n * 2);
	struct esp_snap *s;

	s = rte_zmalloc("sp_esp_table", sizeof(*s) + size * sizeof(s->slot[0]),
			RTE_CACHE_LINE_SIZE);
	if (s == NULL)
		return NULL;
	s->mask = size - 1;
	for (uint32_t i = 0; old != NULL && i <= old->mask; i++) {
		const struct esp_slot *o = &old->slot[i];
		uint32_t h;

		if (o->sa == NULL || (add == NULL && o->spi == del_spi))
			continue;
		for (h = spi_hash(o->spi) & s->mask; s->slot[h].sa != NULL; h = (h + 1) & s->mask)
			;
		s->slot[h] = *o;
		s->count++;
	}
	if (add != NULL) {
		uint32_t h;

		for (h = spi_hash(add->conf.spi) & s->mask; s->slot[h].sa != NULL;
		     h = (h + 1) & s->mask)
			;
		s->slot[h].spi = add->conf.spi;
		s->slot[h].sa = add;
		s->count++;
	}
	return s;
}

static void
snap_free(void *p)
{
	rte_free(p);
}

static void
sa_free(void *p)
{
	sp_esp_sa_destroy(p);
}

/* Free after every worker has passed a quiescent state (at once when there are none). */
static void
retire(void *p, void (*fn)(void *))
{
	if (sp_rcu_qsbr() == NULL)
		fn(p);
	else
		sp_rcu_defer(p, fn);
}

struct sp_esp_table *
sp_esp_table_create(void)
{
	struct sp_esp_table *t = rte_zmalloc("sp_esp_table", sizeof(*t), 0);

	if (t == NULL)
		return NULL;
	t->cur = snap_build(NULL, NULL, 0);
	if (t->cur == NULL) {
		rte_free(t);
		return NULL;
	}
	return t;
}

void
sp_esp_table_destroy(struct sp_esp_table *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i <= t->cur->mask; i++)
		sp_esp_sa_destroy(t->cur->slot[i].sa);
	rte_free(t->cur);
	rte_free(t);
}

struct sp_esp_sa *
sp_esp_table_lookup(const struct sp_esp_table *t, uint32_t spi)
{
	const struct esp_snap *s = __atomic_load_n(&t->cur, __ATOMIC_ACQUIRE);

	for (uint32_t h = spi_hash(spi) & s->mask;; h = (h + 1) & s->mask) {
		if (s->slot[h].sa == NULL)
			return NULL;
		if (s->slot[h].spi == spi)
			return s->slot[h].sa;
	}
}

int
sp_esp_table_add(struct sp_esp_table *t, struct sp_esp_sa *sa)
{
	struct esp_snap *old = t->cur, *s;

	if (sa == NULL || sa->conf.dir != SP_ESP_INBOUND)
		return -EINVAL;
	if (sp_esp_table_lookup(t, sa->conf.spi) != NULL)
		return -EEXIST;
	s = snap_build(old, sa, 0);
	if (s == NULL)
		return -ENOMEM;
	__atomic_store_n(&t->cur, s, __ATOMIC_RELEASE);
	retire(old, snap_free);
	return 0;
}

int
sp_esp_table_del(struct sp_esp_table *t, uint32_t spi)
{
	struct esp_snap *old = t->cur, *s;
	struct sp_esp_sa *sa = sp_esp_table_lookup(t, spi);

	if (sa == NULL)
		return -ENOENT;
	s = snap_build(old, NULL, spi);
	if (s == NULL)
		return -ENOMEM;
	__atomic_store_n(&t->cur, s, __ATOMIC_RELEASE);
	retire(old, snap_free);
	retire(sa, sa_free);
	return 0;
}

unsigned int
sp_esp_table_count(const struct sp_esp_table *t)
{
	return t->cur->count;
}

void
sp_esp_sa_count_drop(struct sp_esp_sa *sa, enum sp_esp_drop r)
{
	if ((unsigned int)r < SP_ESP_DROP_MAX)
		sa->s.st.drops[r]++;
}
