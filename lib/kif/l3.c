/* SPDX-License-Identifier: BSD-3-Clause */
/* Addresses, source rules and the reply table of the kernel side of the exception port. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/fib_rules.h>

#include "kif_private.h"

#define RULE_ATTR_MAX 63 /* above every FRA_* a kernel sends today */

static const char *
family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static size_t
family_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static const void *
ip_bytes(const struct sp_ip *ip)
{
	return ip->family == AF_INET ? (const void *)&ip->v4 : (const void *)ip->v6;
}

/* "10.0.0.1/32": the host address as installed, whatever plen the configuration carries. */
static const char *
ip_host_str(const struct sp_ip *ip, char *buf, size_t size)
{
	struct sp_ip h = *ip;

	h.plen = family_len(ip->family) * 8;
	if (sp_ip_format(&h, buf, size, true) < 0)
		snprintf(buf, size, "?");
	return buf;
}

static bool
wanted(const struct kif *k, int family, const void *bytes)
{
	unsigned int i;

	for (i = 0; i < k->c->n_addrs; i++) {
		const struct sp_ip *ip = &k->c->addrs[i];

		if (ip->family == family && memcmp(ip_bytes(ip), bytes, family_len(family)) == 0)
			return true;
	}
	return false;
}

static bool
has_family(const struct kif *k, int family)
{
	return family == AF_INET ? k->has_v4 : k->has_v6;
}

/* Addresses */

/* An address on our interface that the configuration does not name: every IPv4 one, and IPv6
 * ones of global scope (the kernel's link-local address stays). Ours are host addresses with
 * no peer. */
static bool
addr_stale(const struct nlmsghdr *nh, void *arg)
{
	const struct ifaddrmsg *ifa = kif_msg_hdr(nh);
	const struct rtattr *tb[IFA_MAX + 1];
	const struct rtattr *local, *peer;
	struct kif *k = arg;
	size_t alen;

	if (nh->nlmsg_type != RTM_NEWADDR || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) ||
	    (int)ifa->ifa_index != k->ifindex)
		return false;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return false;
	if (ifa->ifa_family == AF_INET6 && ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return false;
	alen = family_len(ifa->ifa_family);
	kif_attr_parse(nh, sizeof(*ifa), tb, IFA_MAX);
	local = tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	peer = tb[IFA_ADDRESS];
	if (local == NULL || RTA_PAYLOAD(local) != alen)
		return false;
	if (ifa->ifa_prefixlen != alen * 8)
		return true;
	if (peer != NULL && (RTA_PAYLOAD(peer) != alen ||
			     memcmp(RTA_DATA(peer), RTA_DATA(local), alen) != 0))
		return true;
	return !wanted(k, ifa->ifa_family, RTA_DATA(local));
}

static int
addr_add(struct kif *k, const struct sp_ip *ip)
{
	bool v6 = ip->family == AF_INET6;
	struct ifaddrmsg ifa = {
		.ifa_family = ip->family,
		.ifa_prefixlen = family_len(ip->family) * 8,
		.ifa_flags = v6 ? IFA_F_NODAD : 0,
		.ifa_scope = RT_SCOPE_UNIVERSE,
		.ifa_index = k->ifindex,
	};
	char buf[SP_IP_STRLEN];
	struct kif_msg m;
	int rc;

	/* Replace makes a second run (or a changed flag) a no-op rather than EEXIST. */
	kif_msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof(ifa));
	kif_msg_put(&m, IFA_LOCAL, ip_bytes(ip), family_len(ip->family));
	kif_msg_put(&m, IFA_ADDRESS, ip_bytes(ip), family_len(ip->family));
	/* No main-table route for a /128 in the host's namespace: replies use our table. */
	if (v6)
		kif_msg_put_u32(&m, IFA_FLAGS, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
	rc = kif_nl_talk(&k->nl, &m, NULL, NULL);
	if (rc < 0)
		return kif_fail(k, rc, k->nl.ext_msg, "%s: add address %s", k->c->ifname,
				ip_host_str(ip, buf, sizeof(buf)));
	return 0;
}

