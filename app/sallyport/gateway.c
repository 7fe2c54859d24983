/* SPDX-License-Identifier: BSD-3-Clause */
/* Wiring: builds the gateway from a validated configuration, runs the control loop, and takes
 * everything down again in reverse order. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pdump.h>

#include "gateway.h"
#include "sp_certd.h"
#include "sp_console.h"
#include "sp_ctl.h"
#include "sp_dp.h"
#include "sp_keyx.h"
#include "sp_kif.h"
#include "sp_log.h"
#include "sp_neigh.h"
#include "sp_port.h"
#include "sp_rcu.h"
#include "sp_route.h"
#include "sp_tunnel.h"

SP_LOG_TYPE(gw);

#define NEIGH_TIMER_MS 100
#define RCU_TIMER_MS 10
/* How often the control core looks at the workers' hand-off rings. */
#define PUNT_POLL_MS 1

static struct {
	struct sp_conf *conf;
	struct sp_ctl *ctl;
	struct sp_neigh *neigh;
	struct sp_certd *certd;
	struct sp_keyx *keyx;
	uint16_t data_ports[SP_CONF_MAX_PORTS];
	unsigned int n_data_ports;
	bool has_exception;
	uint16_t exception_port;
	bool kif_up;
	struct sp_kif_conf kif;
	bool routes_up, dp_up, dp_started, console_up, pools_up, rcu_up, pdump_up, tun_up;
	struct sp_crypto_engine *engine;
	struct sp_crypto_ctx *cctx[SP_CONF_MAX_WORKERS];
	struct sp_tun_worker *tw[SP_CONF_MAX_WORKERS];
	int sigfd;
	int status;
} gw = { .sigfd = -1 };

const struct sp_conf *
sp_gw_conf(void)
{
	return gw.conf;
}

void
sp_gw_apply_log(const struct sp_conf_log *lc)
{
	unsigned int i;

	sp_log_init(lc->format);
	/* log.level is every type's, the EAL's included; log.types refine it. */
	sp_log_set_level("*", lc->level);
	for (i = 0; i < lc->n_types; i++)
		sp_log_set_level(lc->types[i].pattern, lc->types[i].level);
}

static int
build_ifaces(const struct sp_conf *conf, const struct rte_ether_addr *exc_mac, char *err,
	     size_t errlen)
{
	struct sp_iface ifs[SP_MAX_IFACES];
	unsigned int n = 0, p, i;
	int rc;

	memset(ifs, 0, sizeof(ifs));
	for (p = 0; p < conf->n_ports; p++) {
		const struct sp_conf_port *pc = &conf->ports[p];
		const struct sp_port_info *pi = sp_port_info(p);

		for (i = 0; i < pc->n_ifaces; i++) {
			const struct sp_conf_iface *ic = &pc->ifaces[i];
			struct sp_iface *f = &ifs[n];

			if (n == SP_MAX_IFACES) {
				snprintf(err, errlen, "more than %d interfaces", SP_MAX_IFACES);
				return -ENOSPC;
			}
			f->id = (uint16_t)n;
			f->port_id = pi->port_id;
			f->vlan = ic->vlan;
			f->mtu = ic->mtu ? ic->mtu : pc->mtu;
			f->mac = pi->mac;
			sp_conf_iface_name(pc, ic, f->name, sizeof(f->name));
			f->n_addrs = ic->n_addrs;
			memcpy(f->addrs, ic->addrs, sizeof(ic->addrs[0]) * ic->n_addrs);
			n++;
		}
	}
	if (gw.has_exception) {
		struct sp_iface *f = &ifs[n];

		f->id = (uint16_t)n;
		f->port_id = gw.exception_port;
		f->mtu = sp_port_by_id(gw.exception_port)->mtu;
		f->mac = *exc_mac;
		f->peer_mac = gw.kif.mac;
		f->exception = true;
		snprintf(f->name, sizeof(f->name), "exception");
		n++;
	}
	rc = sp_iface_set(ifs, n);
	if (rc != 0)
		snprintf(err, errlen, "interface table refused: %s", strerror(-rc));
	return rc;
}

