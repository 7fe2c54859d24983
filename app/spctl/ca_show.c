/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spctl ca show | list | verify | audit verify: reading, never writing.
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "ca.h"

/* "29.9 days left" / "expired 3.2 days ago". */
static void
left_str(time_t not_after, time_t now, char *out, size_t len)
{
	double d = (double)(not_after - now) / (double)SP_PKI_DAY;

	if (not_after > now)
		snprintf(out, len, "%.1f days left", d);
	else
		snprintf(out, len, "expired %.1f days ago", -d);
}

static const char *
kind_str(const struct sp_pki_cert_info *info)
{
	if (info->is_ca)
		return info->self_signed ? "root CA" : "intermediate CA";
	switch (sp_pki_spiffe_kind(info->spiffe_id, NULL, NULL, NULL)) {
	case SP_PKI_ID_GATEWAY:
		return "gateway";
	case SP_PKI_ID_WORKLOAD:
		return "workload";
	default:
		return "leaf";
	}
}

static void
show_cert(const X509 *x, int i, int n)
{
	struct sp_pki_cert_info info;
	char nb[32], na[32], ra[32], left[48];
	time_t now = time(NULL);

	if (sp_pki_cert_info(x, &info, NULL) < 0) {
		printf("certificate %d of %d: validity does not parse\n", i, n);
		return;
	}
	sp_pki_time_str(info.not_before, nb);
	sp_pki_time_str(info.not_after, na);
	left_str(info.not_after, now, left, sizeof(left));
	printf("certificate %d of %d\n", i, n);
	printf("  subject      %s\n", info.subject);
	printf("  issuer       %s\n", info.issuer);
	printf("  spiffe id    %s\n", info.spiffe_id[0] ? info.spiffe_id : "(none)");
	printf("  kind         %s", kind_str(&info));
	if (info.is_ca && info.path_len >= 0)
		printf(", pathlen %d", info.path_len);
	if (info.name_constraint[0])
		printf(", permitted URI host %s", info.name_constraint);
	printf("\n  serial       %s\n", info.serial);
	printf("  key          %s, key id %s\n",
	       info.key_type >= 0 ? sp_pki_key_type_name(info.key_type) : "other",
	       info.key_id[0] ? info.key_id : "(none)");
	printf("  not before   %s%s\n", nb, now < info.not_before ? " (not yet valid)" : "");
	printf("  not after    %s (%s)\n", na, left);
	if (!info.is_ca) {
		sp_pki_time_str(sp_pki_cert_renew_at(x), ra);
		printf("  renew at     %s (2/3 of the lifetime)\n", ra);
	}
}

static int
show_crl(const char *path)
{
	char issuer[SP_PKI_NAME_MAX], when[32], tu_s[32], nu_s[32];
	STACK_OF(X509_REVOKED) *revs;
	struct sp_pki_err err;
	X509_CRL *crl = sp_pki_crl_load(path, &err);
	uint64_t number = 0;
	time_t tu, nu, t;
	int i;

	if (crl == NULL)
		return ca_fail("%s", err.msg);
	sp_pki_name(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
	sp_pki_crl_number(crl, &number);
	sp_pki_crl_times(crl, &tu, &nu);
	sp_pki_time_str(tu, tu_s);
	sp_pki_time_str(nu, nu_s);
	revs = X509_CRL_get_REVOKED(crl);
	printf("CRL\n  issuer       %s\n  number       %" PRIu64 "\n  this update  %s\n"
	       "  next update  %s%s\n  revoked      %d\n", issuer, number, tu_s, nu_s,
	       nu < time(NULL) ? " (stale: past its next update)" : "", sk_X509_REVOKED_num(revs));
	for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
		ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;

		if (sp_pki_asn1_time(X509_REVOKED_get0_revocationDate(r), &t) < 0)
			t = 0;
		sp_pki_time_str(t, when);
		printf("    %s  %s  %s\n", hex ? hex : "?", when,
		       sp_pki_reason_name(e ? (int)ASN1_ENUMERATED_get(e) : 0));
		OPENSSL_free(hex);
		BN_free(bn);
		ASN1_ENUMERATED_free(e);
	}
	X509_CRL_free(crl);
	return CA_OK;
}

