/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef KEYX_PRIVATE_H
#define KEYX_PRIVATE_H

/*
 * Internals of lib/keyx. proto.c is the protocol: message coding and the session state
 * machine, with no TLS and no sockets (the fuzzer drives it directly). keyx.c is the instance,
 * peers, certificates and status; conn.c the sockets and TLS.
 */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "sp_keyx.h"
#include "sp_log.h"

SP_LOG_TYPE_DECLARE(keyx);

/* ---- wire format (big endian) ---- */

#define KX_HDR_LEN 4              /* u8 version, u8 type, u16 body length */
#define KX_BODY_MAX 1024
#define KX_MSG_MAX (KX_HDR_LEN + KX_BODY_MAX)
#define KX_CLOSE_TEXT_MAX 200
#define KX_SPI_MIN 256            /* 1..255 are reserved (RFC 4303 2.1) */
#define KX_CONTEXT_LEN 13         /* epoch (8) | direction (1) | SPI (4) */

enum kx_type {
	KX_HELLO = 1,      /* u16 n_workers: first message of both sides */
	KX_PROPOSE,        /* u64 epoch, u16 n, u32 spis[n]: client's new inbound SPIs */
	KX_ACCEPT,         /* u64 epoch, u16 n, u32 spis[n]: server's new inbound SPIs */
	KX_REKEY_REQ,      /* u64 epoch: server asks the client to replace this epoch */
	KX_PING,           /* u64 nonce */
	KX_PONG,           /* u64 nonce (the PING's) */
	KX_CLOSE,          /* u8 reason, text */
	KX_TYPE_MAX
};

/* Direction byte of the exporter context. */
enum kx_dir {
	KX_DIR_C2S = 0,
	KX_DIR_S2C = 1,
};

enum kx_close {
	KX_CLOSE_SHUTDOWN = 0,
	KX_CLOSE_RESET,
	KX_CLOSE_CERT,
	KX_CLOSE_PROTOCOL,
	KX_CLOSE_REPLACED,
	KX_CLOSE_TIMEOUT,
	KX_CLOSE_INTERNAL,
	KX_CLOSE_MAX
};

struct kx_msg {
	uint8_t type;
	uint16_t workers;                 /* HELLO */
	uint64_t epoch;                   /* PROPOSE, ACCEPT, REKEY_REQ */
	uint64_t nonce;                   /* PING, PONG */
	unsigned int n;                   /* PROPOSE, ACCEPT */
	uint32_t spis[SP_KEYX_MAX_SAS];
	uint8_t code;                     /* CLOSE */
	char text[KX_CLOSE_TEXT_MAX + 1]; /* CLOSE, printable ASCII */
};

/*
 * Decode the first message of buf[0..len). @return its length (> 0), 0 when more bytes are
 * needed, or -EBADMSG with why filled (version, type, length, field values).
 */
int kx_msg_decode(const uint8_t *buf, size_t len, struct kx_msg *m, char *why, size_t wlen);
/* @return the encoded length, or -EINVAL (fields out of range) / -ENOSPC. */
int kx_msg_encode(const struct kx_msg *m, uint8_t *buf, size_t len);
const char *kx_type_name(unsigned int type);
const char *kx_close_name(unsigned int code);
/* The exporter context of one SA's key: epoch | dir | SPI, big endian. */
void kx_context(uint8_t out[KX_CONTEXT_LEN], uint64_t epoch, enum kx_dir dir, uint32_t spi);

/* ---- session: the protocol over one verified TLS session ---- */

enum kx_event {
	KX_EV_UP = 0,      /* the peer's HELLO arrived */
	KX_EV_REKEY,       /* a rekey started (we proposed, or asked for one) */
	KX_EV_EPOCH,       /* a new epoch is active */
};

/* What a session needs from its transport. */
struct kx_io {
	/* queue bytes for the peer; @return 0 or -ENOBUFS */
	int (*send)(void *ctx, const uint8_t *buf, size_t len);
	/* the key of (epoch, dir, spi) from the TLS exporter; @return 0 or -EIO */
	int (*derive)(void *ctx, uint64_t epoch, enum kx_dir dir, uint32_t spi,
		      struct sp_crypto_key *out);
	void (*event)(void *ctx, enum kx_event ev);
	void *ctx;
};

/* Settings shared by an instance's sessions. */
struct kx_env {
	const struct sp_keyx_sa_ops *ops;
	void *arg;
	unsigned int n_workers;
	enum sp_crypto_alg alg;
	uint32_t dpd_interval_ms;
	uint32_t dpd_timeout_ms;
	uint32_t drain_ms;
	uint64_t soft_ms;            /* time-based rekey after this (jittered), 0: none */
};

enum kx_sstate {
	KX_S_HELLO = 0,   /* waiting for the peer's HELLO */
	KX_S_KEYING,      /* first epoch being set up */
	KX_S_READY,       /* an epoch is active */
	KX_S_MAX
};

#define KX_AUTO_REKEY_MIN_MS 1000 /* rekey_wanted() cannot start rekeys faster than this */

