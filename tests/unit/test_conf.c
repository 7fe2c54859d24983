/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration parsing and validation. Runs in tests/unit (see meson.build):
 * - conf/bad/NNN-*.conf: every file starts with "# expect: <message>" (@FILE@ = its path) and
 *   must fail with exactly that message;
 * - every .conf file in conf/good, ../../conf and ../../conf/demo must load, and survive a
 *   dump/load round trip unchanged;
 * - the reference ../../conf/sallyport.conf has the documented values;
 * - tables of reload checks and EAL argument overrides.
 * No EAL needed.
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sp_conf.h"
#include "test_common.h"

#define REF_CONF "../../conf/sallyport.conf"

static struct sp_conf *
conf_new(void)
{
	struct sp_conf *c = calloc(1, sizeof(*c));

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, n + 1);
	if (buf != NULL && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Replace the first "from" in text with "to"; NULL when from is absent. */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t pre, len;
	char *out;

	if (at == NULL)
		return NULL;
	pre = at - text;
	len = strlen(text) - strlen(from) + strlen(to);
	out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, text, pre);
	memcpy(out + pre, to, strlen(to));
	strcpy(out + pre + strlen(to), at + strlen(from));
	return out;
}

/* Files of a directory ending in ".conf", sorted; returns the count (0 when absent). */
static int
conf_files(const char *dir, struct dirent ***list)
{
	int n = scandir(dir, list, NULL, alphasort), i, k = 0;

	if (n < 0) {
		*list = NULL;
		return 0;
	}
	for (i = 0; i < n; i++) {
		size_t len = strlen((*list)[i]->d_name);

		if (len > 5 && strcmp((*list)[i]->d_name + len - 5, ".conf") == 0)
			(*list)[k++] = (*list)[i];
		else
			free((*list)[i]);
	}
	return k;
}

