/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trust bundles and chain verification.
 *
 * Path validation is OpenSSL's (X509_verify_cert with X509_STRICT, name constraints, CRLs for
 * every level when CRLs are given); what we add is a distinct errno per problem, a message
 * that names the certificate, the SPIFFE checks on the leaf, and refusing a CRL that claims to
 * come from a CA of the chain but is not signed by it.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki_private.h"

int
sp_pki_bundle_add(STACK_OF(X509) *bundle, X509 *root, struct sp_pki_err *err)
{
	char name[SP_PKI_NAME_MAX];
	int i;

	pki_err_clear(err);
	if (bundle == NULL || root == NULL)
		return pki_err(err, -EINVAL, "no bundle or no certificate");
	pki_name_str(X509_get_subject_name(root), name, sizeof(name));
	if (X509_check_ca(root) != 1)
		return pki_err(err, -EINVAL, "%s is not a CA certificate", name);
	if (X509_self_signed(root, 1) != 1)
		return pki_err(err, -EINVAL, "%s is not a root (not self-signed, or its "
			       "self-signature does not verify)", name);
	for (i = 0; i < sk_X509_num(bundle); i++)
		if (X509_cmp(sk_X509_value(bundle, i), root) == 0)
			return 1;
	if (!X509_up_ref(root))
		return pki_err(err, -ENOMEM, "out of memory");
	if (!sk_X509_push(bundle, root)) {
		X509_free(root);
		return pki_err(err, -ENOMEM, "out of memory");
	}
	return 0;
}

STACK_OF(X509) *
sp_pki_bundle_load(const char *path, struct sp_pki_err *err)
{
	STACK_OF(X509) *certs = sp_pki_certs_load(path, err), *bundle;
	int i, rc = 0;

	if (certs == NULL)
		return NULL;
	bundle = sk_X509_new_null();
	if (bundle == NULL)
		rc = pki_err(err, -ENOMEM, "out of memory");
	for (i = 0; rc >= 0 && i < sk_X509_num(certs); i++) {
		struct sp_pki_err e;

		rc = sp_pki_bundle_add(bundle, sk_X509_value(certs, i), &e);
		if (rc < 0)
			pki_err(err, rc, "%s: certificate %d: %s", path, i + 1, e.msg);
	}
	sp_pki_certs_free(certs);
	if (rc < 0) {
		sp_pki_certs_free(bundle);
		return NULL;
	}
	return bundle;
}

/* ---- verification ---- */

static const struct {
	int x509_err;
	int code;
} err_map[] = {
	{ X509_V_ERR_CERT_HAS_EXPIRED, -EKEYEXPIRED },
	{ X509_V_ERR_CERT_NOT_YET_VALID, -ETIME },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, -ENOKEY },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, -ENOKEY },
	{ X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, -ENOKEY },
	{ X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, -ENOKEY },
	{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, -ENOKEY },
	{ X509_V_ERR_CERT_UNTRUSTED, -ENOKEY },
	{ X509_V_ERR_CERT_REJECTED, -ENOKEY },
	{ X509_V_ERR_CERT_CHAIN_TOO_LONG, -ENOKEY },
	{ X509_V_ERR_CERT_REVOKED, -EKEYREVOKED },
	{ X509_V_ERR_PERMITTED_VIOLATION, -EPERM },
	{ X509_V_ERR_EXCLUDED_VIOLATION, -EPERM },
	{ X509_V_ERR_SUBTREE_MINMAX, -EPERM },
	{ X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE, -EPERM },
	{ X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX, -EPERM },
	{ X509_V_ERR_UNSUPPORTED_NAME_SYNTAX, -EPERM },
	{ X509_V_ERR_CERT_SIGNATURE_FAILURE, -EBADMSG },
	{ X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, -EBADMSG },
	{ X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, -EBADMSG },
	{ X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD, -EBADMSG },
	{ X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD, -EBADMSG },
	{ X509_V_ERR_INVALID_CA, -EKEYREJECTED },
	{ X509_V_ERR_PATH_LENGTH_EXCEEDED, -EKEYREJECTED },
	{ X509_V_ERR_KEYUSAGE_NO_CERTSIGN, -EKEYREJECTED },
	{ X509_V_ERR_INVALID_PURPOSE, -EKEYREJECTED },
	{ X509_V_ERR_INVALID_NON_CA, -EKEYREJECTED },
	{ X509_V_ERR_UNABLE_TO_GET_CRL, -ENODATA },
	{ X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, -ENODATA },
	{ X509_V_ERR_CRL_HAS_EXPIRED, -ESTALE },
	{ X509_V_ERR_CRL_NOT_YET_VALID, -ESTALE },
	{ X509_V_ERR_CRL_SIGNATURE_FAILURE, -EBADE },
	{ X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE, -EBADE },
	{ X509_V_ERR_KEYUSAGE_NO_CRL_SIGN, -EBADE },
	{ X509_V_ERR_DIFFERENT_CRL_SCOPE, -EBADE },
	{ X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD, -EBADE },
	{ X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD, -EBADE },
};

