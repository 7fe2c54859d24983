/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spctl ca: dispatch and the helpers the commands share.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ca.h"

const char *ca_cmd_name = "";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cmds[] = {
	{ "init", ca_cmd_init, "create an offline root CA (key + self-signed certificate)" },
	{ "intermediate", ca_cmd_intermediate, "create an online issuing CA signed by the root" },
	{ "issue", ca_cmd_issue, "issue a gateway or workload certificate with a new key" },
	{ "sign", ca_cmd_sign, "sign a CSR under a policy (optionally with a bootstrap token)" },
	{ "revoke", ca_cmd_revoke, "record a revocation in the CA's index" },
	{ "crl", ca_cmd_crl, "write the CA's CRL from its index" },
	{ "show", ca_cmd_show, "print the certificates (or the CRL) in a file" },
	{ "list", ca_cmd_list, "one line per certificate file in a directory" },
	{ "bundle", ca_cmd_bundle, "build a trust bundle from one or more roots" },
	{ "token", ca_cmd_token, "create a one-time bootstrap token for an identity" },
	{ "verify", ca_cmd_verify, "verify a certificate against a bundle (and CRLs)" },
	{ "audit", ca_cmd_audit, "verify the hash chain of an audit log" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: spctl ca COMMAND [OPTIONS]   (spctl ca COMMAND --help for each)\n"
		"\n"
		"The internal certificate authority, run on files (the root key may stay on\n"
		"removable media: every command that needs a key takes its path).\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
		"\n"
		"Exit status: 0 done; 1 refused or failed (the message names the problem,\n"
		"nothing was written); 2 bad command line.\n"
		"Every command that issues, revokes or changes a bundle appends to an audit log\n"
		"(default: audit.log next to the CA material; --audit FILE to choose).\n"
		"See docs/pki.md.\n");
}

int
ca_main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return CA_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CA_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			ca_cmd_name = cmds[i].name;
			optind = 0;  /* getopt_long starts afresh for the command */
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "spctl ca: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CA_USAGE;
}

static const struct option all_opts[] = {
	{ "help", no_argument, NULL, CA_O_HELP },
	{ "trust-domain", required_argument, NULL, CA_O_TD },
	{ "out", required_argument, NULL, CA_O_OUT },
	{ "key-type", required_argument, NULL, CA_O_KEYTYPE },
	{ "days", required_argument, NULL, CA_O_DAYS },
	{ "seconds", required_argument, NULL, CA_O_SECONDS },
	{ "name", required_argument, NULL, CA_O_NAME },
	{ "audit", required_argument, NULL, CA_O_AUDIT },
	{ "force", no_argument, NULL, CA_O_FORCE },
	{ "root-cert", required_argument, NULL, CA_O_ROOT_CERT },
	{ "root-key", required_argument, NULL, CA_O_ROOT_KEY },
	{ "ca-cert", required_argument, NULL, CA_O_CA_CERT },
	{ "ca-key", required_argument, NULL, CA_O_CA_KEY },
	{ "ns", required_argument, NULL, CA_O_NS },
	{ "not-before", required_argument, NULL, CA_O_NOT_BEFORE },
	{ "backdate", required_argument, NULL, CA_O_BACKDATE },
	{ "csr", required_argument, NULL, CA_O_CSR },
	{ "policy", required_argument, NULL, CA_O_POLICY },
	{ "token", required_argument, NULL, CA_O_TOKEN },
	{ "tokens", required_argument, NULL, CA_O_TOKENS },
	{ "cn", required_argument, NULL, CA_O_CN },
	{ "serial", required_argument, NULL, CA_O_SERIAL },
	{ "reason", required_argument, NULL, CA_O_REASON },
	{ "ca-dir", required_argument, NULL, CA_O_CA_DIR },
	{ "identity", required_argument, NULL, CA_O_IDENTITY },
	{ "ttl", required_argument, NULL, CA_O_TTL },
	{ "bundle", required_argument, NULL, CA_O_BUNDLE },
	{ "crl", required_argument, NULL, CA_O_CRL },
	{ "untrusted", required_argument, NULL, CA_O_UNTRUSTED },
	{ "id", required_argument, NULL, CA_O_ID },
	{ "at", required_argument, NULL, CA_O_AT },
	{ NULL, 0, NULL, 0 },
};

