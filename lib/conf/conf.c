/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration, phase one: read the file, let libconfig parse it, then walk the tree section
 * by section into struct sp_conf, refusing the first thing that is wrong. Nothing outside *out
 * is touched, so start-up, --check-config and reload all run exactly this.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_private.h"

static int
parse_name(struct conf_ctx *c, const config_setting_t *root)
{
	char q[CONF_QBUF];
	const char *v;
	int rc = conf_str(c, root, "name", &v);

	snprintf(c->conf->name, sizeof(c->conf->name), "sallyport");
	if (rc <= 0)
		return rc;
	if (!conf_name_ok(v, SP_CONF_NAME_MAX))
		return conf_err(c, config_setting_get_member(root, "name"),
				"invalid name %s: use 1..%d characters of [A-Za-z0-9_-]",
				conf_quote(v, q, sizeof(q)), SP_CONF_NAME_MAX - 1);
	snprintf(c->conf->name, sizeof(c->conf->name), "%s", v);
	return 0;
}
/* Every port's RX ring is filled with mbufs at start: a smaller pool cannot even start. */
static int
check_pool(struct conf_ctx *c, const config_setting_t *root)
{
	const config_setting_t *mp = config_setting_get_member(root, "mempool");
	const config_setting_t *s = mp ? config_setting_get_member(mp, "mbufs") : NULL;
	uint64_t need = 0;
	unsigned int i;

	for (i = 0; i < c->conf->n_ports; i++)
		need += c->conf->ports[i].rx_desc;
	if (c->conf->mempool.mbufs > need)
		return 0;
	if (s == NULL)
		return conf_err_line(c, 0, "mempool.mbufs", "the default %u cannot fill the ports' "
				     "RX rings (%" PRIu64 " descriptors)", c->conf->mempool.mbufs,
				     need);
	return conf_err(c, s, "%u cannot fill the ports' RX rings (%" PRIu64 " descriptors)",
			c->conf->mempool.mbufs, need);
}

static int
parse_all(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "name", "eal", "workers", "mempool", "ports",
		"exception", "routes", "neighbors", "icmp", "log", "console", "pki", "issuer", "crypto", "tunnels", NULL };

	if (conf_known(c, root, known) < 0 ||
	    parse_name(c, root) < 0 ||
	    conf_parse_eal(c, root) < 0 ||
	    conf_parse_workers(c, root) < 0 ||
	    conf_parse_mempool(c, root) < 0 ||
	    conf_parse_ports(c, root) < 0 ||
	    check_pool(c, root) < 0 ||
	    conf_parse_exception(c, root) < 0 ||
	    conf_parse_routes(c, root) < 0 ||
	    conf_parse_neigh(c, root) < 0 ||
	    conf_parse_icmp(c, root) < 0 ||
	    conf_parse_log(c, root) < 0 ||
	    conf_parse_console(c, root) < 0 ||
	    conf_parse_pki(c, root) < 0 ||
	    conf_parse_issuer(c, root) < 0 ||
	    conf_parse_crypto(c, root) < 0 ||
	    conf_parse_tunnels(c, root) < 0)
		return -EINVAL;
	return 0;
}

static int
text_lines(const char *text)
{
	int n = 1;

	for (; *text != '\0'; text++)
		if (*text == '\n' && text[1] != '\0')
			n++;
	return n;
}

int
sp_conf_load_string(const char *text, const char *name, struct sp_conf *out,
		    struct sp_conf_err *err)
{
	struct sp_conf_err dummy;
	struct conf_ctx *c;
	char *scanned;
	config_t cfg;
	int rc;

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (name == NULL)
		name = "(string)";
	if (text == NULL || out == NULL) {
		snprintf(err->msg, sizeof(err->msg), "%s: no configuration", name);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->path, sizeof(out->path), "%s", name);
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", name);
		return -ENOMEM;
	}
	c->file = name;
	c->conf = out;
	c->err = err;

	rc = conf_prescan(c, text, &scanned);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err->msg, sizeof(err->msg), "%s: out of memory", name);
		free(c);
		return rc;
	}
	config_init(&cfg);
	if (config_read_string(&cfg, scanned) != CONFIG_TRUE) {
		const char *t = config_error_text(&cfg);
		int line = config_error_line(&cfg), last = text_lines(text);

		/* at the end of the text: the last line, not the newline the pre-scan added */
		if (line > last)
			line = last;
		/* libconfig's text is mostly "syntax error" itself: say it once */
		if (t == NULL || strcmp(t, "syntax error") == 0)
			conf_err_line(c, line, NULL, "syntax error");
		else
			conf_err_line(c, line, NULL, "syntax error: %s", t);
		rc = -EINVAL;
	} else {
		rc = parse_all(c, config_root_setting(&cfg));
	}
	config_destroy(&cfg);
	free(scanned);
	free(c);
	return rc;
}

static int
read_error(const char *path, int errnum, struct sp_conf_err *err)
{
	snprintf(err->file, sizeof(err->file), "%s", path);
	snprintf(err->msg, sizeof(err->msg), "%s: cannot read: %s", path, strerror(errnum));
	return -errnum;
}

int
sp_conf_load(const char *path, struct sp_conf *out, struct sp_conf_err *err)
{
	struct sp_conf_err dummy;
	char *buf = NULL, *nul;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	f = fopen(path, "r");
	if (f == NULL)
		return read_error(path, errno, err);
	for (;;) {
		size_t got;

		if (len + 1 >= cap) {
			char *nb;

			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				rc = read_error(path, ENOMEM, err);
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
		if (len > CONF_MAX_SIZE) {
			snprintf(err->file, sizeof(err->file), "%s", path);
			snprintf(err->msg, sizeof(err->msg), "%s: larger than %u MiB", path,
				 CONF_MAX_SIZE >> 20);
			rc = -EINVAL;
			goto out;
		}
	}
	if (ferror(f)) {
		rc = read_error(path, errno ? errno : EIO, err);
		goto out;
	}
	buf[len] = '\0';
	/* a NUL would silently cut the file short */
	nul = memchr(buf, '\0', len);
	if (nul != NULL) {
		int line = 1;
		const char *p;

		for (p = buf; p < nul; p++)
			line += *p == '\n';
		snprintf(err->file, sizeof(err->file), "%s", path);
		err->line = line;
		snprintf(err->msg, sizeof(err->msg), "%s:%d: syntax error: NUL byte in the file",
			 path, line);
		rc = -EINVAL;
		goto out;
	}
	rc = sp_conf_load_string(buf, path, out, err);
out:
	fclose(f);
	free(buf);
	return rc;
}

int
sp_conf_main_lcore(const struct sp_conf *conf)
{
	const char *p = conf->eal.lcores;
	int lowest = -1;

	if (conf->eal.main_lcore >= 0)
		return conf->eal.main_lcore;
	/* validated syntax: the lowest id of the list is EAL's default */
	while (*p != '\0') {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (lowest < 0 || v < lowest)
			lowest = (int)v;
		p = *end ? end + 1 : end;
	}
	return lowest;
}
