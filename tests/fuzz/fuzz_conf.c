/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for configuration parsing: any text must load or be refused with a
 * one-line message, never crash or leak. A text that loads must also survive a dump and a
 * second load unchanged, and give an EAL argument vector.
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined \
 *       -Dc_args=-fsanitize=fuzzer-no-link -Db_lundef=false
 *   ninja -C build-fuzz tests/fuzz/fuzz_conf
 *   cp -r tests/fuzz/corpus/conf /tmp/c && build-fuzz/tests/fuzz/fuzz_conf -max_total_time=60 /tmp/c
 *
 * With SP_FUZZ_DIFF=1 every input is also given to libconfig directly, and the loader's
 * syntax check must agree with libconfig's: same verdict, same line. libconfig leaks on some
 * syntax errors (which is why the loader checks the syntax itself), so run that mode with
 * ASAN_OPTIONS=detect_leaks=0 and -detect_leaks=0.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "sp_conf.h"
#include "conf_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
normalise(struct sp_conf *c)
{
	unsigned int i, k;

	memset(c->path, 0, sizeof(c->path));
	c->exception.line = 0;
	for (i = 0; i < c->n_ports; i++) {
		c->ports[i].line = 0;
		for (k = 0; k < c->ports[i].n_ifaces; k++)
			c->ports[i].ifaces[k].line = 0;
	}
	for (i = 0; i < c->n_routes; i++)
		c->routes[i].line = 0;
	c->tunnels.line = 0;
	for (i = 0; i < c->tunnels.n_peers; i++) {
		c->tunnels.peers[i].line = 0;
		for (k = 0; k < c->tunnels.peers[i].n_manual; k++)
			c->tunnels.peers[i].manual[k].line = 0;
	}
}

static void
round_trip(struct sp_conf *a, struct sp_conf *b)
{
	struct sp_conf_err err;
	char *argv[2 * SP_CONF_MAX_EAL_ARGS + 32], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return;
	if (sp_conf_dump(a, f) != 0)
		abort();
	fclose(f);
	if (sp_conf_load_string(buf, "dump", b, &err) != 0) {
		fprintf(stderr, "dump does not load: %s\n%s\n", err.msg, buf);
		abort();
	}
	free(buf);
	if (sp_conf_reload_check(a, b, &err) != 0)
		abort();
	normalise(a);
	normalise(b);
	if (memcmp(a, b, sizeof(*a)) != 0)
		abort();
	if (sp_conf_eal_argv(a, "fuzz", 0, NULL, argv, sizeof(argv) / sizeof(argv[0])) < 2)
		abort();
}

/* The loader's syntax check against libconfig's parser on the same text. */
static void
diff_syntax(const char *text)
{
	struct conf_ctx *c = calloc(1, sizeof(*c));
	struct sp_conf_err err;
	char *scanned = NULL, *with_nl;
	config_t cfg;
	int rc, ok, line, last = 1;
	size_t len = strlen(text), k;

	if (c == NULL || strstr(text, "@include") != NULL) {
		free(c);
		return;
	}
	memset(&err, 0, sizeof(err));
	c->file = "d";
	c->err = &err;
	rc = conf_prescan(c, text, &scanned);
	config_init(&cfg);
	if (rc == 0) {
		ok = config_read_string(&cfg, scanned);
		if (!ok && strcmp(config_error_text(&cfg), "syntax error") == 0) {
			fprintf(stderr, "libconfig refuses what the pre-scan accepts (line %d)\n",
				config_error_line(&cfg));
			abort();
		}
	} else if (strcmp(err.msg + strcspn(err.msg, " ") + 1, "syntax error") == 0) {
		with_nl = malloc(len + 2);
		if (with_nl == NULL)
			abort();
		memcpy(with_nl, text, len);
		memcpy(with_nl + len, "\n", 2);
		ok = config_read_string(&cfg, with_nl);
		if (ok) {
			fprintf(stderr, "libconfig accepts what the pre-scan refuses: %s\n", err.msg);
			abort();
		}
		for (k = 0; k + 1 < len; k++)
			last += text[k] == '\n';
		line = config_error_line(&cfg) > last ? last : config_error_line(&cfg);
		if (strcmp(config_error_text(&cfg), "syntax error") == 0 && line != err.line) {
			fprintf(stderr, "libconfig's syntax error is on line %d, ours: %s\n", line,
				err.msg);
			abort();
		}
		free(with_nl);
	}
	config_destroy(&cfg);
	free(scanned);
	free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sp_conf *a, *b;
	static int diff;
	struct sp_conf_err err;
	char *text;

	if (size > 256 * 1024)
		return 0;
	if (a == NULL) {
		a = malloc(sizeof(*a));
		b = malloc(sizeof(*b));
		if (a == NULL || b == NULL)
			abort();
	}
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (diff == 0)
		diff = getenv("SP_FUZZ_DIFF") != NULL ? 1 : -1;
	if (diff > 0)
		diff_syntax(text);
	if (sp_conf_load_string(text, "fuzz", a, &err) == 0)
		round_trip(a, b);
	else if (strchr(err.msg, '\n') != NULL || err.msg[0] == '\0')
		abort();
	free(text);
	return 0;
}