struct kx_sess {
	const struct kx_env *env;
	struct kx_io io;
	unsigned int peer;
	bool client;
	enum kx_sstate st;
	unsigned int peer_workers;
	uint64_t epoch;              /* active, 0 none */
	uint64_t pending;            /* client: PROPOSE in flight for it, 0 none */
	uint64_t pending_since_ms;
	uint64_t keying_since_ms;    /* the peer's HELLO */
	uint64_t draining;           /* previous epoch, retired at drain_due_ms; 0 none */
	uint64_t drain_due_ms;
	uint64_t next_rekey_ms;      /* time-based; 0 none */
	uint64_t last_auto_rekey_ms;
	uint64_t rekey_req_epoch;    /* server: REKEY_REQ already sent for this epoch */
	uint64_t last_rx_ms;
	uint64_t next_ping_ms;
	uint64_t ping_nonce;         /* last PING sent */
	bool sas;                    /* SAs were installed: flush when the session ends */
	size_t rx_len;
	uint8_t rx[KX_MSG_MAX];
};

void kx_sess_init(struct kx_sess *s, const struct kx_env *env, const struct kx_io *io,
		  unsigned int peer, bool client, uint64_t now_ms);
/* Send our HELLO. @return 0 or -ENOBUFS. */
int kx_sess_start(struct kx_sess *s);
/*
 * Bytes from the peer. @return 0; -EBADMSG (garbled or out of state), -ECONNRESET (the peer
 * sent CLOSE), -EIO (an SA operation or the exporter failed), -ENOBUFS (send queue full).
 * why says what (one line). After an error the session is finished.
 */
int kx_sess_feed(struct kx_sess *s, const uint8_t *data, size_t len, uint64_t now_ms,
		 char *why, size_t wlen);
/* Timers: PING, dead peer (-ETIMEDOUT), drain, time and SA-driven rekeys. */
int kx_sess_tick(struct kx_sess *s, uint64_t now_ms, char *why, size_t wlen);
/* Rekey now: -ENOTCONN (no epoch yet), -EBUSY (in flight), or as kx_sess_feed. */
int kx_sess_rekey(struct kx_sess *s, uint64_t now_ms, char *why, size_t wlen);
/* Queue a CLOSE (best effort). */
void kx_sess_close(struct kx_sess *s, enum kx_close code, const char *text);

/* ---- instance ---- */

struct kx_conn;
struct sp_keyx;

struct kx_peer {
	struct sp_keyx *k;
	unsigned int idx;
	bool keyed;
	bool client;                 /* we connect */
	const struct sp_conf_peer *conf;
	struct sp_ip local;
	SSL_CTX *ctx;                /* client or server context expecting conf->identity */
	struct kx_conn *conn;        /* the session, or the client's attempt */
	struct kx_conn *incoming;    /* server: a new connection in its TLS handshake */
	uint64_t next_connect_ms;    /* client */
	uint32_t backoff_ms;
	X509 *leaf;                  /* the peer's certificate of the session */
	STACK_OF(X509) *chain;       /* its verified chain (leaf first) */
	time_t leaf_not_after;
	uint32_t logged;             /* refusal causes logged since the last session */
	bool down_logged;
	bool bad_logged;
	bool refused;                /* status is "refused": retries do not show as progress */
	struct sp_keyx_counters cnt;
};

struct sp_keyx {
	struct sp_ctl *ctl;
	struct sp_certd *certd;
	struct sp_certd_material *mat;    /* what the contexts were built from */
	struct sp_conf_tunnels tun;
	struct kx_env env;
	char netns[64];
	int tick;
	unsigned int n_peers;
	struct kx_peer peers[SP_CONF_MAX_PEERS];
	unsigned int n_listen;
	int lfd[SP_CONF_MAX_PEERS];
	struct sp_keyx_counters cnt;      /* unknown-peer refusals */
	struct sp_ip unknown_logged[8];   /* sources already logged as unknown */
	unsigned int n_unknown_logged;
	bool destroying;
};

/* keyx.c */
void kx_status(struct kx_peer *p, const char *state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A peer's certificate (or ours, by the peer) was refused: count, log once, status. */
void kx_refused(struct kx_peer *p, enum sp_keyx_refusal cause, const char *detail,
		bool status);
/* A connection or session ended for a non-certificate reason: status down, log once. */
void kx_down(struct kx_peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kx_session_up(struct kx_peer *p, struct kx_conn *c);
void kx_session_event(struct kx_peer *p, enum kx_event ev);
/* Next attempt of a client peer after a failure (back-off). */
void kx_schedule_retry(struct kx_peer *p, bool reset);

/* conn.c */
int kx_listen_start(struct sp_keyx *k, char *err, size_t errlen);
void kx_listen_stop(struct sp_keyx *k);
int kx_connect(struct kx_peer *p, char *err, size_t errlen);
/* Drop a connection: CLOSE (code >= 0) when it carries a session, flush when SAs were
 * installed, free. Does not set the status. */
void kx_conn_drop(struct kx_conn *c, int code, const char *text);
void kx_conn_tick(struct kx_conn *c, uint64_t now_ms);
bool kx_conn_up(const struct kx_conn *c);
struct kx_sess *kx_conn_sess(const struct kx_conn *c);
const char *kx_conn_cipher(const struct kx_conn *c);
/* After kx_sess_* queued something: write it out; tears the connection down on error. */
void kx_conn_flush(struct kx_conn *c);
/* Handle a kx_sess_* error: count, close, flush, status. */
void kx_conn_fail(struct kx_conn *c, int rc, const char *why);

#endif
