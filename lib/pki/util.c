/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared helpers: error messages, hex and SHA-256, names, times, file locks.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "pki_private.h"

void
pki_err_clear(struct sp_pki_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->depth = -1;
	err->msg[0] = '\0';
}

static int
verr(struct sp_pki_err *err, int code, bool ssl, const char *fmt, va_list ap)
{
	unsigned long e = ssl ? ERR_peek_error() : 0;

	if (err != NULL) {
		size_t n;

		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		n = strlen(err->msg);
		if (e != 0 && n + 3 < sizeof(err->msg)) {
			const char *r = ERR_reason_error_string(e);

			if (r != NULL)
				snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", r);
			else
				snprintf(err->msg + n, sizeof(err->msg) - n,
					 ": OpenSSL error %lx", e);
		}
	}
	ERR_clear_error();
	return code;
}

int
pki_err(struct sp_pki_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, code, false, fmt, ap);
	va_end(ap);
	return code;
}

int
pki_err_ssl(struct sp_pki_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, code, true, fmt, ap);
	va_end(ap);
	return code;
}

int
pki_err_sys(struct sp_pki_err *err, int errnum, const char *what, const char *path)
{
	return pki_err(err, -errnum, "%s %s: %s", what, path, strerror(errnum));
}

const EVP_MD *
pki_sign_md(const EVP_PKEY *key)
{
	return sp_pki_key_type_of(key) == SP_PKI_KEY_ED25519 ? NULL : EVP_sha256();
}

void
pki_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int
pki_sha256_hex(const void *data, size_t n, char out[SP_PKI_SHA256_HEX + 1])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof(md)) {
		ERR_clear_error();
		return -EPROTO;
	}
	pki_hex(md, sizeof(md), out);
	return 0;
}

void
pki_name_str(const X509_NAME *name, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	if (len == 0)
		return;
	snprintf(out, len, "?");
	if (b == NULL)
		goto done;
	/* RFC 2253 order ("CN=..., O=..."), UTF-8 kept as is. */
	if (X509_NAME_print_ex(b, name, 0, (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) |
			       XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_DN_REV | XN_FLAG_FN_SN) < 0)
		goto done;
	n = BIO_get_mem_data(b, &p);
	if (n >= 0)
		snprintf(out, len, "%.*s", (int)n, p);
done:
	BIO_free(b);
	ERR_clear_error();
}

int
pki_lock_file(const char *path, int open_flags, struct sp_pki_err *err)
{
	int fd = open(path, open_flags | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return pki_err_sys(err, errno, "cannot open", path);
	while (flock(fd, LOCK_EX) < 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		close(fd);
		return pki_err_sys(err, e, "cannot lock", path);
	}
	return fd;
}

int
pki_copy(char *out, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, s, n + 1);
	return 0;
}

int
pki_dirname(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return pki_copy(out, len, ".");
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

void
pki_cert_keyid(const X509 *cert, char *out, size_t len)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id((X509 *)cert);

	if (len > 0)
		out[0] = '\0';
	if (ski == NULL || (size_t)ASN1_STRING_length(ski) * 2 + 1 > len)
		return;
	pki_hex(ASN1_STRING_get0_data(ski), (size_t)ASN1_STRING_length(ski), out);
}

/* ---- times ---- */

int
sp_pki_asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return -EINVAL;
	}
	*out = timegm(&tm);
	return 0;
}

void
sp_pki_time_str(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, 32, "@%lld", (long long)t);
		return;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
sp_pki_time_parse(const char *s, time_t now, time_t *out)
{
	struct tm tm;
	long long v;
	char *end;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (s[0] == '@' || s[0] == '+' || s[0] == '-') {
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || *end != '\0' || v < 0 ||
		    v > 100LL * 366 * 86400 * 100)
			return -EINVAL;
		if (s[0] == '@')
			*out = (time_t)v;
		else
			*out = s[0] == '+' ? now + (time_t)v : now - (time_t)v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -EINVAL;
	*out = timegm(&tm);
	return 0;
}
