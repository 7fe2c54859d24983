/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PEM files of keys, certificates, CRLs and CSRs.
 *
 * OpenSSL's PEM readers skip any text before a block and stop quietly at the first thing they
 * cannot read, so a truncated bundle or a key file with junk appended would load "fine". We
 * scan the text ourselves: only blank lines may stand between blocks, every block must decode,
 * every DER must parse to its last byte, and a file holds exactly the blocks expected.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki_private.h"

/* A decoded block, handed to a callback; der is wiped and freed after the callback. */
typedef int (*block_fn)(void *arg, const char *type, const unsigned char *der, long len,
			const char *what, int line, struct sp_pki_err *err);

static bool
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Length of the line at p (without its '\n'), and the start of the next in *next. */
static size_t
line_at(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	*next = nl ? nl + 1 : end;
	return (size_t)((nl ? nl : end) - p);
}

/* Decode one block (the text from its BEGIN line through its END line) and hand it on. */
static int
decode_block(const char *text, size_t n, bool secret, block_fn fn, void *arg, const char *what,
	     int line, struct sp_pki_err *err)
{
	unsigned int flags = PEM_FLAG_EAY_COMPATIBLE | (secret ? PEM_FLAG_SECURE : 0);
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long len = 0;
	BIO *bio;
	int rc;

	bio = BIO_new_mem_buf(text, (int)n);
	if (bio == NULL)
		return pki_err(err, -ENOMEM, "out of memory");
	if (PEM_read_bio_ex(bio, &name, &header, &der, &len, flags) != 1) {
		BIO_free(bio);
		return pki_err_ssl(err, -EBADMSG, "%s:%d: corrupt PEM block", what, line);
	}
	BIO_free(bio);
	if (header != NULL && header[0] != '\0')
		rc = pki_err(err, -EBADMSG, "%s:%d: PEM headers (an encrypted key?) are not "
			     "supported", what, line);
	else
		rc = fn(arg, name, der, len, what, line, err);
	if (secret) {
		OPENSSL_secure_clear_free(der, (size_t)len);
		OPENSSL_secure_free(name);
		OPENSSL_secure_free(header);
	} else {
		OPENSSL_free(der);
		OPENSSL_free(name);
		OPENSSL_free(header);
	}
	return rc;
}

/*
 * Call fn for every block of pem. @return the number of blocks, or a negative errno (the first
 * failure, from the scan or from fn).
 */
static int
pem_each(const char *pem, size_t len, const char *what, bool secret, block_fn fn, void *arg,
	 struct sp_pki_err *err)
{
	const char *p = pem, *end = pem + len, *next;
	int line = 1, count = 0, rc;

	while (p < end) {
		size_t n = line_at(p, end, &next);
		const char *blk = p, *q;
		char endline[96];
		int first = line, type_len;

		if (blank(p, n)) {
			p = next;
			line++;
			continue;
		}
		if (n < 16 || strncmp(p, "-----BEGIN ", 11) != 0 ||
		    strncmp(p + n - 5 - (p[n - 1] == '\r'), "-----", 5) != 0)
			return pki_err(err, -EBADMSG, "%s:%d: text outside a PEM block", what,
				       line);
		type_len = (int)(n - 16 - (p[n - 1] == '\r'));
		if (type_len <= 0 || type_len > 64)
			return pki_err(err, -EBADMSG, "%s:%d: bad PEM BEGIN line", what, line);
		snprintf(endline, sizeof(endline), "-----END %.*s-----", type_len, p + 11);
		/* Find the END line of this block. */
		for (;;) {
			p = next;
			line++;
			if (p >= end)
				return pki_err(err, -EBADMSG, "%s:%d: PEM block without its END "
					       "line (truncated?)", what, first);
			n = line_at(p, end, &next);
			q = p;
			if (n > 0 && p[n - 1] == '\r')
				n--;
			if (n == strlen(endline) && memcmp(q, endline, n) == 0)
				break;
			if (n >= 5 && strncmp(q, "-----", 5) == 0)
				return pki_err(err, -EBADMSG, "%s:%d: unexpected '%.*s' inside a "
					       "PEM block", what, line, (int)(n > 40 ? 40 : n), q);
		}
		rc = decode_block(blk, (size_t)(next - blk), secret, fn, arg, what, first, err);
		if (rc < 0)
			return rc;
		count++;
		p = next;
		line++;
	}
	return count;
}

