/* SPDX-License-Identifier: BSD-3-Clause */
/* TLS contexts from a set of material: our certificate, peers verified against the bundle. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "certd_private.h"

static int id_idx = -1;

static void
id_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

/* OpenSSL did the path, time and CRL checks; the leaf must also carry the expected ID. */
static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	char id[SP_PKI_SPIFFE_MAX + 1];
	const char *want;
	SSL *ssl;

	if (!ok || X509_STORE_CTX_get_error_depth(x) != 0)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || id_idx < 0)
		return ok;
	want = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), id_idx);
	if (want == NULL)
		return ok;
	if (sp_pki_cert_spiffe_id(X509_STORE_CTX_get_current_cert(x), id, sizeof(id), NULL) < 0 ||
	    strcmp(id, want) != 0) {
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

static SSL_CTX *
fail(SSL_CTX *ctx, X509_STORE *st, char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[160] = "";

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(err, errlen, "TLS context: %s%s%s", what, reason[0] ? ": " : "", reason);
	X509_STORE_free(st);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
sp_certd_ssl_ctx(const struct sp_certd_material *m, unsigned int flags, const char *expect_id,
		 char *err, size_t errlen)
{
	bool server = (flags & SP_CERTD_TLS_SERVER) != 0;
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	X509_STORE *st = NULL;
	unsigned long vflags = X509_V_FLAG_X509_STRICT;
	int i, mode;

	if (ctx == NULL)
		return fail(ctx, st, err, errlen, "out of memory");
	if (id_idx < 0)
		id_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, id_free);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_use_certificate(ctx, m->cert) != 1)
		return fail(ctx, st, err, errlen, "certificate");
	for (i = 0; i < sk_X509_num(m->chain); i++)
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(m->chain, i)) != 1)
			return fail(ctx, st, err, errlen, "chain");
	if (SSL_CTX_use_PrivateKey(ctx, m->key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		return fail(ctx, st, err, errlen, "private key");
	st = X509_STORE_new();
	if (st == NULL)
		return fail(ctx, st, err, errlen, "out of memory");
	for (i = 0; i < sk_X509_num(m->bundle); i++)
		if (X509_STORE_add_cert(st, sk_X509_value(m->bundle, i)) != 1)
			return fail(ctx, st, err, errlen, "bundle");
	for (i = 0; i < sk_X509_CRL_num(m->crls); i++)
		if (X509_STORE_add_crl(st, sk_X509_CRL_value(m->crls, i)) != 1)
			return fail(ctx, st, err, errlen, "CRL");
	if (sk_X509_CRL_num(m->crls) > 0)
		vflags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	X509_STORE_set_flags(st, vflags);
	SSL_CTX_set_cert_store(ctx, st);
	st = NULL;
	if (expect_id != NULL) {
		char *dup = strdup(expect_id);

		if (dup == NULL || SSL_CTX_set_ex_data(ctx, id_idx, dup) != 1) {
			free(dup);
			return fail(ctx, st, err, errlen, "out of memory");
		}
	}
	mode = SSL_VERIFY_PEER;
	if (server && !(flags & SP_CERTD_TLS_PEER_OPTIONAL))
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, verify_cb);
	/* the only session state is per connection: no resumption across a key swap */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
}
