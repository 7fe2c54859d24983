/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workload issuance endpoint: HTTPS POST /v1/sign, one request per connection. Sockets are
 * non-blocking and every connection is a small state machine (handshake, read, write) driven
 * by sp_ctl events; a connection that is not done within CERTD_IO_TIMEOUT_MS is dropped.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "certd_private.h"
#include "sp_ctl.h"

enum conn_state { C_HANDSHAKE = 0, C_READ, C_WRITE };

struct conn {
	struct sp_certd *cd;
	struct conn *next;
	int fd;
	SSL *ssl;
	enum conn_state st;
	uint32_t ev;
	uint64_t deadline_ms;
	bool continued;
	char peer[64];
	size_t in_len;
	char in[CERTD_HDR_MAX + CERTD_BODY_MAX + 1];
	char *out;
	size_t out_len;
};

struct certd_server {
	int lfd;
	unsigned int n;
	struct conn *conns;
};

static void conn_drive(struct conn *c);

static void
conn_close(struct conn *c)
{
	struct certd_server *s = c->cd->srv;
	struct conn **pp;

	for (pp = &s->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	s->n--;
	sp_ctl_del_fd(c->cd->ctl, c->fd);
	SSL_free(c->ssl);
	close(c->fd);
	ERR_clear_error();
	free(c->out);
	free(c);
}

static void
on_conn(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	conn_drive(arg);
}

static int
conn_want(struct conn *c, uint32_t ev)
{
	if (c->ev == ev)
		return 0;
	if (c->ev != 0)
		sp_ctl_del_fd(c->cd->ctl, c->fd);
	c->ev = ev;
	return sp_ctl_add_fd(c->cd->ctl, c->fd, ev, on_conn, c);
}

static const char *
status_text(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void
respond(struct conn *c, int code, const char *ctype, const char *body, size_t blen)
{
	char hdr[256];
	int hl = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			  "Content-Length: %zu\r\nConnection: close\r\n\r\n", code,
			  status_text(code), ctype, blen);

	free(c->out);
	c->out = malloc((size_t)hl + blen);
	c->out_len = 0;
	if (c->out != NULL) {
		memcpy(c->out, hdr, (size_t)hl);
		memcpy(c->out + hl, body, blen);
		c->out_len = (size_t)hl + blen;
	}
	c->st = C_WRITE;
}

/* One line of plain text: the reason, for humans and scripts. */
static void
refuse(struct conn *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
refuse(struct conn *c, int code, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';
	c->cd->cnt.issue_refused++;
	SP_LOG(certd, NOTICE, "endpoint: %s: %d %.*s", c->peer, code, n - 1, line);
	respond(c, code, "text/plain", line, (size_t)n);
}

/* Value of header name (case-insensitive), copied into out; 0 when absent. */
static int
header(const char *hdrs, size_t len, const char *name, char *out, size_t olen)
{
	size_t nl = strlen(name);
	const char *p = hdrs, *end = hdrs + len;

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t l;

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			l = (size_t)(eol - v);
			while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t'))
				l--;
			if (l >= olen)
				l = olen - 1;
			memcpy(out, v, l);
			out[l] = '\0';
			return 1;
		}
		p = eol + 2;
	}
	return 0;
}

static int
sign_status(int rc)
{
	return rc == -EACCES || rc == -EXDEV || rc == -EPERM ? 403 : 400;
}

