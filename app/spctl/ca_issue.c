/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spctl ca init | intermediate | issue | sign: everything that creates a certificate.
 *
 * Each command does all its fallible work in memory first (keys, certificates, checks), then
 * writes its files, then the CA's index and the audit log; when a write fails, the files
 * written so far are removed again, so a refused command leaves nothing behind.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <openssl/x509v3.h>

#include "ca.h"

/* mkdir DIR (0700) unless it exists. */
static int
make_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : ca_fail("%s exists and is not a directory", dir);
	if (mkdir(dir, 0700) < 0)
		return ca_fail("cannot create %s: %s", dir, strerror(errno));
	return 0;
}

static int
refuse_existing(const char *path, bool force)
{
	struct stat st;

	if (!force && lstat(path, &st) == 0)
		return ca_fail("%s exists (not overwriting%s)", path,
			       strcmp(ca_cmd_name, "init") == 0 ? "" : "; --force replaces it");
	return 0;
}

/*
 * Write key (0600) and certificates (leaf first), record the issue in the CA's index (when
 * index is given) and the audit log. On failure, undo the files. @return CA_OK / CA_FAIL.
 */
/*
 * Write key (0600) and certificates (leaf first), record the issue in the CA's index (when
 * index is given) and the audit log. On failure, undo the files. @return CA_OK / CA_FAIL.
 */
static int
commit(const char *key_path, const EVP_PKEY *key, const char *crt_path, X509 **certs,
       size_t n, bool force, const char *index, const char *audit,
       enum sp_pki_audit_action action, const char *detail)
{
	struct sp_pki_cert_info info;
	struct ca_written w = { 0 };
	struct sp_pki_err err;
	const char *p;

	if (key_path != NULL) {
		p = ca_stage(&w, key_path, force);
		if (p == NULL || sp_pki_key_save(p, key, 0, &err) < 0) {
			ca_written_undo(&w);
			return ca_fail("%s", p ? err.msg : "path too long");
		}
	}
	p = ca_stage(&w, crt_path, force);
	if (p == NULL || sp_pki_certs_save(p, certs, n, 0, &err) < 0) {
		ca_written_undo(&w);
		return ca_fail("%s", p ? err.msg : "path too long");
	}
	sp_pki_cert_info(certs[0], &info, NULL);
	if (index != NULL && sp_pki_index_add_issued(index, certs[0], &err) < 0) {
		ca_written_undo(&w);
		return ca_fail("index: %s", err.msg);
	}
	if (ca_audit(audit, action, info.serial, info.spiffe_id, info.not_after, detail) !=
	    CA_OK) {
		ca_written_undo(&w);
		return CA_FAIL;
	}
	return ca_written_commit(&w);
}

static const char init_help[] =
	"Usage: spctl ca init --trust-domain TD --out DIR [--key-type p256|ed25519]\n"
	"                     [--days N | --seconds N] [--cn NAME] [--audit FILE]\n"
	"\n"
	"Create an offline root CA: DIR/root.key (mode 0600) and DIR/root.crt, self-signed,\n"
	"CA:TRUE, keyCertSign+cRLSign, URI SAN spiffe://TD, valid 10 years unless --days.\n"
	"DIR is created (0700) if missing; existing files are never replaced. Keep root.key\n"
	"offline (removable media): only `intermediate`, `revoke` and `crl` of the root need it.\n"
	"Audit log: DIR/audit.log unless --audit.\n";