/* ---- certificates ---- */

static int
cert_block(void *arg, const char *type, const unsigned char *der, long len, const char *what,
	   int line, struct sp_pki_err *err)
{
	STACK_OF(X509) *certs = arg;
	const unsigned char *p = der;
	X509 *x;

	if (strcmp(type, "CERTIFICATE") != 0)
		return pki_err(err, -EBADMSG, "%s:%d: a '%s' block where a certificate was "
			       "expected", what, line, type);
	x = d2i_X509(NULL, &p, len);
	if (x == NULL)
		return pki_err_ssl(err, -EBADMSG, "%s:%d: corrupt certificate", what, line);
	if (p != der + len) {
		X509_free(x);
		return pki_err(err, -EBADMSG, "%s:%d: trailing bytes after the certificate", what,
			       line);
	}
	if (!sk_X509_push(certs, x)) {
		X509_free(x);
		return pki_err(err, -ENOMEM, "out of memory");
	}
	return 0;
}

void
sp_pki_certs_free(STACK_OF(X509) *certs)
{
	sk_X509_pop_free(certs, X509_free);
}

STACK_OF(X509) *
sp_pki_certs_from_pem(const char *pem, size_t len, const char *what, struct sp_pki_err *err)
{
	STACK_OF(X509) *certs;
	int n;

	pki_err_clear(err);
	certs = sk_X509_new_null();
	if (certs == NULL) {
		pki_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	n = pem_each(pem, len, what, false, cert_block, certs, err);
	if (n == 0)
		pki_err(err, -EBADMSG, "%s: no certificate in it", what);
	if (n <= 0) {
		sp_pki_certs_free(certs);
		return NULL;
	}
	return certs;
}

STACK_OF(X509) *
sp_pki_certs_load(const char *path, struct sp_pki_err *err)
{
	STACK_OF(X509) *certs;
	size_t len;
	char *buf;

	if (sp_pki_file_read(path, &buf, &len, err) < 0)
		return NULL;
	certs = sp_pki_certs_from_pem(buf, len, path, err);
	free(buf);
	return certs;
}

X509 *
sp_pki_cert_load(const char *path, STACK_OF(X509) **chain, struct sp_pki_err *err)
{
	STACK_OF(X509) *certs = sp_pki_certs_load(path, err);
	X509 *leaf;

	if (chain != NULL)
		*chain = NULL;
	if (certs == NULL)
		return NULL;
	if (chain == NULL && sk_X509_num(certs) != 1) {
		pki_err(err, -EBADMSG, "%s: %d certificates where one was expected", path,
			sk_X509_num(certs));
		sp_pki_certs_free(certs);
		return NULL;
	}
	leaf = sk_X509_shift(certs);
	if (chain != NULL)
		*chain = certs;
	else
		sp_pki_certs_free(certs);
	return leaf;
}

char *
sp_pki_certs_to_pem(X509 *const *certs, size_t n, size_t *len, struct sp_pki_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out = NULL;
	long blen;
	size_t i;

	pki_err_clear(err);
	if (b == NULL) {
		pki_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (PEM_write_bio_X509(b, certs[i]) != 1) {
			pki_err_ssl(err, -EPROTO, "cannot encode certificate %zu", i);
			goto done;
		}
	}
	blen = BIO_get_mem_data(b, &p);
	out = malloc((size_t)blen + 1);
	if (out == NULL) {
		pki_err(err, -ENOMEM, "out of memory");
		goto done;
	}
	memcpy(out, p, (size_t)blen);
	out[blen] = '\0';
	*len = (size_t)blen;
done:
	BIO_free(b);
	return out;
}

int
sp_pki_certs_save(const char *path, X509 *const *certs, size_t n, unsigned int flags,
		  struct sp_pki_err *err)
{
	size_t len = 0;
	char *pem = sp_pki_certs_to_pem(certs, n, &len, err);
	int rc;

	if (pem == NULL)
		return err ? err->code : -ENOMEM;
	rc = sp_pki_file_write(path, pem, len, 0644, flags, err);
	free(pem);
	return rc;
}

int
sp_pki_stack_save(const char *path, STACK_OF(X509) *certs, unsigned int flags,
		  struct sp_pki_err *err)
{
	X509 *arr[256];
	int i, n = sk_X509_num(certs);

	if (n <= 0 || n > (int)(sizeof(arr) / sizeof(arr[0])))
		return pki_err(err, -EINVAL, "%s: %d certificates to save", path, n);
	for (i = 0; i < n; i++)
		arr[i] = sk_X509_value(certs, i);
	return sp_pki_certs_save(path, arr, (size_t)n, flags, err);
}

/* ---- private keys ---- */

static int
key_block(void *arg, const char *type, const unsigned char *der, long len, const char *what,
	  int line, struct sp_pki_err *err)
{
	EVP_PKEY **out = arg;
	const unsigned char *p = der;
	EVP_PKEY *key;

	if (*out != NULL)
		return pki_err(err, -EBADMSG, "%s:%d: more than one block in a key file", what,
			       line);
	if (strcmp(type, "PRIVATE KEY") == 0)
		key = d2i_AutoPrivateKey(NULL, &p, len);
	else if (strcmp(type, "EC PRIVATE KEY") == 0)
		key = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, len);
	else
		return pki_err(err, -EBADMSG, "%s:%d: a '%s' block where a private key was "
			       "expected", what, line, type);
	if (key == NULL)
		return pki_err_ssl(err, -EBADMSG, "%s:%d: corrupt private key", what, line);
	if (p != der + len) {
		EVP_PKEY_free(key);
		return pki_err(err, -EBADMSG, "%s:%d: trailing bytes after the key", what, line);
	}
	*out = key;
	return 0;
}

