/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control core's event loop. One epoll set; periodic timers kept in a small array and
 * turned into the epoll_wait() timeout. Entries removed from inside a callback are only marked
 * dead (and taken out of epoll at once); they are freed after the iteration, because events
 * already returned by epoll_wait() in the same batch may still point at them.
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "sp_log.h"
#include "sp_ctl.h"

SP_LOG_TYPE(ctl);

#define MAX_EVENTS 64

struct fd_entry {
	int fd;
	bool dead;
	sp_ctl_fd_cb cb;
	void *arg;
};

struct timer {
	int id;
	bool dead;
	uint32_t period_ms;
	uint64_t next_ms;
	sp_ctl_timer_cb cb;
	void *arg;
};

struct sp_ctl {
	int epfd;
	int wakefd;                  /* eventfd written by sp_ctl_stop() */
	volatile sig_atomic_t stop;
	bool garbage;                /* some entries are dead and wait to be freed */
	int next_timer_id;

	struct fd_entry **fds;
	unsigned int nb_fds, cap_fds;
	struct timer **timers;
	unsigned int nb_timers, cap_timers;
};

/* The wake-up eventfd's epoll data: a pointer no fd_entry can have. */
static char wake_tag;

uint64_t
sp_ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Make room for one more entry in an array of pointers. @return 0 or -ENOMEM. */
#define GROW(arr, nb, cap) __extension__ ({					\
	int rc_ = 0;								\
	if ((nb) >= (cap)) {							\
		unsigned int ncap_ = (cap) ? (cap) * 2 : 8;			\
		__typeof__(arr) n_ = realloc((arr), ncap_ * sizeof(*n_));	\
		if (n_ == NULL) {						\
			rc_ = -ENOMEM;						\
		} else {							\
			(arr) = n_;						\
			(cap) = ncap_;						\
		}								\
	}									\
	rc_;									\
})

struct sp_ctl *
sp_ctl_create(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &wake_tag };
	struct sp_ctl *ctl = calloc(1, sizeof(*ctl));
	int err;

	if (ctl == NULL)
		return NULL;
	ctl->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctl->epfd < 0)
		goto fail_free;
	ctl->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctl->wakefd < 0)
		goto fail_epoll;
	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->wakefd, &ev) < 0)
		goto fail_wake;
	return ctl;

fail_wake:
	err = errno;
	close(ctl->wakefd);
	errno = err;
fail_epoll:
	err = errno;
	close(ctl->epfd);
	errno = err;
fail_free:
	err = errno;
	free(ctl);
	errno = err;
	return NULL;
}

void
sp_ctl_destroy(struct sp_ctl *ctl)
{
	unsigned int i;

	if (ctl == NULL)
		return;
	for (i = 0; i < ctl->nb_fds; i++)
		free(ctl->fds[i]);
	for (i = 0; i < ctl->nb_timers; i++)
		free(ctl->timers[i]);
	free(ctl->fds);
	free(ctl->timers);
	close(ctl->wakefd);
	close(ctl->epfd);
	free(ctl);
}

static struct fd_entry *
find_fd(const struct sp_ctl *ctl, int fd)
{
	unsigned int i;

	for (i = 0; i < ctl->nb_fds; i++)
		if (!ctl->fds[i]->dead && ctl->fds[i]->fd == fd)
			return ctl->fds[i];
	return NULL;
}

static struct timer *
find_timer(const struct sp_ctl *ctl, int id)
{
	unsigned int i;

	for (i = 0; i < ctl->nb_timers; i++)
		if (!ctl->timers[i]->dead && ctl->timers[i]->id == id)
			return ctl->timers[i];
	return NULL;
}

int
sp_ctl_add_fd(struct sp_ctl *ctl, int fd, uint32_t events, sp_ctl_fd_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events };
	struct fd_entry *e;

	if (ctl == NULL || cb == NULL || fd < 0)
		return -EINVAL;
	if (find_fd(ctl, fd) != NULL)
		return -EEXIST;
	if (GROW(ctl->fds, ctl->nb_fds, ctl->cap_fds) < 0)
		return -ENOMEM;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->fd = fd;
	e->cb = cb;
	e->arg = arg;
	ev.data.ptr = e;
	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = errno;

		free(e);
		return -err;
	}
	ctl->fds[ctl->nb_fds++] = e;
	return 0;
}

int
sp_ctl_del_fd(struct sp_ctl *ctl, int fd)
{
	struct fd_entry *e = ctl != NULL ? find_fd(ctl, fd) : NULL;

	if (e == NULL)
		return -ENOENT;
	/* Fails only when fd was closed already, which removed it from the set anyway. */
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, fd, NULL);
	e->dead = true;
	ctl->garbage = true;
	return 0;
}

