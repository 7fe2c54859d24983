/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Certificate signing requests: creating one (workloads, tests), checking one as received, and
 * signing under a policy. A CSR is only a proof of possession of a key plus a wish: the
 * identity granted comes from the policy or from what the requester has proven (a bootstrap
 * token, a valid client certificate), and no extension of the request is ever copied.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki_private.h"

X509_REQ *
sp_pki_csr_create(const EVP_PKEY *key, const char *spiffe_id, struct sp_pki_err *err)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *san = NULL;
	X509_REQ *req = NULL;
	char buf[SP_PKI_SPIFFE_MAX + 8], cn[72];
	int rc;

	pki_err_clear(err);
	if (key == NULL)
		goto inval;
	if (sp_pki_key_type_of(key) < 0) {
		pki_err(err, -ENOTSUP, "the key is not P-256 or Ed25519");
		return NULL;
	}
	rc = sp_pki_spiffe_parse(spiffe_id, NULL, 0, NULL, err);
	if (rc < 0)
		return NULL;
	snprintf(buf, sizeof(buf), "URI:%s", spiffe_id);
	snprintf(cn, sizeof(cn), "%.64s", spiffe_id);
	req = X509_REQ_new();
	exts = sk_X509_EXTENSION_new_null();
	san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, buf);
	if (req == NULL || exts == NULL || san == NULL || !sk_X509_EXTENSION_push(exts, san) ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_REQ_set_pubkey(req, (EVP_PKEY *)key) != 1 ||
	    X509_REQ_add_extensions(req, exts) != 1) {
		if (sk_X509_EXTENSION_find(exts, san) < 0)
			X509_EXTENSION_free(san);
		pki_err_ssl(err, -EPROTO, "cannot build the CSR");
		goto fail;
	}
	if (X509_REQ_sign(req, (EVP_PKEY *)key, pki_sign_md(key)) <= 0) {
		pki_err_ssl(err, -EPROTO, "cannot sign the CSR");
		goto fail;
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return req;
inval:
	pki_err(err, -EINVAL, "no key");
	return NULL;
fail:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	return NULL;
}

/* One requested extension: refuse CA rights, collect the URI SAN. */
static int
check_ext(X509_EXTENSION *ext, int *n_uri, char *requested, size_t len, struct sp_pki_err *err)
{
	int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext)), i, rc = 0;
	void *d = NULL;

	if (nid != NID_basic_constraints && nid != NID_key_usage && nid != NID_name_constraints &&
	    nid != NID_subject_alt_name)
		return 0;  /* never copied, so harmless */
	if (nid == NID_name_constraints)
		return pki_err(err, -EPERM, "the CSR asks for CA rights (name constraints)");
	d = X509V3_EXT_d2i(ext);
	if (d == NULL)
		return pki_err_ssl(err, -EINVAL, "the CSR's %s extension does not decode",
				   OBJ_nid2sn(nid));
	if (nid == NID_basic_constraints) {
		BASIC_CONSTRAINTS *bc = d;

		if (bc->ca)
			rc = pki_err(err, -EPERM, "the CSR asks for CA rights (basicConstraints "
				     "CA:TRUE)");
		BASIC_CONSTRAINTS_free(bc);
	} else if (nid == NID_key_usage) {
		ASN1_BIT_STRING *ku = d;

		/* Bits 5 and 6: keyCertSign and cRLSign. */
		if (ASN1_BIT_STRING_get_bit(ku, 5) || ASN1_BIT_STRING_get_bit(ku, 6))
			rc = pki_err(err, -EPERM, "the CSR asks for CA rights (keyCertSign or "
				     "cRLSign key usage)");
		ASN1_BIT_STRING_free(ku);
	} else {
		GENERAL_NAMES *gens = d;

		for (i = 0; rc == 0 && i < sk_GENERAL_NAME_num(gens); i++) {
			const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
			const ASN1_IA5STRING *u = gn->d.uniformResourceIdentifier;

			if (gn->type != GEN_URI)
				continue;
			if (++*n_uri > 1) {
				rc = pki_err(err, -EMLINK, "the CSR asks for more than one URI "
					     "subject alternative name");
				break;
			}
			if (ASN1_STRING_length(u) > SP_PKI_SPIFFE_MAX ||
			    (size_t)ASN1_STRING_length(u) >= len ||
			    memchr(ASN1_STRING_get0_data(u), 0, (size_t)ASN1_STRING_length(u))) {
				rc = pki_err(err, -EINVAL, "the CSR's URI is too long or has a "
					     "NUL");
				break;
			}
			memcpy(requested, ASN1_STRING_get0_data(u), (size_t)ASN1_STRING_length(u));
			requested[ASN1_STRING_length(u)] = '\0';
		}
		GENERAL_NAMES_free(gens);
	}
	return rc;
}

