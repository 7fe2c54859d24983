/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Certificate revocation lists: creation by an issuing CA (v2, reason codes, CRL number, AKI)
 * and the checks a relying party makes before trusting one.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki_private.h"

static const struct {
	int reason;
	const char *name;   /* RFC 5280 */
	const char *alias;
} reasons[] = {
	{ SP_PKI_REASON_UNSPECIFIED, "unspecified", "unspecified" },
	{ SP_PKI_REASON_KEY_COMPROMISE, "keyCompromise", "key-compromise" },
	{ SP_PKI_REASON_CA_COMPROMISE, "cACompromise", "ca-compromise" },
	{ SP_PKI_REASON_AFFILIATION_CHANGED, "affiliationChanged", "affiliation-changed" },
	{ SP_PKI_REASON_SUPERSEDED, "superseded", "superseded" },
	{ SP_PKI_REASON_CESSATION, "cessationOfOperation", "cessation" },
	{ SP_PKI_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn", "privilege-withdrawn" },
};

int
sp_pki_reason_parse(const char *s, enum sp_pki_reason *out)
{
	size_t i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (strcasecmp(s, reasons[i].name) == 0 || strcasecmp(s, reasons[i].alias) == 0) {
			*out = (enum sp_pki_reason)reasons[i].reason;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
sp_pki_reason_name(int reason)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].reason == reason)
			return reasons[i].name;
	return "?";
}

static ASN1_INTEGER *
serial_from_hex(const char *hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai;

	if (BN_hex2bn(&bn, hex) == 0)
		return NULL;
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return ai;
}

static int
add_revoked(X509_CRL *crl, const struct sp_pki_revoked *r, struct sp_pki_err *err)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_INTEGER *serial = serial_from_hex(r->serial);
	ASN1_TIME *when = ASN1_TIME_set(NULL, r->when);
	ASN1_ENUMERATED *reason = NULL;
	int ok = rev != NULL && serial != NULL && when != NULL &&
		 X509_REVOKED_set_serialNumber(rev, serial) == 1 &&
		 X509_REVOKED_set_revocationDate(rev, when) == 1;

	/* RFC 5280 5.3.1: the reason code extension is absent rather than "unspecified". */
	if (ok && r->reason != SP_PKI_REASON_UNSPECIFIED) {
		reason = ASN1_ENUMERATED_new();
		ok = reason != NULL && ASN1_ENUMERATED_set(reason, r->reason) == 1 &&
		     X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0) == 1;
	}
	if (ok)
		ok = X509_CRL_add0_revoked(crl, rev) == 1;
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(when);
	ASN1_INTEGER_free(serial);
	if (!ok) {
		X509_REVOKED_free(rev);
		return pki_err_ssl(err, -EINVAL, "cannot add serial %s to the CRL", r->serial);
	}
	return 0;
}

static int
check_signer(const X509 *ca, const EVP_PKEY *key, time_t now, struct sp_pki_err *err)
{
	char name[SP_PKI_NAME_MAX], when[32];
	time_t na;
	int rc = sp_pki_key_matches_cert(key, ca, err);

	if (rc < 0)
		return pki_err(err, rc, "the CA key does not match the CA certificate");
	pki_name_str(X509_get_subject_name(ca), name, sizeof(name));
	if (X509_check_ca((X509 *)ca) != 1 ||
	    !(X509_get_key_usage((X509 *)ca) & KU_CRL_SIGN))
		return pki_err(err, -EKEYREJECTED, "%s may not sign CRLs", name);
	if (sp_pki_asn1_time(X509_get0_notAfter(ca), &na) < 0)
		return pki_err(err, -EINVAL, "%s: bad not-after", name);
	if (na < now) {
		sp_pki_time_str(na, when);
		return pki_err(err, -EKEYEXPIRED, "CA certificate %s expired on %s", name, when);
	}
	return 0;
}

X509_CRL *
sp_pki_crl_create(const X509 *ca, const EVP_PKEY *ca_key, const struct sp_pki_revoked *revoked,
		  size_t n, uint64_t crl_number, time_t this_update, uint64_t lifetime,
		  struct sp_pki_err *err)
{
	time_t now = time(NULL), tu = this_update ? this_update : now;
	uint64_t life = lifetime ? lifetime : SP_PKI_CRL_LIFETIME;
	ASN1_TIME *t_this = NULL, *t_next = NULL;
	ASN1_INTEGER *num = NULL;
	X509_EXTENSION *aki = NULL;
	X509_CRL *crl = NULL;
	X509V3_CTX ctx;
	size_t i;

