/* SPDX-License-Identifier: BSD-3-Clause */
/* Console: show certs, certs reload, certs renew. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "certd_private.h"
#include "sp_console.h"

static struct sp_certd *cli_cd;

void
certd_cli_attach(struct sp_certd *cd)
{
	cli_cd = cd;
}

struct row {
	const char *role;
	char subject[SP_PKI_NAME_MAX];
	char spiffe_id[SP_PKI_SPIFFE_MAX + 1];
	char serial[SP_PKI_SERIAL_HEX_MAX + 1];
	time_t not_after;
	double days_left;
	const char *state;
};

static void
cert_row(struct row *r, const char *role, X509 *x, time_t now, time_t renew_at)
{
	struct sp_pki_cert_info info;

	memset(r, 0, sizeof(*r));
	r->role = role;
	if (sp_pki_cert_info(x, &info, NULL) < 0) {
		r->state = "unreadable";
		return;
	}
	snprintf(r->subject, sizeof(r->subject), "%s", info.subject);
	snprintf(r->spiffe_id, sizeof(r->spiffe_id), "%s", info.spiffe_id);
	snprintf(r->serial, sizeof(r->serial), "%s", info.serial);
	r->not_after = info.not_after;
	r->days_left = (double)(info.not_after - now) / 86400.0;
	if (now < info.not_before)
		r->state = "not-yet-valid";
	else if (now >= info.not_after)
		r->state = "expired";
	else if (renew_at != 0 && now >= renew_at)
		r->state = "renewing";
	else
		r->state = "valid";
}

static void
crl_row(struct row *r, X509_CRL *crl, time_t now)
{
	time_t tu = 0, nu = 0;
	uint64_t num = 0;

	memset(r, 0, sizeof(*r));
	r->role = "crl";
	X509_NAME_oneline(X509_CRL_get_issuer(crl), r->subject, sizeof(r->subject));
	if (sp_pki_crl_number(crl, &num) == 0)
		snprintf(r->serial, sizeof(r->serial), "%llu", (unsigned long long)num);
	sp_pki_crl_times(crl, &tu, &nu);
	r->not_after = nu;
	r->days_left = (double)(nu - now) / 86400.0;
	r->state = nu != 0 && now >= nu ? "stale" : "current";
}

typedef void (*row_fn)(const struct row *r, void *arg);

static void
each_row(struct sp_certd *cd, row_fn fn, void *arg)
{
	struct sp_certd_material *m = cd->cur;
	time_t now = time(NULL);
	struct row r;
	int i;

	if (m == NULL)
		return;
	cert_row(&r, "gateway", m->cert, now, cd->renew_at);
	fn(&r, arg);
	for (i = 0; i < sk_X509_num(m->chain); i++) {
		cert_row(&r, "chain", sk_X509_value(m->chain, i), now, 0);
		fn(&r, arg);
	}
	for (i = 0; i < sk_X509_num(m->bundle); i++) {
		cert_row(&r, "bundle-root", sk_X509_value(m->bundle, i), now, 0);
		fn(&r, arg);
	}
	for (i = 0; i < sk_X509_CRL_num(m->crls); i++) {
		crl_row(&r, sk_X509_CRL_value(m->crls, i), now);
		fn(&r, arg);
	}
}

static void
json_row(const struct row *r, void *arg)
{
	struct sp_json *j = arg;
	char t[32];

	sp_pki_time_str(r->not_after, t);
	sp_json_obj_open(j, NULL);
	sp_json_str(j, "role", r->role);
	sp_json_str(j, "subject", r->subject);
	sp_json_str(j, "spiffe_id", r->spiffe_id);
	sp_json_str(j, "serial", r->serial);
	sp_json_str(j, "not_after", t);
	sp_json_double(j, "days_left", r->days_left);
	sp_json_str(j, "state", r->state);
	sp_json_obj_close(j);
}

static void
text_row(const struct row *r, void *arg)
{
	struct cmdline *cl = arg;
	char t[32];

	sp_pki_time_str(r->not_after, t);
	cmdline_printf(cl, "%-12s %-14s %10.4f  %-20s  %s\n", r->role, r->state, r->days_left,
		       t, r->serial);
	cmdline_printf(cl, "             subject %s\n", r->subject);
	if (r->spiffe_id[0] != '\0')
		cmdline_printf(cl, "             id %s\n", r->spiffe_id);
}

struct show_res {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t certs;
	uint8_t json;
};

static void
show_certs(void *parsed, struct cmdline *cl, void *data)
{
	struct show_res *res = parsed;
	struct sp_certd *cd = cli_cd;
	char t[32];

	(void)data;
	if (cd == NULL) {
		sp_console_error(cl, "certificate state not running");
		return;
	}
	if (res->json) {
		struct sp_json j;

		sp_json_begin(&j, cl);
		sp_json_obj_open(&j, NULL);
		sp_json_bool(&j, "enabled", cd->pki.enabled);
		sp_json_arr_open(&j, "certs");
		each_row(cd, json_row, &j);
		sp_json_arr_close(&j);
		sp_json_obj_open(&j, "renewal");
		sp_json_str(&j, "source", !cd->pki.renew.enabled ? "none" :
			    cd->pki.renew.source == SP_RENEW_FILE ? "file" : "gateway");
		sp_pki_time_str(cd->renew_at, t);
		sp_json_str(&j, "renew_at", cd->renew_at ? t : "");
		sp_json_bool(&j, "in_progress", cd->renewing);
		sp_json_str(&j, "last_error", cd->last_renew_err);
		sp_json_obj_close(&j);
		sp_json_str(&j, "last_reload_error", cd->last_reload_err);
		sp_json_obj_open(&j, "counters");
		sp_json_u64(&j, "renewals", cd->cnt.renewals);
		sp_json_u64(&j, "renewal_failures", cd->cnt.renewal_failures);
		sp_json_u64(&j, "reloads", cd->cnt.reloads);
		sp_json_u64(&j, "reload_failures", cd->cnt.reload_failures);
		sp_json_u64(&j, "issued", cd->cnt.issued);
		sp_json_u64(&j, "issue_refused", cd->cnt.issue_refused);
		sp_json_obj_close(&j);
		sp_json_obj_close(&j);
		sp_json_end(&j);
		return;
	}
	if (!cd->pki.enabled) {
		cmdline_printf(cl, "no pki section: the gateway has no certificate\n");
		return;
	}
	cmdline_printf(cl, "%-12s %-14s %10s  %-20s  %s\n", "role", "state", "days-left",
		       "not-after", "serial");
	each_row(cd, text_row, cl);
	if (cd->renew_at != 0) {
		sp_pki_time_str(cd->renew_at, t);
		cmdline_printf(cl, "renewal: %s at %s%s\n",
			       cd->pki.renew.source == SP_RENEW_FILE ? "file" : "gateway", t,
			       cd->renewing ? " (in progress)" : "");
	}
	if (cd->last_renew_err[0] != '\0')
		cmdline_printf(cl, "last renewal error: %s\n", cd->last_renew_err);
	if (cd->last_reload_err[0] != '\0')
		cmdline_printf(cl, "last reload error: %s\n", cd->last_reload_err);
	cmdline_printf(cl, "renewals %llu, renewal failures %llu, reloads %llu, reload failures "
		       "%llu, issued %llu, refused %llu\n",
		       (unsigned long long)cd->cnt.renewals,
		       (unsigned long long)cd->cnt.renewal_failures,
		       (unsigned long long)cd->cnt.reloads,
		       (unsigned long long)cd->cnt.reload_failures,
		       (unsigned long long)cd->cnt.issued,
		       (unsigned long long)cd->cnt.issue_refused);
}

static cmdline_parse_token_string_t tok_show = TOKEN_STRING_INITIALIZER(struct show_res, show,
									 "show");
static cmdline_parse_token_string_t tok_certs = TOKEN_STRING_INITIALIZER(struct show_res, certs,
									  "certs");
static struct sp_token_json tok_json = SP_TOKEN_JSON_INITIALIZER(struct show_res, json);

static cmdline_parse_inst_t cmd_show_certs = {
	.f = show_certs,
	.help_str = "show certs [--json]: the gateway's certificate, chain, trust bundle and CRLs "
		    "with days left, and the renewal counters",
	.tokens = { (void *)&tok_show, (void *)&tok_certs, (void *)&tok_json, NULL },
};
SP_CONSOLE_CMD(cmd_show_certs, SP_ACCESS_READ);

struct op_res {
	cmdline_fixed_string_t certs;
	cmdline_fixed_string_t op;
};

static void
certs_op(void *parsed, struct cmdline *cl, void *data)
{
	struct op_res *res = parsed;
	char msg[600];
	int rc;

	(void)data;
	if (cli_cd == NULL || !cli_cd->pki.enabled) {
		sp_console_error(cl, "no pki section: the gateway has no certificate");
		return;
	}
	if (strcmp(res->op, "reload") == 0)
		rc = sp_certd_reload(cli_cd, NULL, msg, sizeof(msg));
	else
		rc = sp_certd_renew(cli_cd, msg, sizeof(msg));
	if (rc < 0)
		sp_console_error(cl, "%s", msg);
	else
		cmdline_printf(cl, "%s\n", msg);
}

static cmdline_parse_token_string_t tok_op_certs = TOKEN_STRING_INITIALIZER(struct op_res, certs,
									     "certs");
static cmdline_parse_token_string_t tok_reload = TOKEN_STRING_INITIALIZER(struct op_res, op,
									   "reload");
static cmdline_parse_token_string_t tok_renew = TOKEN_STRING_INITIALIZER(struct op_res, op,
									  "renew");

static cmdline_parse_inst_t cmd_certs_reload = {
	.f = certs_op,
	.help_str = "certs reload: re-read the pki files and swap them in if they verify",
	.tokens = { (void *)&tok_op_certs, (void *)&tok_reload, NULL },
};
SP_CONSOLE_CMD(cmd_certs_reload, SP_ACCESS_ADMIN);

static cmdline_parse_inst_t cmd_certs_renew = {
	.f = certs_op,
	.help_str = "certs renew: renew the gateway's certificate now",
	.tokens = { (void *)&tok_op_certs, (void *)&tok_renew, NULL },
};
SP_CONSOLE_CMD(cmd_certs_renew, SP_ACCESS_ADMIN);
