/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Console sessions: the UNIX socket server (exec and interactive sessions, see the protocol in
 * sp_console.h) and the console on the daemon's stdin.
 *
 * The control core must never wait on a client. Socket reads are non-blocking; a command's
 * output is written by cmdline_printf() into a memfd (cheap, never blocks, no size limit),
 * then copied into the session's output queue and sent as the socket accepts it (EPOLLOUT).
 * Sessions whose output does not move for STALL_MS are dropped. Interactive sessions edit
 * lines with an rdline of our own (not cmdline_in()) so that parse errors get the same
 * messages as exec sessions, and completion can offer --json.
 *
 * Sessions are freed only from the two entry points (the fd callback and the timer), after
 * the work of the event: anything deeper just marks the session dead.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cmdline_rdline.h>
#include <rte_string_fns.h>

#include "sp_ctl.h"
#include "console_private.h"

SP_LOG_TYPE(console);

#define MAX_SESSIONS 16
#define HELLO_MAX 64                      /* the "SPCTL/1 <mode>" line */
#define EXEC_TIMEOUT_MS 10000             /* hello and exec line must arrive within this */
#define IDLE_TIMEOUT_MS (30 * 60 * 1000)  /* interactive sessions */
#define STALL_MS 10000                    /* queued output that does not move */
#define PAUSE_INPUT_BYTES (1u << 20)      /* stop reading while this much output waits */
#define PROMPT "sallyport> "

enum sess_state {
	S_HELLO,        /* waiting for "SPCTL/1 <mode>" */
	S_EXEC,         /* waiting for the command line */
	S_INTERACTIVE,  /* rdline session (socket or terminal) */
	S_LINES,        /* stdin that is not a terminal: one command per line */
	S_DRAIN,        /* sending what is left, then closing */
};

struct session {
	unsigned int id;
	int fd;                  /* socket, or 0 for stdin */
	bool is_stdin;
	enum sess_state state;
	bool dead;               /* free at the end of the current event */
	bool closing;            /* close once the output queue is empty */
	bool eof;                /* the peer will send nothing more */
	bool skip_line;          /* S_LINES: discarding the rest of an overlong line */
	bool comp_extra;         /* completion: the extra [RETURN] choice was given */
	uint32_t events;         /* what the loop watches now */
	struct cmdline *cl;      /* the parser; output to capture (socket) or fd 1 (stdin) */
	int capture;             /* memfd behind cl, -1 on stdin */
	struct rdline *rdl;      /* S_INTERACTIVE */
	char *in;                /* S_HELLO, S_EXEC, S_LINES: bytes of an unfinished line */
	size_t in_len;
	char *out;               /* queued output (sockets) */
	size_t out_len, out_off, out_cap;
	uint64_t last_in_ms, last_out_ms;
	struct console_caller who;
};

static struct {
	bool active;
	struct sp_ctl *ctl;
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int timer;
	struct session *sess[MAX_SESSIONS];
	unsigned int nb_sess;
	struct session *in;      /* the stdin console, or NULL */
	struct termios saved_term;
	bool term_saved;
	unsigned int next_id;
	void (*quit_cb)(void *arg);
	void *quit_arg;
} con = { .lfd = -1, .timer = -1 };

static void session_io(int fd, uint32_t events, void *arg);

/* ---- output ---- */

static int
out_reserve(struct session *s, size_t more)
{
	size_t cap;
	char *n;

	if (s->out_off > 0 && s->out_off == s->out_len)
		s->out_off = s->out_len = 0;
	if (s->out_len + more <= s->out_cap)
		return 0;
	if (s->out_off > 0) {
		memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
		s->out_len -= s->out_off;
		s->out_off = 0;
		if (s->out_len + more <= s->out_cap)
			return 0;
	}
	cap = s->out_cap ? s->out_cap : 4096;
	while (cap < s->out_len + more)
		cap *= 2;
	n = realloc(s->out, cap);
	if (n == NULL) {
		s->dead = true;
		return -ENOMEM;
	}
	s->out = n;
	s->out_cap = cap;
	return 0;
}

static void
out_add(struct session *s, const char *p, size_t len)
{
	if (len == 0 || out_reserve(s, len) < 0)
		return;
	memcpy(s->out + s->out_len, p, len);
	s->out_len += len;
}