static const char *
opt_name(int c)
{
	const struct option *o;

	for (o = all_opts; o->name != NULL; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

static void
set_opt(struct ca_opts *o, int c, const char *v)
{
	const char **slot[] = {
		[CA_O_TD - CA_O_TD] = &o->td, [CA_O_OUT - CA_O_TD] = &o->out,
		[CA_O_KEYTYPE - CA_O_TD] = &o->key_type, [CA_O_DAYS - CA_O_TD] = &o->days,
		[CA_O_SECONDS - CA_O_TD] = &o->seconds, [CA_O_NAME - CA_O_TD] = &o->name,
		[CA_O_AUDIT - CA_O_TD] = &o->audit, [CA_O_ROOT_CERT - CA_O_TD] = &o->root_cert,
		[CA_O_ROOT_KEY - CA_O_TD] = &o->root_key, [CA_O_CA_CERT - CA_O_TD] = &o->ca_cert,
		[CA_O_CA_KEY - CA_O_TD] = &o->ca_key, [CA_O_NS - CA_O_TD] = &o->ns,
		[CA_O_NOT_BEFORE - CA_O_TD] = &o->not_before,
		[CA_O_BACKDATE - CA_O_TD] = &o->backdate, [CA_O_CSR - CA_O_TD] = &o->csr,
		[CA_O_POLICY - CA_O_TD] = &o->policy, [CA_O_TOKEN - CA_O_TD] = &o->token,
		[CA_O_TOKENS - CA_O_TD] = &o->tokens, [CA_O_CN - CA_O_TD] = &o->cn,
		[CA_O_SERIAL - CA_O_TD] = &o->serial, [CA_O_REASON - CA_O_TD] = &o->reason,
		[CA_O_CA_DIR - CA_O_TD] = &o->ca_dir, [CA_O_IDENTITY - CA_O_TD] = &o->identity,
		[CA_O_TTL - CA_O_TD] = &o->ttl, [CA_O_BUNDLE - CA_O_TD] = &o->bundle,
		[CA_O_UNTRUSTED - CA_O_TD] = &o->untrusted, [CA_O_ID - CA_O_TD] = &o->id,
		[CA_O_AT - CA_O_TD] = &o->at,
	};
	unsigned int i = (unsigned int)(c - CA_O_TD);

	if (i < sizeof(slot) / sizeof(slot[0]) && slot[i] != NULL)
		*slot[i] = v;
}

int
ca_parse(int argc, char **argv, const int *allowed, const char *help, struct ca_opts *o)
{
	int c, i;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "h", all_opts, NULL)) != -1) {
		bool ok = c == CA_O_HELP;

		for (i = 0; !ok && allowed[i] != 0; i++)
			ok = allowed[i] == c;
		if (c == '?') {
			fprintf(stderr, "(see spctl ca %s --help)\n", ca_cmd_name);
			return -1;
		}
		if (!ok) {
			ca_bad_usage("option --%s does not apply here", opt_name(c));
			return -1;
		}
		if (c == CA_O_HELP) {
			fputs(help, stdout);
			return 1;
		}
		if (c == CA_O_FORCE) {
			o->force = true;
		} else if (c == CA_O_CRL) {
			if (o->n_crl == CA_MAX_CRLS) {
				ca_bad_usage("at most %d --crl", CA_MAX_CRLS);
				return -1;
			}
			o->crl[o->n_crl++] = optarg;
		} else {
			set_opt(o, c, optarg);
		}
	}
	o->n_args = argc - optind;
	o->args = argv + optind;
	return 0;
}

