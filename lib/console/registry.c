/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The command table: registration from constructors, the parser's and the completer's
 * contexts, the --json token, running one line with clear messages, access control and audit.
 *
 * Why the trailing --json token is not given to the parser as registered: cmdline's
 * match_inst() stops at the end of the line *before* calling the next token's parse(), so an
 * instance whose last token consumes nothing can never match a line without "--json". The
 * registry therefore keeps two views of every command: the instance as registered (with the
 * token) for completion and help, and a copy without it for parsing. A line's last word
 * "--json" is taken off before parsing and written into the token's result field by the
 * copy's callback. This also makes "--json" accepted after every command.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmdline_parse_string.h>
#include <rte_string_fns.h>

#include "console_private.h"

static struct {
	struct console_cmd **cmds;
	unsigned int nb, cap;
	bool alloc_failed;           /* a constructor could not record a command */
	cmdline_parse_ctx_t *parse_ctx;
	cmdline_parse_ctx_t *complete_ctx;
} reg;

/* The command line being run (one at a time: everything runs on the control core). */
static struct {
	struct cmdline *cl;
	struct console_caller *who;
	const char *line;
	bool json;
	bool failed;
	const struct console_cmd *cmd;
} run;

static uint64_t bad_commands;

/* ---- the --json token ---- */

static int
json_parse(cmdline_parse_token_hdr_t *tk, const char *buf, void *res, unsigned int ressize)
{
	int n = 0;

	(void)tk;
	if (buf == NULL || (res != NULL && ressize < sizeof(uint8_t)))
		return -1;
	if (strncmp(buf, "--json", 6) == 0 && cmdline_isendoftoken(buf[6]))
		n = 6;
	if (res != NULL)
		*(uint8_t *)res = n != 0;
	return n;
}

static int
json_complete_nb(cmdline_parse_token_hdr_t *tk)
{
	(void)tk;
	return 1;
}

static int
json_complete_elt(cmdline_parse_token_hdr_t *tk, int idx, char *dst, unsigned int size)
{
	(void)tk;
	if (idx != 0 || strlcpy(dst, "--json", size) >= size)
		return -1;
	return 0;
}

static int
json_help(cmdline_parse_token_hdr_t *tk, char *dst, unsigned int size)
{
	(void)tk;
	strlcpy(dst, "[--json]", size);
	return 0;
}

struct cmdline_token_ops sp_token_json_ops = {
	.parse = json_parse,
	.complete_get_nb = json_complete_nb,
	.complete_get_elt = json_complete_elt,
	.get_help = json_help,
};

/* ---- registration ---- */

void
sp_console_register(cmdline_parse_inst_t *inst, enum sp_access access)
{
	struct console_cmd *c, **n;

	/* Constructors run before logging is set up: remember failures, report at init. A
	 * command registered after sp_console_init() takes effect at the next init. */
	if (inst == NULL) {
		reg.alloc_failed = true;
		return;
	}
	if (reg.nb == reg.cap) {
		unsigned int cap = reg.cap ? reg.cap * 2 : 32;

		n = realloc(reg.cmds, cap * sizeof(*n));
		if (n == NULL) {
			reg.alloc_failed = true;
			return;
		}
		reg.cmds = n;
		reg.cap = cap;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		reg.alloc_failed = true;
		return;
	}
	c->inst = inst;
	c->access = access;
	c->json_off = -1;
	reg.cmds[reg.nb++] = c;
}

static void
trampoline(void *res, struct cmdline *cl, void *data)
{
	const struct console_cmd *c = data;

	run.cmd = c;
	if (c->json_off >= 0)
		*((uint8_t *)res + c->json_off) = run.json;
	if (run.who != NULL && c->access > run.who->access) {
		sp_console_error(cl, "permission denied: this command needs admin access");
		return;
	}
	c->inst->f(res, cl, c->inst->data);
}

static const char *
cmd_name(const cmdline_parse_inst_t *inst)
{
	return inst->help_str != NULL ? inst->help_str : "(no help)";
}

/* Make the parser's copy of one command. @return 0, -EINVAL (refused) or -ENOMEM. */
static int
make_parse_copy(struct console_cmd *c)
{
	cmdline_parse_inst_t *inst = c->inst, *copy;
	unsigned int ntok = 0;

	/* Dynamic tokens (tokens[0] == NULL) call inst->f to build tokens: incompatible with
	 * our trampoline, and nothing here uses them. */
	if (inst->f == NULL || inst->tokens[0] == NULL) {
		SP_LOG(console, ERR, "command '%s' refused: no callback or dynamic tokens",
		       cmd_name(inst));
		return -EINVAL;
	}
	while (inst->tokens[ntok] != NULL)
		ntok++;
	if (inst->tokens[ntok - 1]->ops == &sp_token_json_ops) {
		if (ntok == 1 || inst->tokens[ntok - 1]->offset >= CMDLINE_PARSE_RESULT_BUFSIZE) {
			SP_LOG(console, ERR, "command '%s' refused: bad --json token",
			       cmd_name(inst));
			return -EINVAL;
		}
		c->json_off = (int)inst->tokens[ntok - 1]->offset;
		ntok--;
	}
	copy = calloc(1, sizeof(*copy) + (ntok + 1) * sizeof(copy->tokens[0]));
	if (copy == NULL)
		return -ENOMEM;
	copy->f = trampoline;
	copy->data = c;
	copy->help_str = inst->help_str;
	memcpy(copy->tokens, inst->tokens, ntok * sizeof(copy->tokens[0]));
	copy->tokens[ntok] = NULL;
	c->parse = copy;
	return 0;
}