int
sp_pki_csr_check(X509_REQ *csr, char *requested, size_t len, struct sp_pki_err *err)
{
	char id[SP_PKI_SPIFFE_MAX + 1] = "";
	STACK_OF(X509_EXTENSION) *exts;
	EVP_PKEY *pub;
	int i, n_uri = 0, rc = 0;

	pki_err_clear(err);
	if (requested != NULL && len > 0)
		requested[0] = '\0';
	if (csr == NULL)
		return pki_err(err, -EINVAL, "no CSR");
	pub = X509_REQ_get0_pubkey(csr);
	if (pub == NULL)
		return pki_err_ssl(err, -EINVAL, "the CSR's public key does not parse");
	if (sp_pki_key_type_of(pub) < 0)
		return pki_err(err, -ENOTSUP, "the CSR's key is not P-256 or Ed25519");
	if (X509_REQ_verify(csr, pub) != 1)
		return pki_err(err, -EBADMSG, "the CSR's self-signature does not verify (it was "
			       "not signed by the key it carries)");
	ERR_clear_error();
	exts = X509_REQ_get_extensions(csr);
	for (i = 0; rc == 0 && i < sk_X509_EXTENSION_num(exts); i++)
		rc = check_ext(sk_X509_EXTENSION_value(exts, i), &n_uri, id, sizeof(id), err);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	if (rc < 0)
		return rc;
	if (id[0] != '\0') {
		rc = sp_pki_spiffe_parse(id, NULL, 0, NULL, err);
		if (rc < 0)
			return rc;
	}
	if (requested != NULL && pki_copy(requested, len, id) < 0)
		return pki_err(err, -ENAMETOOLONG, "buffer too small for the requested ID");
	return 0;
}

/* The identity to grant: the bound one, or the requested one if the policy allows it. */
static int
decide(const struct sp_pki_sign_opts *o, const char *requested, char *id,
       struct sp_pki_err *err)
{
	char td[SP_PKI_TD_MAX + 1];
	int kind, rc;

	if (o->bound_id == NULL) {
		if (requested[0] == '\0')
			return pki_err(err, -ENOENT, "the CSR asks for no identity and none is "
				       "bound to the request");
		rc = sp_pki_policy_allows(o->policy, requested, err);
		if (rc < 0)
			return rc;
		snprintf(id, SP_PKI_SPIFFE_MAX + 1, "%s", requested);
		return 0;
	}
	kind = sp_pki_spiffe_kind(o->bound_id, NULL, NULL, err);
	if (kind < 0)
		return kind;
	if (kind != SP_PKI_ID_GATEWAY && kind != SP_PKI_ID_WORKLOAD)
		return pki_err(err, -EINVAL, "'%.80s' is not a gateway or workload ID",
			       o->bound_id);
	sp_pki_spiffe_parse(o->bound_id, td, sizeof(td), NULL, NULL);
	if (strcmp(td, o->policy->trust_domain) != 0)
		return pki_err(err, -EXDEV, "'%.80s' is in a foreign trust domain (this CA serves "
			       "'%s')", o->bound_id, o->policy->trust_domain);
	if (requested[0] != '\0' && strcmp(requested, o->bound_id) != 0)
		return pki_err(err, -EACCES, "the CSR asks for '%.80s' but the request is bound "
			       "to '%.80s'", requested, o->bound_id);
	snprintf(id, SP_PKI_SPIFFE_MAX + 1, "%s", o->bound_id);
	return 0;
}

X509 *
sp_pki_csr_sign(X509_REQ *csr, const struct sp_pki_sign_opts *opts, const X509 *ca,
		const EVP_PKEY *ca_key, char *granted, size_t granted_len,
		struct sp_pki_err *err)
{
	char requested[SP_PKI_SPIFFE_MAX + 1], id[SP_PKI_SPIFFE_MAX + 1];
	struct sp_pki_cert_spec spec = { 0 };
	uint64_t life;
	X509 *x;

	pki_err_clear(err);
	if (granted != NULL && granted_len > 0)
		granted[0] = '\0';
	if (opts == NULL || opts->policy == NULL || ca == NULL || ca_key == NULL) {
		pki_err(err, -EINVAL, "no policy or no CA");
		return NULL;
	}
	if (sp_pki_csr_check(csr, requested, sizeof(requested), err) < 0 ||
	    decide(opts, requested, id, err) < 0)
		return NULL;
	life = opts->lifetime ? opts->lifetime : opts->policy->default_lifetime;
	if (life > opts->policy->max_lifetime) {
		pki_err(err, -ERANGE, "a lifetime of %llu s is above the policy's maximum of "
			"%llu s", (unsigned long long)life,
			(unsigned long long)opts->policy->max_lifetime);
		return NULL;
	}
	spec.kind = sp_pki_spiffe_kind(id, NULL, NULL, NULL) == SP_PKI_ID_GATEWAY ?
		    SP_PKI_CERT_GATEWAY : SP_PKI_CERT_WORKLOAD;
	spec.spiffe_id = id;
	spec.lifetime = life;
	spec.not_before = opts->not_before;
	spec.backdate = opts->backdate;
	x = sp_pki_issue(&spec, X509_REQ_get0_pubkey(csr), ca, ca_key, err);
	if (x != NULL && granted != NULL)
		snprintf(granted, granted_len, "%s", id);
	return x;
}
