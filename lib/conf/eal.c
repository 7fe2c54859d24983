/* SPDX-License-Identifier: BSD-3-Clause */
/* eal, workers and mempool: the lcores, the EAL's options and the packet buffers. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_mempool.h>

#include "conf_private.h"

static bool
lcore_set(const struct conf_ctx *c, long long id)
{
	return id >= 0 && id < RTE_MAX_LCORE && (c->eal_lcores[id / 64] >> (id % 64)) & 1;
}

/* EAL "-l" syntax: ids and ranges separated by commas ("0-1", "0,2-3"). */
static int
parse_lcore_list(struct conf_ctx *c, const config_setting_t *s, const char *v)
{
	char q[CONF_QBUF];
	const char *p = v;

	c->main_lcore = -1;
	for (;;) {
		unsigned long a, b;
		char *end;

		if (*p < '0' || *p > '9')
			goto bad;
		a = strtoul(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				goto bad;
			b = strtoul(p, &end, 10);
			p = end;
			if (b < a)
				return conf_err(c, s, "range %lu-%lu in %s goes backwards", a, b,
						conf_quote(v, q, sizeof(q)));
		}
		if (b >= RTE_MAX_LCORE)
			return conf_err(c, s, "lcore %lu in %s is out of range 0..%d", b,
					conf_quote(v, q, sizeof(q)), RTE_MAX_LCORE - 1);
		for (; a <= b; a++) {
			if (lcore_set(c, a))
				return conf_err(c, s, "lcore %lu is listed twice in %s", a,
						conf_quote(v, q, sizeof(q)));
			c->eal_lcores[a / 64] |= 1ull << (a % 64);
			if (c->main_lcore < 0 || (int)a < c->main_lcore)
				c->main_lcore = a;
		}
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			goto bad;
	}
bad:
	return conf_err(c, s, "invalid lcore list %s: use ids and ranges such as \"0-1\" or \"0,2-3\"",
			conf_quote(v, q, sizeof(q)));
}

/* EAL options that have their own setting: an extra argument must not set them behind it. */
static const struct {
	const char *opt;
	const char *setting;
} eal_owned[] = {
	{ "-l", "eal.lcores" },          { "-c", "eal.lcores" },
	{ "--lcores", "eal.lcores" },    { "--main-lcore", "eal.main_lcore" },
	{ "--file-prefix", "eal.file_prefix" }, { "-m", "eal.memory_mb" },
	{ "--socket-mem", "eal.memory_mb" }, { "--in-memory", "eal.in_memory" },
	{ "--no-huge", "eal.no_huge" },  { "--no-pci", "eal.no_pci" },
	{ "--no-telemetry", "eal.no_telemetry" }, { "--telemetry", "eal.no_telemetry" },
};

static int
parse_eal_extra(struct conf_ctx *c, const config_setting_t *eal)
{
	struct sp_conf_eal *e = &c->conf->eal;
	const config_setting_t *seq;
	char q[CONF_QBUF];
	int rc, i, n;

	rc = conf_seq(c, eal, "extra", "an array of strings", &seq);
	if (rc <= 0)
		return rc;
	n = config_setting_length(seq);
	if (n > SP_CONF_MAX_EAL_ARGS)
		return conf_err(c, seq, "at most %d arguments", SP_CONF_MAX_EAL_ARGS);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(seq, i);
		const char *v;
		unsigned int k;

		rc = conf_str_value(c, s, &v);
		if (rc < 0)
			return rc;
		if (v[0] != '-')
			return conf_err(c, s, "%s does not start with '-': write options with their "
					"value as one argument (\"--opt=value\")",
					conf_quote(v, q, sizeof(q)));
		for (k = 0; v[k] != '\0'; k++)
			if ((unsigned char)v[k] < 0x20 || v[k] == 0x7f)
				return conf_err(c, s, "%s contains control characters",
						conf_quote(v, q, sizeof(q)));
		if (strlen(v) >= sizeof(e->extra[0]))
			return conf_err(c, s, "%s is too long (at most %zu characters)",
					conf_quote(v, q, sizeof(q)), sizeof(e->extra[0]) - 1);
		for (k = 0; k < RTE_DIM(eal_owned); k++) {
			size_t ol = strlen(eal_owned[k].opt);

			if (strncmp(v, eal_owned[k].opt, ol) == 0 &&
			    (v[ol] == '\0' || v[ol] == '=' || eal_owned[k].opt[1] != '-'))
				return conf_err(c, s, "%s is set by %s", conf_quote(v, q, sizeof(q)),
						eal_owned[k].setting);
		}
		memcpy(e->extra[e->n_extra++], v, strlen(v) + 1);
	}
	return 0;
}

