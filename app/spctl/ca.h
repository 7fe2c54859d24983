/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SPCTL_CA_H
#define SPCTL_CA_H

/*
 * `spctl ca ...`: the operator's side of the internal CA (lib/pki). Runs locally on files; it
 * never talks to the daemon. Shared helpers of ca*.c below.
 */

#include <stdbool.h>
#include <stdint.h>

#include "sp_pki.h"

/* Exit statuses, as for the rest of spctl. */
enum {
	CA_OK = 0,     /* done */
	CA_FAIL = 1,   /* refused or failed: the message says why; nothing was written */
	CA_USAGE = 2,  /* bad command line */
};

/** Entry point: argv[0] is "ca". @return the exit status. */
int ca_main(int argc, char **argv);

/* ---- helpers (ca.c) ---- */

/* Every option of every ca command; each command lists those it accepts. */
enum {
	CA_O_HELP = 'h',
	CA_O_TD = 256, CA_O_OUT, CA_O_KEYTYPE, CA_O_DAYS, CA_O_SECONDS, CA_O_NAME, CA_O_AUDIT,
	CA_O_FORCE, CA_O_ROOT_CERT, CA_O_ROOT_KEY, CA_O_CA_CERT, CA_O_CA_KEY, CA_O_NS,
	CA_O_NOT_BEFORE, CA_O_BACKDATE, CA_O_CSR, CA_O_POLICY, CA_O_TOKEN, CA_O_TOKENS, CA_O_CN,
	CA_O_SERIAL, CA_O_REASON, CA_O_CA_DIR, CA_O_IDENTITY, CA_O_TTL, CA_O_BUNDLE, CA_O_CRL,
	CA_O_UNTRUSTED, CA_O_ID, CA_O_AT,
};

#define CA_MAX_CRLS 16

struct ca_opts {
	const char *td, *out, *key_type, *days, *seconds, *name, *audit, *root_cert, *root_key;
	const char *ca_cert, *ca_key, *ns, *not_before, *backdate, *csr, *policy, *token;
	const char *tokens, *cn, *serial, *reason, *ca_dir, *identity, *ttl, *bundle;
	const char *untrusted, *id, *at;
	const char *crl[CA_MAX_CRLS];
	int n_crl;
	bool force;
	int n_args;     /* positional arguments after the options */
	char **args;
};

/*
 * Parse a command's argv (argv[0] = the command) accepting the options in allowed (0-ended).
 * --help prints help. @return 1 help shown, 0 parsed, -1 usage error (printed).
 */
int ca_parse(int argc, char **argv, const int *allowed, const char *help, struct ca_opts *o);
/* A required option. @return 0, or -1 (printed). */
int ca_need(const char *value, const char *opt);
/* --key-type (default p256). @return 0, or -1 (printed). */
int ca_key_type(const struct ca_opts *o, enum sp_pki_key_type *t);


/* Print "spctl ca <cmd>: <message>" to stderr. @return CA_FAIL. */
int ca_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the message and a pointer to --help. @return CA_USAGE. */
int ca_bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The command being run, for messages ("issue"). */
extern const char *ca_cmd_name;

/* Parse an unsigned number in [min, max]. @return 0, -1 (message printed). */
int ca_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Lifetime from --days / --seconds (at most one); def when neither. @return 0 or -1. */
int ca_lifetime(const char *days, const char *seconds, uint64_t def, uint64_t *out);

/* A CA certificate with its key, loaded and checked (key matches, is a CA, valid now). */
struct ca_pair {
	X509 *cert;
	STACK_OF(X509) *chain;  /* certificates after the first in the CA file */
	EVP_PKEY *key;
	char td[SP_PKI_TD_MAX + 1];
	const char *cert_path;
};
/* @return CA_OK, or CA_FAIL with the message printed. */
int ca_pair_load(struct ca_pair *p, const char *cert_path, const char *key_path);
void ca_pair_free(struct ca_pair *p);

/* "<dir of file>/<name>" into out. @return 0 or -1. */
int ca_path_near(char *out, size_t len, const char *file, const char *name);
/* "<dir>/<name>" into out. @return 0 or -1. */
int ca_path_in(char *out, size_t len, const char *dir, const char *name);
/* The index file of a CA certificate: its path with .crt/.pem replaced by .index. */
int ca_index_path(char *out, size_t len, const char *ca_cert);

/*
 * Refuse to go on when the audit log exists and fails verification (a damaged log would make
 * the append fail after the files were written). @return CA_OK or CA_FAIL.
 */
int ca_audit_check(const char *audit);
/* Append a record (who = the calling user). @return CA_OK or CA_FAIL. */
int ca_audit(const char *audit, enum sp_pki_audit_action action, const char *serial,
	     const char *identity, time_t not_after, const char *detail);

/*
 * Files written by this command. With --force a file is written under "<path>.new" first and
 * renamed over the old one only when everything else worked; undo removes what was written.
 */
struct ca_written {
	int n;
	char staged[4][4096];
	char final[4][4096];
};
/* Where to write path: path itself, or "<path>.new" (stale one removed) when replacing. */
const char *ca_stage(struct ca_written *w, const char *path, bool replace);
void ca_written_undo(struct ca_written *w);
/* Rename the staged files into place. @return CA_OK / CA_FAIL. */
int ca_written_commit(struct ca_written *w);

/* Print the usual one-line description of a certificate. */
void ca_print_cert_line(const char *prefix, const X509 *cert);

/* ---- commands ---- */
int ca_cmd_init(int argc, char **argv);          /* ca_issue.c */
int ca_cmd_intermediate(int argc, char **argv);
int ca_cmd_issue(int argc, char **argv);
int ca_cmd_sign(int argc, char **argv);
int ca_cmd_revoke(int argc, char **argv);        /* ca_admin.c */
int ca_cmd_crl(int argc, char **argv);
int ca_cmd_bundle(int argc, char **argv);
int ca_cmd_token(int argc, char **argv);
int ca_cmd_show(int argc, char **argv);          /* ca_show.c */
int ca_cmd_list(int argc, char **argv);
int ca_cmd_verify(int argc, char **argv);
int ca_cmd_audit(int argc, char **argv);

#endif