int
ca_need(const char *value, const char *opt)
{
	if (value != NULL && *value != '\0')
		return 0;
	ca_bad_usage("%s is required", opt);
	return -1;
}

int
ca_key_type(const struct ca_opts *o, enum sp_pki_key_type *t)
{
	*t = SP_PKI_KEY_P256;
	if (o->key_type != NULL && sp_pki_key_type_parse(o->key_type, t) < 0) {
		ca_bad_usage("bad --key-type '%s' (p256 or ed25519)", o->key_type);
		return -1;
	}
	return 0;
}

int
ca_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "spctl ca %s: ", ca_cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CA_FAIL;
}

int
ca_bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "spctl ca %s: ", ca_cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see spctl ca %s --help)\n", ca_cmd_name);
	return CA_USAGE;
}

int
ca_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
		ca_bad_usage("bad %s '%s' (a number from %llu to %llu)", opt, s,
			     (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int
ca_lifetime(const char *days, const char *seconds, uint64_t def, uint64_t *out)
{
	uint64_t v;

	if (days != NULL && seconds != NULL) {
		ca_bad_usage("give --days or --seconds, not both");
		return -1;
	}
	*out = def;
	if (days != NULL) {
		if (ca_parse_u64("--days", days, 1, 36500, &v) < 0)
			return -1;
		*out = v * SP_PKI_DAY;
	} else if (seconds != NULL) {
		if (ca_parse_u64("--seconds", seconds, 1, 36500 * SP_PKI_DAY, &v) < 0)
			return -1;
		*out = v;
	}
	return 0;
}

int
ca_pair_load(struct ca_pair *p, const char *cert_path, const char *key_path)
{
	struct sp_pki_cert_info info;
	struct sp_pki_err err;
	char when[32];
	time_t now = time(NULL);

	memset(p, 0, sizeof(*p));
	p->cert_path = cert_path;
	p->cert = sp_pki_cert_load(cert_path, &p->chain, &err);
	if (p->cert == NULL)
		return ca_fail("CA certificate: %s", err.msg);
	p->key = sp_pki_key_load(key_path, &err);
	if (p->key == NULL) {
		ca_pair_free(p);
		return ca_fail("CA key: %s", err.msg);
	}
	if (sp_pki_key_matches_cert(p->key, p->cert, &err) < 0) {
		ca_pair_free(p);
		return ca_fail("%s does not match %s: %s", key_path, cert_path, err.msg);
	}
	if (sp_pki_cert_info(p->cert, &info, &err) < 0) {
		ca_pair_free(p);
		return ca_fail("%s: %s", cert_path, err.msg);
	}
	if (!info.is_ca) {
		ca_pair_free(p);
		return ca_fail("%s is not a CA certificate", cert_path);
	}
	if (now > info.not_after) {
		sp_pki_time_str(info.not_after, when);
		ca_pair_free(p);
		return ca_fail("the CA certificate %s expired on %s", cert_path, when);
	}
	if (now < info.not_before) {
		sp_pki_time_str(info.not_before, when);
		ca_pair_free(p);
		return ca_fail("the CA certificate %s is not valid before %s", cert_path, when);
	}
	if (sp_pki_cert_trust_domain(p->cert, p->td, sizeof(p->td), &err) < 0) {
		ca_pair_free(p);
		return ca_fail("%s has no trust domain: %s", cert_path, err.msg);
	}
	return CA_OK;
}

void
ca_pair_free(struct ca_pair *p)
{
	EVP_PKEY_free(p->key);  /* wipes the private key */
	X509_free(p->cert);
	sp_pki_certs_free(p->chain);
	memset(p, 0, sizeof(*p));
}

int
ca_path_in(char *out, size_t len, const char *dir, const char *name)
{
	if (snprintf(out, len, "%s/%s", dir, name) >= (int)len) {
		ca_fail("path too long: %s/%s", dir, name);
		return -1;
	}
	return 0;
}

int
ca_path_near(char *out, size_t len, const char *file, const char *name)
{
	const char *slash = strrchr(file, '/');

	if (slash == NULL)
		return ca_path_in(out, len, ".", name);
	if (snprintf(out, len, "%.*s/%s", (int)(slash - file), file, name) >= (int)len) {
		ca_fail("path too long near %s", file);
		return -1;
	}
	return 0;
}

int
ca_index_path(char *out, size_t len, const char *ca_cert)
{
	size_t n = strlen(ca_cert);
	const char *dot = strrchr(ca_cert, '.');
	const char *slash = strrchr(ca_cert, '/');

	if (dot != NULL && (slash == NULL || dot > slash) &&
	    (strcmp(dot, ".crt") == 0 || strcmp(dot, ".pem") == 0))
		n = (size_t)(dot - ca_cert);
	if (snprintf(out, len, "%.*s.index", (int)n, ca_cert) >= (int)len) {
		ca_fail("path too long: %s", ca_cert);
		return -1;
	}
	return 0;
}

int
ca_audit_check(const char *audit)
{
	struct sp_pki_err err;
	struct stat st;

	if (stat(audit, &st) < 0 && errno == ENOENT)
		return CA_OK;
	if (sp_pki_audit_verify(audit, NULL, NULL, &err) < 0)
		return ca_fail("the audit log does not verify, refusing to go on: %s (investigate;"
			       " use --audit to start a new log)", err.msg);
	return CA_OK;
}

int
ca_audit(const char *audit, enum sp_pki_audit_action action, const char *serial,
	 const char *identity, time_t not_after, const char *detail)
{
	struct sp_pki_audit_rec rec = {
		.action = action,
		.serial = serial,
		.identity = identity,
		.not_after = not_after,
		.detail = detail,
	};
	struct sp_pki_err err;
	char who[320];

	sp_pki_audit_who(who, sizeof(who));
	rec.who = who;
	if (sp_pki_audit_append(audit, &rec, &err) < 0)
		return ca_fail("audit: %s", err.msg);
	return CA_OK;
}

const char *
ca_stage(struct ca_written *w, const char *path, bool replace)
{
	int i = w->n;

	if (i >= (int)(sizeof(w->final) / sizeof(w->final[0])))
		return NULL;
	snprintf(w->final[i], sizeof(w->final[i]), "%s", path);
	if (replace) {
		if (snprintf(w->staged[i], sizeof(w->staged[i]), "%s.new", path) >=
		    (int)sizeof(w->staged[i]))
			return NULL;
		unlink(w->staged[i]);
	} else {
		snprintf(w->staged[i], sizeof(w->staged[i]), "%s", path);
	}
	w->n++;
	return w->staged[i];
}

void
ca_written_undo(struct ca_written *w)
{
	while (w->n > 0) {
		w->n--;
		unlink(w->staged[w->n]);
	}
}

int
ca_written_commit(struct ca_written *w)
{
	int i;

	for (i = 0; i < w->n; i++) {
		if (strcmp(w->staged[i], w->final[i]) == 0)
			continue;
		if (rename(w->staged[i], w->final[i]) < 0)
			return ca_fail("cannot move %s to %s: %s", w->staged[i], w->final[i],
				       strerror(errno));
	}
	w->n = 0;
	return CA_OK;
}

void
ca_print_cert_line(const char *prefix, const X509 *cert)
{
	struct sp_pki_cert_info info;
	char na[32];

	if (sp_pki_cert_info(cert, &info, NULL) < 0)
		return;
	sp_pki_time_str(info.not_after, na);
	printf("%s%s serial %s not-after %s (%.1f days)\n", prefix,
	       info.spiffe_id[0] ? info.spiffe_id : info.subject, info.serial, na,
	       (double)sp_pki_cert_seconds_left(cert, time(NULL)) / (double)SP_PKI_DAY);
}
