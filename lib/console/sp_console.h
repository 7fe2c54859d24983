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
 * Help strings read "<syntax>: <description>", e.g. "route add PREFIX via NEXTHOP: add a
 * static route"; `help` lists them sorted and a bad command prints the syntax as its usage.
 *
 * Socket protocol (spctl): the client sends one line "SPCTL/1 <mode>\n", mode "exec" or
 * "interactive". exec: then one command line (at most 4096 bytes before its "\n"; EOF also
 * ends it); the server answers with the command's output, a NUL byte, and "<status>\n"
 * (0 success, 1 command failed, 2 bad command or line too long), and closes.
 * interactive: the connection becomes a terminal stream for cmdline (echo, editing, history,
 * completion, "\r\n" line ends); "quit", Ctrl-D on an empty line or EOF ends it.
 * A server that cannot take one more session answers at once with a message, NUL and "3\n",
 * and closes, whatever the mode. Idle interactive sessions close after 30 minutes, exec
 * sessions that do not send their line within 10 s get status 2.
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

/**
 * Register a command. Call from a constructor (SP_CONSOLE_CMD) before sp_console_init(); a
 * later registration takes effect at the next sp_console_init(). ADMIN commands are logged
 * (caller, line, outcome) at INFO through "sp.console", and refused to read-only callers
 * (socket peers other than root and the daemon's user). Instances with dynamic tokens are
 * refused.
 */
void sp_console_register(cmdline_parse_inst_t *inst, enum sp_access access);

#define SP_CONSOLE_CMD(inst, access) \
	RTE_INIT(sp_console_reg_##inst) { sp_console_register(&(inst), (access)); }

/**
 * Token that matches an optional trailing "--json": it consumes "--json" when present and
 * stores 1 in the result field (a uint8_t), else consumes nothing and stores 0.
 *
 * Put it last. DPDK 22.11's cmdline stops matching at the end of the line before it calls
 * the next token, so an instance ending with a token that consumes nothing never matches a
 * line without that word. The console therefore parses with a copy of each instance that
 * lacks the trailing SP_TOKEN_JSON, takes a last word "--json" off every line before
 * parsing, and stores the flag into this token's field itself; completion and help still
 * use the instance as registered, so Tab offers "--json". Consequences: every command
 * accepts a trailing --json (commands without the token can ask sp_console_json()), and a
 * TOKEN_STRING_MULTI token sees the line without it.
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
 * socket_path may be NULL (no socket). The stdin console uses line editing when stdin is a
 * terminal (restored by sp_console_fini()), else reads one command per line; EOF closes it,
 * not the daemon; a stdin epoll cannot watch (/dev/null, a file) only logs a warning.
 * @return 0, -EALREADY, -EADDRINUSE (a daemon answers on socket_path), -EEXIST (socket_path
 * is not a socket), -ENAMETOOLONG, -ENOMEM or another -errno.
 */
int sp_console_init(struct sp_ctl *ctl, const char *socket_path, bool on_stdin,
		    void (*quit_cb)(void *arg), void *quit_arg);
/**
 * Close every session, remove the socket, restore the terminal. Call after sp_ctl_run()
 * returned, not from a console command.
 */
void sp_console_fini(void);

/** Print "error: <msg>\n" and mark the running command failed (status 1). */
void sp_console_error(struct cmdline *cl, const char *fmt, ...) __rte_format_printf(2, 3);

/** True when the command running on cl was given a trailing --json. */
bool sp_console_json(const struct cmdline *cl);

/** Number of commands refused (parse errors, ambiguous, failed) since start. */
uint64_t sp_console_bad_commands(void);

/*
 * ---- JSON output for --json ----
 * A streaming writer onto cl's output: compact, one document per sp_json_begin() ..
 * sp_json_end(). Strings are escaped per RFC 8259 (quote, backslash, control characters;
 * bytes >= 0x80 pass through, so UTF-8 stays UTF-8); a NULL string, NaN and infinities are
 * written as null; doubles with the fewest digits (15 or 17) that read back exactly.
 */

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
