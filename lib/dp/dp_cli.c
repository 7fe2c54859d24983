/* SPDX-License-Identifier: BSD-3-Clause */
/* show stats, show workers, clear stats */

#include <inttypes.h>
#include <string.h>

#include <rte_lcore.h>

#include "dp_private.h"
#include "sp_console.h"
#include "sp_dp.h"

struct show_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t what;
	uint8_t json;
};

static void
show_stats(void *parsed, struct cmdline *cl, void *data)
{
	struct show_result *res = parsed;
	struct sp_lcore_stats sum;
	struct sp_json j;
	unsigned int i;

	(void)data;
	sp_stats_sum(&sum);
	if (res->json) {
		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_obj_open(&j, "counters");
		for (i = 0; i < SP_CTR__MAX; i++)
			sp_json_u64(&j, sp_ctr_desc[i].name, sum.ctr[i]);
		sp_json_obj_close(&j);
		sp_json_obj_open(&j, "drops");
		for (i = 0; i < SP_DROP__MAX; i++)
			sp_json_u64(&j, sp_drop_desc[i].name, sum.drop[i]);
		sp_json_obj_close(&j);
		sp_json_obj_close(&j);
		sp_json_end(&j);
		return;
	}
	cmdline_printf(cl, "counters:\n");
	for (i = 0; i < SP_CTR__MAX; i++)
		cmdline_printf(cl, "  %-22s %16" PRIu64 "  %s\n", sp_ctr_desc[i].name, sum.ctr[i],
			       sp_ctr_desc[i].help);
	cmdline_printf(cl, "drops (non-zero):\n");
	for (i = 0; i < SP_DROP__MAX; i++)
		if (sum.drop[i] != 0)
			cmdline_printf(cl, "  %-22s %16" PRIu64 "  %s\n", sp_drop_desc[i].name,
				       sum.drop[i], sp_drop_desc[i].help);
}

static void
show_workers(void *parsed, struct cmdline *cl, void *data)
{
	struct show_result *res = parsed;
	struct sp_json j;
	unsigned int i, q;

	(void)data;
	if (res->json) {
		sp_json_begin(&j, cl);
		sp_json_arr_open(&j, NULL);
	} else {
		cmdline_printf(cl, "%-6s %-5s %-24s %-8s %14s %14s %14s %12s\n", "WORKER", "LCORE",
			       "RX QUEUES (port/queue)", "IDLE", "RX-PKTS", "TX-PKTS", "POLLS",
			       "IDLE-%");
	}
	for (i = 0; i < sp_dp_worker_count(); i++) {
		struct sp_worker *w = dp_worker(i);
		struct sp_lcore_stats st;
		char queues[128] = "";
		size_t off = 0;
		const char *mode = w->idle_mode == SP_IDLE_ADAPTIVE ? "adaptive" : "poll";
		uint64_t polls, idle;

		sp_stats_get_lcore(w->lcore, &st);
		polls = st.ctr[SP_CTR_POLLS];
		idle = st.ctr[SP_CTR_IDLE_POLLS];
		for (q = 0; q < w->n_rxq && off < sizeof(queues); q++)
			off += snprintf(queues + off, sizeof(queues) - off, "%s%u/%u",
					q ? "," : "", w->rxq[q].port, w->rxq[q].queue);
		if (!res->json) {
			cmdline_printf(cl, "%-6u %-5u %-24s %-8s %14" PRIu64 " %14" PRIu64
				       " %14" PRIu64 " %11.1f%%\n", w->id, w->lcore, queues, mode,
				       st.ctr[SP_CTR_RX_PKTS], st.ctr[SP_CTR_TX_PKTS], polls,
				       polls ? 100.0 * (double)idle / (double)polls : 100.0);
			continue;
		}
		sp_json_obj_open(&j, NULL);
		sp_json_u64(&j, "worker", w->id);
		sp_json_u64(&j, "lcore", w->lcore);
		sp_json_str(&j, "idle_mode", mode);
		sp_json_u64(&j, "idle_max_us", w->idle_max_us);
		sp_json_arr_open(&j, "rx_queues");
		for (q = 0; q < w->n_rxq; q++) {
			sp_json_obj_open(&j, NULL);
			sp_json_u64(&j, "port", w->rxq[q].port);
			sp_json_u64(&j, "queue", w->rxq[q].queue);
			sp_json_obj_close(&j);
		}
		sp_json_arr_close(&j);
		sp_json_u64(&j, "rx_packets", st.ctr[SP_CTR_RX_PKTS]);
		sp_json_u64(&j, "tx_packets", st.ctr[SP_CTR_TX_PKTS]);
		sp_json_u64(&j, "polls", polls);
		sp_json_u64(&j, "idle_polls", idle);
		sp_json_u64(&j, "sleeps", st.ctr[SP_CTR_SLEEPS]);
		sp_json_obj_close(&j);
	}
	if (res->json) {
		sp_json_arr_close(&j);
		sp_json_end(&j);
	}
}

static void
show(void *parsed, struct cmdline *cl, void *data)
{
	struct show_result *res = parsed;

	if (strcmp(res->what, "stats") == 0)
		show_stats(parsed, cl, data);
	else
		show_workers(parsed, cl, data);
}

static cmdline_parse_token_string_t show_show =
	TOKEN_STRING_INITIALIZER(struct show_result, show, "show");
static cmdline_parse_token_string_t show_what =
	TOKEN_STRING_INITIALIZER(struct show_result, what, "stats#workers");
static struct sp_token_json show_json = SP_TOKEN_JSON_INITIALIZER(struct show_result, json);

static cmdline_parse_inst_t cmd_show_dp = {
	.f = show,
	.help_str = "show stats|workers [--json]: data path counters and drops by reason, or "
		    "per-worker queues and load",
	.tokens = { (void *)&show_show, (void *)&show_what, (void *)&show_json, NULL },
};
SP_CONSOLE_CMD(cmd_show_dp, SP_ACCESS_READ);

struct clear_result {
	cmdline_fixed_string_t clear;
	cmdline_fixed_string_t stats;
	uint8_t json;
};

static void
clear_stats(void *parsed, struct cmdline *cl, void *data)
{
	struct clear_result *res = parsed;

	(void)data;
	sp_stats_clear();
	sp_port_stats_reset();
	if (res->json)
		cmdline_printf(cl, "{\"cleared\":true}\n");
	else
		cmdline_printf(cl, "counters cleared\n");
}

static cmdline_parse_token_string_t clear_clear =
	TOKEN_STRING_INITIALIZER(struct clear_result, clear, "clear");
static cmdline_parse_token_string_t clear_stats_tok =
	TOKEN_STRING_INITIALIZER(struct clear_result, stats, "stats");
static struct sp_token_json clear_json = SP_TOKEN_JSON_INITIALIZER(struct clear_result, json);

static cmdline_parse_inst_t cmd_clear_stats = {
	.f = clear_stats,
	.help_str = "clear stats: start data path and port counters from zero",
	.tokens = { (void *)&clear_clear, (void *)&clear_stats_tok, (void *)&clear_json, NULL },
};
SP_CONSOLE_CMD(cmd_clear_stats, SP_ACCESS_ADMIN);
