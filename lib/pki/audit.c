/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The audit log: one JSON object per line, each carrying the SHA-256 of the line before it
 * ("prev"), so that editing, inserting or removing a line breaks the chain at the next line.
 * Removing lines at the end leaves no next line to complain, so "<log>.head" holds the seq and
 * hash of the last line; keep a copy of the head off the machine (docs/pki.md) to detect a
 * rewrite of both.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "pki_private.h"

#define LINE_MAX_BYTES 16384  /* a line is at most ~9 KiB: ID 2048, detail 1024 escaped */
#define DETAIL_MAX 1024
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define PREV_TAG ",\"prev\":\""

static const char *const action_names[] = {
	[SP_PKI_AUDIT_INIT] = "init",
	[SP_PKI_AUDIT_INTERMEDIATE] = "intermediate",
	[SP_PKI_AUDIT_ISSUE] = "issue",
	[SP_PKI_AUDIT_SIGN] = "sign",
	[SP_PKI_AUDIT_RENEW] = "renew",
	[SP_PKI_AUDIT_REVOKE] = "revoke",
	[SP_PKI_AUDIT_CRL] = "crl",
	[SP_PKI_AUDIT_BUNDLE] = "bundle",
	[SP_PKI_AUDIT_TOKEN] = "token",
};

const char *
sp_pki_audit_action_name(int action)
{
	if (action < 0 || action >= SP_PKI_AUDIT_MAX)
		return "?";
	return action_names[action];
}

void
sp_pki_audit_who(char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	const char *sudo = getenv("SUDO_USER");
	uid_t uid = getuid();
	int n;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		n = snprintf(out, len, "uid=%u(%s)", (unsigned int)uid, pw.pw_name);
	else
		n = snprintf(out, len, "uid=%u", (unsigned int)uid);
	if (sudo != NULL && *sudo != '\0' && n >= 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, " sudo=%.64s", sudo);
}

/* Append s as a JSON string body (without quotes); max bytes of s are taken. */
static size_t
json_str(char *out, size_t off, size_t cap, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i < max && off + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[off++] = '\\';
			out[off++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			off += (size_t)snprintf(out + off, cap - off, "\\u%04x", c);
		} else {
			out[off++] = (char)c;
		}
	}
	out[off] = '\0';
	return off;
}

static size_t
field(char *out, size_t off, size_t cap, const char *name, const char *value, size_t max)
{
	off += (size_t)snprintf(out + off, cap - off, ",\"%s\":\"", name);
	off = json_str(out, off, cap, value, max);
	off += (size_t)snprintf(out + off, cap - off, "\"");
	return off;
}

/* Parse the line's seq and check its prev tag; prev gets the hash it names. */
static int
line_parts(const char *line, size_t n, unsigned long long *seq, char prev[65])
{
	size_t tag = strlen(PREV_TAG);
	int used = 0;

	if (sscanf(line, "{\"seq\":%llu,%n", seq, &used) != 1 || used == 0)
		return -EBADMSG;
	if (n < tag + SP_PKI_SHA256_HEX + 2 || line[n - 1] != '}' || line[n - 2] != '"' ||
	    memcmp(line + n - 2 - SP_PKI_SHA256_HEX - tag, PREV_TAG, tag) != 0)
		return -EBADMSG;
	memcpy(prev, line + n - 2 - SP_PKI_SHA256_HEX, SP_PKI_SHA256_HEX);
	prev[SP_PKI_SHA256_HEX] = '\0';
	if (strspn(prev, "0123456789abcdef") != SP_PKI_SHA256_HEX)
		return -EBADMSG;
	return 0;
}

/* The last line of the open log: its seq and hash (seq 0 and zeros when empty). */
static int
last_line(int fd, const char *path, unsigned long long *seq, char hash[65],
	  struct sp_pki_err *err)
{
	char buf[LINE_MAX_BYTES + 1], prev[65];
	struct stat st;
	off_t start;
	ssize_t n;
	char *nl;
	size_t got;