void
console_registry_free(void)
{
	unsigned int i;

	for (i = 0; i < reg.nb; i++) {
		free(reg.cmds[i]->parse);
		reg.cmds[i]->parse = NULL;
		reg.cmds[i]->json_off = -1;
	}
	free(reg.parse_ctx);
	free(reg.complete_ctx);
	reg.parse_ctx = NULL;
	reg.complete_ctx = NULL;
}

int
console_registry_build(void)
{
	unsigned int i, np = 0;

	if (reg.alloc_failed) {
		SP_LOG(console, ERR, "some commands could not be registered (out of memory)");
		return -ENOMEM;
	}
	reg.parse_ctx = calloc(reg.nb + 1, sizeof(*reg.parse_ctx));
	reg.complete_ctx = calloc(reg.nb + 1, sizeof(*reg.complete_ctx));
	if (reg.parse_ctx == NULL || reg.complete_ctx == NULL)
		goto nomem;
	for (i = 0; i < reg.nb; i++) {
		int rc = make_parse_copy(reg.cmds[i]);

		if (rc == -ENOMEM)
			goto nomem;
		if (rc < 0)
			continue;
		reg.parse_ctx[np] = reg.cmds[i]->parse;
		reg.complete_ctx[np] = reg.cmds[i]->inst;
		np++;
	}
	SP_LOG(console, DEBUG, "%u commands registered", np);
	return 0;

nomem:
	console_registry_free();
	return -ENOMEM;
}

cmdline_parse_ctx_t *
console_parse_ctx(void)
{
	return reg.parse_ctx;
}

cmdline_parse_ctx_t *
console_complete_ctx(void)
{
	return reg.complete_ctx;
}

unsigned int
console_nb_cmds(void)
{
	return reg.nb;
}

const struct console_cmd *
console_cmd_get(unsigned int i)
{
	if (i >= reg.nb || reg.cmds[i]->parse == NULL)
		return NULL;
	return reg.cmds[i];
}

const char *
console_help_split(const char *help, size_t *syntax_len)
{
	const char *colon;

	if (help == NULL) {
		*syntax_len = 0;
		return "";
	}
	colon = strstr(help, ": ");
	if (colon == NULL) {
		*syntax_len = strlen(help);
		return "";
	}
	*syntax_len = (size_t)(colon - help);
	return colon + 2;
}

/* ---- running a line ---- */

void
sp_console_error(struct cmdline *cl, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cmdline_printf(cl, "error: %s\n", buf);
	if (run.who != NULL && run.cl == cl)
		run.failed = true;
}

bool
sp_console_json(const struct cmdline *cl)
{
	return run.who != NULL && run.cl == cl && run.json;
}

void
console_request_quit(struct cmdline *cl)
{
	if (run.who != NULL && run.cl == cl)
		run.who->quit = true;
}

void
console_count_refused(void)
{
	bad_commands++;
}

