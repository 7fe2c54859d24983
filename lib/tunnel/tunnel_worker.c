/* SPDX-License-Identifier: BSD-3-Clause */
/* The workers' side: per-worker ESP context and the lock-free view of each peer's SAs. */

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "tunnel_private.h"

struct sp_tun_worker {
	unsigned int id;
	uint64_t hz;
	struct sp_esp_ctx *esp;
} __rte_cache_aligned;

struct sp_tun_worker *
sp_tun_worker_create(unsigned int worker, struct sp_crypto_ctx *cc)
{
	struct sp_tun_worker *tw;

	if (!T.up || cc == NULL)
		return NULL;
	tw = rte_zmalloc("sp_tun_worker", sizeof(*tw), RTE_CACHE_LINE_SIZE);
	if (tw == NULL)
		return NULL;
	tw->id = worker;
	tw->hz = rte_get_tsc_hz();
	tw->esp = sp_esp_ctx_create(worker, T.engine, cc);
	if (tw->esp == NULL) {
		rte_free(tw);
		return NULL;
	}
	sp_esp_ctx_set_table(tw->esp, T.table);
	sp_esp_ctx_set_time(tw->esp, sp_tun_now());
	return tw;
}

void
sp_tun_worker_destroy(struct sp_tun_worker *tw)
{
	if (tw == NULL)
		return;
	sp_esp_ctx_destroy(tw->esp);
	rte_free(tw);
}

struct sp_esp_ctx *
sp_tun_worker_esp(struct sp_tun_worker *tw)
{
	return tw->esp;
}

struct sp_esp_sa *
sp_tun_out_sa(struct sp_tun_worker *tw, uint16_t peer)
{
	const struct tun_outset *o;

	if (peer >= T.n_peers)
		return NULL;
	o = __atomic_load_n(&T.peers[peer].out, __ATOMIC_ACQUIRE);
	if (o == NULL)
		return NULL;
	return o->sa[tw->id % o->n];
}

struct sp_esp_sa *
sp_tun_in_sa(uint32_t spi)
{
	return T.table != NULL ? sp_esp_table_lookup(T.table, spi) : NULL;
}

uint16_t
sp_tun_sa_peer(const struct sp_esp_sa *sa)
{
	return (uint16_t)sp_esp_sa_conf(sa)->tag;
}

void
sp_tun_worker_poll(struct sp_tun_worker *tw)
{
	sp_esp_ctx_set_time(tw->esp, rte_get_tsc_cycles() / tw->hz);
}
