/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CA's index: what it issued, what it revoked, the last CRL number. An append-only text
 * file next to the CA certificate; each change is one line written under an exclusive lock and
 * fsync()ed, so concurrent writers (spctl and, later, the daemon's endpoint) never interleave
 * and a crash loses at most the line being written.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "pki_private.h"

#define HEADER "# sallyport CA index: issued and revoked serials, CRL numbers (one per line)\n"

void
sp_pki_index_free(struct sp_pki_index *idx)
{
	size_t i;

	for (i = 0; i < idx->n_issued; i++)
		free(idx->issued[i].identity);
	free(idx->issued);
	free(idx->revoked);
	memset(idx, 0, sizeof(*idx));
}

/* Room for element n of *arr: capacity is 16, then doubles at every power of two. */
static int
grow(void **arr, size_t n, size_t size)
{
	void *p;

	if (n != 0 && (n < 16 || (n & (n - 1)) != 0))
		return 0;
	p = realloc(*arr, (n ? 2 * n : 16) * size);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	return 0;
}

static int
parse_line(struct sp_pki_index *idx, char *line, const char *path, int no,
	   struct sp_pki_err *err)
{
	char kind[16], serial[64], rest[SP_PKI_SPIFFE_MAX + 1];
	char norm[SP_PKI_SERIAL_HEX_MAX + 1];
	long long t;
	unsigned long long v;
	int n = 0;

	if (line[0] == '#' || line[0] == '\0')
		return 0;
	if (sscanf(line, "crl-number %llu%n", &v, &n) == 1 && line[n] == '\0') {
		idx->crl_number = v;
		return 0;
	}
	if (sscanf(line, "%15s %63s %lld %2048s%n", kind, serial, &t, rest, &n) != 4 ||
	    line[n] != '\0' || sp_pki_serial_parse(serial, norm, NULL) < 0)
		return pki_err(err, -EBADMSG, "%s:%d: malformed index line", path, no);
	if (strcmp(kind, "issued") == 0) {
		struct sp_pki_index_issued *e;

		if (grow((void **)&idx->issued, idx->n_issued, sizeof(*idx->issued)) < 0)
			return pki_err(err, -ENOMEM, "out of memory");
		e = &idx->issued[idx->n_issued];
		e->identity = strdup(rest);
		if (e->identity == NULL)
			return pki_err(err, -ENOMEM, "out of memory");
		memcpy(e->serial, norm, sizeof(norm));
		e->not_after = (time_t)t;
		idx->n_issued++;
		return 0;
	}
	if (strcmp(kind, "revoked") == 0) {
		struct sp_pki_revoked *r;
		char *end;
		long reason = strtol(rest, &end, 10);

		if (*end != '\0' || strcmp(sp_pki_reason_name((int)reason), "?") == 0)
			return pki_err(err, -EBADMSG, "%s:%d: bad reason", path, no);
		if (grow((void **)&idx->revoked, idx->n_revoked, sizeof(*idx->revoked)) < 0)
			return pki_err(err, -ENOMEM, "out of memory");
		r = &idx->revoked[idx->n_revoked++];
		memcpy(r->serial, norm, sizeof(norm));
		r->when = (time_t)t;
		r->reason = (int)reason;
		return 0;
	}
	return pki_err(err, -EBADMSG, "%s:%d: unknown record '%s'", path, no, kind);
}

int
sp_pki_index_load(const char *path, struct sp_pki_index *idx, struct sp_pki_err *err)
{
	char *buf, *line;
	size_t len;
	int rc, no = 0;

	pki_err_clear(err);
	memset(idx, 0, sizeof(*idx));
	rc = sp_pki_file_read(path, &buf, &len, err);
	if (rc == -ENOENT) {
		pki_err_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (len > 0 && buf[len - 1] != '\n') {
		free(buf);
		return pki_err(err, -EBADMSG, "%s: the last line is incomplete", path);
	}
	for (line = buf; rc == 0 && line < buf + len; ) {
		char *nl = strchr(line, '\n');

		*nl = '\0';
		no++;
		rc = parse_line(idx, line, path, no, err);
		line = nl + 1;
	}
	free(buf);
	if (rc < 0)
		sp_pki_index_free(idx);
	return rc;
}

/* Append one line under the lock; lines are short, one write() each. */
static int
append(int fd, const char *path, const char *line, struct sp_pki_err *err)
{
	struct stat st;
	size_t n = strlen(line);
	ssize_t w;

	if (fstat(fd, &st) == 0 && st.st_size == 0 &&
	    write(fd, HEADER, strlen(HEADER)) != (ssize_t)strlen(HEADER))
		return pki_err_sys(err, errno ? errno : EIO, "cannot write", path);
	w = write(fd, line, n);
	if (w != (ssize_t)n)
		return pki_err_sys(err, w < 0 ? errno : EIO, "cannot write", path);
	if (fsync(fd) < 0)
		return pki_err_sys(err, errno, "cannot sync", path);
	return 0;
}

int
sp_pki_index_add_issued(const char *path, const X509 *cert, struct sp_pki_err *err)
{
	char serial[SP_PKI_SERIAL_HEX_MAX + 1], id[SP_PKI_SPIFFE_MAX + 1];
	char line[SP_PKI_SPIFFE_MAX + 128];
	time_t na;
	int fd, rc;

	pki_err_clear(err);
	if (sp_pki_cert_serial(cert, serial, sizeof(serial)) < 0 ||
	    sp_pki_asn1_time(X509_get0_notAfter(cert), &na) < 0)
		return pki_err(err, -EINVAL, "the certificate's serial or validity does not parse");
	if (sp_pki_cert_spiffe_id(cert, id, sizeof(id), NULL) < 0)
		snprintf(id, sizeof(id), "-");
	snprintf(line, sizeof(line), "issued %s %lld %s\n", serial, (long long)na, id);
	fd = pki_lock_file(path, O_WRONLY | O_APPEND, err);
	if (fd < 0)
		return fd;
	rc = append(fd, path, line, err);
	close(fd);
	return rc;
}

int
sp_pki_index_revoke(const char *path, const char *serial, int reason, time_t when, bool force,
		    struct sp_pki_err *err)
{
	char norm[SP_PKI_SERIAL_HEX_MAX + 1], line[128];
	struct sp_pki_index idx;
	bool known = false;
	size_t i;
	int fd, rc;

	pki_err_clear(err);
	rc = sp_pki_serial_parse(serial, norm, err);
	if (rc < 0)
		return rc;
	if (strcmp(sp_pki_reason_name(reason), "?") == 0)
		return pki_err(err, -EINVAL, "bad revocation reason %d", reason);
	fd = pki_lock_file(path, O_WRONLY | O_APPEND, err);
	if (fd < 0)
		return fd;
	rc = sp_pki_index_load(path, &idx, err);
	if (rc < 0)
		goto out;
	for (i = 0; i < idx.n_revoked; i++) {
		if (strcmp(idx.revoked[i].serial, norm) == 0) {
			rc = pki_err(err, -EALREADY, "serial %s is already revoked", norm);
			goto out;
		}
	}
	for (i = 0; i < idx.n_issued && !known; i++)
		known = strcmp(idx.issued[i].serial, norm) == 0;
	if (!known && !force) {
		rc = pki_err(err, -ENOENT, "serial %s was not issued by this CA (not in %s)",
			     norm, path);
		goto out;
	}
	snprintf(line, sizeof(line), "revoked %s %lld %d\n", norm,
		 (long long)(when ? when : time(NULL)), reason);
	rc = append(fd, path, line, err);
out:
	sp_pki_index_free(&idx);
	close(fd);
	return rc;
}

int
sp_pki_index_set_crl_number(const char *path, uint64_t number, struct sp_pki_err *err)
{
	struct sp_pki_index idx;
	char line[64];
	int fd, rc;

	pki_err_clear(err);
	fd = pki_lock_file(path, O_WRONLY | O_APPEND, err);
	if (fd < 0)
		return fd;
	rc = sp_pki_index_load(path, &idx, err);
	if (rc == 0 && number <= idx.crl_number)
		rc = pki_err(err, -EINVAL, "CRL number %" PRIu64 " is not above the last one "
			     "(%" PRIu64 ")", number, idx.crl_number);
	if (rc == 0) {
		snprintf(line, sizeof(line), "crl-number %" PRIu64 "\n", number);
		rc = append(fd, path, line, err);
	}
	sp_pki_index_free(&idx);
	close(fd);
	return rc;
}
