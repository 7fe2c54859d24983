/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel side of the exception port: namespace, link, sysctls; l3.c does addresses, rules and
 * routes. */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>

#include "kif_private.h"

SP_LOG_TYPE(kif);

#define NETNS_DIR "/run/netns/"

int
kif_fail(struct kif *k, int rc, const char *ext, const char *fmt, ...)
{
	char what[256];
	char ebuf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (k->err != NULL && k->errlen > 0)
		snprintf(k->err, k->errlen, "%s: %s%s%s%s", what,
			 strerror_r(-rc, ebuf, sizeof(ebuf)),
			 ext != NULL && ext[0] ? " (kernel: " : "", ext != NULL ? ext : "",
			 ext != NULL && ext[0] ? ")" : "");
	SP_LOG(kif, ERR, "%s: %s%s%s%s", what, strerror_r(-rc, ebuf, sizeof(ebuf)),
	       ext != NULL && ext[0] ? " (kernel: " : "", ext != NULL ? ext : "",
	       ext != NULL && ext[0] ? ")" : "");
	return rc;
}

/* A message without an errno: configuration refused before anything is touched. */
static int __attribute__((format(printf, 2, 3)))
bad_conf(struct kif *k, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (k->err != NULL && k->errlen > 0)
		snprintf(k->err, k->errlen, "%s", what);
	SP_LOG(kif, ERR, "%s", what);
	return -EINVAL;
}

static int
conf_check(struct kif *k)
{
	const struct sp_kif_conf *c = k->c;
	size_t nslen = strnlen(c->netns, sizeof(c->netns));
	unsigned int i;

	if (c->ifname[0] == '\0')
		return bad_conf(k, "interface name is empty");
	if (strnlen(c->ifname, sizeof(c->ifname)) == sizeof(c->ifname))
		return bad_conf(k, "interface name is longer than %d characters", IFNAMSIZ - 1);
	if (nslen == sizeof(c->netns))
		return bad_conf(k, "%s: netns name is longer than %zu characters", c->ifname,
				sizeof(c->netns) - 1);
	/* The name becomes a path under /run/netns. */
	if (strchr(c->netns, '/') != NULL || strcmp(c->netns, ".") == 0 ||
	    strcmp(c->netns, "..") == 0)
		return bad_conf(k, "%s: netns \"%s\" is not a plain name", c->ifname, c->netns);
	if (c->n_addrs > SP_KIF_MAX_ADDRS)
		return bad_conf(k, "%s: %u addresses, at most %d", c->ifname, c->n_addrs,
				SP_KIF_MAX_ADDRS);
	for (i = 0; i < c->n_addrs; i++) {
		if (c->addrs[i].family == AF_INET)
			k->has_v4 = true;
		else if (c->addrs[i].family == AF_INET6)
			k->has_v6 = true;
		else
			return bad_conf(k, "%s: address %u has family %u, not IPv4 nor IPv6",
					c->ifname, i, c->addrs[i].family);
	}
	if (c->table == RT_TABLE_UNSPEC || (c->table >= RT_TABLE_DEFAULT &&
					    c->table <= RT_TABLE_LOCAL))
		return bad_conf(k, "%s: table %u is reserved (0 unspec, 253 default, 254 main, "
				"255 local)", c->ifname, c->table);
	if (c->rule_priority == 0)
		return bad_conf(k, "%s: rule priority 0 would come before the local table's rule",
				c->ifname);
	return 0;
}

static int
link_index_cb(const struct nlmsghdr *nh, void *arg)
{
	const struct ifinfomsg *ifi = kif_msg_hdr(nh);

	if (nh->nlmsg_type == RTM_NEWLINK && nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifi)))
		*(int *)arg = ifi->ifi_index;
	return 0;
}

/* The index of the interface in the socket's namespace, or -ENODEV. */
static int
link_index(struct kif *k)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct kif_msg m;
	int idx = 0;
	int rc;

	kif_msg_init(&m, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	kif_msg_put_str(&m, IFLA_IFNAME, k->c->ifname);
	rc = kif_nl_talk(&k->nl, &m, link_index_cb, &idx);
	if (rc < 0)
		return rc;
	return idx > 0 ? idx : -ENODEV;
}

/* RTM_NEWLINK on an existing index changes it (as RTM_SETLINK would). */
static void
link_msg(struct kif_msg *m, int ifindex, unsigned int flags, unsigned int change)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = flags,
		.ifi_change = change,
	};

	kif_msg_init(m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
}

