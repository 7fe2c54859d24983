/* SPDX-License-Identifier: BSD-3-Clause */
/* sallyport: command line, configuration, EAL start-up; the rest is in gateway.c. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "gateway.h"
#include "sp_certd.h"
#include "sp_conf.h"
#include "sp_log.h"
#include "sp_version.h"

#define MAX_EAL_ARGS 96

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s -c FILE [--console] [--log-format text|json] [--log-level LEVEL] "
		"[-- EAL-ARGS...]\n"
		"       %s --check-config FILE\n"
		"       %s --version\n"
		"\n"
		"  -c, --config FILE      configuration (libconfig syntax, see conf/sallyport.conf)\n"
		"      --check-config FILE  validate FILE and exit: 0 valid, 2 invalid\n"
		"      --console          operator console on stdin/stdout\n"
		"      --log-format FMT   text or json (overrides log.format)\n"
		"      --log-level LEVEL  level of every sp.* log type (overrides log.level)\n"
		"  -- EAL-ARGS            DPDK EAL arguments; each replaces the config's option of\n"
		"                         the same name (e.g. -- --file-prefix=gw2 -l 0,2)\n"
		"\n"
		"Exit status: 0 clean shutdown, 1 runtime failure, 2 invalid configuration or usage.\n"
		"Signals: SIGINT/SIGTERM stop, SIGHUP reloads the configuration file.\n",
		prog, prog, prog);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "console", no_argument, NULL, 'i' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *log_format = NULL, *log_level = NULL;
	char *eal_argv[MAX_EAL_ARGS], err[512];
	bool check = false, console = false;
	struct sp_conf_err cerr;
	struct sp_conf *conf;
	sigset_t sigs;
	int opt, rc, eal_argc;
	unsigned int leaked;

	sp_log_init(SP_LOG_TEXT);
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			path = optarg;
			check = true;
			break;
		case 'i':
			console = true;
			break;
		case 'f':
			log_format = optarg;
			break;
		case 'l':
			log_level = optarg;
			break;
		case 'V':
			printf("sallyport %s\n", SP_VERSION);
			return SP_EXIT_OK;
		case 'h':
			usage(stdout, argv[0]);
			return SP_EXIT_OK;
		default:
			usage(stderr, argv[0]);
			return SP_EXIT_CONFIG;
		}
	}
	if (path == NULL) {
		fprintf(stderr, "%s: no configuration file (-c FILE)\n", argv[0]);
		usage(stderr, argv[0]);
		return SP_EXIT_CONFIG;
	}

	conf = calloc(1, sizeof(*conf));
	if (conf == NULL) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		return SP_EXIT_RUNTIME;
	}
	rc = sp_conf_load(path, conf, &cerr);
	if (rc != 0) {
		fprintf(stderr, "%s\n", cerr.msg);
		free(conf);
		return SP_EXIT_CONFIG;
	}
	/* the gateway's own certificate is part of its configuration: refuse it the same way */
	if (sp_certd_check(conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		free(conf);
		return SP_EXIT_CONFIG;
	}
	if (check) {
		printf("%s: configuration valid\n", path);
		free(conf);
		return SP_EXIT_OK;
	}
	if (log_format != NULL && sp_log_format_parse(log_format, &conf->log.format) != 0) {
		fprintf(stderr, "%s: --log-format: \"%s\" is not text or json\n", argv[0],
			log_format);
		free(conf);
		return SP_EXIT_CONFIG;
	}
	if (log_level != NULL) {
		int l = sp_log_level_parse(log_level);

		if (l < 0) {
			fprintf(stderr, "%s: --log-level: unknown level \"%s\"\n", argv[0],
				log_level);
			free(conf);
			return SP_EXIT_CONFIG;
		}
		conf->log.level = l;
	}
	sp_gw_apply_log(&conf->log);

	/* Lcore threads inherit this mask: only the control core takes signals (signalfd). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	eal_argc = sp_conf_eal_argv(conf, argv[0], argc - optind, argv + optind, eal_argv,
				    MAX_EAL_ARGS);
	if (eal_argc < 0) {
		fprintf(stderr, "%s: too many EAL arguments\n", argv[0]);
		free(conf);
		return SP_EXIT_CONFIG;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "%s: EAL initialisation failed: %s\n", argv[0],
			rte_strerror(rte_errno));
		free(conf);
		return SP_EXIT_RUNTIME;
	}
	/* The EAL may have changed levels from its arguments; ours win for sp.* types. */
	sp_gw_apply_log(&conf->log);

	rc = sp_gw_start(conf, console, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		sp_gw_stop();
		rte_eal_cleanup();
		return SP_EXIT_RUNTIME;
	}
	rc = sp_gw_run();
	leaked = sp_gw_stop();
	rte_eal_cleanup();
	if (leaked != 0) {
		fprintf(stderr, "%s: %u mbufs leaked\n", argv[0], leaked);
		return SP_EXIT_RUNTIME;
	}
	return rc == 0 ? SP_EXIT_OK : SP_EXIT_RUNTIME;
}
