/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The interface table. It is written once before the workers start and only read afterwards,
 * so lcores read it without RCU.
 */

#include <errno.h>
#include <string.h>

#include "route_private.h"
#include "sp_stats.h"

#define VLAN_IDS 4096

static struct sp_iface ifaces[SP_MAX_IFACES];
static unsigned int n_ifaces;
static bool ifaces_set;

/*
 * Receive map: interface id + 1 for each (port, VLAN), 0 for none. The +1 makes the zeroed
 * array mean "no interface" and turns the lookup into one load and one subtraction
 * (0 - 1 wraps to SP_IFACE_NONE). 16 ports x 4096 VLANs x 2 bytes = 128 KiB.
 */
static uint16_t rx_map[SP_MAX_PORTS][VLAN_IDS];

static bool
addr_valid(const struct sp_ip *a)
{
	if (a->family == AF_INET)
		return a->plen >= 1 && a->plen <= 32;
	if (a->family == AF_INET6)
		return a->plen >= 1 && a->plen <= 128;
	return false;
}

static int
check_table(const struct sp_iface *in, unsigned int n)
{
	unsigned int i, j, k;

	if (in == NULL || n == 0 || n > SP_MAX_IFACES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		const struct sp_iface *f = &in[i];

		if (f->id != i || f->port_id >= SP_MAX_PORTS || f->vlan >= VLAN_IDS - 1)
			return -EINVAL;
		if (f->name[0] == '\0' || memchr(f->name, '\0', sizeof(f->name)) == NULL)
			return -EINVAL;
		if (f->n_addrs > SP_CONF_MAX_ADDRS)
			return -EINVAL;
		for (k = 0; k < f->n_addrs; k++)
			if (!addr_valid(&f->addrs[k]))
				return -EINVAL;
		for (j = 0; j < i; j++) {
			if (in[j].port_id == f->port_id && in[j].vlan == f->vlan)
				return -EINVAL;
			if (strcmp(in[j].name, f->name) == 0)
				return -EINVAL;
		}
	}
	return 0;
}

int
sp_iface_set(const struct sp_iface *in, unsigned int n)
{
	unsigned int i;
	int ret;

	if (ifaces_set)
		return -EEXIST;
	ret = check_table(in, n);
	if (ret < 0)
		return ret;
	memcpy(ifaces, in, n * sizeof(*in));
	memset(rx_map, 0, sizeof(rx_map));
	for (i = 0; i < n; i++)
		rx_map[in[i].port_id][in[i].vlan] = (uint16_t)(i + 1);
	n_ifaces = n;
	ifaces_set = true;
	SP_LOG(route, DEBUG, "%u interfaces installed", n);
	return 0;
}

unsigned int
sp_iface_count(void)
{
	return n_ifaces;
}

const struct sp_iface *
sp_iface_get(uint16_t id)
{
	return id < n_ifaces ? &ifaces[id] : NULL;
}

const struct sp_iface *
sp_iface_by_name(const char *name)
{
	unsigned int i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < n_ifaces; i++)
		if (strcmp(ifaces[i].name, name) == 0)
			return &ifaces[i];
	return NULL;
}

uint16_t
sp_iface_rx(uint16_t port_id, uint16_t vlan)
{
	if (port_id >= SP_MAX_PORTS || vlan >= VLAN_IDS)
		return SP_IFACE_NONE;
	return (uint16_t)(rx_map[port_id][vlan] - 1);
}

const struct sp_ip *
sp_iface_addr(const struct sp_iface *ifc, uint8_t family)
{
	unsigned int i;

	if (ifc == NULL)
		return NULL;
	for (i = 0; i < ifc->n_addrs; i++)
		if (ifc->addrs[i].family == family)
			return &ifc->addrs[i];
	return NULL;
}

bool
sp_iface_is_local(const struct sp_ip *addr)
{
	unsigned int i, k;

	for (i = 0; i < n_ifaces; i++)
		for (k = 0; k < ifaces[i].n_addrs; k++)
			if (sp_ip_equal(&ifaces[i].addrs[k], addr))
				return true;
	return false;
}

void
sp_iface_clear(void)
{
	memset(rx_map, 0, sizeof(rx_map));
	memset(ifaces, 0, sizeof(ifaces));
	n_ifaces = 0;
	ifaces_set = false;
}

const char *
sp_iface_name(uint16_t id)
{
	const struct sp_iface *ifc = sp_iface_get(id);

	return ifc != NULL ? ifc->name : "-";
}
