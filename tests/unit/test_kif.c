/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/kif against the real kernel (root needed; skipped otherwise).
 *
 *   root netns                               netns sp-kif-test-<pid>
 *   tap "spka<pid>" --- sp_kif_setup() ---->  spka<pid>: 10.77.0.1/32 10.77.1.1/32
 *                                                        fd77::1/128 fd77:1::1/128
 *                                             rules pref 4242 -> table 4242, default routes
 *   tap "spkb<pid>" stays in the root netns:  192.0.2.77/32 2001:db8:77::1/128,
 *                                             rules pref 4243 -> table 4243
 *
 * The state is read back with iproute2 (an independent reader of what we wrote) and compared
 * line by line, sorted, with the interface name replaced by "IF".
 *
 * The tests run in a child process; the parent removes the namespace and any root-namespace
 * rule afterwards, whatever happened to the child.
 */

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>

#include "sp_kif.h"
#include "test_common.h"

#define NS_PREFIX "sp-kif-test-"
#define NS_TABLE 4242
#define NS_PRIO 4242
#define ROOT_TABLE 4243
#define ROOT_PRIO 4243
#define SNAP_MAX 8192
#define LINE_MAX_N 64

static char ns_name[64];
static char tap_a[IFNAMSIZ], tap_b[IFNAMSIZ], tap_none[IFNAMSIZ];
static int fd_a = -1, fd_b = -1;

static int __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
tap_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	/* Not persistent: the interface goes when fd closes, wherever it then is. */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 0) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* "net:[4026531840]": which namespace this thread is in. */
static const char *
my_netns(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/thread-self/ns/net", buf, size - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
ip_add(struct sp_kif_conf *c, const char *s)
{
	CU_ASSERT_FATAL(sp_ip_parse(s, &c->addrs[c->n_addrs], true) == 0);
	c->n_addrs++;
}

static void
conf_ns(struct sp_kif_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->ifname, sizeof(c->ifname), "%s", tap_a);
	snprintf(c->netns, sizeof(c->netns), "%s", ns_name);
	c->mac = (struct rte_ether_addr){ { 0x02, 0x53, 0x50, 0x00, 0x00, 0x02 } };
	c->mtu = 1400;
	/* Subnet lengths in the configuration; installed as host addresses. */
	ip_add(c, "10.77.0.1/24");
	ip_add(c, "10.77.1.1/24");
	ip_add(c, "fd77::1/64");
	ip_add(c, "fd77:1::1/64");
	c->table = NS_TABLE;
	c->rule_priority = NS_PRIO;
}

static void
conf_root(struct sp_kif_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->ifname, sizeof(c->ifname), "%s", tap_b);
	c->mac = (struct rte_ether_addr){ { 0x02, 0x53, 0x50, 0x00, 0x00, 0x03 } };
	c->mtu = 1500;
	ip_add(c, "192.0.2.77/24");
	ip_add(c, "2001:db8:77::1/64");
	c->table = ROOT_TABLE;
	c->rule_priority = ROOT_PRIO;
}

/* Snapshot */

struct lines {
	unsigned int n;
	char l[LINE_MAX_N][320];
};

static void
push(struct lines *ls, const char *prefix, const char *line, const char *ifname)
{
	char tmp[320], *p;
	const char *q;
	size_t len;

	if (ls->n == LINE_MAX_N)
		return;
	/* Tabs to spaces, trailing blanks off, the interface name to "IF". */
	snprintf(tmp, sizeof(tmp), "%s", line);
	for (p = tmp; *p; p++)
		if (*p == '\t')
			*p = ' ';
	len = strlen(tmp);
	while (len > 0 && (tmp[len - 1] == ' ' || tmp[len - 1] == '\n'))
		tmp[--len] = '\0';
	if (len == 0)
		return;
	p = ls->l[ls->n];
	p += sprintf(p, "%s", prefix);
	for (q = tmp; *q;) {
		size_t il = strlen(ifname);

		if (strncmp(q, ifname, il) == 0) {
			p += sprintf(p, "IF");
			q += il;
		} else {
			*p++ = *q++;
		}
	}
	*p = '\0';
	ls->n++;
}

