/* SPDX-License-Identifier: BSD-3-Clause */
/* Generic console commands: help, quit, log level, show log. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>
#include <rte_string_fns.h>

#include "console_private.h"

/* ---- help [WORDS] ---- */

struct help_res {
	cmdline_fixed_string_t help;
	cmdline_multi_string_t prefix;
	uint8_t json;
};

static int
by_help(const void *a, const void *b)
{
	const struct console_cmd *x = *(const struct console_cmd *const *)a;
	const struct console_cmd *y = *(const struct console_cmd *const *)b;

	return strcmp(x->inst->help_str ? x->inst->help_str : "",
		      y->inst->help_str ? y->inst->help_str : "");
}

static void
help_print(struct cmdline *cl, const char *prefix, bool json)
{
	unsigned int i, n = 0, nb = console_nb_cmds();
	const struct console_cmd **list = calloc(nb + 1, sizeof(*list));
	size_t plen = prefix ? strlen(prefix) : 0, width = 0;
	struct sp_json j;

	if (list == NULL) {
		sp_console_error(cl, "out of memory");
		return;
	}
	for (i = 0; i < nb; i++) {
		const struct console_cmd *c = console_cmd_get(i);
		size_t len;

		if (c == NULL)
			continue;
		console_help_split(c->inst->help_str, &len);
		if (plen > 0 && (len < plen || strncmp(c->inst->help_str, prefix, plen) != 0))
			continue;
		if (len > width)
			width = len;
		list[n++] = c;
	}
	if (n == 0) {
		sp_console_error(cl, "no command starts with '%s'", prefix);
		free(list);
		return;
	}
	qsort(list, n, sizeof(*list), by_help);
	/* Long syntaxes push their description right rather than every column. */
	if (width > 44)
		width = 44;

	if (json) {
		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_arr_open(&j, "commands");
	} else {
		cmdline_printf(cl, "Commands (every one accepts a trailing --json; [admin] "
			       "commands change state and are audited):\n");
	}
	for (i = 0; i < n; i++) {
		const char *help = list[i]->inst->help_str ? list[i]->inst->help_str : "";
		bool admin = list[i]->access == SP_ACCESS_ADMIN;
		size_t len;
		const char *desc = console_help_split(help, &len);

		if (json) {
			char syntax[256];

			strlcpy(syntax, help, RTE_MIN(len + 1, sizeof(syntax)));
			sp_json_obj_open(&j, NULL);
			sp_json_str(&j, "syntax", syntax);
			sp_json_str(&j, "description", desc);
			sp_json_str(&j, "access", admin ? "admin" : "read");
			sp_json_obj_close(&j);
		} else {
			cmdline_printf(cl, "  %-*.*s  %s%s\n", (int)width, (int)len, help,
				       admin ? "[admin] " : "", desc);
		}
	}
	if (json) {
		sp_json_arr_close(&j);
		sp_json_obj_close(&j);
		sp_json_end(&j);
	}
	free(list);
}

static void
cmd_help_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct help_res *r = parsed;

	help_print(cl, data != NULL ? r->prefix : NULL, r->json);
}

static cmdline_parse_token_string_t tok_help =
	TOKEN_STRING_INITIALIZER(struct help_res, help, "help");
static cmdline_parse_token_string_t tok_help_prefix =
	TOKEN_STRING_INITIALIZER(struct help_res, prefix, TOKEN_STRING_MULTI);
static struct sp_token_json tok_help_json = SP_TOKEN_JSON_INITIALIZER(struct help_res, json);

static cmdline_parse_inst_t cmd_help = {
	.f = cmd_help_parsed,
	.data = NULL,
	.help_str = "help [--json]: list every command",
	.tokens = { &tok_help.hdr, &tok_help_json.hdr, NULL },
};
SP_CONSOLE_CMD(cmd_help, SP_ACCESS_READ);

static cmdline_parse_inst_t cmd_help_prefix = {
	.f = cmd_help_parsed,
	.data = (void *)1, /* a prefix was given */
	.help_str = "help WORDS [--json]: list the commands that start with WORDS",
	.tokens = { &tok_help.hdr, &tok_help_prefix.hdr, &tok_help_json.hdr, NULL },
};
SP_CONSOLE_CMD(cmd_help_prefix, SP_ACCESS_READ);

/* ---- quit ---- */

struct quit_res {
	cmdline_fixed_string_t quit;
};

static void
cmd_quit_parsed(void *parsed, struct cmdline *cl, void *data)
{
	(void)parsed;
	(void)data;
	console_request_quit(cl);
}

static cmdline_parse_token_string_t tok_quit =
	TOKEN_STRING_INITIALIZER(struct quit_res, quit, "quit");

static cmdline_parse_inst_t cmd_quit = {
	.f = cmd_quit_parsed,
	.help_str = "quit: end this session (on the daemon's stdin: stop the daemon)",
	.tokens = { &tok_quit.hdr, NULL },
};
SP_CONSOLE_CMD(cmd_quit, SP_ACCESS_READ);

/* ---- log level PATTERN LEVEL ---- */

struct log_level_res {
	cmdline_fixed_string_t log;
	cmdline_fixed_string_t level_kw;
	cmdline_fixed_string_t pattern;
	cmdline_fixed_string_t level;
	uint8_t json;
};

