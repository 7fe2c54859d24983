/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A streaming JSON writer onto a cmdline's output: compact, one document per sp_json_begin /
 * sp_json_end, strings escaped per RFC 8259 (bytes >= 0x80 pass through, so UTF-8 stays as
 * is). Nesting deeper than SP_JSON_MAX_DEPTH is a caller bug: the output stays memory-safe but
 * its commas may be wrong.
 */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console_private.h"

static int
level(const struct sp_json *j)
{
	if (j->depth < 0)
		return 0;
	return j->depth < SP_JSON_MAX_DEPTH ? j->depth : SP_JSON_MAX_DEPTH - 1;
}

/* Write s as a JSON string, quotes included, in chunks of one buffer. */
static void
put_string(struct cmdline *cl, const char *s)
{
	char buf[256];
	size_t n = 0;

	buf[n++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc = 0;

		/* Room for the longest escape (\u00XX) and the closing quote. */
		if (n > sizeof(buf) - 8) {
			cmdline_printf(cl, "%.*s", (int)n, buf);
			n = 0;
		}
		switch (c) {
		case '"': esc = '"'; break;
		case '\\': esc = '\\'; break;
		case '\b': esc = 'b'; break;
		case '\f': esc = 'f'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		default: break;
		}
		if (esc) {
			buf[n++] = '\\';
			buf[n++] = esc;
		} else if (c < 0x20) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\u%04x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n++] = '"';
	cmdline_printf(cl, "%.*s", (int)n, buf);
}

/* The separator and key before a value. Keys are ignored at the top level. */
static void
member(struct sp_json *j, const char *key)
{
	int l = level(j);

	if (j->depth <= 0)
		return;
	if (!j->first[l])
		cmdline_printf(j->cl, ",");
	j->first[l] = false;
	if (key != NULL) {
		put_string(j->cl, key);
		cmdline_printf(j->cl, ":");
	}
}

void
sp_json_begin(struct sp_json *j, struct cmdline *cl)
{
	memset(j, 0, sizeof(*j));
	j->cl = cl;
	j->depth = 0;
	j->first[0] = true;
}

static void
open_container(struct sp_json *j, const char *key, char c)
{
	member(j, key);
	cmdline_printf(j->cl, "%c", c);
	j->depth++;
	j->first[level(j)] = true;
}

static void
close_container(struct sp_json *j, char c)
{
	cmdline_printf(j->cl, "%c", c);
	if (j->depth > 0)
		j->depth--;
}

void
sp_json_obj_open(struct sp_json *j, const char *key)
{
	open_container(j, key, '{');
}

void
sp_json_obj_close(struct sp_json *j)
{
	close_container(j, '}');
}

void
sp_json_arr_open(struct sp_json *j, const char *key)
{
	open_container(j, key, '[');
}

void
sp_json_arr_close(struct sp_json *j)
{
	close_container(j, ']');
}

void
sp_json_str(struct sp_json *j, const char *key, const char *v)
{
	member(j, key);
	if (v == NULL)
		cmdline_printf(j->cl, "null");
	else
		put_string(j->cl, v);
}

void
sp_json_u64(struct sp_json *j, const char *key, uint64_t v)
{
	member(j, key);
	cmdline_printf(j->cl, "%" PRIu64, v);
}

void
sp_json_i64(struct sp_json *j, const char *key, int64_t v)
{
	member(j, key);
	cmdline_printf(j->cl, "%" PRId64, v);
}

void
sp_json_bool(struct sp_json *j, const char *key, bool v)
{
	member(j, key);
	cmdline_printf(j->cl, "%s", v ? "true" : "false");
}

void
sp_json_double(struct sp_json *j, const char *key, double v)
{
	char buf[40];

	member(j, key);
	/* JSON has no NaN or infinity. */
	if (!isfinite(v)) {
		cmdline_printf(j->cl, "null");
		return;
	}
	/* The shortest of 15 or 17 significant digits that reads back as the same double. */
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	cmdline_printf(j->cl, "%s", buf);
}

void
sp_json_end(struct sp_json *j)
{
	cmdline_printf(j->cl, "\n");
	j->depth = 0;
	j->first[0] = true;
}
