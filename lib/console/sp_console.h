/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_CONSOLE_H
#define SP_CONSOLE_H

/**
 * @file
 * The operator console: one table of DPDK cmdline commands, served
 *  - on the daemon's stdin/stdout (--console), with line editing, help and tab completion;
 *  - on a UNIX socket (mode 0600) to `spctl`, either one command per connection or as an
 *    interactive session with the same editing, help and completion.
 *
 * Modules register their commands next to their code, at constructor time:
 *
 *     static cmdline_parse_inst_t cmd_show_routes = { ... };
 *     SP_CONSOLE_CMD(cmd_show_routes, SP_ACCESS_READ);
 *
 * Every command may end with the `--json` token (SP_TOKEN_JSON) so that scripts get JSON.
 * Callbacks run on the control core, write with cmdline_printf() (or the sp_json writer) and
 * report failure with sp_console_error(), which sets the command's exit status for spctl.
 *
 * Socket protocol (spctl): the client sends one line "SPCTL/1 <mode>\n", mode "exec" or
 * "interactive". exec: then one command line; the server answers with the command's output,
 * a NUL byte, and "<status>\n" (0 success, 1 command failed, 2 bad command), and closes.
 * interactive: the connection becomes a terminal stream for cmdline (echo, editing, history,
 * completion); "quit" or EOF ends it.
 */

#include <stdbool.h>
#include <stdint.h>
#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_string.h>
#include <cmdline_parse_num.h>
#include <rte_common.h>

struct sp_ctl;

enum sp_access {
	SP_ACCESS_READ = 0,  /**< show commands */
	SP_ACCESS_ADMIN,     /**< commands that change state; audited in the log */
};

/** Register a command. Call from a constructor (SP_CONSOLE_CMD) before sp_console_init(). */
void sp_console_register(cmdline_parse_inst_t *inst, enum sp_access access);

#define SP_CONSOLE_CMD(inst, access) \
	RTE_INIT(sp_console_reg_##inst) { sp_console_register(&(inst), (access)); }

/**
 * Token that matches an optional trailing "--json": it consumes "--json" when present and
 * stores 1 in the result field (a uint8_t), else consumes nothing and stores 0.
 */
struct sp_token_json {
	struct cmdline_token_hdr hdr;
};
extern struct cmdline_token_ops sp_token_json_ops;
#define SP_TOKEN_JSON_INITIALIZER(structure, field) \
	{ .hdr = { .ops = &sp_token_json_ops, .offset = offsetof(structure, field) } }

/**
 * Start the console: listen on socket_path (directory created 0700, socket 0600, a stale
 * socket replaced, a live one refused with -EADDRINUSE) and, when on_stdin, run a cmdline on
 * stdin/stdout. quit_cb is called when "quit" is typed on stdin (the daemon stops).
 * @return 0 or -errno.
 */
int sp_console_init(struct sp_ctl *ctl, const char *socket_path, bool on_stdin,
		    void (*quit_cb)(void *arg), void *quit_arg);
/** Close every session and the socket, restore the terminal. */
void sp_console_fini(void);

/** Print "error: <msg>\n" and mark the running command failed. */
void sp_console_error(struct cmdline *cl, const char *fmt, ...) __rte_format_printf(2, 3);

/** Number of commands refused (parse errors, ambiguous, failed) since start. */
uint64_t sp_console_bad_commands(void);

/* ---- JSON output for --json (strings escaped; numbers as numbers) ---- */

#define SP_JSON_MAX_DEPTH 16

struct sp_json {
	struct cmdline *cl;
	int depth;
	bool first[SP_JSON_MAX_DEPTH];
};

void sp_json_begin(struct sp_json *j, struct cmdline *cl);
/** key is NULL inside arrays and for the top-level value. */
void sp_json_obj_open(struct sp_json *j, const char *key);
void sp_json_obj_close(struct sp_json *j);
void sp_json_arr_open(struct sp_json *j, const char *key);
void sp_json_arr_close(struct sp_json *j);
void sp_json_str(struct sp_json *j, const char *key, const char *v);
void sp_json_u64(struct sp_json *j, const char *key, uint64_t v);
void sp_json_i64(struct sp_json *j, const char *key, int64_t v);
void sp_json_bool(struct sp_json *j, const char *key, bool v);
void sp_json_double(struct sp_json *j, const char *key, double v);
/** Ends the document with a newline. */
void sp_json_end(struct sp_json *j);

#endif
