/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pki: issuance, verification (table-driven: every problem with its errno, depth and
 * message), CRLs, CSR policy refusals, tokens, the audit chain, key files and bad PEM.
 *
 * All objects are made once by setup(): two roots (P-256 and Ed25519) of trust domain
 * a.example, their intermediates, and leaves crafted for each failure, some by bypassing the
 * library's own issuance checks (SP_PKI_ISSUE_UNCHECKED) or by plain OpenSSL calls.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "sp_pki.h"
#include "test_common.h"

#define TD "a.example"

struct ca {
	EVP_PKEY *key;
	X509 *cert;
};

static char dir[64];
static time_t now;

/* Roots, intermediates and leaves shared by the tests. */
static struct ca r1, r2, i1, ie, i_exp, i_rev, i_imp, l_good_ca;
static X509 *l_good, *l_ed, *l_mixed, *l_expired, *l_future, *l_foreign, *l_revoked;
static X509 *l_under_exp, *l_under_rev, *l_badsig, *l_from_leaf;
static X509_CRL *crl_i1, *crl_r1, *crl_irev, *crl_i1_stale, *crl_imp, *crl_ie;

static char *
path_of(const char *name)
{
	static char buf[4][256];
	static int n;
	char *p = buf[n++ & 3];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static X509 *
issue(enum sp_pki_cert_kind kind, const char *id, EVP_PKEY *key, const struct ca *iss,
      time_t nb, uint64_t life, unsigned int flags, const char *cn)
{
	struct sp_pki_cert_spec spec = {
		.kind = kind,
		.not_before = nb,
		.lifetime = life,
		.flags = flags,
		.common_name = cn,
	};
	struct sp_pki_err err;
	X509 *x;

	if (kind == SP_PKI_CERT_ROOT || kind == SP_PKI_CERT_INTERMEDIATE)
		spec.trust_domain = id;
	else
		spec.spiffe_id = id;
	x = sp_pki_issue(&spec, key, iss ? iss->cert : NULL, iss ? iss->key : NULL, &err);
	if (x == NULL)
		fprintf(stderr, "issue %s: %s\n", id ? id : "(td)", err.msg);
	return x;
}

static struct ca
mk_ca(const struct ca *root, const char *td, enum sp_pki_key_type t, time_t nb, uint64_t life,
      unsigned int flags, const char *cn)
{
	struct ca c;

	c.key = sp_pki_key_generate(t, NULL);
	c.cert = issue(root ? SP_PKI_CERT_INTERMEDIATE : SP_PKI_CERT_ROOT, td, c.key, root, nb,
		       life, flags, cn);
	return c;
}

static X509 *
mk_leaf(const struct ca *iss, const char *id, enum sp_pki_key_type t, time_t nb, uint64_t life,
	unsigned int flags, EVP_PKEY **keep)
{
	EVP_PKEY *k = sp_pki_key_generate(t, NULL);
	enum sp_pki_cert_kind kind = strstr(id, "/segment/") ? SP_PKI_CERT_GATEWAY :
				     SP_PKI_CERT_WORKLOAD;
	X509 *x = issue(kind, id, k, iss, nb, life, flags, NULL);

	if (keep != NULL)
		*keep = k;
	else
		EVP_PKEY_free(k);
	return x;
}

static X509_CRL *
mk_crl(const struct ca *ca, const X509 *revoke, time_t tu, uint64_t life)
{
	struct sp_pki_revoked r = { .reason = SP_PKI_REASON_KEY_COMPROMISE, .when = now };
	struct sp_pki_err err;
	X509_CRL *crl;

	if (revoke != NULL)
		sp_pki_cert_serial(revoke, r.serial, sizeof(r.serial));
	/* Issued a minute before the suite's clock: set-up can take seconds (ASan, a loaded
	 * machine), and a CRL issued after `now` is not valid yet at `now`. */
	crl = sp_pki_crl_create(ca->cert, ca->key, &r, revoke ? 1 : 0, 1, tu ? tu : now - 60, life,
				&err);
	if (crl == NULL)
		fprintf(stderr, "crl: %s\n", err.msg);
	return crl;
}

/* A leaf "issued" by another leaf, with plain OpenSSL (the library refuses to). */
static X509 *
craft_from_leaf(const X509 *issuer, EVP_PKEY *issuer_key)
{
	EVP_PKEY *k = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	X509 *x = X509_new();
	X509V3_CTX ctx;
	static const struct {
		int nid;
		const char *v;
	} exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
		{ NID_subject_alt_name, "URI:spiffe://" TD "/segment/sub" },
	};
	size_t i;

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_set_pubkey(x, k);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
				   (const unsigned char *)"sub", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer));
	X509V3_set_ctx(&ctx, (X509 *)issuer, x, NULL, NULL, 0);
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].v);

		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(x, issuer_key, EVP_sha256());
	EVP_PKEY_free(k);
	return x;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
