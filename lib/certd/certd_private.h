/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CERTD_PRIVATE_H
#define CERTD_PRIVATE_H

/* Internals of lib/certd: the instance, the endpoint and the renewal client. */

#include <stdbool.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "sp_certd.h"
#include "sp_log.h"
#include "sp_pki.h"

SP_LOG_TYPE_DECLARE(certd);

#define CERTD_TICK_MS 250
#define CERTD_DEBOUNCE_MS 300     /* editors and renames come in bursts */
#define CERTD_IO_TIMEOUT_MS 10000 /* a TLS connection that makes no progress is dropped */
#define CERTD_HDR_MAX 8192
#define CERTD_BODY_MAX 16384
#define CERTD_RESP_MAX 65536

/* The issuing side: the online intermediate and its policy, reloaded with the material. */
struct certd_issuer {
	X509 *ca;
	STACK_OF(X509) *ca_chain;
	EVP_PKEY *ca_key;
	struct sp_pki_policy policy;
};

struct certd_server;
struct certd_client;

struct sp_certd {
	struct sp_ctl *ctl;
	struct sp_conf_pki pki;
	struct sp_conf_issuer iss;
	char netns[64];
	struct sp_certd_material *cur;
	struct certd_issuer *issuer;
	SSL_CTX *server_ctx;          /* rebuilt on each swap */
	int tick;
	int ino_fd;
	uint64_t reload_due_ms;       /* 0: none pending */
	time_t renew_at;              /* 0: no renewal configured */
	time_t retry_at;              /* after a failure */
	bool renewing;
	char last_renew_err[256];
	char last_reload_err[512];
	time_t last_renew, last_reload;
	struct sp_certd_counters cnt;
	struct certd_server *srv;
	struct certd_client *cli;
};

/* certd.c */
int certd_issuer_load(const struct sp_conf_issuer *iss, struct certd_issuer **out, char *err,
		      size_t errlen);
void certd_issuer_free(struct certd_issuer *is);
/* Verify m as sp_certd_load() does (chain, time, CRLs, identity, key). */
int certd_verify(const struct sp_conf_pki *pki, const struct sp_certd_material *m, time_t now,
		 char *err, size_t errlen);
/* A new certificate and key for our identity are in hand: verify, write, swap. */
int certd_install(struct sp_certd *cd, X509 *cert, STACK_OF(X509) *chain, EVP_PKEY *key,
		  char *err, size_t errlen);
void certd_renew_done(struct sp_certd *cd, int rc, const char *msg);
/* Index of issued certificates next to the CA certificate (as `spctl ca` keeps it). */
void certd_index_path(char *out, size_t len, const char *ca_cert);

/* certd_http.c: the endpoint. */
int certd_server_start(struct sp_certd *cd, char *err, size_t errlen);
void certd_server_stop(struct sp_certd *cd);
void certd_server_tick(struct sp_certd *cd, uint64_t now_ms);

/* certd_client.c: renewal through the issuing gateway. */
int certd_client_start(struct sp_certd *cd, char *err, size_t errlen);
void certd_client_stop(struct sp_certd *cd);
void certd_client_tick(struct sp_certd *cd, uint64_t now_ms);

/* certd_cli.c */
void certd_cli_attach(struct sp_certd *cd);

#endif