static size_t
out_pending(const struct session *s)
{
	return s->out_len - s->out_off;
}

/* Send what the socket takes now (stdin: write it all, the terminal is ours). */
static void
flush(struct session *s)
{
	while (!s->dead && out_pending(s) > 0) {
		ssize_t n;

		if (s->is_stdin)
			n = write(STDOUT_FILENO, s->out + s->out_off, out_pending(s));
		else
			n = send(s->fd, s->out + s->out_off, out_pending(s),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !s->is_stdin)
			return;
		if (n <= 0) {
			/* stdout gone: drop the queue, keep reading commands. */
			if (s->is_stdin)
				s->out_off = s->out_len;
			else
				s->dead = true;
			return;
		}
		s->out_off += (size_t)n;
		s->last_out_ms = sp_ctl_now_ms();
	}
}

/*
 * Move a command's output from the memfd to the queue. Interactive sessions are terminals in
 * raw mode on the client side: a bare "\n" becomes "\r\n".
 */
static void
take_capture(struct session *s)
{
	off_t size = lseek(s->capture, 0, SEEK_CUR);
	char buf[4096];
	off_t off = 0;

	while (off < size && !s->dead) {
		ssize_t n = pread(s->capture, buf, sizeof(buf), off);
		ssize_t i, start = 0;

		if (n <= 0)
			break;
		if (s->state != S_INTERACTIVE) {
			out_add(s, buf, (size_t)n);
		} else {
			for (i = 0; i < n; i++) {
				if (buf[i] != '\n' || (i > 0 && buf[i - 1] == '\r'))
					continue;
				out_add(s, buf + start, (size_t)(i - start));
				out_add(s, "\r\n", 2);
				start = i + 1;
			}
			out_add(s, buf + start, (size_t)(n - start));
		}
		off += n;
	}
	if (ftruncate(s->capture, 0) < 0 || lseek(s->capture, 0, SEEK_SET) < 0)
		s->dead = true;
}

/* Watch what the session needs: input unless closing or backed up, output while queued. */
static void
update_events(struct session *s)
{
	uint32_t want = 0;

	if (s->dead)
		return;
	if (!s->closing && !s->eof && out_pending(s) < PAUSE_INPUT_BYTES)
		want |= EPOLLIN;
	if (!s->is_stdin && out_pending(s) > 0)
		want |= EPOLLOUT;
	if (want == s->events)
		return;
	/* sp_ctl has no "modify": remove and add again (safe inside this fd's callback). */
	sp_ctl_del_fd(con.ctl, s->fd);
	if (sp_ctl_add_fd(con.ctl, s->fd, want, session_io, s) < 0)
		s->dead = true;
	s->events = want;
}

/* ---- running commands ---- */

static int
run_line(struct session *s, const char *line)
{
	int status;

	/* Output already queued (echo, prompt) goes first. */
	if (s->is_stdin)
		flush(s);
	status = console_exec_line(s->cl, &s->who, line);
	if (!s->is_stdin)
		take_capture(s);
	if (s->who.quit && s->is_stdin && con.quit_cb != NULL)
		con.quit_cb(con.quit_arg);
	return status;
}

static void
exec_reply(struct session *s, int status)
{
	char trailer[16];
	int n = snprintf(trailer, sizeof(trailer), "%c%d\n", '\0', status);

	out_add(s, trailer, (size_t)n);
	s->state = S_DRAIN;
	s->closing = true;
}

/* exec: refuse with a message and a status, then close. */
static void
exec_refuse(struct session *s, int status, const char *msg)
{
	out_add(s, msg, strlen(msg));
	exec_reply(s, status);
}

/* ---- interactive sessions (rdline) ---- */

static int
rdl_write_char(struct rdline *rdl, char c)
{
	out_add(rdline_get_opaque(rdl), &c, 1);
	return 1;
}

static void
rdl_validate(struct rdline *rdl, const char *buf, unsigned int size)
{
	struct session *s = rdline_get_opaque(rdl);

	(void)size;
	run_line(s, buf);
	if (s->who.quit)
		rdline_quit(rdl);
}

/*
 * cmdline_complete() over the commands as registered, whose trailing --json token makes it
 * offer "--json"; then one more choice, [RETURN], when the line is already complete without
 * it (the parser's copy has no --json token, so cmdline_complete() cannot know).
 */
