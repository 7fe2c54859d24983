/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pass over the text before libconfig 1.5 parses it, for what that version gets wrong:
 * - A syntax error whose next token is a string leaks the string (its grammar has no
 *   destructors). So the whole syntax is checked here first, with libconfig's own lexical
 *   rules and grammar, and reported as libconfig would ("syntax error" at the same line);
 *   libconfig then only sees text it can parse.
 * - A decimal integer beyond 32 bits without the "L" suffix is silently truncated
 *   ("table = 4294967295;" reads as -1), and hex beyond 0x7fffffff turns negative. We append
 *   the "L", so such literals become 64-bit and the range checks see the real value; literals
 *   beyond 64 bits are refused.
 * - "@include" reads any file, relative to the working directory: refused, one file is the
 *   whole configuration.
 * - Nesting has no bound and destroying the tree recurses: refused past CONF_MAX_DEPTH.
 * - A comment on the last line without a newline is a syntax error: a newline is added.
 * - A string left open at the end of the text is dropped without a word: refused.
 * The fuzz harness checks this grammar against libconfig's (SP_FUZZ_DIFF=1).
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_private.h"

enum tok {
	T_EOF,
	T_GARBAGE,   /* anything libconfig's lexer does not know */
	T_INCLUDE,
	T_UNTERMINATED, /* a string without its closing quote */
	T_NAME,
	T_BOOL,
	T_INT,
	T_INT64,
	T_HEX,
	T_HEX64,
	T_FLOAT,
	T_STRING,
	T_ASSIGN,    /* '=' or ':' */
	T_SEMI,
	T_COMMA,
	T_GROUP_START,
	T_GROUP_END,
	T_ARRAY_START,
	T_ARRAY_END,
	T_LIST_START,
	T_LIST_END,
};

struct scan {
	struct conf_ctx *c;
	const char *t;
	size_t i;          /* next character to read */
	int line;          /* line at the end of the current token, as libconfig counts */
	int start_line;    /* line where the current token starts */
	int last_line;     /* lines in the text */
	enum tok type;     /* the current token, t[start..i) */
	size_t start;
	char *o;           /* the text for libconfig */
	size_t n, copied;  /* bytes in o; bytes of t copied to o so far */
};

static size_t
digits(const char *p)
{
	size_t n = 0;

	while (isdigit((unsigned char)p[n]))
		n++;
	return n;
}

static size_t
sign(const char *p)
{
	return *p == '-' || *p == '+';
}

/* [eE][-+]?[0-9]+ */
static size_t
exponent(const char *p)
{
	size_t s, d;

	if (*p != 'e' && *p != 'E')
		return 0;
	s = sign(p + 1);
	d = digits(p + 1 + s);
	return d ? 1 + s + d : 0;
}

static size_t
suffix_l(const char *p)
{
	return p[0] != 'L' ? 0 : p[1] == 'L' ? 2 : 1;
}

/* The longest of libconfig's number rules at p, as flex picks it; 0 when none matches. */
static size_t
number_len(const char *p, enum tok *type)
{
	size_t s = sign(p), d = digits(p + s), best = 0, n;

	*type = T_GARBAGE;
	if (d > 0) {
		best = s + d;
		*type = T_INT;
		n = suffix_l(p + best);
		if (n > 0) {
			best += n;
			*type = T_INT64;
		}
	}
	if (!s && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
		for (n = 2; isxdigit((unsigned char)p[n]); n++)
			;
		*type = suffix_l(p + n) ? T_HEX64 : T_HEX;
		best = n + suffix_l(p + n);
	}
	/* [-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)? */
	if (p[s + d] == '.') {
		n = s + d + 1;
		n += digits(p + n);
		n += exponent(p + n);
		if (n > best) {
			best = n;
			*type = T_FLOAT;
		}
	}
	/* [-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+ */
	if (d > 0) {
		n = s + d;
		if (p[n] == '.')
			n += 1 + digits(p + n + 1);
		if (exponent(p + n) && n + exponent(p + n) > best) {
			best = n + exponent(p + n);
			*type = T_FLOAT;
		}
	}
	return best;
}

