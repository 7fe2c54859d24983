/* SPDX-License-Identifier: BSD-3-Clause */
/* The EAL argument vector: the config's eal section, overridden by the command line. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_private.h"

/* What an option sets: a command-line option of a kind replaces the config's of that kind. */
enum opt_kind {
	K_LCORES,
	K_MAIN,
	K_PREFIX,
	K_MEMORY,
	K_IN_MEMORY,
	K_NO_HUGE,
	K_NO_PCI,
	K_TELEMETRY,
	K_NUM,
};

static const struct {
	const char *name;
	enum opt_kind kind;
} eal_opts[] = {
	{ "-l", K_LCORES },         { "-c", K_LCORES },        { "--lcores", K_LCORES },
	{ "--main-lcore", K_MAIN }, { "--file-prefix", K_PREFIX },
	{ "-m", K_MEMORY },         { "--socket-mem", K_MEMORY },
	{ "--in-memory", K_IN_MEMORY }, { "--no-huge", K_NO_HUGE }, { "--no-pci", K_NO_PCI },
	{ "--no-telemetry", K_TELEMETRY }, { "--telemetry", K_TELEMETRY },
};

/* "--opt", "--opt=value", "-o" and "-ovalue" all name the option. */
static bool
arg_is(const char *arg, const char *opt)
{
	size_t len = strlen(opt);

	if (strncmp(arg, opt, len) != 0)
		return false;
	if (opt[1] == '-')
		return arg[len] == '\0' || arg[len] == '=';
	return true;
}

int
sp_conf_eal_argv(const struct sp_conf *conf, const char *prog, int cli_argc, char **cli_args,
		 char **argv, int max)
{
	static char main_buf[16], prefix_buf[sizeof(conf->eal.file_prefix) + 16], mem_buf[16];
	const struct sp_conf_eal *e = &conf->eal;
	bool cli[K_NUM] = { false };
	const char *out[2 * K_NUM + SP_CONF_MAX_EAL_ARGS];
	int n = 0, i, total;
	unsigned int k;

	for (i = 0; i < cli_argc; i++) {
		if (strcmp(cli_args[i], "--") == 0)
			break;
		for (k = 0; k < RTE_DIM(eal_opts); k++)
			if (arg_is(cli_args[i], eal_opts[k].name))
				cli[eal_opts[k].kind] = true;
	}
	/* a main lcore from the config may not be in the lcores the command line chose */
	if (cli[K_LCORES])
		cli[K_MAIN] = true;

	if (!cli[K_LCORES] && e->lcores[0] != '\0') {
		out[n++] = "-l";
		out[n++] = e->lcores;
	}
	if (!cli[K_MAIN] && e->main_lcore >= 0) {
		snprintf(main_buf, sizeof(main_buf), "%d", e->main_lcore);
		out[n++] = "--main-lcore";
		out[n++] = main_buf;
	}
	if (!cli[K_PREFIX] && e->file_prefix[0] != '\0') {
		snprintf(prefix_buf, sizeof(prefix_buf), "--file-prefix=%s", e->file_prefix);
		out[n++] = prefix_buf;
	}
	if (!cli[K_MEMORY] && e->memory_mb > 0) {
		snprintf(mem_buf, sizeof(mem_buf), "%u", e->memory_mb);
		out[n++] = "-m";
		out[n++] = mem_buf;
	}
	if (!cli[K_IN_MEMORY] && e->in_memory)
		out[n++] = "--in-memory";
	if (!cli[K_NO_HUGE] && e->no_huge)
		out[n++] = "--no-huge";
	if (!cli[K_NO_PCI] && e->no_pci)
		out[n++] = "--no-pci";
	if (!cli[K_TELEMETRY] && e->no_telemetry)
		out[n++] = "--no-telemetry";
	for (k = 0; k < e->n_extra && k < SP_CONF_MAX_EAL_ARGS; k++)
		out[n++] = e->extra[k];

	total = 1 + n + (cli_argc > 0 ? cli_argc : 0);
	if (total + 1 > max)
		return -E2BIG;
	argv[0] = (char *)(uintptr_t)prog;
	for (i = 0; i < n; i++)
		argv[1 + i] = (char *)(uintptr_t)out[i];
	for (i = 0; i < cli_argc; i++)
		argv[1 + n + i] = cli_args[i];
	argv[total] = NULL;
	return total;
}
