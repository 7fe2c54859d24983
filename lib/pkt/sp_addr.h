/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_ADDR_H
#define SP_ADDR_H

/**
 * @file
 * One address type for IPv4 and IPv6, with an optional prefix length, used by configuration,
 * routing and neighbours alike. Addresses are kept in network byte order.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SP_IP_STRLEN 64 /* enough for "ffff:...:ffff/128" */

struct sp_ip {
	uint8_t family; /**< AF_INET or AF_INET6; 0 means unset */
	uint8_t plen;   /**< prefix length: 32 or 128 for a host address */
	uint8_t pad[2];
	union {
		uint32_t v4;    /**< network byte order */
		uint8_t v6[16];
	};
};

/**
 * Parse "10.0.0.1", "10.0.0.0/8", "fd00::1" or "fd00::/64".
 * Without "/len" plen is the full length. With allow_prefix false a "/len" is refused.
 * @return 0, or -EINVAL.
 */
int sp_ip_parse(const char *s, struct sp_ip *out, bool allow_prefix);

/** Format an address, with "/plen" when with_plen. @return the length written, or -ENOSPC. */
int sp_ip_format(const struct sp_ip *ip, char *buf, size_t size, bool with_plen);

/** Clear the bits past plen. */
void sp_ip_mask(struct sp_ip *ip);

/** True when the host bits past plen are zero. */
bool sp_ip_is_network(const struct sp_ip *ip);

/** Same family and address (plen ignored). */
bool sp_ip_equal(const struct sp_ip *a, const struct sp_ip *b);

/** True when addr (plen ignored) lies within prefix. */
bool sp_ip_in_prefix(const struct sp_ip *addr, const struct sp_ip *prefix);

struct rte_ether_addr;
/** "02:00:5e:10:00:01" (lower case, as ip(8) prints it). @return the length, or -ENOSPC. */
int sp_mac_format(const struct rte_ether_addr *mac, char *buf, size_t size);

/** Build a host address from raw bytes (4 or 16 in network order). */
void sp_ip_from_v4(struct sp_ip *ip, uint32_t be_addr);
void sp_ip_from_v6(struct sp_ip *ip, const uint8_t v6[16]);

#endif