static int
rdl_complete(struct rdline *rdl, const char *buf, char *dst, unsigned int size, int *state)
{
	struct session *s = rdline_get_opaque(rdl);
	struct cmdline *ccl;
	char line[CONSOLE_LINE_MAX];
	size_t len;
	int rc;

	if (*state <= 0)
		s->comp_extra = false;
	ccl = cmdline_new(console_complete_ctx(), "", -1, -1);
	if (ccl == NULL)
		return 0;
	rc = cmdline_complete(ccl, buf, state, dst, size);
	cmdline_free(ccl);
	if (rc != 0 || s->comp_extra)
		return rc;
	s->comp_extra = true;
	len = strlcpy(line, buf, sizeof(line) - 1);
	if (len >= sizeof(line) - 1 || len == 0 || (line[len - 1] != ' ' && line[len - 1] != '\t'))
		return 0;
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len >= 6 && strncmp(line + len - 6, "--json", 6) == 0)
		return 0;
	line[len] = '\n';
	line[len + 1] = '\0';
	if (cmdline_parse_check(s->cl, line) <= 0)
		return 0;
	strlcpy(dst, "[RETURN]", size);
	return 1;
}

static int
interactive_start(struct session *s)
{
	s->rdl = rdline_new(rdl_write_char, rdl_validate, rdl_complete, s);
	if (s->rdl == NULL)
		return -ENOMEM;
	s->state = S_INTERACTIVE;
	rdline_newline(s->rdl, PROMPT);
	return 0;
}

static void
interactive_input(struct session *s, const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len && !s->dead && !s->closing; i++) {
		int rc = rdline_char_in(s->rdl, buf[i]);

		if (rc == RDLINE_RES_VALIDATED) {
			const char *line = rdline_get_buffer(s->rdl);
			const char *last = rdline_get_history_item(s->rdl, 0);
			size_t n = strcspn(line, "\n");

			if (n > 0 && (last == NULL || strncmp(last, line, n) != 0 ||
				      last[n] != '\n'))
				rdline_add_history(s->rdl, line);
			rdline_newline(s->rdl, PROMPT);
		} else if (rc == RDLINE_RES_EOF || rc == RDLINE_RES_EXITED) {
			/* Leave the terminal on a fresh line (spctl does it for sockets). */
			if (s->is_stdin)
				out_add(s, "\n", 1);
			s->closing = true;
		}
	}
}

/* ---- socket sessions ---- */

static void
hello(struct session *s, const char *line)
{
	if (strcmp(line, "SPCTL/1 exec") == 0) {
		s->state = S_EXEC;
	} else if (strcmp(line, "SPCTL/1 interactive") == 0) {
		if (interactive_start(s) < 0)
			s->dead = true;
	} else {
		exec_refuse(s, CONSOLE_BAD, "error: bad protocol greeting, expected 'SPCTL/1 exec' "
			    "or 'SPCTL/1 interactive'\n");
	}
}

/* Append to the line buffer, up to max bytes. @return 0, or -1 when it would not fit. */
static int
in_add(struct session *s, const char *p, size_t len, size_t max)
{
	char *n;

	if (s->in_len + len > max)
		return -1;
	n = realloc(s->in, s->in_len + len + 1);
	if (n == NULL) {
		s->dead = true;
		return -1;
	}
	s->in = n;
	memcpy(s->in + s->in_len, p, len);
	s->in_len += len;
	s->in[s->in_len] = '\0';
	return 0;
}

static void
in_consume(struct session *s, size_t n)
{
	memmove(s->in, s->in + n, s->in_len - n);
	s->in_len -= n;
	s->in[s->in_len] = '\0';
}

static void lines_input(struct session *s, const char *buf, size_t len);

