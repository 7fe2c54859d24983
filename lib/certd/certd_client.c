/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Renewal through the enclave's issuing gateway: a new key and CSR, POST /v1/sign over mTLS
 * with the current certificate, the answer verified and installed. Non-blocking: connect,
 * handshake, write and read are driven by sp_ctl events, with one deadline for the whole.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "certd_private.h"
#include "sp_ctl.h"

#define CLIENT_TIMEOUT_MS 15000

enum cli_state { K_CONNECT = 0, K_HANDSHAKE, K_WRITE, K_READ };

struct certd_client {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	EVP_PKEY *key;
	enum cli_state st;
	uint32_t ev;
	uint64_t deadline_ms;
	char *req;
	size_t req_len;
	char *resp;
	size_t resp_len;
};

static void cli_drive(struct sp_certd *cd);

static void
cli_free(struct sp_certd *cd)
{
	struct certd_client *k = cd->cli;

	if (k == NULL)
		return;
	if (k->fd >= 0) {
		sp_ctl_del_fd(cd->ctl, k->fd);
		close(k->fd);
	}
	SSL_free(k->ssl);
	SSL_CTX_free(k->ctx);
	EVP_PKEY_free(k->key);
	free(k->req);
	free(k->resp);
	ERR_clear_error();
	free(k);
	cd->cli = NULL;
}

static void
cli_finish(struct sp_certd *cd, int rc, const char *msg)
{
	cli_free(cd);
	certd_renew_done(cd, rc, msg);
}

static void
on_cli(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	cli_drive(arg);
}

static int
cli_want(struct sp_certd *cd, uint32_t ev)
{
	struct certd_client *k = cd->cli;

	if (k->ev == ev)
		return 0;
	if (k->ev != 0)
		sp_ctl_del_fd(cd->ctl, k->fd);
	k->ev = ev;
	return sp_ctl_add_fd(cd->ctl, k->fd, ev, on_cli, cd);
}

/* The whole answer is in: status 200 and a chain that verifies, then install it. */
static void
cli_response(struct sp_certd *cd)
{
	struct certd_client *k = cd->cli;
	STACK_OF(X509) *certs, *chain = NULL;
	char msg[512], *body, *eol;
	struct sp_pki_err pe;
	X509 *leaf;
	int code = 0, rc, i;

	if (k->resp == NULL || sscanf(k->resp, "HTTP/1.%*c %d", &code) != 1)
		return cli_finish(cd, -EPROTO, "issuing gateway: no HTTP answer");
	body = strstr(k->resp, "\r\n\r\n");
	body = body != NULL ? body + 4 : k->resp + k->resp_len;
	if (code != 200) {
		eol = strchr(body, '\n');
		snprintf(msg, sizeof(msg), "issuing gateway answered %d: %.*s", code,
			 eol != NULL ? (int)(eol - body) : (int)strlen(body), body);
		return cli_finish(cd, -EACCES, msg);
	}
	certs = sp_pki_certs_from_pem(body, strlen(body), "issuing gateway's answer", &pe);
	if (certs == NULL)
		return cli_finish(cd, pe.code, pe.msg);
	leaf = sk_X509_shift(certs);
	chain = certs;
	for (i = sk_X509_num(chain) - 1; i >= 0; i--) {
		struct sp_pki_cert_info info;

		if (sp_pki_cert_info(sk_X509_value(chain, i), &info, NULL) == 0 && info.self_signed)
			X509_free(sk_X509_delete(chain, i));
	}
	rc = certd_install(cd, leaf, chain, k->key, msg, sizeof(msg));
	if (rc == 0) {
		char serial[SP_PKI_SERIAL_HEX_MAX + 1] = "";

		sp_pki_cert_serial(leaf, serial, sizeof(serial));
		snprintf(msg, sizeof(msg), "renewed by %s: serial %s", cd->pki.renew.url, serial);
	}
	X509_free(leaf);
	sp_pki_certs_free(chain);
	cli_finish(cd, rc, msg);
}

static void
cli_drive(struct sp_certd *cd)
{
	struct certd_client *k = cd->cli;
	char msg[256];

	for (;;) {
		int r = 0, e, so = 0;
		socklen_t sl = sizeof(so);

		switch (k->st) {
		case K_CONNECT:
			getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &so, &sl);
			if (so != 0) {
				snprintf(msg, sizeof(msg), "connect %s: %s", cd->pki.renew.url,
					 strerror(so));
				return cli_finish(cd, -so, msg);
			}
			k->st = K_HANDSHAKE;
			continue;
		case K_HANDSHAKE:
			r = SSL_connect(k->ssl);
			if (r == 1) {
				k->st = K_WRITE;
				continue;
			}
			break;
		case K_WRITE:
			r = SSL_write(k->ssl, k->req, (int)k->req_len);
			if (r > 0) {
				k->st = K_READ;
				continue;
			}
			break;
		case K_READ: {
			char buf[4096];

			r = SSL_read(k->ssl, buf, sizeof(buf));
			if (r > 0) {
				char *nr;

				if (k->resp_len + (size_t)r > CERTD_RESP_MAX)
					return cli_finish(cd, -EFBIG, "issuing gateway: answer too "
							  "large");
				nr = realloc(k->resp, k->resp_len + (size_t)r + 1);
				if (nr == NULL)
					return cli_finish(cd, -ENOMEM, "out of memory");
				k->resp = nr;
				memcpy(k->resp + k->resp_len, buf, (size_t)r);
				k->resp_len += (size_t)r;
				k->resp[k->resp_len] = '\0';
				continue;
			}
			break;
		}
		}
		e = SSL_get_error(k->ssl, r);
		if (e == SSL_ERROR_WANT_READ) {
			if (cli_want(cd, EPOLLIN) == 0)
				return;
		} else if (e == SSL_ERROR_WANT_WRITE) {
			if (cli_want(cd, EPOLLOUT) == 0)
				return;
		}
		/* Connection: close: the end of the stream ends the answer */
		if (k->st == K_READ && (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ||
					k->resp_len > 0))
			return cli_response(cd);
		{
			unsigned long oe = ERR_peek_error();
			char reason[160] = "connection closed";
			long vr = SSL_get_verify_result(k->ssl);

			if (vr != X509_V_OK)
				snprintf(reason, sizeof(reason), "server certificate: %s",
					 X509_verify_cert_error_string(vr));
			else if (oe != 0)
				ERR_error_string_n(oe, reason, sizeof(reason));
			snprintf(msg, sizeof(msg), "%s: TLS: %s", cd->pki.renew.url, reason);
			return cli_finish(cd, -EPROTO, msg);
		}
	}
}

