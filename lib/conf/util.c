/* SPDX-License-Identifier: BSD-3-Clause */
/* Error messages and typed access to libconfig settings, shared by every section's parser. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_private.h"

/* libconfig's path syntax: members by name, list and array elements as "[i]". */
void
conf_path(const config_setting_t *s, char *buf, size_t size)
{
	const config_setting_t *chain[CONF_MAX_DEPTH + 4];
	unsigned int n = 0;
	size_t len = 0;

	buf[0] = '\0';
	for (; s != NULL && !config_setting_is_root(s) && n < RTE_DIM(chain);
	     s = config_setting_parent(s))
		chain[n++] = s;
	while (n-- > 0) {
		const config_setting_t *e = chain[n];
		const char *name = config_setting_name(e);
		int w;

		if (name != NULL)
			w = snprintf(buf + len, size - len, "%s%s", len ? "." : "", name);
		else
			w = snprintf(buf + len, size - len, "%s[%d]", len ? "." : "",
				     config_setting_index(e));
		if (w < 0 || (size_t)w >= size - len)
			return;
		len += w;
	}
}

const char *
conf_quote(const char *s, char *buf, size_t size)
{
	size_t o = 0, i;

	if (size < 8)
		return "";
	buf[o++] = '"';
	for (i = 0; s[i] != '\0' && o + 8 < size; i++) {
		unsigned char ch = s[i];

		if (i == CONF_QUOTE_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			o += snprintf(buf + o, size - o, "\\x%02x", ch);
		} else {
			buf[o++] = ch;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* A message too long for its buffer is cut short, never split over lines. */
static void
append(char *buf, size_t size, size_t *len, const char *s)
{
	size_t l = strlen(s);

	if (*len + l >= size)
		l = size - *len - 1;
	memcpy(buf + *len, s, l);
	*len += l;
	buf[*len] = '\0';
}

static int
verr(struct conf_ctx *c, int line, const char *setting, const char *fmt, va_list ap)
{
	struct sp_conf_err *e = c->err;
	char reason[SP_CONF_ERR_MAX];
	size_t len;
	int n;

	vsnprintf(reason, sizeof(reason), fmt, ap);
	snprintf(e->file, sizeof(e->file), "%s", c->file);
	snprintf(e->setting, sizeof(e->setting), "%s", setting ? setting : "");
	e->line = line;
	if (line > 0)
		n = snprintf(e->msg, sizeof(e->msg), "%s:%d: ", c->file, line);
	else
		n = snprintf(e->msg, sizeof(e->msg), "%s: ", c->file);
	if (n < 0 || (size_t)n >= sizeof(e->msg))
		return -EINVAL;
	len = n;
	if (setting != NULL && setting[0] != '\0') {
		append(e->msg, sizeof(e->msg), &len, setting);
		append(e->msg, sizeof(e->msg), &len, ": ");
	}
	append(e->msg, sizeof(e->msg), &len, reason);
	return -EINVAL;
}

int
conf_err_line(struct conf_ctx *c, int line, const char *setting, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(c, line, setting, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
conf_err(struct conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char path[128];
	va_list ap;

	conf_path(s, path, sizeof(path));
	va_start(ap, fmt);
	verr(c, config_setting_source_line(s), path, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A missing setting has no line; its path is the group's (or parent_path when absent). */
int
conf_err_missing(struct conf_ctx *c, const config_setting_t *group, const char *parent_path,
		 const char *name)
{
	char path[128], full[160];

	if (group != NULL)
		conf_path(group, path, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s", parent_path ? parent_path : "");
	snprintf(full, sizeof(full), "%s%s%s", path, path[0] ? "." : "", name);
	return conf_err_line(c, 0, full, "required setting missing");
}

/* Edit distance, for "did you mean". Names are short: a two-row table is enough. */
static unsigned int
distance(const char *a, const char *b)
{
	unsigned int prev[64], cur[64], i, j;
	size_t la = strlen(a), lb = strlen(b);

	if (la >= RTE_DIM(prev) || lb >= RTE_DIM(prev))
		return 99;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned int del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? sub : del;
			if (ins < cur[j])
				cur[j] = ins;
		}
		memcpy(prev, cur, sizeof(cur[0]) * (lb + 1));
	}
	return prev[lb];
}

int
conf_known(struct conf_ctx *c, const config_setting_t *group, const char *const names[])
{
	int i, n = config_setting_length(group);

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		const char *best = NULL;
		unsigned int j, best_d = 3;
		bool found = false;

		for (j = 0; names[j] != NULL; j++) {
			unsigned int d;

			if (strcmp(name, names[j]) == 0) {
				found = true;
				break;
			}
			d = distance(name, names[j]);
			if (d < best_d) {
				best_d = d;
				best = names[j];
			}
		}
		if (found)
			continue;
		/* a suggestion only when the typo is small next to the name */
		if (best != NULL && best_d * 2 > RTE_MAX(strlen(name), strlen(best)))
			best = NULL;
		if (best != NULL)
			return conf_err(c, s, "unknown setting (did you mean \"%s\"?)", best);
		return conf_err(c, s, "unknown setting");
	}
	return 0;
}

int
conf_group(struct conf_ctx *c, const config_setting_t *parent, const char *name,
	   const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

	*out = s;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return conf_err(c, s, "must be a group { ... }");
	return 1;
}

/* Lists and arrays are both accepted for sequences: "( ... )" vs "[ ... ]" is easy to mix up. */
int
conf_seq(struct conf_ctx *c, const config_setting_t *parent, const char *name, const char *what,
	 const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

	*out = s;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_LIST && config_setting_type(s) != CONFIG_TYPE_ARRAY)
		return conf_err(c, s, "must be %s", what);
	return 1;
}

int
conf_int_value(struct conf_ctx *c, const config_setting_t *s, long long lo, long long hi,
	       long long *out)
{
	long long v;

	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else
		return conf_err(c, s, "must be an integer");
	if (v < lo || v > hi)
		return conf_err(c, s, "%lld is out of range %lld..%lld", v, lo, hi);
	*out = v;
	return 1;
}

int
conf_int(struct conf_ctx *c, const config_setting_t *parent, const char *name, long long lo,
	 long long hi, long long *out)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

	if (s == NULL)
		return 0;
	return conf_int_value(c, s, lo, hi, out);
}

int
conf_u32(struct conf_ctx *c, const config_setting_t *parent, const char *name, uint32_t lo,
	 uint32_t hi, uint32_t def, uint32_t *out)
{
	long long v;
	int rc;

	*out = def;
	if (parent == NULL)
		return 0;
	rc = conf_int(c, parent, name, lo, hi, &v);
	if (rc > 0)
		*out = (uint32_t)v;
	return rc < 0 ? rc : 0;
}

int
conf_bool(struct conf_ctx *c, const config_setting_t *parent, const char *name, bool *out)
{
	const config_setting_t *s;

	if (parent == NULL)
		return 0;
	s = config_setting_get_member(parent, name);
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return conf_err(c, s, "must be a boolean (true or false)");
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

int
conf_str_value(struct conf_ctx *c, const config_setting_t *s, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_err(c, s, "must be a string");
	*out = config_setting_get_string(s);
	if (*out == NULL)
		*out = "";
	return 1;
}

int
conf_str(struct conf_ctx *c, const config_setting_t *parent, const char *name, const char **out)
{
	const config_setting_t *s;

	if (parent == NULL)
		return 0;
	s = config_setting_get_member(parent, name);
	if (s == NULL)
		return 0;
	return conf_str_value(c, s, out);
}

int
conf_str_copy(struct conf_ctx *c, const config_setting_t *parent, const char *name, char *buf,
	      size_t size)
{
	char q[CONF_QBUF];
	const char *v;
	int rc = conf_str(c, parent, name, &v);

	if (rc <= 0)
		return rc;
	if (v[0] == '\0')
		return conf_err(c, config_setting_get_member(parent, name), "must not be empty");
	if (!conf_printable(v))
		return conf_err(c, config_setting_get_member(parent, name),
				"%s contains control characters or spaces",
				conf_quote(v, q, sizeof(q)));
	if (strlen(v) >= size)
		return conf_err(c, config_setting_get_member(parent, name),
				"%s is too long (at most %zu characters)",
				conf_quote(v, q, sizeof(q)), size - 1);
	memcpy(buf, v, strlen(v) + 1);
	return 1;
}

/* [A-Za-z0-9_-]{1,max-1}: names of the gateway, ports, files. */
bool
conf_name_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return i > 0 && i < max;
}

/* Printable ASCII without spaces: device strings, EAL arguments, paths. */
bool
conf_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Exactly "xx:xx:xx:xx:xx:xx". @return 0 or -EINVAL. */
int
conf_mac_parse(const char *s, struct rte_ether_addr *mac)
{
	unsigned int i;

	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++) {
		const char *p = s + i * 3;
		char hex[3] = { p[0], p[1], '\0' };

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			return -EINVAL;
		if (i < RTE_ETHER_ADDR_LEN - 1 && p[2] != ':')
			return -EINVAL;
		mac->addr_bytes[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	return 0;
}

bool
conf_own_address(const struct sp_conf *conf, const struct sp_ip *ip)
{
	unsigned int p, i, a;

	for (p = 0; p < conf->n_ports; p++)
		for (i = 0; i < conf->ports[p].n_ifaces; i++)
			for (a = 0; a < conf->ports[p].ifaces[i].n_addrs; a++)
				if (sp_ip_equal(&conf->ports[p].ifaces[i].addrs[a], ip))
					return true;
	return false;
}