EVP_PKEY *
sp_pki_key_load(const char *path, struct sp_pki_err *err)
{
	EVP_PKEY *key = NULL;
	size_t len;
	char *buf;
	int n;

	if (sp_pki_file_read(path, &buf, &len, err) < 0)
		return NULL;
	n = pem_each(buf, len, path, true, key_block, &key, err);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (n == 0)
		pki_err(err, -EBADMSG, "%s: no private key in it", path);
	if (n <= 0) {
		EVP_PKEY_free(key);
		return NULL;
	}
	if (sp_pki_key_type_of(key) < 0) {
		EVP_PKEY_free(key);
		pki_err(err, -ENOTSUP, "%s: not a P-256 or Ed25519 key", path);
		return NULL;
	}
	return key;
}

int
sp_pki_key_save(const char *path, const EVP_PKEY *key, unsigned int flags,
		struct sp_pki_err *err)
{
	BIO *b;
	char *p;
	long n;
	int rc;

	pki_err_clear(err);
	if (key == NULL)
		return pki_err(err, -EINVAL, "no key");
	/* A secure-heap memory BIO: its buffer is cleared when it grows and when freed. */
	b = BIO_new(BIO_s_secmem());
	if (b == NULL)
		return pki_err(err, -ENOMEM, "out of memory");
	if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(b);
		return pki_err_ssl(err, -EPROTO, "cannot encode the key");
	}
	n = BIO_get_mem_data(b, &p);
	rc = sp_pki_file_write(path, p, (size_t)n, 0600, flags, err);
	BIO_free(b);
	return rc;
}

/* ---- CRLs ---- */