	*seq = 0;
	memcpy(hash, ZERO_HASH, sizeof(ZERO_HASH));
	if (fstat(fd, &st) < 0)
		return pki_err_sys(err, errno, "cannot stat", path);
	if (st.st_size == 0)
		return 0;
	start = st.st_size > LINE_MAX_BYTES ? st.st_size - LINE_MAX_BYTES : 0;
	n = pread(fd, buf, (size_t)(st.st_size - start), start);
	if (n != st.st_size - start)
		return pki_err_sys(err, n < 0 ? errno : EIO, "cannot read", path);
	got = (size_t)n;
	buf[got] = '\0';
	if (buf[got - 1] != '\n')
		return pki_err(err, -EBADMSG, "%s: the last line is incomplete (damaged log: run "
			       "'spctl ca audit verify')", path);
	buf[--got] = '\0';
	nl = memrchr(buf, '\n', got);
	if (nl == NULL && start != 0)
		return pki_err(err, -EBADMSG, "%s: the last line is too long", path);
	nl = nl ? nl + 1 : buf;
	if (line_parts(nl, strlen(nl), seq, prev) < 0)
		return pki_err(err, -EBADMSG, "%s: the last line is not an audit record", path);
	return pki_sha256_hex(nl, strlen(nl), hash) < 0 ?
	       pki_err(err, -EPROTO, "SHA-256 failed") : 0;
}

static int
write_head(const char *path, unsigned long long seq, const char *hash, struct sp_pki_err *err)
{
	char head[PATH_MAX], line[96];
	int n;

	if (snprintf(head, sizeof(head), "%s.head", path) >= (int)sizeof(head))
		return pki_err(err, -ENAMETOOLONG, "%s: name too long", path);
	n = snprintf(line, sizeof(line), "%llu %s\n", seq, hash);
	return sp_pki_file_write(head, line, (size_t)n, 0600, SP_PKI_OVERWRITE, err);
}

int
sp_pki_audit_append(const char *path, const struct sp_pki_audit_rec *rec,
		    struct sp_pki_err *err)
{
	char prev[SP_PKI_SHA256_HEX + 1], hash[SP_PKI_SHA256_HEX + 1], when[32], na[32] = "";
	unsigned long long seq;
	char *line = NULL;
	size_t off, cap = LINE_MAX_BYTES;
	ssize_t w;
	int fd, rc;