static void
session_input(struct session *s, const char *buf, size_t len)
{
	while (len > 0 && !s->dead && !s->closing) {
		const char *nl;
		size_t take;

		switch (s->state) {
		case S_HELLO:
			nl = memchr(buf, '\n', len);
			take = nl ? (size_t)(nl - buf) + 1 : len;
			if (in_add(s, buf, take, HELLO_MAX) < 0) {
				exec_refuse(s, CONSOLE_BAD, "error: bad protocol greeting\n");
				return;
			}
			buf += take;
			len -= take;
			if (nl != NULL) {
				s->in[strcspn(s->in, "\r\n")] = '\0';
				hello(s, s->in);
				in_consume(s, s->in_len);
			}
			break;
		case S_EXEC:
			nl = memchr(buf, '\n', len);
			take = nl ? (size_t)(nl - buf) : len;
			if (in_add(s, buf, take, CONSOLE_LINE_MAX) < 0) {
				if (!s->dead) {
					console_count_refused();
					exec_refuse(s, CONSOLE_BAD, "error: command line too long "
						    "(max 4096 bytes)\n");
				}
				return;
			}
			if (nl != NULL)
				exec_reply(s, run_line(s, s->in));
			return;  /* one command per connection: the rest is ignored */
		case S_INTERACTIVE:
			interactive_input(s, buf, len);
			return;
		case S_LINES:
			lines_input(s, buf, len);
			return;
		case S_DRAIN:
			return;
		}
	}
}

static void
session_eof(struct session *s)
{
	s->eof = true;
	/* A last line without newline still runs. */
	if (s->state == S_EXEC && s->in_len > 0) {
		exec_reply(s, run_line(s, s->in));
		return;
	}
	if (s->state == S_LINES && s->in_len > 0 && !s->skip_line)
		run_line(s, s->in);
	if (s->state != S_DRAIN)
		s->closing = true;
}

/* ---- the stdin console ---- */

static void
lines_input(struct session *s, const char *buf, size_t len)
{
	while (len > 0 && !s->dead && !s->closing) {
		const char *nl = memchr(buf, '\n', len);
		size_t take = nl ? (size_t)(nl - buf) : len;

		if (!s->skip_line && in_add(s, buf, take, CONSOLE_LINE_MAX) < 0 && !s->dead) {
			dprintf(STDOUT_FILENO, "error: command line too long (max %d bytes)\n",
				CONSOLE_LINE_MAX);
			console_count_refused();
			s->skip_line = true;
			in_consume(s, s->in_len);
		}
		buf += take;
		len -= take;
		if (nl == NULL)
			return;
		buf++;
		len--;
		if (!s->skip_line && s->in_len > 0)
			run_line(s, s->in);
		s->skip_line = false;
		if (s->in_len > 0)
			in_consume(s, s->in_len);
		if (s->who.quit)
			s->closing = true;
	}
}

static void
terminal_raw(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &con.saved_term) < 0)
		return;
	con.term_saved = true;
	t = con.saved_term;
	/* Like cmdline_stdin_new(): no line buffering, no echo (rdline echoes), no signals from
	 * Ctrl-C (it clears the line). Output processing stays on. */
	t.c_lflag &= ~(ICANON | ECHO | ISIG);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

static void
terminal_restore(void)
{
	if (con.term_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &con.saved_term);
	con.term_saved = false;
}

/* ---- session lifetime ---- */

static struct session *
session_new(int fd, bool is_stdin)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->id = ++con.next_id;
	s->fd = fd;
	s->is_stdin = is_stdin;
	s->capture = -1;
	s->last_in_ms = s->last_out_ms = sp_ctl_now_ms();
	if (!is_stdin) {
		s->capture = memfd_create("sp-console", MFD_CLOEXEC);
		if (s->capture < 0)
			goto fail;
	}
	/* cmdline_free() closes the capture memfd (its output fd); never fd 1. */
	s->cl = cmdline_new(console_parse_ctx(), "", -1, is_stdin ? STDOUT_FILENO : s->capture);
	if (s->cl == NULL)
		goto fail;
	return s;

fail:
	if (s->capture >= 0)
		close(s->capture);
	free(s);
	return NULL;
}

static void
session_free(struct session *s)
{
	unsigned int i;

	sp_ctl_del_fd(con.ctl, s->fd);
	if (s->is_stdin) {
		terminal_restore();
		con.in = NULL;
	} else {
		close(s->fd);
		for (i = 0; i < con.nb_sess; i++) {
			if (con.sess[i] == s) {
				con.sess[i] = con.sess[--con.nb_sess];
				break;
			}
		}
	}
	if (s->rdl != NULL)
		rdline_free(s->rdl);
	cmdline_free(s->cl);
	free(s->in);
	free(s->out);
	SP_LOG(console, DEBUG, "%s closed", s->who.name);
	free(s);
}

