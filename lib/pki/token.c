/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One-time bootstrap tokens. The operator creates one for an identity; the workload presents
 * it once with its first CSR. The file keeps only SHA-256(token): reading it does not reveal a
 * usable token. Every change is read-modify-rewrite under an exclusive lock on "<path>.lock"
 * (the file itself is replaced by rename, so it cannot carry the lock), which makes
 * check-and-consume atomic: two requests with the same token cannot both succeed.
 *
 * Line format: "<sha256-hex> <expires-unix> <used 0|1> <spiffe-id>".
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "pki_private.h"

#define HEADER "# sallyport bootstrap tokens: sha256(token) expires used identity\n"
#define KEEP_EXPIRED (24 * 3600)  /* report "expired" rather than "unknown" for a day */

struct entry {
	char hash[SP_PKI_SHA256_HEX + 1];
	long long expires;
	int used;
	char id[SP_PKI_SPIFFE_MAX + 1];
};

struct table {
	struct entry *e;
	size_t n;
};

static int
parse(struct table *t, char *buf, size_t len, const char *path, struct sp_pki_err *err)
{
	char *line, *next;
	int no = 0;

	for (line = buf; line < buf + len; line = next) {
		struct entry *e;
		void *p;
		int n = 0;

		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		no++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		p = realloc(t->e, (t->n + 1) * sizeof(*t->e));
		if (p == NULL)
			return pki_err(err, -ENOMEM, "out of memory");
		t->e = p;
		e = &t->e[t->n];
		if (sscanf(line, "%64[0-9a-f] %lld %d %2048s%n", e->hash, &e->expires, &e->used,
			   e->id, &n) != 4 || line[n] != '\0' ||
		    strlen(e->hash) != SP_PKI_SHA256_HEX || (e->used != 0 && e->used != 1))
			return pki_err(err, -EBADMSG, "%s:%d: damaged token line", path, no);
		t->n++;
	}
	return 0;
}

/* Lock, then read the table. @return the lock fd, or a -errno. */
static int
open_table(const char *path, struct table *t, struct sp_pki_err *err)
{
	char lock[PATH_MAX];
	size_t len;
	char *buf;
	int fd, rc;

	memset(t, 0, sizeof(*t));
	if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock))
		return pki_err(err, -ENAMETOOLONG, "%s: name too long", path);
	fd = pki_lock_file(lock, O_RDWR, err);
	if (fd < 0)
		return fd;
	rc = sp_pki_file_read(path, &buf, &len, err);
	if (rc == -ENOENT)
		return fd;
	if (rc == 0) {
		rc = parse(t, buf, len, path, err);
		free(buf);
	}
	if (rc < 0) {
		close(fd);
		free(t->e);
		t->e = NULL;
		return rc;
	}
	return fd;
}

/* Rewrite the table without long-expired entries. */
static int
save_table(const char *path, const struct table *t, time_t now, struct sp_pki_err *err)
{
	size_t i, cap = strlen(HEADER) + 1 + t->n * (SP_PKI_SPIFFE_MAX + 128), off;
	char *out = malloc(cap);
	int rc;

	if (out == NULL)
		return pki_err(err, -ENOMEM, "out of memory");
	off = (size_t)snprintf(out, cap, "%s", HEADER);
	for (i = 0; i < t->n; i++) {
		const struct entry *e = &t->e[i];

		if (e->expires + KEEP_EXPIRED < now)
			continue;
		off += (size_t)snprintf(out + off, cap - off, "%s %lld %d %s\n", e->hash,
					e->expires, e->used, e->id);
	}
	rc = sp_pki_file_write(path, out, off, 0600, SP_PKI_OVERWRITE, err);
	free(out);
	return rc;
}