static const char show_help[] =
	"Usage: spctl ca show FILE\n"
	"\n"
	"Print every certificate of FILE (subject, issuer, SPIFFE ID, kind, serial, key,\n"
	"not-before, not-after with days left, renewal time for leaves), or a CRL (issuer,\n"
	"number, update times, revoked serials with date and reason).\n";

int
ca_cmd_show(int argc, char **argv)
{
	static const int allowed[] = { 0 };
	STACK_OF(X509) *certs;
	struct sp_pki_err err;
	struct ca_opts o;
	size_t len;
	char *buf;
	int i, rc = ca_parse(argc, argv, allowed, show_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (o.n_args != 1)
		return ca_bad_usage("name one file");
	if (sp_pki_file_read(o.args[0], &buf, &len, &err) < 0)
		return ca_fail("%s", err.msg);
	if (strstr(buf, "-----BEGIN X509 CRL-----") != NULL) {
		free(buf);
		return show_crl(o.args[0]);
	}
	certs = sp_pki_certs_from_pem(buf, len, o.args[0], &err);
	free(buf);
	if (certs == NULL)
		return ca_fail("%s", err.msg);
	for (i = 0; i < sk_X509_num(certs); i++)
		show_cert(sk_X509_value(certs, i), i + 1, sk_X509_num(certs));
	sp_pki_certs_free(certs);
	return CA_OK;
}

static int
cert_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 && (strcmp(d->d_name + n - 4, ".crt") == 0 ||
						strcmp(d->d_name + n - 4, ".pem") == 0);
}

static const char list_help[] =
	"Usage: spctl ca list DIR\n"
	"\n"
	"One line per certificate file (*.crt, *.pem) of DIR: the first certificate's kind,\n"
	"SPIFFE ID, serial, not-after and days left. Files that are not certificates are\n"
	"named with the reason.\n";