/* After an event: free a finished session, or watch what it needs next. */
static void
session_settle(struct session *s)
{
	if (!s->dead)
		flush(s);
	if (!s->dead && s->closing && out_pending(s) == 0)
		s->dead = true;
	if (s->dead) {
		if (s->is_stdin && !s->who.quit)
			SP_LOG(console, INFO, "console on stdin closed (the daemon keeps running)");
		session_free(s);
		return;
	}
	update_events(s);
}

static void
session_io(int fd, uint32_t events, void *arg)
{
	struct session *s = arg;
	char buf[4096];

	if (events & EPOLLOUT)
		flush(s);
	if (!s->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && (s->events & EPOLLIN)) {
		ssize_t n = s->is_stdin ? read(fd, buf, sizeof(buf))
					: recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			s->last_in_ms = sp_ctl_now_ms();
			session_input(s, buf, (size_t)n);
		} else if (n == 0) {
			session_eof(s);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			s->dead = true;
		}
	} else if (!s->dead && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLOUT)) {
		/* Not reading (closing or backed up) and the peer is gone. */
		s->dead = true;
	}
	session_settle(s);
}

static void
on_accept(int lfd, uint32_t events, void *arg)
{
	(void)events;
	(void)arg;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred = { .pid = 0 };
		socklen_t clen = sizeof(cred);
		struct session *s;
		static const char busy[] = "error: too many console sessions (16), try later\n"
					   "\0" "3\n";

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				SP_LOG(console, WARNING, "accept: %s", strerror(errno));
			return;
		}
		if (con.nb_sess >= MAX_SESSIONS) {
			ssize_t r = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);

			(void)r;
			close(fd);
			SP_LOG(console, WARNING, "console session refused: %d sessions open",
			       MAX_SESSIONS);
			continue;
		}
		s = session_new(fd, false);
		if (s == NULL) {
			close(fd);
			continue;
		}
		getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen);
		/* Admin for root and for the daemon's own user; others may only read. The
		 * socket's mode keeps others out for now; this holds if it is ever opened. */
		s->who.access = cred.uid == 0 || cred.uid == geteuid() ? SP_ACCESS_ADMIN
								       : SP_ACCESS_READ;
		snprintf(s->who.name, sizeof(s->who.name), "session %u (pid %d, uid %u)", s->id,
			 (int)cred.pid, (unsigned int)cred.uid);
		s->state = S_HELLO;
		s->events = EPOLLIN;
		if (sp_ctl_add_fd(con.ctl, fd, EPOLLIN, session_io, s) < 0) {
			session_free(s);
			continue;
		}
		con.sess[con.nb_sess++] = s;
		SP_LOG(console, DEBUG, "%s opened", s->who.name);
	}
}

static void
on_tick(uint64_t now, void *arg)
{
	unsigned int i;

	(void)arg;
	/* Backwards: session_free() moves the last session into the freed slot. */
	for (i = con.nb_sess; i-- > 0;) {
		struct session *s = con.sess[i];
		uint64_t limit = s->state == S_INTERACTIVE ? IDLE_TIMEOUT_MS : EXEC_TIMEOUT_MS;

		if (out_pending(s) > 0 && now - s->last_out_ms > STALL_MS) {
			SP_LOG(console, WARNING, "%s dropped: client does not read", s->who.name);
			s->dead = true;
		} else if (s->state != S_DRAIN && now - s->last_in_ms > limit) {
			SP_LOG(console, INFO, "%s timed out", s->who.name);
			if (s->state == S_INTERACTIVE) {
				out_add(s, "\r\nidle timeout, closing\r\n", 25);
				s->closing = true;
			} else {
				exec_refuse(s, CONSOLE_BAD, "error: timed out waiting for the "
					    "command\n");
			}
		}
		session_settle(s);
	}
}

/* ---- the socket ---- */

static int
mkdir_parents(const char *path)
{
	char dir[sizeof(con.path)];
	char *p, *slash;

	strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	/* Each missing component, shortest first: "/run", then "/run/sallyport". */
	for (p = dir + 1; p <= slash; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
	}
	return 0;
}

