/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * X.509 issuance: roots, intermediates, gateway and workload leaves.
 *
 * What goes into a certificate is decided here from the kind, never copied from a request:
 * the identity is the one URI SAN, the CN is informational, CAs carry spiffe://<td>, and an
 * intermediate is bound to its trust domain by a name constraint that OpenSSL (nc_uri) checks
 * against the host part of every URI SAN below it.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki_private.h"

/* 128 random bits with the top two fixed (01): positive, always 16 octets, 32 hex digits. */
static int
set_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EPROTO;
	b[0] = (unsigned char)((b[0] & 0x3f) | 0x40);
	bn = BN_bin2bn(b, sizeof(b), NULL);
	OPENSSL_cleanse(b, sizeof(b));
	if (bn == NULL)
		return -ENOMEM;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

static int
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value, struct sp_pki_err *err)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return pki_err_ssl(err, -EPROTO, "cannot build extension %s=%s", OBJ_nid2sn(nid),
				   value);
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok)
		return pki_err_ssl(err, -ENOMEM, "cannot add extension %s", OBJ_nid2sn(nid));
	return 0;
}

static int
set_name(X509 *x, const char *cn, struct sp_pki_err *err)
{
	X509_NAME *name = X509_get_subject_name(x);

	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
				       (const unsigned char *)"sallyport", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
				       -1, -1, 0) != 1)
		return pki_err_ssl(err, -EINVAL, "cannot set the subject name (CN '%s')", cn);
	return 0;
}

/* The default CN: informative only, at most 64 characters (the X.520 upper bound). */
static void
default_cn(const struct sp_pki_cert_spec *spec, const char *td, const char *id,
	   const char *keyid, char *cn, size_t len)
{
	const char *tail;

	switch (spec->kind) {
	case SP_PKI_CERT_ROOT:
		snprintf(cn, len, "%.42s root %.8s", td, keyid);
		break;
	case SP_PKI_CERT_INTERMEDIATE:
		snprintf(cn, len, "%.34s intermediate %.8s", td, keyid);
		break;
	default:
		if (strlen(id) <= 64) {
			snprintf(cn, len, "%s", id);
		} else {
			tail = id + strlen(id) - 64;
			snprintf(cn, len, "%s", tail);
		}
		break;
	}
}

/* Check the issuer for signing now. */
static int
check_issuer(const X509 *issuer, const EVP_PKEY *issuer_key, enum sp_pki_cert_kind kind,
	     unsigned int flags, struct sp_pki_err *err)
{
	struct sp_pki_cert_info info;
	char name[SP_PKI_NAME_MAX], when[32];
	time_t now = time(NULL);
	int rc;

	if (issuer_key == NULL)
		return pki_err(err, -EINVAL, "no issuer key");
	rc = sp_pki_key_matches_cert(issuer_key, issuer, err);
	if (rc < 0)
		return pki_err(err, rc, "the CA key does not match the CA certificate");
	rc = sp_pki_cert_info(issuer, &info, err);
	if (rc < 0)
		return rc;
	pki_name_str(X509_get_subject_name(issuer), name, sizeof(name));
	if (X509_check_ca((X509 *)issuer) != 1 || !info.is_ca)
		return pki_err(err, -EKEYREJECTED, "%s is not a CA certificate", name);
	if (kind == SP_PKI_CERT_INTERMEDIATE && info.path_len == 0 &&
	    !(flags & SP_PKI_ISSUE_UNCHECKED))
		return pki_err(err, -EKEYREJECTED, "%s may not sign CA certificates (pathlen:0)",
			       name);
	if (flags & SP_PKI_ISSUE_UNCHECKED)
		return 0;
	if (now > info.not_after) {
		sp_pki_time_str(info.not_after, when);
		return pki_err(err, -EKEYEXPIRED, "CA certificate %s expired on %s", name, when);
	}
	if (now < info.not_before) {
		sp_pki_time_str(info.not_before, when);
		return pki_err(err, -ETIME, "CA certificate %s is not valid before %s", name,
			       when);
	}
	return 0;
}

/* Work out the trust domain and the SPIFFE ID of what is issued. */
static int
identity_of(const struct sp_pki_cert_spec *spec, const X509 *issuer, char *td, char *id,
	    struct sp_pki_err *err)
{
	char itd[SP_PKI_TD_MAX + 1] = "";
	int rc, kind;