/* Every address of every interface goes to the kernel side of the exception port. */
static void
build_kif(const struct sp_conf *conf, uint16_t mtu)
{
	const struct sp_conf_exception *ec = &conf->exception;
	unsigned int p, i, a;

	memset(&gw.kif, 0, sizeof(gw.kif));
	snprintf(gw.kif.ifname, sizeof(gw.kif.ifname), "%s", ec->iface);
	snprintf(gw.kif.netns, sizeof(gw.kif.netns), "%s", ec->netns);
	/* The kernel side's MAC differs from ours in the last byte. */
	gw.kif.mac = ec->mac;
	gw.kif.mac.addr_bytes[5] ^= 0x01;
	gw.kif.mtu = mtu;
	gw.kif.table = ec->table;
	gw.kif.rule_priority = ec->rule_priority;
	for (p = 0; p < conf->n_ports; p++)
		for (i = 0; i < conf->ports[p].n_ifaces; i++)
			for (a = 0; a < conf->ports[p].ifaces[i].n_addrs; a++)
				if (gw.kif.n_addrs < SP_KIF_MAX_ADDRS)
					gw.kif.addrs[gw.kif.n_addrs++] =
						conf->ports[p].ifaces[i].addrs[a];
}

static int
conf_routes(const struct sp_conf *conf, char *err, size_t errlen)
{
	struct sp_route *routes;
	unsigned int i, bad = 0;
	int rc;

	routes = calloc(conf->n_routes ? conf->n_routes : 1, sizeof(*routes));
	if (routes == NULL) {
		snprintf(err, errlen, "routes: out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < conf->n_routes; i++) {
		rc = sp_route_from_conf(&conf->routes[i], &routes[i]);
		if (rc != 0) {
			snprintf(err, errlen, "%s:%d: routes.[%u]: interface \"%s\" unknown",
				 conf->path, conf->routes[i].line, i, conf->routes[i].iface);
			free(routes);
			return rc;
		}
	}
	rc = sp_route_replace(SP_RO_CONFIG, routes, conf->n_routes, &bad);
	if (rc != 0 && bad < conf->n_routes) {
		char p[SP_IP_STRLEN];

		sp_ip_format(&conf->routes[bad].prefix, p, sizeof(p), true);
		snprintf(err, errlen, "%s:%d: routes.[%u]: %s: %s", conf->path,
			 conf->routes[bad].line, bad, p, strerror(-rc));
	} else if (rc != 0) {
		snprintf(err, errlen, "routes: %s", strerror(-rc));
	}
	free(routes);
	return rc;
}

int
sp_gw_reload(char *msg, size_t size)
{
	struct sp_conf *next = calloc(1, sizeof(*next));
	struct sp_conf_err err;
	int rc;

	if (next == NULL) {
		snprintf(msg, size, "out of memory");
		return -ENOMEM;
	}
	rc = sp_conf_load(gw.conf->path, next, &err);
	if (rc == 0)
		rc = sp_conf_reload_check(gw.conf, next, &err);
	if (rc != 0) {
		snprintf(msg, size, "%s", err.msg);
		goto refused;
	}
	/* Routes are the only step that can fail; the table swap is atomic, so it goes first. */
	rc = conf_routes(next, msg, size);
	if (rc != 0)
		goto refused;
	sp_neigh_set_conf(gw.neigh, &next->neigh);
	sp_dp_set_runtime(next);
	sp_gw_apply_log(&next->log);
	if (gw.certd != NULL) {
		char cmsg[600];

		/* certificate problems keep the old material and are logged, not a failed reload */
		sp_certd_reload(gw.certd, next, cmsg, sizeof(cmsg));
	}
	free(gw.conf);
	gw.conf = next;
	snprintf(msg, size, "configuration reloaded from %s", next->path);
	SP_LOG(gw, NOTICE, "%s", msg);
	return 0;
refused:
	SP_LOG(gw, ERR, "reload refused, running configuration kept: %s", msg);
	free(next);
	return rc;
}

static void
on_signal(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	char msg[SP_CONF_ERR_MAX + 64];

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			SP_LOG(gw, NOTICE, "SIGHUP: reloading %s", gw.conf->path);
			sp_gw_reload(msg, sizeof(msg));
		} else {
			SP_LOG(gw, NOTICE, "signal %u: stopping", si.ssi_signo);
			sp_ctl_stop(gw.ctl);
		}
	}
}

