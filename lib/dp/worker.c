/* SPDX-License-Identifier: BSD-3-Clause */
/* Worker lcores: queue assignment, the poll loop and its idle back-off. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_malloc.h>

#include "dp_private.h"
#include "sp_dp.h"
#include "sp_rcu.h"

SP_LOG_TYPE(dp);

/* Empty polls before the adaptive mode starts to sleep: a few microseconds of spinning keeps
 * latency low under light load. */
#define IDLE_SPIN_POLLS 256

static struct sp_worker *workers;
static unsigned int n_workers;
static const struct sp_iface *exception_iface;
static volatile bool quit;
static bool running;

struct sp_worker *
dp_worker(unsigned int id)
{
	return id < n_workers ? &workers[id] : NULL;
}

unsigned int
sp_dp_worker_count(void)
{
	return n_workers;
}

const struct sp_iface *
dp_exception_iface(void)
{
	return exception_iface;
}

int
sp_dp_init(const struct sp_dp_params *p)
{
	unsigned int i, j;

	if (p->n_workers == 0 || p->n_workers > RTE_MAX_LCORE || p->neigh == NULL ||
	    p->burst == 0 || p->burst > DP_MAX_BURST)
		return -EINVAL;
	workers = rte_zmalloc("sp_workers", sizeof(*workers) * p->n_workers, RTE_CACHE_LINE_SIZE);
	if (workers == NULL)
		return -ENOMEM;
	n_workers = p->n_workers;
	for (i = 0; i < sp_iface_count(); i++)
		if (sp_iface_get(i)->exception)
			exception_iface = sp_iface_get(i);

	for (i = 0; i < n_workers; i++) {
		struct sp_worker *w = &workers[i];
		char name[RTE_RING_NAMESIZE];

		w->id = i;
		w->lcore = p->lcores[i];
		w->burst = p->burst;
		w->st = sp_stats_lcore(w->lcore);
		w->qsbr = sp_rcu_qsbr();
		w->neigh = p->neigh;
		w->tun = p->tun != NULL ? p->tun[i] : NULL;
		w->icmp_last_tsc = rte_get_tsc_cycles();
		/* Queue i of every data port and of the exception port. */
		for (j = 0; j < p->n_data_ports && w->n_rxq < DP_MAX_RXQ; j++) {
			w->rxq[w->n_rxq].port = p->data_ports[j];
			w->rxq[w->n_rxq++].queue = (uint16_t)i;
		}
		if (p->has_exception) {
			w->rxq[w->n_rxq].port = p->exception_port;
			w->rxq[w->n_rxq++].queue = (uint16_t)i;
		}
		snprintf(name, sizeof(name), "sp_to_ctl_%u", i);
		w->to_ctl = rte_ring_create(name, DP_RING_SIZE, rte_socket_id(),
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "sp_from_ctl_%u", i);
		w->from_ctl = rte_ring_create(name, DP_RING_SIZE, rte_socket_id(),
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->tun != NULL) {
			snprintf(name, sizeof(name), "sp_handoff_%u", i);
			w->handoff = rte_ring_create(name, DP_RING_SIZE, rte_socket_id(),
						     RING_F_SC_DEQ);
		}
		if (w->to_ctl == NULL || w->from_ctl == NULL ||
		    (w->tun != NULL && w->handoff == NULL)) {
			sp_dp_fini();
			return -ENOMEM;
		}
	}
	return 0;
}

void
sp_dp_set_runtime(const struct sp_conf *conf)
{
	unsigned int i;

	for (i = 0; i < n_workers; i++) {
		struct sp_worker *w = &workers[i];

		w->idle_mode = (uint8_t)conf->workers.idle;
		w->idle_max_us = conf->workers.idle_max_us;
		w->icmp_rate = conf->icmp.errors_per_sec;
		w->icmp_burst = conf->icmp.burst;
		/* The bucket starts full (a plain store: the worker may race with it only on
		 * reload, where any value between empty and full is acceptable). */
		if (w->icmp_tokens == 0)
			w->icmp_tokens = conf->icmp.burst * rte_get_tsc_hz();
	}
}

