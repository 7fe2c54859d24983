/* SPDX-License-Identifier: BSD-3-Clause */
/* show version, show config, config reload */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_version.h>

#include "gateway.h"
#include "sp_console.h"
#include "sp_version.h"

struct show_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t what;
	uint8_t json;
};

static void
show_version(struct cmdline *cl, bool json)
{
	struct sp_json j;

	if (!json) {
		cmdline_printf(cl, "sallyport %s (%s)\n", SP_VERSION, rte_version());
		return;
	}
	sp_json_begin(&j, cl);
	sp_json_obj_open(&j, NULL);
	sp_json_str(&j, "version", SP_VERSION);
	sp_json_str(&j, "dpdk", rte_version());
	sp_json_str(&j, "name", sp_gw_conf()->name);
	sp_json_obj_close(&j);
	sp_json_end(&j);
}

static void
show_config(struct cmdline *cl, bool json)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	struct sp_json j;

	if (f == NULL || sp_conf_dump(sp_gw_conf(), f) != 0) {
		if (f != NULL)
			fclose(f);
		free(text);
		sp_console_error(cl, "cannot render the configuration");
		return;
	}
	fclose(f);
	if (json) {
		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_str(&j, "file", sp_gw_conf()->path);
		sp_json_str(&j, "config", text);
		sp_json_obj_close(&j);
		sp_json_end(&j);
	} else {
		cmdline_printf(cl, "# running configuration, loaded from %s\n%s",
			       sp_gw_conf()->path, text);
	}
	free(text);
}

static void
show(void *parsed, struct cmdline *cl, void *data)
{
	struct show_result *res = parsed;

	(void)data;
	if (strcmp(res->what, "version") == 0)
		show_version(cl, res->json);
	else
		show_config(cl, res->json);
}

static cmdline_parse_token_string_t show_show =
	TOKEN_STRING_INITIALIZER(struct show_result, show, "show");
static cmdline_parse_token_string_t show_what =
	TOKEN_STRING_INITIALIZER(struct show_result, what, "version#config");
static struct sp_token_json show_json = SP_TOKEN_JSON_INITIALIZER(struct show_result, json);

static cmdline_parse_inst_t cmd_show_app = {
	.f = show,
	.help_str = "show version|config [--json]: software versions, or the running configuration",
	.tokens = { (void *)&show_show, (void *)&show_what, (void *)&show_json, NULL },
};
SP_CONSOLE_CMD(cmd_show_app, SP_ACCESS_READ);

struct reload_result {
	cmdline_fixed_string_t config;
	cmdline_fixed_string_t reload;
	uint8_t json;
};

static void
config_reload(void *parsed, struct cmdline *cl, void *data)
{
	struct reload_result *res = parsed;
	char msg[SP_CONF_ERR_MAX + 64];
	int rc;

	(void)data;
	rc = sp_gw_reload(msg, sizeof(msg));
	if (rc != 0) {
		sp_console_error(cl, "reload refused, running configuration kept: %s", msg);
		return;
	}
	if (res->json) {
		struct sp_json j;

		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_bool(&j, "reloaded", true);
		sp_json_str(&j, "file", sp_gw_conf()->path);
		sp_json_obj_close(&j);
		sp_json_end(&j);
	} else {
		cmdline_printf(cl, "%s\n", msg);
	}
}

static cmdline_parse_token_string_t reload_config =
	TOKEN_STRING_INITIALIZER(struct reload_result, config, "config");
static cmdline_parse_token_string_t reload_reload =
	TOKEN_STRING_INITIALIZER(struct reload_result, reload, "reload");
static struct sp_token_json reload_json = SP_TOKEN_JSON_INITIALIZER(struct reload_result, json);

static cmdline_parse_inst_t cmd_config_reload = {
	.f = config_reload,
	.help_str = "config reload: validate the configuration file again and apply it, all or "
		    "nothing",
	.tokens = { (void *)&reload_config, (void *)&reload_reload, (void *)&reload_json, NULL },
};
SP_CONSOLE_CMD(cmd_config_reload, SP_ACCESS_ADMIN);
