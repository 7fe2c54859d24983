/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a reload may change. Ports, queues, mempools, lcores and the exception port are set up
 * once at start-up; routes, neighbour timers, ICMP limits, logging and the workers' idle
 * behaviour are applied again on reload. The pki and issuer sections are re-read by lib/certd,
 * except whether they exist at all and where the endpoint listens.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_private.h"

static int
restart(const struct sp_conf *new_conf, struct sp_conf_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
restart(const struct sp_conf *new_conf, struct sp_conf_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->setting, sizeof(err->setting), fmt, ap);
	va_end(ap);
	snprintf(err->file, sizeof(err->file), "%s", new_conf->path);
	err->line = 0;
	snprintf(err->msg, sizeof(err->msg), "%s: %s: changing it needs a restart", new_conf->path,
		 err->setting);
	return -EINVAL;
}

static bool
ip_same(const struct sp_ip *a, const struct sp_ip *b)
{
	return sp_ip_equal(a, b) && a->plen == b->plen;
}

static bool
addrs_same(const struct sp_conf_iface *a, const struct sp_conf_iface *b)
{
	unsigned int i;

	if (a->n_addrs != b->n_addrs)
		return false;
	for (i = 0; i < a->n_addrs; i++)
		if (!ip_same(&a->addrs[i], &b->addrs[i]))
			return false;
	return true;
}

static const struct sp_conf_iface *
untagged(const struct sp_conf_port *p)
{
	return p->n_ifaces > 0 && p->ifaces[0].vlan == 0 ? &p->ifaces[0] : NULL;
}

static int
check_ifaces(const struct sp_conf_port *a, const struct sp_conf_port *b, unsigned int i,
	     const struct sp_conf *nc, struct sp_conf_err *err)
{
	const struct sp_conf_iface *ua = untagged(a), *ub = untagged(b);
	unsigned int oa = ua != NULL, ob = ub != NULL, k;

	if ((ua == NULL) != (ub == NULL) || (ua != NULL && !addrs_same(ua, ub)))
		return restart(nc, err, "ports.[%u].addresses", i);
	if (a->n_ifaces - oa != b->n_ifaces - ob)
		return restart(nc, err, "ports.[%u].vlans", i);
	for (k = 0; k < a->n_ifaces - oa; k++) {
		const struct sp_conf_iface *va = &a->ifaces[oa + k], *vb = &b->ifaces[ob + k];

		if (va->vlan != vb->vlan)
			return restart(nc, err, "ports.[%u].vlans.[%u].id", i, k);
		if (va->mtu != vb->mtu)
			return restart(nc, err, "ports.[%u].vlans.[%u].mtu", i, k);
		if (!addrs_same(va, vb))
			return restart(nc, err, "ports.[%u].vlans.[%u].addresses", i, k);
	}
	return 0;
}

static int
check_ports(const struct sp_conf *o, const struct sp_conf *nc, struct sp_conf_err *err)
{
	unsigned int i;

	if (o->n_ports != nc->n_ports)
		return restart(nc, err, "ports");
	for (i = 0; i < o->n_ports; i++) {
		const struct sp_conf_port *a = &o->ports[i], *b = &nc->ports[i];

		if (strcmp(a->name, b->name) != 0)
			return restart(nc, err, "ports.[%u].name", i);
		if (strcmp(a->device, b->device) != 0)
			return restart(nc, err, "ports.[%u].device", i);
		if (a->has_mac != b->has_mac ||
		    (a->has_mac && !rte_is_same_ether_addr(&a->mac, &b->mac)))
			return restart(nc, err, "ports.[%u].mac", i);
		if (a->mtu != b->mtu)
			return restart(nc, err, "ports.[%u].mtu", i);
		if (a->rx_desc != b->rx_desc)
			return restart(nc, err, "ports.[%u].rx_desc", i);
		if (a->tx_desc != b->tx_desc)
			return restart(nc, err, "ports.[%u].tx_desc", i);
		if (a->promiscuous != b->promiscuous)
			return restart(nc, err, "ports.[%u].promiscuous", i);
		if (check_ifaces(a, b, i, nc, err) < 0)
			return -EINVAL;
	}
	return 0;
}

