/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PKI_PRIVATE_H
#define PKI_PRIVATE_H

/* Inside lib/pki only. */

#include <stdarg.h>
#include <stdint.h>

#include "sp_pki.h"

#define PKI_FILE_MAX (16u << 20)  /* largest file we read: bundles, CRLs, indexes, logs */

/* Fill err (when given) and return code. Clears the OpenSSL error queue. */
int pki_err(struct sp_pki_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, appending ": <OpenSSL's first queued reason>" when the queue holds one. */
int pki_err_ssl(struct sp_pki_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An -errno of a system call, as "what path: strerror". */
int pki_err_sys(struct sp_pki_err *err, int errnum, const char *what, const char *path);
/* Reset err to "no error" at the start of an API call. */
void pki_err_clear(struct sp_pki_err *err);

/* Digest for signing with key: SHA-256 for EC, NULL for Ed25519 (pure EdDSA). */
const EVP_MD *pki_sign_md(const EVP_PKEY *key);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void pki_hex(const unsigned char *b, size_t n, char *out);
/* SHA-256 of data in lower-case hex. @return 0, -EPROTO. */
int pki_sha256_hex(const void *data, size_t n, char out[SP_PKI_SHA256_HEX + 1]);

/* One-line distinguished name ("CN=x, O=y"), never fails (writes "?" on error). */
void pki_name_str(const X509_NAME *name, char *out, size_t len);

/*
 * Exclusive flock() on path (created 0600 when missing). @return an fd to close() to unlock,
 * or a -errno (err filled).
 */
int pki_lock_file(const char *path, int open_flags, struct sp_pki_err *err);

/* Copy with truncation check. @return 0, -ENAMETOOLONG. */
int pki_copy(char *out, size_t len, const char *s);

/* The directory part of path into out ("." when none). @return 0, -ENAMETOOLONG. */
int pki_dirname(const char *path, char *out, size_t len);

/* Subject key identifier of a certificate in hex ("" when absent). */
void pki_cert_keyid(const X509 *cert, char *out, size_t len);

#endif