static void
handle(struct conn *c, const char *hdrs, size_t hlen, const char *body, size_t blen)
{
	struct sp_certd *cd = c->cd;
	struct certd_issuer *is = cd->issuer;
	char method[16], target[256], auth[256], id[SP_PKI_SPIFFE_MAX + 1];
	char granted[SP_PKI_SPIFFE_MAX + 1];
	char serial[SP_PKI_SERIAL_HEX_MAX + 1] = "", index[SP_CONF_PATH_MAX + 8], detail[160];
	struct sp_pki_sign_opts so = { 0 };
	struct sp_pki_audit_rec ar = { 0 };
	struct sp_pki_err pe;
	const char *token = NULL, *q;
	uint64_t lifetime = 0;
	X509_REQ *csr = NULL;
	X509 *cert = NULL;
	X509 *certs[16];
	size_t n = 0, pem_len;
	char *pem;
	int rc, i;

	if (sscanf(hdrs, "%15s %255s HTTP/1.%*c", method, target) != 2)
		return refuse(c, 400, "malformed request line");
	if (strcmp(method, "POST") != 0)
		return refuse(c, 405, "only POST /v1/sign");
	q = strchr(target, '?');
	if (strncmp(target, "/v1/sign", 8) != 0 || (target[8] != '\0' && target[8] != '?'))
		return refuse(c, 404, "unknown path: only POST /v1/sign");
	if (q != NULL) {
		const char *lt = strstr(q, "lifetime=");
		char *end;

		if (lt == NULL || (lt[-1] != '?' && lt[-1] != '&'))
			return refuse(c, 400, "unknown query: only lifetime=SECONDS");
		errno = 0;
		lifetime = strtoull(lt + 9, &end, 10);
		if (end == lt + 9 || errno != 0 || (*end != '\0' && *end != '&') || lifetime == 0)
			return refuse(c, 400, "lifetime must be a number of seconds");
		if (lifetime > cd->iss.max_seconds)
			return refuse(c, 400, "lifetime %llu s is above issuer.max_seconds (%u s)",
				      (unsigned long long)lifetime, cd->iss.max_seconds);
	}
	if (is == NULL || cd->cur == NULL)
		return refuse(c, 503, "issuer not loaded");
	if (header(hdrs, hlen, "Authorization", auth, sizeof(auth))) {
		if (strncasecmp(auth, "Bearer ", 7) != 0)
			return refuse(c, 401, "Authorization must be \"Bearer <token>\"");
		token = auth + 7;
		rc = sp_pki_token_lookup(cd->iss.tokens, token, time(NULL), id, sizeof(id), &pe);
		if (rc < 0)
			return refuse(c, 401, "token refused: %s", pe.msg);
	} else {
		X509 *peer = SSL_get0_peer_certificate(c->ssl);
		struct sp_pki_verify_opts vo = { 0 };
		struct sp_pki_verify_result vr;

		if (peer == NULL)
			return refuse(c, 401, "no token (Authorization: Bearer) and no client "
				      "certificate");
		vo.crls = sk_X509_CRL_num(cd->cur->crls) > 0 ? cd->cur->crls : NULL;
		vo.purpose = X509_PURPOSE_SSL_CLIENT;
		rc = sp_pki_verify(peer, SSL_get_peer_cert_chain(c->ssl), cd->cur->bundle, &vo, &vr,
				   &pe);
		if (rc < 0)
			return refuse(c, 401, "client certificate refused: %s", pe.msg);
		snprintf(id, sizeof(id), "%s", vr.spiffe_id);
	}
	csr = sp_pki_csr_from_pem(body, blen, "request body", &pe);
	if (csr == NULL)
		return refuse(c, 400, "bad CSR: %s", pe.msg);
	if (lifetime == 0) {
		lifetime = is->policy.default_lifetime;
		if (lifetime > cd->iss.max_seconds)
			lifetime = cd->iss.max_seconds;
	}
	so.policy = &is->policy;
	so.bound_id = id;
	so.lifetime = lifetime;
	/* clock-skew slack before now, at most a tenth of a short lifetime */
	so.backdate = (uint32_t)(lifetime / 10 < SP_PKI_BACKDATE ? lifetime / 10 : SP_PKI_BACKDATE);
	cert = sp_pki_csr_sign(csr, &so, is->ca, is->ca_key, granted, sizeof(granted), &pe);
	X509_REQ_free(csr);
	if (cert == NULL)
		return refuse(c, sign_status(pe.code), "refused: %s", pe.msg);
	if (token != NULL) {
		rc = sp_pki_token_consume(cd->iss.tokens, token, time(NULL), id, sizeof(id), &pe);
		if (rc < 0) {
			X509_free(cert);
			return refuse(c, 401, "token refused: %s", pe.msg);
		}
	}
	sp_pki_cert_serial(cert, serial, sizeof(serial));
	certd_index_path(index, sizeof(index), cd->iss.ca_cert);
	if (sp_pki_index_add_issued(index, cert, &pe) < 0)
		SP_LOG(certd, WARNING, "endpoint: %s not recorded in %s: %s", serial, index,
		       pe.msg);
	snprintf(detail, sizeof(detail), "endpoint %s, %s", c->peer,
		 token != NULL ? "bootstrap token" : "client certificate");
	ar.action = token != NULL ? SP_PKI_AUDIT_SIGN : SP_PKI_AUDIT_RENEW;
	ar.who = token != NULL ? "token" : id;
	ar.serial = serial;
	ar.identity = granted;
	sp_pki_asn1_time(X509_get0_notAfter(cert), &ar.not_after);
	ar.detail = detail;
	if (sp_pki_audit_append(cd->iss.audit, &ar, &pe) < 0) {
		X509_free(cert);
		SP_LOG(certd, ERR, "endpoint: audit log %s: %s", cd->iss.audit, pe.msg);
		return refuse(c, 500, "audit log unavailable: nothing issued");
	}
	certs[n++] = cert;
	certs[n++] = is->ca;
	for (i = 0; i < sk_X509_num(is->ca_chain) && n < RTE_DIM(certs); i++) {
		struct sp_pki_cert_info info;
		X509 *x = sk_X509_value(is->ca_chain, i);

		if (sp_pki_cert_info(x, &info, NULL) == 0 && info.self_signed)
			continue;
		certs[n++] = x;
	}
	pem = sp_pki_certs_to_pem(certs, n, &pem_len, &pe);
	X509_free(cert);
	if (pem == NULL)
		return refuse(c, 500, "encoding: %s", pe.msg);
	cd->cnt.issued++;
	SP_LOG(certd, NOTICE, "endpoint: issued %s serial %s to %s (%s)", granted, serial, c->peer,
	       token != NULL ? "token" : "renewal");
	respond(c, 200, "application/pem-certificate-chain", pem, pem_len);
	free(pem);
}