int
sp_pki_token_create(const char *path, const char *identity, uint64_t ttl, time_t now,
		    char token[SP_PKI_TOKEN_CHARS + 1], struct sp_pki_err *err)
{
	unsigned char raw[SP_PKI_TOKEN_CHARS / 2];
	struct table t;
	struct entry *e;
	void *p;
	int fd, kind, rc;

	pki_err_clear(err);
	token[0] = '\0';
	kind = sp_pki_spiffe_kind(identity, NULL, NULL, err);
	if (kind < 0)
		return kind;
	if (kind != SP_PKI_ID_GATEWAY && kind != SP_PKI_ID_WORKLOAD)
		return pki_err(err, -EINVAL, "a token grants a gateway or workload ID, not "
			       "'%.80s'", identity);
	if (ttl == 0 || ttl > 366 * SP_PKI_DAY)
		return pki_err(err, -EINVAL, "token lifetime must be 1 s to 366 days");
	fd = open_table(path, &t, err);
	if (fd < 0)
		return fd;
	p = realloc(t.e, (t.n + 1) * sizeof(*t.e));
	if (p == NULL) {
		rc = pki_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	t.e = p;
	e = &t.e[t.n];
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		rc = pki_err_ssl(err, -EPROTO, "no random bytes");
		goto out;
	}
	pki_hex(raw, sizeof(raw), token);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (pki_sha256_hex(token, SP_PKI_TOKEN_CHARS, e->hash) < 0) {
		rc = pki_err(err, -EPROTO, "SHA-256 failed");
		goto out;
	}
	e->expires = (long long)now + (long long)ttl;
	e->used = 0;
	snprintf(e->id, sizeof(e->id), "%s", identity);
	t.n++;
	rc = save_table(path, &t, now, err);
out:
	if (rc < 0)
		OPENSSL_cleanse(token, SP_PKI_TOKEN_CHARS + 1);
	free(t.e);
	close(fd);
	return rc;
}

static int
check_and_use(const char *path, const char *token, time_t now, char *identity, size_t len,
	      bool consume, struct sp_pki_err *err)
{
	char hash[SP_PKI_SHA256_HEX + 1];
	struct entry *found = NULL;
	struct table t;
	size_t i;
	int fd, rc;

	pki_err_clear(err);
	if (len > 0)
		identity[0] = '\0';
	if (token == NULL || strlen(token) != SP_PKI_TOKEN_CHARS ||
	    strspn(token, "0123456789abcdef") != SP_PKI_TOKEN_CHARS)
		return pki_err(err, -EINVAL, "malformed token (64 lower-case hex characters)");
	if (pki_sha256_hex(token, SP_PKI_TOKEN_CHARS, hash) < 0)
		return pki_err(err, -EPROTO, "SHA-256 failed");
	fd = open_table(path, &t, err);
	if (fd < 0)
		return fd;
	for (i = 0; i < t.n; i++)
		if (CRYPTO_memcmp(t.e[i].hash, hash, SP_PKI_SHA256_HEX) == 0)
			found = &t.e[i];
	if (found == NULL)
		rc = pki_err(err, -ENOENT, "unknown token");
	else if (found->used)
		rc = pki_err(err, -EALREADY, "token already used (for '%.80s')", found->id);
	else if (found->expires < now)
		rc = pki_err(err, -EKEYEXPIRED, "token expired (for '%.80s')", found->id);
	else if (pki_copy(identity, len, found->id) < 0)
		rc = pki_err(err, -ENAMETOOLONG, "identity buffer too small");
	else if (consume) {
		found->used = 1;
		rc = save_table(path, &t, now, err);
		if (rc < 0 && len > 0)
			identity[0] = '\0';
	} else {
		rc = 0;
	}
	free(t.e);
	close(fd);
	return rc;
}

int
sp_pki_token_consume(const char *path, const char *token, time_t now, char *identity,
		     size_t len, struct sp_pki_err *err)
{
	return check_and_use(path, token, now, identity, len, true, err);
}

int
sp_pki_token_lookup(const char *path, const char *token, time_t now, char *identity,
		    size_t len, struct sp_pki_err *err)
{
	return check_and_use(path, token, now, identity, len, false, err);
}