	if (issuer != NULL) {
		struct sp_pki_err e;

		rc = sp_pki_cert_trust_domain(issuer, itd, sizeof(itd), &e);
		if (rc < 0)
			return pki_err(err, rc, "the CA certificate has no trust domain: %s",
				       e.msg);
	}
	switch (spec->kind) {
	case SP_PKI_CERT_ROOT:
	case SP_PKI_CERT_INTERMEDIATE:
		if (spec->trust_domain != NULL)
			rc = pki_copy(td, SP_PKI_TD_MAX + 1, spec->trust_domain);
		else
			rc = pki_copy(td, SP_PKI_TD_MAX + 1, itd);
		if (rc < 0)
			return pki_err(err, -EINVAL, "trust domain too long");
		rc = sp_pki_trust_domain_check(td, err);
		if (rc < 0)
			return rc;
		snprintf(id, SP_PKI_SPIFFE_MAX + 1, "spiffe://%s", td);
		break;
	case SP_PKI_CERT_GATEWAY:
	case SP_PKI_CERT_WORKLOAD:
		kind = sp_pki_spiffe_kind(spec->spiffe_id, NULL, NULL, err);
		if (kind < 0)
			return kind;
		if (kind != (spec->kind == SP_PKI_CERT_GATEWAY ? SP_PKI_ID_GATEWAY :
			     SP_PKI_ID_WORKLOAD))
			return pki_err(err, -EINVAL, "'%.80s' is not a %s SPIFFE ID (%s)",
				       spec->spiffe_id, spec->kind == SP_PKI_CERT_GATEWAY ?
				       "gateway" : "workload", spec->kind == SP_PKI_CERT_GATEWAY ?
				       "spiffe://<td>/segment/<name>" :
				       "spiffe://<td>/ns/<ns>/sa/<name>");
		rc = sp_pki_spiffe_parse(spec->spiffe_id, td, SP_PKI_TD_MAX + 1, NULL, err);
		if (rc < 0)
			return rc;
		snprintf(id, SP_PKI_SPIFFE_MAX + 1, "%s", spec->spiffe_id);
		break;
	default:
		return pki_err(err, -EINVAL, "unknown certificate kind %d", (int)spec->kind);
	}
	if (issuer != NULL && strcmp(td, itd) != 0 && !(spec->flags & SP_PKI_ISSUE_UNCHECKED))
		return pki_err(err, -EXDEV, "'%.80s' is outside the CA's trust domain '%s'", id,
			       itd);
	return 0;
}

/* not_before/not_after from the spec, clamped to the issuer. */
static int
validity(const struct sp_pki_cert_spec *spec, const X509 *issuer, time_t *nb, time_t *na,
	 struct sp_pki_err *err)
{
	static const uint64_t defaults[] = {
		[SP_PKI_CERT_ROOT] = SP_PKI_ROOT_LIFETIME,
		[SP_PKI_CERT_INTERMEDIATE] = SP_PKI_INTERMEDIATE_LIFETIME,
		[SP_PKI_CERT_GATEWAY] = SP_PKI_GATEWAY_LIFETIME,
		[SP_PKI_CERT_WORKLOAD] = SP_PKI_WORKLOAD_LIFETIME,
	};
	uint64_t life = spec->lifetime ? spec->lifetime : defaults[spec->kind];
	time_t ina;

	time_t start = spec->not_before ? spec->not_before : time(NULL);

	/* The lifetime counts from now (the backdate only absorbs clock skew), or from an explicit
	 * not-before. */
	*nb = spec->not_before ? spec->not_before : start - (time_t)spec->backdate;
	if (*nb < 0)
		return pki_err(err, -ERANGE, "not-before before 1970");
	/* 9999-12-31 is the last time X.509 can express. */
	if (life > 253402300799ULL || (uint64_t)start + life > 253402300799ULL)
		return pki_err(err, -ERANGE, "lifetime of %llu s goes past the year 9999",
			       (unsigned long long)life);
	*na = start + (time_t)life;
	if (issuer != NULL) {
		if (sp_pki_asn1_time(X509_get0_notAfter(issuer), &ina) < 0)
			return pki_err(err, -EINVAL, "the CA certificate's validity does not "
				       "parse");
		/* A certificate cannot outlive the CA that vouches for it. */
		if (*na > ina)
			*na = ina;
		if (*na <= *nb && !(spec->flags & SP_PKI_ISSUE_UNCHECKED))
			return pki_err(err, -ERANGE, "the CA certificate expires before the "
				       "requested not-before");
	}
	return 0;
}

