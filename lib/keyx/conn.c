/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sockets and TLS of the key exchange: the connecting side's non-blocking connect, the
 * listeners and accepted connections, the TLS 1.3 handshake, and the byte pipe between a TLS
 * session and its protocol session (proto.c). Everything is driven by sp_ctl fd events and the
 * instance's tick; a connection that makes no progress is dropped at its deadline.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "keyx_private.h"
#include "sp_ctl.h"
#include "sp_pki.h"

#define KX_OUT_MAX 8192           /* queued bytes to a peer that does not read: ~100 PINGs */
#define KX_LISTEN_BACKLOG 16

enum conn_state { C_CONNECT = 0, C_TLS, C_UP };

struct kx_conn {
	struct kx_peer *p;
	int fd;
	SSL *ssl;
	uint32_t ev;
	enum conn_state st;
	bool incoming;
	bool hello;                  /* the peer's HELLO arrived: a session */
	int alert;                   /* fatal TLS alert received from the peer, -1 none */
	uint64_t deadline_ms;        /* connect, TLS and HELLO must be done by then */
	struct kx_sess sess;
	size_t out_len;
	uint8_t out[KX_OUT_MAX];
};

static void conn_drive(struct kx_conn *c);

static socklen_t
to_sockaddr(const struct sp_ip *ip, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, &ip->v4, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, ip->v6, 16);
	return sizeof(*sin6);
}

static int
from_sockaddr(const struct sockaddr_storage *ss, struct sp_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (ss->ss_family == AF_INET) {
		sp_ip_from_v4(ip, ((const struct sockaddr_in *)ss)->sin_addr.s_addr);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		/* a v4-mapped source on a dual-stack socket is the IPv4 peer */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			uint32_t v4;

			memcpy(&v4, s6->sin6_addr.s6_addr + 12, 4);
			sp_ip_from_v4(ip, v4);
		} else {
			sp_ip_from_v6(ip, s6->sin6_addr.s6_addr);
		}
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* ---- connection objects ---- */

static void
on_event(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	conn_drive(arg);
}

static int
want(struct kx_conn *c, uint32_t ev)
{
	struct sp_ctl *ctl = c->p->k->ctl;

	if (c->ev == ev)
		return 0;
	if (c->ev != 0)
		sp_ctl_del_fd(ctl, c->fd);
	c->ev = ev;
	return sp_ctl_add_fd(ctl, c->fd, ev, on_event, c);
}

static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct kx_conn *c = SSL_get_app_data(ssl);

	/* the alert's level is the high byte: 2 = fatal (close_notify is a warning); alerts we
	 * send come here too, with SSL_CB_WRITE */
	if (c != NULL && (where & SSL_CB_ALERT) && (where & SSL_CB_READ) &&
	    (ret >> 8) == SSL3_AL_FATAL)
		c->alert = ret & 0xff;
}