static void
skip_space(struct scan *s)
{
	const char *t = s->t;

	for (;;) {
		char ch = t[s->i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f') {
			s->i++;
		} else if (ch == '\n') {
			s->line++;
			s->i++;
		} else if (ch == '#' || (ch == '/' && t[s->i + 1] == '/')) {
			while (t[s->i] != '\0' && t[s->i] != '\n')
				s->i++;
		} else if (ch == '/' && t[s->i + 1] == '*') {
			/* an unterminated comment runs to the end, as libconfig has it */
			for (s->i += 2; t[s->i] != '\0'; s->i++) {
				if (t[s->i] == '*' && t[s->i + 1] == '/') {
					s->i += 2;
					break;
				}
				s->line += t[s->i] == '\n';
			}
		} else {
			return;
		}
	}
}

static void
next(struct scan *s)
{
	static const char punct[] = "=:;,{}[]()";
	static const enum tok punct_tok[] = { T_ASSIGN, T_ASSIGN, T_SEMI, T_COMMA, T_GROUP_START,
		T_GROUP_END, T_ARRAY_START, T_ARRAY_END, T_LIST_START, T_LIST_END };
	const char *t = s->t, *p;
	char ch;
	size_t n;

	skip_space(s);
	s->start = s->i;
	s->start_line = s->line;
	ch = t[s->i];
	p = ch != '\0' ? strchr(punct, ch) : NULL;
	if (ch == '\0') {
		s->type = T_EOF;
	} else if (p != NULL) {
		s->type = punct_tok[p - punct];
		s->i++;
	} else if (ch == '"') {
		for (s->i++; t[s->i] != '\0' && t[s->i] != '"'; s->i++) {
			if (t[s->i] == '\\' && t[s->i + 1] != '\0')
				s->i++;
			s->line += t[s->i] == '\n';
		}
		/* libconfig's lexer would end the text quietly here (and leak the string) */
		s->type = t[s->i] == '"' ? T_STRING : T_UNTERMINATED;
		if (t[s->i] == '"')
			s->i++;
	} else if (isalpha((unsigned char)ch) || ch == '*') {
		for (n = 1; isalnum((unsigned char)t[s->i + n]) || t[s->i + n] == '*' ||
			    t[s->i + n] == '-' || t[s->i + n] == '_'; n++)
			;
		s->type = (n == 4 && strncasecmp(t + s->i, "true", 4) == 0) ||
			(n == 5 && strncasecmp(t + s->i, "false", 5) == 0) ? T_BOOL : T_NAME;
		s->i += n;
	} else if (ch == '@' && strncmp(t + s->i, "@include", 8) == 0) {
		s->type = T_INCLUDE;
		s->i += 8;
	} else {
		n = number_len(t + s->i, &s->type);
		s->i += n ? n : 1;
	}
}

static int
syntax_error(struct scan *s)
{
	int line = s->line < s->last_line ? s->line : s->last_line;

	if (s->type == T_INCLUDE)
		return conf_err_line(s->c, line, NULL,
				     "@include is not supported: keep the configuration in one file");
	if (s->type == T_UNTERMINATED)
		return conf_err_line(s->c, s->start_line, NULL, "syntax error: unterminated string");
	return conf_err_line(s->c, line, NULL, "syntax error");
}

/* Copy the text up to the current token's end and add libconfig's 64-bit suffix. */
static void
add_suffix(struct scan *s)
{
	memcpy(s->o + s->n, s->t + s->copied, s->i - s->copied);
	s->n += s->i - s->copied;
	s->o[s->n++] = 'L';
	s->copied = s->i;
}

/* An integer literal: refused past 64 bits, made 64-bit past 32. */
static int
integer(struct scan *s)
{
	const char *p = s->t + s->start;
	unsigned long long v = 0, limit;
	bool neg = *p == '-', over = false, hex = s->type == T_HEX || s->type == T_HEX64;
	size_t k;

	p += sign(p);
	if (hex) {
		for (k = 2; isxdigit((unsigned char)p[k]); k++) {
			over |= v > (ULLONG_MAX >> 4);
			v = (v << 4) | (unsigned int)(isdigit((unsigned char)p[k]) ? p[k] - '0'
						     : tolower((unsigned char)p[k]) - 'a' + 10);
		}
	} else {
		for (k = 0; isdigit((unsigned char)p[k]); k++) {
			unsigned int d = (unsigned int)(p[k] - '0');

			over |= v > (ULLONG_MAX - d) / 10;
			v = v * 10 + d;
		}
	}
	/* hex is read as unsigned and reinterpreted, so it must fit the signed range too */
	limit = neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX;
	if (over || v > limit)
		return conf_err_line(s->c, s->line, NULL, "integer too large: %.*s",
				     (int)RTE_MIN(s->i - s->start, 40u), s->t + s->start);
	limit = !hex && neg ? 0x80000000ull : 0x7fffffffull;
	if ((s->type == T_INT || s->type == T_HEX) && v > limit)
		add_suffix(s);
	return 0;
}

