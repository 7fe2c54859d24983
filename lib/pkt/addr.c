/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4/IPv6 addresses and prefixes. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>

#include "sp_addr.h"

int
sp_ip_parse(const char *s, struct sp_ip *out, bool allow_prefix)
{
	char buf[SP_IP_STRLEN];
	const char *slash;
	size_t alen;
	unsigned long plen = 0;
	bool has_plen = false;

	if (s == NULL || out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (slash != NULL) {
		char *end;

		if (!allow_prefix || slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return -EINVAL;
		plen = strtoul(slash + 1, &end, 10);
		if (*end != '\0')
			return -EINVAL;
		has_plen = true;
	}
	if (inet_pton(AF_INET, buf, &out->v4) == 1) {
		out->family = AF_INET;
		if (has_plen && plen > 32)
			return -EINVAL;
		out->plen = has_plen ? plen : 32;
	} else if (inet_pton(AF_INET6, buf, out->v6) == 1) {
		out->family = AF_INET6;
		if (has_plen && plen > 128)
			return -EINVAL;
		out->plen = has_plen ? plen : 128;
	} else {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

int
sp_ip_format(const struct sp_ip *ip, char *buf, size_t size, bool with_plen)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (ip->family == AF_INET)
		inet_ntop(AF_INET, &ip->v4, a, sizeof(a));
	else if (ip->family == AF_INET6)
		inet_ntop(AF_INET6, ip->v6, a, sizeof(a));
	else
		snprintf(a, sizeof(a), "-");
	if (with_plen && ip->family != 0)
		n = snprintf(buf, size, "%s/%u", a, ip->plen);
	else
		n = snprintf(buf, size, "%s", a);
	return (n < 0 || (size_t)n >= size) ? -ENOSPC : n;
}

static unsigned int
addr_bytes(const struct sp_ip *ip, const uint8_t **p)
{
	if (ip->family == AF_INET) {
		*p = (const uint8_t *)&ip->v4;
		return 4;
	}
	*p = ip->v6;
	return 16;
}

void
sp_ip_mask(struct sp_ip *ip)
{
	const uint8_t *cp;
	unsigned int n = addr_bytes(ip, &cp), i;
	uint8_t *p = (uint8_t *)cp;

	for (i = 0; i < n; i++) {
		unsigned int bit = i * 8;

		if (bit >= ip->plen)
			p[i] = 0;
		else if (bit + 8 > ip->plen)
			p[i] &= (uint8_t)(0xff << (8 - (ip->plen - bit)));
	}
}

bool
sp_ip_is_network(const struct sp_ip *ip)
{
	struct sp_ip m = *ip;

	sp_ip_mask(&m);
	return sp_ip_equal(&m, ip);
}

bool
sp_ip_equal(const struct sp_ip *a, const struct sp_ip *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4 == b->v4;
	return memcmp(a->v6, b->v6, 16) == 0;
}

bool
sp_ip_in_prefix(const struct sp_ip *addr, const struct sp_ip *prefix)
{
	struct sp_ip a = *addr, p = *prefix;

	if (a.family != p.family)
		return false;
	a.plen = p.plen;
	sp_ip_mask(&a);
	sp_ip_mask(&p);
	return sp_ip_equal(&a, &p);
}

void
sp_ip_from_v4(struct sp_ip *ip, uint32_t be_addr)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = AF_INET;
	ip->plen = 32;
	ip->v4 = be_addr;
}

void
sp_ip_from_v6(struct sp_ip *ip, const uint8_t v6[16])
{
	memset(ip, 0, sizeof(*ip));
	ip->family = AF_INET6;
	ip->plen = 128;
	memcpy(ip->v6, v6, 16);
}

int
sp_mac_format(const struct rte_ether_addr *mac, char *buf, size_t size)
{
	const uint8_t *b = mac->addr_bytes;
	int n = snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
			 b[5]);

	return (n < 0 || (size_t)n >= size) ? -ENOSPC : n;
}
