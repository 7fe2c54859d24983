/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CSR signing policy: which gateway and workload identities a CA grants, and for how long.
 *
 * File syntax (docs/pki.md), one directive per line, '#' starts a comment:
 *   trust-domain example.org
 *   allow workload ns=prod sa=web-*
 *   allow gateway name=edge-?
 *   default-lifetime 1h
 *   max-lifetime 7d
 */

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki_private.h"

int
sp_pki_policy_init(struct sp_pki_policy *p, const char *trust_domain, struct sp_pki_err *err)
{
	int rc;

	memset(p, 0, sizeof(*p));
	rc = sp_pki_trust_domain_check(trust_domain, err);
	if (rc < 0)
		return rc;
	snprintf(p->trust_domain, sizeof(p->trust_domain), "%s", trust_domain);
	p->default_lifetime = SP_PKI_WORKLOAD_LIFETIME;
	p->max_lifetime = 30 * SP_PKI_DAY;
	return 0;
}

/* A glob over one path segment: segment characters and * ? [ ] ! only. */
static int
glob_check(const char *what, const char *g, struct sp_pki_err *err)
{
	const char *c;

	if (*g == '\0')
		return pki_err(err, -EINVAL, "empty %s pattern", what);
	if (strlen(g) > SP_PKI_SEGMENT_MAX)
		return pki_err(err, -EINVAL, "%s pattern longer than %d characters", what,
			       SP_PKI_SEGMENT_MAX);
	for (c = g; *c != '\0'; c++) {
		if (isalnum((unsigned char)*c) || strchr(".-_*?[]!", *c) != NULL)
			continue;
		return pki_err(err, -EINVAL, "bad character '%c' in %s pattern '%s'", *c, what,
			       g);
	}
	return 0;
}

/* "key=value" word: the value if the key matches, else NULL. */
static const char *
value_of(const char *word, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(word, key, n) == 0 && word[n] == '=')
		return word + n + 1;
	return NULL;
}

/* Copy a rule's pattern into a fixed field, refusing (not cutting) one that does not fit. */
static int
copy_field(char *dst, size_t size, const char *src, const char *what, struct sp_pki_err *err)
{
	size_t n = strlen(src);

	if (n >= size)
		return pki_err(err, -EINVAL, "%s pattern longer than %zu characters", what,
			       size - 1);
	memcpy(dst, src, n + 1);
	return 0;
}

int
sp_pki_policy_add_rule(struct sp_pki_policy *p, const char *rule, struct sp_pki_err *err)
{
	char kind[16], a[SP_PKI_SEGMENT_MAX + 16], b[SP_PKI_SEGMENT_MAX + 16];
	struct sp_pki_policy_rule r = { 0 };
	const char *ns, *sa, *name;
	int n, rc;

	pki_err_clear(err);
	if (p->n_rules == SP_PKI_POLICY_MAX_RULES)
		return pki_err(err, -ENOSPC, "more than %d rules", SP_PKI_POLICY_MAX_RULES);
	a[0] = b[0] = '\0';
	n = sscanf(rule, "%15s %143s %143s", kind, a, b);
	if (n >= 2 && strcmp(kind, "workload") == 0) {
		ns = value_of(a, "ns");
		sa = value_of(b, "sa");
		if (n != 3 || ns == NULL || sa == NULL)
			return pki_err(err, -EINVAL, "expected 'workload ns=<glob> sa=<glob>'");
		rc = glob_check("namespace", ns, err);
		if (rc == 0)
			rc = glob_check("service account", sa, err);
		if (rc < 0)
			return rc;
		r.kind = SP_PKI_ID_WORKLOAD;
		rc = copy_field(r.ns, sizeof(r.ns), ns, "namespace", err);
		if (rc == 0)
			rc = copy_field(r.name, sizeof(r.name), sa, "service account", err);
		if (rc < 0)
			return rc;
	} else if (n >= 2 && strcmp(kind, "gateway") == 0) {
		name = value_of(a, "name");
		if (n != 2 || name == NULL)
			return pki_err(err, -EINVAL, "expected 'gateway name=<glob>'");
		rc = glob_check("gateway name", name, err);
		if (rc < 0)
			return rc;
		r.kind = SP_PKI_ID_GATEWAY;
		rc = copy_field(r.name, sizeof(r.name), name, "gateway name", err);
		if (rc < 0)
			return rc;
	} else {
		return pki_err(err, -EINVAL, "expected 'workload ns=<glob> sa=<glob>' or "
			       "'gateway name=<glob>'");
	}
	p->rules[p->n_rules++] = r;
	return 0;
}

