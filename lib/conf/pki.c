/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pki and issuer: the gateway's own certificate and the workload issuance endpoint. Only the
 * shape of the settings is checked here; lib/certd reads the files and verifies them.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "conf_private.h"

/* An absolute path without control characters or spaces: required (1), or absent (0). */
static int
path_setting(struct conf_ctx *c, const config_setting_t *grp, const char *name, char *buf,
	     bool required)
{
	const config_setting_t *s = config_setting_get_member(grp, name);
	int rc = conf_str_copy(c, grp, name, buf, SP_CONF_PATH_MAX);
	char q[CONF_QBUF];

	if (rc < 0)
		return rc;
	if (rc == 0)
		return required ? conf_err_missing(c, grp, NULL, name) : 0;
	if (buf[0] != '/')
		return conf_err(c, s, "%s is not an absolute path", conf_quote(buf, q, sizeof(q)));
	if (buf[strlen(buf) - 1] == '/')
		return conf_err(c, s, "%s is a directory, not a file",
				conf_quote(buf, q, sizeof(q)));
	return 1;
}

/* "ADDR:PORT" or "[ADDR6]:PORT"; port 1..65535. */
static int
parse_hostport(const char *v, struct sp_ip *ip, uint16_t *port)
{
	char host[64];
	const char *colon, *h = v;
	size_t hl;
	char *end;
	long p;

	if (v[0] == '[') {
		const char *rb = strchr(v, ']');

		if (rb == NULL || rb[1] != ':')
			return -EINVAL;
		h = v + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL)
			return -EINVAL;
		hl = (size_t)(colon - v);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (v[0] != '[' && strchr(host, ':') != NULL)
		return -EINVAL;
	if (sp_ip_parse(host, ip, false) < 0)
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || p < 1 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int
parse_renew(struct conf_ctx *c, const config_setting_t *pki)
{
	static const char *const known[] = { "source", "ca_cert", "ca_key", "url", "at",
		"retry_s", NULL };
	struct sp_conf_pki *k = &c->conf->pki;
	const config_setting_t *grp, *s;
	char q[CONF_QBUF];
	const char *v;
	int rc;

	k->renew.at = 2.0 / 3.0;
	k->renew.retry_s = 30;
	rc = conf_group(c, pki, "renew", &grp);
	if (rc <= 0)
		return rc;
	if (conf_known(c, grp, known) < 0)
		return -EINVAL;
	k->renew.enabled = true;
	rc = conf_str(c, grp, "source", &v);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_err_missing(c, grp, NULL, "source");
	s = config_setting_get_member(grp, "source");
	if (strcmp(v, "file") == 0)
		k->renew.source = SP_RENEW_FILE;
	else if (strcmp(v, "gateway") == 0)
		k->renew.source = SP_RENEW_GATEWAY;
	else
		return conf_err(c, s, "unknown source %s: use \"file\" or \"gateway\"",
				conf_quote(v, q, sizeof(q)));
	if (path_setting(c, grp, "ca_cert", k->renew.ca_cert,
			 k->renew.source == SP_RENEW_FILE) < 0 ||
	    path_setting(c, grp, "ca_key", k->renew.ca_key, k->renew.source == SP_RENEW_FILE) < 0)
		return -EINVAL;
	rc = conf_str(c, grp, "url", &v);
	if (rc < 0)
		return rc;
	if (rc == 0 && k->renew.source == SP_RENEW_GATEWAY)
		return conf_err_missing(c, grp, NULL, "url");
	if (rc > 0) {
		const char *hp = v + 8;
		char buf[SP_CONF_URL_MAX];
		size_t l;

		s = config_setting_get_member(grp, "url");
		if (strncmp(v, "https://", 8) != 0)
			return conf_err(c, s, "%s: only https:// URLs are supported",
					conf_quote(v, q, sizeof(q)));
		l = strlen(hp);
		if (l > 0 && hp[l - 1] == '/')
			l--;
		if (l >= sizeof(buf) || strlen(v) >= sizeof(k->renew.url))
			return conf_err(c, s, "%s is too long", conf_quote(v, q, sizeof(q)));
		memcpy(buf, hp, l);
		buf[l] = '\0';
		if (parse_hostport(buf, &k->renew.url_addr, &k->renew.url_port) < 0)
			return conf_err(c, s, "%s: use \"https://ADDRESS:PORT\" (an IP address, "
					"IPv6 in brackets)", conf_quote(v, q, sizeof(q)));
		snprintf(k->renew.url, sizeof(k->renew.url), "%s", v);
	}
	s = config_setting_get_member(grp, "at");
	if (s != NULL) {
		double at;

		if (config_setting_type(s) != CONFIG_TYPE_FLOAT)
			return conf_err(c, s, "must be a number with a decimal point, e.g. 0.6667");
		at = config_setting_get_float(s);
		if (!(at >= 0.1 && at <= 0.95))
			return conf_err(c, s, "%g is out of range (0.1..0.95 of the lifetime)", at);
		k->renew.at = at;
	}
	return conf_u32(c, grp, "retry_s", 1, 86400, 30, &k->renew.retry_s);
}

int
conf_parse_pki(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "cert", "key", "bundle", "crls", "identity", "renew",
		"watch", NULL };
	struct sp_conf_pki *k = &c->conf->pki;
	const config_setting_t *grp, *seq;
	char q[CONF_QBUF];
	int rc, i, n;

	k->watch = true;
	k->renew.at = 2.0 / 3.0;
	k->renew.retry_s = 30;
	rc = conf_group(c, root, "pki", &grp);
	if (rc <= 0)
		return rc;
	if (conf_known(c, grp, known) < 0)
		return -EINVAL;
	k->enabled = true;
	if (path_setting(c, grp, "cert", k->cert, true) < 0 ||
	    path_setting(c, grp, "key", k->key, true) < 0 ||
	    path_setting(c, grp, "bundle", k->bundle, true) < 0)
		return -EINVAL;
	rc = conf_seq(c, grp, "crls", "a list of paths", &seq);
	if (rc < 0)
		return rc;
	n = rc > 0 ? config_setting_length(seq) : 0;
	if (n > SP_CONF_MAX_CRLS)
		return conf_err(c, seq, "at most %d entries", SP_CONF_MAX_CRLS);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(seq, i);
		const char *v;

		if (conf_str_value(c, e, &v) < 0)
			return -EINVAL;
		if (v[0] != '/' || !conf_printable(v))
			return conf_err(c, e, "%s is not an absolute path",
					conf_quote(v, q, sizeof(q)));
		if (strlen(v) >= SP_CONF_PATH_MAX)
			return conf_err(c, e, "%s is too long", conf_quote(v, q, sizeof(q)));
		snprintf(k->crls[k->n_crls++], SP_CONF_PATH_MAX, "%s", v);
	}
	rc = conf_str_copy(c, grp, "identity", k->identity, sizeof(k->identity));
	if (rc < 0)
		return rc;
	if (rc > 0 && strncmp(k->identity, "spiffe://", 9) != 0)
		return conf_err(c, config_setting_get_member(grp, "identity"),
				"%s is not a SPIFFE ID (spiffe://<trust-domain>/segment/<name>)",
				conf_quote(k->identity, q, sizeof(q)));
	if (conf_bool(c, grp, "watch", &k->watch) < 0)
		return -EINVAL;
	return parse_renew(c, grp);
}