int
ca_cmd_init(int argc, char **argv)
{
	static const int allowed[] = { CA_O_TD, CA_O_OUT, CA_O_KEYTYPE, CA_O_DAYS, CA_O_SECONDS,
		CA_O_AUDIT, CA_O_CN, 0 };
	char crt[PATH_MAX], key_path[PATH_MAX], audit[PATH_MAX], detail[PATH_MAX + 64];
	struct sp_pki_cert_spec spec = { .kind = SP_PKI_CERT_ROOT };
	struct sp_pki_err err;
	enum sp_pki_key_type kt;
	struct ca_opts o;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc = ca_parse(argc, argv, allowed, init_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (ca_need(o.td, "--trust-domain") < 0 || ca_need(o.out, "--out") < 0 ||
	    ca_key_type(&o, &kt) < 0 ||
	    ca_lifetime(o.days, o.seconds, SP_PKI_ROOT_LIFETIME, &spec.lifetime) < 0)
		return CA_USAGE;
	if (o.n_args > 0)
		return ca_bad_usage("unexpected argument '%s'", o.args[0]);
	if (sp_pki_trust_domain_check(o.td, &err) < 0)
		return ca_bad_usage("%s", err.msg);
	if (ca_path_in(crt, sizeof(crt), o.out, "root.crt") < 0 ||
	    ca_path_in(key_path, sizeof(key_path), o.out, "root.key") < 0 ||
	    (o.audit == NULL && ca_path_in(audit, sizeof(audit), o.out, "audit.log") < 0))
		return CA_FAIL;
	if (o.audit != NULL)
		snprintf(audit, sizeof(audit), "%s", o.audit);
	if (refuse_existing(crt, false) || refuse_existing(key_path, false) ||
	    ca_audit_check(audit) != CA_OK)
		return CA_FAIL;
	spec.trust_domain = o.td;
	spec.common_name = o.cn;
	spec.backdate = SP_PKI_BACKDATE;
	key = sp_pki_key_generate(kt, &err);
	if (key != NULL)
		cert = sp_pki_issue(&spec, key, NULL, NULL, &err);
	if (cert == NULL) {
		rc = ca_fail("%s", err.msg);
		goto out;
	}
	if (make_dir(o.out) < 0) {
		rc = CA_FAIL;
		goto out;
	}
	snprintf(detail, sizeof(detail), "root %s key-type %s", crt, sp_pki_key_type_name(kt));
	rc = commit(key_path, key, crt, &cert, 1, false, NULL, audit, SP_PKI_AUDIT_INIT, detail);
	if (rc == CA_OK) {
		ca_print_cert_line("root CA ", cert);
		printf("  certificate %s\n  key         %s (mode 0600: keep it offline)\n", crt,
		       key_path);
	}
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static const char intermediate_help[] =
	"Usage: spctl ca intermediate --root-cert FILE --root-key FILE --out DIR\n"
	"                     [--key-type p256|ed25519] [--days N | --seconds N] [--cn NAME]\n"
	"                     [--force] [--audit FILE]\n"
	"\n"
	"Create the online issuing CA of the root's trust domain: DIR/intermediate.key (0600)\n"
	"and DIR/intermediate.crt, CA:TRUE pathlen:0, name constraint permitting only URIs of\n"
	"the trust domain, valid 365 days unless --days (never past the root). Recorded in the\n"
	"root's index (ROOT.index next to the root certificate) so the root can revoke it.\n"
	"Audit log: audit.log next to the root certificate unless --audit.\n";

int
ca_cmd_intermediate(int argc, char **argv)
{
	static const int allowed[] = { CA_O_ROOT_CERT, CA_O_ROOT_KEY, CA_O_OUT, CA_O_KEYTYPE,
		CA_O_DAYS, CA_O_SECONDS, CA_O_AUDIT, CA_O_FORCE, CA_O_CN, 0 };
	char crt[PATH_MAX], key_path[PATH_MAX], audit[PATH_MAX], index[PATH_MAX];
	char detail[PATH_MAX + 64];
	struct sp_pki_cert_spec spec = { .kind = SP_PKI_CERT_INTERMEDIATE };
	struct ca_pair root;
	struct sp_pki_err err;
	enum sp_pki_key_type kt;
	struct ca_opts o;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc = ca_parse(argc, argv, allowed, intermediate_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (ca_need(o.root_cert, "--root-cert") < 0 || ca_need(o.root_key, "--root-key") < 0 ||
	    ca_need(o.out, "--out") < 0 || ca_key_type(&o, &kt) < 0 ||
	    ca_lifetime(o.days, o.seconds, SP_PKI_INTERMEDIATE_LIFETIME, &spec.lifetime) < 0)
		return CA_USAGE;
	if (o.n_args > 0)
		return ca_bad_usage("unexpected argument '%s'", o.args[0]);
	if (ca_path_in(crt, sizeof(crt), o.out, "intermediate.crt") < 0 ||
	    ca_path_in(key_path, sizeof(key_path), o.out, "intermediate.key") < 0 ||
	    ca_index_path(index, sizeof(index), o.root_cert) < 0 ||
	    (o.audit == NULL && ca_path_near(audit, sizeof(audit), o.root_cert, "audit.log") < 0))
		return CA_FAIL;
	if (o.audit != NULL)
		snprintf(audit, sizeof(audit), "%s", o.audit);
	if (refuse_existing(crt, o.force) || refuse_existing(key_path, o.force) ||
	    ca_audit_check(audit) != CA_OK)
		return CA_FAIL;
	if (ca_pair_load(&root, o.root_cert, o.root_key) != CA_OK)
		return CA_FAIL;
	if (!(X509_get_extension_flags(root.cert) & EXFLAG_SS)) {
		rc = ca_fail("%s is not a root (not self-signed)", o.root_cert);
		goto out;
	}
	spec.common_name = o.cn;
	spec.backdate = SP_PKI_BACKDATE;
	key = sp_pki_key_generate(kt, &err);
	if (key != NULL)
		cert = sp_pki_issue(&spec, key, root.cert, root.key, &err);
	if (cert == NULL) {
		rc = ca_fail("%s", err.msg);
		goto out;
	}
	if (make_dir(o.out) < 0) {
		rc = CA_FAIL;
		goto out;
	}
	snprintf(detail, sizeof(detail), "intermediate %s key-type %s", crt,
		 sp_pki_key_type_name(kt));
	rc = commit(key_path, key, crt, &cert, 1, o.force, index, audit,
		    SP_PKI_AUDIT_INTERMEDIATE, detail);
	if (rc == CA_OK) {
		ca_print_cert_line("intermediate CA ", cert);
		printf("  certificate %s\n  key         %s (mode 0600)\n", crt, key_path);
	}
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	ca_pair_free(&root);
	return rc;
}

/* Leaf followed by the CA certificate and the CA file's chain (roots left out). */
static size_t
chain_of(X509 *leaf, const struct ca_pair *ca, X509 **certs, size_t max)
{
	size_t n = 0;
	int i;

	certs[n++] = leaf;
	certs[n++] = ca->cert;
	for (i = 0; i < sk_X509_num(ca->chain) && n < max; i++) {
		X509 *x = sk_X509_value(ca->chain, i);

		if (!(X509_get_extension_flags(x) & EXFLAG_SS))
			certs[n++] = x;
	}
	return n;
}

static int
not_a_root(const struct ca_pair *ca)
{
	if (X509_get_extension_flags(ca->cert) & EXFLAG_SS)
		return ca_fail("%s is a root: leaves are issued by an intermediate (spctl ca "
			       "intermediate)", ca->cert_path);
	return 0;
}

static const char issue_help[] =
	"Usage: spctl ca issue gateway|workload --ca-cert FILE --ca-key FILE --name NAME\n"
	"                     [--ns NS] --out DIR [--seconds N | --days N]\n"
	"                     [--key-type p256|ed25519] [--not-before TIME] [--backdate SEC]\n"
	"                     [--force] [--audit FILE]\n"
	"\n"
	"Issue a certificate with a new key: gateway spiffe://TD/segment/NAME, or workload\n"
	"spiffe://TD/ns/NS/sa/NAME (TD is the CA's trust domain). Writes DIR/NAME.key (0600)\n"
	"and DIR/NAME.crt (the leaf followed by the CA chain). Lifetime: gateways 30 days,\n"
	"workloads 1 day, never past the CA. TIME is @UNIX, +SEC, -SEC or\n"
	"YYYY-MM-DDTHH:MM:SSZ (default: now minus --backdate, 60 s). --force replaces\n"
	"existing files (renewal). Recorded in the CA's index; audit log next to the CA\n"
	"certificate unless --audit.\n";

int
ca_cmd_issue(int argc, char **argv)
{
	static const int allowed[] = { CA_O_CA_CERT, CA_O_CA_KEY, CA_O_NAME, CA_O_NS, CA_O_OUT,
		CA_O_DAYS, CA_O_SECONDS, CA_O_KEYTYPE, CA_O_NOT_BEFORE, CA_O_BACKDATE, CA_O_FORCE,
		CA_O_AUDIT, 0 };
	char crt[PATH_MAX], key_path[PATH_MAX], audit[PATH_MAX], index[PATH_MAX], file[300];
	char id[SP_PKI_SPIFFE_MAX + 1], detail[PATH_MAX + 64];
	struct sp_pki_cert_spec spec = { 0 };
	struct ca_pair ca;
	struct sp_pki_err err;
	enum sp_pki_key_type kt;
	struct ca_opts o;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL, *certs[8];
	uint64_t backdate = SP_PKI_BACKDATE;
	bool gw;
	int rc = ca_parse(argc, argv, allowed, issue_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (o.n_args != 1 || (strcmp(o.args[0], "gateway") && strcmp(o.args[0], "workload")))
		return ca_bad_usage("say what to issue: gateway or workload");
	gw = strcmp(o.args[0], "gateway") == 0;
	spec.kind = gw ? SP_PKI_CERT_GATEWAY : SP_PKI_CERT_WORKLOAD;
	if (ca_need(o.ca_cert, "--ca-cert") < 0 || ca_need(o.ca_key, "--ca-key") < 0 ||
	    ca_need(o.name, "--name") < 0 || ca_need(o.out, "--out") < 0 ||
	    (!gw && ca_need(o.ns, "--ns") < 0) || ca_key_type(&o, &kt) < 0 ||
	    ca_lifetime(o.days, o.seconds, gw ? SP_PKI_GATEWAY_LIFETIME :
			SP_PKI_WORKLOAD_LIFETIME, &spec.lifetime) < 0 ||
	    (o.backdate && ca_parse_u64("--backdate", o.backdate, 0, 86400, &backdate) < 0))
		return CA_USAGE;
	if (gw && o.ns != NULL)
		return ca_bad_usage("--ns applies to workloads only");
	if (o.not_before != NULL && sp_pki_time_parse(o.not_before, time(NULL),
						      &spec.not_before) < 0)
		return ca_bad_usage("bad --not-before '%s'", o.not_before);
	spec.backdate = (uint32_t)backdate;
	snprintf(file, sizeof(file), "%s.crt", o.name);
	if (strchr(o.name, '/') != NULL || ca_path_in(crt, sizeof(crt), o.out, file) < 0)
		return ca_bad_usage("bad --name '%s'", o.name);
	snprintf(file, sizeof(file), "%s.key", o.name);
	if (ca_path_in(key_path, sizeof(key_path), o.out, file) < 0 ||
	    ca_index_path(index, sizeof(index), o.ca_cert) < 0 ||
	    (o.audit == NULL && ca_path_near(audit, sizeof(audit), o.ca_cert, "audit.log") < 0))
		return CA_FAIL;
	if (o.audit != NULL)
		snprintf(audit, sizeof(audit), "%s", o.audit);
	if (ca_pair_load(&ca, o.ca_cert, o.ca_key) != CA_OK)
		return CA_FAIL;
	rc = gw ? sp_pki_spiffe_gateway(id, sizeof(id), ca.td, o.name, &err) :
		  sp_pki_spiffe_workload(id, sizeof(id), ca.td, o.ns, o.name, &err);
	if (rc < 0) {
		rc = ca_bad_usage("%s", err.msg);
		goto out;
	}
	rc = CA_FAIL;
	if (not_a_root(&ca) || refuse_existing(crt, o.force) ||
	    refuse_existing(key_path, o.force) || ca_audit_check(audit) != CA_OK)
		goto out;
	spec.spiffe_id = id;
	key = sp_pki_key_generate(kt, &err);
	if (key != NULL)
		cert = sp_pki_issue(&spec, key, ca.cert, ca.key, &err);
	if (cert == NULL) {
		rc = ca_fail("%s", err.msg);
		goto out;
	}
	if (make_dir(o.out) < 0)
		goto out;
	snprintf(detail, sizeof(detail), "%s %s key-type %s", o.args[0], crt,
		 sp_pki_key_type_name(kt));
	rc = commit(key_path, key, crt, certs, chain_of(cert, &ca, certs, 8), o.force, index,
		    audit, SP_PKI_AUDIT_ISSUE, detail);
	if (rc == CA_OK) {
		ca_print_cert_line("issued ", cert);
		if (sp_pki_cert_seconds_left(cert, time(NULL)) <= 0)
			printf("  warning: this certificate is already expired\n");
		printf("  certificate %s (with the CA chain)\n  key         %s (mode 0600)\n", crt,
		       key_path);
	}
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	ca_pair_free(&ca);
	return rc;
}

static const char sign_help[] =
	"Usage: spctl ca sign --ca-cert FILE --ca-key FILE --csr FILE --policy FILE --out FILE\n"
	"                     [--token TOKEN [--tokens FILE]] [--seconds N | --days N]\n"
	"                     [--force] [--audit FILE]\n"
	"\n"
	"Sign a CSR. The identity granted is decided by the policy (docs/pki.md), never by the\n"
	"CSR alone: without --token, the ID the CSR asks for must be allowed by a policy rule;\n"
	"with --token, the token's identity is granted (the CSR may ask for none or the same)\n"
	"and the token is used up. Refused: a bad self-signature, CA rights asked for, a\n"
	"foreign trust domain, an identity outside the policy, a used or expired token.\n"
	"Writes FILE: the certificate followed by the CA chain. Lifetime: the policy's default\n"
	"unless given, at most its maximum. Tokens: FILE 'tokens' next to the CA certificate\n"
	"unless --tokens. Audit log next to the CA certificate unless --audit.\n";

int
ca_cmd_sign(int argc, char **argv)
{
	static const int allowed[] = { CA_O_CA_CERT, CA_O_CA_KEY, CA_O_CSR, CA_O_POLICY, CA_O_OUT,
		CA_O_TOKEN, CA_O_TOKENS, CA_O_DAYS, CA_O_SECONDS, CA_O_FORCE, CA_O_AUDIT, 0 };
	char audit[PATH_MAX], index[PATH_MAX], tokens[PATH_MAX], detail[PATH_MAX + 64];
	char bound[SP_PKI_SPIFFE_MAX + 1], granted[SP_PKI_SPIFFE_MAX + 1];
	struct sp_pki_sign_opts so = { .backdate = SP_PKI_BACKDATE };
	struct ca_written w = { 0 };
	struct sp_pki_policy policy;
	struct sp_pki_cert_info info;
	struct ca_pair ca;
	struct sp_pki_err err;
	struct ca_opts o;
	const char *out_path;
	X509_REQ *csr = NULL;
	X509 *cert = NULL, *certs[8];
	int rc = ca_parse(argc, argv, allowed, sign_help, &o);

	if (rc != 0)
		return rc > 0 ? CA_OK : CA_USAGE;
	if (ca_need(o.ca_cert, "--ca-cert") < 0 || ca_need(o.ca_key, "--ca-key") < 0 ||
	    ca_need(o.csr, "--csr") < 0 || ca_need(o.policy, "--policy") < 0 ||
	    ca_need(o.out, "--out") < 0 ||
	    ca_lifetime(o.days, o.seconds, 0, &so.lifetime) < 0)
		return CA_USAGE;
	if (o.n_args > 0)
		return ca_bad_usage("unexpected argument '%s'", o.args[0]);
	if (o.tokens != NULL && o.token == NULL)
		return ca_bad_usage("--tokens goes with --token");
	if (ca_index_path(index, sizeof(index), o.ca_cert) < 0 ||
	    (o.audit == NULL && ca_path_near(audit, sizeof(audit), o.ca_cert, "audit.log") < 0) ||
	    (o.tokens == NULL && ca_path_near(tokens, sizeof(tokens), o.ca_cert, "tokens") < 0))
		return CA_FAIL;
	if (o.audit != NULL)
		snprintf(audit, sizeof(audit), "%s", o.audit);
	if (o.tokens != NULL)
		snprintf(tokens, sizeof(tokens), "%s", o.tokens);
	if (refuse_existing(o.out, o.force) || ca_audit_check(audit) != CA_OK)
		return CA_FAIL;
	if (sp_pki_policy_load(&policy, o.policy, &err) < 0)
		return ca_fail("policy: %s", err.msg);
	csr = sp_pki_csr_load(o.csr, &err);
	if (csr == NULL)
		return ca_fail("CSR: %s", err.msg);
	if (ca_pair_load(&ca, o.ca_cert, o.ca_key) != CA_OK) {
		X509_REQ_free(csr);
		return CA_FAIL;
	}
	rc = CA_FAIL;
	if (not_a_root(&ca))
		goto out;
	if (strcmp(ca.td, policy.trust_domain) != 0) {
		rc = ca_fail("the policy is for trust domain '%s' but the CA serves '%s'",
			     policy.trust_domain, ca.td);
		goto out;
	}
	/* Look the token up now and use it up only after everything else worked. */
	if (o.token != NULL) {
		if (sp_pki_token_lookup(tokens, o.token, time(NULL), bound, sizeof(bound),
					&err) < 0) {
			rc = ca_fail("token: %s", err.msg);
			goto out;
		}
		so.bound_id = bound;
	}
	so.policy = &policy;
	cert = sp_pki_csr_sign(csr, &so, ca.cert, ca.key, granted, sizeof(granted), &err);
	if (cert == NULL) {
		rc = ca_fail("%s: %s", o.csr, err.msg);
		goto out;
	}
	out_path = ca_stage(&w, o.out, o.force);
	if (out_path == NULL ||
	    sp_pki_certs_save(out_path, certs, chain_of(cert, &ca, certs, 8), 0, &err) < 0) {
		ca_written_undo(&w);
		rc = ca_fail("%s", out_path ? err.msg : "path too long");
		goto out;
	}
	if (o.token != NULL &&
	    sp_pki_token_consume(tokens, o.token, time(NULL), bound, sizeof(bound), &err) < 0) {
		ca_written_undo(&w);
		rc = ca_fail("token: %s", err.msg);
		goto out;
	}
	sp_pki_cert_info(cert, &info, NULL);
	snprintf(detail, sizeof(detail), "csr %s -> %s%s", o.csr, o.out,
		 o.token ? " (bootstrap token)" : " (policy)");
	if (sp_pki_index_add_issued(index, cert, &err) < 0) {
		ca_written_undo(&w);
		rc = ca_fail("index: %s", err.msg);
		goto out;
	}
	if (ca_audit(audit, SP_PKI_AUDIT_SIGN, info.serial, granted, info.not_after, detail) !=
	    CA_OK) {
		ca_written_undo(&w);
		goto out;
	}
	rc = ca_written_commit(&w);
	if (rc != CA_OK)
		goto out;
	ca_print_cert_line("signed ", cert);
	printf("  certificate %s (with the CA chain)\n", o.out);
out:
	X509_free(cert);
	X509_REQ_free(csr);
	ca_pair_free(&ca);
	return rc;
}