/* Run an `ip` command ("-n NS" added when ns is set) and collect its lines. @return status. */
static int
ip_lines(struct lines *ls, const char *prefix, const char *ns, const char *ifname,
	 const char *args)
{
	char cmd[512], line[512];
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "ip %s%s %s 2>/dev/null", ns ? "-n " : "", ns ? ns : "", args);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		push(ls, prefix, line, ifname);
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* "link up mtu 1400 mac 02:..." from `ip -o link show`. */
static void
link_line(struct lines *ls, const char *ns, const char *ifname)
{
	struct lines raw = { 0 };
	char args[64], out[160];
	const char *l, *mtu, *mac, *fl;
	bool up;

	snprintf(args, sizeof(args), "-o link show dev %s", ifname);
	if (ip_lines(&raw, "", ns, ifname, args) != 0 || raw.n != 1) {
		push(ls, "", "link absent", ifname);
		return;
	}
	l = raw.l[0];
	fl = strchr(l, '<');
	up = fl != NULL && (strstr(fl, ",UP,") != NULL || strstr(fl, ",UP>") != NULL ||
			    strstr(fl, "<UP,") != NULL);
	mtu = strstr(l, " mtu ");
	mac = strstr(l, "link/ether ");
	snprintf(out, sizeof(out), "link %s mtu %.*s mac %.17s", up ? "up" : "down",
		 mtu ? (int)strcspn(mtu + 5, " ") : 1, mtu ? mtu + 5 : "?",
		 mac ? mac + 11 : "?");
	push(ls, "", out, ifname);
}

