/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_LOG_H
#define SP_LOG_H

/**
 * @file
 * Logging: one DPDK log type per library ("sp.<lib>"), rendered as human text or JSON lines.
 *
 * Each library declares its type with SP_LOG_TYPE(lib) in one .c file and logs with
 * SP_LOG(lib, LEVEL, fmt, ...). Per-packet events are counters, never log lines.
 */

#include <stdbool.h>
#include <rte_log.h>

enum sp_log_format {
	SP_LOG_TEXT = 0,
	SP_LOG_JSON,
};

/** Define and register the log type variable sp_logtype_<lib>, named "sp.<lib>". */
#define SP_LOG_TYPE(lib) RTE_LOG_REGISTER(sp_logtype_##lib, sp.lib, INFO)
/** Declare it in a library's private header. */
#define SP_LOG_TYPE_DECLARE(lib) extern int sp_logtype_##lib

#define SP_LOG(lib, level, fmt, ...) \
	rte_log(RTE_LOG_##level, sp_logtype_##lib, "sp." #lib ": " fmt "\n", ##__VA_ARGS__)

/**
 * Route every DPDK log line (ours and the EAL's) to stderr in the given format.
 * Text: "2026-11-29T07:31:02.123Z INFO  sp.conf: message".
 * JSON: {"ts":"...","level":"info","type":"sp.conf","msg":"message"}.
 * Call from the main thread before rte_eal_init() and again to switch at run time.
 * @return 0, or -ENOMEM.
 */
int sp_log_init(enum sp_log_format fmt);

/** Parse "text"/"json". @return 0, or -EINVAL. */
int sp_log_format_parse(const char *s, enum sp_log_format *out);

/** Parse a level name ("emerg".."debug") into an RTE_LOG_* value. @return level, or -EINVAL. */
int sp_log_level_parse(const char *s);
/** The name of an RTE_LOG_* level ("info"), or "?" */
const char *sp_log_level_name(int level);

/**
 * Set the level of every log type whose name matches a shell glob ("sp.*", "sp.dp", "eal").
 * @return the number of registered types that match (may be 0), or -EINVAL.
 */
int sp_log_set_level(const char *pattern, int level);

#endif