int
ca_cmd_list(int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct dirent **ents;
	struct ca_opts o;
	time_t now = time(NULL);
	int i, n, rc = ca_parse(argc, argv, allowed, list_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (o.n_args != 1)
		return ca_bad_usage("name one directory");
	n = scandir(o.args[0], &ents, cert_file, alphasort);
	if (n < 0)
		return ca_fail("cannot read %s: %s", o.args[0], strerror(errno));
	printf("%-22s %-15s %-34s %-32s %-20s %s\n", "FILE", "KIND", "SPIFFE ID", "SERIAL",
	       "NOT AFTER", "DAYS LEFT");
	for (i = 0; i < n; i++) {
		struct sp_pki_cert_info info;
		char path[PATH_MAX], na[32];
		struct sp_pki_err err;
		STACK_OF(X509) *chain = NULL;
		X509 *x;

		snprintf(path, sizeof(path), "%s/%s", o.args[0], ents[i]->d_name);
		x = sp_pki_cert_load(path, &chain, &err);
		if (x == NULL || sp_pki_cert_info(x, &info, &err) < 0) {
			printf("%-22s (not a certificate: %s)\n", ents[i]->d_name, err.msg);
		} else {
			sp_pki_time_str(info.not_after, na);
			printf("%-22s %-15s %-34s %-32s %-20s %.1f\n", ents[i]->d_name,
			       kind_str(&info), info.spiffe_id[0] ? info.spiffe_id : "-",
			       info.serial, na,
			       (double)(info.not_after - now) / (double)SP_PKI_DAY);
		}
		X509_free(x);
		sp_pki_certs_free(chain);
		free(ents[i]);
	}
	free(ents);
	return CA_OK;
}

static const char verify_help[] =
	"Usage: spctl ca verify --bundle FILE [--crl FILE ...] [--untrusted FILE]\n"
	"                     [--id SPIFFE-ID] [--trust-domain TD] [--at TIME] CERT\n"
	"\n"
	"Verify CERT (a leaf, optionally followed by its chain) against the roots of the\n"
	"bundle, as the gateway will: path validation with name constraints, with every --crl\n"
	"checked for each level of the chain when any is given (a CRL that names a CA of the\n"
	"chain but is not signed by it is refused), then the leaf's SPIFFE ID. TIME: @UNIX,\n"
	"+SEC, -SEC or YYYY-MM-DDTHH:MM:SSZ (default now). Prints OK or the problem;\n"
	"exit 0 or 1.\n";

int
ca_cmd_verify(int argc, char **argv)
{
	static const int allowed[] = { CA_O_BUNDLE, CA_O_CRL, CA_O_UNTRUSTED, CA_O_ID, CA_O_TD,
		CA_O_AT, 0 };
	struct sp_pki_verify_opts vo = { 0 };
	struct sp_pki_verify_result res;
	STACK_OF(X509) *bundle = NULL, *chain = NULL, *extra = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	struct sp_pki_err err;
	struct ca_opts o;
	char na[32], left[48];
	X509 *leaf = NULL;
	int i, rc = ca_parse(argc, argv, allowed, verify_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (ca_need(o.bundle, "--bundle") < 0)
		return CA_USAGE;
	if (o.n_args != 1)
		return ca_bad_usage("name one certificate file");
	if (o.at != NULL && sp_pki_time_parse(o.at, time(NULL), &vo.at) < 0)
		return ca_bad_usage("bad --at '%s'", o.at);
	vo.expect_id = o.id;
	vo.expect_td = o.td;
	rc = CA_FAIL;
	bundle = sp_pki_bundle_load(o.bundle, &err);
	if (bundle == NULL) {
		rc = ca_fail("bundle: %s", err.msg);
		goto out;
	}
	leaf = sp_pki_cert_load(o.args[0], &chain, &err);
	if (leaf == NULL) {
		rc = ca_fail("%s", err.msg);
		goto out;
	}
	if (o.untrusted != NULL) {
		extra = sp_pki_certs_load(o.untrusted, &err);
		if (extra == NULL) {
			rc = ca_fail("%s", err.msg);
			goto out;
		}
		for (i = 0; i < sk_X509_num(extra); i++)
			if (!sk_X509_push(chain, sk_X509_value(extra, i)) ||
			    !X509_up_ref(sk_X509_value(extra, i))) {
				rc = ca_fail("out of memory");
				goto out;
			}
	}
	if (o.n_crl > 0) {
		crls = sk_X509_CRL_new_null();
		for (i = 0; crls != NULL && i < o.n_crl; i++) {
			X509_CRL *c = sp_pki_crl_load(o.crl[i], &err);

			if (c == NULL) {
				rc = ca_fail("%s", err.msg);
				goto out;
			}
			if (!sk_X509_CRL_push(crls, c)) {
				X509_CRL_free(c);
				rc = ca_fail("out of memory");
				goto out;
			}
		}
		vo.crls = crls;
	}
	if (sp_pki_verify(leaf, chain, bundle, &vo, &res, &err) < 0) {
		printf("FAILED: %s\n", err.msg);
		goto out;
	}
	sp_pki_time_str(res.not_after, na);
	left_str(res.not_after, vo.at ? vo.at : time(NULL), left, sizeof(left));
	printf("OK: %s (chain of %d, not after %s, %s)\n", res.spiffe_id, res.chain_len, na,
	       left);
	rc = CA_OK;
out:
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sp_pki_certs_free(extra);
	sp_pki_certs_free(chain);
	sp_pki_certs_free(bundle);
	X509_free(leaf);
	return rc;
}

static const char audit_help[] =
	"Usage: spctl ca audit verify FILE\n"
	"\n"
	"Check the audit log's hash chain: every line records the SHA-256 of the line before\n"
	"it and FILE.head the last one, so an edited, inserted or removed line is found and\n"
	"named. Prints the number of entries and the head hash (write it down somewhere the\n"
	"machine cannot change: it also catches a rewrite of the whole file).\n";

int
ca_cmd_audit(int argc, char **argv)
{
	static const int allowed[] = { 0 };
	char head[SP_PKI_SHA256_HEX + 1];
	struct sp_pki_err err;
	struct ca_opts o;
	uint64_t n;
	int rc = ca_parse(argc, argv, allowed, audit_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (o.n_args != 2 || strcmp(o.args[0], "verify") != 0)
		return ca_bad_usage("usage: spctl ca audit verify FILE");
	if (sp_pki_audit_verify(o.args[1], &n, head, &err) < 0) {
		printf("FAILED: %s\n", err.msg);
		return CA_FAIL;
	}
	printf("OK: %" PRIu64 " entries, chain intact, head %s\n", n, head);
	return CA_OK;
}
