/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console: the JSON writer (exact bytes through a pipe), the --json token, and the whole
 * server over a real UNIX socket in a temporary directory: exec sessions (ok, failed, unknown,
 * bad arguments, overlong, large output), an interactive session (echo, completion, help,
 * quit), the session limit, the socket's mode, stale and live sockets, and the stdin console.
 * A client thread plays spctl while the main thread runs the event loop.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cmdline_parse_num.h>
#include <rte_log.h>

#include "sp_console.h"
#include "sp_ctl.h"
#include "test_common.h"

/* ---- test commands ---- */

struct echo_res {
	cmdline_fixed_string_t test;
	cmdline_fixed_string_t echo;
	cmdline_fixed_string_t word;
	uint8_t json;
};

static void
echo_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct echo_res *r = parsed;
	struct sp_json j;

	(void)data;
	if (!r->json) {
		cmdline_printf(cl, "echo: %s\n", r->word);
		return;
	}
	sp_json_begin(&j, cl);
	sp_json_obj_open(&j, NULL);
	sp_json_str(&j, "word", r->word);
	sp_json_obj_close(&j);
	sp_json_end(&j);
}

static cmdline_parse_token_string_t tok_test =
	TOKEN_STRING_INITIALIZER(struct echo_res, test, "test");
static cmdline_parse_token_string_t tok_echo =
	TOKEN_STRING_INITIALIZER(struct echo_res, echo, "echo");
static cmdline_parse_token_string_t tok_word =
	TOKEN_STRING_INITIALIZER(struct echo_res, word, NULL);
static struct sp_token_json tok_echo_json = SP_TOKEN_JSON_INITIALIZER(struct echo_res, json);

static cmdline_parse_inst_t cmd_echo = {
	.f = echo_parsed,
	.help_str = "test echo WORD [--json]: print WORD",
	.tokens = { &tok_test.hdr, &tok_echo.hdr, &tok_word.hdr, &tok_echo_json.hdr, NULL },
};
SP_CONSOLE_CMD(cmd_echo, SP_ACCESS_READ);

struct fail_res {
	cmdline_fixed_string_t test;
	cmdline_fixed_string_t fail;
};

static void
fail_parsed(void *parsed, struct cmdline *cl, void *data)
{
	(void)parsed;
	(void)data;
	sp_console_error(cl, "it failed on %s", "purpose");
}

static cmdline_parse_token_string_t tok_fail_test =
	TOKEN_STRING_INITIALIZER(struct fail_res, test, "test");
static cmdline_parse_token_string_t tok_fail =
	TOKEN_STRING_INITIALIZER(struct fail_res, fail, "fail");

static cmdline_parse_inst_t cmd_fail = {
	.f = fail_parsed,
	.help_str = "test fail: always fails",
	.tokens = { &tok_fail_test.hdr, &tok_fail.hdr, NULL },
};
SP_CONSOLE_CMD(cmd_fail, SP_ACCESS_READ);

struct admin_res {
	cmdline_fixed_string_t test;
	cmdline_fixed_string_t admin;
};

static void
admin_parsed(void *parsed, struct cmdline *cl, void *data)
{
	(void)parsed;
	(void)data;
	cmdline_printf(cl, "done%s\n", sp_console_json(cl) ? " (json)" : "");
}

static cmdline_parse_token_string_t tok_admin_test =
	TOKEN_STRING_INITIALIZER(struct admin_res, test, "test");
static cmdline_parse_token_string_t tok_admin =
	TOKEN_STRING_INITIALIZER(struct admin_res, admin, "admin");

static cmdline_parse_inst_t cmd_admin = {
	.f = admin_parsed,
	.help_str = "test admin: an admin command",
	.tokens = { &tok_admin_test.hdr, &tok_admin.hdr, NULL },
};
SP_CONSOLE_CMD(cmd_admin, SP_ACCESS_ADMIN);

struct big_res {
	cmdline_fixed_string_t test;
	cmdline_fixed_string_t big;
	uint32_t count;
};

static void
big_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct big_res *r = parsed;
	uint32_t i;

	(void)data;
	for (i = 0; i < r->count; i++)
		cmdline_printf(cl, "line %06u\n", i);
}

static cmdline_parse_token_string_t tok_big_test =
	TOKEN_STRING_INITIALIZER(struct big_res, test, "test");
static cmdline_parse_token_string_t tok_big =
	TOKEN_STRING_INITIALIZER(struct big_res, big, "big");