static int
link_move(struct kif *k, int ifindex, int ns_fd)
{
	struct kif_msg m;
	int rc;

	link_msg(&m, ifindex, 0, 0);
	kif_msg_put_u32(&m, IFLA_NET_NS_FD, (uint32_t)ns_fd);
	rc = kif_nl_talk(&k->nl, &m, NULL, NULL);
	if (rc < 0)
		return kif_fail(k, rc, k->nl.ext_msg, "%s: move into netns \"%s\"", k->c->ifname,
				k->c->netns);
	return 0;
}

static int
link_set_mac_mtu(struct kif *k)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	struct kif_msg m;
	int rc;

	link_msg(&m, k->ifindex, 0, 0);
	kif_msg_put(&m, IFLA_ADDRESS, k->c->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	rc = kif_nl_talk(&k->nl, &m, NULL, NULL);
	if (rc < 0) {
		rte_ether_format_addr(mac, sizeof(mac), &k->c->mac);
		return kif_fail(k, rc, k->nl.ext_msg, "%s: set MAC %s", k->c->ifname, mac);
	}
	if (k->c->mtu == 0)
		return 0;
	link_msg(&m, k->ifindex, 0, 0);
	kif_msg_put_u32(&m, IFLA_MTU, k->c->mtu);
	rc = kif_nl_talk(&k->nl, &m, NULL, NULL);
	if (rc < 0)
		return kif_fail(k, rc, k->nl.ext_msg, "%s: set MTU %u", k->c->ifname, k->c->mtu);
	return 0;
}

static int
link_up(struct kif *k)
{
	struct kif_msg m;
	int rc;

	link_msg(&m, k->ifindex, IFF_UP, IFF_UP);
	rc = kif_nl_talk(&k->nl, &m, NULL, NULL);
	if (rc < 0)
		return kif_fail(k, rc, k->nl.ext_msg, "%s: set up", k->c->ifname);
	return 0;
}

/* /proc/sys/net belongs to the namespace of whoever opens it, so this runs inside it. */
static int
sysctl_zero(struct kif *k, const char *proto, const char *key, bool optional)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", proto, k->c->ifname, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && optional)
		return 0;
	if (fd < 0)
		return kif_fail(k, -errno, NULL, "%s: sysctl %s", k->c->ifname, path);
	n = write(fd, "0\n", 2);
	if (n != 2) {
		int rc = n < 0 ? -errno : -EIO;

		close(fd);
		return kif_fail(k, rc, NULL, "%s: sysctl %s", k->c->ifname, path);
	}
	close(fd);
	return 0;
}

/* No DAD (the addresses are ours by configuration), no router solicitations or RA-driven
 * configuration (nothing on the other side routes for the kernel), no reverse-path filter
 * (replies go by source rules, not by the main table the filter would consult). */
static int
sysctls(struct kif *k)
{
	static const char *const v6_keys[] = {
		"accept_dad", "dad_transmits", "accept_ra", "router_solicitations",
	};
	unsigned int i;
	int rc;

	/* A kernel without IPv6 has no ipv6 directory; fine unless IPv6 addresses are wanted. */
	for (i = 0; i < RTE_DIM(v6_keys); i++) {
		rc = sysctl_zero(k, "ipv6", v6_keys[i], !k->has_v6);
		if (rc < 0)
			return rc;
	}
	return sysctl_zero(k, "ipv4", "rp_filter", false);
}

static int
configure(struct kif *k)
{
	int rc;

	rc = link_set_mac_mtu(k);
	if (rc == 0)
		rc = sysctls(k);
	if (rc == 0)
		rc = link_up(k);
	if (rc == 0)
		rc = kif_addrs_sync(k);
	if (rc == 0)
		rc = kif_rules_sync(k);
	if (rc == 0)
		rc = kif_routes_sync(k);
	return rc;
}

/* The named namespace, as `ip netns add` leaves it: a bind mount under /run/netns. */
static int
ns_open(struct kif *k, bool quiet_missing)
{
	char path[sizeof(NETNS_DIR) + sizeof(k->c->netns)];
	int fd;

	snprintf(path, sizeof(path), NETNS_DIR "%s", k->c->netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT && quiet_missing)
		return -ENOENT;
	return kif_fail(k, -errno, NULL, "netns \"%s\": cannot open %s", k->c->netns, path);
}

/* Only this thread moves: setns() on a network namespace affects the caller alone. */
static int
ns_enter(struct kif *k, int ns_fd, int *home_fd)
{
	*home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*home_fd < 0)
		return kif_fail(k, -errno, NULL, "%s: cannot open /proc/thread-self/ns/net",
				k->c->ifname);
	if (setns(ns_fd, CLONE_NEWNET) < 0) {
		int rc = -errno;

		close(*home_fd);
		*home_fd = -1;
		return kif_fail(k, rc, NULL, "%s: enter netns \"%s\"", k->c->ifname, k->c->netns);
	}
	return 0;
}

