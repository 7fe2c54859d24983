/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_TUNNEL_PRIVATE_H
#define SP_TUNNEL_PRIVATE_H

#include <stdarg.h>

#include "sp_log.h"
#include "sp_tunnel.h"

SP_LOG_TYPE_DECLARE(tunnel);

/* What workers read for a peer: the SAs of the active epoch, replaced whole under RCU. */
struct tun_outset {
	uint64_t epoch;
	unsigned int n;
	struct sp_esp_sa *sa[SP_TUN_MAX_SAS];
};

struct tun_epoch {
	uint64_t epoch;                  /* 0: slot free */
	uint64_t created, activated;     /* sp_tun_now() */
	unsigned int n_in, n_out;
	struct sp_esp_sa *in[SP_TUN_MAX_SAS];
	struct sp_esp_sa *out[SP_TUN_MAX_SAS];
};

struct tun_peer {
	unsigned int index;
	char name[SP_CONF_NAME_MAX];
	struct sp_ip local;
	uint16_t path_mtu;
	struct tun_outset *out;          /* published to workers (acquire/release) */
	uint64_t active;                 /* epoch of out, 0 when none */
	struct tun_epoch ep[SP_TUN_EPOCHS];
	char state[32];
	char detail[160];
	/* traffic of retired epochs, so that the peer's totals survive rekeys */
	uint64_t gone_packets[2], gone_bytes[2];   /* [0] inbound, [1] outbound */
};

struct tun_state {
	bool up;
	struct sp_conf_tunnels conf;     /* manual keys kept for `peer reset` */
	struct sp_crypto_engine *engine;
	unsigned int n_workers;
	unsigned int n_peers;
	struct tun_peer peers[SP_TUN_MAX_PEERS];
	struct sp_esp_table *table;      /* inbound SPI -> SA, every peer's */
	bool (*reserved_spi)(uint32_t spi);
	struct sp_tun_hooks hooks;
};

extern struct tun_state T;

/* (Re)install a manual peer's SAs as epoch 1 and send on them. */
int tun_install_manual(struct tun_peer *p, const struct sp_conf_peer *pc, char *err,
		       size_t errlen);

#endif