static int
add_extensions(X509 *x, const X509 *issuer, const struct sp_pki_cert_spec *spec,
	       const char *td, const char *id, struct sp_pki_err *err)
{
	X509V3_CTX ctx;
	char buf[SP_PKI_SPIFFE_MAX + 32];
	bool ca = spec->kind == SP_PKI_CERT_ROOT || spec->kind == SP_PKI_CERT_INTERMEDIATE;
	int rc;

	/* For a root the issuer is the certificate itself: its AKI repeats its SKI. */
	X509V3_set_ctx(&ctx, (X509 *)(issuer ? issuer : x), x, NULL, NULL, 0);
	rc = add_ext(x, &ctx, NID_basic_constraints, spec->kind == SP_PKI_CERT_ROOT ?
		     "critical,CA:TRUE" : spec->kind == SP_PKI_CERT_INTERMEDIATE ?
		     "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE", err);
	if (rc == 0)
		rc = add_ext(x, &ctx, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" :
			     "critical,digitalSignature", err);
	if (rc == 0 && !ca)
		rc = add_ext(x, &ctx, NID_ext_key_usage,
			     spec->kind == SP_PKI_CERT_GATEWAY ? "serverAuth,clientAuth" :
			     "clientAuth,serverAuth", err);
	if (rc == 0)
		rc = add_ext(x, &ctx, NID_subject_key_identifier, "hash", err);
	if (rc == 0)
		rc = add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err);
	if (rc == 0 && spec->kind == SP_PKI_CERT_INTERMEDIATE) {
		/* RFC 5280 4.2.1.10: a URI constraint names the host; td has no ',' or ';'. */
		snprintf(buf, sizeof(buf), "critical,permitted;URI:%s", td);
		rc = add_ext(x, &ctx, NID_name_constraints, buf, err);
	}
	if (rc == 0) {
		/* The SPIFFE grammar excludes ',', so the ID is one value of the list. */
		snprintf(buf, sizeof(buf), "URI:%s", id);
		rc = add_ext(x, &ctx, NID_subject_alt_name, buf, err);
	}
	return rc;
}

X509 *
sp_pki_issue(const struct sp_pki_cert_spec *spec, const EVP_PKEY *subject_key,
	     const X509 *issuer, const EVP_PKEY *issuer_key, struct sp_pki_err *err)
{
	char td[SP_PKI_TD_MAX + 1], id[SP_PKI_SPIFFE_MAX + 1], cn[72], keyid[41];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const EVP_PKEY *signer;
	time_t nb = 0, na = 0; /* set by validity(); gcc without LTO cannot see it */
	X509 *x = NULL;
	int rc;

	pki_err_clear(err);
	if (spec == NULL || subject_key == NULL || (unsigned int)spec->kind > SP_PKI_CERT_WORKLOAD)
		goto inval;
	if (sp_pki_key_type_of(subject_key) < 0) {
		pki_err(err, -ENOTSUP, "the subject key is not P-256 or Ed25519");
		return NULL;
	}
	if ((spec->kind == SP_PKI_CERT_ROOT) != (issuer == NULL))
		goto inval;
	if (issuer != NULL) {
		rc = check_issuer(issuer, issuer_key, spec->kind, spec->flags, err);
		if (rc < 0)
			return NULL;
		signer = issuer_key;
	} else {
		if (issuer_key != NULL && EVP_PKEY_eq(issuer_key, subject_key) != 1) {
			pki_err(err, -EKEYREJECTED, "a root is signed by its own key");
			return NULL;
		}
		signer = subject_key;
	}
	if (identity_of(spec, issuer, td, id, err) < 0 || validity(spec, issuer, &nb, &na, err) < 0)
		return NULL;

	x = X509_new();
	if (x == NULL) {
		pki_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 || set_serial(x) < 0 ||
	    X509_set_pubkey(x, (EVP_PKEY *)subject_key) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL ||
	    X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) != 1) {
		pki_err_ssl(err, -EPROTO, "cannot build the certificate");
		goto fail;
	}
	pki_hex(md, mdlen > 20 ? 20 : mdlen, keyid);
	if (spec->common_name != NULL)
		snprintf(cn, sizeof(cn), "%.64s", spec->common_name);
	else
		default_cn(spec, td, id, keyid, cn, sizeof(cn));
	if (set_name(x, cn, err) < 0)
		goto fail;
	if (X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) :
				 X509_get_subject_name(x)) != 1) {
		pki_err_ssl(err, -ENOMEM, "cannot set the issuer name");
		goto fail;
	}
	if (add_extensions(x, issuer, spec, td, id, err) < 0)
		goto fail;
	if (X509_sign(x, (EVP_PKEY *)signer, pki_sign_md(signer)) <= 0) {
		pki_err_ssl(err, -EPROTO, "cannot sign the certificate");
		goto fail;
	}
	return x;
inval:
	pki_err(err, -EINVAL, "bad issuance request (a root has no issuer, others need one)");
	return NULL;
fail:
	X509_free(x);
	return NULL;
}
