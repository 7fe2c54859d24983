/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The key exchange protocol: message coding and the state machine of one session. No TLS and
 * no sockets here: the transport hands in bytes and time, and lends a send queue and the TLS
 * exporter (struct kx_io), so the fuzzer can drive all of it.
 *
 * Flow of an epoch (client = the side that connected):
 *   client: allocate its inbound SPIs (n = server's workers), install inbound SAs, PROPOSE
 *   server: install its inbound SAs (n = client's workers) and outbound SAs to the client's
 *           SPIs, activate (the client's inbound exist already), ACCEPT
 *   client: install outbound SAs to the server's SPIs, activate
 * Both retire the previous epoch drain_ms after activating the new one: make-before-break.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "keyx_private.h"

/* ---- coding ---- */

static const char *const type_names[KX_TYPE_MAX] = {
	[KX_HELLO] = "HELLO", [KX_PROPOSE] = "PROPOSE", [KX_ACCEPT] = "ACCEPT",
	[KX_REKEY_REQ] = "REKEY_REQ", [KX_PING] = "PING", [KX_PONG] = "PONG",
	[KX_CLOSE] = "CLOSE",
};

static const char *const close_names[KX_CLOSE_MAX] = {
	[KX_CLOSE_SHUTDOWN] = "shutdown", [KX_CLOSE_RESET] = "reset by operator",
	[KX_CLOSE_CERT] = "certificate refused", [KX_CLOSE_PROTOCOL] = "protocol error",
	[KX_CLOSE_REPLACED] = "replaced by a new session", [KX_CLOSE_TIMEOUT] = "timed out",
	[KX_CLOSE_INTERNAL] = "internal error",
};

const char *
kx_type_name(unsigned int type)
{
	return type > 0 && type < KX_TYPE_MAX ? type_names[type] : "?";
}

const char *
kx_close_name(unsigned int code)
{
	return code < KX_CLOSE_MAX ? close_names[code] : "unknown reason";
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

void
kx_context(uint8_t out[KX_CONTEXT_LEN], uint64_t epoch, enum kx_dir dir, uint32_t spi)
{
	put64(out, epoch);
	out[8] = (uint8_t)dir;
	put32(out + 9, spi);
}

/* Body lengths a type allows, known from the header alone (no waiting for a long body). */
static bool
length_ok(unsigned int type, size_t blen)
{
	switch (type) {
	case KX_HELLO:
		return blen == 2;
	case KX_PROPOSE:
	case KX_ACCEPT:
		return blen >= 10 + 4 && blen <= 10 + 4 * SP_KEYX_MAX_SAS && (blen - 10) % 4 == 0;
	case KX_REKEY_REQ:
	case KX_PING:
	case KX_PONG:
		return blen == 8;
	case KX_CLOSE:
		return blen >= 1 && blen <= 1 + KX_CLOSE_TEXT_MAX;
	default:
		return false;
	}
}

static int
bad(char *why, size_t wlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
bad(char *why, size_t wlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, wlen, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

int
kx_msg_decode(const uint8_t *buf, size_t len, struct kx_msg *m, char *why, size_t wlen)
{
	const uint8_t *b = buf + KX_HDR_LEN;
	unsigned int type, i, j;
	size_t blen;

	if (len < KX_HDR_LEN)
		return 0;
	if (buf[0] != SP_KEYX_VERSION)
		return bad(why, wlen, "version %u (we speak %u)", buf[0], SP_KEYX_VERSION);
	type = buf[1];
	blen = get16(buf + 2);
	if (type == 0 || type >= KX_TYPE_MAX)
		return bad(why, wlen, "unknown message type %u", type);
	if (blen > KX_BODY_MAX || !length_ok(type, blen))
		return bad(why, wlen, "%s with a body of %zu bytes", kx_type_name(type), blen);
	if (len < KX_HDR_LEN + blen)
		return 0;
	memset(m, 0, sizeof(*m));
	m->type = (uint8_t)type;
	switch (type) {
	case KX_HELLO:
		m->workers = get16(b);
		if (m->workers == 0 || m->workers > SP_KEYX_MAX_SAS)
			return bad(why, wlen, "HELLO with %u workers (1..%u)", m->workers,
				   SP_KEYX_MAX_SAS);
		break;
	case KX_PROPOSE:
	case KX_ACCEPT:
		m->epoch = get64(b);
		m->n = get16(b + 8);
		if (m->epoch == 0)
			return bad(why, wlen, "%s of epoch 0", kx_type_name(type));
		if (m->n != (blen - 10) / 4)
			return bad(why, wlen, "%s says %u SPIs in %zu bytes", kx_type_name(type),
				   m->n, blen);
		for (i = 0; i < m->n; i++) {
			m->spis[i] = get32(b + 10 + 4 * i);
			if (m->spis[i] < KX_SPI_MIN)
				return bad(why, wlen, "%s with reserved SPI %u", kx_type_name(type),
					   m->spis[i]);
			for (j = 0; j < i; j++)
				if (m->spis[j] == m->spis[i])
					return bad(why, wlen, "%s with SPI 0x%08x twice",
						   kx_type_name(type), m->spis[i]);
		}
		break;
	case KX_REKEY_REQ:
		m->epoch = get64(b);
		break;
	case KX_PING:
	case KX_PONG:
		m->nonce = get64(b);
		break;
	case KX_CLOSE:
		m->code = b[0];
		for (i = 0; i + 1 < blen; i++)
			m->text[i] = b[1 + i] >= 0x20 && b[1 + i] < 0x7f ? (char)b[1 + i] : '?';
		m->text[i] = '\0';
		break;
	}
	return (int)(KX_HDR_LEN + blen);
}

int
kx_msg_encode(const struct kx_msg *m, uint8_t *buf, size_t len)
{
	uint8_t *b = buf + KX_HDR_LEN;
	size_t blen, tl;
	unsigned int i;

	switch (m->type) {
	case KX_HELLO:
		blen = 2;
		break;
	case KX_PROPOSE:
	case KX_ACCEPT:
		if (m->n == 0 || m->n > SP_KEYX_MAX_SAS)
			return -EINVAL;
		blen = 10 + 4 * (size_t)m->n;
		break;
	case KX_REKEY_REQ:
	case KX_PING:
	case KX_PONG:
		blen = 8;
		break;
	case KX_CLOSE:
		tl = strnlen(m->text, KX_CLOSE_TEXT_MAX);
		blen = 1 + tl;
		break;
	default:
		return -EINVAL;
	}
	if (len < KX_HDR_LEN + blen)
		return -ENOSPC;
	buf[0] = SP_KEYX_VERSION;
	buf[1] = m->type;
	put16(buf + 2, (uint16_t)blen);
	switch (m->type) {
	case KX_HELLO:
		put16(b, m->workers);
		break;
	case KX_PROPOSE:
	case KX_ACCEPT:
		put64(b, m->epoch);
		put16(b + 8, (uint16_t)m->n);
		for (i = 0; i < m->n; i++)
			put32(b + 10 + 4 * i, m->spis[i]);
		break;
	case KX_REKEY_REQ:
		put64(b, m->epoch);
		break;
	case KX_PING:
	case KX_PONG:
		put64(b, m->nonce);
		break;
	case KX_CLOSE:
		b[0] = m->code;
		memcpy(b + 1, m->text, blen - 1);
		break;
	}
	return (int)(KX_HDR_LEN + blen);
}

/* ---- session ---- */

/* Which messages each state accepts, for the client (we connected) and the server. */
#define T(t) (1u << (t))
static const uint32_t accepts[KX_S_MAX][2] = {
	/*               server                                 client */
	[KX_S_HELLO] = { T(KX_HELLO) | T(KX_CLOSE), T(KX_HELLO) | T(KX_CLOSE) },
	[KX_S_KEYING] = { T(KX_PROPOSE) | T(KX_PING) | T(KX_PONG) | T(KX_CLOSE),
			  T(KX_ACCEPT) | T(KX_PING) | T(KX_PONG) | T(KX_CLOSE) },
	[KX_S_READY] = { T(KX_PROPOSE) | T(KX_PING) | T(KX_PONG) | T(KX_CLOSE),
			 T(KX_ACCEPT) | T(KX_REKEY_REQ) | T(KX_PING) | T(KX_PONG) | T(KX_CLOSE) },
};
#undef T

static const char *const state_names[KX_S_MAX] = {
	[KX_S_HELLO] = "waiting for HELLO", [KX_S_KEYING] = "keying the first epoch",
	[KX_S_READY] = "established",
};

void
kx_sess_init(struct kx_sess *s, const struct kx_env *env, const struct kx_io *io,
	     unsigned int peer, bool client, uint64_t now_ms)
{
	memset(s, 0, sizeof(*s));
	s->env = env;
	s->io = *io;
	s->peer = peer;
	s->client = client;
	s->st = KX_S_HELLO;
	s->last_rx_ms = now_ms;
	s->next_ping_ms = now_ms + env->dpd_interval_ms;
}

static int
send_msg(struct kx_sess *s, const struct kx_msg *m)
{
	uint8_t buf[KX_MSG_MAX];
	int n = kx_msg_encode(m, buf, sizeof(buf));

	if (n < 0)
		return n;
	return s->io.send(s->io.ctx, buf, (size_t)n);
}

static void
event(struct kx_sess *s, enum kx_event ev)
{
	if (s->io.event != NULL)
		s->io.event(s->io.ctx, ev);
}

int
kx_sess_start(struct kx_sess *s)
{
	struct kx_msg m = { .type = KX_HELLO, .workers = (uint16_t)s->env->n_workers };

	return send_msg(s, &m);
}

void
kx_sess_close(struct kx_sess *s, enum kx_close code, const char *text)
{
	struct kx_msg m = { .type = KX_CLOSE, .code = (uint8_t)code };

	snprintf(m.text, sizeof(m.text), "%s", text != NULL ? text : "");
	send_msg(s, &m);
}

/* Keys of n SAs of one epoch and direction; wiped by the caller on every path. */
static int
derive(struct kx_sess *s, uint64_t epoch, enum kx_dir dir, const uint32_t *spis, unsigned int n,
       struct sp_crypto_key *keys, char *why, size_t wlen)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (s->io.derive(s->io.ctx, epoch, dir, spis[i], &keys[i]) < 0) {
			snprintf(why, wlen, "TLS exporter failed for epoch %llu",
				 (unsigned long long)epoch);
			return -EIO;
		}
	return 0;
}

/* Install one half of an epoch: keys derived, handed over, wiped. */
static int
install(struct kx_sess *s, bool inbound, uint64_t epoch, enum kx_dir dir, const uint32_t *spis,
	unsigned int n, char *why, size_t wlen)
{
	const struct sp_keyx_sa_ops *ops = s->env->ops;
	struct sp_crypto_key keys[SP_KEYX_MAX_SAS];
	char err[256] = "";
	int rc;

	rc = derive(s, epoch, dir, spis, n, keys, why, wlen);
	if (rc == 0) {
		s->sas = true;
		rc = (inbound ? ops->add_inbound : ops->add_outbound)(s->env->arg, s->peer, epoch,
								      spis, keys, n, err,
								      sizeof(err));
		if (rc < 0) {
			snprintf(why, wlen, "epoch %llu: %s SAs: %s", (unsigned long long)epoch,
				 inbound ? "inbound" : "outbound", err[0] ? err : strerror(-rc));
			rc = -EIO;
		}
	}
	OPENSSL_cleanse(keys, sizeof(keys));
	return rc;
}

static uint64_t
jittered_soft(const struct kx_env *env)
{
	uint32_t r = 0;

	if (env->soft_ms == 0)
		return 0;
	/* up to 5% early, so that a mesh of peers keyed together does not rekey in lockstep */
	RAND_bytes((unsigned char *)&r, sizeof(r));
	return env->soft_ms - (env->soft_ms / 20) * (r % 1000) / 1000;
}

/* Epoch e is active now: the previous one drains, the one before it goes at once. */
static int
activated(struct kx_sess *s, uint64_t e, uint64_t now_ms, char *why, size_t wlen)
{
	const struct sp_keyx_sa_ops *ops = s->env->ops;
	uint64_t soft = jittered_soft(s->env);
	int rc = ops->activate(s->env->arg, s->peer, e);

	if (rc < 0) {
		snprintf(why, wlen, "epoch %llu: activate: %s", (unsigned long long)e,
			 strerror(-rc));
		return -EIO;
	}
	if (s->draining != 0)
		ops->retire(s->env->arg, s->peer, s->draining);
	s->draining = s->epoch;
	s->drain_due_ms = now_ms + s->env->drain_ms;
	s->epoch = e;
	s->st = KX_S_READY;
	s->next_rekey_ms = soft != 0 ? now_ms + soft : 0;
	event(s, KX_EV_EPOCH);
	return 0;
}

/* Client: new inbound SAs for epoch + 1, then PROPOSE them. */
static int
propose(struct kx_sess *s, uint64_t now_ms, char *why, size_t wlen)
{
	struct kx_msg m = { .type = KX_PROPOSE, .epoch = s->epoch + 1, .n = s->peer_workers };
	int rc;

	rc = s->env->ops->spi_alloc(s->env->arg, m.spis, m.n);
	if (rc < 0) {
		snprintf(why, wlen, "no free SPI for epoch %llu: %s", (unsigned long long)m.epoch,
			 strerror(-rc));
		return -EIO;
	}
	rc = install(s, true, m.epoch, KX_DIR_S2C, m.spis, m.n, why, wlen);
	if (rc < 0)
		return rc;
	s->pending = m.epoch;
	s->pending_since_ms = now_ms;
	if (m.epoch > 1)
		event(s, KX_EV_REKEY);
	return send_msg(s, &m);
}

/* Server: the client's inbound SAs exist; ours, then send to its SPIs, then ACCEPT. */
static int
on_propose(struct kx_sess *s, const struct kx_msg *m, uint64_t now_ms, char *why, size_t wlen)
{
	struct kx_msg a = { .type = KX_ACCEPT, .epoch = m->epoch, .n = s->peer_workers };
	int rc;

	if (m->epoch != s->epoch + 1)
		return bad(why, wlen, "PROPOSE of epoch %llu, expected %llu",
			   (unsigned long long)m->epoch, (unsigned long long)s->epoch + 1);
	if (m->n != s->env->n_workers)
		return bad(why, wlen, "PROPOSE with %u SPIs, we send on %u", m->n,
			   s->env->n_workers);
	rc = s->env->ops->spi_alloc(s->env->arg, a.spis, a.n);
	if (rc < 0) {
		snprintf(why, wlen, "no free SPI for epoch %llu: %s", (unsigned long long)a.epoch,
			 strerror(-rc));
		return -EIO;
	}
	rc = install(s, true, a.epoch, KX_DIR_C2S, a.spis, a.n, why, wlen);
	if (rc == 0)
		rc = install(s, false, a.epoch, KX_DIR_S2C, m->spis, m->n, why, wlen);
	if (rc == 0)
		rc = activated(s, a.epoch, now_ms, why, wlen);
	if (rc < 0)
		return rc;
	return send_msg(s, &a);
}

/* Client: the server's inbound SAs exist; send to them. */
static int
on_accept(struct kx_sess *s, const struct kx_msg *m, uint64_t now_ms, char *why, size_t wlen)
{
	int rc;

	if (s->pending == 0 || m->epoch != s->pending)
		return bad(why, wlen, "ACCEPT of epoch %llu, %s %llu",
			   (unsigned long long)m->epoch,
			   s->pending != 0 ? "proposed" : "nothing proposed, active",
			   (unsigned long long)(s->pending != 0 ? s->pending : s->epoch));
	if (m->n != s->env->n_workers)
		return bad(why, wlen, "ACCEPT with %u SPIs, we send on %u", m->n,
			   s->env->n_workers);
	rc = install(s, false, m->epoch, KX_DIR_C2S, m->spis, m->n, why, wlen);
	if (rc < 0)
		return rc;
	s->pending = 0;
	return activated(s, m->epoch, now_ms, why, wlen);
}

static int
handle(struct kx_sess *s, const struct kx_msg *m, uint64_t now_ms, char *why, size_t wlen)
{
	struct kx_msg r = { 0 };

	if (!(accepts[s->st][s->client] & (1u << m->type)))
		return bad(why, wlen, "%s not valid %s (%s)", kx_type_name(m->type),
			   s->client ? "from a server" : "from a client", state_names[s->st]);
	s->last_rx_ms = now_ms;
	switch (m->type) {
	case KX_HELLO:
		s->peer_workers = m->workers;
		s->st = KX_S_KEYING;
		s->keying_since_ms = now_ms;
		event(s, KX_EV_UP);
		return s->client ? propose(s, now_ms, why, wlen) : 0;
	case KX_PROPOSE:
		return on_propose(s, m, now_ms, why, wlen);
	case KX_ACCEPT:
		return on_accept(s, m, now_ms, why, wlen);
	case KX_REKEY_REQ:
		/* TCP keeps order: the server's epoch is ours unless ours is still proposed */
		if (m->epoch != s->epoch)
			return bad(why, wlen, "REKEY_REQ of epoch %llu, active %llu",
				   (unsigned long long)m->epoch, (unsigned long long)s->epoch);
		return s->pending != 0 ? 0 : propose(s, now_ms, why, wlen);
	case KX_PING:
		r.type = KX_PONG;
		r.nonce = m->nonce;
		return send_msg(s, &r);
	case KX_PONG:
		if (m->nonce == 0 || m->nonce > s->ping_nonce)
			return bad(why, wlen, "PONG %llu to no PING of ours (last %llu)",
				   (unsigned long long)m->nonce,
				   (unsigned long long)s->ping_nonce);
		return 0;
	case KX_CLOSE:
		snprintf(why, wlen, "closed by the peer: %s%s%s", kx_close_name(m->code),
			 m->text[0] ? ": " : "", m->text);
		return -ECONNRESET;
	}
	return bad(why, wlen, "unknown message type %u", m->type);
}

int
kx_sess_feed(struct kx_sess *s, const uint8_t *data, size_t len, uint64_t now_ms, char *why,
	     size_t wlen)
{
	while (len > 0) {
		size_t take = sizeof(s->rx) - s->rx_len, off = 0;

		if (take > len)
			take = len;
		memcpy(s->rx + s->rx_len, data, take);
		s->rx_len += take;
		data += take;
		len -= take;
		for (;;) {
			struct kx_msg m;
			int n = kx_msg_decode(s->rx + off, s->rx_len - off, &m, why, wlen);
			int rc;

			if (n == 0)
				break;
			if (n < 0)
				return n;
			off += (size_t)n;
			rc = handle(s, &m, now_ms, why, wlen);
			if (rc < 0)
				return rc;
		}
		memmove(s->rx, s->rx + off, s->rx_len - off);
		s->rx_len -= off;
	}
	return 0;
}

int
kx_sess_rekey(struct kx_sess *s, uint64_t now_ms, char *why, size_t wlen)
{
	struct kx_msg m = { .type = KX_REKEY_REQ };
	int rc;

	if (s->st != KX_S_READY) {
		snprintf(why, wlen, "no epoch yet");
		return -ENOTCONN;
	}
	if (s->client) {
		if (s->pending != 0) {
			snprintf(why, wlen, "epoch %llu is being proposed",
				 (unsigned long long)s->pending);
			return -EBUSY;
		}
		return propose(s, now_ms, why, wlen);
	}
	if (s->rekey_req_epoch == s->epoch) {
		snprintf(why, wlen, "rekey of epoch %llu already asked for",
			 (unsigned long long)s->epoch);
		return -EBUSY;
	}
	m.epoch = s->epoch;
	rc = send_msg(s, &m);
	if (rc == 0) {
		s->rekey_req_epoch = s->epoch;
		event(s, KX_EV_REKEY);
	}
	return rc;
}

int
kx_sess_tick(struct kx_sess *s, uint64_t now_ms, char *why, size_t wlen)
{
	const struct kx_env *env = s->env;
	bool hard = false, due;
	int rc;

	if (now_ms - s->last_rx_ms >= env->dpd_timeout_ms) {
		snprintf(why, wlen, "dead peer: nothing received for %llu ms",
			 (unsigned long long)(now_ms - s->last_rx_ms));
		return -ETIMEDOUT;
	}
	/* a peer that answers PINGs but never keys must not hold the session forever */
	if (s->st == KX_S_KEYING && now_ms - s->keying_since_ms >= env->dpd_timeout_ms) {
		snprintf(why, wlen, "no epoch keyed within %u ms of the HELLO", env->dpd_timeout_ms);
		return -ETIMEDOUT;
	}
	if (s->pending != 0 && now_ms - s->pending_since_ms >= env->dpd_timeout_ms) {
		snprintf(why, wlen, "no ACCEPT of epoch %llu within %u ms",
			 (unsigned long long)s->pending, env->dpd_timeout_ms);
		return -ETIMEDOUT;
	}
	if (now_ms >= s->next_ping_ms) {
		struct kx_msg m = { .type = KX_PING, .nonce = ++s->ping_nonce };

		s->next_ping_ms = now_ms + env->dpd_interval_ms;
		rc = send_msg(s, &m);
		if (rc < 0) {
			snprintf(why, wlen, "send queue full");
			return rc;
		}
	}
	if (s->draining != 0 && now_ms >= s->drain_due_ms) {
		env->ops->retire(env->arg, s->peer, s->draining);
		s->draining = 0;
	}
	if (s->st != KX_S_READY)
		return 0;
	due = s->next_rekey_ms != 0 && now_ms >= s->next_rekey_ms;
	if (!due && env->ops->rekey_wanted != NULL &&
	    now_ms - s->last_auto_rekey_ms >= KX_AUTO_REKEY_MIN_MS)
		due = env->ops->rekey_wanted(env->arg, s->peer, &hard);
	if (!due)
		return 0;
	s->last_auto_rekey_ms = now_ms;
	s->next_rekey_ms = 0;
	rc = kx_sess_rekey(s, now_ms, why, wlen);
	return rc == -EBUSY ? 0 : rc;
}