	pki_err_clear(err);
	if (rec == NULL || (unsigned int)rec->action >= SP_PKI_AUDIT_MAX)
		return pki_err(err, -EINVAL, "bad audit record");
	fd = pki_lock_file(path, O_RDWR | O_APPEND, err);
	if (fd < 0)
		return fd;
	rc = last_line(fd, path, &seq, prev, err);
	if (rc < 0)
		goto out;
	line = malloc(cap);
	if (line == NULL) {
		rc = pki_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	sp_pki_time_str(rec->time ? rec->time : time(NULL), when);
	if (rec->not_after != 0)
		sp_pki_time_str(rec->not_after, na);
	off = (size_t)snprintf(line, cap, "{\"seq\":%llu,\"time\":\"%s\"", seq + 1, when);
	off = field(line, off, cap, "who", rec->who, 256);
	off = field(line, off, cap, "action", sp_pki_audit_action_name(rec->action), 32);
	off = field(line, off, cap, "serial", rec->serial, 64);
	off = field(line, off, cap, "identity", rec->identity, SP_PKI_SPIFFE_MAX);
	off = field(line, off, cap, "not_after", na, 32);
	off = field(line, off, cap, "detail", rec->detail, DETAIL_MAX);
	off += (size_t)snprintf(line + off, cap - off, PREV_TAG "%s\"}", prev);
	if (pki_sha256_hex(line, off, hash) < 0) {
		rc = pki_err(err, -EPROTO, "SHA-256 failed");
		goto out;
	}
	line[off++] = '\n';
	/* One write() on an O_APPEND descriptor: the line lands whole at the end. */
	w = write(fd, line, off);
	if (w != (ssize_t)off) {
		rc = pki_err_sys(err, w < 0 ? errno : EIO, "cannot append to", path);
		goto out;
	}
	if (fsync(fd) < 0) {
		rc = pki_err_sys(err, errno, "cannot sync", path);
		goto out;
	}
	rc = write_head(path, seq + 1, hash, err);
out:
	free(line);
	close(fd);
	return rc;
}

static int
check_head(const char *path, unsigned long long seq, const char *hash, struct sp_pki_err *err)
{
	char head[PATH_MAX], want[SP_PKI_SHA256_HEX + 1];
	unsigned long long hseq;
	size_t len;
	char *buf;
	int rc, n = 0;

	snprintf(head, sizeof(head), "%s.head", path);
	rc = sp_pki_file_read(head, &buf, &len, err);
	if (rc == -ENOENT && seq == 0) {
		pki_err_clear(err);
		return 0;
	}
	if (rc < 0)
		return pki_err(err, rc, "%s: cannot check the last entry: %s missing or "
			       "unreadable", path, head);
	if (sscanf(buf, "%llu %64[0-9a-f]\n%n", &hseq, want, &n) != 2 || (size_t)n != len) {
		free(buf);
		return pki_err(err, -EBADMSG, "%s: damaged head file", head);
	}
	free(buf);
	if (hseq != seq)
		return pki_err(err, -EBADMSG, "%s: the log ends at entry %llu but the head says "
			       "%llu: entries were removed at the end", path, seq, hseq);
	if (strcmp(want, hash) != 0)
		return pki_err(err, -EBADMSG, "%s: line %llu does not match the head file: the "
			       "last entry was edited", path, seq);
	return 0;
}

int
sp_pki_audit_verify(const char *path, uint64_t *entries, char head[SP_PKI_SHA256_HEX + 1],
		    struct sp_pki_err *err)
{
	char prev_hash[SP_PKI_SHA256_HEX + 1] = ZERO_HASH, prev[SP_PKI_SHA256_HEX + 1];
	unsigned long long seq, no = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	pki_err_clear(err);
	f = fopen(path, "re");
	if (f == NULL)
		return pki_err_sys(err, errno, "cannot open", path);
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		no++;
		if (n == 0 || line[n - 1] != '\n') {
			rc = pki_err(err, -EBADMSG, "%s:%llu: incomplete last line (truncated)",
				     path, no);
			break;
		}
		line[--n] = '\0';
		if (line_parts(line, (size_t)n, &seq, prev) < 0) {
			rc = pki_err(err, -EBADMSG, "%s:%llu: not an audit record", path, no);
		} else if (seq != no) {
			rc = pki_err(err, -EBADMSG, "%s:%llu: entry %llu where %llu was expected: "
				     "%s", path, no, seq, no, seq > no ? "entries were removed" :
				     "entries were inserted or reordered");
		} else if (strcmp(prev, prev_hash) != 0) {
			rc = pki_err(err, -EBADMSG, "%s:%llu: the chain is broken: line %llu was "
				     "changed (its hash is not what this line records)", path, no,
				     no - 1);
		} else if (pki_sha256_hex(line, (size_t)n, prev_hash) < 0) {
			rc = pki_err(err, -EPROTO, "SHA-256 failed");
		}
	}
	if (rc == 0 && ferror(f))
		rc = pki_err_sys(err, EIO, "cannot read", path);
	free(line);
	fclose(f);
	if (rc == 0)
		rc = check_head(path, no, prev_hash, err);
	if (rc == 0) {
		if (entries != NULL)
			*entries = no;
		if (head != NULL)
			memcpy(head, prev_hash, sizeof(prev_hash));
	}
	return rc;
}