static cmdline_parse_token_num_t tok_big_count =
	TOKEN_NUM_INITIALIZER(struct big_res, count, RTE_UINT32);

static cmdline_parse_inst_t cmd_big = {
	.f = big_parsed,
	.help_str = "test big COUNT: print COUNT lines",
	.tokens = { &tok_big_test.hdr, &tok_big.hdr, &tok_big_count.hdr, NULL },
};
SP_CONSOLE_CMD(cmd_big, SP_ACCESS_READ);

/* ---- the JSON writer, through a pipe ---- */

static cmdline_parse_ctx_t empty_ctx[] = { NULL };

/* A cmdline writing into a pipe; read back with pipe_take(). */
static struct cmdline *
pipe_cl(int p[2])
{
	CU_ASSERT_FATAL(pipe(p) == 0);
	return cmdline_new(empty_ctx, "", -1, p[1]);
}

/* Everything written so far (cmdline_free() closed the write end). */
static char *
pipe_take(int rfd)
{
	static char buf[65536];
	size_t n = 0;
	ssize_t r;

	while ((r = read(rfd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(rfd);
	return buf;
}

static const struct {
	const char *in;
	const char *out;
} escapes[] = {
	{ "plain", "\"plain\"\n" },
	{ "", "\"\"\n" },
	{ "a\"b\\c/d", "\"a\\\"b\\\\c/d\"\n" },
	{ "\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"\n" },
	{ "\x01\x1f x\x7f", "\"\\u0001\\u001f x\x7f\"\n" },
	{ "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x94\x91",
	  "\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x94\x91\"\n" },
};

static void
test_json_escape(void)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(escapes); i++) {
		int p[2];
		struct cmdline *cl = pipe_cl(p);
		struct sp_json j;

		sp_json_begin(&j, cl);
		sp_json_str(&j, "ignored at top level", escapes[i].in);
		sp_json_end(&j);
		cmdline_free(cl);
		CU_ASSERT_STRING_EQUAL(pipe_take(p[0]), escapes[i].out);
	}
}

/* A string longer than the writer's chunk, with escapes across chunk boundaries. */
static void
test_json_long_string(void)
{
	char in[3001], expect[6100];
	size_t i, n = 0;
	int p[2];
	struct cmdline *cl = pipe_cl(p);
	struct sp_json j;

	expect[n++] = '"';
	for (i = 0; i < 3000; i++) {
		in[i] = i % 7 == 0 ? '"' : (i % 11 == 0 ? '\x02' : 'a' + (char)(i % 26));
		if (in[i] == '"') {
			expect[n++] = '\\';
			expect[n++] = '"';
		} else if (in[i] == '\x02') {
			memcpy(expect + n, "\\u0002", 6);
			n += 6;
		} else {
			expect[n++] = in[i];
		}
	}
	in[3000] = '\0';
	memcpy(expect + n, "\"\n", 3);
	sp_json_begin(&j, cl);
	sp_json_str(&j, NULL, in);
	sp_json_end(&j);
	cmdline_free(cl);
	CU_ASSERT_STRING_EQUAL(pipe_take(p[0]), expect);
}

static void
test_json_nesting(void)
{
	int p[2];
	struct cmdline *cl = pipe_cl(p);
	struct sp_json j;

	sp_json_begin(&j, cl);
	sp_json_obj_open(&j, NULL);
	sp_json_u64(&j, "a", 1);
	sp_json_arr_open(&j, "b");
	sp_json_u64(&j, NULL, 1);
	sp_json_i64(&j, NULL, -2);
	sp_json_obj_open(&j, NULL);
	sp_json_str(&j, "c", "x");
	sp_json_obj_close(&j);
	sp_json_arr_open(&j, NULL);
	sp_json_arr_close(&j);
	sp_json_arr_close(&j);
	sp_json_obj_open(&j, "d");
	sp_json_obj_close(&j);
	sp_json_bool(&j, "e", true);
	sp_json_bool(&j, "f", false);
	sp_json_str(&j, "g", NULL);
	sp_json_u64(&j, "max", UINT64_MAX);
	sp_json_i64(&j, "min", INT64_MIN);
	sp_json_double(&j, "half", 1.5);
	sp_json_double(&j, "tenth", 0.1);
	sp_json_double(&j, "third", 1.0 / 3);
	sp_json_double(&j, "big", 1e300);
	sp_json_double(&j, "nan", 0.0 / 0.0);
	sp_json_double(&j, "inf", 1.0 / 0.0);
	sp_json_str(&j, "k\"ey", "v");
	sp_json_obj_close(&j);
	sp_json_end(&j);
	/* A second document on the same writer starts clean. */
	sp_json_begin(&j, cl);
	sp_json_arr_open(&j, NULL);
	sp_json_u64(&j, NULL, 7);
	sp_json_arr_close(&j);
	sp_json_end(&j);
	cmdline_free(cl);
	CU_ASSERT_STRING_EQUAL(pipe_take(p[0]),
		"{\"a\":1,\"b\":[1,-2,{\"c\":\"x\"},[]],\"d\":{},\"e\":true,\"f\":false,\"g\":null,"
		"\"max\":18446744073709551615,\"min\":-9223372036854775808,\"half\":1.5,"
		"\"tenth\":0.1,\"third\":0.33333333333333331,\"big\":1e+300,\"nan\":null,"
		"\"inf\":null,\"k\\\"ey\":\"v\"}\n"
		"[7]\n");
}

/* ---- the --json token ---- */

static void
test_json_token(void)
{
	static const struct {
		const char *buf;
		int consumed;
		uint8_t flag;
	} cases[] = {
		{ "--json", 6, 1 },
		{ "--json\n", 6, 1 },
		{ "--json # comment", 6, 1 },
		{ "--json x", 6, 1 },
		{ "--jsonx", 0, 0 },
		{ "--jso", 0, 0 },
		{ "json", 0, 0 },
		{ "foo --json", 0, 0 },
		{ "", 0, 0 },
	};
	struct sp_token_json tok = { .hdr = { .ops = &sp_token_json_ops } };
	char buf[64];
	unsigned int i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		uint8_t flag = 0xff;

		CU_ASSERT_EQUAL(tok.hdr.ops->parse(&tok.hdr, cases[i].buf, &flag, 1),
				cases[i].consumed);
		CU_ASSERT_EQUAL(flag, cases[i].flag);
		CU_ASSERT_EQUAL(tok.hdr.ops->parse(&tok.hdr, cases[i].buf, NULL, 0),
				cases[i].consumed);
	}
	CU_ASSERT_EQUAL(tok.hdr.ops->complete_get_nb(&tok.hdr), 1);
	CU_ASSERT_EQUAL(tok.hdr.ops->complete_get_elt(&tok.hdr, 0, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "--json");
	CU_ASSERT(tok.hdr.ops->complete_get_elt(&tok.hdr, 1, buf, sizeof(buf)) < 0);
	CU_ASSERT_EQUAL(tok.hdr.ops->get_help(&tok.hdr, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "[--json]");
}

/*
 * Why the console strips "--json" itself: DPDK 22.11's parser never calls a last token at the
 * end of the line, so an instance ending with a zero-width token needs the word. If a DPDK
 * update changes this, this test says so and the workaround can go.
 */
static unsigned int zz_calls;
static uint8_t zz_json;

static void
zz_parsed(void *parsed, struct cmdline *cl, void *data)
{
	(void)cl;
	(void)data;
	zz_calls++;
	zz_json = ((struct echo_res *)parsed)->json;
}

static cmdline_parse_token_string_t tok_zz = TOKEN_STRING_INITIALIZER(struct echo_res, test, "zz");
static cmdline_parse_inst_t cmd_zz = {
	.f = zz_parsed,
	.tokens = { &tok_zz.hdr, &tok_echo_json.hdr, NULL },
};

static void
test_dpdk_trailing_token(void)
{
	cmdline_parse_ctx_t ctx[] = { &cmd_zz, NULL };
	struct cmdline *cl = cmdline_new(ctx, "", -1, -1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
	CU_ASSERT_EQUAL(cmdline_parse(cl, "zz\n"), CMDLINE_PARSE_BAD_ARGS);
	CU_ASSERT_EQUAL(zz_calls, 0);
	CU_ASSERT(cmdline_parse(cl, "zz --json\n") > 0);
	CU_ASSERT_EQUAL(zz_calls, 1);
	CU_ASSERT_EQUAL(zz_json, 1);
	cmdline_free(cl);
}

/* ---- the socket server ---- */

static char tmpdir[64];
static char sock_path[100];

static int
client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Read until EOF (or marker, after offset `from`) with a 10 s limit per read. */
static size_t
read_until(int fd, char **buf, size_t *cap, size_t len, size_t from, const char *marker)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (marker != NULL && len > from && memmem(*buf + from, len - from, marker,
							   strlen(marker)) != NULL)
			return len;
		if (len + 4096 + 1 > *cap) {
			*cap = (*cap + 4096) * 2;
			*buf = realloc(*buf, *cap);
		}
		if (poll(&pfd, 1, 10000) <= 0)
			return len;
		r = recv(fd, *buf + len, 4096, 0);
		if (r <= 0)
			return len;
		len += (size_t)r;
		(*buf)[len] = '\0';
	}
}

struct exec_result {
	char *out;      /* output before the NUL */
	size_t len;
	int status;     /* after the NUL, or -1 on a protocol error */
};

static void
exec_raw(const char *request, size_t reqlen, struct exec_result *res)
{
	int fd = client_connect(sock_path);
	size_t cap = 0, len;
	char *buf = NULL, *nul;

	res->status = -1;
	res->out = strdup("");
	res->len = 0;
	if (fd < 0 || send_all(fd, request, reqlen) < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	len = read_until(fd, &buf, &cap, 0, 0, NULL);
	close(fd);
	if (buf == NULL)
		return;
	nul = memchr(buf, '\0', len);
	if (nul != NULL && len >= 3 && buf[len - 1] == '\n') {
		free(res->out);
		res->len = (size_t)(nul - buf);
		*nul = '\0';
		res->out = strdup(buf);
		res->status = atoi(nul + 1);
		free(buf);
		return;
	}
	free(buf);
}

static void
exec_line(const char *line, struct exec_result *res)
{
	char *req;
	int n = asprintf(&req, "SPCTL/1 exec\n%s\n", line);

	CU_ASSERT_FATAL(n > 0);
	exec_raw(req, (size_t)n, res);
	free(req);
}

static const struct exec_case {
	const char *line;
	int status;
	const char *out; /* exact output; NULL: see contains */
	const char *contains;
} exec_cases[] = {
	{ "test echo hello", 0, "echo: hello\n", NULL },
	{ "  test\techo   hello  ", 0, "echo: hello\n", NULL },
	{ "test echo hello --json", 0, "{\"word\":\"hello\"}\n", NULL },
	{ "test echo hello --json  # comment", 0, "{\"word\":\"hello\"}\n", NULL },
	{ "test echo hello --json --json", 0, "{\"word\":\"hello\"}\n", NULL },
	{ "test echo --jsonx", 0, "echo: --jsonx\n", NULL },
	{ "test echo --json", 2, "error: bad arguments for 'test echo'\n"
				 "usage: test echo WORD [--json]\n", NULL },
	{ "test fail", 1, "error: it failed on purpose\n", NULL },
	{ "test fail --json", 1, "error: it failed on purpose\n", NULL },
	{ "xyz", 2, "error: unknown command 'xyz' (try 'help')\n", NULL },
	{ "xyz abc --json", 2, "error: unknown command 'xyz' (try 'help')\n", NULL },
	{ "test echo", 2, "error: bad arguments for 'test echo'\n"
			  "usage: test echo WORD [--json]\n", NULL },
	{ "test echo a b", 2, "error: bad arguments for 'test echo'\n"
			      "usage: test echo WORD [--json]\n", NULL },
	{ "test big x", 2, "error: bad arguments for 'test big'\nusage: test big COUNT\n", NULL },
	{ "test", 2, "error: bad arguments for 'test'\nusage: test admin\nusage: test big COUNT\n"
		     "usage: test echo WORD [--json]\nusage: test fail\n", NULL },
	{ "", 0, "", NULL },
	{ "   # only a comment", 0, "", NULL },
	{ "test admin", 0, "done\n", NULL },
	{ "test admin --json", 0, "done (json)\n", NULL },
	{ "test big 3", 0, "line 000000\nline 000001\nline 000002\n", NULL },
	{ "help nosuch", 1, "error: no command starts with 'nosuch'\n", NULL },
	{ "help test --json", 0,
	  "{\"commands\":[{\"syntax\":\"test admin\",\"description\":\"an admin command\","
	  "\"access\":\"admin\"},{\"syntax\":\"test big COUNT\",\"description\":\"print COUNT "
	  "lines\",\"access\":\"read\"},{\"syntax\":\"test echo WORD [--json]\",\"description\":"
	  "\"print WORD\",\"access\":\"read\"},{\"syntax\":\"test fail\",\"description\":"
	  "\"always fails\",\"access\":\"read\"}]}\n", NULL },
	{ "help test", 0,
	  "Commands (every one accepts a trailing --json; [admin] commands change state and "
	  "are audited):\n"
	  "  test admin               [admin] an admin command\n"
	  "  test big COUNT           print COUNT lines\n"
	  "  test echo WORD [--json]  print WORD\n"
	  "  test fail                always fails\n", NULL },
	{ "help", 0, NULL, "  log level PATTERN LEVEL [--json]  [admin] set the level" },
	{ "help", 0, NULL, "  show log [--json]                 the level of every sp.* log" },
	{ "log level sp.nosuch debug", 1,
	  "error: no log type matches 'sp.nosuch' (see 'show log')\n", NULL },
	{ "log level sp.console loud", 1, "error: bad level 'loud' (emerg, alert, crit, error, "
	  "warning, notice, info or debug)\n", NULL },
	{ "log level sp.console", 2, "error: bad arguments for 'log level'\n"
				     "usage: log level PATTERN LEVEL [--json]\n", NULL },
	{ "log level sp.console info", 0, "sp.console: level info (1 log type)\n", NULL },
	{ "log level sp.console info --json", 0,
	  "{\"pattern\":\"sp.console\",\"level\":\"info\",\"matched\":1}\n", NULL },
	{ "show log --json", 0, NULL, "{\"name\":\"sp.console\",\"level\":\"info\"}" },
	{ "show log", 0, NULL, "\nsp.console           info\n" },
	{ "quit", 0, "", NULL },
};

#define BIG_LINES 25000
#define ILOG_MAX 8192

struct client {
	struct sp_ctl *ctl;
	struct exec_result res[RTE_DIM(exec_cases)];
	struct exec_result overlong, exact_max, greeting, no_newline, big;
	char *ilog;                /* interactive transcript */
	size_t ilog_len;
	int iclosed;               /* the server closed the interactive session on quit */
	struct exec_result busy;   /* the 17th session */
	uint64_t bad_before, bad_after;
};

static void
client_interactive(struct client *c)
{
	static const char *const steps[][2] = {
		/* what to type, what to wait for after it */
		{ "", "sallyport> " },
		{ "test echo hi\r", "sallyport> " },
		{ "xyz\r", "sallyport> " },
		{ "test ec\t", "ho " },
		{ "hi2\r", "sallyport> " },
		{ "show log ?", "[RETURN]" },
		{ "\r", "sallyport> " },
		{ "test big 2000\r", "line 001999\r\nsallyport> " },
	};
	size_t cap = 0, len = 0, i;
	char *buf = NULL;
	int fd = client_connect(sock_path);

	if (fd < 0 || send_all(fd, "SPCTL/1 interactive\n", 20) < 0)
		return;
	for (i = 0; i < RTE_DIM(steps); i++) {
		size_t from = len;

		if (send_all(fd, steps[i][0], strlen(steps[i][0])) < 0)
			break;
		len = read_until(fd, &buf, &cap, len, from, steps[i][1]);
	}
	send_all(fd, "quit\r", 5);
	i = len;
	len = read_until(fd, &buf, &cap, len, len, NULL);
	c->iclosed = recv(fd, &i, 1, MSG_DONTWAIT) == 0;
	close(fd);
	c->ilog = buf;
	c->ilog_len = len;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	char *line, *req;
	int fds[16], n;
	unsigned int i;

	c->bad_before = sp_console_bad_commands();
	for (i = 0; i < RTE_DIM(exec_cases); i++)
		exec_line(exec_cases[i].line, &c->res[i]);

	/* 4096 bytes are accepted, 4097 refused (blanks: a word is at most 127 bytes). */
	line = malloc(5000);
	memset(line, ' ', 5000);
	memcpy(line, "test echo", 9);
	memcpy(line + 4093, "abc", 4);
	exec_line(line, &c->exact_max);
	memcpy(line + 4093, " abc", 5);
	exec_line(line, &c->overlong);
	free(line);

	exec_raw("HELLO\ntest echo x\n", 18, &c->greeting);
	/* A client that half-closes after a line without newline. */
	{
		int fd = client_connect(sock_path);
		size_t cap = 0, len;
		char *buf = NULL;

		send_all(fd, "SPCTL/1 exec\ntest echo last", 27);
		shutdown(fd, SHUT_WR);
		len = read_until(fd, &buf, &cap, 0, 0, NULL);
		c->no_newline.out = buf;
		c->no_newline.len = len;
		close(fd);
	}
	n = asprintf(&req, "SPCTL/1 exec\ntest big %d\n", BIG_LINES);
	exec_raw(req, (size_t)n, &c->big);
	free(req);

	client_interactive(c);
	c->bad_after = sp_console_bad_commands();

	/* 16 sessions that say nothing, then one too many: the server accepts in order, so
	 * the 17th comes after the 16 whatever the timing. */
	for (i = 0; i < 16; i++)
		fds[i] = client_connect(sock_path);
	exec_line("test echo busy", &c->busy);
	for (i = 0; i < 16; i++)
		if (fds[i] >= 0)
			close(fds[i]);

	sp_ctl_stop(c->ctl);
	return NULL;
}

static void
test_server(void)
{
	struct sp_ctl *ctl = sp_ctl_create();
	struct client c = { .ctl = ctl };
	pthread_t th;
	struct stat st;
	char dir[160], *log = NULL, *p;
	size_t log_size = 0;
	FILE *logf = open_memstream(&log, &log_size);
	unsigned int i, lines = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl);
	snprintf(sock_path, sizeof(sock_path), "%s/run/sallyport/sallyport.sock", tmpdir);
	/* The audit line is an INFO log: capture it. */
	rte_openlog_stream(logf);
	rte_log_set_level_pattern("sp.console", RTE_LOG_INFO);

	CU_ASSERT_EQUAL_FATAL(sp_console_init(ctl, sock_path, false, NULL, NULL), 0);
	CU_ASSERT_EQUAL(sp_console_init(ctl, sock_path, false, NULL, NULL), -EALREADY);
	CU_ASSERT_EQUAL(stat(sock_path, &st), 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	snprintf(dir, sizeof(dir), "%s/run/sallyport", tmpdir);
	CU_ASSERT_EQUAL(stat(dir, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);

	CU_ASSERT_FATAL(pthread_create(&th, NULL, client_main, &c) == 0);
	CU_ASSERT_EQUAL(sp_ctl_run(ctl), 0);
	pthread_join(th, NULL);
	sp_console_fini();
	CU_ASSERT_EQUAL(stat(sock_path, &st), -1);
	rte_openlog_stream(stderr);
	fclose(logf);

	for (i = 0; i < RTE_DIM(exec_cases); i++) {
		const struct exec_case *e = &exec_cases[i];

		CU_ASSERT_EQUAL(c.res[i].status, e->status);
		if (e->out != NULL)
			CU_ASSERT_STRING_EQUAL(c.res[i].out, e->out);
		if (e->contains != NULL)
			CU_ASSERT_PTR_NOT_NULL(strstr(c.res[i].out, e->contains));
		if (c.res[i].status != e->status || (e->out && strcmp(c.res[i].out, e->out)) ||
		    (e->contains && !strstr(c.res[i].out, e->contains)))
			printf("\ncase '%s': status %d, output:\n%s\n", e->line, c.res[i].status,
			       c.res[i].out);
		free(c.res[i].out);
	}
	CU_ASSERT_EQUAL(c.exact_max.status, 0);
	CU_ASSERT_STRING_EQUAL(c.exact_max.out, "echo: abc\n");
	CU_ASSERT_EQUAL(c.overlong.status, 2);
	CU_ASSERT_STRING_EQUAL(c.overlong.out, "error: command line too long (max 4096 bytes)\n");
	CU_ASSERT_EQUAL(c.greeting.status, 2);
	CU_ASSERT_STRING_EQUAL(c.greeting.out, "error: bad protocol greeting, expected "
			       "'SPCTL/1 exec' or 'SPCTL/1 interactive'\n");
	CU_ASSERT_EQUAL(c.no_newline.len, 14);
	CU_ASSERT(c.no_newline.out && memcmp(c.no_newline.out, "echo: last\n\0" "0\n", 14) == 0);
	CU_ASSERT_EQUAL(c.big.status, 0);
	CU_ASSERT_EQUAL(c.big.len, (size_t)BIG_LINES * 12);
	for (p = c.big.out; p != NULL && (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	CU_ASSERT_EQUAL(lines, BIG_LINES);
	CU_ASSERT(c.big.len >= 12 && strncmp(c.big.out + c.big.len - 12, "line 024999\n", 12) == 0);
	CU_ASSERT_EQUAL(c.busy.status, 3);
	CU_ASSERT_STRING_EQUAL(c.busy.out, "error: too many console sessions (16), try later\n");
	/* Refused: every status 1 and 2 case, the overlong line, and xyz typed interactively. */
	for (i = 0, lines = 0; i < RTE_DIM(exec_cases); i++)
		lines += exec_cases[i].status != 0;
	CU_ASSERT_EQUAL(c.bad_after - c.bad_before, lines + 1 + 1);

	/* The interactive transcript: echo, output with \r\n, errors, completion, help. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.ilog);
	CU_ASSERT(strncmp(c.ilog, "sallyport> ", 11) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.ilog,
				      "sallyport> test echo hi\r\necho: hi\r\nsallyport> "));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.ilog, "xyz\r\nerror: unknown command 'xyz' (try 'help')"
				      "\r\nsallyport> "));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.ilog, "sallyport> test echo \033[0Khi2\r\necho: hi2\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.ilog, " --json [[--json]]: show log [--json]: the level"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.ilog, " [RETURN]\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.ilog, "\r\nsp.console           info\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.ilog, "line 001999\r\nsallyport> quit\r\n"));
	CU_ASSERT(c.iclosed);
	if (c.ilog && !strstr(c.ilog, "sallyport> test echo \033[0Khi2\r\necho: hi2\r\n"))
		printf("\ntranscript:\n%s\n", c.ilog);
	free(c.ilog);

	/* The audit: admin commands only, with the caller and the outcome. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "admin command 'test admin': ok"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "admin command 'test admin' --json: ok"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "admin command 'log level sp.console loud': failed"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "(pid "));
	CU_ASSERT_PTR_NULL(strstr(log, "admin command 'test echo"));
	free(log);
	free(c.exact_max.out);
	free(c.overlong.out);
	free(c.greeting.out);
	free(c.no_newline.out);
	free(c.big.out);
	free(c.busy.out);
	rte_log_set_level_pattern("sp.console", RTE_LOG_WARNING);
	sp_ctl_destroy(ctl);
}

static int
make_socket(const char *path, bool do_listen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	if (do_listen && listen(fd, 1) < 0)
		return -1;
	return fd;
}

static void
stop_cb(uint64_t now, void *arg)
{
	(void)now;
	sp_ctl_stop(arg);
}

struct one_exec {
	struct sp_ctl *ctl;
	struct exec_result res;
};

static void *
one_exec(void *arg)
{
	struct one_exec *o = arg;

	exec_line("test echo again", &o->res);
	sp_ctl_stop(o->ctl);
	return NULL;
}

static void
test_stale_and_live(void)
{
	struct sp_ctl *ctl = sp_ctl_create();
	struct one_exec o = { 0 };
	pthread_t th;
	struct stat st;
	char long_path[120];
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl);
	snprintf(sock_path, sizeof(sock_path), "%s/s.sock", tmpdir);

	/* A live listener: refused, and its socket left alone. */
	fd = make_socket(sock_path, true);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(sp_console_init(ctl, sock_path, false, NULL, NULL), -EADDRINUSE);
	CU_ASSERT_EQUAL(stat(sock_path, &st), 0);
	close(fd);

	/* The same socket file, nobody listening: stale, replaced. */
	CU_ASSERT_EQUAL(stat(sock_path, &st), 0);
	CU_ASSERT_EQUAL_FATAL(sp_console_init(ctl, sock_path, false, NULL, NULL), 0);
	CU_ASSERT_EQUAL(stat(sock_path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	o.ctl = ctl;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, one_exec, &o) == 0);
	CU_ASSERT(sp_ctl_add_timer(ctl, 5000, stop_cb, ctl) >= 0);
	CU_ASSERT_EQUAL(sp_ctl_run(ctl), 0);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(o.res.status, 0);
	CU_ASSERT_STRING_EQUAL(o.res.out, "echo: again\n");
	free(o.res.out);
	sp_console_fini();
	sp_ctl_destroy(ctl);

	/* Not a socket: refused, the file untouched. */
	ctl = sp_ctl_create();
	fd = open(sock_path, O_CREAT | O_WRONLY, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL(sp_console_init(ctl, sock_path, false, NULL, NULL), -EEXIST);
	CU_ASSERT_EQUAL(stat(sock_path, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	unlink(sock_path);
	memset(long_path, 'x', sizeof(long_path));
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	CU_ASSERT_EQUAL(sp_console_init(ctl, long_path, false, NULL, NULL), -ENAMETOOLONG);
	sp_ctl_destroy(ctl);
}

/* ---- the stdin console (a pipe on fd 0, not a terminal: one command per line) ---- */

static unsigned int quit_calls;

static void
on_quit(void *arg)
{
	quit_calls++;
	sp_ctl_stop(arg);
}

/* Run the console on stdin fed with input, for at most max_ms; @return what it printed. */
static char *
run_stdin(const char *input, bool close_input, unsigned int max_ms, uint64_t *cpu_ms)
{
	int in[2], out[2], save0 = dup(0), save1 = dup(1);
	struct sp_ctl *ctl = sp_ctl_create();
	struct rusage r0, r1;
	char *text;

	CU_ASSERT_FATAL(pipe(in) == 0 && pipe(out) == 0 && ctl != NULL);
	CU_ASSERT_EQUAL((size_t)write(in[1], input, strlen(input)), strlen(input));
	if (close_input)
		close(in[1]);
	fflush(stdout);
	dup2(in[0], 0);
	dup2(out[1], 1);
	close(in[0]);
	close(out[1]);
	CU_ASSERT(sp_ctl_add_timer(ctl, max_ms, stop_cb, ctl) >= 0);
	getrusage(RUSAGE_SELF, &r0);
	CU_ASSERT_EQUAL(sp_console_init(ctl, NULL, true, on_quit, ctl), 0);
	CU_ASSERT_EQUAL(sp_ctl_run(ctl), 0);
	sp_console_fini();
	getrusage(RUSAGE_SELF, &r1);
	*cpu_ms = (uint64_t)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1000 +
		  (uint64_t)((r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1000);
	dup2(save0, 0);
	dup2(save1, 1);
	close(save0);
	close(save1);
	if (!close_input)
		close(in[1]);
	text = strdup(pipe_take(out[0]));
	sp_ctl_destroy(ctl);
	return text;
}

static void
test_stdin(void)
{
	uint64_t cpu;
	char *out;

	quit_calls = 0;
	out = run_stdin("test echo one\nxyz\ntest echo two --json\ntest fail\nquit\n"
			"test echo never\n", false, 2000, &cpu);
	CU_ASSERT_EQUAL(quit_calls, 1);
	CU_ASSERT_STRING_EQUAL(out, "echo: one\nerror: unknown command 'xyz' (try 'help')\n"
			       "{\"word\":\"two\"}\nerror: it failed on purpose\n");
	free(out);

	/* EOF closes the console, not the loop (which the 500 ms timer ends), and does not spin. */
	out = run_stdin("test echo three", true, 500, &cpu);
	CU_ASSERT_EQUAL(quit_calls, 1);
	CU_ASSERT_STRING_EQUAL(out, "echo: three\n");
	CU_ASSERT(cpu < 250);
	free(out);
	out = run_stdin("test echo four\n", true, 500, &cpu);
	CU_ASSERT_STRING_EQUAL(out, "echo: four\n");
	CU_ASSERT(cpu < 250);
	free(out);
}

/* stdin that epoll cannot watch: a warning, no error. */
static void
test_stdin_devnull(void)
{
	struct sp_ctl *ctl = sp_ctl_create();
	int save0 = dup(0), fd = open("/dev/null", O_RDONLY);

	CU_ASSERT_FATAL(ctl != NULL && fd >= 0);
	dup2(fd, 0);
	close(fd);
	CU_ASSERT_EQUAL(sp_console_init(ctl, NULL, true, NULL, NULL), 0);
	sp_console_fini();
	dup2(save0, 0);
	close(save0);
	sp_ctl_destroy(ctl);
}

static int
suite_init(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sp_console_XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	CU_pSuite s;

	/* The console needs no EAL: cmdline and rte_log work without it. Logs go to stderr,
	 * the stdin console test captures stdout. */
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	rte_openlog_stream(stderr);
	s = CU_add_suite("console", suite_init, suite_clean);
	CU_add_test(s, "json: escaping", test_json_escape);
	CU_add_test(s, "json: long string", test_json_long_string);
	CU_add_test(s, "json: nesting and numbers", test_json_nesting);
	CU_add_test(s, "--json token", test_json_token);
	CU_add_test(s, "DPDK skips a trailing zero-width token", test_dpdk_trailing_token);
	CU_add_test(s, "socket server end to end", test_server);
	CU_add_test(s, "stale, live and bad socket paths", test_stale_and_live);
	CU_add_test(s, "stdin console", test_stdin);
	CU_add_test(s, "stdin on /dev/null", test_stdin_devnull);
	return sp_test_run();
}
