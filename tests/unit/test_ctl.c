/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control loop: timer periods under a fake workload, pipe callbacks, removal and addition
 * from inside callbacks, stop from a callback and from a signal handler. Periods are short so
 * the whole suite runs well under two seconds.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "sp_ctl.h"
#include "test_common.h"

#define MAX_FIRES 256

struct tcount {
	struct sp_ctl *ctl;
	int id;
	unsigned int n;
	unsigned int stop_after;  /* stop the loop on the n-th call (0: never) */
	unsigned int del_after;   /* delete this timer on the n-th call (0: never) */
	unsigned int work_us;     /* fake workload per call */
	struct tcount *wait_for;  /* stop only once this timer deleted itself */
	uint64_t at[MAX_FIRES];
};

static void
count_cb(uint64_t now, void *arg)
{
	struct tcount *c = arg;

	if (c->n < MAX_FIRES)
		c->at[c->n] = now;
	c->n++;
	if (c->work_us)
		usleep(c->work_us);
	if (c->del_after && c->n == c->del_after)
		CU_ASSERT_EQUAL(sp_ctl_del_timer(c->ctl, c->id), 0);
	if (c->wait_for != NULL && c->wait_for->n >= c->wait_for->del_after)
		sp_ctl_stop(c->ctl);
	if (c->stop_after && c->n == c->stop_after)
		sp_ctl_stop(c->ctl);
}

static uint64_t
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static void
test_timer_periods(void)
{
	struct sp_ctl *ctl = sp_ctl_create();
	struct tcount stop = { .ctl = ctl, .stop_after = 1 };
	struct tcount t10 = { .ctl = ctl }, t25 = { .ctl = ctl };
	struct tcount work = { .ctl = ctl, .work_us = 2000 };
	uint64_t start, elapsed, cpu0, t10_added;
	unsigned int i, early = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl);
	CU_ASSERT(sp_ctl_add_timer(ctl, 300, count_cb, &stop) >= 0);
	t10_added = sp_ctl_now_ms();
	CU_ASSERT(sp_ctl_add_timer(ctl, 10, count_cb, &t10) >= 0);
	CU_ASSERT(sp_ctl_add_timer(ctl, 25, count_cb, &t25) >= 0);
	CU_ASSERT(sp_ctl_add_timer(ctl, 7, count_cb, &work) >= 0);

	cpu0 = cpu_ms();
	start = sp_ctl_now_ms();
	CU_ASSERT_EQUAL(sp_ctl_run(ctl), 0);
	elapsed = sp_ctl_now_ms() - start;

	CU_ASSERT(sp_ctl_stopping(ctl));
	CU_ASSERT(elapsed >= 299 && elapsed < 500);
	/* Never more than the periods allow, and not much fewer even with 2 ms of work per
	 * 7 ms and a busy shared machine. */
	CU_ASSERT(t10.n >= 20 && t10.n <= 30);
	CU_ASSERT(t25.n >= 8 && t25.n <= 12);
	CU_ASSERT(work.n >= 25 && work.n <= 42);
	/* Never early: the i-th call comes at least i periods after the timer was added. The
	 * schedule is fixed-rate (no drift), so one late call may be followed by a closer one. */
	for (i = 0; i < t10.n && i < MAX_FIRES; i++)
		if (t10.at[i] < t10_added + (i + 1) * 10)
			early++;
	CU_ASSERT_EQUAL(early, 0);
	/* The loop sleeps in epoll_wait instead of spinning (the workload only sleeps too). */
	CU_ASSERT(cpu_ms() - cpu0 < elapsed / 2);
	sp_ctl_destroy(ctl);
}

static void
pipe_writer(uint64_t now, void *arg)
{
	int *fd = arg;
	ssize_t r = write(*fd, "x", 1);

	(void)now;
	CU_ASSERT_EQUAL(r, 1);
}

struct reader {
	struct sp_ctl *ctl;
	unsigned int bytes;
	uint32_t events;
};

static void
pipe_reader(int fd, uint32_t events, void *arg)
{
	struct reader *r = arg;
	char buf[16];
	ssize_t n = read(fd, buf, sizeof(buf));

	r->events |= events;
	if (n > 0)
		r->bytes += (unsigned int)n;
	if (r->bytes >= 10)
		sp_ctl_stop(r->ctl);
}