static uint16_t
drain_control(struct sp_worker *w)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	unsigned int n, i;

	n = rte_ring_sc_dequeue_burst(w->from_ctl, (void **)pkts, DP_MAX_BURST, NULL);
	for (i = 0; i < n; i++) {
		const struct sp_iface *ifc = sp_iface_get(dp_meta(pkts[i])->tx_iface);

		if (ifc == NULL) {
			dp_drop(w, pkts[i], SP_DROP_CTRL_TX);
			continue;
		}
		w->st->ctr[SP_CTR_CTRL_TX]++;
		dp_tx(w, ifc->port_id, pkts[i]);
	}
	return (uint16_t)n;
}

static void
idle(struct sp_worker *w)
{
	uint32_t max = w->idle_max_us;

	w->st->ctr[SP_CTR_IDLE_POLLS]++;
	if (w->idle_mode != SP_IDLE_ADAPTIVE || ++w->idle_polls < IDLE_SPIN_POLLS) {
		rte_pause();
		return;
	}
	/* Sleep longer the longer the queues stay empty, up to idle_max_us. */
	w->sleep_us = w->sleep_us == 0 ? 1 : w->sleep_us * 2;
	if (w->sleep_us > max)
		w->sleep_us = max;
	w->st->ctr[SP_CTR_SLEEPS]++;
	rte_delay_us_sleep(w->sleep_us);
}

uint32_t
dp_poll_once(struct sp_worker *w)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	uint32_t got = 0;
	uint16_t q;

	for (q = 0; q < w->n_rxq; q++) {
		uint16_t n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, pkts, w->burst);

		if (n > 0) {
			w->nc_valid = false;
			dp_rx_burst(w, w->rxq[q].port, pkts, n);
			got += n;
		}
	}
	if (w->tun != NULL) {
		sp_tun_worker_poll(w->tun);
		got += dp_tun_drain_handoff(w);
	}
	got += drain_control(w);
	dp_tx_flush(w);
	w->st->ctr[SP_CTR_POLLS]++;
	sp_rcu_quiescent(w->qsbr, w->id);
	return got;
}

static int
worker_main(void *arg)
{
	struct sp_worker *w = arg;

	if (sp_rcu_online(w->id) != 0) {
		SP_LOG(dp, ERR, "worker %u: cannot register with RCU", w->id);
		return -EINVAL;
	}
	SP_LOG(dp, INFO, "worker %u on lcore %u polling %u queues", w->id, w->lcore, w->n_rxq);
	while (!quit) {
		if (dp_poll_once(w) == 0) {
			idle(w);
		} else {
			w->idle_polls = 0;
			w->sleep_us = 0;
		}
	}
	dp_tx_flush(w);
	sp_rcu_offline(w->id);
	SP_LOG(dp, INFO, "worker %u stopped", w->id);
	return 0;
}

int
sp_dp_start(void)
{
	unsigned int i;
	int rc;

	quit = false;
	for (i = 0; i < n_workers; i++) {
		rc = rte_eal_remote_launch(worker_main, &workers[i], workers[i].lcore);
		if (rc != 0) {
			SP_LOG(dp, ERR, "cannot launch worker %u on lcore %u: %s", i,
			       workers[i].lcore, rte_strerror(-rc));
			quit = true;
			rte_eal_mp_wait_lcore();
			return rc;
		}
	}
	running = true;
	return 0;
}

static void
free_ring(struct rte_ring *r)
{
	struct rte_mbuf *m;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

void
sp_dp_stop(void)
{
	unsigned int i;

	if (running) {
		quit = true;
		rte_eal_mp_wait_lcore();
		running = false;
	}
	for (i = 0; i < n_workers; i++) {
		free_ring(workers[i].to_ctl);
		free_ring(workers[i].from_ctl);
		free_ring(workers[i].handoff);
	}
}

void
sp_dp_fini(void)
{
	unsigned int i;

	if (workers == NULL)
		return;
	for (i = 0; i < n_workers; i++) {
		free_ring(workers[i].to_ctl);
		free_ring(workers[i].from_ctl);
		free_ring(workers[i].handoff);
		rte_ring_free(workers[i].to_ctl);
		rte_ring_free(workers[i].from_ctl);
		rte_ring_free(workers[i].handoff);
	}
	rte_free(workers);
	workers = NULL;
	n_workers = 0;
	exception_iface = NULL;
}