/* "addr inet 10.77.0.1/32 global"; the kernel's link-local address as "addr inet6 link-local". */
static void
addr_lines(struct lines *ls, const char *ns, const char *ifname)
{
	struct lines raw = { 0 };
	char args[64], fam[16], addr[64], scope[16], out[160];
	unsigned int i;

	snprintf(args, sizeof(args), "-o addr show dev %s", ifname);
	ip_lines(&raw, "", ns, ifname, args);
	for (i = 0; i < raw.n; i++) {
		if (sscanf(raw.l[i], "%*d: IF %15s %63s scope %15s", fam, addr, scope) != 3) {
			push(ls, "addr unparsed: ", raw.l[i], ifname);
			continue;
		}
		if (strcmp(scope, "link") == 0 && strncmp(addr, "fe80::", 6) == 0)
			snprintf(out, sizeof(out), "addr %s link-local", fam);
		else
			snprintf(out, sizeof(out), "addr %s %s %s", fam, addr, scope);
		push(ls, "", out, ifname);
	}
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The whole state that sp_kif_setup() is responsible for, as sorted lines. */
static void
snapshot(char *out, size_t size, const char *ns, const char *ifname, uint32_t table,
	 uint32_t prio)
{
	struct lines ls = { 0 };
	char args[128];
	unsigned int i;
	size_t off = 0;

	link_line(&ls, ns, ifname);
	addr_lines(&ls, ns, ifname);
	snprintf(args, sizeof(args), "-4 -d rule show pref %u", prio);
	ip_lines(&ls, "rule4 ", ns, ifname, args);
	snprintf(args, sizeof(args), "-6 -d rule show pref %u", prio);
	ip_lines(&ls, "rule6 ", ns, ifname, args);
	snprintf(args, sizeof(args), "-4 route show table %u", table);
	ip_lines(&ls, "route4 ", ns, ifname, args);
	snprintf(args, sizeof(args), "-6 route show table %u", table);
	ip_lines(&ls, "route6 ", ns, ifname, args);
	/* The host's main table: nothing of ours beyond the kernel's link-local prefix. */
	snprintf(args, sizeof(args), "-4 route show table main dev %s", ifname);
	ip_lines(&ls, "main4 ", ns, ifname, args);
	snprintf(args, sizeof(args), "-6 route show table main dev %s", ifname);
	ip_lines(&ls, "main6 ", ns, ifname, args);
	qsort(ls.l, ls.n, sizeof(ls.l[0]), cmp_line);
	out[0] = '\0';
	for (i = 0; i < ls.n && off < size; i++)
		off += snprintf(out + off, size - off, "%s\n", ls.l[i]);
}

/* Expected lines, sorted the same way. */
static void
expect(char *out, size_t size, const char *const *want, unsigned int n)
{
	struct lines ls = { 0 };
	unsigned int i;
	size_t off = 0;

	for (i = 0; i < n; i++)
		push(&ls, "", want[i], "\x01");
	qsort(ls.l, ls.n, sizeof(ls.l[0]), cmp_line);
	out[0] = '\0';
	for (i = 0; i < ls.n && off < size; i++)
		off += snprintf(out + off, size - off, "%s\n", ls.l[i]);
}

static void
assert_state(const char *ns, const char *ifname, uint32_t table, uint32_t prio,
	     const char *const *want, unsigned int n)
{
	static char got[SNAP_MAX], exp[SNAP_MAX];

	snapshot(got, sizeof(got), ns, ifname, table, prio);
	expect(exp, sizeof(exp), want, n);
	CU_ASSERT_STRING_EQUAL(got, exp);
	if (strcmp(got, exp) != 0)
		fprintf(stderr, "\n--- expected\n%s--- got\n%s", exp, got);
}

#define ASSERT_STATE(ns, ifn, t, p, want) \
	assert_state(ns, ifn, t, p, want, (unsigned int)RTE_DIM(want))

static const char *const ns_state[] = {
	"link up mtu 1400 mac 02:53:50:00:00:02",
	"addr inet 10.77.0.1/32 global",
	"addr inet 10.77.1.1/32 global",
	"addr inet6 fd77::1/128 global",
	"addr inet6 fd77:1::1/128 global",
	"addr inet6 link-local",
	"rule4 4242: from 10.77.0.1 lookup 4242 proto static",
	"rule4 4242: from 10.77.1.1 lookup 4242 proto static",
	"rule6 4242: from fd77::1 lookup 4242 proto static",
	"rule6 4242: from fd77:1::1 lookup 4242 proto static",
	"route4 default dev IF proto static scope link",
	"route6 default dev IF proto static metric 1024 pref medium",
	"main6 fe80::/64 proto kernel metric 256 pref medium",
};

/* Tests */

static void
test_bad_conf(void)
{
	static const struct {
		const char *what;
		const char *ifname;
		const char *netns;
		unsigned int n_addrs;
		uint8_t family;
		uint32_t table;
		uint32_t prio;
		const char *msg;
	} cases[] = {
		{ "empty name", "", "", 1, AF_INET, 100, 100, "interface name is empty" },
		{ "netns path", "sp0", "a/b", 1, AF_INET, 100, 100,
		  "sp0: netns \"a/b\" is not a plain name" },
		{ "netns dotdot", "sp0", "..", 1, AF_INET, 100, 100,
		  "sp0: netns \"..\" is not a plain name" },
		{ "too many", "sp0", "", 65, AF_INET, 100, 100, "sp0: 65 addresses, at most 64" },
		{ "family", "sp0", "", 1, 7, 100, 100,
		  "sp0: address 0 has family 7, not IPv4 nor IPv6" },
		{ "table 0", "sp0", "", 1, AF_INET, 0, 100,
		  "sp0: table 0 is reserved (0 unspec, 253 default, 254 main, 255 local)" },
		{ "table main", "sp0", "", 1, AF_INET, 254, 100,
		  "sp0: table 254 is reserved (0 unspec, 253 default, 254 main, 255 local)" },
		{ "table local", "sp0", "", 1, AF_INET, 255, 100,
		  "sp0: table 255 is reserved (0 unspec, 253 default, 254 main, 255 local)" },
		{ "prio 0", "sp0", "", 1, AF_INET, 100, 0,
		  "sp0: rule priority 0 would come before the local table's rule" },
	};
	static struct sp_kif_conf c;
	char err[256];
	unsigned int i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		memset(&c, 0, sizeof(c));
		snprintf(c.ifname, sizeof(c.ifname), "%s", cases[i].ifname);
		snprintf(c.netns, sizeof(c.netns), "%s", cases[i].netns);
		c.n_addrs = cases[i].n_addrs;
		c.addrs[0].family = cases[i].family;
		c.addrs[0].plen = 32;
		c.table = cases[i].table;
		c.rule_priority = cases[i].prio;
		CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), -EINVAL);
		CU_ASSERT_STRING_EQUAL(err, cases[i].msg);
		if (strcmp(err, cases[i].msg) != 0)
			fprintf(stderr, "\ncase %s: got \"%s\"\n", cases[i].what, err);
	}
	/* An unterminated name. */
	memset(&c, 0, sizeof(c));
	memset(c.ifname, 'x', sizeof(c.ifname));
	c.table = 100;
	c.rule_priority = 100;
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "interface name is longer than 15 characters");
	CU_ASSERT_EQUAL(sp_kif_setup(NULL, err, sizeof(err)), -EINVAL);
}