static void
cmd_log_level_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct log_level_res *r = parsed;
	int level = sp_log_level_parse(r->level);
	int n;

	(void)data;
	if (level < 0) {
		sp_console_error(cl, "bad level '%s' (emerg, alert, crit, error, warning, notice, "
				 "info or debug)", r->level);
		return;
	}
	n = sp_log_set_level(r->pattern, level);
	if (n < 0) {
		sp_console_error(cl, "bad log type pattern '%s'", r->pattern);
		return;
	}
	if (n == 0) {
		sp_console_error(cl, "no log type matches '%s' (see 'show log')", r->pattern);
		return;
	}
	if (r->json) {
		struct sp_json j;

		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_str(&j, "pattern", r->pattern);
		sp_json_str(&j, "level", sp_log_level_name(level));
		sp_json_u64(&j, "matched", (uint64_t)n);
		sp_json_obj_close(&j);
		sp_json_end(&j);
	} else {
		cmdline_printf(cl, "%s: level %s (%d log type%s)\n", r->pattern,
			       sp_log_level_name(level), n, n == 1 ? "" : "s");
	}
}

static cmdline_parse_token_string_t tok_ll_log =
	TOKEN_STRING_INITIALIZER(struct log_level_res, log, "log");
static cmdline_parse_token_string_t tok_ll_level_kw =
	TOKEN_STRING_INITIALIZER(struct log_level_res, level_kw, "level");
static cmdline_parse_token_string_t tok_ll_pattern =
	TOKEN_STRING_INITIALIZER(struct log_level_res, pattern, NULL);
static cmdline_parse_token_string_t tok_ll_level =
	TOKEN_STRING_INITIALIZER(struct log_level_res, level, NULL);
static struct sp_token_json tok_ll_json = SP_TOKEN_JSON_INITIALIZER(struct log_level_res, json);

static cmdline_parse_inst_t cmd_log_level = {
	.f = cmd_log_level_parsed,
	.help_str = "log level PATTERN LEVEL [--json]: set the level (emerg..debug) of the log "
		    "types matching a glob, e.g. 'sp.*'",
	.tokens = { &tok_ll_log.hdr, &tok_ll_level_kw.hdr, &tok_ll_pattern.hdr, &tok_ll_level.hdr,
		    &tok_ll_json.hdr, NULL },
};
SP_CONSOLE_CMD(cmd_log_level, SP_ACCESS_ADMIN);

/* ---- show log ---- */

struct show_log_res {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t log;
	uint8_t json;
};

struct log_type {
	char name[64];
	int level;
};

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct log_type *)a)->name, ((const struct log_type *)b)->name);
}

/* DPDK 22.11 has no call that lists log types: read them back from rte_log_dump(). */
static struct log_type *
sp_log_types(unsigned int *nb)
{
	char *dump = NULL, *line, *save = NULL;
	struct log_type *types = NULL, *t;
	unsigned int n = 0, cap = 0;
	size_t size = 0;
	FILE *f = open_memstream(&dump, &size);

	*nb = 0;
	if (f == NULL)
		return NULL;
	rte_log_dump(f);
	fclose(f);
	for (line = strtok_r(dump, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		unsigned int id;
		char name[64];

		if (sscanf(line, "id %u: %63[^,],", &id, name) != 2 || strncmp(name, "sp.", 3) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			t = realloc(types, cap * sizeof(*t));
			if (t == NULL)
				break;
			types = t;
		}
		strlcpy(types[n].name, name, sizeof(types[n].name));
		types[n].level = rte_log_get_level(id);
		n++;
	}
	free(dump);
	if (types != NULL)
		qsort(types, n, sizeof(*types), by_name);
	*nb = n;
	return types;
}

static void
cmd_show_log_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct show_log_res *r = parsed;
	const char *global = sp_log_level_name((int)rte_log_get_global_level());
	unsigned int i, n;
	struct log_type *types = sp_log_types(&n);
	struct sp_json j;

	(void)data;
	if (r->json) {
		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_str(&j, "global", global);
		sp_json_arr_open(&j, "types");
		for (i = 0; i < n; i++) {
			sp_json_obj_open(&j, NULL);
			sp_json_str(&j, "name", types[i].name);
			sp_json_str(&j, "level", sp_log_level_name(types[i].level));
			sp_json_obj_close(&j);
		}
		sp_json_arr_close(&j);
		sp_json_obj_close(&j);
		sp_json_end(&j);
	} else {
		cmdline_printf(cl, "%-20s %s\n", "(global)", global);
		for (i = 0; i < n; i++)
			cmdline_printf(cl, "%-20s %s\n", types[i].name,
				       sp_log_level_name(types[i].level));
	}
	free(types);
}

static cmdline_parse_token_string_t tok_sl_show =
	TOKEN_STRING_INITIALIZER(struct show_log_res, show, "show");
static cmdline_parse_token_string_t tok_sl_log =
	TOKEN_STRING_INITIALIZER(struct show_log_res, log, "log");
static struct sp_token_json tok_sl_json = SP_TOKEN_JSON_INITIALIZER(struct show_log_res, json);

static cmdline_parse_inst_t cmd_show_log = {
	.f = cmd_show_log_parsed,
	.help_str = "show log [--json]: the level of every sp.* log type",
	.tokens = { &tok_sl_show.hdr, &tok_sl_log.hdr, &tok_sl_json.hdr, NULL },
};
SP_CONSOLE_CMD(cmd_show_log, SP_ACCESS_READ);