static int
check_eal(const struct sp_conf *o, const struct sp_conf *nc, struct sp_conf_err *err)
{
	const struct sp_conf_eal *a = &o->eal, *b = &nc->eal;
	unsigned int i;

	if (strcmp(a->lcores, b->lcores) != 0)
		return restart(nc, err, "eal.lcores");
	if (a->main_lcore != b->main_lcore)
		return restart(nc, err, "eal.main_lcore");
	if (strcmp(a->file_prefix, b->file_prefix) != 0)
		return restart(nc, err, "eal.file_prefix");
	if (a->memory_mb != b->memory_mb)
		return restart(nc, err, "eal.memory_mb");
	if (a->in_memory != b->in_memory)
		return restart(nc, err, "eal.in_memory");
	if (a->no_huge != b->no_huge)
		return restart(nc, err, "eal.no_huge");
	if (a->no_pci != b->no_pci)
		return restart(nc, err, "eal.no_pci");
	if (a->no_telemetry != b->no_telemetry)
		return restart(nc, err, "eal.no_telemetry");
	if (a->n_extra != b->n_extra)
		return restart(nc, err, "eal.extra");
	for (i = 0; i < a->n_extra; i++)
		if (strcmp(a->extra[i], b->extra[i]) != 0)
			return restart(nc, err, "eal.extra.[%u]", i);
	return 0;
}

static int
check_exception(const struct sp_conf *o, const struct sp_conf *nc, struct sp_conf_err *err)
{
	const struct sp_conf_exception *a = &o->exception, *b = &nc->exception;

	if (a->enabled != b->enabled)
		return restart(nc, err, "exception.enabled");
	if (strcmp(a->iface, b->iface) != 0)
		return restart(nc, err, "exception.iface");
	if (strcmp(a->netns, b->netns) != 0)
		return restart(nc, err, "exception.netns");
	if (a->has_mac != b->has_mac || !rte_is_same_ether_addr(&a->mac, &b->mac))
		return restart(nc, err, "exception.mac");
	if (a->table != b->table)
		return restart(nc, err, "exception.table");
	if (a->rule_priority != b->rule_priority)
		return restart(nc, err, "exception.rule_priority");
	return 0;
}

/* Equal apart from the line numbers (the file may have moved things around). */
static bool
tunnels_equal(const struct sp_conf_tunnels *a, const struct sp_conf_tunnels *b)
{
	static struct sp_conf_tunnels x, y;  /* too big for the stack; control core only */
	unsigned int i, j;

	x = *a;
	y = *b;
	x.line = y.line = 0;
	for (i = 0; i < SP_CONF_MAX_PEERS; i++) {
		x.peers[i].line = y.peers[i].line = 0;
		for (j = 0; j < SP_CONF_MAX_MANUAL_SA; j++)
			x.peers[i].manual[j].line = y.peers[i].manual[j].line = 0;
	}
	return memcmp(&x, &y, sizeof(x)) == 0;
}

int
sp_conf_reload_check(const struct sp_conf *old, const struct sp_conf *new_conf,
		     struct sp_conf_err *err)
{
	struct sp_conf_err dummy;
	unsigned int i;

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (strcmp(old->name, new_conf->name) != 0)
		return restart(new_conf, err, "name");
	if (check_eal(old, new_conf, err) < 0)
		return -EINVAL;
	if (old->workers.n_lcores != new_conf->workers.n_lcores)
		return restart(new_conf, err, "workers.lcores");
	for (i = 0; i < old->workers.n_lcores; i++)
		if (old->workers.lcores[i] != new_conf->workers.lcores[i])
			return restart(new_conf, err, "workers.lcores.[%u]", i);
	if (old->workers.burst != new_conf->workers.burst)
		return restart(new_conf, err, "workers.burst");
	if (old->mempool.mbufs != new_conf->mempool.mbufs)
		return restart(new_conf, err, "mempool.mbufs");
	if (old->mempool.cache != new_conf->mempool.cache)
		return restart(new_conf, err, "mempool.cache");
	if (old->mempool.data_room != new_conf->mempool.data_room)
		return restart(new_conf, err, "mempool.data_room");
	if (check_ports(old, new_conf, err) < 0 || check_exception(old, new_conf, err) < 0)
		return -EINVAL;
	if (old->neigh.max_entries != new_conf->neigh.max_entries)
		return restart(new_conf, err, "neighbors.max_entries");
	if (strcmp(old->console.socket, new_conf->console.socket) != 0)
		return restart(new_conf, err, "console.socket");
	/* lib/certd re-reads the other pki and issuer settings; these set up sockets and state */
	if (old->pki.enabled != new_conf->pki.enabled)
		return restart(new_conf, err, "pki");
	if (old->issuer.enabled != new_conf->issuer.enabled)
		return restart(new_conf, err, "issuer.enabled");
	if (old->issuer.enabled && strcmp(old->issuer.listen_str, new_conf->issuer.listen_str) != 0)
		return restart(new_conf, err, "issuer.listen");
	/* SAs, routes into tunnels and key exchange sessions are built from these at start */
	if (memcmp(&old->crypto, &new_conf->crypto, sizeof(old->crypto)) != 0)
		return restart(new_conf, err, "crypto");
	if (!tunnels_equal(&old->tunnels, &new_conf->tunnels))
		return restart(new_conf, err, "tunnels");
	return 0;
}