int
conf_parse_issuer(struct conf_ctx *c, const config_setting_t *root)
{
	static const char *const known[] = { "enabled", "listen", "ca_cert", "ca_key", "policy",
		"tokens", "audit", "max_seconds", "max_conns", NULL };
	struct sp_conf_issuer *k = &c->conf->issuer;
	const config_setting_t *grp, *s;
	char q[CONF_QBUF];
	const char *v;
	int rc;

	k->max_seconds = 86400;
	k->max_conns = 64;
	rc = conf_group(c, root, "issuer", &grp);
	if (rc <= 0)
		return rc;
	if (conf_known(c, grp, known) < 0 || conf_bool(c, grp, "enabled", &k->enabled) < 0)
		return -EINVAL;
	if (conf_u32(c, grp, "max_seconds", 60, 31536000, 86400, &k->max_seconds) < 0 ||
	    conf_u32(c, grp, "max_conns", 1, 1024, 64, &k->max_conns) < 0)
		return -EINVAL;
	if (!k->enabled)
		return 0;
	if (!c->conf->pki.enabled)
		return conf_err(c, config_setting_get_member(grp, "enabled"),
				"the endpoint needs the gateway's certificate: add a pki section");
	rc = conf_str(c, grp, "listen", &v);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_err_missing(c, grp, NULL, "listen");
	s = config_setting_get_member(grp, "listen");
	if (strlen(v) >= sizeof(k->listen_str) || parse_hostport(v, &k->listen, &k->port) < 0)
		return conf_err(c, s, "%s: use \"ADDRESS:PORT\" (IPv6 as \"[ADDRESS]:PORT\")",
				conf_quote(v, q, sizeof(q)));
	if (!conf_own_address(c->conf, &k->listen))
		return conf_err(c, s, "%s is not an address of the gateway (ports.*.addresses)",
				conf_quote(v, q, sizeof(q)));
	if (!c->conf->exception.enabled)
		return conf_err(c, s, "the endpoint listens on the exception port: set "
				"exception.enabled");
	snprintf(k->listen_str, sizeof(k->listen_str), "%s", v);
	if (path_setting(c, grp, "ca_cert", k->ca_cert, true) < 0 ||
	    path_setting(c, grp, "ca_key", k->ca_key, true) < 0 ||
	    path_setting(c, grp, "policy", k->policy, true) < 0 ||
	    path_setting(c, grp, "tokens", k->tokens, true) < 0 ||
	    path_setting(c, grp, "audit", k->audit, true) < 0)
		return -EINVAL;
	return 0;
}