static void
on_punt_timer(uint64_t now_ms, void *arg)
{
	(void)arg;
	sp_dp_ctl_poll(now_ms);
}

static void
on_neigh_timer(uint64_t now_ms, void *arg)
{
	(void)arg;
	sp_neigh_timer(gw.neigh, now_ms);
}

static void
on_rcu_timer(uint64_t now_ms, void *arg)
{
	(void)now_ms;
	(void)arg;
	sp_rcu_reclaim();
}

static void
on_quit(void *arg)
{
	(void)arg;
	sp_ctl_stop(gw.ctl);
}

/* The crypto engine (KATs run at open: a failing engine stops the start), the peers and their
 * SAs, and each worker's crypto context. Nothing here falls back to plaintext. */
static int
start_tunnels(const struct sp_conf *conf, char *err, size_t errlen)
{
	const unsigned int n_workers = conf->workers.n_lcores;
	struct sp_tun_params tp = { .conf = conf, .n_workers = n_workers };
	char why[256];
	unsigned int i;
	int rc;

	gw.engine = sp_crypto_engine_open(conf->crypto.engine, conf->crypto.args, n_workers + 1,
					  why, sizeof(why));
	if (gw.engine == NULL) {
		snprintf(err, errlen, "crypto.engine \"%s\": %s", conf->crypto.engine, why);
		return -EINVAL;
	}
	tp.engine = gw.engine;
	rc = sp_tun_init(&tp, err, errlen);
	if (rc != 0)
		return rc;
	gw.tun_up = true;
	for (i = 0; i < n_workers; i++) {
		gw.cctx[i] = sp_crypto_ctx_create(gw.engine, i);
		gw.tw[i] = gw.cctx[i] != NULL ? sp_tun_worker_create(i, gw.cctx[i]) : NULL;
		if (gw.tw[i] == NULL) {
			snprintf(err, errlen, "tunnels: worker %u crypto context: out of memory", i);
			return -ENOMEM;
		}
	}
	SP_LOG(gw, INFO, "crypto engine %s passed its known-answer tests",
	       sp_crypto_engine_name(gw.engine));
	return 0;
}

static void
stop_tunnels(void)
{
	unsigned int i;

	for (i = 0; i < SP_CONF_MAX_WORKERS; i++) {
		sp_tun_worker_destroy(gw.tw[i]);
		gw.tw[i] = NULL;
		if (gw.cctx[i] != NULL)
			sp_crypto_ctx_destroy(gw.engine, gw.cctx[i]);
		gw.cctx[i] = NULL;
	}
	if (gw.tun_up)
		sp_tun_fini();
	gw.tun_up = false;
	/* SAs waiting for a grace period hold sessions of the engine: free them first. */
	if (gw.rcu_up)
		sp_rcu_reclaim();
	if (gw.engine != NULL)
		sp_crypto_engine_close(gw.engine);
	gw.engine = NULL;
}

/* lib/keyx drives lib/tunnel's epochs through these (keyx does not know lib/tunnel). */
static int
kx_spi_alloc(void *arg, uint32_t *spis, unsigned int n)
{
	(void)arg;
	return sp_tun_spi_alloc(spis, n);
}

