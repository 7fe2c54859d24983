/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spctl: the operator's client for sallyport's console socket. Plain libc, no DPDK.
 *
 * Protocol (see lib/console/sp_console.h): send "SPCTL/1 exec\n<command>\n", read the output
 * up to a NUL byte, then "<status>\n"; or send "SPCTL/1 interactive\n" and relay a terminal.
 */

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ca.h"
#include "sp_version.h"

#define DEFAULT_SOCKET "/run/sallyport/sallyport.sock"
#define DEFAULT_TIMEOUT_S 30.0

/* Exit codes: the server's statuses, then ours. */
enum {
	EXIT_OK = 0,        /* the command succeeded */
	EXIT_FAILED = 1,    /* the command ran and failed */
	EXIT_BAD = 2,       /* the command (or spctl's own usage) is wrong */
	EXIT_CONNECT = 3,   /* no connection: no daemon, no permission, or it is busy */
	EXIT_PROTOCOL = 4,  /* the server's answer is malformed or did not come in time */
};

static const char *sock_path;
static double timeout_s = DEFAULT_TIMEOUT_S;

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: spctl [-s SOCKET] [--json] [--timeout SEC] [COMMAND WORDS...]\n"
		"\n"
		"Runs one sallyport console command and prints its output, or, without a command,\n"
		"opens an interactive console (line editing, history, Tab completion, '?' for\n"
		"help). When stdin is not a terminal, each line read from it is run as a command.\n"
		"\n"
		"Options:\n"
		"  -s, --socket SOCKET  console socket (default: $SALLYPORT_SOCKET, else\n"
		"                       " DEFAULT_SOCKET ")\n"
		"  -j, --json           ask for JSON output (appends --json to each command)\n"
		"  -t, --timeout SEC    give up when no answer comes within SEC seconds\n"
		"                       (default %.0f, 0: wait forever)\n"
		"  -h, --help           this help\n"
		"  -V, --version        print the version\n"
		"\n"
		"Exit status:\n"
		"  0  the command succeeded\n"
		"  1  the command failed (its error is printed)\n"
		"  2  bad command or arguments (also bad spctl usage)\n"
		"  3  cannot connect: daemon not running, no permission, or too many sessions\n"
		"  4  protocol error or timeout\n"
		"With commands read from stdin, the exit status is the worst of them.\n"
		"\n"
		"Examples:\n"
		"  spctl help\n"
		"  spctl show ports --json\n"
		"  spctl route add 10.2.0.0/16 via 192.0.2.1\n"
		"\n"
		"spctl ca COMMAND ... runs the internal certificate authority on files (no daemon\n"
		"needed): see spctl ca --help.\n",
		DEFAULT_TIMEOUT_S);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
connect_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *hint = "";
	int fd, err;

	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "spctl: socket path too long: %s\n", sock_path);
		return -1;
	}
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	err = errno;
	if (fd >= 0)
		close(fd);
	if (err == ENOENT || err == ECONNREFUSED)
		hint = " (is sallyport running with this console socket? see -s)";
	else if (err == EACCES || err == EPERM)
		hint = " (the socket is mode 0600: run as root or as the daemon's user)";
	fprintf(stderr, "spctl: cannot connect to %s: %s%s\n", sock_path, strerror(err), hint);
	return -1;
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		p += r;
		n -= (size_t)r;
	}
}

/*
 * The status after the NUL: digits then "\n". @return it, or EXIT_PROTOCOL (with a message).
 */
static int
parse_status(const char *s, size_t len)
{
	char *end;
	long v;

	if (len < 2 || s[len - 1] != '\n' || s[0] < '0' || s[0] > '9')
		goto bad;
	v = strtol(s, &end, 10);
	if (end != s + len - 1 || v < EXIT_OK || v > EXIT_CONNECT)
		goto bad;
	return (int)v;
bad:
	fprintf(stderr, "spctl: protocol error: bad status from %s\n", sock_path);
	return EXIT_PROTOCOL;
}

/*
 * Relay the server's output to stdout until the NUL, then read the status until EOF.
 * @return the status, or EXIT_PROTOCOL.
 */
static int
read_reply(int fd)
{
	uint64_t deadline = timeout_s > 0 ? now_ms() + (uint64_t)(timeout_s * 1000) : 0;
	char buf[65536], status[16];
	size_t slen = 0;
	bool in_status = false;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait = -1, rc;
		ssize_t n;
		char *nul;

		if (deadline) {
			uint64_t now = now_ms();

			wait = now >= deadline ? 0 : (int)(deadline - now);
		}
		rc = poll(&pfd, 1, wait);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0) {
			fprintf(stderr, "spctl: no answer from %s within %g s\n", sock_path,
				timeout_s);
			return EXIT_PROTOCOL;
		}
		n = rc < 0 ? -1 : recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "spctl: reading from %s: %s\n", sock_path, strerror(errno));
			return EXIT_PROTOCOL;
		}
		if (n == 0)
			break;
		if (!in_status) {
			nul = memchr(buf, '\0', (size_t)n);
			write_all(STDOUT_FILENO, buf, nul ? (size_t)(nul - buf) : (size_t)n);
			if (nul == NULL)
				continue;
			in_status = true;
			n -= nul + 1 - buf;
			memmove(buf, nul + 1, (size_t)n);
		}
		if (slen + (size_t)n >= sizeof(status)) {
			fprintf(stderr, "spctl: protocol error: bad status from %s\n", sock_path);
			return EXIT_PROTOCOL;
		}
		memcpy(status + slen, buf, (size_t)n);
		slen += (size_t)n;
	}
	if (!in_status) {
		fprintf(stderr, "spctl: protocol error: %s closed the connection without a "
			"status\n", sock_path);
		return EXIT_PROTOCOL;
	}
	return parse_status(status, slen);
}