static const struct {
	int code;
	const char *name;
} problems[] = {
	{ -EKEYEXPIRED, "expired" },
	{ -ETIME, "not-yet-valid" },
	{ -ENOKEY, "unknown-issuer" },
	{ -EKEYREVOKED, "revoked" },
	{ -EACCES, "wrong-identity" },
	{ -EPERM, "name-constraints" },
	{ -EBADMSG, "bad-signature" },
	{ -EKEYREJECTED, "not-allowed" },
	{ -ENODATA, "no-crl" },
	{ -ESTALE, "stale-crl" },
	{ -EBADE, "bad-crl" },
	{ -EPROTO, "invalid" },
};

const char *
sp_pki_verify_problem(int code)
{
	size_t i;

	for (i = 0; i < sizeof(problems) / sizeof(problems[0]); i++)
		if (problems[i].code == code)
			return problems[i].name;
	return "error";
}

static int
map_error(int x509_err)
{
	size_t i;

	for (i = 0; i < sizeof(err_map) / sizeof(err_map[0]); i++)
		if (err_map[i].x509_err == x509_err)
			return err_map[i].code;
	return -EPROTO;
}

/* A CRL naming a CA we know must be signed by it; CRLs of other issuers do not concern us. */
static int
check_crl_issuers(STACK_OF(X509_CRL) *crls, STACK_OF(X509) *bundle, STACK_OF(X509) *untrusted,
		  struct sp_pki_err *err)
{
	STACK_OF(X509) *sets[2] = { bundle, untrusted };
	char name[SP_PKI_NAME_MAX];
	int i, j, s;

	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);
		bool named = false, signed_ok = false;

		for (s = 0; s < 2 && !signed_ok; s++) {
			for (j = 0; j < sk_X509_num(sets[s]) && !signed_ok; j++) {
				X509 *ca = sk_X509_value(sets[s], j);

				if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
						  X509_get_subject_name(ca)) != 0)
					continue;
				named = true;
				signed_ok = X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1;
			}
		}
		ERR_clear_error();
		if (named && !signed_ok) {
			pki_name_str(X509_CRL_get_issuer(crl), name, sizeof(name));
			return pki_err(err, -EBADE, "bad-crl: CRL %d claims to be issued by %s "
				       "but is not signed by that CA's key (a CRL from the wrong "
				       "CA)", i + 1, name);
		}
	}
	return 0;
}

static int
failure(X509_STORE_CTX *ctx, struct sp_pki_err *err)
{
	int e = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char name[SP_PKI_NAME_MAX] = "?", when[32], extra[64] = "";
	time_t t;
	int code = map_error(e);

	if (cur != NULL)
		pki_name_str(X509_get_subject_name(cur), name, sizeof(name));
	if (cur != NULL && e == X509_V_ERR_CERT_HAS_EXPIRED &&
	    sp_pki_asn1_time(X509_get0_notAfter(cur), &t) == 0) {
		sp_pki_time_str(t, when);
		snprintf(extra, sizeof(extra), " (not after %s)", when);
	} else if (cur != NULL && e == X509_V_ERR_CERT_NOT_YET_VALID &&
		   sp_pki_asn1_time(X509_get0_notBefore(cur), &t) == 0) {
		sp_pki_time_str(t, when);
		snprintf(extra, sizeof(extra), " (not before %s)", when);
	}
	pki_err(err, code, "%s: depth %d (%s): %s%s", sp_pki_verify_problem(code), depth, name,
		X509_verify_cert_error_string(e), extra);
	if (err != NULL)
		err->depth = depth;
	return code;
}

