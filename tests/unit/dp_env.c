/* SPDX-License-Identifier: BSD-3-Clause */
/* The data path on ring ports, for tests and fuzzing (see dp_env.h). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>

#include "dp_env.h"
#include "sp_dp.h"
#include "sp_neigh.h"
#include "sp_port.h"
#include "sp_rcu.h"
#include "sp_route.h"

const struct rte_ether_addr dp_env_exc_mac = { { 0x02, 0x53, 0x50, 0, 0, 0x01 } };
const struct rte_ether_addr dp_env_kernel_mac = { { 0x02, 0x53, 0x50, 0, 0, 0x00 } };
const struct rte_ether_addr dp_env_peer_mac = { { 0x02, 0, 0, 0, 0xbb, 0x09 } };

/* The gateway's configuration as far as lib/tunnel reads it: the ports are there so that the
 * checks of peer prefixes against connected subnets see what dp_env builds. */
static const char tun_conf_fmt[] =
	"eal = { lcores = \"0-2\"; };\n"
	"workers = { lcores = [ 1, 2 ]; };\n"
	"ports = (\n"
	"  { name = \"A\"; device = \"net_null0\";\n"
	"    addresses = [ \"10.1.0.1/24\", \"fd01::1/64\" ];\n"
	"    vlans = ( { id = 100; addresses = [ \"10.100.0.1/24\" ]; } ); },\n"
	"  { name = \"B\"; device = \"net_null1\"; mtu = 1400;\n"
	"    addresses = [ \"10.2.0.1/24\", \"fd02::1/64\" ]; }\n"
	");\n"
	"exception = { enabled = true; };\n"
	"pki = { cert = \"/nonexistent/g.crt\"; key = \"/nonexistent/g.key\";\n"
	"        bundle = \"/nonexistent/b.pem\"; identity = \"spiffe://dp-env/gw\"; };\n"
	"tunnels = {\n%s\n"
	"  peers = (\n"
	"    { name = \"p\"; address = \"10.2.0.9\";\n"
	"      prefixes = [ \"10.9.0.0/16\", \"fd09::/48\" ];\n"
	"      manual = ( { spi_in = %u; spi_out = %u; key_in = \"%s\"; key_out = \"%s\"; } ); }\n"
	"    %s%s\n"
	"  );\n"
	"};\n";

/* Engine, tunnels section and per-worker state; between the routes and the data path. */
static int
tun_setup(struct dp_env *e, const struct dp_env_tun *t)
{
	static const char *const engines[] = { "ipsec_mb", "openssl" };
	struct sp_tun_params tp = { .n_workers = e->n_workers };
	struct sp_conf_err cerr;
	char err[256], *text;
	size_t len;
	unsigned int i;
	int rc;

	len = sizeof(tun_conf_fmt) + 256 + (t->options ? strlen(t->options) : 0) +
	      (t->peers ? strlen(t->peers) : 0);
	text = malloc(len);
	e->conf = calloc(1, sizeof(*e->conf));
	if (text == NULL || e->conf == NULL) {
		free(text);
		return -1;
	}
	snprintf(text, len, tun_conf_fmt, t->options ? t->options : "", DP_ENV_P_SPI_IN,
		 DP_ENV_P_SPI_OUT, DP_ENV_P_KEY_IN, DP_ENV_P_KEY_OUT, t->peers ? ", " : "",
		 t->peers ? t->peers : "");
	rc = sp_conf_load_string(text, "dp_env", e->conf, &cerr);
	free(text);
	if (rc != 0) {
		fprintf(stderr, "dp_env: line %d: %s\n", cerr.line, cerr.msg);
		return -1;
	}
	for (i = 0; i < RTE_DIM(engines) && e->engine == NULL; i++)
		e->engine = sp_crypto_engine_open(engines[i], "", e->n_workers + 1, err,
						  sizeof(err));
	if (e->engine == NULL) {
		fprintf(stderr, "dp_env: no crypto engine: %s\n", err);
		return -1;
	}
	tp.conf = e->conf;
	tp.engine = e->engine;
	if (sp_tun_init(&tp, err, sizeof(err)) != 0) {
		fprintf(stderr, "dp_env: %s\n", err);
		return -1;
	}
	for (i = 0; i < e->n_workers; i++) {
		e->cctx[i] = sp_crypto_ctx_create(e->engine, i);
		e->tw[i] = e->cctx[i] != NULL ? sp_tun_worker_create(i, e->cctx[i]) : NULL;
		if (e->tw[i] == NULL)
			return -1;
	}
	return 0;
}

