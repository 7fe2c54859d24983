/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer harness: arbitrary console lines through the command table (parsing, the --json
 * handling, help, the generic commands and two local commands with numeric and multi-choice
 * tokens). Output goes to /dev/null. Nothing may crash, hang or leak. */

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console_private.h"
#include "sp_console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_result {
	cmdline_fixed_string_t verb;
	cmdline_fixed_string_t what;
	uint32_t n;
	cmdline_fixed_string_t word;
	uint8_t json;
};

static void
fz_cb(void *parsed, struct cmdline *cl, void *arg)
{
	struct fz_result *r = parsed;

	(void)arg;
	if (r->n % 2)
		sp_console_error(cl, "odd %u %s", r->n, r->word);
	else
		cmdline_printf(cl, "%s %s %u %s %d\n", r->verb, r->what, r->n, r->word, r->json);
}

static cmdline_parse_token_string_t fz_verb =
	TOKEN_STRING_INITIALIZER(struct fz_result, verb, "fz");
static cmdline_parse_token_string_t fz_what =
	TOKEN_STRING_INITIALIZER(struct fz_result, what, "alpha#beta#gamma");
static cmdline_parse_token_num_t fz_n = TOKEN_NUM_INITIALIZER(struct fz_result, n, RTE_UINT32);
static cmdline_parse_token_string_t fz_word =
	TOKEN_STRING_INITIALIZER(struct fz_result, word, NULL);
static struct sp_token_json fz_json = SP_TOKEN_JSON_INITIALIZER(struct fz_result, json);

static cmdline_parse_inst_t fz_cmd = {
	.f = fz_cb,
	.help_str = "fz alpha|beta|gamma N WORD [--json]: fuzzing target",
	.tokens = { (void *)&fz_verb, (void *)&fz_what, (void *)&fz_n, (void *)&fz_word,
		    (void *)&fz_json, NULL },
};
SP_CONSOLE_CMD(fz_cmd, SP_ACCESS_ADMIN);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cmdline *cl;
	struct console_caller who = { .name = "fuzz", .access = SP_ACCESS_ADMIN };
	char *line;

	if (cl == NULL) {
		int fd = open("/dev/null", O_WRONLY);

		if (console_registry_build() != 0 || fd < 0)
			abort();
		cl = cmdline_new(console_parse_ctx(), "", -1, fd);
		if (cl == NULL)
			abort();
	}
	if (size > CONSOLE_LINE_MAX)
		return 0;
	line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	console_exec_line(cl, &who, line);
	free(line);
	return 0;
}