uint64_t
sp_console_bad_commands(void)
{
	return bad_commands;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copy a word for a message: printable characters only, bounded. */
static void
quote_word(char *dst, size_t size, const char *src, size_t len)
{
	size_t i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		dst[i] = isprint((unsigned char)src[i]) ? src[i] : '?';
	dst[len] = '\0';
}

static bool
is_keyword(const cmdline_parse_token_hdr_t *tk)
{
	const struct cmdline_token_string *s = (const void *)tk;

	return tk->ops == &cmdline_token_string_ops && s->string_data.str != NULL &&
	       s->string_data.str[0] != '\0';
}

/*
 * How far a line gets into a command: the number of tokens that parse, and the text of the
 * leading keywords among them ("route add").
 */
static unsigned int
match_depth(const cmdline_parse_inst_t *inst, const char *line, char *kw, size_t kwsize)
{
	const char *p = line;
	unsigned int i;
	bool in_kw = true;
	size_t kwlen = 0;

	kw[0] = '\0';
	for (i = 0; inst->tokens[i] != NULL; i++) {
		cmdline_parse_token_hdr_t *tk = inst->tokens[i];
		int n;

		while (is_blank(*p))
			p++;
		/* cmdline_isendofcommand() is declared but not exported by DPDK 22.11. */
		if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#')
			break;
		n = tk->ops->parse(tk, p, NULL, 0);
		if (n < 0)
			break;
		if (in_kw && is_keyword(tk) && n > 0) {
			size_t add = (size_t)n + (kwlen ? 1 : 0);

			if (kwlen + add < kwsize) {
				if (kwlen)
					kw[kwlen++] = ' ';
				quote_word(kw + kwlen, kwsize - kwlen, p, (size_t)n);
				kwlen += (size_t)n;
			}
		} else {
			in_kw = false;
		}
		p += n;
	}
	return i;
}

static int
by_help(const void *a, const void *b)
{
	const char *x = (*(const struct console_cmd *const *)a)->inst->help_str;
	const char *y = (*(const struct console_cmd *const *)b)->inst->help_str;

	return strcmp(x ? x : "", y ? y : "");
}

/* "bad arguments for 'route add'" and the syntax of every command that got as far. */
static void
explain_bad_args(struct cmdline *cl, const char *line)
{
	unsigned int i, n = 0, best = 0;
	char kw[128], best_kw[128] = "";
	struct console_cmd **same = calloc(reg.nb + 1, sizeof(*same));

	for (i = 0; i < reg.nb; i++) {
		unsigned int d;

		if (reg.cmds[i]->parse == NULL)
			continue;
		d = match_depth(reg.cmds[i]->parse, line, kw, sizeof(kw));
		if (d > best) {
			best = d;
			strlcpy(best_kw, kw, sizeof(best_kw));
		}
	}
	cmdline_printf(cl, "error: bad arguments for '%s'\n", best_kw);
	if (same == NULL)
		return;
	for (i = 0; i < reg.nb; i++)
		if (reg.cmds[i]->parse != NULL &&
		    match_depth(reg.cmds[i]->parse, line, kw, sizeof(kw)) == best &&
		    strcmp(kw, best_kw) == 0)
			same[n++] = reg.cmds[i];
	qsort(same, n, sizeof(*same), by_help);
	for (i = 0; i < n; i++) {
		const char *help = same[i]->inst->help_str;
		size_t len;

		console_help_split(help, &len);
		if (len > 0)
			cmdline_printf(cl, "usage: %.*s\n", (int)len, help);
	}
	free(same);
}

/*
 * Prepare a line for cmdline_parse(): one line, no comment, a trailing "--json" word taken
 * off, a newline at the end (cmdline_parse() treats a line without one as incomplete).
 * @return the line (malloc'ed), or NULL on allocation failure.
 */
static char *
prepare_line(const char *line, bool *json)
{
	size_t len = strcspn(line, "\r\n#");
	char *buf = malloc(len + 2);

	*json = false;
	if (buf == NULL)
		return NULL;
	memcpy(buf, line, len);
	while (len > 0 && is_blank(buf[len - 1]))
		len--;
	/* "spctl --json CMD --json" sends it twice: take every trailing one. */
	while (len >= 6 && memcmp(buf + len - 6, "--json", 6) == 0 &&
	       (len == 6 || is_blank(buf[len - 7]))) {
		*json = true;
		len -= 6;
		while (len > 0 && is_blank(buf[len - 1]))
			len--;
	}
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return buf;
}

int
console_exec_line(struct cmdline *cl, struct console_caller *who, const char *line)
{
	char word[64];
	const char *p;
	char *buf;
	bool json;
	int rc, status;

	buf = prepare_line(line, &json);
	if (buf == NULL) {
		cmdline_printf(cl, "error: out of memory\n");
		bad_commands++;
		return CONSOLE_FAILED;
	}
	for (p = buf; is_blank(*p); p++)
		;
	if (*p == '\n') {
		free(buf);
		return CONSOLE_OK;
	}

	run = (typeof(run)){ .cl = cl, .who = who, .line = buf, .json = json };
	rc = cmdline_parse(cl, buf);
	if (rc >= 0) {
		status = run.failed ? CONSOLE_FAILED : CONSOLE_OK;
	} else {
		status = CONSOLE_BAD;
		quote_word(word, sizeof(word), p, strcspn(p, " \t\n"));
		if (rc == CMDLINE_PARSE_NOMATCH)
			cmdline_printf(cl, "error: unknown command '%s' (try 'help')\n", word);
		else if (rc == CMDLINE_PARSE_BAD_ARGS)
			explain_bad_args(cl, p);
		else if (rc == CMDLINE_PARSE_AMBIGUOUS)
			cmdline_printf(cl, "error: ambiguous command: '%s' matches several "
				       "commands\n", word);
		else
			cmdline_printf(cl, "error: cannot parse the command (%d)\n", rc);
	}
	if (status != CONSOLE_OK)
		bad_commands++;
	if (run.cmd != NULL && run.cmd->access == SP_ACCESS_ADMIN)
		SP_LOG(console, INFO, "%s: admin command '%.*s'%s: %s", who->name,
		       (int)strcspn(p, "\n"), p, json ? " --json" : "",
		       status == CONSOLE_OK ? "ok" : "failed");
	run = (typeof(run)){ 0 };
	free(buf);
	return status;
}