static int
crl_block(void *arg, const char *type, const unsigned char *der, long len, const char *what,
	  int line, struct sp_pki_err *err)
{
	X509_CRL **out = arg;
	const unsigned char *p = der;

	if (*out != NULL)
		return pki_err(err, -EBADMSG, "%s:%d: more than one CRL in the file", what, line);
	if (strcmp(type, "X509 CRL") != 0)
		return pki_err(err, -EBADMSG, "%s:%d: a '%s' block where a CRL was expected",
			       what, line, type);
	*out = d2i_X509_CRL(NULL, &p, len);
	if (*out == NULL)
		return pki_err_ssl(err, -EBADMSG, "%s:%d: corrupt CRL", what, line);
	if (p != der + len)
		return pki_err(err, -EBADMSG, "%s:%d: trailing bytes after the CRL", what, line);
	return 0;
}

X509_CRL *
sp_pki_crl_load(const char *path, struct sp_pki_err *err)
{
	X509_CRL *crl = NULL;
	size_t len;
	char *buf;
	int n;

	if (sp_pki_file_read(path, &buf, &len, err) < 0)
		return NULL;
	n = pem_each(buf, len, path, false, crl_block, &crl, err);
	free(buf);
	if (n == 0)
		pki_err(err, -EBADMSG, "%s: no CRL in it", path);
	if (n <= 0) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

static int
save_bio(const char *path, BIO *b, mode_t mode, unsigned int flags, struct sp_pki_err *err)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	return sp_pki_file_write(path, p, (size_t)n, mode, flags, err);
}

int
sp_pki_crl_save(const char *path, X509_CRL *crl, unsigned int flags, struct sp_pki_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc;

	pki_err_clear(err);
	if (b == NULL)
		return pki_err(err, -ENOMEM, "out of memory");
	if (PEM_write_bio_X509_CRL(b, crl) != 1)
		rc = pki_err_ssl(err, -EPROTO, "cannot encode the CRL");
	else
		rc = save_bio(path, b, 0644, flags, err);
	BIO_free(b);
	return rc;
}

/* ---- CSRs ---- */

static int
csr_block(void *arg, const char *type, const unsigned char *der, long len, const char *what,
	  int line, struct sp_pki_err *err)
{
	X509_REQ **out = arg;
	const unsigned char *p = der;

	if (*out != NULL)
		return pki_err(err, -EBADMSG, "%s:%d: more than one CSR", what, line);
	if (strcmp(type, "CERTIFICATE REQUEST") != 0 &&
	    strcmp(type, "NEW CERTIFICATE REQUEST") != 0)
		return pki_err(err, -EBADMSG, "%s:%d: a '%s' block where a CSR was expected",
			       what, line, type);
	*out = d2i_X509_REQ(NULL, &p, len);
	if (*out == NULL)
		return pki_err_ssl(err, -EBADMSG, "%s:%d: corrupt CSR", what, line);
	if (p != der + len)
		return pki_err(err, -EBADMSG, "%s:%d: trailing bytes after the CSR", what, line);
	return 0;
}

X509_REQ *
sp_pki_csr_from_pem(const char *pem, size_t len, const char *what, struct sp_pki_err *err)
{
	X509_REQ *csr = NULL;
	int n;

	pki_err_clear(err);
	n = pem_each(pem, len, what, false, csr_block, &csr, err);
	if (n == 0)
		pki_err(err, -EBADMSG, "%s: no CSR in it", what);
	if (n <= 0) {
		X509_REQ_free(csr);
		return NULL;
	}
	return csr;
}

X509_REQ *
sp_pki_csr_load(const char *path, struct sp_pki_err *err)
{
	X509_REQ *csr;
	size_t len;
	char *buf;

	if (sp_pki_file_read(path, &buf, &len, err) < 0)
		return NULL;
	csr = sp_pki_csr_from_pem(buf, len, path, err);
	free(buf);
	return csr;
}

int
sp_pki_csr_save(const char *path, X509_REQ *csr, unsigned int flags, struct sp_pki_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc;

	pki_err_clear(err);
	if (b == NULL)
		return pki_err(err, -ENOMEM, "out of memory");
	if (PEM_write_bio_X509_REQ(b, csr) != 1)
		rc = pki_err_ssl(err, -EPROTO, "cannot encode the CSR");
	else
		rc = save_bio(path, b, 0644, flags, err);
	BIO_free(b);
	return rc;
}
