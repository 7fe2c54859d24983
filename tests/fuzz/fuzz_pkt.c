/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer harness: every header validator the data path runs on received bytes, and the
 * checks that build ICMP errors about them. Nothing may read past `size`, crash or loop. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly `size` bytes, so ASan sees any overread. */
	uint8_t *p = malloc(size ? size : 1);
	struct sp_l2 l2;
	struct sp_nd nd;
	uint16_t total;
	uint32_t off;

	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	if (sp_pkt_l2_parse(p, size, &l2) == SP_PKT_OK) {
		off = l2.l2_len;
		switch (l2.ethertype) {
		case SP_ETHERTYPE_ARP:
			sp_pkt_arp_check(p + off, size - off);
			break;
		case SP_ETHERTYPE_IPV4:
			if (sp_pkt_ip4_check(p + off, size - off, size - off, &total) == SP_PKT_OK) {
				if (total > size - off)
					abort();
				sp_pkt_ip4_error_allowed(p + off, total);
				sp_pkt_ip4_ttl_dec((struct rte_ipv4_hdr *)(p + off));
			}
			break;
		case SP_ETHERTYPE_IPV6:
			if (sp_pkt_ip6_check(p + off, size - off, size - off, &total) == SP_PKT_OK) {
				if (total > size - off)
					abort();
				sp_pkt_nd_parse(p + off, total, &nd);
				sp_pkt_ip6_error_allowed(p + off, total, SP_ICMP6_TIME_EXCEEDED);
			}
			break;
		default:
			break;
		}
	}
	/* The raw validators on unframed bytes too. */
	sp_pkt_ip4_check(p, size, size, &total);
	sp_pkt_ip6_check(p, size, size, &total);
	sp_pkt_nd_parse(p, size, &nd);
	sp_pkt_arp_check(p, size);
	sp_pkt_icmp4_cksum_ok(p, size);
	free(p);
	return 0;
}