	pki_err_clear(err);
	if (ca == NULL || ca_key == NULL || (n > 0 && revoked == NULL) || tu < 0 ||
	    life > 100ULL * 366 * SP_PKI_DAY) {
		pki_err(err, -EINVAL, "bad CRL request");
		return NULL;
	}
	if (check_signer(ca, ca_key, now, err) < 0)
		return NULL;
	crl = X509_CRL_new();
	t_this = ASN1_TIME_set(NULL, tu);
	t_next = ASN1_TIME_set(NULL, tu + (time_t)life);
	num = ASN1_INTEGER_new();
	if (crl == NULL || t_this == NULL || t_next == NULL || num == NULL ||
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, t_this) != 1 ||
	    X509_CRL_set1_nextUpdate(crl, t_next) != 1 ||
	    ASN1_INTEGER_set_uint64(num, crl_number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1) {
		pki_err_ssl(err, -ENOMEM, "cannot build the CRL");
		goto fail;
	}
	X509V3_set_ctx(&ctx, (X509 *)ca, NULL, NULL, crl, 0);
	aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	if (aki == NULL || X509_CRL_add_ext(crl, aki, -1) != 1) {
		pki_err_ssl(err, -EPROTO, "cannot add the authority key identifier");
		goto fail;
	}
	for (i = 0; i < n; i++)
		if (add_revoked(crl, &revoked[i], err) < 0)
			goto fail;
	if (X509_CRL_sort(crl) != 1 ||
	    X509_CRL_sign(crl, (EVP_PKEY *)ca_key, pki_sign_md(ca_key)) <= 0) {
		pki_err_ssl(err, -EPROTO, "cannot sign the CRL");
		goto fail;
	}
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t_next);
	ASN1_TIME_free(t_this);
	return crl;
fail:
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t_next);
	ASN1_TIME_free(t_this);
	X509_CRL_free(crl);
	return NULL;
}

int
sp_pki_crl_times(const X509_CRL *crl, time_t *this_update, time_t *next_update)
{
	const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);

	if (sp_pki_asn1_time(X509_CRL_get0_lastUpdate(crl), this_update) < 0)
		return -EINVAL;
	if (nu == NULL) {
		*next_update = 0;  /* RFC 5280 requires it; ours always have it */
		return 0;
	}
	return sp_pki_asn1_time(nu, next_update);
}

int
sp_pki_crl_check(X509_CRL *crl, const X509 *ca, time_t at, struct sp_pki_err *err)
{
	char cname[SP_PKI_NAME_MAX], iname[SP_PKI_NAME_MAX], when[32];
	const ASN1_OCTET_STRING *ski;
	AUTHORITY_KEYID *akid;
	time_t tu, nu;
	int rc = 0;

	pki_err_clear(err);
	if (crl == NULL || ca == NULL)
		return pki_err(err, -EINVAL, "no CRL or no CA certificate");
	pki_name_str(X509_get_subject_name(ca), cname, sizeof(cname));
	pki_name_str(X509_CRL_get_issuer(crl), iname, sizeof(iname));
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0)
		return pki_err(err, -EBADE, "the CRL is issued by %s, not by %s", iname, cname);
	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	ski = X509_get0_subject_key_id((X509 *)ca);
	if (akid != NULL && akid->keyid != NULL && ski != NULL &&
	    ASN1_OCTET_STRING_cmp(akid->keyid, ski) != 0)
		rc = pki_err(err, -EBADE, "the CRL names %s but another key (authority key "
			     "identifier differs): a CRL from the wrong CA", iname);
	AUTHORITY_KEYID_free(akid);
	if (rc < 0)
		return rc;
	if (X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1)
		return pki_err(err, -EBADE, "the CRL's signature does not verify with the key of "
			       "%s: a CRL from the wrong CA", cname);
	if (sp_pki_crl_times(crl, &tu, &nu) < 0)
		return pki_err(err, -EINVAL, "the CRL's update times do not parse");
	if (at != 0 && at < tu) {
		sp_pki_time_str(tu, when);
		return pki_err(err, -ESTALE, "the CRL is not valid before %s", when);
	}
	if (at != 0 && nu != 0 && at > nu) {
		sp_pki_time_str(nu, when);
		return pki_err(err, -ESTALE, "the CRL is stale: its next update was due %s", when);
	}
	ERR_clear_error();
	return 0;
}

int
sp_pki_crl_lookup(X509_CRL *crl, const X509 *cert, int *reason)
{
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *e;
	int r;

	if (crl == NULL || cert == NULL)
		return -EINVAL;
	r = X509_CRL_get0_by_cert(crl, &rev, (X509 *)cert);
	if (r != 1) {
		ERR_clear_error();
		return 0;
	}
	if (reason != NULL) {
		e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
		*reason = e ? (int)ASN1_ENUMERATED_get(e) : SP_PKI_REASON_UNSPECIFIED;
		ASN1_ENUMERATED_free(e);
	}
	ERR_clear_error();
	return 1;
}

int
sp_pki_crl_number(const X509_CRL *crl, uint64_t *out)
{
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	int ok;

	if (num == NULL) {
		ERR_clear_error();
		return -ENOENT;
	}
	ok = ASN1_INTEGER_get_uint64(out, num) == 1;
	ASN1_INTEGER_free(num);
	ERR_clear_error();
	return ok ? 0 : -ERANGE;
}
