/* SPDX-License-Identifier: BSD-3-Clause */
/* Log output: every rte_log line, ours and the EAL's, formatted as text or JSON lines. */

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/time.h>

#include <rte_log.h>

#include "sp_log.h"

SP_LOG_TYPE(log);

static enum sp_log_format log_format;
static FILE *log_stream;

static const char *const level_names[] = {
	[RTE_LOG_EMERG] = "emerg", [RTE_LOG_ALERT] = "alert", [RTE_LOG_CRIT] = "crit",
	[RTE_LOG_ERR] = "error",   [RTE_LOG_WARNING] = "warning", [RTE_LOG_NOTICE] = "notice",
	[RTE_LOG_INFO] = "info",   [RTE_LOG_DEBUG] = "debug",
};

const char *
sp_log_level_name(int level)
{
	if (level < (int)RTE_LOG_EMERG || level > (int)RTE_LOG_DEBUG)
		return "?";
	return level_names[level];
}

int
sp_log_level_parse(const char *s)
{
	int l;

	for (l = RTE_LOG_EMERG; l <= (int)RTE_LOG_DEBUG; l++)
		if (strcasecmp(s, level_names[l]) == 0)
			return l;
	if (strcasecmp(s, "err") == 0)
		return RTE_LOG_ERR;
	if (strcasecmp(s, "warn") == 0)
		return RTE_LOG_WARNING;
	return -EINVAL;
}

int
sp_log_format_parse(const char *s, enum sp_log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = SP_LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = SP_LOG_JSON;
	else
		return -EINVAL;
	return 0;
}

static void
timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Our messages start with "sp.<lib>: "; DPDK's own lines get the generic type "dpdk". */
static void
split_type(const char *msg, size_t len, char *type, size_t tsize, const char **body)
{
	const char *colon = memchr(msg, ':', len < 40 ? len : 40);

	if (strncmp(msg, "sp.", 3) == 0 && colon != NULL && (size_t)(colon - msg) < tsize) {
		memcpy(type, msg, colon - msg);
		type[colon - msg] = '\0';
		*body = colon + 1;
		while (**body == ' ')
			(*body)++;
		return;
	}
	snprintf(type, tsize, "dpdk");
	*body = msg;
}

static void
json_escape(FILE *f, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static ssize_t
log_write(void *cookie, const char *buf, size_t size)
{
	char ts[40], type[40];
	const char *body;
	size_t blen;
	int level = rte_log_cur_msg_loglevel();

	(void)cookie;
	timestamp(ts, sizeof(ts));
	split_type(buf, size, type, sizeof(type), &body);
	blen = size - (body - buf);
	while (blen > 0 && (body[blen - 1] == '\n' || body[blen - 1] == '\r'))
		blen--;

	if (log_format == SP_LOG_JSON) {
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"type\":\"%s\",\"msg\":\"", ts,
			sp_log_level_name(level), type);
		json_escape(stderr, body, blen);
		fputs("\"}\n", stderr);
	} else {
		fprintf(stderr, "%s %-7s %s: %.*s\n", ts, sp_log_level_name(level), type, (int)blen,
			body);
	}
	fflush(stderr);
	return size;
}

int
sp_log_init(enum sp_log_format fmt)
{
	cookie_io_functions_t io = { .write = log_write };

	log_format = fmt;
	if (log_stream != NULL)
		return 0;
	log_stream = fopencookie(NULL, "w", io);
	if (log_stream == NULL)
		return -ENOMEM;
	/* One rte_log call = one write to our cookie: line buffering is not enough, the EAL
	 * sometimes logs without a newline. */
	setvbuf(log_stream, NULL, _IONBF, 0);
	return rte_openlog_stream(log_stream) == 0 ? 0 : -ENOMEM;
}

/* DPDK 22.11 has no call that lists log type names; rte_log_dump() prints them. */
static int
count_matching_types(const char *pattern)
{
	char *dump = NULL, *line, *save = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&dump, &size);
	int n = 0;

	if (f == NULL)
		return 0;
	rte_log_dump(f);
	fclose(f);
	for (line = strtok_r(dump, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (sscanf(line, " id %*d: %127[^,],", name) == 1 && fnmatch(pattern, name, 0) == 0)
			n++;
	}
	free(dump);
	return n;
}

int
sp_log_set_level(const char *pattern, int level)
{
	if (pattern == NULL || pattern[0] == '\0' || level < (int)RTE_LOG_EMERG || level > (int)RTE_LOG_DEBUG)
		return -EINVAL;
	if (rte_log_set_level_pattern(pattern, level) < 0)
		return -EINVAL;
	return count_matching_types(pattern);
}