/* After path validation: the SPIFFE rules for the leaf. */
static int
check_leaf(X509 *leaf, const struct sp_pki_verify_opts *o, struct sp_pki_verify_result *res,
	   struct sp_pki_err *err)
{
	char id[SP_PKI_SPIFFE_MAX + 1], td[SP_PKI_TD_MAX + 1];
	struct sp_pki_err e;
	int rc, kind;

	if (err != NULL)
		err->depth = 0;
	if (X509_check_ca(leaf) != 0)
		return pki_err(err, -EKEYREJECTED, "not-allowed: depth 0: the leaf is a CA "
			       "certificate");
	rc = sp_pki_cert_spiffe_id(leaf, id, sizeof(id), &e);
	if (rc < 0)
		return pki_err(err, -EACCES, "wrong-identity: depth 0: %s", e.msg);
	kind = sp_pki_spiffe_kind(id, NULL, NULL, &e);
	if (kind == SP_PKI_ID_TRUST_DOMAIN)
		return pki_err(err, -EACCES, "wrong-identity: depth 0: '%.80s' names a trust "
			       "domain, not a workload or gateway", id);
	sp_pki_spiffe_parse(id, td, sizeof(td), NULL, NULL);
	if (o->expect_id != NULL && strcmp(o->expect_id, id) != 0)
		return pki_err(err, -EACCES, "wrong-identity: depth 0: the certificate is for "
			       "'%.80s', not '%.80s'", id, o->expect_id);
	if (o->expect_td != NULL && strcmp(o->expect_td, td) != 0)
		return pki_err(err, -EACCES, "wrong-identity: depth 0: '%.80s' is not in trust "
			       "domain '%.64s'", id, o->expect_td);
	if (res != NULL)
		snprintf(res->spiffe_id, sizeof(res->spiffe_id), "%s", id);
	return 0;
}

int
sp_pki_verify(X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509) *bundle,
	      const struct sp_pki_verify_opts *opts, struct sp_pki_verify_result *res,
	      struct sp_pki_err *err)
{
	static const struct sp_pki_verify_opts none;
	const struct sp_pki_verify_opts *o = opts ? opts : &none;
	bool crl = o->crls != NULL && sk_X509_CRL_num(o->crls) > 0;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	STACK_OF(X509) *chain;
	unsigned long flags = X509_V_FLAG_X509_STRICT;
	int i, rc;

	pki_err_clear(err);
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (leaf == NULL || bundle == NULL || sk_X509_num(bundle) == 0)
		return pki_err(err, -EINVAL, "nothing to verify, or an empty trust bundle");
	if (crl) {
		rc = check_crl_issuers(o->crls, bundle, untrusted, err);
		if (rc < 0)
			return rc;
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	}
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (store == NULL || ctx == NULL) {
		rc = pki_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(bundle); i++) {
		if (X509_STORE_add_cert(store, sk_X509_value(bundle, i)) != 1) {
			rc = pki_err_ssl(err, -ENOMEM, "cannot add root %d to the store", i + 1);
			goto out;
		}
	}
	if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		rc = pki_err_ssl(err, -ENOMEM, "cannot set up verification");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, flags);
	X509_VERIFY_PARAM_set_time(param, o->at ? o->at : time(NULL));
	if (o->purpose != 0 && X509_STORE_CTX_set_purpose(ctx, o->purpose) != 1) {
		rc = pki_err_ssl(err, -EINVAL, "bad purpose %d", o->purpose);
		goto out;
	}
	if (crl)
		X509_STORE_CTX_set0_crls(ctx, o->crls);
	if (X509_verify_cert(ctx) != 1) {
		rc = failure(ctx, err);
		goto out;
	}
	rc = check_leaf(leaf, o, res, err);
	if (rc == 0)
		pki_err_clear(err);
	if (rc < 0 || res == NULL)
		goto out;
	chain = X509_STORE_CTX_get0_chain(ctx);
	res->chain_len = sk_X509_num(chain);
	sp_pki_asn1_time(X509_get0_notAfter(leaf), &res->not_after);
	res->chain_not_after = res->not_after;
	for (i = 0; i < sk_X509_num(chain); i++) {
		time_t t;

		if (sp_pki_asn1_time(X509_get0_notAfter(sk_X509_value(chain, i)), &t) == 0 &&
		    t < res->chain_not_after)
			res->chain_not_after = t;
	}
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return rc;
}