static void
test_fd_pipe(void)
{
	struct sp_ctl *ctl = sp_ctl_create();
	struct reader rd = { .ctl = ctl };
	struct tcount guard = { .ctl = ctl, .stop_after = 1 };
	int p[2];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl);
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	CU_ASSERT_EQUAL(sp_ctl_add_fd(ctl, p[0], EPOLLIN, pipe_reader, &rd), 0);
	CU_ASSERT(sp_ctl_add_timer(ctl, 3, pipe_writer, &p[1]) >= 0);
	CU_ASSERT(sp_ctl_add_timer(ctl, 1000, count_cb, &guard) >= 0);
	CU_ASSERT_EQUAL(sp_ctl_run(ctl), 0);
	CU_ASSERT_EQUAL(guard.n, 0);
	CU_ASSERT_EQUAL(rd.bytes, 10);
	CU_ASSERT(rd.events & EPOLLIN);

	CU_ASSERT_EQUAL(sp_ctl_del_fd(ctl, p[0]), 0);
	CU_ASSERT_EQUAL(sp_ctl_del_fd(ctl, p[0]), -ENOENT);
	close(p[0]);
	close(p[1]);
	sp_ctl_destroy(ctl);
}

/* Two ready pipes whose callbacks each remove the other: exactly one may run. */
struct pair {
	struct sp_ctl *ctl;
	int my_fd, other_fd;
	unsigned int *calls;
	struct tcount *stopper;
};

static void
pair_cb(int fd, uint32_t events, void *arg)
{
	struct pair *p = arg;

	(void)events;
	CU_ASSERT_EQUAL(fd, p->my_fd);
	(*p->calls)++;
	CU_ASSERT_EQUAL(sp_ctl_del_fd(p->ctl, p->other_fd), 0);
	CU_ASSERT_EQUAL(sp_ctl_del_fd(p->ctl, p->my_fd), 0);
	/* A timer added from inside a callback runs too. */
	p->stopper->id = sp_ctl_add_timer(p->ctl, 5, count_cb, p->stopper);
	CU_ASSERT(p->stopper->id >= 0);
}

static void
test_remove_in_callback(void)
{
	struct sp_ctl *ctl = sp_ctl_create();
	struct tcount self_del = { .ctl = ctl, .del_after = 3 };
	struct tcount stopper = { .ctl = ctl, .wait_for = &self_del };
	struct tcount victim = { .ctl = ctl };
	struct tcount guard = { .ctl = ctl, .stop_after = 1 };
	unsigned int calls = 0;
	struct pair a, b;
	int p1[2], p2[2];
	uint64_t start;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl);
	CU_ASSERT_EQUAL_FATAL(pipe(p1), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(p2), 0);
	CU_ASSERT_EQUAL(write(p1[1], "a", 1), 1);
	CU_ASSERT_EQUAL(write(p2[1], "b", 1), 1);
	a = (struct pair){ ctl, p1[0], p2[0], &calls, &stopper };
	b = (struct pair){ ctl, p2[0], p1[0], &calls, &stopper };
	CU_ASSERT_EQUAL(sp_ctl_add_fd(ctl, p1[0], EPOLLIN, pair_cb, &a), 0);
	CU_ASSERT_EQUAL(sp_ctl_add_fd(ctl, p2[0], EPOLLIN, pair_cb, &b), 0);

	/* A timer that deletes itself on its 3rd call, and one deleted before it is due. */
	self_del.id = sp_ctl_add_timer(ctl, 1, count_cb, &self_del);
	victim.id = sp_ctl_add_timer(ctl, 200, count_cb, &victim);
	CU_ASSERT(self_del.id >= 0 && victim.id >= 0);
	CU_ASSERT_EQUAL(sp_ctl_del_timer(ctl, victim.id), 0);
	CU_ASSERT_EQUAL(sp_ctl_del_timer(ctl, victim.id), -ENOENT);
	CU_ASSERT(sp_ctl_add_timer(ctl, 1500, count_cb, &guard) >= 0);

	start = sp_ctl_now_ms();
	CU_ASSERT_EQUAL(sp_ctl_run(ctl), 0);
	CU_ASSERT_EQUAL(calls, 1);
	CU_ASSERT(stopper.n >= 1);
	CU_ASSERT_EQUAL(guard.n, 0);
	CU_ASSERT(sp_ctl_now_ms() - start < 1000);
	/* The 1 ms timer ran 3 times, then removed itself: never a 4th call. */
	CU_ASSERT_EQUAL(self_del.n, 3);
	CU_ASSERT_EQUAL(victim.n, 0);
	CU_ASSERT_EQUAL(sp_ctl_del_timer(ctl, self_del.id), -ENOENT);
	/* The fds can be watched again once removed. */
	CU_ASSERT_EQUAL(sp_ctl_add_fd(ctl, p1[0], EPOLLIN, pair_cb, &a), 0);
	CU_ASSERT_EQUAL(sp_ctl_add_fd(ctl, p1[0], EPOLLIN, pair_cb, &a), -EEXIST);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	sp_ctl_destroy(ctl);
}