int
kif_addrs_sync(struct kif *k)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
	struct kif_msg m;
	unsigned int i;
	int rc;

	kif_msg_init(&m, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
	rc = kif_nl_flush(&k->nl, &m, RTM_DELADDR, addr_stale, k);
	if (rc < 0)
		return kif_fail(k, rc, k->nl.ext_msg, "%s: remove stale addresses", k->c->ifname);
	if (rc > 0)
		SP_LOG(kif, INFO, "%s: removed %d stale addresses", k->c->ifname, rc);
	for (i = 0; i < k->c->n_addrs; i++) {
		rc = addr_add(k, &k->c->addrs[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Rules */

struct rule_pick {
	struct kif *k;
	int family;
	bool all;   /* every rule with our priority and table, not only the stale ones */
};

/* Exactly what rule_add() makes: "from <wanted address> lookup <table>", protocol static, no
 * other selector. Anything else at our priority and table is stale. */
static bool
rule_exact(const struct kif *k, const struct fib_rule_hdr *frh, const struct rtattr **tb)
{
	size_t alen = family_len(frh->family);
	unsigned int t;

	if (frh->dst_len != 0 || frh->src_len != alen * 8 || frh->tos != 0 || frh->flags != 0 ||
	    frh->action != FR_ACT_TO_TBL)
		return false;
	for (t = 0; t <= RULE_ATTR_MAX; t++) {
		if (tb[t] == NULL)
			continue;
		switch (t) {
		case FRA_SRC:
		case FRA_TABLE:
		case FRA_PRIORITY:
			break;
		case FRA_PROTOCOL:
			if (RTA_PAYLOAD(tb[t]) < 1 || *(const uint8_t *)RTA_DATA(tb[t]) !=
			    RTPROT_STATIC)
				return false;
			break;
		case FRA_SUPPRESS_PREFIXLEN:
		case FRA_SUPPRESS_IFGROUP:
			/* Reported even when unset, as -1. */
			if (kif_attr_u32(tb[t], 0) != UINT32_MAX)
				return false;
			break;
		default:
			return false;
		}
	}
	return tb[FRA_PROTOCOL] != NULL && tb[FRA_SRC] != NULL &&
	       RTA_PAYLOAD(tb[FRA_SRC]) == alen && wanted(k, frh->family, RTA_DATA(tb[FRA_SRC]));
}

static bool
rule_pick(const struct nlmsghdr *nh, void *arg)
{
	const struct fib_rule_hdr *frh = kif_msg_hdr(nh);
	const struct rtattr *tb[RULE_ATTR_MAX + 1];
	struct rule_pick *p = arg;
	uint32_t table;

	if (nh->nlmsg_type != RTM_NEWRULE || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*frh)) ||
	    frh->family != p->family)
		return false;
	kif_attr_parse(nh, sizeof(*frh), tb, RULE_ATTR_MAX);
	table = kif_attr_u32(tb[FRA_TABLE], frh->table);
	if (kif_attr_u32(tb[FRA_PRIORITY], 0) != p->k->c->rule_priority ||
	    table != p->k->c->table)
		return false;
	return p->all || !rule_exact(p->k, frh, tb);
}

/* Remove our family's rules at our priority and table (all, or the stale ones).
 * A kernel without the family has no rules of it. */
static int
rules_flush(struct kif *k, int family, bool all)
{
	struct fib_rule_hdr frh = { .family = family };
	struct rule_pick p = { .k = k, .family = family, .all = all };
	struct kif_msg m;
	int rc;

	kif_msg_init(&m, RTM_GETRULE, NLM_F_DUMP, &frh, sizeof(frh));
	rc = kif_nl_flush(&k->nl, &m, RTM_DELRULE, rule_pick, &p);
	if (rc == -EAFNOSUPPORT && !has_family(k, family))
		return 0;
	if (rc < 0)
		return kif_fail(k, rc, k->nl.ext_msg, "%s: remove %s rules with priority %u "
				"table %u", k->c->ifname, family_name(family),
				k->c->rule_priority, k->c->table);
	return rc;
}

static int
rule_add(struct kif *k, const struct sp_ip *ip)
{
	struct fib_rule_hdr frh = {
		.family = ip->family,
		.src_len = family_len(ip->family) * 8,
		.table = k->c->table < 256 ? k->c->table : RT_TABLE_UNSPEC,
		.action = FR_ACT_TO_TBL,
	};
	char buf[SP_IP_STRLEN];
	struct kif_msg m;
	int rc;

	/* EXCL: the kernel would otherwise add a duplicate; EEXIST means it is there as wanted. */
	kif_msg_init(&m, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, &frh, sizeof(frh));
	kif_msg_put(&m, FRA_SRC, ip_bytes(ip), family_len(ip->family));
	kif_msg_put_u32(&m, FRA_TABLE, k->c->table);
	kif_msg_put_u32(&m, FRA_PRIORITY, k->c->rule_priority);
	kif_msg_put_u8(&m, FRA_PROTOCOL, RTPROT_STATIC);
	rc = kif_nl_talk(&k->nl, &m, NULL, NULL);
	if (rc < 0 && rc != -EEXIST)
		return kif_fail(k, rc, k->nl.ext_msg, "%s: add rule from %s lookup %u priority %u",
				k->c->ifname, ip_host_str(ip, buf, sizeof(buf)), k->c->table,
				k->c->rule_priority);
	return 0;
}

int
kif_rules_sync(struct kif *k)
{
	static const int families[] = { AF_INET, AF_INET6 };
	unsigned int f, i;
	int rc;

	/* Stale rules outlive the interface (an earlier run, another address list); ours that
	 * are already right are kept, so replies never miss a rule while this runs. */
	for (f = 0; f < RTE_DIM(families); f++) {
		rc = rules_flush(k, families[f], false);
		if (rc < 0)
			return rc;
		if (rc > 0)
			SP_LOG(kif, INFO, "%s: removed %d stale %s rules", k->c->ifname, rc,
			       family_name(families[f]));
	}
	for (i = 0; i < k->c->n_addrs; i++) {
		rc = rule_add(k, &k->c->addrs[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
kif_rules_flush_all(struct kif *k)
{
	int n4, n6;

	n4 = rules_flush(k, AF_INET, true);
	if (n4 < 0)
		return n4;
	n6 = rules_flush(k, AF_INET6, true);
	if (n6 < 0)
		return n6;
	return n4 + n6;
}

/* Routes */

static void
route_msg(struct kif_msg *m, const struct kif *k, int family, uint16_t type, uint16_t flags)
{
	bool add = type == RTM_NEWROUTE;
	struct rtmsg r = {
		.rtm_family = family,
		.rtm_table = k->c->table < 256 ? k->c->table : RT_TABLE_UNSPEC,
		.rtm_protocol = add ? RTPROT_STATIC : RTPROT_UNSPEC,
		/* As `ip route add default dev X` does: a gateway-less IPv4 route is on-link. */
		.rtm_scope = !add ? RT_SCOPE_NOWHERE :
			     family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE,
		.rtm_type = RTN_UNICAST,
	};

	kif_msg_init(m, type, flags, &r, sizeof(r));
	kif_msg_put_u32(m, RTA_TABLE, k->c->table);
	kif_msg_put_u32(m, RTA_OIF, (uint32_t)k->ifindex);
}

int
kif_routes_sync(struct kif *k)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct kif_msg m;
	unsigned int f;
	int rc;

	for (f = 0; f < RTE_DIM(families); f++) {
		int family = families[f];

		if (has_family(k, family)) {
			route_msg(&m, k, family, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
			rc = kif_nl_talk(&k->nl, &m, NULL, NULL);
			if (rc < 0)
				return kif_fail(k, rc, k->nl.ext_msg, "%s: add %s route default "
						"dev %s table %u", k->c->ifname,
						family_name(family), k->c->ifname, k->c->table);
			continue;
		}
		/* A family dropped from the address list leaves no route behind. */
		route_msg(&m, k, family, RTM_DELROUTE, 0);
		rc = kif_nl_talk(&k->nl, &m, NULL, NULL);
		if (rc < 0 && rc != -ESRCH && rc != -ENOENT && rc != -EAFNOSUPPORT)
			return kif_fail(k, rc, k->nl.ext_msg, "%s: remove %s route default dev "
					"%s table %u", k->c->ifname, family_name(family),
					k->c->ifname, k->c->table);
	}
	return 0;
}