int
certd_client_start(struct sp_certd *cd, char *err, size_t errlen)
{
	struct certd_client *k = calloc(1, sizeof(*k));
	const struct sp_conf_pki *p = &cd->pki;
	struct sockaddr_storage ss = { 0 };
	struct sp_pki_err pe;
	X509_REQ *csr;
	BIO *bio;
	char *pem, path[64];
	uint64_t life;
	long plen;
	socklen_t sl;
	int type, rc;

	if (k == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	k->fd = -1;
	cd->cli = k;
	type = sp_pki_key_type_of(cd->cur->key);
	k->key = sp_pki_key_generate(type < 0 ? SP_PKI_KEY_P256 : (enum sp_pki_key_type)type, &pe);
	if (k->key == NULL) {
		snprintf(err, errlen, "new key: %s", pe.msg);
		cli_free(cd);
		return pe.code;
	}
	csr = sp_pki_csr_create(k->key, cd->cur->spiffe_id, &pe);
	if (csr == NULL) {
		snprintf(err, errlen, "CSR: %s", pe.msg);
		cli_free(cd);
		return pe.code;
	}
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_X509_REQ(bio, csr) != 1) {
		BIO_free(bio);
		X509_REQ_free(csr);
		snprintf(err, errlen, "CSR: out of memory");
		cli_free(cd);
		return -ENOMEM;
	}
	X509_REQ_free(csr);
	plen = BIO_get_mem_data(bio, &pem);
	/* the endpoint adds its backdate (a tenth, at most 60 s) to what we ask for */
	life = (uint64_t)(cd->cur->not_after - cd->cur->not_before);
	life -= life / 11 < SP_PKI_BACKDATE ? life / 11 : SP_PKI_BACKDATE;
	sp_ip_format(&p->renew.url_addr, path, sizeof(path), false);
	k->req = malloc((size_t)plen + 512);
	if (k->req != NULL)
		k->req_len = (size_t)snprintf(k->req, (size_t)plen + 512,
			"POST /v1/sign?lifetime=%llu HTTP/1.1\r\nHost: %s\r\n"
			"Content-Type: application/pkcs10\r\nContent-Length: %ld\r\n"
			"Connection: close\r\n\r\n%.*s",
			(unsigned long long)life, path,
			plen, (int)plen, pem);
	BIO_free(bio);
	if (k->req == NULL) {
		snprintf(err, errlen, "out of memory");
		cli_free(cd);
		return -ENOMEM;
	}
	k->ctx = sp_certd_ssl_ctx(cd->cur, 0, NULL, err, errlen);
	if (k->ctx == NULL) {
		cli_free(cd);
		return -EINVAL;
	}
	if (p->renew.url_addr.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(p->renew.url_port);
		memcpy(&sin->sin_addr, &p->renew.url_addr.v4, 4);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p->renew.url_port);
		memcpy(&sin6->sin6_addr, p->renew.url_addr.v6, 16);
		sl = sizeof(*sin6);
	}
	/* the gateway's own addresses, and its way out, are on the exception port's netns */
	k->fd = sp_ctl_socket_in_netns(cd->netns, ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK);
	if (k->fd < 0) {
		rc = k->fd;
		snprintf(err, errlen, "%s: socket: %s", p->renew.url, strerror(-rc));
		k->fd = -1;
		cli_free(cd);
		return rc;
	}
	k->ssl = SSL_new(k->ctx);
	if (k->ssl == NULL || SSL_set_fd(k->ssl, k->fd) != 1) {
		snprintf(err, errlen, "TLS: out of memory");
		cli_free(cd);
		return -ENOMEM;
	}
	k->deadline_ms = sp_ctl_now_ms() + CLIENT_TIMEOUT_MS;
	if (connect(k->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		snprintf(err, errlen, "connect %s: %s", p->renew.url, strerror(errno));
		cli_free(cd);
		return rc;
	}
	k->st = K_CONNECT;
	rc = cli_want(cd, EPOLLOUT);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", p->renew.url, strerror(-rc));
		cli_free(cd);
		return rc;
	}
	return 0;
}

void
certd_client_stop(struct sp_certd *cd)
{
	cli_free(cd);
}

void
certd_client_tick(struct sp_certd *cd, uint64_t now_ms)
{
	if (cd->cli != NULL && now_ms >= cd->cli->deadline_ms) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s: timed out after %d s", cd->pki.renew.url,
			 CLIENT_TIMEOUT_MS / 1000);
		cli_finish(cd, -ETIMEDOUT, msg);
	}
}
