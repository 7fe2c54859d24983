/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPIFFE IDs (https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md):
 * "spiffe://" + trust domain [a-z0-9.-_] + path of segments [A-Za-z0-9.-_], nothing else.
 * The strict grammar is what makes the name constraint (URI host = trust domain) and the
 * policy globs meaningful: no percent-encoding, ports, userinfo or dot segments to play with.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki_private.h"

#define SCHEME "spiffe://"

static bool
td_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       c == '_';
}

static bool
seg_char(char c)
{
	return td_char(c) || (c >= 'A' && c <= 'Z');
}

/* Check td[0..n): the reason, or NULL when fine. */
static const char *
td_problem(const char *td, size_t n)
{
	size_t i;

	if (n == 0)
		return "empty trust domain";
	if (n > SP_PKI_TD_MAX)
		return "trust domain longer than 255 characters";
	for (i = 0; i < n; i++) {
		char c = td[i];

		if (td_char(c))
			continue;
		if (c >= 'A' && c <= 'Z')
			return "upper-case letter in the trust domain (must be lower case)";
		if (c == ':')
			return "a port is not allowed in the trust domain";
		if (c == '@')
			return "userinfo is not allowed in a SPIFFE ID";
		if (c == '%')
			return "percent-encoding is not allowed";
		return "trust domain characters must be [a-z0-9.-_]";
	}
	return NULL;
}

int
sp_pki_trust_domain_check(const char *td, struct sp_pki_err *err)
{
	const char *why;

	pki_err_clear(err);
	if (td == NULL)
		return pki_err(err, -EINVAL, "no trust domain");
	why = td_problem(td, strlen(td));
	if (why != NULL)
		return pki_err(err, -EINVAL, "bad trust domain '%.64s': %s", td, why);
	return 0;
}

/* Check the path (starting with '/', or empty): the reason, or NULL. */
static const char *
path_problem(const char *p)
{
	while (*p != '\0') {
		size_t n;
		const char *s;

		if (*p == '?')
			return "a query is not allowed";
		if (*p == '#')
			return "a fragment is not allowed";
		if (*p != '/')
			return "bad character after the trust domain";
		s = ++p;
		n = strcspn(s, "/");
		if (n == 0)
			return s[0] == '\0' ? "trailing slash" : "empty path segment";
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return "'.' and '..' path segments are not allowed";
		for (p = s; p < s + n; p++) {
			if (seg_char(*p))
				continue;
			if (*p == '?')
				return "a query is not allowed";
			if (*p == '#')
				return "a fragment is not allowed";
			if (*p == '%')
				return "percent-encoding is not allowed";
			return "path characters must be [A-Za-z0-9.-_]";
		}
	}
	return NULL;
}

int
sp_pki_spiffe_parse(const char *id, char *td, size_t td_len, const char **path,
		    struct sp_pki_err *err)
{
	const char *host, *end, *why;
	size_t n, hlen;

	pki_err_clear(err);
	if (id == NULL)
		return pki_err(err, -EINVAL, "no SPIFFE ID");
	n = strlen(id);
	if (n > SP_PKI_SPIFFE_MAX)
		return pki_err(err, -EINVAL, "SPIFFE ID longer than %d bytes", SP_PKI_SPIFFE_MAX);
	if (strncmp(id, SCHEME, strlen(SCHEME)) != 0) {
		if (strncasecmp(id, SCHEME, strlen(SCHEME)) == 0)
			return pki_err(err, -EINVAL, "bad SPIFFE ID '%.80s': the scheme must be "
				       "lower-case 'spiffe://'", id);
		return pki_err(err, -EINVAL, "bad SPIFFE ID '%.80s': not a spiffe:// URI", id);
	}
	host = id + strlen(SCHEME);
	end = host + strcspn(host, "/?#");
	hlen = (size_t)(end - host);
	why = td_problem(host, hlen);
	if (why == NULL)
		why = path_problem(end);
	if (why != NULL)
		return pki_err(err, -EINVAL, "bad SPIFFE ID '%.80s': %s", id, why);
	if (td != NULL) {
		if (hlen >= td_len)
			return pki_err(err, -ENAMETOOLONG, "trust domain buffer too small");
		memcpy(td, host, hlen);
		td[hlen] = '\0';
	}
	if (path != NULL)
		*path = end;
	return 0;
}

/* Copy segment [s, s+n) into out (SP_PKI_SEGMENT_MAX + 1 bytes, may be NULL). */
static int
take_segment(const char *s, size_t n, char *out, struct sp_pki_err *err)
{
	if (n > SP_PKI_SEGMENT_MAX)
		return pki_err(err, -EINVAL, "path segment longer than %d characters",
			       SP_PKI_SEGMENT_MAX);
	if (out != NULL) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
	return 0;
}

