/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_CONF_PRIVATE_H
#define SP_CONF_PRIVATE_H

/* Internals of lib/conf: the load context and the typed accessors over libconfig settings. */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <libconfig.h>
#include <rte_config.h>

#include "sp_conf.h"

/* Deepest nesting of ( [ { the pre-scan lets through; the schema itself needs 5. */
#define CONF_MAX_DEPTH 16
/* Largest file we read: far above any real configuration, well below trouble. */
#define CONF_MAX_SIZE (4u << 20)
/* Longest string value quoted in full in a message. */
#define CONF_QUOTE_MAX 64

/* An interface address and where it came from, for the overlap checks. */
struct conf_addr_ref {
	const struct sp_ip *ip;
	const config_setting_t *s;
	const struct sp_conf_port *port;
	const struct sp_conf_iface *iface;
};

/* One load: where errors go, and where each parsed value came from for later cross-checks. */
struct conf_ctx {
	const char *file;
	struct sp_conf *conf;
	struct sp_conf_err *err;
	uint64_t eal_lcores[RTE_MAX_LCORE / 64]; /* bitmap of eal.lcores */
	int main_lcore;                           /* effective main lcore */
	const config_setting_t *port_set[SP_CONF_MAX_PORTS];
	const config_setting_t *addr_set[SP_CONF_MAX_PORTS][1 + SP_CONF_MAX_VLANS]
					[SP_CONF_MAX_ADDRS];
	const config_setting_t *route_set[SP_CONF_MAX_ROUTES];
	struct conf_addr_ref addr_refs[SP_CONF_MAX_PORTS * (1 + SP_CONF_MAX_VLANS) *
				       SP_CONF_MAX_ADDRS];
	unsigned int n_addr_refs;
};

/* scan.c: refuse what libconfig 1.5 would get wrong, before it parses. */
int conf_prescan(struct conf_ctx *c, const char *text, char **out);

/* util.c: errors. All return -EINVAL so callers can "return conf_err(...)". */
void conf_path(const config_setting_t *s, char *buf, size_t size);
int conf_err(struct conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int conf_err_line(struct conf_ctx *c, int line, const char *setting, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int conf_err_missing(struct conf_ctx *c, const config_setting_t *group, const char *parent_path,
		     const char *name);
/* Quote a string value for a message: "..." with escapes, shortened when long. */
const char *conf_quote(const char *s, char *buf, size_t size);
#define CONF_QBUF (CONF_QUOTE_MAX * 4 + 8)

/*
 * util.c: typed access. The getters return 1 when the setting is present and valid, 0 when it
 * is absent, -EINVAL (error filled) when it has the wrong type or value.
 */
int conf_known(struct conf_ctx *c, const config_setting_t *group, const char *const names[]);
int conf_group(struct conf_ctx *c, const config_setting_t *parent, const char *name,
	       const config_setting_t **out);
int conf_seq(struct conf_ctx *c, const config_setting_t *parent, const char *name,
	     const char *what, const config_setting_t **out);
int conf_int_value(struct conf_ctx *c, const config_setting_t *s, long long lo, long long hi,
		   long long *out);
int conf_int(struct conf_ctx *c, const config_setting_t *parent, const char *name, long long lo,
	     long long hi, long long *out);
int conf_u32(struct conf_ctx *c, const config_setting_t *parent, const char *name, uint32_t lo,
	     uint32_t hi, uint32_t def, uint32_t *out);
int conf_bool(struct conf_ctx *c, const config_setting_t *parent, const char *name, bool *out);
int conf_str_value(struct conf_ctx *c, const config_setting_t *s, const char **out);
int conf_str(struct conf_ctx *c, const config_setting_t *parent, const char *name,
	     const char **out);
/* A string copied into buf (size includes the NUL), refused when too long or empty. */
int conf_str_copy(struct conf_ctx *c, const config_setting_t *parent, const char *name,
		  char *buf, size_t size);

/* Is ip one of the gateway's interface addresses (ports.*.addresses, VLANs included)? */
bool conf_own_address(const struct sp_conf *conf, const struct sp_ip *ip);

/* Character-class checks shared by several settings. */
bool conf_name_ok(const char *s, size_t max);
bool conf_printable(const char *s);
int conf_mac_parse(const char *s, struct rte_ether_addr *mac);

/* sections.c: an optional "mac" member (1 when set), and a MAC no port in ports[0..n) uses. */
int conf_mac_setting(struct conf_ctx *c, const config_setting_t *grp, bool *has,
		     struct rte_ether_addr *mac);
int conf_mac_unique(struct conf_ctx *c, const config_setting_t *s, const char *what,
		    const struct rte_ether_addr *mac, unsigned int n_ports);

/* eal.c, sections.c: one section each, in the order conf.c calls them. */
int conf_parse_eal(struct conf_ctx *c, const config_setting_t *root);
int conf_parse_workers(struct conf_ctx *c, const config_setting_t *root);
int conf_parse_mempool(struct conf_ctx *c, const config_setting_t *root);
int conf_parse_exception(struct conf_ctx *c, const config_setting_t *root);
int conf_parse_neigh(struct conf_ctx *c, const config_setting_t *root);
int conf_parse_icmp(struct conf_ctx *c, const config_setting_t *root);
int conf_parse_log(struct conf_ctx *c, const config_setting_t *root);
int conf_parse_console(struct conf_ctx *c, const config_setting_t *root);
/* pki.c: after ports (issuer.listen must be an address of the gateway). */
int conf_parse_pki(struct conf_ctx *c, const config_setting_t *root);
int conf_parse_issuer(struct conf_ctx *c, const config_setting_t *root);

/* tunnels.c: after ports, routes and pki (peers are checked against all three). */
int conf_parse_crypto(struct conf_ctx *c, const config_setting_t *root);
int conf_parse_tunnels(struct conf_ctx *c, const config_setting_t *root);

/* ports.c */
int conf_parse_ports(struct conf_ctx *c, const config_setting_t *root);
/* Interface by "port" or "port.vlan" name; NULL when none. */
const struct sp_conf_iface *conf_iface_find(const struct sp_conf *conf, const char *name,
					    const struct sp_conf_port **port);

/* routes.c */
int conf_parse_routes(struct conf_ctx *c, const config_setting_t *root);

#endif
