/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whole-file reads and atomic writes. A CA must never leave a half-written key, certificate or
 * CRL behind, and must never silently replace a key: files are written to a temporary name in
 * the same directory, fsync()ed, then renamed into place (without replacing unless asked).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "pki_private.h"

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* Some file systems (vfat on removable media) refuse fsync on a directory: best effort. */
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Move tmp to path without replacing an existing file. @return 0 or -errno. */
static int
place_noreplace(const char *tmp, const char *path)
{
	struct stat st;

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* No RENAME_NOREPLACE on this file system: link() fails with EEXIST just as well. */
	if (link(tmp, path) == 0) {
		unlink(tmp);
		return 0;
	}
	if (errno != EPERM && errno != ENOTSUP)
		return -errno;
	/* No hard links either (vfat): check, then rename; the window is ours alone. */
	if (lstat(path, &st) == 0)
		return -EEXIST;
	return rename(tmp, path) == 0 ? 0 : -errno;
}

int
sp_pki_file_write(const char *path, const void *data, size_t len, mode_t mode,
		  unsigned int flags, struct sp_pki_err *err)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base;
	struct stat st;
	int fd, rc;

	pki_err_clear(err);
	if (path == NULL || *path == '\0' || (data == NULL && len > 0))
		return pki_err(err, -EINVAL, "no file name");
	if (!(flags & SP_PKI_OVERWRITE) && lstat(path, &st) == 0)
		return pki_err(err, -EEXIST, "%s exists (not overwriting)", path);
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (*base == '\0')
		return pki_err(err, -EISDIR, "%s: not a file name", path);
	if (pki_dirname(path, dir, sizeof(dir)) < 0 ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= (int)sizeof(tmp))
		return pki_err(err, -ENAMETOOLONG, "%s: file name too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return pki_err_sys(err, errno, "cannot create a file in", dir);
	/* mkostemp() made it 0600: the content is private until the mode is what we want. */
	rc = fchmod(fd, mode) < 0 ? -errno : 0;
	if (rc == 0)
		rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return pki_err_sys(err, -rc, "cannot write", tmp);
	}
	if (flags & SP_PKI_OVERWRITE)
		rc = rename(tmp, path) < 0 ? -errno : 0;
	else
		rc = place_noreplace(tmp, path);
	if (rc < 0) {
		unlink(tmp);
		if (rc == -EEXIST)
			return pki_err(err, -EEXIST, "%s exists (not overwriting)", path);
		return pki_err_sys(err, -rc, "cannot create", path);
	}
	sync_dir(dir);
	return 0;
}

int
sp_pki_file_read(const char *path, char **data, size_t *len, struct sp_pki_err *err)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd;

	pki_err_clear(err);
	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pki_err_sys(err, errno, "cannot open", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return pki_err_sys(err, e, "cannot stat", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return pki_err(err, -EINVAL, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > PKI_FILE_MAX) {
		close(fd);
		return pki_err(err, -EFBIG, "%s: larger than %u bytes", path, PKI_FILE_MAX);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return pki_err(err, -ENOMEM, "out of memory reading %s", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			OPENSSL_cleanse(buf, got);  /* it may be a key */
			free(buf);
			return pki_err_sys(err, e, "cannot read", path);
		}
		if (n == 0)
			break;  /* it shrank under us: take what is there */
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}