static void
test_missing_netns(void)
{
	static struct sp_kif_conf c;
	char err[256], want[256], args[64];
	struct lines ls = { 0 };

	conf_ns(&c);
	snprintf(c.netns, sizeof(c.netns), NS_PREFIX "none-%d", (int)getpid());
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want),
		 "netns \"%s\": cannot open /run/netns/%s: No such file or directory", c.netns,
		 c.netns);
	CU_ASSERT_STRING_EQUAL(err, want);
	/* Nothing touched: the tap is still here, still down. */
	snprintf(args, sizeof(args), "-o link show dev %s", tap_a);
	CU_ASSERT_EQUAL(ip_lines(&ls, "", NULL, tap_a, args), 0);
	CU_ASSERT_EQUAL(ls.n, 1);
	CU_ASSERT_PTR_NULL(strstr(ls.l[0], "UP"));
	/* A teardown there has nothing to do. */
	CU_ASSERT_EQUAL(sp_kif_teardown(&c), 0);
}

static void
test_missing_iface(void)
{
	static struct sp_kif_conf c;
	char err[256], want[256], home[64], now[64];

	my_netns(home, sizeof(home));
	conf_ns(&c);
	snprintf(c.ifname, sizeof(c.ifname), "%s", tap_none);
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), -ENODEV);
	/* It failed inside the namespace: the thread must be back home all the same. */
	CU_ASSERT_STRING_EQUAL(my_netns(now, sizeof(now)), home);
	snprintf(want, sizeof(want),
		 "interface \"%s\" not found in the current netns nor in netns \"%s\": "
		 "No such device", tap_none, ns_name);
	CU_ASSERT_STRING_EQUAL(err, want);

	c.netns[0] = '\0';
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), -ENODEV);
	snprintf(want, sizeof(want), "interface \"%s\" not found: No such device", tap_none);
	CU_ASSERT_STRING_EQUAL(err, want);
}