int
conf_parse_eal(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "lcores", "main_lcore", "file_prefix", "memory_mb",
		"in_memory", "no_huge", "no_pci", "no_telemetry", "extra", NULL };
	struct sp_conf_eal *e = &c->conf->eal;
	const config_setting_t *eal;
	char q[CONF_QBUF];
	long long v;
	int rc;

	e->main_lcore = -1;
	rc = conf_group(c, root, "eal", &eal);
	if (rc < 0)
		return rc;
	if (eal == NULL)
		return conf_err_missing(c, NULL, "eal", "lcores");
	rc = conf_known(c, eal, known);
	if (rc < 0)
		return rc;
	rc = conf_str_copy(c, eal, "lcores", e->lcores, sizeof(e->lcores));
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_err_missing(c, eal, NULL, "lcores");
	rc = parse_lcore_list(c, config_setting_get_member(eal, "lcores"), e->lcores);
	if (rc < 0)
		return rc;

	rc = conf_int(c, eal, "main_lcore", 0, RTE_MAX_LCORE - 1, &v);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (!lcore_set(c, v))
			return conf_err(c, config_setting_get_member(eal, "main_lcore"),
					"lcore %lld is not in eal.lcores %s", v,
					conf_quote(e->lcores, q, sizeof(q)));
		e->main_lcore = (int)v;
		c->main_lcore = (int)v;
	}

	rc = conf_str_copy(c, eal, "file_prefix", e->file_prefix, sizeof(e->file_prefix));
	if (rc < 0)
		return rc;
	if (rc > 0 && !conf_name_ok(e->file_prefix, sizeof(e->file_prefix)))
		return conf_err(c, config_setting_get_member(eal, "file_prefix"),
				"invalid file prefix %s: use 1..%zu characters of [A-Za-z0-9_-]",
				conf_quote(e->file_prefix, q, sizeof(q)), sizeof(e->file_prefix) - 1);

	rc = conf_u32(c, eal, "memory_mb", 0, 1048576, 0, &e->memory_mb);
	if (rc < 0)
		return rc;
	if (conf_bool(c, eal, "in_memory", &e->in_memory) < 0 ||
	    conf_bool(c, eal, "no_huge", &e->no_huge) < 0 ||
	    conf_bool(c, eal, "no_pci", &e->no_pci) < 0 ||
	    conf_bool(c, eal, "no_telemetry", &e->no_telemetry) < 0)
		return -EINVAL;
	/* DPDK 22.11 treats --no-huge as legacy memory, which it refuses with --in-memory. */
	if (e->in_memory && e->no_huge)
		return conf_err(c, config_setting_get_member(eal, "no_huge"),
				"cannot be combined with in_memory (DPDK refuses --no-huge "
				"with --in-memory); no_huge alone keeps memory private");
	return parse_eal_extra(c, eal);
}

int
conf_parse_workers(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "lcores", "idle", "idle_max_us", "burst", NULL };
	struct sp_conf_workers *w = &c->conf->workers;
	const config_setting_t *grp, *seq;
	uint32_t burst;
	char q[CONF_QBUF];
	const char *idle;
	int rc, i, n;

	w->idle = SP_IDLE_ADAPTIVE;
	rc = conf_group(c, root, "workers", &grp);
	if (rc < 0)
		return rc;
	if (grp == NULL)
		return conf_err_missing(c, NULL, "workers", "lcores");
	rc = conf_known(c, grp, known);
	if (rc < 0)
		return rc;
	rc = conf_seq(c, grp, "lcores", "an array of lcore ids", &seq);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_err_missing(c, grp, NULL, "lcores");
	n = config_setting_length(seq);
	if (n == 0)
		return conf_err(c, seq, "at least one worker lcore is needed");
	if (n > SP_CONF_MAX_WORKERS)
		return conf_err(c, seq, "at most %d workers", SP_CONF_MAX_WORKERS);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(seq, i);
		long long v;
		int j;

		rc = conf_int_value(c, s, 0, RTE_MAX_LCORE - 1, &v);
		if (rc < 0)
			return rc;
		if (!lcore_set(c, v))
			return conf_err(c, s, "lcore %lld is not in eal.lcores %s", v,
					conf_quote(c->conf->eal.lcores, q, sizeof(q)));
		if (v == c->main_lcore)
			return conf_err(c, s, "lcore %lld is the main lcore (the control core)", v);
		for (j = 0; j < i; j++)
			if (w->lcores[j] == v)
				return conf_err(c, s, "lcore %lld is listed twice", v);
		w->lcores[w->n_lcores++] = (unsigned int)v;
	}

	rc = conf_str(c, grp, "idle", &idle);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (strcmp(idle, "poll") == 0)
			w->idle = SP_IDLE_POLL;
		else if (strcmp(idle, "adaptive") == 0)
			w->idle = SP_IDLE_ADAPTIVE;
		else
			return conf_err(c, config_setting_get_member(grp, "idle"),
					"unknown idle mode %s: use \"poll\" or \"adaptive\"",
					conf_quote(idle, q, sizeof(q)));
	}
	rc = conf_u32(c, grp, "idle_max_us", 1, 100000, 1000, &w->idle_max_us);
	if (rc < 0)
		return rc;
	rc = conf_u32(c, grp, "burst", 1, 64, 32, &burst);
	w->burst = (uint16_t)burst;
	return rc;
}

int
conf_parse_mempool(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "mbufs", "cache", "data_room", NULL };
	struct sp_conf_mempool *m = &c->conf->mempool;
	const config_setting_t *grp;
	uint32_t room;
	int rc;

	rc = conf_group(c, root, "mempool", &grp);
	if (rc < 0)
		return rc;
	if (grp != NULL && conf_known(c, grp, known) < 0)
		return -EINVAL;
	if (conf_u32(c, grp, "mbufs", 1023, 16777215, 8191, &m->mbufs) < 0 ||
	    conf_u32(c, grp, "cache", 0, RTE_MEMPOOL_CACHE_MAX_SIZE, 256, &m->cache) < 0 ||
	    conf_u32(c, grp, "data_room", 1152, 65535, 2176, &room) < 0)
		return -EINVAL;
	m->data_room = (uint16_t)room;
	/* rte_mempool refuses a cache whose flush threshold (1.5 x cache) exceeds the pool */
	if ((uint64_t)m->cache * 3 > (uint64_t)m->mbufs * 2)
		return conf_err(c, config_setting_get_member(grp, "cache"),
				"%u is more than mbufs / 1.5 (%u)", m->cache, m->mbufs * 2 / 3);
	return 0;
}