static int
setup(struct dp_env *e, const struct dp_env_tun *t)
{
	static const struct sp_conf_mempool mp = { .mbufs = 4095, .cache = 64, .data_room = 2176 };
	static const struct sp_conf_neigh nc = { .max_entries = 64, .reachable_ms = 30000,
						 .retrans_ms = 1000, .probes = 3,
						 .hold_packets = 4 };
	struct sp_iface ifs[4];
	struct sp_conf *conf;
	struct sp_dp_params dpp = { 0 };
	const char *names[DP_ENV_PORTS] = { "dpA", "dpB", "dpX" };
	char err[256];
	unsigned int i, lcores[DP_ENV_MAX_WORKERS] = { 0, 1 };

	memset(e, 0, sizeof(*e));
	e->now_ms = 1000;
	e->n_workers = t != NULL && t->n_workers > 1 ? DP_ENV_MAX_WORKERS : 1;
	if (sp_rcu_init(e->n_workers) != 0 || sp_port_pools_create(&mp, err, sizeof(err)) != 0)
		return -1;
	for (i = 0; i < DP_ENV_PORTS; i++) {
		char rn[32];
		struct sp_conf_port pc = { .mtu = 1500, .rx_desc = 64, .tx_desc = 64 };
		int id;

		snprintf(rn, sizeof(rn), "rx_%s", names[i]);
		e->rx[i] = rte_ring_create(rn, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(rn, sizeof(rn), "tx_%s", names[i]);
		e->tx[i] = rte_ring_create(rn, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		id = rte_eth_from_rings(names[i], &e->rx[i], 1, &e->tx[i], 1, 0);
		if (id < 0)
			return -1;
		snprintf(pc.name, sizeof(pc.name), "%s", names[i]);
		rte_eth_dev_get_name_by_port((uint16_t)id, pc.device);
		if (sp_port_open(&pc, 1, 1, &e->port[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
	}
	rte_eth_macaddr_get(e->port[DP_ENV_A], &e->mac_a);
	rte_eth_macaddr_get(e->port[DP_ENV_B], &e->mac_b);

	memset(ifs, 0, sizeof(ifs));
	ifs[0] = (struct sp_iface){ .id = 0, .port_id = e->port[DP_ENV_A], .mtu = 1500,
				    .mac = e->mac_a, .name = "A", .n_addrs = 2 };
	sp_ip_parse("10.1.0.1/24", &ifs[0].addrs[0], true);
	sp_ip_parse("fd01::1/64", &ifs[0].addrs[1], true);
	ifs[1] = (struct sp_iface){ .id = 1, .port_id = e->port[DP_ENV_A], .vlan = 100,
				    .mtu = 1500, .mac = e->mac_a, .name = "A.100", .n_addrs = 1 };
	sp_ip_parse("10.100.0.1/24", &ifs[1].addrs[0], true);
	ifs[2] = (struct sp_iface){ .id = 2, .port_id = e->port[DP_ENV_B], .mtu = 1400,
				    .mac = e->mac_b, .name = "B", .n_addrs = 2 };
	sp_ip_parse("10.2.0.1/24", &ifs[2].addrs[0], true);
	sp_ip_parse("fd02::1/64", &ifs[2].addrs[1], true);
	ifs[3] = (struct sp_iface){ .id = 3, .port_id = e->port[DP_ENV_X], .mtu = 1500,
				    .mac = dp_env_exc_mac, .peer_mac = dp_env_kernel_mac,
				    .exception = true, .name = "exception" };
	if (sp_iface_set(ifs, 4) != 0 || sp_route_init(64) != 0)
		return -1;
	if (t != NULL && tun_setup(e, t) != 0)
		return -1;
	e->neigh = sp_neigh_create("dp_env", &nc, &sp_dp_neigh_ops, NULL);
	if (e->neigh == NULL)
		return -1;
	dpp.n_workers = e->n_workers;
	dpp.lcores = lcores;
	dpp.tun = t != NULL ? e->tw : NULL;
	dpp.burst = 32;
	dpp.n_data_ports = 2;
	dpp.data_ports = e->port;
	dpp.has_exception = true;
	dpp.exception_port = e->port[DP_ENV_X];
	dpp.neigh = e->neigh;
	if (sp_dp_init(&dpp) != 0)
		return -1;
	conf = calloc(1, sizeof(*conf));
	if (conf == NULL)
		return -1;
	conf->workers.idle = SP_IDLE_POLL;
	conf->icmp.errors_per_sec = 1000;
	conf->icmp.burst = 50;
	sp_dp_set_runtime(conf);
	free(conf);
	e->w = dp_worker(0);
	if (t != NULL) {
		static const char *const peer_addrs[] = { "10.2.0.9", "fd02::9" };
		struct sp_neigh_key k;
		struct sp_ip a;

		for (i = 0; i < RTE_DIM(peer_addrs); i++) {
			sp_ip_parse(peer_addrs[i], &a, false);
			sp_neigh_key_set(&k, 2, &a);
			if (sp_neigh_add_static(e->neigh, &k, &dp_env_peer_mac) != 0)
				return -1;
		}
	}
	/* This thread is the worker. */
	return sp_rcu_online(0);
}

int
dp_env_setup(struct dp_env *e)
{
	return setup(e, NULL);
}

int
dp_env_setup_tunnel(struct dp_env *e, const struct dp_env_tun *t)
{
	static const struct dp_env_tun dflt = { .n_workers = 1 };

	return setup(e, t != NULL ? t : &dflt);
}

int
dp_env_inject(struct dp_env *e, int port, const uint8_t *p, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(sp_port_pool());
	char *d;

	if (m == NULL)
		return -1;
	d = rte_pktmbuf_append(m, len);
	if (d == NULL || rte_ring_enqueue(e->rx[port], m) != 0) {
		rte_pktmbuf_free(m);
		return -1;
	}
	memcpy(d, p, len);
	return 0;
}

void
dp_env_run(struct dp_env *e)
{
	dp_poll_once(e->w);
	sp_dp_ctl_poll(e->now_ms);
	sp_neigh_timer(e->neigh, e->now_ms);
	dp_poll_once(e->w);
}

struct rte_mbuf *
dp_env_sent(struct dp_env *e, int port)
{
	struct rte_mbuf *m = NULL;

	if (rte_ring_dequeue(e->tx[port], (void **)&m) != 0)
		return NULL;
	return m;
}

unsigned int
dp_env_drain(struct dp_env *e, int port)
{
	struct rte_mbuf *m;
	unsigned int n = 0;

	while ((m = dp_env_sent(e, port)) != NULL) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

unsigned int
dp_env_teardown(struct dp_env *e)
{
	struct rte_mbuf *m;
	int i;

	for (i = 0; i < DP_ENV_PORTS; i++)
		dp_env_drain(e, i);
	sp_rcu_offline(0);
	sp_dp_stop();
	sp_neigh_destroy(e->neigh);
	sp_dp_fini();
	for (i = 0; i < DP_ENV_MAX_WORKERS; i++) {
		sp_tun_worker_destroy(e->tw[i]);
		if (e->cctx[i] != NULL)
			sp_crypto_ctx_destroy(e->engine, e->cctx[i]);
		e->tw[i] = NULL;
		e->cctx[i] = NULL;
	}
	sp_tun_fini();
	sp_route_fini();
	/* SAs still waiting for their grace period hold sessions of the engine */
	sp_rcu_fini();
	if (e->engine != NULL)
		sp_crypto_engine_close(e->engine);
	e->engine = NULL;
	free(e->conf);
	e->conf = NULL;
	sp_port_close_all();
	for (i = 0; i < DP_ENV_PORTS; i++) {
		dp_env_drain(e, i);
		while (rte_ring_dequeue(e->rx[i], (void **)&m) == 0)
			rte_pktmbuf_free(m);
	}
	return sp_port_pool_in_use();
}
