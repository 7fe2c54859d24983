/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spctl ca revoke | crl | bundle | token: revocation, trust bundles and bootstrap tokens.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ca.h"

static const char revoke_help[] =
	"Usage: spctl ca revoke --ca-cert FILE --ca-key FILE --serial HEX [--reason REASON]\n"
	"                     [--force] [--audit FILE]\n"
	"\n"
	"Record that the certificate with serial HEX, issued by this CA, is revoked. The state\n"
	"is the CA's index (CA.index next to the CA certificate); publish it with\n"
	"`spctl ca crl`. A serial the index does not know is refused unless --force.\n"
	"REASON: unspecified (default), keyCompromise, cACompromise, affiliationChanged,\n"
	"superseded, cessationOfOperation, privilegeWithdrawn. To revoke an intermediate, use\n"
	"the root's certificate and key. Audit log next to the CA certificate unless --audit.\n";

int
ca_cmd_revoke(int argc, char **argv)
{
	static const int allowed[] = { CA_O_CA_CERT, CA_O_CA_KEY, CA_O_SERIAL, CA_O_REASON,
		CA_O_FORCE, CA_O_AUDIT, 0 };
	char serial[SP_PKI_SERIAL_HEX_MAX + 1], index[PATH_MAX], audit[PATH_MAX], detail[160];
	enum sp_pki_reason reason = SP_PKI_REASON_UNSPECIFIED;
	const char *identity = "";
	struct sp_pki_index idx = { 0 };
	struct sp_pki_err err;
	struct ca_pair ca;
	struct ca_opts o;
	size_t i;
	int rc = ca_parse(argc, argv, allowed, revoke_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (ca_need(o.ca_cert, "--ca-cert") < 0 || ca_need(o.ca_key, "--ca-key") < 0 ||
	    ca_need(o.serial, "--serial") < 0)
		return CA_USAGE;
	if (o.n_args > 0)
		return ca_bad_usage("unexpected argument '%s'", o.args[0]);
	if (sp_pki_serial_parse(o.serial, serial, &err) < 0)
		return ca_bad_usage("%s", err.msg);
	if (o.reason != NULL && sp_pki_reason_parse(o.reason, &reason) < 0)
		return ca_bad_usage("bad --reason '%s'", o.reason);
	if (ca_index_path(index, sizeof(index), o.ca_cert) < 0 ||
	    (o.audit == NULL && ca_path_near(audit, sizeof(audit), o.ca_cert, "audit.log") < 0))
		return CA_FAIL;
	if (o.audit != NULL)
		snprintf(audit, sizeof(audit), "%s", o.audit);
	if (ca_audit_check(audit) != CA_OK)
		return CA_FAIL;
	/* The key proves the operator speaks for this CA. */
	if (ca_pair_load(&ca, o.ca_cert, o.ca_key) != CA_OK)
		return CA_FAIL;
	rc = CA_FAIL;
	if (sp_pki_index_revoke(index, serial, reason, time(NULL), o.force, &err) < 0) {
		rc = ca_fail("%s%s", err.msg, err.code == -ENOENT ? " (--force revokes it anyway)" :
			     "");
		goto out;
	}
	if (sp_pki_index_load(index, &idx, NULL) == 0)
		for (i = 0; i < idx.n_issued; i++)
			if (strcmp(idx.issued[i].serial, serial) == 0)
				identity = idx.issued[i].identity;
	snprintf(detail, sizeof(detail), "reason %s%s", sp_pki_reason_name(reason),
		 o.force ? " (forced)" : "");
	if (ca_audit(audit, SP_PKI_AUDIT_REVOKE, serial, identity, 0, detail) != CA_OK)
		goto out;
	printf("revoked serial %s (%s)%s%s\n", serial, sp_pki_reason_name(reason),
	       identity[0] ? ": " : "", identity);
	printf("publish it: spctl ca crl --ca-cert %s --ca-key %s --out CRL-FILE\n", o.ca_cert,
	       o.ca_key);
	rc = CA_OK;
out:
	sp_pki_index_free(&idx);
	ca_pair_free(&ca);
	return rc;
}

static const char crl_help[] =
	"Usage: spctl ca crl --ca-cert FILE --ca-key FILE --out FILE [--days N | --seconds N]\n"
	"                     [--audit FILE]\n"
	"\n"
	"Write the CA's CRL: every serial revoked in its index, the next CRL number, this\n"
	"update now and next update in 30 days unless --days. FILE is replaced atomically.\n"
	"Relying parties refuse a CRL past its next update: re-sign it in time (the root's too,\n"
	"with the root key). Audit log next to the CA certificate unless --audit.\n";

int
ca_cmd_crl(int argc, char **argv)
{
	static const int allowed[] = { CA_O_CA_CERT, CA_O_CA_KEY, CA_O_OUT, CA_O_DAYS,
		CA_O_SECONDS, CA_O_AUDIT, 0 };
	char index[PATH_MAX], audit[PATH_MAX], number[32], detail[PATH_MAX + 96], nu_s[32];
	struct sp_pki_index idx = { 0 };
	struct ca_written w = { 0 };
	struct sp_pki_err err;
	struct ca_pair ca;
	struct ca_opts o;
	X509_CRL *crl = NULL;
	const char *path;
	uint64_t life;
	time_t tu, nu;
	int rc = ca_parse(argc, argv, allowed, crl_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (ca_need(o.ca_cert, "--ca-cert") < 0 || ca_need(o.ca_key, "--ca-key") < 0 ||
	    ca_need(o.out, "--out") < 0 ||
	    ca_lifetime(o.days, o.seconds, SP_PKI_CRL_LIFETIME, &life) < 0)
		return CA_USAGE;
	if (o.n_args > 0)
		return ca_bad_usage("unexpected argument '%s'", o.args[0]);
	if (ca_index_path(index, sizeof(index), o.ca_cert) < 0 ||
	    (o.audit == NULL && ca_path_near(audit, sizeof(audit), o.ca_cert, "audit.log") < 0))
		return CA_FAIL;
	if (o.audit != NULL)
		snprintf(audit, sizeof(audit), "%s", o.audit);
	if (ca_audit_check(audit) != CA_OK || ca_pair_load(&ca, o.ca_cert, o.ca_key) != CA_OK)
		return CA_FAIL;
	rc = CA_FAIL;
	if (sp_pki_index_load(index, &idx, &err) < 0) {
		rc = ca_fail("%s", err.msg);
		goto out;
	}
	crl = sp_pki_crl_create(ca.cert, ca.key, idx.revoked, idx.n_revoked, idx.crl_number + 1,
				0, life, &err);
	if (crl == NULL || sp_pki_crl_check(crl, ca.cert, time(NULL), &err) < 0) {
		rc = ca_fail("%s", err.msg);
		goto out;
	}
	path = ca_stage(&w, o.out, true);
	if (path == NULL || sp_pki_crl_save(path, crl, 0, &err) < 0) {
		ca_written_undo(&w);
		rc = ca_fail("%s", path ? err.msg : "path too long");
		goto out;
	}
	if (sp_pki_index_set_crl_number(index, idx.crl_number + 1, &err) < 0) {
		ca_written_undo(&w);
		rc = ca_fail("index: %s", err.msg);
		goto out;
	}
	sp_pki_crl_times(crl, &tu, &nu);
	sp_pki_time_str(nu, nu_s);
	snprintf(number, sizeof(number), "%" PRIu64, idx.crl_number + 1);
	snprintf(detail, sizeof(detail), "crl %s: %zu revoked, next update %s", o.out,
		 idx.n_revoked, nu_s);
	if (ca_audit(audit, SP_PKI_AUDIT_CRL, number, "", nu, detail) != CA_OK) {
		ca_written_undo(&w);
		goto out;
	}
	if (ca_written_commit(&w) != CA_OK)
		goto out;
	printf("CRL number %s of %s: %zu revoked, next update %s\n  written to %s\n", number,
	       ca.td, idx.n_revoked, nu_s, o.out);
	rc = CA_OK;
out:
	X509_CRL_free(crl);
	sp_pki_index_free(&idx);
	ca_pair_free(&ca);
	return rc;
}

static const char bundle_help[] =
	"Usage: spctl ca bundle --out FILE [--audit FILE] ROOT.crt [ROOT2.crt ...]\n"
	"\n"
	"Build a trust bundle: every root certificate of the files given, duplicates dropped,\n"
	"anything that is not a self-signed CA refused. For a root rollover give the old and\n"
	"the new root; remove the old one only after every certificate chains to the new one\n"
	"(docs/pki.md). FILE is replaced atomically; the roots added and removed are printed\n"
	"and audited (audit.log next to FILE unless --audit).\n";

static bool
in_stack(STACK_OF(X509) *s, X509 *x)
{
	int i;

	for (i = 0; s != NULL && i < sk_X509_num(s); i++)
		if (X509_cmp(sk_X509_value(s, i), x) == 0)
			return true;
	return false;
}

/* Append " <serial-prefix>" for each root of a not in b to out. */
static void
diff_list(STACK_OF(X509) *a, STACK_OF(X509) *b, char *out, size_t len)
{
	char serial[SP_PKI_SERIAL_HEX_MAX + 1];
	size_t off = strlen(out);
	int i;

	for (i = 0; a != NULL && i < sk_X509_num(a); i++) {
		X509 *x = sk_X509_value(a, i);

		if (in_stack(b, x) || off + 2 >= len)
			continue;
		sp_pki_cert_serial(x, serial, sizeof(serial));
		off += (size_t)snprintf(out + off, len - off, " %s", serial);
		if (off >= len)
			off = len - 1;
	}
}

int
ca_cmd_bundle(int argc, char **argv)
{
	static const int allowed[] = { CA_O_OUT, CA_O_AUDIT, 0 };
	char audit[PATH_MAX], detail[1024], list[960];
	STACK_OF(X509) *bundle = NULL, *old = NULL;
	struct ca_written w = { 0 };
	struct sp_pki_err err;
	struct ca_opts o;
	const char *path;
	struct stat st;
	int i, j, rc = ca_parse(argc, argv, allowed, bundle_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (ca_need(o.out, "--out") < 0)
		return CA_USAGE;
	if (o.n_args == 0)
		return ca_bad_usage("name at least one root certificate file");
	if (o.audit == NULL && ca_path_near(audit, sizeof(audit), o.out, "audit.log") < 0)
		return CA_FAIL;
	if (o.audit != NULL)
		snprintf(audit, sizeof(audit), "%s", o.audit);
	if (ca_audit_check(audit) != CA_OK)
		return CA_FAIL;
	rc = CA_FAIL;
	bundle = sk_X509_new_null();
	if (bundle == NULL)
		return ca_fail("out of memory");
	for (i = 0; i < o.n_args; i++) {
		STACK_OF(X509) *certs = sp_pki_certs_load(o.args[i], &err);

		if (certs == NULL) {
			rc = ca_fail("%s", err.msg);
			goto out;
		}
		for (j = 0; j < sk_X509_num(certs); j++) {
			X509 *x = sk_X509_value(certs, j);

			if (sp_pki_bundle_add(bundle, x, &err) < 0) {
				sp_pki_certs_free(certs);
				rc = ca_fail("%s: %s", o.args[i], err.msg);
				goto out;
			}
			if (sp_pki_cert_seconds_left(x, time(NULL)) <= 0)
				fprintf(stderr, "spctl ca bundle: warning: %s holds an expired "
					"root\n", o.args[i]);
		}
		sp_pki_certs_free(certs);
	}
	/* What changes, for the operator and the audit log. */
	if (stat(o.out, &st) == 0) {
		old = sp_pki_certs_load(o.out, &err);
		if (old == NULL)
			fprintf(stderr, "spctl ca bundle: note: the old %s does not load (%s); "
				"replacing it\n", o.out, err.msg);
	}
	snprintf(list, sizeof(list), "added:");
	diff_list(bundle, old, list, sizeof(list));
	snprintf(list + strlen(list), sizeof(list) - strlen(list), "; removed:");
	diff_list(old, bundle, list, sizeof(list));
	path = ca_stage(&w, o.out, true);
	if (path == NULL || sp_pki_stack_save(path, bundle, 0, &err) < 0) {
		ca_written_undo(&w);
		rc = ca_fail("%s", path ? err.msg : "path too long");
		goto out;
	}
	snprintf(detail, sizeof(detail), "bundle %s: %d root(s); %s", o.out, sk_X509_num(bundle),
		 list);
	if (ca_audit(audit, SP_PKI_AUDIT_BUNDLE, "", "", 0, detail) != CA_OK) {
		ca_written_undo(&w);
		goto out;
	}
	if (ca_written_commit(&w) != CA_OK)
		goto out;
	printf("bundle %s: %d root(s) (%s)\n", o.out, sk_X509_num(bundle), list);
	for (i = 0; i < sk_X509_num(bundle); i++)
		ca_print_cert_line("  ", sk_X509_value(bundle, i));
	rc = CA_OK;
out:
	sp_pki_certs_free(old);
	sp_pki_certs_free(bundle);
	return rc;
}

static const char token_help[] =
	"Usage: spctl ca token --ca-dir DIR --identity SPIFFE-ID [--ttl SEC] [--audit FILE]\n"
	"\n"
	"Create a one-time bootstrap token granting SPIFFE-ID (a gateway or workload ID of the\n"
	"CA's trust domain), valid for SEC seconds (default 3600). The token is printed once\n"
	"on stdout; DIR/tokens keeps only its SHA-256. A CSR signed with it (spctl ca sign\n"
	"--token, or the daemon's issuance endpoint) gets exactly that identity, once.\n"
	"Audit log: DIR/audit.log unless --audit.\n";

int
ca_cmd_token(int argc, char **argv)
{
	static const int allowed[] = { CA_O_CA_DIR, CA_O_IDENTITY, CA_O_TTL, CA_O_AUDIT, 0 };
	char tokens[PATH_MAX], audit[PATH_MAX], ca_crt[PATH_MAX], td[SP_PKI_TD_MAX + 1];
	char ca_td[SP_PKI_TD_MAX + 1], token[SP_PKI_TOKEN_CHARS + 1], detail[64];
	struct sp_pki_err err;
	struct ca_opts o;
	struct stat st;
	uint64_t ttl = 3600;
	time_t now = time(NULL);
	X509 *ca;
	int kind, rc = ca_parse(argc, argv, allowed, token_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (ca_need(o.ca_dir, "--ca-dir") < 0 || ca_need(o.identity, "--identity") < 0 ||
	    (o.ttl != NULL && ca_parse_u64("--ttl", o.ttl, 1, 366 * SP_PKI_DAY, &ttl) < 0))
		return CA_USAGE;
	if (o.n_args > 0)
		return ca_bad_usage("unexpected argument '%s'", o.args[0]);
	kind = sp_pki_spiffe_kind(o.identity, NULL, NULL, &err);
	if (kind < 0)
		return ca_bad_usage("%s", err.msg);
	if (kind != SP_PKI_ID_GATEWAY && kind != SP_PKI_ID_WORKLOAD)
		return ca_bad_usage("'%s' is not a gateway (spiffe://TD/segment/NAME) or workload "
				    "(spiffe://TD/ns/NS/sa/NAME) ID", o.identity);
	sp_pki_spiffe_parse(o.identity, td, sizeof(td), NULL, NULL);
	if (ca_path_in(tokens, sizeof(tokens), o.ca_dir, "tokens") < 0 ||
	    ca_path_in(ca_crt, sizeof(ca_crt), o.ca_dir, "intermediate.crt") < 0 ||
	    (o.audit == NULL && ca_path_in(audit, sizeof(audit), o.ca_dir, "audit.log") < 0))
		return CA_FAIL;
	if (o.audit != NULL)
		snprintf(audit, sizeof(audit), "%s", o.audit);
	if (stat(o.ca_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return ca_fail("%s is not a directory", o.ca_dir);
	/* The issuing CA of DIR (when it is there) must serve the identity's trust domain. */
	if (stat(ca_crt, &st) == 0) {
		ca = sp_pki_cert_load(ca_crt, NULL, &err);
		if (ca == NULL)
			return ca_fail("%s", err.msg);
		rc = sp_pki_cert_trust_domain(ca, ca_td, sizeof(ca_td), &err);
		X509_free(ca);
		if (rc < 0)
			return ca_fail("%s: %s", ca_crt, err.msg);
		if (strcmp(td, ca_td) != 0)
			return ca_fail("'%s' is in a foreign trust domain (the CA in %s serves "
				       "'%s')", o.identity, o.ca_dir, ca_td);
	}
	if (ca_audit_check(audit) != CA_OK)
		return CA_FAIL;
	if (sp_pki_token_create(tokens, o.identity, ttl, now, token, &err) < 0)
		return ca_fail("%s", err.msg);
	snprintf(detail, sizeof(detail), "one-time token, ttl %llu s", (unsigned long long)ttl);
	if (ca_audit(audit, SP_PKI_AUDIT_TOKEN, "", o.identity, now + (time_t)ttl, detail) !=
	    CA_OK)
		return CA_FAIL;  /* the token exists but is not printed: it cannot be used */
	printf("%s\n", token);
	fflush(stdout);
	OPENSSL_cleanse(token, sizeof(token));
	fprintf(stderr, "token for %s, single use, expires in %llu s (shown only now)\n",
		o.identity, (unsigned long long)ttl);
	return CA_OK;
}