/* A timer whose period another timer shortens from its callback. */
struct retimer {
	struct sp_ctl *ctl;
	int target;
	unsigned int n;
};

static void
retime_cb(uint64_t now, void *arg)
{
	struct retimer *r = arg;

	(void)now;
	if (r->n++ == 0)
		CU_ASSERT_EQUAL(sp_ctl_set_timer(r->ctl, r->target, 10), 0);
}

static void
test_set_timer(void)
{
	struct sp_ctl *ctl = sp_ctl_create();
	struct tcount slow = { .ctl = ctl, .stop_after = 1 };
	struct retimer r = { .ctl = ctl };
	uint64_t start;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl);
	r.target = sp_ctl_add_timer(ctl, 1500, count_cb, &slow);
	CU_ASSERT(r.target >= 0);
	CU_ASSERT(sp_ctl_add_timer(ctl, 5, retime_cb, &r) >= 0);
	CU_ASSERT_EQUAL(sp_ctl_set_timer(ctl, 12345, 10), -ENOENT);
	start = sp_ctl_now_ms();
	CU_ASSERT_EQUAL(sp_ctl_run(ctl), 0);
	/* Due 10 ms after the 5 ms timer changed it, not after 1.5 s. */
	CU_ASSERT_EQUAL(slow.n, 1);
	CU_ASSERT(slow.at[0] - start >= 14 && slow.at[0] - start < 200);
	sp_ctl_destroy(ctl);
}

static struct sp_ctl *sig_ctl;

static void
on_alarm(int sig)
{
	(void)sig;
	sp_ctl_stop(sig_ctl);
}

static void
test_stop_from_signal(void)
{
	struct itimerval it = { .it_value = { .tv_usec = 30000 } };
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct sigaction old;
	uint64_t start;

	sig_ctl = sp_ctl_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(sig_ctl);
	CU_ASSERT_FALSE(sp_ctl_stopping(sig_ctl));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	start = sp_ctl_now_ms();
	setitimer(ITIMER_REAL, &it, NULL);
	/* No timer and no fd: only the signal's eventfd write can end the wait. */
	CU_ASSERT_EQUAL(sp_ctl_run(sig_ctl), 0);
	CU_ASSERT(sp_ctl_now_ms() - start >= 29 && sp_ctl_now_ms() - start < 500);
	CU_ASSERT(sp_ctl_stopping(sig_ctl));
	/* Stopping is sticky: a second run returns at once. */
	CU_ASSERT_EQUAL(sp_ctl_run(sig_ctl), 0);
	sigaction(SIGALRM, &old, NULL);
	sp_ctl_destroy(sig_ctl);
}

static void
test_errors(void)
{
	struct sp_ctl *ctl = sp_ctl_create();
	struct reader rd = { .ctl = ctl };
	int p[2];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl);
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	close(p[1]);
	close(p[0]);
	CU_ASSERT_EQUAL(sp_ctl_add_fd(ctl, p[0], EPOLLIN, pipe_reader, &rd), -EBADF);
	CU_ASSERT_EQUAL(sp_ctl_add_fd(ctl, -1, EPOLLIN, pipe_reader, &rd), -EINVAL);
	CU_ASSERT_EQUAL(sp_ctl_del_fd(ctl, 0), -ENOENT);
	CU_ASSERT_EQUAL(sp_ctl_add_timer(ctl, 0, count_cb, NULL), -EINVAL);
	CU_ASSERT_EQUAL(sp_ctl_del_timer(ctl, 99), -ENOENT);
	sp_ctl_destroy(ctl);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("ctl", NULL, NULL);
	CU_add_test(s, "timer periods under load", test_timer_periods);
	CU_add_test(s, "fd callbacks on a pipe", test_fd_pipe);
	CU_add_test(s, "removal from inside callbacks", test_remove_in_callback);
	CU_add_test(s, "set_timer from a callback", test_set_timer);
	CU_add_test(s, "stop from a signal handler", test_stop_from_signal);
	CU_add_test(s, "errors", test_errors);
	return sp_test_run();
}