/* "3600", "90s", "15m", "24h", "7d". */
static int
parse_duration(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	uint64_t mul = 1;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = SP_PKI_DAY, end++;
	if (*end != '\0' || v == 0 || v > 100ULL * 366 * SP_PKI_DAY / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

static int
directive(struct sp_pki_policy *p, char *line, bool *have_td, struct sp_pki_err *err)
{
	char *arg = line + strcspn(line, " \t");
	uint64_t v;
	int rc;

	if (*arg != '\0')
		*arg++ = '\0';
	arg += strspn(arg, " \t");
	if (strcmp(line, "trust-domain") == 0) {
		if (*have_td)
			return pki_err(err, -EINVAL, "trust-domain given twice");
		if (p->n_rules > 0)
			return pki_err(err, -EINVAL, "trust-domain must come before the rules");
		rc = sp_pki_trust_domain_check(arg, err);
		if (rc < 0)
			return rc;
		snprintf(p->trust_domain, sizeof(p->trust_domain), "%s", arg);
		*have_td = true;
		return 0;
	}
	if (strcmp(line, "allow") == 0) {
		if (!*have_td)
			return pki_err(err, -EINVAL, "trust-domain must come first");
		return sp_pki_policy_add_rule(p, arg, err);
	}
	if (strcmp(line, "default-lifetime") == 0 || strcmp(line, "max-lifetime") == 0) {
		if (parse_duration(arg, &v) < 0)
			return pki_err(err, -EINVAL, "bad duration '%s' (seconds, or N with "
				       "s/m/h/d)", arg);
		if (line[0] == 'd')
			p->default_lifetime = v;
		else
			p->max_lifetime = v;
		return 0;
	}
	return pki_err(err, -EINVAL, "unknown directive '%s'", line);
}

int
sp_pki_policy_load(struct sp_pki_policy *p, const char *path, struct sp_pki_err *err)
{
	bool have_td = false;
	char *buf, *line, *next;
	size_t len;
	int rc, no = 0;

	memset(p, 0, sizeof(*p));
	p->default_lifetime = SP_PKI_WORKLOAD_LIFETIME;
	p->max_lifetime = 30 * SP_PKI_DAY;
	rc = sp_pki_file_read(path, &buf, &len, err);
	if (rc < 0)
		return rc;
	for (line = buf; rc == 0 && line < buf + len; line = next) {
		char *hash, *end;
		struct sp_pki_err e;

		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		no++;
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		line += strspn(line, " \t");
		end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (*line == '\0')
			continue;
		rc = directive(p, line, &have_td, &e);
		if (rc < 0)
			pki_err(err, rc, "%s:%d: %s", path, no, e.msg);
	}
	free(buf);
	if (rc == 0 && !have_td)
		rc = pki_err(err, -EINVAL, "%s: no trust-domain line", path);
	if (rc == 0 && p->default_lifetime > p->max_lifetime)
		rc = pki_err(err, -EINVAL, "%s: default-lifetime is above max-lifetime", path);
	return rc;
}

int
sp_pki_policy_allows(const struct sp_pki_policy *p, const char *id, struct sp_pki_err *err)
{
	char td[SP_PKI_TD_MAX + 1], ns[SP_PKI_SEGMENT_MAX + 1], name[SP_PKI_SEGMENT_MAX + 1];
	unsigned int i;
	int kind, rc;

	pki_err_clear(err);
	rc = sp_pki_spiffe_parse(id, td, sizeof(td), NULL, err);
	if (rc < 0)
		return rc;
	if (strcmp(td, p->trust_domain) != 0)
		return pki_err(err, -EXDEV, "'%.80s' is in a foreign trust domain (this CA serves "
			       "'%s')", id, p->trust_domain);
	kind = sp_pki_spiffe_kind(id, ns, name, err);
	if (kind < 0)
		return kind;
	if (kind != SP_PKI_ID_GATEWAY && kind != SP_PKI_ID_WORKLOAD)
		return pki_err(err, -EINVAL, "'%.80s' is not a gateway (/segment/<name>) or "
			       "workload (/ns/<ns>/sa/<sa>) ID", id);
	for (i = 0; i < p->n_rules; i++) {
		const struct sp_pki_policy_rule *r = &p->rules[i];

		if ((int)r->kind != kind)
			continue;
		if (kind == SP_PKI_ID_WORKLOAD && fnmatch(r->ns, ns, 0) != 0)
			continue;
		if (fnmatch(r->name, name, 0) == 0)
			return 0;
	}
	return pki_err(err, -EACCES, "no policy rule allows '%.80s'", id);
}