static struct kx_conn *
conn_new(struct kx_peer *p, int fd, bool incoming)
{
	struct kx_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->p = p;
	c->fd = fd;
	c->incoming = incoming;
	c->alert = -1;
	c->st = incoming ? C_TLS : C_CONNECT;
	c->deadline_ms = sp_ctl_now_ms() + p->k->env.dpd_timeout_ms;
	c->ssl = SSL_new(p->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	SSL_set_app_data(c->ssl, c);
	SSL_set_info_callback(c->ssl, info_cb);
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (incoming)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	return c;
}

static void
conn_free(struct kx_conn *c)
{
	struct kx_peer *p = c->p;

	if (c->ev != 0)
		sp_ctl_del_fd(p->k->ctl, c->fd);
	close(c->fd);
	SSL_free(c->ssl);
	ERR_clear_error();
	if (p->incoming == c)
		p->incoming = NULL;
	if (p->conn == c) {
		p->conn = NULL;
		X509_free(p->leaf);
		sk_X509_pop_free(p->chain, X509_free);
		p->leaf = NULL;
		p->chain = NULL;
	}
	/* nothing secret lives here (keys stay inside SSL, freed above), but be tidy */
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void
kx_conn_drop(struct kx_conn *c, int code, const char *text)
{
	struct kx_peer *p = c->p;
	bool verified = c->st == C_UP;

	if (verified && code >= 0) {
		/* one write attempt: the CLOSE is a courtesy, the peer's DPD covers its loss */
		kx_sess_close(&c->sess, (enum kx_close)code, text);
		if (SSL_write(c->ssl, c->out, (int)c->out_len) > 0)
			SSL_shutdown(c->ssl);
	}
	if (verified && c->hello)
		p->cnt.sessions_lost++;
	conn_free(c);
	/* a verified session may have installed SAs (or be about to): none may outlive it */
	if (verified)
		p->k->env.ops->flush(p->k->env.arg, p->idx);
}

bool
kx_conn_up(const struct kx_conn *c)
{
	return c != NULL && c->st == C_UP;
}

struct kx_sess *
kx_conn_sess(const struct kx_conn *c)
{
	return (struct kx_sess *)&c->sess;
}

const char *
kx_conn_cipher(const struct kx_conn *c)
{
	return SSL_get_cipher_name(c->ssl);
}

/* ---- session plumbing ---- */

static int
io_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct kx_conn *c = ctx;

	if (c->out_len + len > sizeof(c->out))
		return -ENOBUFS;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

static int
io_derive(void *ctx, uint64_t epoch, enum kx_dir dir, uint32_t spi, struct sp_crypto_key *out)
{
	struct kx_conn *c = ctx;
	size_t klen = c->p->k->env.alg == SP_CRYPTO_AES128_GCM ? 16 : 32;
	uint8_t context[KX_CONTEXT_LEN], km[32 + SP_CRYPTO_SALT_LEN];
	int ok;

	kx_context(context, epoch, dir, spi);
	ok = SSL_export_keying_material(c->ssl, km, klen + SP_CRYPTO_SALT_LEN,
					SP_KEYX_EXPORTER_LABEL, strlen(SP_KEYX_EXPORTER_LABEL),
					context, sizeof(context), 1);
	memset(out, 0, sizeof(*out));
	if (ok == 1) {
		out->alg = c->p->k->env.alg;
		memcpy(out->key, km, klen);
		memcpy(out->salt, km + klen, SP_CRYPTO_SALT_LEN);
	}
	OPENSSL_cleanse(km, sizeof(km));
	ERR_clear_error();
	return ok == 1 ? 0 : -EIO;
}

static void
io_event(void *ctx, enum kx_event ev)
{
	struct kx_conn *c = ctx;

	if (ev == KX_EV_UP)
		c->hello = true;
	kx_session_event(c->p, ev);
}

static const char *
ssl_reason(char *buf, size_t len, const char *dflt)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, len, "%s", dflt);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static enum sp_keyx_refusal
cause_of_x509(long vr)
{
	switch (vr) {
	case X509_V_ERR_CERT_REVOKED:
		return SP_KEYX_REFUSE_REVOKED;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return SP_KEYX_REFUSE_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return SP_KEYX_REFUSE_NOT_YET_VALID;
	case X509_V_ERR_APPLICATION_VERIFICATION:  /* certd's check of the SPIFFE ID */
		return SP_KEYX_REFUSE_WRONG_IDENTITY;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_CERT_UNTRUSTED:
		return SP_KEYX_REFUSE_UNKNOWN_CA;
	default:
		return SP_KEYX_REFUSE_BAD_CERT;
	}
}

/*
 * The TLS handshake failed, or the session died before the peer's HELLO: find out whose
 * certificate was refused and why.
 */
static void
handshake_failed(struct kx_conn *c, const char *what)
{
	struct kx_peer *p = c->p;
	long vr = SSL_get_verify_result(c->ssl);
	unsigned long e = ERR_peek_last_error();
	/* a stray handshake next to a live session changes neither its status nor its timer */
	bool quiet = c->incoming && p->conn != NULL && p->conn != c;
	char detail[320], reason[200];

	p->cnt.handshakes_failed++;
	if (vr != X509_V_OK) {
		snprintf(detail, sizeof(detail), "%s certificate: %s",
			 p->client ? "server" : "client", X509_verify_cert_error_string(vr));
		ERR_clear_error();
		kx_refused(p, cause_of_x509(vr), detail, !quiet);
	} else if (c->alert >= 0) {
		snprintf(detail, sizeof(detail), "the peer refused our certificate: TLS alert %s",
			 SSL_alert_desc_string_long(c->alert));
		ERR_clear_error();
		kx_refused(p, SP_KEYX_REFUSE_PEER_REJECTED, detail, !quiet);
	} else if (ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		ERR_clear_error();
		kx_refused(p, SP_KEYX_REFUSE_NO_CERT, "client sent no certificate", !quiet);
	} else {
		snprintf(detail, sizeof(detail), "TLS: %s", ssl_reason(reason, sizeof(reason), what));
		kx_refused(p, SP_KEYX_REFUSE_TLS, detail, !quiet);
	}
	kx_conn_drop(c, -1, NULL);
	if (!quiet)
		kx_schedule_retry(p, false);
}

/* The peer's certificate verified: this connection becomes the peer's session. */
static int
tls_done(struct kx_conn *c)
{
	struct kx_peer *p = c->p;
	struct kx_io io = { .send = io_send, .derive = io_derive, .event = io_event, .ctx = c };
	STACK_OF(X509) *vc = SSL_get0_verified_chain(c->ssl);
	X509 *leaf = SSL_get1_peer_certificate(c->ssl);
	time_t na = 0;

	if (leaf == NULL || vc == NULL ||
	    sp_pki_asn1_time(X509_get0_notAfter(leaf), &na) < 0) {
		X509_free(leaf);
		return -EPROTO;
	}
	if (c->incoming) {
		/* the peer came back (restarted, or its session died unseen): the new one wins */
		if (p->conn != NULL)
			kx_conn_drop(p->conn, KX_CLOSE_REPLACED, "a new session replaces this one");
		p->incoming = NULL;
		p->conn = c;
	}
	X509_free(p->leaf);
	sk_X509_pop_free(p->chain, X509_free);
	p->leaf = leaf;
	p->chain = X509_chain_up_ref(vc);
	p->leaf_not_after = na;
	c->st = C_UP;
	c->deadline_ms = sp_ctl_now_ms() + p->k->env.dpd_timeout_ms;
	kx_sess_init(&c->sess, &p->k->env, &io, p->idx, p->client, sp_ctl_now_ms());
	kx_status(p, "handshake", "%s verified, waiting for HELLO", p->conf->identity);
	return kx_sess_start(&c->sess);
}

void
kx_conn_fail(struct kx_conn *c, int rc, const char *why)
{
	struct kx_peer *p = c->p;
	bool had_session = c->hello;
	int code = KX_CLOSE_INTERNAL;

	switch (rc) {
	case -EBADMSG:
		p->cnt.bad_messages++;
		code = KX_CLOSE_PROTOCOL;
		if (!p->bad_logged)
			SP_LOG(keyx, WARNING, "peer %s: bad message: %s", p->conf->name, why);
		p->bad_logged = true;
		break;
	case -ECONNRESET:
		code = -1;
		break;
	case -ETIMEDOUT:
		p->cnt.dpd_timeouts++;
		code = KX_CLOSE_TIMEOUT;
		break;
	case -EIO:
		p->cnt.sa_failures++;
		break;
	default:
		break;
	}
	kx_conn_drop(c, code, why);
	if (rc == -EBADMSG)
		kx_down(p, "bad message: %s", why);
	else
		kx_down(p, "%s", why);
	/* a lost session comes back at the first back-off step: a restarted peer is quick */
	kx_schedule_retry(p, had_session);
}

/* A TCP close without close_notify: OpenSSL 3 reports it as an error of its own. */
static bool
closed_by_peer(int ssl_err)
{
	return ssl_err == SSL_ERROR_ZERO_RETURN || ssl_err == SSL_ERROR_SYSCALL ||
	       (ssl_err == SSL_ERROR_SSL &&
		ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
}

/* The stream ended or broke: before the peer's HELLO that is a failed handshake. */
static void
conn_lost(struct kx_conn *c, int ssl_err)
{
	char reason[200];

	if (!c->hello) {
		if (c->alert < 0 && closed_by_peer(ssl_err)) {
			ERR_clear_error();
			handshake_failed(c, "closed by the peer before its HELLO");
		} else {
			handshake_failed(c, "TLS error");
		}
		return;
	}
	if (closed_by_peer(ssl_err)) {
		ERR_clear_error();
		kx_conn_fail(c, -ECONNRESET, "connection closed by the peer");
	} else {
		char why[240];

		snprintf(why, sizeof(why), "TLS: %s", ssl_reason(reason, sizeof(reason), "error"));
		kx_conn_fail(c, -ECONNRESET, why);
	}
}

void
kx_conn_flush(struct kx_conn *c)
{
	while (c->out_len > 0) {
		int r = SSL_write(c->ssl, c->out, (int)c->out_len), e;

		if (r > 0) {
			memmove(c->out, c->out + r, c->out_len - (size_t)r);
			c->out_len -= (size_t)r;
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_WRITE) {
			if (want(c, EPOLLIN | EPOLLOUT) == 0)
				return;
		} else if (e == SSL_ERROR_WANT_READ) {
			if (want(c, EPOLLIN) == 0)
				return;
		}
		conn_lost(c, e);
		return;
	}
	if (want(c, EPOLLIN) < 0)
		kx_conn_fail(c, -ENOMEM, "cannot watch the connection");
}

static void
conn_read(struct kx_conn *c)
{
	uint8_t buf[4096];
	char why[320];

	for (;;) {
		int r = SSL_read(c->ssl, buf, sizeof(buf)), e, rc;

		if (r > 0) {
			rc = kx_sess_feed(&c->sess, buf, (size_t)r, sp_ctl_now_ms(), why,
					  sizeof(why));
			OPENSSL_cleanse(buf, (size_t)r);
			if (rc < 0)
				return kx_conn_fail(c, rc, why);
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			break;
		return conn_lost(c, e);
	}
	kx_conn_flush(c);
}

static void
conn_drive(struct kx_conn *c)
{
	struct kx_peer *p = c->p;
	int so = 0, r, e, rc;
	socklen_t sl = sizeof(so);

	switch (c->st) {
	case C_CONNECT:
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &sl);
		if (so != 0) {
			kx_conn_drop(c, -1, NULL);
			kx_down(p, "connect: %s", strerror(so));
			kx_schedule_retry(p, false);
			return;
		}
		c->st = C_TLS;
		kx_status(p, "handshake", "TLS with %s", p->conf->identity);
		/* fall through */
	case C_TLS:
		r = SSL_do_handshake(c->ssl);
		if (r != 1) {
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ && want(c, EPOLLIN) == 0)
				return;
			if (e == SSL_ERROR_WANT_WRITE && want(c, EPOLLOUT) == 0)
				return;
			return handshake_failed(c, "connection closed during the TLS handshake");
		}
		rc = tls_done(c);
		if (rc < 0)
			return handshake_failed(c, "no usable peer certificate");
		/* fall through */
	case C_UP:
		conn_read(c);
		return;
	}
}

void
kx_conn_tick(struct kx_conn *c, uint64_t now_ms)
{
	char why[320];
	int rc;

	if (!c->hello) {
		if (now_ms < c->deadline_ms)
			return;
		if (c->st == C_CONNECT) {
			struct kx_peer *p = c->p;

			kx_conn_drop(c, -1, NULL);
			kx_down(p, "connect: timed out");
			kx_schedule_retry(p, false);
			return;
		}
		ERR_clear_error();
		return handshake_failed(c, "handshake timed out");
	}
	rc = kx_sess_tick(&c->sess, now_ms, why, sizeof(why));
	if (rc < 0)
		return kx_conn_fail(c, rc, why);
	kx_conn_flush(c);
}

/* ---- connecting side ---- */

int
kx_connect(struct kx_peer *p, char *err, size_t errlen)
{
	struct sp_keyx *k = p->k;
	struct sockaddr_storage ss;
	struct kx_conn *c;
	socklen_t sl;
	int fd, one = 1, rc;

	fd = sp_ctl_socket_in_netns(k->netns, p->local.family, SOCK_STREAM | SOCK_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(-fd));
		return fd;
	}
	/* our address may still be tentative (IPv6 DAD) or not up yet */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	sl = to_sockaddr(&p->local, 0, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		rc = -errno;
		snprintf(err, errlen, "bind: %s", strerror(errno));
		close(fd);
		return rc;
	}
	sl = to_sockaddr(&p->conf->address, k->tun.port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		snprintf(err, errlen, "connect: %s", strerror(errno));
		close(fd);
		return rc;
	}
	c = conn_new(p, fd, false);
	if (c == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->conn = c;
	p->cnt.connects++;
	rc = want(c, EPOLLOUT);
	if (rc < 0) {
		kx_conn_drop(c, -1, NULL);
		snprintf(err, errlen, "watching the socket: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* ---- accepting side ---- */

static struct kx_peer *
match_peer(struct sp_keyx *k, const struct sp_ip *src, const struct sp_ip *dst)
{
	unsigned int i;

	for (i = 0; i < k->n_peers; i++) {
		struct kx_peer *p = &k->peers[i];

		if (p->keyed && !p->client && sp_ip_equal(&p->conf->address, src) &&
		    sp_ip_equal(&p->local, dst))
			return p;
	}
	return NULL;
}

static void
unknown_peer(struct sp_keyx *k, const struct sp_ip *src)
{
	char a[SP_IP_STRLEN];
	unsigned int i;

	k->cnt.refused[SP_KEYX_REFUSE_UNKNOWN_PEER]++;
	for (i = 0; i < k->n_unknown_logged; i++)
		if (sp_ip_equal(&k->unknown_logged[i], src))
			return;
	if (k->n_unknown_logged < RTE_DIM(k->unknown_logged))
		k->unknown_logged[k->n_unknown_logged++] = *src;
	sp_ip_format(src, a, sizeof(a), false);
	SP_LOG(keyx, WARNING, "connection from %s refused: no keyed peer with that address "
	       "connects to us", a);
}

static void
on_accept(int fd, uint32_t events, void *arg)
{
	struct sp_keyx *k = arg;

	(void)events;
	for (;;) {
		struct sockaddr_storage src, dst;
		socklen_t sl = sizeof(src), dl = sizeof(dst);
		struct sp_ip s_ip, d_ip;
		struct kx_peer *p;
		struct kx_conn *c;
		int cfd = accept4(fd, (struct sockaddr *)&src, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0)
			return;
		if (getsockname(cfd, (struct sockaddr *)&dst, &dl) < 0 ||
		    from_sockaddr(&src, &s_ip) < 0 || from_sockaddr(&dst, &d_ip) < 0) {
			close(cfd);
			continue;
		}
		p = match_peer(k, &s_ip, &d_ip);
		if (p == NULL || p->ctx == NULL) {
			unknown_peer(k, &s_ip);
			close(cfd);
			continue;
		}
		p->cnt.connects++;
		/* one handshake at a time per peer: the newest connection is the live one */
		if (p->incoming != NULL)
			kx_conn_drop(p->incoming, -1, NULL);
		c = conn_new(p, cfd, true);
		if (c == NULL) {
			close(cfd);
			continue;
		}
		p->incoming = c;
		if (p->conn == NULL)
			kx_status(p, "handshake", "TLS with %s", p->conf->identity);
		conn_drive(c);
	}
}

int
kx_listen_start(struct sp_keyx *k, char *err, size_t errlen)
{
	unsigned int i, j;

	for (i = 0; i < k->n_peers; i++) {
		const struct sp_ip *a = &k->peers[i].local;
		struct sockaddr_storage ss;
		char as[SP_IP_STRLEN];
		int fd, one = 1, rc;
		socklen_t sl;

		if (!k->peers[i].keyed || k->peers[i].client)
			continue;
		for (j = 0; j < i; j++)
			if (k->peers[j].keyed && !k->peers[j].client &&
			    sp_ip_equal(&k->peers[j].local, a))
				break;
		if (j < i)
			continue;
		sp_ip_format(a, as, sizeof(as), false);
		fd = sp_ctl_socket_in_netns(k->netns, a->family, SOCK_STREAM | SOCK_NONBLOCK);
		if (fd < 0) {
			snprintf(err, errlen, "listen %s port %u: socket: %s", as, k->tun.port,
				 strerror(-fd));
			return fd;
		}
		k->lfd[k->n_listen++] = fd;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		if (a->family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		sl = to_sockaddr(a, k->tun.port, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
		    listen(fd, KX_LISTEN_BACKLOG) < 0) {
			rc = -errno;
			snprintf(err, errlen, "listen %s port %u: %s", as, k->tun.port,
				 strerror(errno));
			return rc;
		}
		rc = sp_ctl_add_fd(k->ctl, fd, EPOLLIN, on_accept, k);
		if (rc < 0) {
			snprintf(err, errlen, "listen %s: %s", as, strerror(-rc));
			return rc;
		}
		SP_LOG(keyx, INFO, "listening on %s port %u (netns \"%s\")", as, k->tun.port,
		       k->netns);
	}
	return 0;
}

void
kx_listen_stop(struct sp_keyx *k)
{
	unsigned int i;

	for (i = 0; i < k->n_listen; i++) {
		sp_ctl_del_fd(k->ctl, k->lfd[i]);
		close(k->lfd[i]);
	}
	k->n_listen = 0;
}