suite_init(void)
{
	char cn[80];
	EVP_PKEY *other;

	snprintf(dir, sizeof(dir), "/tmp/sp_pki_test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	now = time(NULL);
	/* CAs valid since yesterday: leaves can be checked at times in the past hours. */
	r1 = mk_ca(NULL, TD, SP_PKI_KEY_P256, now - 86400, 0, 0, NULL);
	r2 = mk_ca(NULL, TD, SP_PKI_KEY_ED25519, now - 86400, 0, 0, NULL);
	i1 = mk_ca(&r1, TD, SP_PKI_KEY_P256, now - 86400, 0, 0, NULL);
	ie = mk_ca(&r2, TD, SP_PKI_KEY_ED25519, now - 86400, 0, 0, NULL);
	i_exp = mk_ca(&r1, TD, SP_PKI_KEY_P256, now - 7200, 3600, SP_PKI_ISSUE_UNCHECKED, NULL);
	i_rev = mk_ca(&r1, TD, SP_PKI_KEY_P256, 0, 0, 0, NULL);
	/* An impostor: another key under the very same name as i1. */
	X509_NAME_get_text_by_NID(X509_get_subject_name(i1.cert), NID_commonName, cn,
				  sizeof(cn));
	i_imp = mk_ca(&r2, TD, SP_PKI_KEY_P256, 0, 0, 0, cn);

	l_good = mk_leaf(&i1, "spiffe://" TD "/segment/edge", SP_PKI_KEY_P256, 0, 3600, 0,
			 &l_good_ca.key);
	l_good_ca.cert = l_good;
	l_ed = mk_leaf(&ie, "spiffe://" TD "/ns/prod/sa/web", SP_PKI_KEY_ED25519, 0, 3600, 0,
		       NULL);
	l_mixed = mk_leaf(&i1, "spiffe://" TD "/ns/prod/sa/db", SP_PKI_KEY_ED25519, 0, 3600, 0,
			  NULL);
	l_expired = mk_leaf(&i1, "spiffe://" TD "/segment/old", SP_PKI_KEY_P256, now - 7200,
			    3600, 0, NULL);
	l_future = mk_leaf(&i1, "spiffe://" TD "/segment/new", SP_PKI_KEY_P256, now + 3600, 3600,
			   0, NULL);
	l_foreign = mk_leaf(&i1, "spiffe://b.example/segment/edge", SP_PKI_KEY_P256, 0, 3600,
			    SP_PKI_ISSUE_UNCHECKED, NULL);
	l_revoked = mk_leaf(&i1, "spiffe://" TD "/ns/prod/sa/gone", SP_PKI_KEY_P256, 0, 3600, 0,
			    NULL);
	l_under_exp = mk_leaf(&i_exp, "spiffe://" TD "/segment/late", SP_PKI_KEY_P256, 0, 3600,
			      SP_PKI_ISSUE_UNCHECKED, NULL);
	l_under_rev = mk_leaf(&i_rev, "spiffe://" TD "/segment/orphan", SP_PKI_KEY_P256, 0, 3600,
			      0, NULL);
	/* Same content as a good leaf of i1, signed by someone else. */
	l_badsig = mk_leaf(&i1, "spiffe://" TD "/segment/forged", SP_PKI_KEY_P256, 0, 3600, 0,
			   NULL);
	other = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	X509_sign(l_badsig, other, EVP_sha256());
	EVP_PKEY_free(other);
	l_from_leaf = craft_from_leaf(l_good, l_good_ca.key);

	crl_i1 = mk_crl(&i1, l_revoked, 0, 3600);
	crl_r1 = mk_crl(&r1, i_rev.cert, 0, 3600);
	crl_irev = mk_crl(&i_rev, NULL, 0, 3600);
	crl_i1_stale = mk_crl(&i1, NULL, now - 7200, 3600);
	crl_imp = mk_crl(&i_imp, NULL, 0, 3600);
	crl_ie = mk_crl(&ie, NULL, 0, 3600);
	if (!r1.cert || !r2.cert || !i1.cert || !ie.cert || !i_exp.cert || !i_rev.cert ||
	    !i_imp.cert || !l_good || !l_ed || !l_mixed || !l_expired || !l_future ||
	    !l_foreign || !l_revoked || !l_under_exp || !l_under_rev || !l_badsig ||
	    !l_from_leaf || !crl_i1 || !crl_r1 || !crl_irev || !crl_i1_stale || !crl_imp ||
	    !crl_ie)
		return -1;
	return 0;
}

static void
ca_free(struct ca *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
}

static int
suite_clean(void)
{
	ca_free(&r1);
	ca_free(&r2);
	ca_free(&i1);
	ca_free(&ie);
	ca_free(&i_exp);
	ca_free(&i_rev);
	ca_free(&i_imp);
	EVP_PKEY_free(l_good_ca.key);
	X509_free(l_good);
	X509_free(l_ed);
	X509_free(l_mixed);
	X509_free(l_expired);
	X509_free(l_future);
	X509_free(l_foreign);
	X509_free(l_revoked);
	X509_free(l_under_exp);
	X509_free(l_under_rev);
	X509_free(l_badsig);
	X509_free(l_from_leaf);
	X509_CRL_free(crl_i1);
	X509_CRL_free(crl_r1);
	X509_CRL_free(crl_irev);
	X509_CRL_free(crl_i1_stale);
	X509_CRL_free(crl_imp);
	X509_CRL_free(crl_ie);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- SPIFFE IDs ---- */

static void
test_spiffe_parse(void)
{
	static char long_ok[SP_PKI_SPIFFE_MAX + 1], too_long[SP_PKI_SPIFFE_MAX + 2];
	static const struct {
		const char *id;
		int rc;
		const char *td;
		const char *path;
		const char *why;  /* the end of the message */
	} cases[] = {
		{ "spiffe://a.example/ns/prod/sa/web", 0, "a.example", "/ns/prod/sa/web", NULL },
		{ "spiffe://a.example", 0, "a.example", "", NULL },
		{ "spiffe://x_y-z.0/Seg.MENT-1_", 0, "x_y-z.0", "/Seg.MENT-1_", NULL },
		{ "SPIFFE://a.example/x", -EINVAL, NULL, NULL, "lower-case 'spiffe://'" },
		{ "https://a.example/x", -EINVAL, NULL, NULL, "not a spiffe:// URI" },
		{ "spiffe://A.example/x", -EINVAL, NULL, NULL, "must be lower case)" },
		{ "spiffe:///x", -EINVAL, NULL, NULL, "empty trust domain" },
		{ "spiffe://a.example:443/x", -EINVAL, NULL, NULL, "port is not allowed in the "
		  "trust domain" },
		{ "spiffe://u@a.example/x", -EINVAL, NULL, NULL, "userinfo is not allowed in a "
		  "SPIFFE ID" },
		{ "spiffe://a.example/x?y=1", -EINVAL, NULL, NULL, "a query is not allowed" },
		{ "spiffe://a.example/x#f", -EINVAL, NULL, NULL, "a fragment is not allowed" },
		{ "spiffe://a.example?y", -EINVAL, NULL, NULL, "a query is not allowed" },
		{ "spiffe://a.example/a//b", -EINVAL, NULL, NULL, "empty path segment" },
		{ "spiffe://a.example/a/", -EINVAL, NULL, NULL, "trailing slash" },
		{ "spiffe://a.example/", -EINVAL, NULL, NULL, "trailing slash" },
		{ "spiffe://a.example/./a", -EINVAL, NULL, NULL, "are not allowed" },
		{ "spiffe://a.example/a/..", -EINVAL, NULL, NULL, "are not allowed" },
		{ "spiffe://a.example/%41", -EINVAL, NULL, NULL,
		  "percent-encoding is not allowed" },
		{ "spiffe://a.example/a b", -EINVAL, NULL, NULL, "must be [A-Za-z0-9.-_]" },
		{ "spiffe://a.ex*ample/a", -EINVAL, NULL, NULL, "must be [a-z0-9.-_]" },
		{ "", -EINVAL, NULL, NULL, "not a spiffe:// URI" },
	};
	struct sp_pki_err err;
	char td[SP_PKI_TD_MAX + 1];
	const char *path;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = sp_pki_spiffe_parse(cases[i].id, td, sizeof(td), &path, &err);

		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc != cases[i].rc)
			fprintf(stderr, "case %zu '%s': %d %s\n", i, cases[i].id, rc, err.msg);
		if (cases[i].rc == 0 && rc == 0) {
			CU_ASSERT_STRING_EQUAL(td, cases[i].td);
			CU_ASSERT_STRING_EQUAL(path, cases[i].path);
		}
		if (cases[i].why != NULL) {
			size_t n = strlen(err.msg), m = strlen(cases[i].why);

			CU_ASSERT(n >= m && strcmp(err.msg + n - m, cases[i].why) == 0);
			CU_ASSERT_EQUAL(err.code, cases[i].rc);
		}
	}
	/* Exactly the maximum length is fine, one more byte is not. */
	memset(long_ok, 'a', sizeof(long_ok) - 1);
	memcpy(long_ok, "spiffe://t/", 11);
	CU_ASSERT_EQUAL(strlen(long_ok), SP_PKI_SPIFFE_MAX);
	CU_ASSERT_EQUAL(sp_pki_spiffe_parse(long_ok, NULL, 0, NULL, NULL), 0);
	memset(too_long, 'a', sizeof(too_long) - 1);
	memcpy(too_long, "spiffe://t/", 11);
	CU_ASSERT_EQUAL(sp_pki_spiffe_parse(too_long, NULL, 0, NULL, &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "SPIFFE ID longer than 2048 bytes");
}

static void
test_spiffe_kind(void)
{
	static const struct {
		const char *id;
		int kind;
		const char *ns, *name;
	} cases[] = {
		{ "spiffe://t/segment/edge-1", SP_PKI_ID_GATEWAY, "", "edge-1" },
		{ "spiffe://t/ns/prod/sa/web", SP_PKI_ID_WORKLOAD, "prod", "web" },
		{ "spiffe://t", SP_PKI_ID_TRUST_DOMAIN, "", "" },
		{ "spiffe://t/ns/prod/sa/web/extra", SP_PKI_ID_OTHER, "", "" },
		{ "spiffe://t/segment", SP_PKI_ID_OTHER, "", "" },
		{ "spiffe://t/ns/prod/svc/web", SP_PKI_ID_OTHER, "", "" },
		{ "spiffe://t/a/b/c/d/e/f", SP_PKI_ID_OTHER, "", "" },
		{ "spiffe://t/ns//sa/web", -EINVAL, "", "" },
	};
	char ns[SP_PKI_SEGMENT_MAX + 1], name[SP_PKI_SEGMENT_MAX + 1], id[SP_PKI_SPIFFE_MAX + 1];
	struct sp_pki_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ns[0] = name[0] = '\0';
		CU_ASSERT_EQUAL(sp_pki_spiffe_kind(cases[i].id, ns, name, NULL), cases[i].kind);
		CU_ASSERT_STRING_EQUAL(ns, cases[i].ns);
		CU_ASSERT_STRING_EQUAL(name, cases[i].name);
	}
	CU_ASSERT_EQUAL(sp_pki_spiffe_gateway(id, sizeof(id), TD, "edge", &err), 0);
	CU_ASSERT_STRING_EQUAL(id, "spiffe://a.example/segment/edge");
	CU_ASSERT_EQUAL(sp_pki_spiffe_workload(id, sizeof(id), TD, "prod", "web", &err), 0);
	CU_ASSERT_STRING_EQUAL(id, "spiffe://a.example/ns/prod/sa/web");
	CU_ASSERT_EQUAL(sp_pki_spiffe_workload(id, sizeof(id), TD, "a/b", "web", &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "bad namespace 'a/b': characters must be [A-Za-z0-9.-_]");
	CU_ASSERT_EQUAL(sp_pki_spiffe_gateway(id, sizeof(id), "Bad", "x", &err), -EINVAL);
	CU_ASSERT_EQUAL(sp_pki_spiffe_gateway(id, sizeof(id), TD, "..", &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "gateway name cannot be '..'");
	CU_ASSERT_EQUAL(sp_pki_spiffe_gateway(id, 20, TD, "edge", &err), -ENAMETOOLONG);
}

/* ---- issuance ---- */

static void
test_issue_contents(void)
{
	struct sp_pki_cert_info info;
	struct sp_pki_err err;
	char id[SP_PKI_SPIFFE_MAX + 1];
	const char *p;
	time_t nb;

	CU_ASSERT_EQUAL_FATAL(sp_pki_cert_info(r1.cert, &info, &err), 0);
	CU_ASSERT(info.is_ca && info.self_signed);
	CU_ASSERT_EQUAL(info.path_len, -1);
	CU_ASSERT_STRING_EQUAL(info.spiffe_id, "spiffe://a.example");
	CU_ASSERT_EQUAL(info.key_type, SP_PKI_KEY_P256);
	CU_ASSERT_EQUAL(info.not_after - info.not_before, (time_t)SP_PKI_ROOT_LIFETIME);
	CU_ASSERT_EQUAL(X509_get_key_usage(r1.cert), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	CU_ASSERT_STRING_EQUAL(info.name_constraint, "");

	CU_ASSERT_EQUAL_FATAL(sp_pki_cert_info(i1.cert, &info, &err), 0);
	CU_ASSERT(info.is_ca && !info.self_signed);
	CU_ASSERT_EQUAL(info.path_len, 0);
	CU_ASSERT_STRING_EQUAL(info.name_constraint, TD);
	CU_ASSERT_EQUAL(strlen(info.serial), 32);
	CU_ASSERT(strncmp(info.subject, "CN=a.example intermediate ", 26) == 0);
	CU_ASSERT_EQUAL(sp_pki_cert_info(ie.cert, &info, &err), 0);
	CU_ASSERT_EQUAL(info.key_type, SP_PKI_KEY_ED25519);

	CU_ASSERT_EQUAL_FATAL(sp_pki_cert_info(l_good, &info, &err), 0);
	CU_ASSERT(!info.is_ca);
	CU_ASSERT_STRING_EQUAL(info.spiffe_id, "spiffe://a.example/segment/edge");
	CU_ASSERT_STRING_EQUAL(info.subject, "CN=spiffe://a.example/segment/edge, O=sallyport");
	CU_ASSERT_EQUAL(info.not_after - info.not_before, 3600);
	CU_ASSERT_EQUAL(X509_get_key_usage(l_good), KU_DIGITAL_SIGNATURE);
	CU_ASSERT_EQUAL(X509_get_extended_key_usage(l_good), XKU_SSL_SERVER | XKU_SSL_CLIENT);
	CU_ASSERT_EQUAL(X509_check_ca(l_good), 0);
	CU_ASSERT_EQUAL(sp_pki_cert_renew_at(l_good), info.not_before + 2400);
	CU_ASSERT_EQUAL(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(l_good),
					      X509_get0_subject_key_id(i1.cert)), 0);
	CU_ASSERT_EQUAL(sp_pki_cert_spiffe_id(l_ed, id, sizeof(id), &err), 0);
	CU_ASSERT_STRING_EQUAL(id, "spiffe://a.example/ns/prod/sa/web");
	CU_ASSERT_EQUAL(sp_pki_cert_spiffe_id(l_ed, id, 10, &err), -ENAMETOOLONG);

	/* Serials: 128 bits, positive, all different. */
	{
		char a[41], b[41], c[41];

		sp_pki_cert_serial(l_good, a, sizeof(a));
		sp_pki_cert_serial(l_mixed, b, sizeof(b));
		sp_pki_cert_serial(i1.cert, c, sizeof(c));
		CU_ASSERT(strlen(a) == 32 && strlen(b) == 32 && strcmp(a, b) && strcmp(a, c));
		CU_ASSERT(a[0] >= '4' && a[0] <= '7');
		CU_ASSERT_EQUAL(ASN1_STRING_type(X509_get0_serialNumber(l_good)),
				V_ASN1_INTEGER);
	}
	/* A CA cannot vouch beyond its own life: the leaf's not-after is clamped. */
	{
		X509 *x = mk_leaf(&i1, "spiffe://" TD "/segment/long", SP_PKI_KEY_P256, 0,
				  50 * 365 * SP_PKI_DAY, 0, NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(x);
		CU_ASSERT_EQUAL(ASN1_TIME_compare(X509_get0_notAfter(x),
						  X509_get0_notAfter(i1.cert)), 0);
		X509_free(x);
	}
	/* Future not-before for tests. */
	CU_ASSERT_EQUAL(sp_pki_asn1_time(X509_get0_notBefore(l_future), &nb), 0);
	CU_ASSERT_EQUAL(nb, now + 3600);
	p = "2030-01-02T03:04:05Z";
	CU_ASSERT_EQUAL(sp_pki_time_parse(p, now, &nb), 0);
	CU_ASSERT_EQUAL(nb, 1893553445);
	CU_ASSERT_EQUAL(sp_pki_time_parse("-60", 1000, &nb), 0);
	CU_ASSERT_EQUAL(nb, 940);
	CU_ASSERT_EQUAL(sp_pki_time_parse("tomorrow", 1000, &nb), -EINVAL);
}

static void
test_issue_refusals(void)
{
	struct sp_pki_cert_spec spec = { .kind = SP_PKI_CERT_GATEWAY, .lifetime = 60 };
	EVP_PKEY *k = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	struct sp_pki_err err;
	X509 *x;

	/* A foreign trust domain, without the test-only bypass. */
	spec.spiffe_id = "spiffe://b.example/segment/edge";
	CU_ASSERT_PTR_NULL(sp_pki_issue(&spec, k, i1.cert, i1.key, &err));
	CU_ASSERT_EQUAL(err.code, -EXDEV);
	CU_ASSERT_STRING_EQUAL(err.msg, "'spiffe://b.example/segment/edge' is outside the CA's "
			       "trust domain 'a.example'");
	/* The wrong shape for the kind. */
	spec.spiffe_id = "spiffe://" TD "/ns/a/sa/b";
	CU_ASSERT_PTR_NULL(sp_pki_issue(&spec, k, i1.cert, i1.key, &err));
	CU_ASSERT_EQUAL(err.code, -EINVAL);
	/* An expired CA signs nothing. */
	spec.spiffe_id = "spiffe://" TD "/segment/edge";
	CU_ASSERT_PTR_NULL(sp_pki_issue(&spec, k, i_exp.cert, i_exp.key, &err));
	CU_ASSERT_EQUAL(err.code, -EKEYEXPIRED);
	CU_ASSERT(strstr(err.msg, "expired on") != NULL);
	/* The key must be the CA's. */
	CU_ASSERT_PTR_NULL(sp_pki_issue(&spec, k, i1.cert, r1.key, &err));
	CU_ASSERT_EQUAL(err.code, -EKEYREJECTED);
	CU_ASSERT_STRING_EQUAL(err.msg, "the CA key does not match the CA certificate");
	/* A leaf is no CA. */
	CU_ASSERT_PTR_NULL(sp_pki_issue(&spec, k, l_good, l_good_ca.key, &err));
	CU_ASSERT_EQUAL(err.code, -EKEYREJECTED);
	CU_ASSERT(strstr(err.msg, "is not a CA certificate") != NULL);
	/* pathlen:0: an intermediate issues no CA. */
	spec.kind = SP_PKI_CERT_INTERMEDIATE;
	CU_ASSERT_PTR_NULL(sp_pki_issue(&spec, k, i1.cert, i1.key, &err));
	CU_ASSERT_EQUAL(err.code, -EKEYREJECTED);
	CU_ASSERT(strstr(err.msg, "may not sign CA certificates (pathlen:0)") != NULL);
	/* Roots have no issuer; the others need one. */
	spec.kind = SP_PKI_CERT_ROOT;
	spec.trust_domain = TD;
	CU_ASSERT_PTR_NULL(sp_pki_issue(&spec, k, i1.cert, i1.key, &err));
	CU_ASSERT_EQUAL(err.code, -EINVAL);
	spec.trust_domain = "Bad_TD";
	CU_ASSERT_PTR_NULL(sp_pki_issue(&spec, k, NULL, NULL, &err));
	CU_ASSERT_EQUAL(err.code, -EINVAL);
	spec.trust_domain = TD;
	spec.lifetime = 20000ULL * 365 * SP_PKI_DAY;
	CU_ASSERT_PTR_NULL(sp_pki_issue(&spec, k, NULL, NULL, &err));
	CU_ASSERT_EQUAL(err.code, -ERANGE);
	spec.lifetime = 60;
	x = sp_pki_issue(&spec, k, NULL, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL(x);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* ---- verification ---- */

enum { B_R1 = 1, B_R2 = 2 };

struct vcase {
	const char *name;
	X509 **leaf;
	X509 **untrusted[2];
	int bundle;
	X509_CRL **crls[3];
	const char *expect_id;
	const char *expect_td;
	time_t at_offset;       /* verification time relative to now (0: now) */
	int want;
	int depth;              /* of the problem */
	const char *msg;        /* the message starts with it */
};

static void
run_vcase(const struct vcase *c)
{
	STACK_OF(X509) *bundle = sk_X509_new_null(), *untrusted = sk_X509_new_null();
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	struct sp_pki_verify_opts o = { .expect_id = c->expect_id, .expect_td = c->expect_td };
	struct sp_pki_verify_result res;
	struct sp_pki_err err;
	int i, rc;

	if (c->bundle & B_R1)
		sk_X509_push(bundle, r1.cert);
	if (c->bundle & B_R2)
		sk_X509_push(bundle, r2.cert);
	for (i = 0; i < 2 && c->untrusted[i]; i++)
		sk_X509_push(untrusted, *c->untrusted[i]);
	for (i = 0; i < 3 && c->crls[i]; i++)
		sk_X509_CRL_push(crls, *c->crls[i]);
	o.crls = crls;
	if (c->at_offset)
		o.at = now + c->at_offset;
	rc = sp_pki_verify(*c->leaf, untrusted, bundle, &o, &res, &err);
	if (rc != c->want || (rc < 0 && (err.depth != c->depth ||
					 strncmp(err.msg, c->msg, strlen(c->msg)) != 0)))
		fprintf(stderr, "\n  case '%s': rc %d (want %d) depth %d: %s\n", c->name, rc,
			c->want, err.depth, err.msg);
	CU_ASSERT_EQUAL(rc, c->want);
	if (c->want < 0) {
		CU_ASSERT_EQUAL(err.code, c->want);
		CU_ASSERT_EQUAL(err.depth, c->depth);
		CU_ASSERT(strncmp(err.msg, c->msg, strlen(c->msg)) == 0);
		CU_ASSERT_STRING_EQUAL(sp_pki_verify_problem(c->want),
				       strndupa(c->msg, strcspn(c->msg, ":")));
	} else {
		char id[SP_PKI_SPIFFE_MAX + 1];

		sp_pki_cert_spiffe_id(*c->leaf, id, sizeof(id), NULL);
		CU_ASSERT_STRING_EQUAL(res.spiffe_id, id);
		CU_ASSERT_EQUAL(res.chain_len, 3);
		CU_ASSERT(res.chain_not_after <= res.not_after);
	}
	sk_X509_CRL_free(crls);
	sk_X509_free(untrusted);
	sk_X509_free(bundle);
}

static void
test_verify(void)
{
	static const struct vcase cases[] = {
		{ "good chain, P-256", &l_good, { &i1.cert }, B_R1, { NULL }, NULL, NULL, 0, 0, 0,
		  "" },
		{ "good chain, Ed25519", &l_ed, { &ie.cert }, B_R2, { NULL }, NULL, NULL, 0, 0, 0,
		  "" },
		{ "Ed25519 leaf under P-256, two roots", &l_mixed, { &i1.cert }, B_R1 | B_R2,
		  { NULL }, NULL, NULL, 0, 0, 0, "" },
		{ "good chain with CRLs and expected ID", &l_good, { &i1.cert }, B_R1,
		  { &crl_i1, &crl_r1 }, "spiffe://a.example/segment/edge", TD, 0, 0, 0, "" },
		{ "expired leaf", &l_expired, { &i1.cert }, B_R1, { NULL }, NULL, NULL, 0,
		  -EKEYEXPIRED, 0, "expired: depth 0 (CN=spiffe://a.example/segment/old, "
		  "O=sallyport): certificate has expired (not after " },
		{ "the expired leaf at a time it was valid", &l_expired, { &i1.cert }, B_R1,
		  { NULL }, NULL, NULL, -5000, 0, 0, "" },
		{ "not yet valid", &l_future, { &i1.cert }, B_R1, { NULL }, NULL, NULL, 0, -ETIME,
		  0, "not-yet-valid: depth 0 (CN=spiffe://a.example/segment/new, O=sallyport): "
		  "certificate is not yet valid (not before " },
		{ "wrong root", &l_good, { &i1.cert }, B_R2, { NULL }, NULL, NULL, 0, -ENOKEY, 1,
		  "unknown-issuer: depth 1 (CN=a.example intermediate " },
		{ "wrong SAN", &l_good, { &i1.cert }, B_R1, { NULL },
		  "spiffe://a.example/segment/other", NULL, 0, -EACCES, 0,
		  "wrong-identity: depth 0: the certificate is for 'spiffe://a.example/segment/"
		  "edge', not 'spiffe://a.example/segment/other'" },
		{ "wrong trust domain", &l_good, { &i1.cert }, B_R1, { NULL }, NULL, "b.example", 0,
		  -EACCES, 0, "wrong-identity: depth 0: 'spiffe://a.example/segment/edge' is not "
		  "in trust domain 'b.example'" },
		{ "name constraint violated", &l_foreign, { &i1.cert }, B_R1, { NULL }, NULL, NULL,
		  0, -EPERM, 0, "name-constraints: depth 0 (CN=spiffe://b.example/segment/edge, "
		  "O=sallyport): permitted subtree violation" },
		{ "revoked leaf", &l_revoked, { &i1.cert }, B_R1, { &crl_i1, &crl_r1 }, NULL, NULL,
		  0, -EKEYREVOKED, 0, "revoked: depth 0 (CN=spiffe://a.example/ns/prod/sa/gone, "
		  "O=sallyport): certificate revoked" },
		{ "revoked intermediate", &l_under_rev, { &i_rev.cert }, B_R1,
		  { &crl_irev, &crl_r1 }, NULL, NULL, 0, -EKEYREVOKED, 1,
		  "revoked: depth 1 (CN=a.example intermediate " },
		{ "no CRL for the intermediate", &l_good, { &i1.cert }, B_R1, { &crl_i1 }, NULL,
		  NULL, 0, -ENODATA, 1, "no-crl: depth 1 (CN=a.example intermediate " },
		{ "CRL of an unrelated CA only", &l_good, { &i1.cert }, B_R1, { &crl_ie, &crl_r1 },
		  NULL, NULL, 0, -ENODATA, 0, "no-crl: depth 0 (CN=spiffe://a.example/segment/"
		  "edge, O=sallyport): unable to get certificate CRL" },
		{ "stale CRL", &l_good, { &i1.cert }, B_R1, { &crl_i1_stale, &crl_r1 }, NULL, NULL,
		  0, -ESTALE, 0, "stale-crl: depth 0 (CN=spiffe://a.example/segment/edge, "
		  "O=sallyport): CRL has expired" },
		{ "CRL from the wrong CA under the right name", &l_good, { &i1.cert }, B_R1,
		  { &crl_imp, &crl_r1 }, NULL, NULL, 0, -EBADE, -1,
		  "bad-crl: CRL 1 claims to be issued by "
		  "CN=a.example intermediate " },
		{ "expired intermediate", &l_under_exp, { &i_exp.cert }, B_R1, { NULL }, NULL, NULL,
		  0, -EKEYEXPIRED, 1, "expired: depth 1 (CN=a.example intermediate " },
		{ "bad signature", &l_badsig, { &i1.cert }, B_R1, { NULL }, NULL, NULL, 0, -EBADMSG,
		  0, "bad-signature: depth 0 (CN=spiffe://a.example/segment/forged, O=sallyport): "
		  "certificate signature failure" },
		{ "issuer is not a CA", &l_from_leaf, { &l_good, &i1.cert }, B_R1, { NULL }, NULL,
		  NULL, 0, -EKEYREJECTED, 1, "not-allowed: depth 1 (CN=spiffe://a.example/segment/"
		  "edge, O=sallyport): invalid CA certificate" },
		{ "leaf is a CA", &i1.cert, { NULL }, B_R1, { NULL }, NULL, NULL, 0, -EKEYREJECTED,
		  0, "not-allowed: depth 0: the leaf is a CA certificate" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_vcase(&cases[i]);
}

static void
test_bundle(void)
{
	STACK_OF(X509) *b = sk_X509_new_null(), *loaded;
	struct sp_pki_err err;
	X509 *three[3] = { r1.cert, r2.cert, r1.cert };

	CU_ASSERT_EQUAL(sp_pki_bundle_add(b, r1.cert, &err), 0);
	CU_ASSERT_EQUAL(sp_pki_bundle_add(b, r1.cert, &err), 1);
	CU_ASSERT_EQUAL(sp_pki_bundle_add(b, i1.cert, &err), -EINVAL);
	CU_ASSERT(strstr(err.msg, "is not a root (not self-signed") != NULL);
	CU_ASSERT_EQUAL(sp_pki_bundle_add(b, l_good, &err), -EINVAL);
	CU_ASSERT(strstr(err.msg, "is not a CA certificate") != NULL);
	CU_ASSERT_EQUAL(sk_X509_num(b), 1);
	sp_pki_certs_free(b);

	CU_ASSERT_EQUAL(sp_pki_certs_save(path_of("bundle.pem"), three, 3, 0, &err), 0);
	loaded = sp_pki_bundle_load(path_of("bundle.pem"), &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(loaded);
	CU_ASSERT_EQUAL(sk_X509_num(loaded), 2);
	sp_pki_certs_free(loaded);
	CU_ASSERT_EQUAL(sp_pki_certs_save(path_of("notroots.pem"), &i1.cert, 1, 0, &err), 0);
	CU_ASSERT_PTR_NULL(sp_pki_bundle_load(path_of("notroots.pem"), &err));
	CU_ASSERT(strstr(err.msg, "notroots.pem: certificate 1: ") != NULL);
}

/* ---- CRLs ---- */

static void
test_crl_roundtrip(void)
{
	struct sp_pki_revoked rev[2] = {
		{ .reason = SP_PKI_REASON_KEY_COMPROMISE, .when = 1700000000 },
		{ .reason = SP_PKI_REASON_UNSPECIFIED, .when = 1700000100 },
	};
	struct sp_pki_err err;
	X509_CRL *crl, *back;
	uint64_t number;
	time_t tu, nu;
	int reason = -1;

	sp_pki_cert_serial(l_revoked, rev[0].serial, sizeof(rev[0].serial));
	sp_pki_cert_serial(l_mixed, rev[1].serial, sizeof(rev[1].serial));
	crl = sp_pki_crl_create(i1.cert, i1.key, rev, 2, 7, now - 10, 600, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(crl);
	CU_ASSERT_EQUAL(sp_pki_crl_save(path_of("i1.crl"), crl, 0, &err), 0);
	CU_ASSERT_EQUAL(sp_pki_crl_save(path_of("i1.crl"), crl, 0, &err), -EEXIST);
	back = sp_pki_crl_load(path_of("i1.crl"), &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL(X509_CRL_cmp(crl, back), 0);
	CU_ASSERT_EQUAL(sp_pki_crl_check(back, i1.cert, now, &err), 0);
	CU_ASSERT_EQUAL(sp_pki_crl_number(back, &number), 0);
	CU_ASSERT_EQUAL(number, 7);
	CU_ASSERT_EQUAL(sp_pki_crl_times(back, &tu, &nu), 0);
	CU_ASSERT_EQUAL(tu, now - 10);
	CU_ASSERT_EQUAL(nu, now + 590);
	CU_ASSERT_EQUAL(sp_pki_crl_lookup(back, l_revoked, &reason), 1);
	CU_ASSERT_EQUAL(reason, SP_PKI_REASON_KEY_COMPROMISE);
	CU_ASSERT_EQUAL(sp_pki_crl_lookup(back, l_mixed, &reason), 1);
	CU_ASSERT_EQUAL(reason, SP_PKI_REASON_UNSPECIFIED);
	CU_ASSERT_EQUAL(sp_pki_crl_lookup(back, l_good, &reason), 0);
	CU_ASSERT_EQUAL(X509_CRL_get_version(back), X509_CRL_VERSION_2);
	CU_ASSERT_PTR_NOT_NULL(X509_CRL_get0_extensions(back));
	/* The checks a relying party makes. */
	CU_ASSERT_EQUAL(sp_pki_crl_check(back, i1.cert, now + 700, &err), -ESTALE);
	CU_ASSERT(strncmp(err.msg, "the CRL is stale: its next update was due ", 42) == 0);
	CU_ASSERT_EQUAL(sp_pki_crl_check(back, i1.cert, now - 100, &err), -ESTALE);
	CU_ASSERT_EQUAL(sp_pki_crl_check(back, ie.cert, now, &err), -EBADE);
	CU_ASSERT(strstr(err.msg, "the CRL is issued by CN=a.example intermediate ") != NULL);
	/* Same name, other key: the impostor's CRL is not i1's. */
	CU_ASSERT_EQUAL(sp_pki_crl_check(crl_imp, i1.cert, now, &err), -EBADE);
	CU_ASSERT(strstr(err.msg, "a CRL from the wrong CA") != NULL);
	/* Ed25519-signed CRL. */
	CU_ASSERT_EQUAL(sp_pki_crl_check(crl_ie, ie.cert, now, &err), 0);
	/* Refusals on creation. */
	CU_ASSERT_PTR_NULL(sp_pki_crl_create(i1.cert, r1.key, NULL, 0, 1, 0, 0, &err));
	CU_ASSERT_EQUAL(err.code, -EKEYREJECTED);
	CU_ASSERT_PTR_NULL(sp_pki_crl_create(l_good, l_good_ca.key, NULL, 0, 1, 0, 0, &err));
	CU_ASSERT_EQUAL(err.code, -EKEYREJECTED);
	CU_ASSERT(strstr(err.msg, "may not sign CRLs") != NULL);
	CU_ASSERT_PTR_NULL(sp_pki_crl_create(i_exp.cert, i_exp.key, NULL, 0, 1, 0, 0, &err));
	CU_ASSERT_EQUAL(err.code, -EKEYEXPIRED);
	X509_CRL_free(back);
	X509_CRL_free(crl);
}

static void
test_index(void)
{
	const char *idx = path_of("ca.index");
	char serial[SP_PKI_SERIAL_HEX_MAX + 1];
	struct sp_pki_index ix;
	struct sp_pki_err err;
	enum sp_pki_reason r;

	sp_pki_cert_serial(l_good, serial, sizeof(serial));
	CU_ASSERT_EQUAL(sp_pki_index_add_issued(idx, l_good, &err), 0);
	CU_ASSERT_EQUAL(sp_pki_index_revoke(idx, "0xABCDEF", 0, 0, false, &err), -ENOENT);
	CU_ASSERT(strstr(err.msg, "serial ABCDEF was not issued by this CA") != NULL);
	CU_ASSERT_EQUAL(sp_pki_index_revoke(idx, serial, SP_PKI_REASON_SUPERSEDED, 100, false,
					    &err), 0);
	CU_ASSERT_EQUAL(sp_pki_index_revoke(idx, serial, 0, 0, false, &err), -EALREADY);
	CU_ASSERT_EQUAL(sp_pki_index_revoke(idx, "ab:cd:ef", 0, 0, true, &err), 0);
	CU_ASSERT_EQUAL(sp_pki_index_revoke(idx, "xyz", 0, 0, true, &err), -EINVAL);
	CU_ASSERT_EQUAL(sp_pki_index_set_crl_number(idx, 1, &err), 0);
	CU_ASSERT_EQUAL(sp_pki_index_set_crl_number(idx, 1, &err), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(sp_pki_index_load(idx, &ix, &err), 0);
	CU_ASSERT_EQUAL(ix.crl_number, 1);
	CU_ASSERT_EQUAL(ix.n_issued, 1);
	CU_ASSERT_STRING_EQUAL(ix.issued[0].identity, "spiffe://a.example/segment/edge");
	CU_ASSERT_EQUAL_FATAL(ix.n_revoked, 2);
	CU_ASSERT_STRING_EQUAL(ix.revoked[0].serial, serial);
	CU_ASSERT_EQUAL(ix.revoked[0].reason, SP_PKI_REASON_SUPERSEDED);
	CU_ASSERT_EQUAL(ix.revoked[0].when, 100);
	CU_ASSERT_STRING_EQUAL(ix.revoked[1].serial, "ABCDEF");
	sp_pki_index_free(&ix);
	CU_ASSERT_EQUAL(sp_pki_reason_parse("keyCompromise", &r), 0);
	CU_ASSERT_EQUAL(r, SP_PKI_REASON_KEY_COMPROMISE);
	CU_ASSERT_EQUAL(sp_pki_reason_parse("cessation", &r), 0);
	CU_ASSERT_EQUAL(r, SP_PKI_REASON_CESSATION);
	CU_ASSERT_EQUAL(sp_pki_reason_parse("certificateHold", &r), -EINVAL);
}

/* ---- CSRs and policy ---- */

/* A CSR with the given extensions (nid, value) pairs, signed by sign_key (NULL: key). */
static X509_REQ *
craft_csr(EVP_PKEY *key, EVP_PKEY *sign_key, const int *nids, const char *const *values)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_REQ *req = X509_REQ_new();
	int i;

	X509_REQ_set_version(req, X509_REQ_VERSION_1);
	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
				   (const unsigned char *)"me", -1, -1, 0);
	X509_REQ_set_pubkey(req, key);
	for (i = 0; nids[i] != 0; i++)
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, nids[i],
								 values[i]));
	if (nids[0] != 0)
		X509_REQ_add_extensions(req, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_sign(req, sign_key ? sign_key : key, EVP_sha256());
	return req;
}

static void
test_csr_policy(void)
{
	static const int san[] = { NID_subject_alt_name, 0 };
	static const int san_bc[] = { NID_subject_alt_name, NID_basic_constraints, 0 };
	static const int san_ku[] = { NID_subject_alt_name, NID_key_usage, 0 };
	static const int none[] = { 0 };
	static const char *const v_good[] = { "URI:spiffe://a.example/ns/prod/sa/web-1,"
					      "DNS:evil.example" };
	static const char *const v_ca[] = { "URI:spiffe://a.example/ns/prod/sa/web-1",
					    "critical,CA:TRUE" };
	static const char *const v_ku[] = { "URI:spiffe://a.example/ns/prod/sa/web-1",
					    "keyCertSign" };
	static const char *const v_foreign[] = { "URI:spiffe://b.example/ns/prod/sa/web-1" };
	static const char *const v_outside[] = { "URI:spiffe://a.example/ns/dev/sa/web-1" };
	static const char *const v_two[] = { "URI:spiffe://a.example/ns/prod/sa/web-1,"
					     "URI:spiffe://a.example/ns/prod/sa/web-2" };
	static const char *const v_gw[] = { "URI:spiffe://a.example/segment/edge-7" };
	EVP_PKEY *k = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	EVP_PKEY *other = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	struct {
		const char *name;
		X509_REQ *csr;
		const char *bound;
		uint64_t lifetime;
		int want;
		const char *granted_or_msg;
	} cases[] = {
		{ "allowed by a rule", craft_csr(k, NULL, san, v_good), NULL, 0, 0,
		  "spiffe://a.example/ns/prod/sa/web-1" },
		{ "gateway rule", craft_csr(k, NULL, san, v_gw), NULL, 600, 0,
		  "spiffe://a.example/segment/edge-7" },
		{ "CA rights", craft_csr(k, NULL, san_bc, v_ca), NULL, 0, -EPERM,
		  "the CSR asks for CA rights (basicConstraints CA:TRUE)" },
		{ "keyCertSign", craft_csr(k, NULL, san_ku, v_ku), NULL, 0, -EPERM,
		  "the CSR asks for CA rights (keyCertSign or cRLSign key usage)" },
		{ "foreign trust domain", craft_csr(k, NULL, san, v_foreign), NULL, 0, -EXDEV,
		  "'spiffe://b.example/ns/prod/sa/web-1' is in a foreign trust domain (this CA "
		  "serves 'a.example')" },
		{ "outside the policy", craft_csr(k, NULL, san, v_outside), NULL, 0, -EACCES,
		  "no policy rule allows 'spiffe://a.example/ns/dev/sa/web-1'" },
		{ "bad self-signature", craft_csr(k, other, san, v_good), NULL, 0, -EBADMSG,
		  "the CSR's self-signature does not verify (it was not signed by the key it "
		  "carries)" },
		{ "two URIs", craft_csr(k, NULL, san, v_two), NULL, 0, -EMLINK,
		  "the CSR asks for more than one URI subject alternative name" },
		{ "no identity at all", craft_csr(k, NULL, none, NULL), NULL, 0, -ENOENT,
		  "the CSR asks for no identity and none is bound to the request" },
		{ "bound identity decides", craft_csr(k, NULL, none, NULL),
		  "spiffe://a.example/ns/batch/sa/job", 0, 0,
		  "spiffe://a.example/ns/batch/sa/job" },
		{ "bound identity, CSR asks for another", craft_csr(k, NULL, san, v_good),
		  "spiffe://a.example/ns/batch/sa/job", 0, -EACCES, "the CSR asks for "
		  "'spiffe://a.example/ns/prod/sa/web-1' but the request is bound to "
		  "'spiffe://a.example/ns/batch/sa/job'" },
		{ "bound identity, foreign", craft_csr(k, NULL, none, NULL),
		  "spiffe://b.example/ns/batch/sa/job", 0, -EXDEV, "'spiffe://b.example/ns/batch/"
		  "sa/job' is in a foreign trust domain (this CA serves 'a.example')" },
		{ "lifetime above the maximum", craft_csr(k, NULL, san, v_good), NULL,
		  31 * SP_PKI_DAY, -ERANGE, "a lifetime of 2678400 s is above the policy's maximum "
		  "of 2592000 s" },
	};
	struct sp_pki_policy pol;
	struct sp_pki_err err;
	char granted[SP_PKI_SPIFFE_MAX + 1], id[SP_PKI_SPIFFE_MAX + 1];
	size_t i;

	CU_ASSERT_EQUAL_FATAL(sp_pki_policy_init(&pol, TD, &err), 0);
	CU_ASSERT_EQUAL(sp_pki_policy_add_rule(&pol, "workload ns=prod sa=web-*", &err), 0);
	CU_ASSERT_EQUAL(sp_pki_policy_add_rule(&pol, "gateway name=edge-?", &err), 0);
	CU_ASSERT_EQUAL(sp_pki_policy_add_rule(&pol, "workload ns=prod", &err), -EINVAL);
	CU_ASSERT_EQUAL(sp_pki_policy_add_rule(&pol, "gateway name=a/b", &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "bad character '/' in gateway name pattern 'a/b'");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sp_pki_sign_opts so = {
			.policy = &pol,
			.bound_id = cases[i].bound,
			.lifetime = cases[i].lifetime,
		};
		X509 *x = sp_pki_csr_sign(cases[i].csr, &so, i1.cert, i1.key, granted,
					  sizeof(granted), &err);

		if ((x != NULL) != (cases[i].want == 0) ||
		    (x == NULL && (err.code != cases[i].want ||
				   strcmp(err.msg, cases[i].granted_or_msg) != 0)))
			fprintf(stderr, "\n  case '%s': %s\n", cases[i].name, x ? "signed" :
				err.msg);
		if (cases[i].want == 0) {
			CU_ASSERT_PTR_NOT_NULL_FATAL(x);
			CU_ASSERT_STRING_EQUAL(granted, cases[i].granted_or_msg);
			CU_ASSERT_EQUAL(sp_pki_cert_spiffe_id(x, id, sizeof(id), &err), 0);
			CU_ASSERT_STRING_EQUAL(id, cases[i].granted_or_msg);
			/* Nothing of the CSR but key and (granted) ID: no DNS name, no CA. */
			CU_ASSERT_EQUAL(X509_check_ca(x), 0);
			CU_ASSERT_EQUAL(X509_get_ext_by_NID(x, NID_subject_alt_name, -1) >= 0, 1);
			CU_ASSERT(sp_pki_cert_seconds_left(x, now) <=
				  (int64_t)(cases[i].lifetime ? cases[i].lifetime :
					    SP_PKI_WORKLOAD_LIFETIME) + 5);
			CU_ASSERT_EQUAL(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
		} else {
			CU_ASSERT_PTR_NULL(x);
			CU_ASSERT_EQUAL(err.code, cases[i].want);
			CU_ASSERT_STRING_EQUAL(err.msg, cases[i].granted_or_msg);
		}
		X509_free(x);
		X509_REQ_free(cases[i].csr);
	}
	/* The DNS name the first CSR asked for was dropped: exactly one name, the URI. */
	{
		X509_REQ *csr = craft_csr(k, NULL, san, v_good);
		struct sp_pki_sign_opts so = { .policy = &pol };
		X509 *x = sp_pki_csr_sign(csr, &so, i1.cert, i1.key, NULL, 0, &err);
		GENERAL_NAMES *g = x ? X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL) : NULL;

		CU_ASSERT_PTR_NOT_NULL_FATAL(g);
		CU_ASSERT_EQUAL(sk_GENERAL_NAME_num(g), 1);
		GENERAL_NAMES_free(g);
		X509_free(x);
		X509_REQ_free(csr);
	}
	/* sp_pki_csr_create() round trip, through PEM. */
	{
		X509_REQ *csr = sp_pki_csr_create(k, "spiffe://a.example/ns/prod/sa/web-9", &err);
		X509_REQ *back;
		char req[SP_PKI_SPIFFE_MAX + 1];

		CU_ASSERT_PTR_NOT_NULL_FATAL(csr);
		CU_ASSERT_EQUAL(sp_pki_csr_save(path_of("w.csr"), csr, 0, &err), 0);
		back = sp_pki_csr_load(path_of("w.csr"), &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(back);
		CU_ASSERT_EQUAL(sp_pki_csr_check(back, req, sizeof(req), &err), 0);
		CU_ASSERT_STRING_EQUAL(req, "spiffe://a.example/ns/prod/sa/web-9");
		X509_REQ_free(back);
		X509_REQ_free(csr);
	}
	EVP_PKEY_free(other);
	EVP_PKEY_free(k);
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void
test_policy_file(void)
{
	static const struct {
		const char *text;
		int want;
		const char *msg;  /* after "<path>" */
	} cases[] = {
		{ "# workloads of prod\ntrust-domain a.example\nallow workload ns=prod sa=*\n"
		  "allow gateway name=edge-*  # gateways\ndefault-lifetime 1h\nmax-lifetime 2d\n",
		  0, "" },
		{ "allow gateway name=x\n", -EINVAL, ":1: trust-domain must come first" },
		{ "trust-domain a.example\nfrobnicate 1\n", -EINVAL,
		  ":2: unknown directive 'frobnicate'" },
		{ "trust-domain a.example\nmax-lifetime 1y\n", -EINVAL,
		  ":2: bad duration '1y' (seconds, or N with s/m/h/d)" },
		{ "trust-domain A.example\n", -EINVAL, ":1: bad trust domain 'A.example': "
		  "upper-case letter in the trust domain (must be lower case)" },
		{ "\n# nothing\n", -EINVAL, ": no trust-domain line" },
		{ "trust-domain a.example\ndefault-lifetime 3d\nmax-lifetime 2d\n", -EINVAL,
		  ": default-lifetime is above max-lifetime" },
	};
	struct sp_pki_policy p;
	struct sp_pki_err err;
	char want[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_text(path_of("policy"), cases[i].text);
		CU_ASSERT_EQUAL(sp_pki_policy_load(&p, path_of("policy"), &err), cases[i].want);
		if (err.code != cases[i].want)
			fprintf(stderr, "\n  case %zu: %s\n", i, err.msg);
		if (cases[i].want == 0)
			continue;
		snprintf(want, sizeof(want), "%s%s", path_of("policy"), cases[i].msg);
		CU_ASSERT_STRING_EQUAL(err.msg, want);
	}
	write_text(path_of("policy"), cases[0].text);
	CU_ASSERT_EQUAL_FATAL(sp_pki_policy_load(&p, path_of("policy"), &err), 0);
	CU_ASSERT_STRING_EQUAL(p.trust_domain, TD);
	CU_ASSERT_EQUAL(p.n_rules, 2);
	CU_ASSERT_EQUAL(p.default_lifetime, 3600);
	CU_ASSERT_EQUAL(p.max_lifetime, 2 * SP_PKI_DAY);
	CU_ASSERT_EQUAL(sp_pki_policy_allows(&p, "spiffe://a.example/ns/prod/sa/x", &err), 0);
	CU_ASSERT_EQUAL(sp_pki_policy_allows(&p, "spiffe://a.example/segment/edge-3", &err), 0);
	CU_ASSERT_EQUAL(sp_pki_policy_allows(&p, "spiffe://a.example/segment/core", &err),
			-EACCES);
	CU_ASSERT_EQUAL(sp_pki_policy_allows(&p, "spiffe://a.example/other/x", &err), -EINVAL);
	CU_ASSERT_EQUAL(sp_pki_policy_allows(&p, "spiffe://c.example/ns/prod/sa/x", &err),
			-EXDEV);
}

/* ---- tokens ---- */

static void
test_tokens(void)
{
	const char *file = path_of("tokens");
	char tok[SP_PKI_TOKEN_CHARS + 1], tok2[SP_PKI_TOKEN_CHARS + 1], old[SP_PKI_TOKEN_CHARS + 1];
	char id[SP_PKI_SPIFFE_MAX + 1], *text;
	struct sp_pki_err err;
	struct stat st;
	size_t len;

	CU_ASSERT_EQUAL(sp_pki_token_create(file, "spiffe://a.example/ns/prod/sa/web", 600, now,
					    tok, &err), 0);
	CU_ASSERT_EQUAL(strlen(tok), SP_PKI_TOKEN_CHARS);
	CU_ASSERT_EQUAL(sp_pki_token_create(file, "spiffe://a.example/segment/edge", 600, now,
					    tok2, &err), 0);
	CU_ASSERT(strcmp(tok, tok2) != 0);
	CU_ASSERT_EQUAL(sp_pki_token_create(file, "spiffe://a.example/ns/prod/sa/old", 3600,
					    now - 7200, old, &err), 0);
	CU_ASSERT_EQUAL(sp_pki_token_create(file, "spiffe://a.example", 600, now, id, &err),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "a token grants a gateway or workload ID, not "
			       "'spiffe://a.example'");
	/* Only hashes are stored, privately. */
	CU_ASSERT_EQUAL(stat(file, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL_FATAL(sp_pki_file_read(file, &text, &len, &err), 0);
	CU_ASSERT_PTR_NULL(strstr(text, tok));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, " spiffe://a.example/ns/prod/sa/web\n"));
	free(text);
	/* Lookup does not consume; consume does, once. */
	CU_ASSERT_EQUAL(sp_pki_token_lookup(file, tok, now, id, sizeof(id), &err), 0);
	CU_ASSERT_STRING_EQUAL(id, "spiffe://a.example/ns/prod/sa/web");
	CU_ASSERT_EQUAL(sp_pki_token_consume(file, tok, now, id, sizeof(id), &err), 0);
	CU_ASSERT_STRING_EQUAL(id, "spiffe://a.example/ns/prod/sa/web");
	CU_ASSERT_EQUAL(sp_pki_token_consume(file, tok, now, id, sizeof(id), &err), -EALREADY);
	CU_ASSERT_STRING_EQUAL(err.msg, "token already used (for "
			       "'spiffe://a.example/ns/prod/sa/web')");
	CU_ASSERT_STRING_EQUAL(id, "");
	CU_ASSERT_EQUAL(sp_pki_token_lookup(file, tok, now, id, sizeof(id), &err), -EALREADY);
	/* Expired. */
	CU_ASSERT_EQUAL(sp_pki_token_consume(file, old, now, id, sizeof(id), &err),
			-EKEYEXPIRED);
	CU_ASSERT_STRING_EQUAL(err.msg, "token expired (for 'spiffe://a.example/ns/prod/sa/old')");
	/* Wrong and malformed tokens. */
	tok[0] = tok[0] == '0' ? '1' : '0';
	CU_ASSERT_EQUAL(sp_pki_token_consume(file, tok, now, id, sizeof(id), &err), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err.msg, "unknown token");
	CU_ASSERT_EQUAL(sp_pki_token_consume(file, "abc", now, id, sizeof(id), &err), -EINVAL);
	/* The other token still works after all this. */
	CU_ASSERT_EQUAL(sp_pki_token_consume(file, tok2, now, id, sizeof(id), &err), 0);
	CU_ASSERT_STRING_EQUAL(id, "spiffe://a.example/segment/edge");
	/* A damaged file is refused, not rewritten. */
	write_text(path_of("tokens.bad"), "zzz 1 0 spiffe://x/y\n");
	CU_ASSERT_EQUAL(sp_pki_token_consume(path_of("tokens.bad"), tok2, now, id, sizeof(id),
					     &err), -EBADMSG);
}

/* ---- audit ---- */

static char **
read_lines(const char *path, int *n)
{
	char **lines = calloc(64, sizeof(*lines)), *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	*n = 0;
	while (f != NULL && getline(&line, &cap, f) > 0 && *n < 64)
		lines[(*n)++] = strdup(line);
	free(line);
	if (f != NULL)
		fclose(f);
	return lines;
}

static void
write_lines(const char *path, char **lines, int n, int skip)
{
	FILE *f = fopen(path, "w");
	int i;

	for (i = 0; i < n; i++)
		if (i != skip)
			fputs(lines[i], f);
	fclose(f);
}

static void
free_lines(char **lines, int n)
{
	while (n > 0)
		free(lines[--n]);
	free(lines);
}

static void
test_audit(void)
{
	const char *log = path_of("audit.log");
	struct sp_pki_audit_rec rec = {
		.who = "uid=0(root)",
		.serial = "4A",
		.identity = "spiffe://a.example/segment/edge",
		.not_after = 1893553445,
		.detail = "quote \" backslash \\ newline \n",
		.time = 1700000000,
	};
	char head[SP_PKI_SHA256_HEX + 1], who[64], want[256];
	struct sp_pki_err err;
	uint64_t n;
	char **lines;
	int nl, i;

	for (i = 0; i < 4; i++) {
		rec.action = (enum sp_pki_audit_action)(SP_PKI_AUDIT_ISSUE + i);
		CU_ASSERT_EQUAL(sp_pki_audit_append(log, &rec, &err), 0);
	}
	CU_ASSERT_EQUAL(sp_pki_audit_verify(log, &n, head, &err), 0);
	CU_ASSERT_EQUAL(n, 4);
	lines = read_lines(log, &nl);
	CU_ASSERT_EQUAL_FATAL(nl, 4);
	CU_ASSERT_STRING_EQUAL(lines[0], "{\"seq\":1,\"time\":\"2023-11-14T22:13:20Z\","
			       "\"who\":\"uid=0(root)\",\"action\":\"issue\",\"serial\":\"4A\","
			       "\"identity\":\"spiffe://a.example/segment/edge\",\"not_after\":"
			       "\"2030-01-02T03:04:05Z\",\"detail\":\"quote \\\" backslash \\\\ "
			       "newline \\u000a\",\"prev\":\"0000000000000000000000000000000000"
			       "000000000000000000000000000000\"}\n");
	CU_ASSERT(strstr(lines[3], "\"action\":\"revoke\"") != NULL);

	/* Edit a middle line: the next one names it. */
	lines[1][strlen(lines[1]) - 80] ^= 1;
	write_lines(log, lines, nl, -1);
	CU_ASSERT_EQUAL(sp_pki_audit_verify(log, &n, head, &err), -EBADMSG);
	snprintf(want, sizeof(want), "%s:3: the chain is broken: line 2 was changed (its hash "
		 "is not what this line records)", log);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	/* Appending to a damaged log is fine only if the last line is intact: it is here. */
	lines[1][strlen(lines[1]) - 80] ^= 1;
	/* Remove a middle line. */
	write_lines(log, lines, nl, 1);
	CU_ASSERT_EQUAL(sp_pki_audit_verify(log, &n, head, &err), -EBADMSG);
	snprintf(want, sizeof(want), "%s:2: entry 3 where 2 was expected: entries were removed",
		 log);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	/* Remove the last line: only the head file can tell. */
	write_lines(log, lines, nl, 3);
	CU_ASSERT_EQUAL(sp_pki_audit_verify(log, &n, head, &err), -EBADMSG);
	snprintf(want, sizeof(want), "%s: the log ends at entry 3 but the head says 4: entries "
		 "were removed at the end", log);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	/* Edit the last line. */
	lines[3][10] = 'T';  /* the "time" key: still a record, another hash */
	write_lines(log, lines, nl, -1);
	CU_ASSERT_EQUAL(sp_pki_audit_verify(log, &n, head, &err), -EBADMSG);
	snprintf(want, sizeof(want), "%s: line 4 does not match the head file: the last entry "
		 "was edited", log);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	/* A torn last line: refused by verify and by append. */
	lines[3][strlen(lines[3]) - 1] = '\0';
	write_lines(log, lines, nl, -1);
	CU_ASSERT_EQUAL(sp_pki_audit_verify(log, &n, head, &err), -EBADMSG);
	snprintf(want, sizeof(want), "%s:4: incomplete last line (truncated)", log);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	CU_ASSERT_EQUAL(sp_pki_audit_append(log, &rec, &err), -EBADMSG);
	free_lines(lines, nl);
	/* No log at all. */
	CU_ASSERT_EQUAL(sp_pki_audit_verify(path_of("none.log"), &n, head, &err), -ENOENT);
	sp_pki_audit_who(who, sizeof(who));
	CU_ASSERT(strncmp(who, "uid=", 4) == 0);
	CU_ASSERT_STRING_EQUAL(sp_pki_audit_action_name(SP_PKI_AUDIT_TOKEN), "token");
}

/* ---- key files, bad PEM, mismatches ---- */

static void
test_key_files(void)
{
	static const enum sp_pki_key_type types[] = { SP_PKI_KEY_P256, SP_PKI_KEY_ED25519 };
	struct sp_pki_err err;
	struct stat st;
	size_t i;
	mode_t old_umask = umask(0);  /* the mode must not depend on the umask */

	for (i = 0; i < 2; i++) {
		EVP_PKEY *k = sp_pki_key_generate(types[i], &err), *k2, *back;
		const char *p = path_of(i ? "ed.key" : "p256.key");

		CU_ASSERT_PTR_NOT_NULL_FATAL(k);
		CU_ASSERT_EQUAL(sp_pki_key_type_of(k), (int)types[i]);
		CU_ASSERT_EQUAL(sp_pki_key_save(p, k, 0, &err), 0);
		CU_ASSERT_EQUAL(stat(p, &st), 0);
		CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
		/* Never replaced unless asked. */
		k2 = sp_pki_key_generate(types[i], &err);
		CU_ASSERT_EQUAL(sp_pki_key_save(p, k2, 0, &err), -EEXIST);
		CU_ASSERT(strstr(err.msg, " exists (not overwriting)") != NULL);
		back = sp_pki_key_load(p, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(back);
		CU_ASSERT_EQUAL(EVP_PKEY_eq(back, k), 1);
		EVP_PKEY_free(back);
		CU_ASSERT_EQUAL(sp_pki_key_save(p, k2, SP_PKI_OVERWRITE, &err), 0);
		CU_ASSERT_EQUAL(stat(p, &st), 0);
		CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
		back = sp_pki_key_load(p, &err);
		CU_ASSERT_EQUAL(EVP_PKEY_eq(back, k2), 1);
		EVP_PKEY_free(back);
		EVP_PKEY_free(k2);
		EVP_PKEY_free(k);
	}
	umask(old_umask);
	/* No temporary file was left next to the keys. */
	{
		DIR *d = opendir(dir);
		struct dirent *e;
		int hidden = 0;

		while (d != NULL && (e = readdir(d)) != NULL)
			hidden += e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 &&
				  strcmp(e->d_name, "..") != 0;
		if (d != NULL)
			closedir(d);
		CU_ASSERT_EQUAL(hidden, 0);
	}
	/* Certificates are public: 0644. */
	CU_ASSERT_EQUAL(sp_pki_certs_save(path_of("leaf.crt"), &l_good, 1, 0, &err), 0);
	CU_ASSERT_EQUAL(stat(path_of("leaf.crt"), &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
	CU_ASSERT_EQUAL(sp_pki_file_write(path_of("nodir/x"), "a", 1, 0600, 0, &err), -ENOENT);
}

static void
test_bad_pem(void)
{
	char *good;
	size_t len;
	struct sp_pki_err err;
	char text[8192];
	static const struct {
		const char *name;
		int edit;
		const char *msg;  /* after "<path>" */
	} cases[] = {
		{ "garbage", 0, ":1: text outside a PEM block" },
		{ "empty", 1, ": no certificate in it" },
		{ "truncated", 2, ":1: PEM block without its END line (truncated?)" },
		{ "bad base64", 3, ":1: corrupt PEM block" },
		{ "text before", 4, ":1: text outside a PEM block" },
		{ "junk after", 5, NULL },
		{ "a key where a certificate belongs", 6, ":1: a 'PRIVATE KEY' block where a "
		  "certificate was expected" },
		{ "cut inside the DER", 7, ":1: corrupt certificate" },
	};
	const char *p = path_of("bad.pem");
	STACK_OF(X509) *certs;
	char want[300];
	size_t i;
	X509 *x;

	CU_ASSERT_EQUAL_FATAL(sp_pki_file_read(path_of("leaf.crt"), &good, &len, &err), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *b64;
		size_t n;

		switch (cases[i].edit) {
		case 0:
			snprintf(text, sizeof(text), "this is not PEM\n");
			break;
		case 1:
			snprintf(text, sizeof(text), "\n\n");
			break;
		case 2:
			snprintf(text, sizeof(text), "%.*s", (int)(len - 30), good);
			break;
		case 3:
			snprintf(text, sizeof(text), "%s", good);
			text[100] = '!';
			break;
		case 4:
			snprintf(text, sizeof(text), "subject=CN=x\n%s", good);
			break;
		case 5:
			snprintf(text, sizeof(text), "%sjunk\n", good);
			break;
		case 6:
			CU_ASSERT_EQUAL_FATAL(sp_pki_file_read(path_of("p256.key"), &b64, &n,
							       &err), 0);
			snprintf(text, sizeof(text), "%s", b64);
			OPENSSL_cleanse(b64, n);
			free(b64);
			break;
		case 7:
			/* Drop one base64 line from the middle: valid base64, broken DER. */
			snprintf(text, sizeof(text), "%s", good);
			b64 = strchr(text, '\n') + 1;
			memmove(b64, b64 + 65, strlen(b64 + 65) + 1);
			break;
		}
		write_text(p, text);
		certs = sp_pki_certs_load(p, &err);
		CU_ASSERT_PTR_NULL(certs);
		sp_pki_certs_free(certs);
		CU_ASSERT_EQUAL(err.code, -EBADMSG);
		if (cases[i].msg != NULL) {
			snprintf(want, sizeof(want), "%s%s", p, cases[i].msg);
		} else {
			const char *c;
			int lines = 1;

			for (c = good; *c != '\0'; c++)
				lines += *c == '\n';
			snprintf(want, sizeof(want), "%s:%d: text outside a PEM block", p, lines);
		}
		if (strncmp(err.msg, want, strlen(want)) != 0)
			fprintf(stderr, "\n  case '%s': %s\n", cases[i].name, err.msg);
		CU_ASSERT(strncmp(err.msg, want, strlen(want)) == 0);
		/* Keys and CRLs are read by the same scanner. */
		CU_ASSERT_PTR_NULL(sp_pki_crl_load(p, &err));
	}
	/* A certificate file where a key belongs. */
	CU_ASSERT_PTR_NULL(sp_pki_key_load(path_of("leaf.crt"), &err));
	CU_ASSERT_EQUAL(err.code, -EBADMSG);
	snprintf(want, sizeof(want), "%s:1: a 'CERTIFICATE' block where a private key was "
		 "expected", path_of("leaf.crt"));
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	/* One certificate asked for, two given. */
	snprintf(text, sizeof(text), "%s%s", good, good);
	write_text(p, text);
	CU_ASSERT_PTR_NULL(sp_pki_cert_load(p, NULL, &err));
	CU_ASSERT(strstr(err.msg, ": 2 certificates where one was expected") != NULL);
	x = sp_pki_cert_load(p, &certs, &err);
	CU_ASSERT_PTR_NOT_NULL(x);
	CU_ASSERT_EQUAL(sk_X509_num(certs), 1);
	X509_free(x);
	sp_pki_certs_free(certs);
	CU_ASSERT_PTR_NULL(sp_pki_cert_load(path_of("missing.crt"), NULL, &err));
	CU_ASSERT_EQUAL(err.code, -ENOENT);
	free(good);
}

static void
test_key_mismatch(void)
{
	struct sp_pki_err err;

	CU_ASSERT_EQUAL(sp_pki_key_matches_cert(i1.key, i1.cert, &err), 0);
	CU_ASSERT_EQUAL(sp_pki_key_matches_cert(r1.key, i1.cert, &err), -EKEYREJECTED);
	CU_ASSERT_STRING_EQUAL(err.msg, "the key does not match the certificate");
	/* Different algorithms do not match either. */
	CU_ASSERT_EQUAL(sp_pki_key_matches_cert(ie.key, i1.cert, &err), -EKEYREJECTED);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("pki", suite_init, suite_clean);
	CU_add_test(s, "SPIFFE ID grammar", test_spiffe_parse);
	CU_add_test(s, "SPIFFE ID kinds and builders", test_spiffe_kind);
	CU_add_test(s, "issued certificates carry what they must", test_issue_contents);
	CU_add_test(s, "issuance refusals", test_issue_refusals);
	CU_add_test(s, "verification, every problem", test_verify);
	CU_add_test(s, "trust bundles", test_bundle);
	CU_add_test(s, "CRL round trip and checks", test_crl_roundtrip);
	CU_add_test(s, "CA index", test_index);
	CU_add_test(s, "CSR signing under policy", test_csr_policy);
	CU_add_test(s, "policy files", test_policy_file);
	CU_add_test(s, "bootstrap tokens", test_tokens);
	CU_add_test(s, "audit hash chain", test_audit);
	CU_add_test(s, "key files: 0600, no overwrite", test_key_files);
	CU_add_test(s, "corrupt PEM refused", test_bad_pem);
	CU_add_test(s, "key and certificate mismatch", test_key_mismatch);
	return sp_test_run();
}