int
sp_pki_spiffe_kind(const char *id, char *ns, char *name, struct sp_pki_err *err)
{
	const char *path, *seg[5];
	size_t len[5];
	int n = 0, rc;

	rc = sp_pki_spiffe_parse(id, NULL, 0, &path, err);
	if (rc < 0)
		return rc;
	if (*path == '\0')
		return SP_PKI_ID_TRUST_DOMAIN;
	while (*path == '/' && n < 5) {
		seg[n] = path + 1;
		len[n] = strcspn(seg[n], "/");
		path = seg[n] + len[n];
		n++;
	}
	if (*path != '\0')
		return SP_PKI_ID_OTHER;
	if (n == 2 && len[0] == 7 && strncmp(seg[0], "segment", 7) == 0) {
		rc = take_segment(seg[1], len[1], name, err);
		return rc < 0 ? rc : SP_PKI_ID_GATEWAY;
	}
	if (n == 4 && len[0] == 2 && strncmp(seg[0], "ns", 2) == 0 && len[2] == 2 &&
	    strncmp(seg[2], "sa", 2) == 0) {
		rc = take_segment(seg[1], len[1], ns, err);
		if (rc == 0)
			rc = take_segment(seg[3], len[3], name, err);
		return rc < 0 ? rc : SP_PKI_ID_WORKLOAD;
	}
	return SP_PKI_ID_OTHER;
}

/* Build an ID from printf pieces, then validate the whole. */
static int
build_id(char *out, size_t len, struct sp_pki_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
build_id(char *out, size_t len, struct sp_pki_err *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return pki_err(err, -ENAMETOOLONG, "SPIFFE ID too long");
	return sp_pki_spiffe_parse(out, NULL, 0, NULL, err);
}

static int
check_part(const char *what, const char *s, struct sp_pki_err *err)
{
	const char *p;

	if (s == NULL || *s == '\0')
		return pki_err(err, -EINVAL, "no %s", what);
	if (strlen(s) > SP_PKI_SEGMENT_MAX)
		return pki_err(err, -EINVAL, "%s longer than %d characters", what,
			       SP_PKI_SEGMENT_MAX);
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return pki_err(err, -EINVAL, "%s cannot be '%s'", what, s);
	for (p = s; *p != '\0'; p++)
		if (!seg_char(*p))
			return pki_err(err, -EINVAL, "bad %s '%.64s': characters must be "
				       "[A-Za-z0-9.-_]", what, s);
	return 0;
}

int
sp_pki_spiffe_gateway(char *out, size_t len, const char *td, const char *name,
		      struct sp_pki_err *err)
{
	int rc;

	pki_err_clear(err);
	rc = sp_pki_trust_domain_check(td, err);
	if (rc == 0)
		rc = check_part("gateway name", name, err);
	if (rc == 0)
		rc = build_id(out, len, err, SCHEME "%s/segment/%s", td, name);
	return rc;
}

int
sp_pki_spiffe_workload(char *out, size_t len, const char *td, const char *ns, const char *sa,
		       struct sp_pki_err *err)
{
	int rc;

	pki_err_clear(err);
	rc = sp_pki_trust_domain_check(td, err);
	if (rc == 0)
		rc = check_part("namespace", ns, err);
	if (rc == 0)
		rc = check_part("service account", sa, err);
	if (rc == 0)
		rc = build_id(out, len, err, SCHEME "%s/ns/%s/sa/%s", td, ns, sa);
	return rc;
}

int
sp_pki_cert_spiffe_id(const X509 *cert, char *out, size_t len, struct sp_pki_err *err)
{
	GENERAL_NAMES *gens;
	const ASN1_IA5STRING *uri = NULL;
	int i, n_uri = 0, crit = 0, rc;
	char id[SP_PKI_SPIFFE_MAX + 2];

	pki_err_clear(err);
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL) {
		if (crit == -2)
			return pki_err(err, -EMLINK, "more than one subject alternative name "
				       "extension");
		if (crit >= 0)
			return pki_err_ssl(err, -EINVAL, "the subject alternative name extension "
					   "does not decode");
		return pki_err(err, -ENOENT, "no URI subject alternative name (no SPIFFE ID)");
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);

		if (gn->type == GEN_URI) {
			n_uri++;
			uri = gn->d.uniformResourceIdentifier;
		}
	}
	if (n_uri != 1) {
		GENERAL_NAMES_free(gens);
		return pki_err(err, n_uri ? -EMLINK : -ENOENT, n_uri ?
			       "more than one URI subject alternative name" :
			       "no URI subject alternative name (no SPIFFE ID)");
	}
	if (ASN1_STRING_length(uri) > SP_PKI_SPIFFE_MAX ||
	    memchr(ASN1_STRING_get0_data(uri), '\0', (size_t)ASN1_STRING_length(uri)) != NULL) {
		GENERAL_NAMES_free(gens);
		return pki_err(err, -EINVAL, "URI subject alternative name too long or with NUL");
	}
	memcpy(id, ASN1_STRING_get0_data(uri), (size_t)ASN1_STRING_length(uri));
	id[ASN1_STRING_length(uri)] = '\0';
	GENERAL_NAMES_free(gens);
	rc = sp_pki_spiffe_parse(id, NULL, 0, NULL, err);
	if (rc < 0)
		return rc;
	if (pki_copy(out, len, id) < 0)
		return pki_err(err, -ENAMETOOLONG, "SPIFFE ID buffer too small");
	return 0;
}

int
sp_pki_cert_trust_domain(const X509 *cert, char *td, size_t len, struct sp_pki_err *err)
{
	char id[SP_PKI_SPIFFE_MAX + 1];
	int rc = sp_pki_cert_spiffe_id(cert, id, sizeof(id), err);

	if (rc < 0)
		return rc;
	return sp_pki_spiffe_parse(id, td, len, NULL, err);
}
