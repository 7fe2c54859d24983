/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_ESP_PRIVATE_H
#define SP_ESP_PRIVATE_H

#include "sp_esp.h"
#include "sp_log.h"

SP_LOG_TYPE_DECLARE(esp);

/** What the owning worker writes; the control core only reads st and the flags. */
struct esp_state {
	uint64_t seq;                  /**< outbound: last sequence number used */
	struct sp_esp_replay rp;       /**< inbound */
	struct sp_esp_sa_stats st;
	volatile uint8_t rekey;
	volatile uint8_t expired;
} __rte_cache_aligned;

struct sp_esp_sa {
	struct sp_esp_sa_conf conf;    /**< key wiped */
	struct sp_crypto_engine *eng;
	struct sp_crypto_sess *sess;
	rte_be32_t spi_be;
	uint16_t outer_len;            /**< outer IP (+ UDP) header bytes */
	uint16_t inner_mtu;
	/* outbound: the outer header with every per-SA field set (TOS, lengths and checksum 0),
	 * and the one's-complement sum of the IPv4 header's constant words */
	uint32_t v4_sum;
	uint8_t outer_tmpl[48];
	struct esp_state s;
	uint64_t bits[];               /**< replay bitmap (inbound) */
};

/* sa.c -> esp.c: fill outer_tmpl and v4_sum from the SA's configuration. */
void esp_outer_template(struct sp_esp_sa *sa);

#endif
