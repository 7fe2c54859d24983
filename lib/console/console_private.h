/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_CONSOLE_PRIVATE_H
#define SP_CONSOLE_PRIVATE_H

/* Shared by the console's files only; never included from app/ or other libraries. */

#include <stdbool.h>
#include <stdint.h>

#include "sp_log.h"
#include "sp_console.h"

SP_LOG_TYPE_DECLARE(console);

/** Longest command line accepted on the socket (exec) and from a non-terminal stdin. */
#define CONSOLE_LINE_MAX 4096

/** Exit statuses of the exec protocol (also spctl's exit codes). */
enum console_status {
	CONSOLE_OK = 0,
	CONSOLE_FAILED = 1,   /* the command ran and reported an error */
	CONSOLE_BAD = 2,      /* the line did not parse, or was refused before running */
	CONSOLE_REFUSED = 3,  /* the server did not take the session (too many sessions) */
};

/** One registered command. */
struct console_cmd {
	cmdline_parse_inst_t *inst;  /* as registered: used for completion and help */
	cmdline_parse_inst_t *parse; /* copy the parser uses: no trailing SP_TOKEN_JSON, our
				      * trampoline as callback; NULL when the command is refused */
	enum sp_access access;
	int json_off;                /* result offset of the trailing SP_TOKEN_JSON, or -1 */
};

/** Who runs a command line: for access control, the audit log and "quit". */
struct console_caller {
	char name[64];               /* "stdin", "session 3 (pid 1234, uid 0)" */
	enum sp_access access;       /* highest level this caller may run */
	bool quit;                   /* set by the quit command */
};

/* Registry (registry.c). */
int console_registry_build(void);
void console_registry_free(void);
cmdline_parse_ctx_t *console_parse_ctx(void);
cmdline_parse_ctx_t *console_complete_ctx(void);
unsigned int console_nb_cmds(void);
/** The i-th accepted command, or NULL. */
const struct console_cmd *console_cmd_get(unsigned int i);

/**
 * Run one command line (up to the first newline) on cl, whose output fd receives everything
 * the command prints. A trailing "--json" word is taken off the line and handed to the
 * command (its SP_TOKEN_JSON field, sp_console_json()). Parse errors are explained on cl.
 * @return a console_status.
 */
int console_exec_line(struct cmdline *cl, struct console_caller *who, const char *line);

/** Count a line refused before it reached the parser (too long). */
void console_count_refused(void);

/** Ask the session that runs the current command to end (the quit command). */
void console_request_quit(struct cmdline *cl);

/** Split "syntax: description" help text; *syntax_len gets the length of the syntax part. */
const char *console_help_split(const char *help, size_t *syntax_len);

#endif
