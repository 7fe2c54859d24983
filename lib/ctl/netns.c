/* SPDX-License-Identifier: BSD-3-Clause */
/* Sockets of the control core in another network namespace (the exception port's). */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "sp_log.h"
#include "sp_ctl.h"

SP_LOG_TYPE_DECLARE(ctl);

int
sp_ctl_socket_in_netns(const char *netns, int domain, int type)
{
	char path[128];
	int home, ns, fd, err;

	if (netns == NULL || netns[0] == '\0') {
		fd = socket(domain, type | SOCK_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return -errno;
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		err = -errno;
		close(ns);
		return err;
	}
	/* setns() moves this thread only, and a socket keeps the namespace it was made in */
	if (setns(ns, CLONE_NEWNET) < 0) {
		err = -errno;
		close(ns);
		close(home);
		return err;
	}
	fd = socket(domain, type | SOCK_CLOEXEC, 0);
	err = fd < 0 ? -errno : 0;
	if (setns(home, CLONE_NEWNET) < 0) {
		SP_LOG(ctl, CRIT, "cannot return to the gateway's network namespace: %s",
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
		err = -EIO;
	}
	close(ns);
	close(home);
	return fd < 0 ? err : fd;
}