static void
test_setup_netns(void)
{
	static struct sp_kif_conf c;
	char err[256] = "unset", args[64], home[64], now[64];
	struct lines ls = { 0 };

	my_netns(home, sizeof(home));
	conf_ns(&c);
	CU_ASSERT_EQUAL_FATAL(sp_kif_setup(&c, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_STRING_EQUAL(my_netns(now, sizeof(now)), home);
	ASSERT_STATE(ns_name, tap_a, NS_TABLE, NS_PRIO, ns_state);
	/* Moved: gone from the root namespace. */
	snprintf(args, sizeof(args), "link show dev %s", tap_a);
	CU_ASSERT_NOT_EQUAL(ip_lines(&ls, "", NULL, tap_a, args), 0);
	/* And the sysctls were written in the namespace, not in ours. */
	{
		char cmd[512], line[64];
		FILE *f;
		int zeros = 0, lines = 0;

		snprintf(cmd, sizeof(cmd), "ip netns exec %s sh -c 'for k in "
			 "ipv6/conf/%s/accept_dad ipv6/conf/%s/dad_transmits "
			 "ipv6/conf/%s/accept_ra ipv6/conf/%s/router_solicitations "
			 "ipv4/conf/%s/rp_filter; do cat /proc/sys/net/$k; done'", ns_name, tap_a,
			 tap_a, tap_a, tap_a, tap_a);
		f = popen(cmd, "r");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			lines++;
			zeros += strcmp(line, "0\n") == 0;
		}
		pclose(f);
		CU_ASSERT_EQUAL(lines, 5);
		CU_ASSERT_EQUAL(zeros, 5);
	}
}

static void
test_setup_again(void)
{
	static struct sp_kif_conf c;
	static char before[SNAP_MAX], after[SNAP_MAX];
	char err[256];

	conf_ns(&c);
	snapshot(before, sizeof(before), ns_name, tap_a, NS_TABLE, NS_PRIO);
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), 0);
	snapshot(after, sizeof(after), ns_name, tap_a, NS_TABLE, NS_PRIO);
	CU_ASSERT_STRING_EQUAL(after, before);
	ASSERT_STATE(ns_name, tap_a, NS_TABLE, NS_PRIO, ns_state);
}

/* A step the kernel refuses: its errno and its own words, then a good call repairs it. */
static void
test_kernel_refusal(void)
{
	static struct sp_kif_conf c;
	char err[256], want[256];

	conf_ns(&c);
	c.mtu = 60; /* below a tap's minimum of 68 */
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: set MTU 60: Invalid argument (kernel: ", tap_a);
	CU_ASSERT_NSTRING_EQUAL(err, want, strlen(want));
	CU_ASSERT(strlen(err) > strlen(want) + 1 && err[strlen(err) - 1] == ')');
	conf_ns(&c);
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), 0);
	ASSERT_STATE(ns_name, tap_a, NS_TABLE, NS_PRIO, ns_state);
}

/* Leftovers at our priority and table go; other priorities and tables stay; a smaller address
 * list converges, and the full one comes back. */
