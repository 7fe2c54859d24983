/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key pairs: ECDSA P-256 (the default: every TLS stack and HSM speaks it) and Ed25519.
 * Through EVP_PKEY and provider parameters only; no EC_KEY.
 */

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki_private.h"

static const char *const key_names[] = {
	[SP_PKI_KEY_P256] = "p256",
	[SP_PKI_KEY_ED25519] = "ed25519",
};

int
sp_pki_key_type_parse(const char *s, enum sp_pki_key_type *out)
{
	if (s == NULL)
		return -EINVAL;
	if (strcasecmp(s, "p256") == 0 || strcasecmp(s, "p-256") == 0 ||
	    strcasecmp(s, "prime256v1") == 0) {
		*out = SP_PKI_KEY_P256;
		return 0;
	}
	if (strcasecmp(s, "ed25519") == 0) {
		*out = SP_PKI_KEY_ED25519;
		return 0;
	}
	return -EINVAL;
}

const char *
sp_pki_key_type_name(enum sp_pki_key_type t)
{
	if ((unsigned int)t >= sizeof(key_names) / sizeof(key_names[0]))
		return "?";
	return key_names[t];
}

EVP_PKEY *
sp_pki_key_generate(enum sp_pki_key_type type, struct sp_pki_err *err)
{
	EVP_PKEY *key = NULL;

	pki_err_clear(err);
	switch (type) {
	case SP_PKI_KEY_P256:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case SP_PKI_KEY_ED25519:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		pki_err(err, -EINVAL, "unknown key type %d", (int)type);
		return NULL;
	}
	if (key == NULL)
		pki_err_ssl(err, -EPROTO, "cannot generate a %s key", sp_pki_key_type_name(type));
	return key;
}

int
sp_pki_key_type_of(const EVP_PKEY *key)
{
	char group[64];
	size_t len = 0;

	if (key == NULL)
		return -ENOTSUP;
	if (EVP_PKEY_is_a(key, "ED25519"))
		return SP_PKI_KEY_ED25519;
	if (!EVP_PKEY_is_a(key, "EC"))
		return -ENOTSUP;
	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   &len) != 1) {
		/* Explicit curve parameters have no name: not a curve we accept. */
		ERR_clear_error();
		return -ENOTSUP;
	}
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
		return SP_PKI_KEY_P256;
	return -ENOTSUP;
}

int
sp_pki_key_matches_cert(const EVP_PKEY *key, const X509 *cert, struct sp_pki_err *err)
{
	const EVP_PKEY *pub;
	int r;

	pki_err_clear(err);
	if (key == NULL || cert == NULL)
		return pki_err(err, -EINVAL, "no key or no certificate");
	pub = X509_get0_pubkey(cert);
	if (pub == NULL)
		return pki_err_ssl(err, -EBADMSG, "the certificate's public key does not parse");
	r = EVP_PKEY_eq(pub, key);
	ERR_clear_error();
	if (r != 1)
		return pki_err(err, -EKEYREJECTED, "the key does not match the certificate");
	return 0;
}