/* A socket file at path: refuse if a daemon answers there, else remove it. */
static int
clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		SP_LOG(console, ERR, "%s exists and is not a socket", sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (rc == 0) {
		close(fd);
		SP_LOG(console, ERR, "%s: another daemon is listening there", sa->sun_path);
		return -EADDRINUSE;
	}
	rc = errno;
	close(fd);
	if (rc != ECONNREFUSED)
		return -rc;
	SP_LOG(console, INFO, "removing stale socket %s", sa->sun_path);
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	rc = mkdir_parents(path);
	if (rc < 0) {
		SP_LOG(console, ERR, "cannot create the directory of %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = clear_stale(&sa);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* No moment where the socket exists with a wider mode. */
	old_mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, MAX_SESSIONS) < 0) {
		rc = -errno;
		SP_LOG(console, ERR, "cannot listen on %s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}

/* ---- start and stop ---- */

static int
stdin_open(void)
{
	bool tty = isatty(STDIN_FILENO);
	struct session *s = session_new(STDIN_FILENO, true);
	int rc;

	if (s == NULL)
		return -ENOMEM;
	strlcpy(s->who.name, "stdin", sizeof(s->who.name));
	s->who.access = SP_ACCESS_ADMIN;
	s->state = S_LINES;
	s->events = EPOLLIN;
	rc = sp_ctl_add_fd(con.ctl, STDIN_FILENO, EPOLLIN, session_io, s);
	if (rc < 0) {
		/* epoll refuses regular files and /dev/null: no console, not an error. */
		SP_LOG(console, WARNING, "no console on stdin: %s", strerror(-rc));
		cmdline_free(s->cl);
		free(s);
		return 0;
	}
	con.in = s;
	if (tty) {
		terminal_raw();
		if (interactive_start(s) < 0) {
			session_free(s);
			return -ENOMEM;
		}
		flush(s);
	}
	return 0;
}

int
sp_console_init(struct sp_ctl *ctl, const char *socket_path, bool on_stdin,
		void (*quit_cb)(void *arg), void *quit_arg)
{
	int rc;

	if (ctl == NULL)
		return -EINVAL;
	if (con.active)
		return -EALREADY;
	rc = console_registry_build();
	if (rc < 0)
		return rc;
	con.ctl = ctl;
	con.quit_cb = quit_cb;
	con.quit_arg = quit_arg;
	if (socket_path != NULL && socket_path[0] != '\0') {
		rc = listen_on(socket_path);
		if (rc < 0)
			goto fail_registry;
		con.lfd = rc;
		strlcpy(con.path, socket_path, sizeof(con.path));
		rc = sp_ctl_add_fd(ctl, con.lfd, EPOLLIN, on_accept, NULL);
		if (rc < 0)
			goto fail_socket;
	}
	rc = sp_ctl_add_timer(ctl, 1000, on_tick, NULL);
	if (rc < 0)
		goto fail_fd;
	con.timer = rc;
	if (con.lfd >= 0)
		SP_LOG(console, INFO, "console listening on %s", con.path);
	if (on_stdin) {
		rc = stdin_open();
		if (rc < 0)
			goto fail_timer;
	}
	con.active = true;
	return 0;

fail_timer:
	sp_ctl_del_timer(ctl, con.timer);
	con.timer = -1;
fail_fd:
	if (con.lfd >= 0)
		sp_ctl_del_fd(ctl, con.lfd);
fail_socket:
	if (con.lfd >= 0) {
		close(con.lfd);
		unlink(con.path);
		con.lfd = -1;
	}
fail_registry:
	console_registry_free();
	return rc;
}

void
sp_console_fini(void)
{
	if (!con.active)
		return;
	while (con.nb_sess > 0) {
		flush(con.sess[0]);
		session_free(con.sess[0]);
	}
	if (con.in != NULL) {
		flush(con.in);
		if (con.in->state == S_INTERACTIVE)
			dprintf(STDOUT_FILENO, "\n");
		session_free(con.in);
	}
	if (con.lfd >= 0) {
		sp_ctl_del_fd(con.ctl, con.lfd);
		close(con.lfd);
		unlink(con.path);
		con.lfd = -1;
	}
	sp_ctl_del_timer(con.ctl, con.timer);
	con.timer = -1;
	console_registry_free();
	terminal_restore();
	con.active = false;
}