static int
kx_add_in(void *arg, unsigned int peer, uint64_t epoch, const uint32_t *spis,
	  const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen)
{
	(void)arg;
	return sp_tun_add_inbound(peer, epoch, spis, keys, n, err, errlen);
}

static int
kx_add_out(void *arg, unsigned int peer, uint64_t epoch, const uint32_t *spis,
	   const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen)
{
	(void)arg;
	return sp_tun_add_outbound(peer, epoch, spis, keys, n, err, errlen);
}

static int
kx_activate(void *arg, unsigned int peer, uint64_t epoch)
{
	(void)arg;
	return sp_tun_activate(peer, epoch);
}

static int
kx_retire(void *arg, unsigned int peer, uint64_t epoch)
{
	(void)arg;
	return sp_tun_retire(peer, epoch);
}

static void
kx_flush(void *arg, unsigned int peer)
{
	(void)arg;
	sp_tun_flush(peer);
}

static bool
kx_rekey_wanted(void *arg, unsigned int peer, bool *hard)
{
	(void)arg;
	return sp_tun_rekey_wanted(peer, hard);
}

static void
kx_status(void *arg, unsigned int peer, const char *state, const char *detail)
{
	(void)arg;
	sp_tun_set_status(peer, state, detail);
}

static const struct sp_keyx_sa_ops kx_ops = {
	.spi_alloc = kx_spi_alloc, .add_inbound = kx_add_in, .add_outbound = kx_add_out,
	.activate = kx_activate, .retire = kx_retire, .flush = kx_flush,
	.rekey_wanted = kx_rekey_wanted, .set_status = kx_status,
};

static int
hook_rekey(unsigned int peer, char *msg, size_t len)
{
	return gw.keyx != NULL ? sp_keyx_rekey(gw.keyx, peer, msg, len) : -ENOTSUP;
}

static int
hook_reset(unsigned int peer, char *msg, size_t len)
{
	return gw.keyx != NULL ? sp_keyx_reset(gw.keyx, peer, msg, len) : -ENOTSUP;
}

/* The key exchange, when a peer is keyed by it: after lib/certd (its certificates) and the
 * exception port (its sockets live in exception.netns). */
static int
start_keyx(const struct sp_conf *conf, char *err, size_t errlen)
{
	static const struct sp_tun_hooks hooks = { .rekey = hook_rekey, .reset = hook_reset };
	struct sp_ip locals[SP_CONF_MAX_PEERS];
	struct sp_keyx_params kp = { 0 };
	unsigned int i, keyed = 0;

	for (i = 0; i < conf->tunnels.n_peers; i++) {
		locals[i] = *sp_tun_peer_local(i);
		keyed += conf->tunnels.peers[i].n_manual == 0;
	}
	if (keyed == 0)
		return 0;
	kp.ctl = gw.ctl;
	kp.certd = gw.certd;
	kp.tun = &conf->tunnels;
	kp.locals = locals;
	kp.netns = conf->exception.netns;
	kp.n_workers = conf->workers.n_lcores;
	kp.ops = &kx_ops;
	gw.keyx = sp_keyx_create(&kp, err, errlen);
	if (gw.keyx == NULL)
		return -EINVAL;
	sp_tun_set_hooks(&hooks);
	sp_keyx_console_attach(gw.keyx);
	return 0;
}