/* A complete request in c->in? Handle it. @return 1 handled, 0 need more, <0 refused. */
static int
try_request(struct conn *c)
{
	const char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	char v[64], *e;
	size_t hlen;
	unsigned long long cl;

	if (end == NULL) {
		if (c->in_len >= CERTD_HDR_MAX) {
			refuse(c, 431, "request header larger than %d bytes", CERTD_HDR_MAX);
			return -1;
		}
		return 0;
	}
	hlen = (size_t)(end - c->in) + 4;
	if (hlen > CERTD_HDR_MAX) {
		refuse(c, 431, "request header larger than %d bytes", CERTD_HDR_MAX);
		return -1;
	}
	if (!header(c->in, hlen, "Content-Length", v, sizeof(v))) {
		refuse(c, 400, "Content-Length required");
		return -1;
	}
	errno = 0;
	cl = strtoull(v, &e, 10);
	if (e == v || *e != '\0' || errno != 0) {
		refuse(c, 400, "bad Content-Length");
		return -1;
	}
	if (cl > CERTD_BODY_MAX) {
		refuse(c, 413, "body larger than %d bytes", CERTD_BODY_MAX);
		return -1;
	}
	if (c->in_len < hlen + cl) {
		if (!c->continued && header(c->in, hlen, "Expect", v, sizeof(v)) &&
		    strcasecmp(v, "100-continue") == 0) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

			/* tiny: fits any socket buffer; curl goes on after 1 s if it is lost */
			c->continued = true;
			SSL_write(c->ssl, cont, sizeof(cont) - 1);
			ERR_clear_error();
		}
		return 0;
	}
	c->in[hlen - 2] = '\0';
	handle(c, c->in, hlen - 2, c->in + hlen, (size_t)cl);
	return 1;
}

static void
conn_drive(struct conn *c)
{
	for (;;) {
		int r, e;

		switch (c->st) {
		case C_HANDSHAKE:
			r = SSL_accept(c->ssl);
			if (r == 1) {
				c->st = C_READ;
				continue;
			}
			break;
		case C_READ:
			r = SSL_read(c->ssl, c->in + c->in_len,
				     (int)(sizeof(c->in) - 1 - c->in_len));
			if (r > 0) {
				c->in_len += (size_t)r;
				c->in[c->in_len] = '\0';
				if (try_request(c) != 0)
					continue;
				if (c->in_len >= sizeof(c->in) - 1) {
					refuse(c, 413, "request too large");
					continue;
				}
				continue;
			}
			break;
		case C_WRITE:
			if (c->out == NULL) {
				conn_close(c);
				return;
			}
			r = SSL_write(c->ssl, c->out, (int)c->out_len);
			if (r > 0) {
				SSL_shutdown(c->ssl);
				conn_close(c);
				return;
			}
			break;
		default:
			conn_close(c);
			return;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ) {
			if (conn_want(c, EPOLLIN) == 0)
				return;
		} else if (e == SSL_ERROR_WANT_WRITE) {
			if (conn_want(c, EPOLLOUT) == 0)
				return;
		} else if (c->st == C_HANDSHAKE) {
			unsigned long oe = ERR_peek_error();
			char reason[160] = "closed";

			if (oe != 0)
				ERR_error_string_n(oe, reason, sizeof(reason));
			SP_LOG(certd, INFO, "endpoint: %s: TLS handshake failed: %s", c->peer,
			       reason);
		}
		conn_close(c);
		return;
	}
}