int
sp_ctl_add_timer(struct sp_ctl *ctl, uint32_t period_ms, sp_ctl_timer_cb cb, void *arg)
{
	struct timer *t;

	if (ctl == NULL || cb == NULL || period_ms == 0)
		return -EINVAL;
	if (GROW(ctl->timers, ctl->nb_timers, ctl->cap_timers) < 0)
		return -ENOMEM;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->id = ctl->next_timer_id++;
	if (ctl->next_timer_id < 0)
		ctl->next_timer_id = 0;
	t->period_ms = period_ms;
	t->next_ms = sp_ctl_now_ms() + period_ms;
	t->cb = cb;
	t->arg = arg;
	ctl->timers[ctl->nb_timers++] = t;
	return t->id;
}

int
sp_ctl_set_timer(struct sp_ctl *ctl, int id, uint32_t period_ms)
{
	struct timer *t = ctl != NULL ? find_timer(ctl, id) : NULL;

	if (t == NULL)
		return -ENOENT;
	if (period_ms == 0)
		return -EINVAL;
	t->period_ms = period_ms;
	t->next_ms = sp_ctl_now_ms() + period_ms;
	return 0;
}

int
sp_ctl_del_timer(struct sp_ctl *ctl, int id)
{
	struct timer *t = ctl != NULL ? find_timer(ctl, id) : NULL;

	if (t == NULL)
		return -ENOENT;
	t->dead = true;
	ctl->garbage = true;
	return 0;
}

void
sp_ctl_stop(struct sp_ctl *ctl)
{
	uint64_t one = 1;
	ssize_t r;

	/* Only a flag store and write(2): both async-signal-safe. */
	ctl->stop = 1;
	r = write(ctl->wakefd, &one, sizeof(one));
	(void)r;
}

bool
sp_ctl_stopping(const struct sp_ctl *ctl)
{
	return ctl->stop != 0;
}

static void
collect_garbage(struct sp_ctl *ctl)
{
	unsigned int i, n;

	if (!ctl->garbage)
		return;
	for (i = 0, n = 0; i < ctl->nb_fds; i++) {
		if (ctl->fds[i]->dead)
			free(ctl->fds[i]);
		else
			ctl->fds[n++] = ctl->fds[i];
	}
	ctl->nb_fds = n;
	for (i = 0, n = 0; i < ctl->nb_timers; i++) {
		if (ctl->timers[i]->dead)
			free(ctl->timers[i]);
		else
			ctl->timers[n++] = ctl->timers[i];
	}
	ctl->nb_timers = n;
	ctl->garbage = false;
}

/* Milliseconds until the nearest timer, 0 if one is due, -1 (forever) without timers. */
static int
next_timeout(const struct sp_ctl *ctl, uint64_t now)
{
	uint64_t nearest = UINT64_MAX;
	unsigned int i;

	for (i = 0; i < ctl->nb_timers; i++)
		if (!ctl->timers[i]->dead && ctl->timers[i]->next_ms < nearest)
			nearest = ctl->timers[i]->next_ms;
	if (nearest == UINT64_MAX)
		return -1;
	if (nearest <= now)
		return 0;
	if (nearest - now > INT32_MAX)
		return INT32_MAX;
	return (int)(nearest - now);
}

static void
run_timers(struct sp_ctl *ctl)
{
	uint64_t now = sp_ctl_now_ms();
	unsigned int i, n = ctl->nb_timers;

	/* Timers added by a callback (appended past n) wait for the next round. The array may
	 * be reallocated by a callback, so index it afresh every time. */
	for (i = 0; i < n && !ctl->stop; i++) {
		struct timer *t = ctl->timers[i];

		if (t->dead || t->next_ms > now)
			continue;
		/* Advance before the call so that sp_ctl_set_timer() from the callback wins.
		 * A late loop skips the missed periods rather than firing in a burst. */
		t->next_ms += t->period_ms;
		if (t->next_ms <= now)
			t->next_ms = now + t->period_ms;
		t->cb(now, t->arg);
	}
}

static void
dispatch(struct sp_ctl *ctl, const struct epoll_event *evs, int n)
{
	int i;

	for (i = 0; i < n && !ctl->stop; i++) {
		struct fd_entry *e = evs[i].data.ptr;

		if (evs[i].data.ptr == &wake_tag) {
			uint64_t v;
			ssize_t r = read(ctl->wakefd, &v, sizeof(v));

			(void)r;
			continue;
		}
		/* Dead entries are still allocated until collect_garbage(). */
		if (e->dead)
			continue;
		e->cb(e->fd, evs[i].events, e->arg);
	}
}

int
sp_ctl_run(struct sp_ctl *ctl)
{
	struct epoll_event evs[MAX_EVENTS];

	while (!ctl->stop) {
		int n = epoll_wait(ctl->epfd, evs, MAX_EVENTS, next_timeout(ctl, sp_ctl_now_ms()));

		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			SP_LOG(ctl, ERR, "epoll_wait: %s", strerror(err));
			return -err;
		}
		dispatch(ctl, evs, n);
		collect_garbage(ctl);
		run_timers(ctl);
		collect_garbage(ctl);
	}
	return 0;
}