static bool
scalar(enum tok t)
{
	return t == T_BOOL || t == T_INT || t == T_INT64 || t == T_HEX || t == T_HEX64 ||
		t == T_FLOAT || t == T_STRING;
}

static int settings(struct scan *s, enum tok end, int depth);
static int value(struct scan *s, int depth);

static int
simple_value(struct scan *s)
{
	if (!scalar(s->type))
		return syntax_error(s);
	if (s->type == T_STRING) {
		while (s->type == T_STRING)
			next(s);
		return 0;
	}
	if (s->type != T_BOOL && s->type != T_FLOAT && integer(s) < 0)
		return -EINVAL;
	next(s);
	return 0;
}

/* The elements of "[ ... ]" (scalars) or "( ... )" (any values), without trailing comma. */
static int
elements(struct scan *s, enum tok end, int depth)
{
	if (++depth > CONF_MAX_DEPTH)
		return conf_err_line(s->c, s->line, NULL, "syntax error: nested deeper than %d levels",
				     CONF_MAX_DEPTH);
	next(s);
	while (s->type != end) {
		int rc = end == T_ARRAY_END ? simple_value(s) : value(s, depth);

		if (rc < 0)
			return rc;
		if (s->type == T_COMMA)
			next(s);
		else if (s->type != end)
			return syntax_error(s);
		else
			break;
		if (s->type == end)
			return syntax_error(s);
	}
	next(s);
	return 0;
}

static int
value(struct scan *s, int depth)
{
	switch (s->type) {
	case T_ARRAY_START:
		return elements(s, T_ARRAY_END, depth);
	case T_LIST_START:
		return elements(s, T_LIST_END, depth);
	case T_GROUP_START:
		if (depth + 1 > CONF_MAX_DEPTH)
			return conf_err_line(s->c, s->line, NULL,
					     "syntax error: nested deeper than %d levels",
					     CONF_MAX_DEPTH);
		next(s);
		if (settings(s, T_GROUP_END, depth + 1) < 0)
			return -EINVAL;
		next(s);
		return 0;
	default:
		return simple_value(s);
	}
}

/* name (= or :) value [; or ,] ... until end. */
static int
settings(struct scan *s, enum tok end, int depth)
{
	while (s->type != end) {
		if (s->type != T_NAME)
			return syntax_error(s);
		next(s);
		if (s->type != T_ASSIGN)
			return syntax_error(s);
		next(s);
		if (value(s, depth) < 0)
			return -EINVAL;
		if (s->type == T_SEMI || s->type == T_COMMA)
			next(s);
	}
	return 0;
}

int
conf_prescan(struct conf_ctx *c, const char *text, char **out)
{
	size_t len = strlen(text), k;
	struct scan s = { .c = c, .t = text, .line = 1, .last_line = 1 };

	*out = NULL;
	for (k = 0; k + 1 < len; k++)
		s.last_line += text[k] == '\n';
	/* at most one 'L' per literal of 10 or more characters, and a final newline */
	s.o = malloc(len + len / 10 + 3);
	if (s.o == NULL)
		return -ENOMEM;
	next(&s);
	if (settings(&s, T_EOF, 0) < 0) {
		free(s.o);
		return -EINVAL;
	}
	memcpy(s.o + s.n, text + s.copied, len - s.copied);
	s.n += len - s.copied;
	if (s.n > 0 && s.o[s.n - 1] != '\n')
		s.o[s.n++] = '\n';
	s.o[s.n] = '\0';
	*out = s.o;
	return 0;
}