/* Called on every exit path once ns_enter() succeeded; a thread left in the wrong namespace
 * would be worse than any error we could report, so this one wins over an earlier one. */
static int
ns_leave(struct kif *k, int *home_fd, int rc)
{
	if (*home_fd < 0)
		return rc;
	if (setns(*home_fd, CLONE_NEWNET) < 0)
		rc = kif_fail(k, -errno, NULL, "%s: return from netns \"%s\"", k->c->ifname,
			      k->c->netns);
	close(*home_fd);
	*home_fd = -1;
	return rc;
}

static int
nl_open(struct kif *k)
{
	int rc = kif_nl_open(&k->nl);

	if (rc < 0)
		return kif_fail(k, rc, NULL, "%s: netlink socket", k->c->ifname);
	return 0;
}

/* Bring the interface into the target namespace; leaves k->nl open there, the thread inside
 * it (home_fd set) when a namespace is named. */
static int
locate(struct kif *k, int ns_fd, int *home_fd)
{
	const char *name = k->c->ifname;
	int idx, rc;

	rc = nl_open(k);
	if (rc < 0)
		return rc;
	idx = link_index(k);
	if (idx < 0 && idx != -ENODEV)
		return kif_fail(k, idx, k->nl.ext_msg, "%s: look up", name);
	if (ns_fd < 0) {
		if (idx == -ENODEV)
			return kif_fail(k, idx, NULL, "interface \"%s\" not found", name);
		k->ifindex = idx;
		return 0;
	}
	/* Not here: a previous call may have moved it already. */
	if (idx > 0) {
		rc = link_move(k, idx, ns_fd);
		if (rc < 0)
			return rc;
	}
	kif_nl_close(&k->nl);
	rc = ns_enter(k, ns_fd, home_fd);
	if (rc == 0)
		rc = nl_open(k);
	if (rc < 0)
		return rc;
	idx = link_index(k);
	if (idx == -ENODEV)
		return kif_fail(k, idx, NULL,
				"interface \"%s\" not found in the current netns nor in netns \"%s\"",
				name, k->c->netns);
	if (idx < 0)
		return kif_fail(k, idx, k->nl.ext_msg, "%s: look up in netns \"%s\"", name,
				k->c->netns);
	k->ifindex = idx;
	return 0;
}

int
sp_kif_setup(const struct sp_kif_conf *c, char *err, size_t errlen)
{
	struct kif k = { .c = c, .err = err, .errlen = errlen, .nl = { .fd = -1 } };
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	int ns_fd = -1, home_fd = -1;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (c == NULL)
		return -EINVAL;
	rc = conf_check(&k);
	if (rc < 0)
		return rc;
	if (c->netns[0] != '\0') {
		ns_fd = ns_open(&k, false);
		if (ns_fd < 0)
			return ns_fd;
	}
	rc = locate(&k, ns_fd, &home_fd);
	if (rc == 0)
		rc = configure(&k);
	kif_nl_close(&k.nl);
	rc = ns_leave(&k, &home_fd, rc);
	if (ns_fd >= 0)
		close(ns_fd);
	if (rc < 0)
		return rc;
	rte_ether_format_addr(mac, sizeof(mac), &c->mac);
	SP_LOG(kif, INFO, "%s: ready%s%s%s, mac %s, mtu %u, %u addresses, rules priority %u "
	       "lookup table %u", c->ifname, c->netns[0] ? " in netns \"" : "", c->netns,
	       c->netns[0] ? "\"" : "", mac, c->mtu, c->n_addrs, c->rule_priority, c->table);
	return 0;
}

int
sp_kif_teardown(const struct sp_kif_conf *c)
{
	struct kif k = { .c = c, .nl = { .fd = -1 } };
	int ns_fd = -1, home_fd = -1;
	int rc;

	if (c == NULL)
		return -EINVAL;
	if (c->netns[0] != '\0') {
		/* The namespace is gone, and its rules with it. */
		ns_fd = ns_open(&k, true);
		if (ns_fd == -ENOENT)
			return 0;
		if (ns_fd < 0)
			return ns_fd;
		rc = ns_enter(&k, ns_fd, &home_fd);
		close(ns_fd);
		if (rc < 0)
			return rc;
	}
	rc = nl_open(&k);
	if (rc == 0)
		rc = kif_rules_flush_all(&k);
	kif_nl_close(&k.nl);
	rc = ns_leave(&k, &home_fd, rc);
	if (rc >= 0)
		SP_LOG(kif, INFO, "%s: removed %d rules with priority %u and table %u",
		       c->ifname, rc, c->rule_priority, c->table);
	return rc < 0 ? rc : 0;
}