static int
start_control(bool console_on_stdin, char *err, size_t errlen)
{
	sigset_t sigs;
	int rc;

	gw.ctl = sp_ctl_create();
	if (gw.ctl == NULL) {
		snprintf(err, errlen, "control loop: %s", strerror(errno));
		return -errno;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	gw.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (gw.sigfd < 0 || sp_ctl_add_fd(gw.ctl, gw.sigfd, EPOLLIN, on_signal, NULL) != 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -errno;
	}
	if (sp_ctl_add_timer(gw.ctl, PUNT_POLL_MS, on_punt_timer, NULL) < 0 ||
	    sp_ctl_add_timer(gw.ctl, NEIGH_TIMER_MS, on_neigh_timer, NULL) < 0 ||
	    sp_ctl_add_timer(gw.ctl, RCU_TIMER_MS, on_rcu_timer, NULL) < 0) {
		snprintf(err, errlen, "control timers: out of memory");
		return -ENOMEM;
	}
	/* after the exception port's kernel side: the endpoint listens on its addresses */
	gw.certd = sp_certd_create(gw.ctl, gw.conf, err, errlen);
	if (gw.certd == NULL)
		return -EINVAL;
	if (gw.tun_up) {
		rc = start_keyx(gw.conf, err, errlen);
		if (rc != 0)
			return rc;
	}
	rc = sp_console_init(gw.ctl, gw.conf->console.socket, console_on_stdin, on_quit, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "console socket %s: %s", gw.conf->console.socket,
			 strerror(-rc));
		return rc;
	}
	gw.console_up = true;
	return 0;
}

