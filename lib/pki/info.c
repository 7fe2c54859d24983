/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading certificates: serials, times, what `spctl ca show` and `show certs` print, and when
 * to renew.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki_private.h"

int
sp_pki_cert_serial(const X509 *cert, char *out, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex;
	int rc;

	if (bn == NULL) {
		ERR_clear_error();
		return -ENOMEM;
	}
	hex = BN_bn2hex(bn);
	BN_free(bn);
	if (hex == NULL) {
		ERR_clear_error();
		return -ENOMEM;
	}
	rc = pki_copy(out, len, hex);
	OPENSSL_free(hex);
	return rc;
}

int
sp_pki_serial_parse(const char *in, char out[SP_PKI_SERIAL_HEX_MAX + 1], struct sp_pki_err *err)
{
	char digits[3 * SP_PKI_SERIAL_HEX_MAX];
	const char *p = in;
	size_t n = 0, skip = 0;

	pki_err_clear(err);
	if (in == NULL)
		return pki_err(err, -EINVAL, "no serial");
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p))
			return pki_err(err, -EINVAL, "bad serial '%.64s': hex digits only", in);
		if (n == sizeof(digits) - 1)
			return pki_err(err, -EINVAL, "bad serial '%.64s': too long", in);
		digits[n++] = (char)toupper((unsigned char)*p);
	}
	if (n == 0)
		return pki_err(err, -EINVAL, "bad serial '%.64s': no digits", in);
	while (skip + 1 < n && digits[skip] == '0')
		skip++;
	if (n - skip > SP_PKI_SERIAL_HEX_MAX)
		return pki_err(err, -EINVAL, "bad serial '%.64s': longer than 20 octets", in);
	memcpy(out, digits + skip, n - skip);
	out[n - skip] = '\0';
	return 0;
}

static void
first_uri_constraint(const X509 *cert, char *out, size_t len)
{
	NAME_CONSTRAINTS *nc = X509_get_ext_d2i(cert, NID_name_constraints, NULL, NULL);
	int i;

	out[0] = '\0';
	if (nc == NULL) {
		ERR_clear_error();
		return;
	}
	for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
		GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
		const ASN1_IA5STRING *s;

		if (st->base->type != GEN_URI)
			continue;
		s = st->base->d.uniformResourceIdentifier;
		snprintf(out, len, "%.*s", ASN1_STRING_length(s),
			 (const char *)ASN1_STRING_get0_data(s));
		break;
	}
	NAME_CONSTRAINTS_free(nc);
}

void
sp_pki_name(const X509_NAME *name, char *out, size_t len)
{
	pki_name_str(name, out, len);
}

int
sp_pki_cert_info(const X509 *cert, struct sp_pki_cert_info *info, struct sp_pki_err *err)
{
	X509 *x = (X509 *)cert;  /* the getters below cache extension data: not const in 3.0 */
	uint32_t flags;

	pki_err_clear(err);
	memset(info, 0, sizeof(*info));
	pki_name_str(X509_get_subject_name(cert), info->subject, sizeof(info->subject));
	pki_name_str(X509_get_issuer_name(cert), info->issuer, sizeof(info->issuer));
	if (sp_pki_cert_serial(cert, info->serial, sizeof(info->serial)) < 0)
		snprintf(info->serial, sizeof(info->serial), "?");
	if (sp_pki_cert_spiffe_id(cert, info->spiffe_id, sizeof(info->spiffe_id), NULL) < 0)
		info->spiffe_id[0] = '\0';
	pki_cert_keyid(cert, info->key_id, sizeof(info->key_id));
	flags = X509_get_extension_flags(x);
	info->is_ca = (flags & EXFLAG_CA) != 0;
	info->path_len = info->is_ca ? (int)X509_get_pathlen(x) : -1;
	info->self_signed = X509_self_signed(x, 1) == 1;
	info->key_type = sp_pki_key_type_of(X509_get0_pubkey(cert));
	first_uri_constraint(cert, info->name_constraint, sizeof(info->name_constraint));
	ERR_clear_error();
	if (sp_pki_asn1_time(X509_get0_notBefore(cert), &info->not_before) < 0 ||
	    sp_pki_asn1_time(X509_get0_notAfter(cert), &info->not_after) < 0)
		return pki_err(err, -EINVAL, "the certificate's validity does not parse");
	return 0;
}

int64_t
sp_pki_cert_seconds_left(const X509 *cert, time_t now)
{
	time_t na;

	if (sp_pki_asn1_time(X509_get0_notAfter(cert), &na) < 0)
		return INT64_MIN;
	return (int64_t)na - (int64_t)now;
}

time_t
sp_pki_cert_renew_at(const X509 *cert)
{
	time_t nb, na;

	if (sp_pki_asn1_time(X509_get0_notBefore(cert), &nb) < 0 ||
	    sp_pki_asn1_time(X509_get0_notAfter(cert), &na) < 0 || na < nb)
		return 0;
	return nb + (na - nb) * 2 / 3;
}
