/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_CTL_H
#define SP_CTL_H

/**
 * @file
 * The control core's event loop: epoll over file descriptors (console sockets, signals,
 * netlink, later TLS and health checks) and a timer wheel-less list of periodic timers. It
 * never blocks outside epoll_wait(), whose timeout is the nearest timer. Single-threaded: every
 * function here is called on the main lcore.
 */

#include <stdbool.h>
#include <stdint.h>

struct sp_ctl;

/** Called when fd is readable (or the event in events fires). */
typedef void (*sp_ctl_fd_cb)(int fd, uint32_t events, void *arg);
/** Called when a timer is due; now_ms is the monotonic time in milliseconds. */
typedef void (*sp_ctl_timer_cb)(uint64_t now_ms, void *arg);

/** @return a loop, or NULL (errno set). */
struct sp_ctl *sp_ctl_create(void);
void sp_ctl_destroy(struct sp_ctl *ctl);

/** Watch fd for events (EPOLLIN...). @return 0, -EEXIST, -ENOMEM or another -errno. */
int sp_ctl_add_fd(struct sp_ctl *ctl, int fd, uint32_t events, sp_ctl_fd_cb cb, void *arg);
/** Stop watching fd (does not close it). Safe from inside a callback. @return 0 or -ENOENT. */
int sp_ctl_del_fd(struct sp_ctl *ctl, int fd);

/**
 * Call cb every period_ms, first after period_ms. @return a timer id >= 0, or -ENOMEM.
 * Safe from inside a callback.
 */
int sp_ctl_add_timer(struct sp_ctl *ctl, uint32_t period_ms, sp_ctl_timer_cb cb, void *arg);
/** Change a timer's period (next expiry counts from now). @return 0 or -ENOENT. */
int sp_ctl_set_timer(struct sp_ctl *ctl, int id, uint32_t period_ms);
int sp_ctl_del_timer(struct sp_ctl *ctl, int id);

/** Run until sp_ctl_stop(). @return 0, or -errno if epoll failed. */
int sp_ctl_run(struct sp_ctl *ctl);
/** Make sp_ctl_run() return after the current iteration. Async-signal-safe. */
void sp_ctl_stop(struct sp_ctl *ctl);
bool sp_ctl_stopping(const struct sp_ctl *ctl);

/**
 * A socket(domain, type | SOCK_CLOEXEC) created in the named network namespace (a bind mount
 * under /run/netns, as `ip netns add` makes), or in ours when netns is NULL or "". Only the
 * calling thread enters the namespace, and only for the call.
 * @return the fd, or -errno (-EIO when the thread could not return: the socket is closed).
 */
int sp_ctl_socket_in_netns(const char *netns, int domain, int type);

/** Monotonic milliseconds. */
uint64_t sp_ctl_now_ms(void);

#endif