int
sp_gw_start(struct sp_conf *conf, bool console_on_stdin, char *err, size_t errlen)
{
	const unsigned int n_workers = conf->workers.n_lcores;
	struct sp_dp_params dpp = { 0 };
	struct rte_ether_addr exc_mac = { 0 };
	uint16_t max_mtu = 0;
	unsigned int p;
	int rc;

	gw.conf = conf;
	/* dpdk-dumpcap and dpdk-pdump attach as secondaries with the same file prefix. */
	if (rte_pdump_init() == 0)
		gw.pdump_up = true;
	else
		SP_LOG(gw, WARNING, "packet capture (dpdk-dumpcap) unavailable: %s",
		       rte_strerror(rte_errno));
	for (p = 0; p < conf->workers.n_lcores; p++) {
		if (!rte_lcore_is_enabled(conf->workers.lcores[p]) ||
		    conf->workers.lcores[p] == rte_get_main_lcore()) {
			snprintf(err, errlen,
				 "workers.lcores: lcore %u is not a worker lcore of the EAL (-l %s)",
				 conf->workers.lcores[p], conf->eal.lcores);
			return -EINVAL;
		}
	}
	rc = sp_rcu_init(n_workers);
	if (rc != 0) {
		snprintf(err, errlen, "RCU: %s", strerror(-rc));
		return rc;
	}
	gw.rcu_up = true;
	rc = sp_port_pools_create(&conf->mempool, err, errlen);
	if (rc != 0)
		return rc;
	gw.pools_up = true;

	for (p = 0; p < conf->n_ports; p++) {
		rc = sp_port_open(&conf->ports[p], n_workers, n_workers, &gw.data_ports[p], err,
				  errlen);
		if (rc != 0)
			return rc;
		gw.n_data_ports++;
		if (conf->ports[p].mtu > max_mtu)
			max_mtu = conf->ports[p].mtu;
	}
	if (conf->exception.enabled) {
		rc = sp_port_open_exception(&conf->exception, max_mtu, n_workers,
					    &gw.exception_port, err, errlen);
		if (rc != 0)
			return rc;
		gw.has_exception = true;
		exc_mac = conf->exception.mac;
		build_kif(conf, max_mtu);
	}

	rc = build_ifaces(conf, &exc_mac, err, errlen);
	if (rc != 0)
		return rc;
	rc = sp_route_init(SP_CONF_MAX_ROUTES * 2 + SP_CONF_MAX_PEERS * SP_CONF_MAX_PEER_PREFIXES);
	if (rc != 0) {
		snprintf(err, errlen, "routing tables: %s", strerror(-rc));
		return rc;
	}
	gw.routes_up = true;
	rc = conf_routes(conf, err, errlen);
	if (rc != 0)
		return rc;
	if (conf->tunnels.enabled) {
		rc = start_tunnels(conf, err, errlen);
		if (rc != 0)
			return rc;
	}

	gw.neigh = sp_neigh_create("sp_neigh", &conf->neigh, &sp_dp_neigh_ops, NULL);
	if (gw.neigh == NULL) {
		snprintf(err, errlen, "neighbour table: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	sp_neigh_console_attach(gw.neigh);

	dpp.n_workers = n_workers;
	dpp.lcores = conf->workers.lcores;
	dpp.burst = conf->workers.burst;
	dpp.n_data_ports = (uint16_t)gw.n_data_ports;
	dpp.data_ports = gw.data_ports;
	dpp.has_exception = gw.has_exception;
	dpp.exception_port = gw.exception_port;
	dpp.neigh = gw.neigh;
	dpp.tun = gw.tun_up ? gw.tw : NULL;
	rc = sp_dp_init(&dpp);
	if (rc != 0) {
		snprintf(err, errlen, "data path: %s", strerror(-rc));
		return rc;
	}
	gw.dp_up = true;
	sp_dp_set_runtime(conf);

	if (gw.has_exception) {
		rc = sp_kif_setup(&gw.kif, err, errlen);
		if (rc != 0)
			return rc;
		gw.kif_up = true;
	}
	rc = start_control(console_on_stdin, err, errlen);
	if (rc != 0)
		return rc;
	rc = sp_dp_start();
	if (rc != 0) {
		snprintf(err, errlen, "cannot launch workers: %s", strerror(-rc));
		return rc;
	}
	gw.dp_started = true;
	SP_LOG(gw, NOTICE, "gateway %s up: %u ports, %u workers, console %s", conf->name,
	       gw.n_data_ports, n_workers, conf->console.socket);
	return 0;
}

int
sp_gw_run(void)
{
	return sp_ctl_run(gw.ctl);
}

unsigned int
sp_gw_stop(void)
{
	unsigned int leaked;
	bool keeps;

	if (gw.console_up)
		sp_console_fini();
	gw.console_up = false;
	sp_tun_set_hooks(NULL);
	sp_keyx_console_attach(NULL);
	sp_keyx_destroy(gw.keyx);
	gw.keyx = NULL;
	sp_certd_destroy(gw.certd);
	gw.certd = NULL;
	if (gw.dp_started)
		sp_dp_stop();
	gw.dp_started = false;
	/* Packets still handed over but not yet seen by the control core. */
	if (gw.dp_up)
		sp_dp_ctl_poll(0);
	if (gw.neigh != NULL)
		sp_neigh_destroy(gw.neigh);
	gw.neigh = NULL;
	if (gw.dp_up)
		sp_dp_fini();
	gw.dp_up = false;
	stop_tunnels();
	if (gw.kif_up)
		sp_kif_teardown(&gw.kif);
	gw.kif_up = false;
	if (gw.routes_up)
		sp_route_fini();
	gw.routes_up = false;
	if (gw.rcu_up)
		sp_rcu_fini();
	gw.rcu_up = false;
	sp_iface_clear();
	keeps = sp_port_keeps_mbufs();
	sp_port_close_all();
	leaked = sp_port_pool_in_use();
	if (gw.pools_up) {
		if (leaked == 0) {
			SP_LOG(gw, INFO, "all mbufs returned to their pools");
		} else if (keeps) {
			/* Not ours to find: the driver's fill ring. Say so, do not fail. */
			SP_LOG(gw, WARNING, "%u mbufs not returned: net_af_xdp (DPDK 22.11) keeps "
			       "its fill ring's mbufs after close", leaked);
			leaked = 0;
		} else {
			SP_LOG(gw, ERR, "%u mbufs leaked", leaked);
		}
		sp_port_pools_free();
	}
	gw.pools_up = false;
	if (gw.pdump_up)
		rte_pdump_uninit();
	gw.pdump_up = false;
	if (gw.sigfd >= 0)
		close(gw.sigfd);
	gw.sigfd = -1;
	if (gw.ctl != NULL)
		sp_ctl_destroy(gw.ctl);
	gw.ctl = NULL;
	free(gw.conf);
	gw.conf = NULL;
	return leaked;
}