static void
test_converge(void)
{
	static const char *const with_foreign[] = {
		"link up mtu 1400 mac 02:53:50:00:00:02",
		"addr inet 10.77.0.1/32 global",
		"addr inet 10.77.1.1/32 global",
		"addr inet6 fd77::1/128 global",
		"addr inet6 fd77:1::1/128 global",
		"addr inet6 link-local",
		"rule4 4242: from 10.77.0.1 lookup 4242 proto static",
		"rule4 4242: from 10.77.1.1 lookup 4242 proto static",
		"rule4 4242: from 10.77.0.1 lookup 100 proto unspec",
		"rule6 4242: from fd77::1 lookup 4242 proto static",
		"rule6 4242: from fd77:1::1 lookup 4242 proto static",
		"route4 default dev IF proto static scope link",
		"route6 default dev IF proto static metric 1024 pref medium",
		"main6 fe80::/64 proto kernel metric 256 pref medium",
	};
	static const char *const v4_only[] = {
		"link up mtu 1400 mac 02:53:50:00:00:02",
		"addr inet 10.77.0.1/32 global",
		"addr inet6 link-local",
		"rule4 4242: from 10.77.0.1 lookup 4242 proto static",
		"route4 default dev IF proto static scope link",
		"main6 fe80::/64 proto kernel metric 256 pref medium",
	};
	static struct sp_kif_conf c;
	const char *n = ns_name, *t = tap_a;
	char err[256];

	CU_ASSERT_EQUAL(sh("ip -n %s rule add from 10.77.9.9 lookup 4242 pref 4242", n), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s rule add from 10.77.0.1 iif lo lookup 4242 pref 4242", n), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s rule add from 10.77.0.1 lookup 4242 pref 4242", n), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s rule add to 10.77.0.1 lookup 4242 pref 4242", n), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s -6 rule add from fd77::9 lookup 4242 pref 4242", n), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s -6 rule add from fd77::/64 lookup 4242 pref 4242", n), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s rule add from 10.77.0.1 lookup 100 pref 4242", n), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s rule add from 10.77.0.1 lookup 4242 pref 4241", n), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s addr add 10.77.5.5/24 dev %s", n, t), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s addr add 10.77.0.1/24 dev %s", n, t), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s addr add fd77:5::5/64 dev %s nodad", n, t), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s route add 10.77.5.0/24 dev %s table 4242", n, t), 0);

	conf_ns(&c);
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), 0);
	/* The foreign-table rule stays; our table's extra route is not ours to judge. */
	CU_ASSERT_EQUAL(sh("ip -n %s route del 10.77.5.0/24 dev %s table 4242", n, t), 0);
	ASSERT_STATE(n, t, NS_TABLE, NS_PRIO, with_foreign);
	CU_ASSERT_EQUAL(sh("ip -n %s rule del from 10.77.0.1 lookup 100 pref 4242", n), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s rule del from 10.77.0.1 lookup 4242 pref 4241", n), 0);
	ASSERT_STATE(n, t, NS_TABLE, NS_PRIO, ns_state);

	c.n_addrs = 1;
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), 0);
	ASSERT_STATE(n, t, NS_TABLE, NS_PRIO, v4_only);

	conf_ns(&c);
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), 0);
	ASSERT_STATE(n, t, NS_TABLE, NS_PRIO, ns_state);
}

static void
test_teardown_netns(void)
{
	static const char *const no_rules[] = {
		"link up mtu 1400 mac 02:53:50:00:00:02",
		"addr inet 10.77.0.1/32 global",
		"addr inet 10.77.1.1/32 global",
		"addr inet6 fd77::1/128 global",
		"addr inet6 fd77:1::1/128 global",
		"addr inet6 link-local",
		"route4 default dev IF proto static scope link",
		"route6 default dev IF proto static metric 1024 pref medium",
		"main6 fe80::/64 proto kernel metric 256 pref medium",
	};
	static struct sp_kif_conf c;

	conf_ns(&c);
	CU_ASSERT_EQUAL(sp_kif_teardown(&c), 0);
	ASSERT_STATE(ns_name, tap_a, NS_TABLE, NS_PRIO, no_rules);
	CU_ASSERT_EQUAL(sp_kif_teardown(&c), 0);
	/* The interface going takes the addresses and routes with it. */
	close(fd_a);
	fd_a = -1;
	{
		static const char *const gone[] = { "link absent" };

		ASSERT_STATE(ns_name, tap_a, NS_TABLE, NS_PRIO, gone);
	}
	CU_ASSERT_EQUAL(sp_kif_teardown(&c), 0);
}

static void
test_root_ns(void)
{
	static const char *const root_state[] = {
		"link up mtu 1500 mac 02:53:50:00:00:03",
		"addr inet 192.0.2.77/32 global",
		"addr inet6 2001:db8:77::1/128 global",
		"addr inet6 link-local",
		"rule4 4243: from 192.0.2.77 lookup 4243 proto static",
		"rule6 4243: from 2001:db8:77::1 lookup 4243 proto static",
		"route4 default dev IF proto static scope link",
		"route6 default dev IF proto static metric 1024 pref medium",
		"main6 fe80::/64 proto kernel metric 256 pref medium",
	};
	static const char *const root_no_rules[] = {
		"link up mtu 1500 mac 02:53:50:00:00:03",
		"addr inet 192.0.2.77/32 global",
		"addr inet6 2001:db8:77::1/128 global",
		"addr inet6 link-local",
		"route4 default dev IF proto static scope link",
		"route6 default dev IF proto static metric 1024 pref medium",
		"main6 fe80::/64 proto kernel metric 256 pref medium",
	};
	static struct sp_kif_conf c;
	char err[256];

	conf_root(&c);
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), 0);
	ASSERT_STATE(NULL, tap_b, ROOT_TABLE, ROOT_PRIO, root_state);
	CU_ASSERT_EQUAL(sp_kif_setup(&c, err, sizeof(err)), 0);
	ASSERT_STATE(NULL, tap_b, ROOT_TABLE, ROOT_PRIO, root_state);
	CU_ASSERT_EQUAL(sp_kif_teardown(&c), 0);
	ASSERT_STATE(NULL, tap_b, ROOT_TABLE, ROOT_PRIO, root_no_rules);
}

