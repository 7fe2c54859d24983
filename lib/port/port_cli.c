/* SPDX-License-Identifier: BSD-3-Clause */
/* show ports */

#include <inttypes.h>

#include <rte_ethdev.h>

#include "sp_addr.h"
#include "sp_console.h"
#include "sp_port.h"

struct show_ports_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t ports;
	uint8_t json;
};

static void
show_ports(void *parsed, struct cmdline *cl, void *data)
{
	struct show_ports_result *res = parsed;
	struct sp_json j;
	unsigned int i;

	(void)data;
	if (res->json) {
		sp_json_begin(&j, cl);
		sp_json_arr_open(&j, NULL);
	} else {
		cmdline_printf(cl, "%-12s %4s %-17s %-5s %6s %5s %14s %14s %10s %10s %10s\n", "NAME",
			       "ID", "MAC", "LINK", "SPEED", "MTU", "RX-PKTS", "TX-PKTS", "RX-MISSED",
			       "RX-ERRORS", "TX-ERRORS");
	}
	for (i = 0; i < sp_port_count(); i++) {
		const struct sp_port_info *p = sp_port_info(i);
		struct rte_eth_stats st = { 0 };
		struct rte_eth_link link = { 0 };
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		rte_eth_stats_get(p->port_id, &st);
		rte_eth_link_get_nowait(p->port_id, &link);
		sp_mac_format(&p->mac, mac, sizeof(mac));
		if (!res->json) {
			cmdline_printf(cl,
				       "%-12s %4u %-17s %-5s %6u %5u %14" PRIu64 " %14" PRIu64
				       " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
				       p->name, p->port_id, mac, link.link_status ? "up" : "down",
				       link.link_speed, p->mtu, st.ipackets, st.opackets, st.imissed,
				       st.ierrors, st.oerrors);
			continue;
		}
		sp_json_obj_open(&j, NULL);
		sp_json_str(&j, "name", p->name);
		sp_json_u64(&j, "port_id", p->port_id);
		sp_json_str(&j, "device", p->device);
		sp_json_str(&j, "mac", mac);
		sp_json_bool(&j, "link_up", link.link_status != 0);
		sp_json_u64(&j, "speed_mbps", link.link_speed);
		sp_json_u64(&j, "mtu", p->mtu);
		sp_json_bool(&j, "exception", p->exception);
		sp_json_u64(&j, "rx_queues", p->nb_rxq);
		sp_json_u64(&j, "tx_queues", p->nb_txq);
		sp_json_u64(&j, "rx_packets", st.ipackets);
		sp_json_u64(&j, "tx_packets", st.opackets);
		sp_json_u64(&j, "rx_bytes", st.ibytes);
		sp_json_u64(&j, "tx_bytes", st.obytes);
		sp_json_u64(&j, "rx_missed", st.imissed);
		sp_json_u64(&j, "rx_errors", st.ierrors);
		sp_json_u64(&j, "tx_errors", st.oerrors);
		sp_json_u64(&j, "rx_nombuf", st.rx_nombuf);
		sp_json_obj_close(&j);
	}
	if (res->json) {
		sp_json_arr_close(&j);
		sp_json_end(&j);
	}
}

static cmdline_parse_token_string_t show_ports_show =
	TOKEN_STRING_INITIALIZER(struct show_ports_result, show, "show");
static cmdline_parse_token_string_t show_ports_ports =
	TOKEN_STRING_INITIALIZER(struct show_ports_result, ports, "ports");
static struct sp_token_json show_ports_json =
	SP_TOKEN_JSON_INITIALIZER(struct show_ports_result, json);

static cmdline_parse_inst_t cmd_show_ports = {
	.f = show_ports,
	.help_str = "show ports [--json]: ports, link state and device counters",
	.tokens = { (void *)&show_ports_show, (void *)&show_ports_ports, (void *)&show_ports_json,
		    NULL },
};
SP_CONSOLE_CMD(cmd_show_ports, SP_ACCESS_READ);