/* Run one command line. @return its exit status. */
static int
exec_one(const char *line, bool json)
{
	char *req;
	int fd, n, status;

	if (strchr(line, '\n') != NULL || strchr(line, '\r') != NULL) {
		fprintf(stderr, "spctl: a command cannot contain a line break\n");
		return EXIT_BAD;
	}
	fd = connect_socket();
	if (fd < 0)
		return EXIT_CONNECT;
	n = asprintf(&req, "SPCTL/1 exec\n%s%s\n", line, json ? " --json" : "");
	if (n < 0) {
		close(fd);
		fprintf(stderr, "spctl: out of memory\n");
		return EXIT_PROTOCOL;
	}
	if (send_all(fd, req, (size_t)n) < 0) {
		/* The server may have refused at once (busy): its answer is still readable. */
		shutdown(fd, SHUT_WR);
	}
	free(req);
	status = read_reply(fd);
	close(fd);
	return status;
}

/* stdin is not a terminal: one command per line, one connection each. */
static int
exec_lines(bool json)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int worst = EXIT_OK;

	while ((len = getline(&line, &cap, stdin)) >= 0) {
		const char *p = line;
		int status;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		p += strspn(p, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		fflush(stdout);
		status = exec_one(p, json);
		if (status > worst)
			worst = status;
	}
	free(line);
	return worst;
}

/* ---- interactive, on a terminal ---- */

static struct termios saved_term;
static bool term_raw;

static void
term_restore(void)
{
	if (term_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_term);
	term_raw = false;
}

static void
on_signal(int sig)
{
	/* tcsetattr() is async-signal-safe; then die of the same signal. */
	if (term_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_term);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
term_make_raw(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = on_signal };
	struct termios t;
	unsigned int i;

	if (tcgetattr(STDIN_FILENO, &saved_term) < 0)
		return -1;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	atexit(term_restore);
	t = saved_term;
	/* Every key goes to the server's line editor: Ctrl-C clears the line there, Ctrl-D on
	 * an empty line ends the session. The server sends "\r\n" line ends. */
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0)
		return -1;
	term_raw = true;
	return 0;
}

static int
interactive(void)
{
	static const char hello[] = "SPCTL/1 interactive\n";
	bool stdin_open = true;
	char buf[4096];
	int fd = connect_socket();

	if (fd < 0)
		return EXIT_CONNECT;
	if (send_all(fd, hello, sizeof(hello) - 1) < 0) {
		fprintf(stderr, "spctl: %s: %s\n", sock_path, strerror(errno));
		close(fd);
		return EXIT_PROTOCOL;
	}
	if (term_make_raw() < 0) {
		fprintf(stderr, "spctl: cannot set the terminal to raw mode: %s\n",
			strerror(errno));
		close(fd);
		return EXIT_PROTOCOL;
	}
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents) {
			char *nul;

			n = recv(fd, buf, sizeof(buf), 0);
			if (n <= 0)
				break;  /* the server ended the session */
			nul = memchr(buf, '\0', (size_t)n);
			write_all(STDOUT_FILENO, buf, nul ? (size_t)(nul - buf) : (size_t)n);
			if (nul != NULL) {
				/* Only a refusal (too many sessions) carries a status here. */
				int status = parse_status(nul + 1, (size_t)(n - (nul + 1 - buf)));

				term_restore();
				close(fd);
				return status;
			}
		}
		if (pfd[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				stdin_open = false;
				shutdown(fd, SHUT_WR);
			} else if (send_all(fd, buf, (size_t)n) < 0) {
				break;
			}
		}
	}
	term_restore();
	write_all(STDOUT_FILENO, "\n", 1);
	close(fd);
	return EXIT_OK;
}

/* ---- main ---- */

static char *
join_words(int argc, char **argv)
{
	size_t len = 1;
	char *line;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	line = malloc(len);
	if (line == NULL)
		return NULL;
	line[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strcat(line, " ");
		strcat(line, argv[i]);
	}
	return line;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	char *end, *line;
	int c, status;

	/* The CA commands work on files, not on the daemon: they never touch the socket. */
	if (argc > 1 && strcmp(argv[1], "ca") == 0)
		return ca_main(argc - 1, argv + 1);
	sock_path = getenv("SALLYPORT_SOCKET");
	if (sock_path == NULL || sock_path[0] == '\0')
		sock_path = DEFAULT_SOCKET;
	/* '+': options end at the first command word ("spctl route add ..."). */
	while ((c = getopt_long(argc, argv, "+s:jt:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 't':
			errno = 0;
			timeout_s = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || timeout_s < 0 ||
			    timeout_s > 86400) {
				fprintf(stderr, "spctl: bad timeout '%s' (seconds, 0 to 86400)\n",
					optarg);
				return EXIT_BAD;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("spctl (sallyport) %s\n", SP_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_BAD;
		}
	}
	if (optind < argc && strcmp(argv[optind], "ca") == 0)
		return ca_main(argc - optind, argv + optind);  /* "spctl -s S ca ...": same thing */
	if (optind < argc) {
		line = join_words(argc - optind, argv + optind);
		if (line == NULL) {
			fprintf(stderr, "spctl: out of memory\n");
			return EXIT_PROTOCOL;
		}
		status = exec_one(line, json);
		free(line);
		return status;
	}
	if (isatty(STDIN_FILENO)) {
		if (json)
			fprintf(stderr, "spctl: --json applies to commands; type them with --json "
				"in the interactive console\n");
		return interactive();
	}
	return exec_lines(json);
}