static void
free_list(struct dirent **list, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* Path, lines and padding are not part of what a configuration says. */
static void
normalise(struct sp_conf *c)
{
	unsigned int i, k;

	memset(c->path, 0, sizeof(c->path));
	c->exception.line = 0;
	for (i = 0; i < c->n_ports; i++) {
		c->ports[i].line = 0;
		for (k = 0; k < c->ports[i].n_ifaces; k++)
			c->ports[i].ifaces[k].line = 0;
	}
	for (i = 0; i < c->n_routes; i++)
		c->routes[i].line = 0;
	c->tunnels.line = 0;
	for (i = 0; i < c->tunnels.n_peers; i++) {
		c->tunnels.peers[i].line = 0;
		for (k = 0; k < c->tunnels.peers[i].n_manual; k++)
			c->tunnels.peers[i].manual[k].line = 0;
	}
}

static char *
dump_text(const struct sp_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(sp_conf_dump(c, f), 0);
	fclose(f);
	return buf;
}

/* Load, dump, load the dump: the two structs must be equal. */
static void
check_round_trip(const char *path, const struct sp_conf *loaded)
{
	struct sp_conf *a = conf_new(), *b = conf_new();
	struct sp_conf_err err;
	char *text = dump_text(loaded);
	int rc;

	memcpy(a, loaded, sizeof(*a));
	rc = sp_conf_load_string(text, "dump", b, &err);
	if (rc != 0)
		printf("\n  dump of %s does not load: %s\n%s\n", path, err.msg, text);
	CU_ASSERT_EQUAL(rc, 0);
	normalise(a);
	normalise(b);
	if (rc == 0 && memcmp(a, b, sizeof(*a)) != 0)
		printf("\n  dump of %s loads differently:\n%s\n", path, text);
	CU_ASSERT(rc == 0 && memcmp(a, b, sizeof(*a)) == 0);
	free(text);
	free(a);
	free(b);
}

static void
check_addr(const struct sp_ip *ip, const char *expect)
{
	char b[SP_IP_STRLEN];

	sp_ip_format(ip, b, sizeof(b), true);
	CU_ASSERT_STRING_EQUAL(b, expect);
}

static void
test_reference(void)
{
	struct sp_conf *c = conf_new();
	struct sp_conf_err err;
	const struct sp_conf_port *p;
	const struct sp_conf_route *r;
	char b[64];
	int rc = sp_conf_load(REF_CONF, c, &err);

	if (rc != 0)
		printf("\n  %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(c->path, REF_CONF);
	CU_ASSERT_STRING_EQUAL(c->name, "gw-a");
	CU_ASSERT_STRING_EQUAL(c->eal.lcores, "0-1");
	CU_ASSERT_EQUAL(c->eal.main_lcore, 0);
	CU_ASSERT_STRING_EQUAL(c->eal.file_prefix, "gw-a");
	CU_ASSERT_EQUAL(c->eal.memory_mb, 512);
	CU_ASSERT(!c->eal.in_memory && !c->eal.no_huge && c->eal.no_pci && !c->eal.no_telemetry);
	CU_ASSERT_EQUAL(c->eal.n_extra, 1);
	CU_ASSERT_STRING_EQUAL(c->eal.extra[0], "--log-level=lib.eal:warning");
	CU_ASSERT_EQUAL(c->workers.n_lcores, 1);
	CU_ASSERT_EQUAL(c->workers.lcores[0], 1);
	CU_ASSERT_EQUAL(c->workers.idle, SP_IDLE_ADAPTIVE);
	CU_ASSERT_EQUAL(c->workers.idle_max_us, 1000);
	CU_ASSERT_EQUAL(c->workers.burst, 32);
	CU_ASSERT_EQUAL(c->mempool.mbufs, 8191);
	CU_ASSERT_EQUAL(c->mempool.cache, 256);
	CU_ASSERT_EQUAL(c->mempool.data_room, 2176);

	CU_ASSERT_EQUAL_FATAL(c->n_ports, 2);
	p = &c->ports[0];
	CU_ASSERT_STRING_EQUAL(p->name, "inside");
	CU_ASSERT_STRING_EQUAL(p->device, "net_tap0,iface=spa-in");
	CU_ASSERT(p->has_mac);
	rte_ether_format_addr(b, sizeof(b), &p->mac);
	CU_ASSERT_STRING_EQUAL(b, "02:00:00:00:01:01");
	CU_ASSERT_EQUAL(p->mtu, 1500);
	CU_ASSERT_EQUAL(p->rx_desc, 1024);
	CU_ASSERT_EQUAL(p->tx_desc, 1024);
	CU_ASSERT(!p->promiscuous);
	CU_ASSERT_EQUAL_FATAL(p->n_ifaces, 2);
	CU_ASSERT_EQUAL(p->ifaces[0].vlan, 0);
	CU_ASSERT_EQUAL(p->ifaces[0].mtu, 0);
	CU_ASSERT_EQUAL_FATAL(p->ifaces[0].n_addrs, 2);
	check_addr(&p->ifaces[0].addrs[0], "10.1.0.1/24");
	check_addr(&p->ifaces[0].addrs[1], "fd00:1::1/64");
	CU_ASSERT_EQUAL(p->ifaces[1].vlan, 100);
	CU_ASSERT_EQUAL(p->ifaces[1].mtu, 0);
	CU_ASSERT_EQUAL_FATAL(p->ifaces[1].n_addrs, 1);
	check_addr(&p->ifaces[1].addrs[0], "10.100.0.1/24");
	sp_conf_iface_name(p, &p->ifaces[1], b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "inside.100");
	sp_conf_iface_name(p, &p->ifaces[0], b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "inside");
	p = &c->ports[1];
	CU_ASSERT_STRING_EQUAL(p->name, "outside");
	CU_ASSERT_STRING_EQUAL(p->device, "net_tap1,iface=spa-out");
	CU_ASSERT_EQUAL(p->n_ifaces, 1);
	CU_ASSERT_EQUAL(p->mtu, 1500);

	CU_ASSERT(c->exception.enabled);
	CU_ASSERT_STRING_EQUAL(c->exception.iface, "sp0");
	CU_ASSERT_STRING_EQUAL(c->exception.netns, "");
	CU_ASSERT(c->exception.has_mac);
	rte_ether_format_addr(b, sizeof(b), &c->exception.mac);
	CU_ASSERT_STRING_EQUAL(b, "02:53:50:00:00:01");
	CU_ASSERT_EQUAL(c->exception.table, 100);
	CU_ASSERT_EQUAL(c->exception.rule_priority, 100);

	CU_ASSERT_EQUAL_FATAL(c->n_routes, 5);
	r = c->routes;
	check_addr(&r[0].prefix, "10.9.0.0/16");
	CU_ASSERT_EQUAL(r[0].kind, SP_ROUTE_VIA);
	check_addr(&r[0].via, "10.2.0.254/32");
	CU_ASSERT_STRING_EQUAL(r[0].iface, "");
	CU_ASSERT_EQUAL(r[1].kind, SP_ROUTE_VIA);
	CU_ASSERT_STRING_EQUAL(r[1].iface, "outside");
	CU_ASSERT_EQUAL(r[2].kind, SP_ROUTE_DEV);
	CU_ASSERT_STRING_EQUAL(r[2].iface, "inside.100");
	check_addr(&r[3].prefix, "fd00:9::/48");
	check_addr(&r[3].via, "fd00:2::fe/128");
	CU_ASSERT_EQUAL(r[4].kind, SP_ROUTE_BLACKHOLE);
	check_addr(&r[4].prefix, "192.0.2.0/24");
	CU_ASSERT(r[0].line > 0 && r[1].line > r[0].line);

	CU_ASSERT_EQUAL(c->neigh.max_entries, 4096);
	CU_ASSERT_EQUAL(c->neigh.reachable_ms, 30000);
	CU_ASSERT_EQUAL(c->neigh.retrans_ms, 1000);
	CU_ASSERT_EQUAL(c->neigh.probes, 3);
	CU_ASSERT_EQUAL(c->neigh.hold_packets, 16);
	CU_ASSERT_EQUAL(c->icmp.errors_per_sec, 1000);
	CU_ASSERT_EQUAL(c->icmp.burst, 50);
	CU_ASSERT_EQUAL(c->log.format, SP_LOG_TEXT);
	CU_ASSERT_EQUAL(c->log.level, RTE_LOG_INFO);
	CU_ASSERT_EQUAL_FATAL(c->log.n_types, 1);
	CU_ASSERT_STRING_EQUAL(c->log.types[0].pattern, "lib.*");
	CU_ASSERT_EQUAL(c->log.types[0].level, RTE_LOG_WARNING);
	CU_ASSERT_STRING_EQUAL(c->console.socket, "/run/sallyport/gw-a.sock");
	CU_ASSERT_EQUAL(sp_conf_main_lcore(c), 0);
	check_round_trip(REF_CONF, c);
	CU_ASSERT_STRING_EQUAL(c->crypto.engine, "ipsec_mb");
	CU_ASSERT(c->tunnels.enabled && c->tunnels.esn && !c->tunnels.udp_encap);
	CU_ASSERT_EQUAL(c->tunnels.port, 4501);
	CU_ASSERT_EQUAL(c->tunnels.key_bits, 256);
	CU_ASSERT_EQUAL(c->tunnels.replay_window, 1024);
	CU_ASSERT_EQUAL(c->tunnels.lifetime.soft_seconds, 3600);
	CU_ASSERT_EQUAL(c->tunnels.dpd_timeout_ms, 5000);
	CU_ASSERT_EQUAL_FATAL(c->tunnels.n_peers, 2);
	CU_ASSERT_STRING_EQUAL(c->tunnels.peers[0].name, "gw-b");
	CU_ASSERT_EQUAL(c->tunnels.peers[0].n_manual, 0);
	CU_ASSERT_EQUAL(c->tunnels.peers[1].n_manual, 1);
	CU_ASSERT(!c->tunnels.peers[1].esn);
	CU_ASSERT_EQUAL(c->tunnels.peers[1].path_mtu, 1400);
	CU_ASSERT_EQUAL(c->tunnels.peers[1].manual[0].spi_in, 0x2001);
	free(c);
}

static const char minimal[] =
	"eal = { lcores = \"2,0-1\"; };\n"
	"workers = { lcores = [ 2 ]; };\n"
	"ports = ( { name = \"p0\"; device = \"net_null0\"; } );\n";

static void
test_defaults(void)
{
	struct sp_conf *c = conf_new();
	struct sp_conf_err err;

	CU_ASSERT_EQUAL_FATAL(sp_conf_load_string(minimal, "min", c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->path, "min");
	CU_ASSERT_STRING_EQUAL(c->name, "sallyport");
	CU_ASSERT_EQUAL(c->eal.main_lcore, -1);
	CU_ASSERT_EQUAL(sp_conf_main_lcore(c), 0);
	CU_ASSERT_STRING_EQUAL(c->eal.file_prefix, "");
	CU_ASSERT_EQUAL(c->eal.memory_mb, 0);
	CU_ASSERT_EQUAL(c->eal.n_extra, 0);
	CU_ASSERT_EQUAL(c->workers.idle, SP_IDLE_ADAPTIVE);
	CU_ASSERT_EQUAL(c->workers.idle_max_us, 1000);
	CU_ASSERT_EQUAL(c->workers.burst, 32);
	CU_ASSERT_EQUAL(c->mempool.mbufs, 8191);
	CU_ASSERT_EQUAL(c->mempool.cache, 256);
	CU_ASSERT_EQUAL(c->mempool.data_room, 2176);
	CU_ASSERT_EQUAL(c->ports[0].mtu, 1500);
	CU_ASSERT_EQUAL(c->ports[0].rx_desc, 1024);
	CU_ASSERT_EQUAL(c->ports[0].tx_desc, 1024);
	CU_ASSERT(!c->ports[0].has_mac && !c->ports[0].promiscuous);
	CU_ASSERT_EQUAL(c->ports[0].n_ifaces, 0);
	CU_ASSERT(!c->exception.enabled && !c->exception.has_mac);
	CU_ASSERT_STRING_EQUAL(c->exception.iface, "sp0");
	CU_ASSERT_EQUAL(c->exception.mac.addr_bytes[1], 0x53);
	CU_ASSERT_EQUAL(c->exception.table, 100);
	CU_ASSERT_EQUAL(c->exception.rule_priority, 100);
	CU_ASSERT_EQUAL(c->n_routes, 0);
	CU_ASSERT_EQUAL(c->neigh.max_entries, 4096);
	CU_ASSERT_EQUAL(c->neigh.reachable_ms, 30000);
	CU_ASSERT_EQUAL(c->neigh.retrans_ms, 1000);
	CU_ASSERT_EQUAL(c->neigh.probes, 3);
	CU_ASSERT_EQUAL(c->neigh.hold_packets, 16);
	CU_ASSERT_EQUAL(c->icmp.errors_per_sec, 1000);
	CU_ASSERT_EQUAL(c->icmp.burst, 50);
	CU_ASSERT_EQUAL(c->log.format, SP_LOG_TEXT);
	CU_ASSERT_EQUAL(c->log.level, RTE_LOG_INFO);
	CU_ASSERT_EQUAL(c->log.n_types, 0);
	CU_ASSERT_STRING_EQUAL(c->console.socket, "/run/sallyport/sallyport.sock");
	check_round_trip("minimal", c);
	free(c);
}

/* Every file of conf/bad fails with the message on its first line. */
static void
test_bad_corpus(void)
{
	struct sp_conf *c = conf_new();
	struct dirent **list;
	int n = conf_files("conf/bad", &list), i;

	CU_ASSERT(n >= 40);
	for (i = 0; i < n; i++) {
		char path[512], expect[SP_CONF_ERR_MAX + 64], *text, *nl, *at;
		struct sp_conf_err err;
		int rc;

		snprintf(path, sizeof(path), "conf/bad/%s", list[i]->d_name);
		text = read_text(path);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT_FATAL(strncmp(text, "# expect: ", 10) == 0);
		nl = strchr(text, '\n');
		CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
		*nl = '\0';
		/* the message with @FILE@ replaced by the path */
		at = strstr(text + 10, "@FILE@");
		if (at != NULL)
			snprintf(expect, sizeof(expect), "%.*s%s%s", (int)(at - (text + 10)),
				 text + 10, path, at + 6);
		else
			snprintf(expect, sizeof(expect), "%s", text + 10);
		free(text);

		rc = sp_conf_load(path, c, &err);
		if (rc != -EINVAL || strcmp(err.msg, expect) != 0)
			printf("\n  %s: rc %d\n    got:    %s\n    expect: %s\n", path, rc, err.msg,
			       expect);
		CU_ASSERT_EQUAL(rc, -EINVAL);
		CU_ASSERT_STRING_EQUAL(err.msg, expect);
		CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
		CU_ASSERT_STRING_EQUAL(err.file, path);
	}
	free_list(list, n);
	free(c);
}

static unsigned int
load_dir(const char *dir)
{
	struct sp_conf *c = conf_new();
	struct dirent **list;
	int n = conf_files(dir, &list), i;

	for (i = 0; i < n; i++) {
		struct sp_conf_err err;
		char path[512];
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		rc = sp_conf_load(path, c, &err);
		if (rc != 0)
			printf("\n  %s does not load: %s\n", path, err.msg);
		CU_ASSERT_EQUAL(rc, 0);
		if (rc == 0)
			check_round_trip(path, c);
	}
	free_list(list, n);
	free(c);
	return n;
}

static void
test_good(void)
{
	CU_ASSERT(load_dir("conf/good") >= 4);
	CU_ASSERT(load_dir("../../conf") >= 1);
	load_dir("../../conf/demo");
}

static void
test_good_values(void)
{
	struct sp_conf *c = conf_new();
	struct sp_conf_err err;
	const struct sp_conf_port *p;

	CU_ASSERT_EQUAL_FATAL(sp_conf_load("conf/good/edges.conf", c, &err), 0);
	/* libconfig 1.5 would read these as 32-bit garbage without the loader's help */
	CU_ASSERT_EQUAL(c->exception.table, 4294967295u);
	CU_ASSERT_EQUAL(c->eal.memory_mb, 1048576);
	CU_ASSERT_EQUAL(c->mempool.mbufs, 16777215);
	CU_ASSERT_EQUAL(c->neigh.reachable_ms, 3600000);
	CU_ASSERT_EQUAL(c->workers.idle, SP_IDLE_POLL);
	CU_ASSERT_EQUAL(c->workers.n_lcores, 3);
	CU_ASSERT_EQUAL(c->eal.main_lcore, 2);
	CU_ASSERT_EQUAL(c->workers.lcores[2], 3);
	CU_ASSERT_EQUAL(c->log.format, SP_LOG_JSON);
	CU_ASSERT_EQUAL(c->log.level, RTE_LOG_DEBUG);
	CU_ASSERT_EQUAL(c->ports[0].mtu, 9000);
	CU_ASSERT_EQUAL(c->ports[0].rx_desc, 16384);
	p = &c->ports[1];
	CU_ASSERT_EQUAL(p->mtu, 68);
	CU_ASSERT_EQUAL_FATAL(p->n_ifaces, 1);
	check_addr(&p->ifaces[0].addrs[0], "10.31.0.0/31");
	check_addr(&p->ifaces[0].addrs[1], "10.32.0.1/32");
	CU_ASSERT_EQUAL(c->n_routes, 3);
	check_addr(&c->routes[0].prefix, "0.0.0.0/0");
	check_addr(&c->routes[0].via, "10.31.0.1/32");
	free(c);
}

static void
test_tunnel_values(void)
{
	static const uint8_t k_in[20] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01, 0x02, 0x03, 0x04 };
	struct sp_conf *c = conf_new(), *d = conf_new();
	const struct sp_conf_tunnels *t = &c->tunnels;
	const struct sp_conf_peer *p;
	struct sp_conf_err err;

	CU_ASSERT_EQUAL_FATAL(sp_conf_load("conf/good/tunnels.conf", c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->crypto.engine, "cryptodev");
	CU_ASSERT_STRING_EQUAL(c->crypto.args, "crypto_aesni_mb0");
	CU_ASSERT(t->enabled);
	CU_ASSERT_EQUAL(t->port, 4600);
	CU_ASSERT_EQUAL(t->key_bits, 128);
	CU_ASSERT_EQUAL(t->replay_window, 4096);
	CU_ASSERT_EQUAL(t->lifetime.hard_packets, 4294967295ull);
	CU_ASSERT_EQUAL(t->lifetime.soft_bytes, 1000000000ull);
	CU_ASSERT_EQUAL_FATAL(t->n_peers, 2);
	p = &t->peers[0];
	CU_ASSERT_STRING_EQUAL(p->name, "legacy");
	check_addr(&p->address, "fd03::9/128");
	CU_ASSERT(p->has_local);
	CU_ASSERT(!p->udp_encap && p->esn);
	CU_ASSERT_EQUAL(p->path_mtu, 1400);
	CU_ASSERT_EQUAL_FATAL(p->n_manual, 2);
	CU_ASSERT_EQUAL(p->manual[0].spi_in, 0x1001);
	CU_ASSERT_EQUAL(p->manual[0].keymat_len, 20);
	CU_ASSERT(memcmp(p->manual[0].key_in, k_in, 20) == 0);
	CU_ASSERT_EQUAL(p->manual[0].key_out[0], 0xff);
	CU_ASSERT_EQUAL(p->manual[0].key_out[19], 0xa4);
	CU_ASSERT_EQUAL(p->manual[1].spi_in, 4294967295u);
	p = &t->peers[1];
	CU_ASSERT_EQUAL(p->n_manual, 0);
	CU_ASSERT(p->udp_encap && !p->esn);   /* inherited from the section */
	CU_ASSERT_STRING_EQUAL(p->identity, "spiffe://example.org/gateway/g2");
	CU_ASSERT_EQUAL(p->n_prefixes, 2);
	check_addr(&p->prefixes[1], "fd02::/64");
	/* defaults, and a change that needs a restart */
	CU_ASSERT_EQUAL_FATAL(sp_conf_load("conf/good/tunnels.conf", d, &err), 0);
	CU_ASSERT_EQUAL(sp_conf_reload_check(c, d, &err), 0);
	d->tunnels.peers[1].prefixes[1].plen = 56;
	CU_ASSERT_EQUAL(sp_conf_reload_check(c, d, &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "conf/good/tunnels.conf: tunnels: changing it needs a "
			       "restart");
	CU_ASSERT_EQUAL_FATAL(sp_conf_load_string("eal = { lcores = \"0-1\"; };\n"
		"workers = { lcores = [1]; };\nports = ( { name = \"a\"; device = \"net_null0\"; } );\n"
		"tunnels = { };\n", "min", d, &err), 0);
	CU_ASSERT_STRING_EQUAL(d->crypto.engine, "ipsec_mb");
	CU_ASSERT(d->tunnels.enabled && d->tunnels.esn && !d->tunnels.udp_encap);
	CU_ASSERT_EQUAL(d->tunnels.key_bits, 256);
	CU_ASSERT_EQUAL(d->tunnels.port, 4501);
	CU_ASSERT_EQUAL(d->tunnels.replay_window, 1024);
	CU_ASSERT_EQUAL(d->tunnels.lifetime.soft_seconds, 3600);
	CU_ASSERT_EQUAL(d->tunnels.lifetime.hard_seconds, 4500);
	CU_ASSERT_EQUAL(d->tunnels.dpd_timeout_ms, 5000);
	free(c);
	free(d);
}

static void
test_read_errors(void)
{
	struct sp_conf *c = conf_new();
	struct sp_conf_err err;
	char tmp[] = "/tmp/sp_test_conf_XXXXXX";
	int fd;

	CU_ASSERT_EQUAL(sp_conf_load("conf/none.conf", c, &err), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err.msg, "conf/none.conf: cannot read: No such file or directory");
	CU_ASSERT_STRING_EQUAL(err.file, "conf/none.conf");
	CU_ASSERT_EQUAL(err.line, 0);
	CU_ASSERT_EQUAL(sp_conf_load("conf/good", c, &err), -EISDIR);
	CU_ASSERT_STRING_EQUAL(err.msg, "conf/good: cannot read: Is a directory");

	fd = mkstemp(tmp);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, minimal, sizeof(minimal) - 1), (ssize_t)sizeof(minimal) - 1);
	CU_ASSERT_EQUAL(write(fd, "\n# x\0y\n", 7), 7);
	close(fd);
	CU_ASSERT_EQUAL(sp_conf_load(tmp, c, &err), -EINVAL);
	CU_ASSERT(strstr(err.msg, ":5: syntax error: NUL byte in the file") != NULL);
	CU_ASSERT_EQUAL(err.line, 5);
	/* root reads anything: only check EACCES when it can happen */
	if (geteuid() != 0) {
		char expect[128];

		chmod(tmp, 0);
		snprintf(expect, sizeof(expect), "%s: cannot read: Permission denied", tmp);
		CU_ASSERT_EQUAL(sp_conf_load(tmp, c, &err), -EACCES);
		CU_ASSERT_STRING_EQUAL(err.msg, expect);
	}
	unlink(tmp);
	free(c);
}

struct str_case {
	const char *text;
	const char *msg;   /* NULL: loads */
};

/* Inline cases: sp_conf_load_string, its name in messages, and what is easier to say here. */
static void
test_load_string(void)
{
	static const struct str_case cases[] = {
		{ "", "s: eal.lcores: required setting missing" },
		{ "eal = { lcores = \"0\"; };", "s: workers.lcores: required setting missing" },
		{ "eal = { lcores = \"0-1\"; }; workers = { lcores = [1]; };",
		  "s: ports: required setting missing" },
		{ "x = (((((((((((((((((((((((((1)))))))))))))))))))))))));",
		  "s:1: syntax error: nested deeper than 16 levels" },
		{ "eal = { lcores = \"0-1\"; extra = [ \"--x=@include\" ]; }; /* @include */\n"
		  "# @include\n// @include", "s: workers.lcores: required setting missing" },
		{ "name = \"gw\";\n\"abc\n", "s:2: syntax error: unterminated string" },
		{ "name = \"gw\";\n name = \"gw\";", "s:2: syntax error: duplicate setting name" },
		{ "name = \"gw\"; # last line without newline",
		  "s: eal.lcores: required setting missing" },
		{ "a = (1, 2,);", "s:1: syntax error" },
		{ "\n\n@include \"/etc/passwd\"\n",
		  "s:3: @include is not supported: keep the configuration in one file" },
		{ "name = \"a\nb\";", "s:1: name: invalid name \"a\\x0ab\": use 1..31 characters "
		  "of [A-Za-z0-9_-]" },
		{ "name = \"0123456789012345678901234567890123456789012345678901234567890123456789\";",
		  "s:1: name: invalid name \"0123456789012345678901234567890123456789012345678901"
		  "234567890123...\": use 1..31 characters of [A-Za-z0-9_-]" },
		{ "eal = { lcores = \"0-1\"; memory_mb = -5000000000; };",
		  "s:1: eal.memory_mb: -5000000000 is out of range 0..1048576" },
		{ "eal = { lcores = \"0-1\"; memory_mb = 0x80000000; };",
		  "s:1: eal.memory_mb: 2147483648 is out of range 0..1048576" },
		{ "eal = { lcores = \"0-1\"; memory_mb = -9223372036854775809; };",
		  "s:1: integer too large: -9223372036854775809" },
		{ "eal = { lcores = \"0-1\"; memory_mb = 1e3; };",
		  "s:1: eal.memory_mb: must be an integer" },
		{ "eal = { lcores = \"0-1\"; memory_mb = 12345678901234567890L; };",
		  "s:1: integer too large: 12345678901234567890L" },
		{ "eal = { lcores = \"0-1\"; memory_mb = 1048576L; }; workers = { lcores = [1]; };",
		  "s: ports: required setting missing" },
	};
	struct sp_conf *c = conf_new();
	struct sp_conf_err err;
	unsigned int i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		int rc = sp_conf_load_string(cases[i].text, "s", c, &err);

		if (cases[i].msg == NULL ? rc != 0 : strcmp(err.msg, cases[i].msg) != 0)
			printf("\n  case %u: rc %d msg %s\n", i, rc, err.msg);
		if (cases[i].msg == NULL) {
			CU_ASSERT_EQUAL(rc, 0);
		} else {
			CU_ASSERT_EQUAL(rc, -EINVAL);
			CU_ASSERT_STRING_EQUAL(err.msg, cases[i].msg);
		}
	}
	/* error fields */
	CU_ASSERT_EQUAL(sp_conf_load_string("eal = {\n lcores = \"x\"; };", "f.conf", c, &err),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err.file, "f.conf");
	CU_ASSERT_EQUAL(err.line, 2);
	CU_ASSERT_STRING_EQUAL(err.setting, "eal.lcores");
	CU_ASSERT_EQUAL(sp_conf_load_string("x", NULL, c, &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "(string):1: syntax error");
	CU_ASSERT_STRING_EQUAL(err.setting, "");
	/* no err: still refused, and nothing crashes */
	CU_ASSERT_EQUAL(sp_conf_load_string("x", "n", c, NULL), -EINVAL);
	CU_ASSERT_EQUAL(sp_conf_load_string(minimal, "n", c, NULL), 0);
	free(c);
}

struct reload_case {
	const char *from1, *to1;
	const char *from2, *to2;
	const char *setting;  /* NULL: the reload is allowed */
};

static void
test_reload(void)
{
	static const struct reload_case cases[] = {
		{ "idle = \"adaptive\"", "idle = \"poll\"", NULL, NULL, NULL },
		{ "idle_max_us = 1000", "idle_max_us = 50", NULL, NULL, NULL },
		{ "{ prefix = \"10.9.0.0/16\"; via = \"10.2.0.254\"; },", "", NULL, NULL, NULL },
		{ "\"10.2.0.254\"; interface", "\"10.2.0.253\"; interface", NULL, NULL, NULL },
		{ "reachable_ms = 30000", "reachable_ms = 5000", "probes = 3", "probes = 5", NULL },
		{ "hold_packets = 16", "hold_packets = 1", "retrans_ms = 1000", "retrans_ms = 100",
		  NULL },
		{ "errors_per_sec = 1000", "errors_per_sec = 0", "burst = 50", "burst = 5", NULL },
		{ "format = \"text\"", "format = \"json\"", "level = \"info\"", "level = \"debug\"",
		  NULL },
		{ "{ pattern = \"lib.*\"; level = \"warning\"; }", "", NULL, NULL, NULL },
		{ "name = \"gw-a\"", "name = \"gw-b\"", NULL, NULL, "name" },
		{ "lcores = \"0-1\"", "lcores = \"0-2\"", NULL, NULL, "eal.lcores" },
		{ "main_lcore = 0;", "", NULL, NULL, "eal.main_lcore" },
		{ "file_prefix = \"gw-a\"", "file_prefix = \"gw-b\"", NULL, NULL,
		  "eal.file_prefix" },
		{ "memory_mb = 512", "memory_mb = 1024", NULL, NULL, "eal.memory_mb" },
		{ "in_memory = false", "in_memory = true", NULL, NULL, "eal.in_memory" },
		{ "no_huge = false", "no_huge = true", NULL, NULL, "eal.no_huge" },
		{ "no_pci = true", "no_pci = false", NULL, NULL, "eal.no_pci" },
		{ "no_telemetry = false", "no_telemetry = true", NULL, NULL, "eal.no_telemetry" },
		{ "lib.eal:warning\"", "lib.eal:info\"", NULL, NULL, "eal.extra.[0]" },
		{ "lib.eal:warning\"", "lib.eal:info\", \"--vdev=net_null0\"", NULL, NULL,
		  "eal.extra" },
		{ "lcores = \"0-1\"", "lcores = \"0-2\"", "lcores = [ 1 ]", "lcores = [ 1, 2 ]",
		  "eal.lcores" },
		{ "burst = 32", "burst = 16", NULL, NULL, "workers.burst" },
		{ "mbufs = 8191", "mbufs = 16383", NULL, NULL, "mempool.mbufs" },
		{ "cache = 256", "cache = 128", NULL, NULL, "mempool.cache" },
		{ "data_room = 2176", "data_room = 4096", NULL, NULL, "mempool.data_room" },
		{ "name = \"outside\"", "name = \"out\"", "interface = \"outside\"",
		  "interface = \"out\"", "ports.[1].name" },
		{ "net_tap1,iface=spa-out", "net_tap2,iface=spa-out", NULL, NULL,
		  "ports.[1].device" },
		{ "mac = \"02:00:00:00:02:01\";", "", NULL, NULL, "ports.[1].mac" },
		{ "02:00:00:00:02:01", "02:00:00:00:03:01", NULL, NULL, "ports.[1].mac" },
		{ "mtu = 1500", "mtu = 1400", NULL, NULL, "ports.[0].mtu" },
		{ "rx_desc = 1024", "rx_desc = 512", NULL, NULL, "ports.[0].rx_desc" },
		{ "tx_desc = 1024", "tx_desc = 512", NULL, NULL, "ports.[0].tx_desc" },
		{ "promiscuous = false", "promiscuous = true", NULL, NULL, "ports.[0].promiscuous" },
		{ "\"fd00:2::1/64\" ]", "\"fd00:2::1/64\", \"10.3.0.1/24\" ]", NULL, NULL,
		  "ports.[1].addresses" },
		{ "\"10.1.0.1/24\"", "\"10.1.0.2/24\"", NULL, NULL, "ports.[0].addresses" },
		{ "mtu = 0", "mtu = 1400", NULL, NULL, "ports.[0].vlans.[0].mtu" },
		{ "id = 100", "id = 101", "interface = \"inside.100\"", "interface = \"inside.101\"",
		  "ports.[0].vlans.[0].id" },
		{ "\"10.100.0.1/24\" ]", "\"10.100.0.2/24\" ]", NULL, NULL,
		  "ports.[0].vlans.[0].addresses" },
		{ "\"10.100.0.1/24\" ];\n      }", "\"10.100.0.1/24\" ];\n      }, { id = 7; }", NULL,
		  NULL, "ports.[0].vlans" },
		/* without the exception port the key exchange cannot run: gw-b goes manual */
		{ "enabled = true", "enabled = false",
		  "identity = \"spiffe://enclave.example/gateway/gw-b\";",
		  "manual = ( { spi_in = 8194; spi_out = 4098; key_in = \"0x00112233445566778899aabb"
		  "ccddeeff01020304\"; key_out = \"0x00112233445566778899aabbccddeeff01020304\"; } );",
		  "exception.enabled" },
		{ "iface = \"sp0\"", "iface = \"sp1\"", NULL, NULL, "exception.iface" },
		{ "netns = \"\"", "netns = \"gw\"", NULL, NULL, "exception.netns" },
		{ "mac = \"02:53:50:00:00:01\"", "mac = \"02:53:50:00:00:02\"", NULL, NULL,
		  "exception.mac" },
		{ "table = 100", "table = 4294967295", NULL, NULL, "exception.table" },
		{ "rule_priority = 100", "rule_priority = 99", NULL, NULL,
		  "exception.rule_priority" },
		{ "max_entries = 4096", "max_entries = 8192", NULL, NULL, "neighbors.max_entries" },
		{ "/run/sallyport/gw-a.sock", "/run/gw-a.sock", NULL, NULL, "console.socket" },
		{ "cipher = \"aes-gcm-256\"", "cipher = \"aes-gcm-128\"", NULL, NULL, "tunnels" },
		{ "\"10.30.0.0/16\" ]", "\"10.30.0.0/17\" ]", NULL, NULL, "tunnels" },
		{ "engine = \"ipsec_mb\"", "engine = \"openssl\"", NULL, NULL, "crypto" },
	};
	char *base = read_text(REF_CONF);
	struct sp_conf *old = conf_new(), *nc = conf_new();
	struct sp_conf_err err;
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_EQUAL_FATAL(sp_conf_load_string(base, "old.conf", old, &err), 0);
	CU_ASSERT_EQUAL(sp_conf_reload_check(old, old, &err), 0);
	for (i = 0; i < RTE_DIM(cases); i++) {
		const struct reload_case *rc = &cases[i];
		char *t1 = replace(base, rc->from1, rc->to1), *t2 = t1;
		char expect[256];
		int r;

		CU_ASSERT_PTR_NOT_NULL_FATAL(t1);
		if (rc->from2 != NULL) {
			t2 = replace(t1, rc->from2, rc->to2);
			CU_ASSERT_PTR_NOT_NULL_FATAL(t2);
		}
		r = sp_conf_load_string(t2, "new.conf", nc, &err);
		if (r != 0)
			printf("\n  reload case %u does not load: %s\n", i, err.msg);
		CU_ASSERT_EQUAL_FATAL(r, 0);
		r = sp_conf_reload_check(old, nc, &err);
		if (rc->setting == NULL) {
			if (r != 0)
				printf("\n  reload case %u: %s\n", i, err.msg);
			CU_ASSERT_EQUAL(r, 0);
		} else {
			snprintf(expect, sizeof(expect), "new.conf: %s: changing it needs a restart",
				 rc->setting);
			if (r != -EINVAL || strcmp(err.msg, expect) != 0)
				printf("\n  reload case %u: got %s\n", i, err.msg);
			CU_ASSERT_EQUAL(r, -EINVAL);
			CU_ASSERT_STRING_EQUAL(err.msg, expect);
			CU_ASSERT_STRING_EQUAL(err.setting, rc->setting);
			CU_ASSERT_STRING_EQUAL(err.file, "new.conf");
			CU_ASSERT_EQUAL(err.line, 0);
		}
		if (t2 != t1)
			free(t2);
		free(t1);
	}
	/* one port fewer */
	CU_ASSERT_EQUAL_FATAL(sp_conf_load_string(minimal, "a", old, &err), 0);
	{
		char *two = replace(minimal, "} );", "}, { name = \"p1\"; device = \"net_null1\"; } );");

		CU_ASSERT_EQUAL_FATAL(sp_conf_load_string(two, "b", nc, &err), 0);
		CU_ASSERT_EQUAL(sp_conf_reload_check(old, nc, &err), -EINVAL);
		CU_ASSERT_STRING_EQUAL(err.msg, "b: ports: changing it needs a restart");
		free(two);
	}
	free(base);
	free(old);
	free(nc);
}

struct argv_case {
	const char *cli[6];      /* NULL-terminated */
	const char *expect;      /* argv joined by spaces */
};

static void
test_eal_argv(void)
{
	static const char full[] =
		"eal = { lcores = \"0-1\"; main_lcore = 1; file_prefix = \"gw\"; memory_mb = 256;\n"
		"  in_memory = false; no_huge = true; no_pci = true; no_telemetry = true;\n"
		"  extra = [ \"--log-level=lib.eal:warning\", \"--vdev=net_null0\" ]; };\n"
		"workers = { lcores = [ 0 ]; };\n"
		"ports = ( { name = \"p0\"; device = \"net_null0\"; } );\n";
	static const char *const all = "-l 0-1 --main-lcore 1 --file-prefix=gw -m 256 "
		"--no-huge --no-pci --no-telemetry --log-level=lib.eal:warning "
		"--vdev=net_null0";
	static const struct argv_case cases[] = {
		{ { NULL }, "" },
		{ { "-l", "2-3", NULL }, "--file-prefix=gw -m 256 --no-huge --no-pci "
		  "--no-telemetry --log-level=lib.eal:warning --vdev=net_null0 -l 2-3" },
		{ { "-l2", NULL }, "--file-prefix=gw -m 256 --no-huge --no-pci "
		  "--no-telemetry --log-level=lib.eal:warning --vdev=net_null0 -l2" },
		{ { "--lcores=(0-1)@0", NULL }, "--file-prefix=gw -m 256 --no-huge "
		  "--no-pci --no-telemetry --log-level=lib.eal:warning --vdev=net_null0 "
		  "--lcores=(0-1)@0" },
		{ { "--main-lcore=0", NULL }, "-l 0-1 --file-prefix=gw -m 256 --no-huge "
		  "--no-pci --no-telemetry --log-level=lib.eal:warning --vdev=net_null0 "
		  "--main-lcore=0" },
		{ { "--file-prefix=x", NULL }, "-l 0-1 --main-lcore 1 -m 256 --no-huge "
		  "--no-pci --no-telemetry --log-level=lib.eal:warning --vdev=net_null0 "
		  "--file-prefix=x" },
		{ { "--file-prefix", "x", NULL }, "-l 0-1 --main-lcore 1 -m 256 "
		  "--no-huge --no-pci --no-telemetry --log-level=lib.eal:warning --vdev=net_null0 "
		  "--file-prefix x" },
		{ { "-m", "64", NULL }, "-l 0-1 --main-lcore 1 --file-prefix=gw "
		  "--no-huge --no-pci --no-telemetry --log-level=lib.eal:warning --vdev=net_null0 "
		  "-m 64" },
		{ { "--socket-mem=64", NULL }, "-l 0-1 --main-lcore 1 --file-prefix=gw "
		  "--no-huge --no-pci --no-telemetry --log-level=lib.eal:warning --vdev=net_null0 "
		  "--socket-mem=64" },
		{ { "--in-memory", "--no-huge", NULL }, "-l 0-1 --main-lcore 1 --file-prefix=gw "
		  "-m 256 --no-pci --no-telemetry --log-level=lib.eal:warning --vdev=net_null0 "
		  "--in-memory --no-huge" },
		{ { "--no-pci", "--telemetry", NULL }, "-l 0-1 --main-lcore 1 --file-prefix=gw "
		  "-m 256 --no-huge --log-level=lib.eal:warning --vdev=net_null0 "
		  "--no-pci --telemetry" },
		/* options that are not the config's, and "--file-prefix-x", are appended only */
		{ { "--vdev=net_tap0", "--file-prefix-x", NULL }, "-l 0-1 --main-lcore 1 "
		  "--file-prefix=gw -m 256 --no-huge --no-pci --no-telemetry "
		  "--log-level=lib.eal:warning --vdev=net_null0 --vdev=net_tap0 --file-prefix-x" },
		/* after "--" nothing is an EAL option */
		{ { "--", "-l", "5", NULL }, "-l 0-1 --main-lcore 1 --file-prefix=gw -m 256 "
		  "--no-huge --no-pci --no-telemetry --log-level=lib.eal:warning "
		  "--vdev=net_null0 -- -l 5" },
	};
	struct sp_conf *c = conf_new();
	struct sp_conf_err err;
	char *argv[64];
	unsigned int i;
	int n, k;

	CU_ASSERT_EQUAL_FATAL(sp_conf_load_string(full, "argv", c, &err), 0);
	for (i = 0; i < RTE_DIM(cases); i++) {
		char joined[512] = "", want[512];
		int cli_argc = 0;

		while (cases[i].cli[cli_argc] != NULL)
			cli_argc++;
		n = sp_conf_eal_argv(c, "prog", cli_argc, (char **)(uintptr_t)cases[i].cli, argv,
				     RTE_DIM(argv));
		CU_ASSERT_FATAL(n > 0);
		CU_ASSERT_STRING_EQUAL(argv[0], "prog");
		CU_ASSERT_PTR_NULL(argv[n]);
		for (k = 1; k < n; k++)
			snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s",
				 k > 1 ? " " : "", argv[k]);
		snprintf(want, sizeof(want), "%s", i == 0 ? all : cases[i].expect);
		if (strcmp(joined, want) != 0)
			printf("\n  argv case %u:\n    got  %s\n    want %s\n", i, joined, want);
		CU_ASSERT_STRING_EQUAL(joined, want);
	}
	/* prog + 12 from the config + the final NULL: 14 fit, 13 do not */
	CU_ASSERT_EQUAL(sp_conf_eal_argv(c, "prog", 0, NULL, argv, 13), -E2BIG);
	CU_ASSERT_EQUAL(sp_conf_eal_argv(c, "prog", 0, NULL, argv, 14), 13);
	CU_ASSERT_EQUAL(sp_conf_eal_argv(c, "prog", 2, (char *[]){ "-a", "b" }, argv, 15),
			-E2BIG);
	/* the minimal config has only the lcores */
	CU_ASSERT_EQUAL_FATAL(sp_conf_load_string(minimal, "min", c, &err), 0);
	n = sp_conf_eal_argv(c, "p", 0, NULL, argv, RTE_DIM(argv));
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(argv[1], "-l");
	CU_ASSERT_STRING_EQUAL(argv[2], "2,0-1");
	free(c);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("conf", NULL, NULL);
	CU_add_test(s, "reference conf/sallyport.conf", test_reference);
	CU_add_test(s, "defaults", test_defaults);
	CU_add_test(s, "bad configs: exact messages", test_bad_corpus);
	CU_add_test(s, "good configs load and round-trip", test_good);
	CU_add_test(s, "edge values", test_good_values);
	CU_add_test(s, "tunnel values", test_tunnel_values);
	CU_add_test(s, "unreadable files", test_read_errors);
	CU_add_test(s, "load_string", test_load_string);
	CU_add_test(s, "reload check", test_reload);
	CU_add_test(s, "EAL argv overrides", test_eal_argv);
	return sp_test_run();
}