static void
on_accept(int fd, uint32_t events, void *arg)
{
	struct sp_certd *cd = arg;
	struct certd_server *s = cd->srv;

	(void)events;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		char a[INET6_ADDRSTRLEN] = "?";

		if (cfd < 0)
			return;
		if (s->n >= cd->iss.max_conns || cd->server_ctx == NULL) {
			/* over the cap: closed at once, the client retries */
			cd->cnt.issue_refused++;
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(cfd);
			continue;
		}
		c->cd = cd;
		c->fd = cfd;
		c->ssl = SSL_new(cd->server_ctx);
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a));
		snprintf(c->peer, sizeof(c->peer), "%s", a);
		c->deadline_ms = sp_ctl_now_ms() + CERTD_IO_TIMEOUT_MS;
		c->next = s->conns;
		s->conns = c;
		s->n++;
		if (c->ssl == NULL || SSL_set_fd(c->ssl, cfd) != 1) {
			conn_close(c);
			continue;
		}
		conn_drive(c);
	}
}

int
certd_server_start(struct sp_certd *cd, char *err, size_t errlen)
{
	struct certd_server *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int one = 1, fd, rc;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->lfd = -1;
	cd->srv = s;
	cd->server_ctx = sp_certd_ssl_ctx(cd->cur, SP_CERTD_TLS_SERVER | SP_CERTD_TLS_PEER_OPTIONAL,
					  NULL, err, errlen);
	if (cd->server_ctx == NULL)
		return -EINVAL;
	if (cd->iss.listen.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(cd->iss.port);
		memcpy(&sin->sin_addr, &cd->iss.listen.v4, 4);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(cd->iss.port);
		memcpy(&sin6->sin6_addr, cd->iss.listen.v6, 16);
		sl = sizeof(*sin6);
	}
	fd = sp_ctl_socket_in_netns(cd->netns, ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "issuer.listen %s: socket in netns \"%s\": %s",
			 cd->iss.listen_str, cd->netns, strerror(-fd));
		return fd;
	}
	s->lfd = fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* the address may still be tentative (IPv6 DAD) when we start */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		snprintf(err, errlen, "issuer.listen %s: %s", cd->iss.listen_str, strerror(errno));
		return rc;
	}
	rc = sp_ctl_add_fd(cd->ctl, fd, EPOLLIN, on_accept, cd);
	if (rc < 0) {
		snprintf(err, errlen, "issuer.listen: %s", strerror(-rc));
		return rc;
	}
	SP_LOG(certd, NOTICE, "issuance endpoint on https://%s/v1/sign (netns \"%s\")",
	       cd->iss.listen_str, cd->netns);
	return 0;
}

void
certd_server_stop(struct sp_certd *cd)
{
	struct certd_server *s = cd->srv;

	if (s == NULL)
		return;
	while (s->conns != NULL)
		conn_close(s->conns);
	if (s->lfd >= 0) {
		sp_ctl_del_fd(cd->ctl, s->lfd);
		close(s->lfd);
	}
	free(s);
	cd->srv = NULL;
}

void
certd_server_tick(struct sp_certd *cd, uint64_t now_ms)
{
	struct conn *c, *next;

	if (cd->srv == NULL)
		return;
	for (c = cd->srv->conns; c != NULL; c = next) {
		next = c->next;
		if (now_ms >= c->deadline_ms) {
			SP_LOG(certd, INFO, "endpoint: %s: timed out", c->peer);
			conn_close(c);
		}
	}
}