/* Setup and cleanup, in a parent that outlives the tests */

static int
suite_init(void)
{
	if (sh("ip netns add %s", ns_name) != 0)
		return -1;
	fd_a = tap_open(tap_a);
	fd_b = tap_open(tap_b);
	return fd_a >= 0 && fd_b >= 0 ? 0 : -1;
}

static int
suite_fini(void)
{
	if (fd_a >= 0)
		close(fd_a);
	if (fd_b >= 0)
		close(fd_b);
	fd_a = fd_b = -1;
	return 0;
}

static void
remove_root_rules(void)
{
	int i;

	for (i = 0; i < 16 && sh("ip -4 rule del pref %d table %d 2>/dev/null", ROOT_PRIO,
				 ROOT_TABLE) == 0; i++)
		;
	for (i = 0; i < 16 && sh("ip -6 rule del pref %d table %d 2>/dev/null", ROOT_PRIO,
				 ROOT_TABLE) == 0; i++)
		;
}

/* Namespaces of earlier runs whose process is gone (killed by a timeout, say). */
static void
remove_stale_netns(void)
{
	struct dirent *e;
	DIR *d = opendir("/run/netns");

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(e->d_name, NS_PREFIX, strlen(NS_PREFIX)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(NS_PREFIX), &end, 10);
		if (*end == '\0' && pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			sh("ip netns del %s 2>/dev/null", e->d_name);
	}
	closedir(d);
}

static int
run_tests(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("kif", suite_init, suite_fini);
	if (s == NULL ||
	    CU_add_test(s, "bad configuration refused", test_bad_conf) == NULL ||
	    CU_add_test(s, "missing netns", test_missing_netns) == NULL ||
	    CU_add_test(s, "missing interface", test_missing_iface) == NULL ||
	    CU_add_test(s, "setup into a netns", test_setup_netns) == NULL ||
	    CU_add_test(s, "setup again is a no-op", test_setup_again) == NULL ||
	    CU_add_test(s, "kernel refusal reported", test_kernel_refusal) == NULL ||
	    CU_add_test(s, "stale state converges", test_converge) == NULL ||
	    CU_add_test(s, "teardown in the netns", test_teardown_netns) == NULL ||
	    CU_add_test(s, "setup in the root netns", test_root_ns) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	return sp_test_run();
}

int
main(void)
{
	int pid = (int)getpid();
	int st = 0;
	pid_t child;

	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("kif: needs root and /dev/net/tun, skipped\n");
		return 77;
	}
	snprintf(ns_name, sizeof(ns_name), NS_PREFIX "%d", pid);
	snprintf(tap_a, sizeof(tap_a), "spka%d", pid);
	snprintf(tap_b, sizeof(tap_b), "spkb%d", pid);
	snprintf(tap_none, sizeof(tap_none), "spkn%d", pid);
	remove_stale_netns();
	remove_root_rules();

	fflush(NULL);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0)
		exit(run_tests()); /* exit, not _exit: leak checkers run at exit */
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	/* Whatever the child did or suffered: its taps closed with it; the rest is ours. */
	sh("ip netns del %s 2>/dev/null", ns_name);
	remove_root_rules();
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "kif: tests killed by signal %d\n", WTERMSIG(st));
		return 1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
