/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/certd: start-up refusals with their messages, renewal scheduling, the swap when the
 * files change (inotify), a refused swap that keeps the old material, and a local renewal.
 * Material is made with lib/pki in a temporary directory.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "test_common.h"
#include "sp_certd.h"
#include "sp_ctl.h"
#include "sp_pki.h"

#define TD "td.test"
#define GW_ID "spiffe://td.test/segment/a"

static char dir[64];
static EVP_PKEY *root_key, *int_key, *root2_key;
static X509 *root, *inter, *root2;

static void
path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static X509 *
issue(enum sp_pki_cert_kind kind, const char *id, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
      time_t nb, uint64_t life)
{
	struct sp_pki_cert_spec spec = { 0 };
	struct sp_pki_err e;
	X509 *x;

	spec.kind = kind;
	spec.trust_domain = TD;
	spec.spiffe_id = id;
	spec.not_before = nb;
	spec.lifetime = life;
	x = sp_pki_issue(&spec, key, ca, ca_key, &e);
	if (x == NULL)
		printf("\n  issue: %s\n", e.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	return x;
}

/* gw.crt = leaf + intermediate, gw.key */
static void
write_gw(X509 *leaf, EVP_PKEY *key, const char *crt_name, const char *key_name)
{
	X509 *certs[2] = { leaf, inter };
	char p[128];

	path(p, sizeof(p), crt_name);
	CU_ASSERT_EQUAL_FATAL(sp_pki_certs_save(p, certs, 2, SP_PKI_OVERWRITE, NULL), 0);
	path(p, sizeof(p), key_name);
	CU_ASSERT_EQUAL_FATAL(sp_pki_key_save(p, key, SP_PKI_OVERWRITE, NULL), 0);
}

static void
write_crl(const char *name, X509 *ca, EVP_PKEY *ca_key, X509 *revoke)
{
	struct sp_pki_revoked r = { .reason = SP_PKI_REASON_KEY_COMPROMISE, .when = time(NULL) };
	X509_CRL *crl;
	char p[128];

	if (revoke != NULL)
		sp_pki_cert_serial(revoke, r.serial, sizeof(r.serial));
	crl = sp_pki_crl_create(ca, ca_key, &r, revoke != NULL, 1, 0, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(crl);
	path(p, sizeof(p), name);
	CU_ASSERT_EQUAL_FATAL(sp_pki_crl_save(p, crl, SP_PKI_OVERWRITE, NULL), 0);
	X509_CRL_free(crl);
}

static void
pki_conf(struct sp_conf_pki *k, const char *crt, const char *key, const char *bundle,
	 bool crls)
{
	memset(k, 0, sizeof(*k));
	k->enabled = true;
	path(k->cert, sizeof(k->cert), crt);
	path(k->key, sizeof(k->key), key);
	path(k->bundle, sizeof(k->bundle), bundle);
	if (crls) {
		path(k->crls[0], sizeof(k->crls[0]), "root.crl");
		path(k->crls[1], sizeof(k->crls[1]), "int.crl");
		k->n_crls = 2;
	}
	snprintf(k->identity, sizeof(k->identity), "%s", GW_ID);
	k->watch = true;
	k->renew.at = 2.0 / 3.0;
	k->renew.retry_s = 30;
}

static int
suite_init(void)
{
	X509 *b[1];
	char p[128];

	snprintf(dir, sizeof(dir), "/tmp/test_certd.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	root_key = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	int_key = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	root2_key = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	if (root_key == NULL || int_key == NULL || root2_key == NULL)
		return -1;
	{
		struct sp_pki_cert_spec spec = { .kind = SP_PKI_CERT_ROOT, .trust_domain = TD };

		root = sp_pki_issue(&spec, root_key, NULL, NULL, NULL);
		root2 = sp_pki_issue(&spec, root2_key, NULL, NULL, NULL);
		spec.kind = SP_PKI_CERT_INTERMEDIATE;
		inter = sp_pki_issue(&spec, int_key, root, root_key, NULL);
	}
	if (root == NULL || root2 == NULL || inter == NULL)
		return -1;
	b[0] = root;
	path(p, sizeof(p), "bundle.pem");
	if (sp_pki_certs_save(p, b, 1, 0, NULL) < 0)
		return -1;
	b[0] = root2;
	path(p, sizeof(p), "bundle2.pem");
	if (sp_pki_certs_save(p, b, 1, 0, NULL) < 0)
		return -1;
	b[0] = inter;
	path(p, sizeof(p), "int.crt");
	if (sp_pki_certs_save(p, b, 1, 0, NULL) < 0)
		return -1;
	path(p, sizeof(p), "int.key");
	if (sp_pki_key_save(p, int_key, 0, NULL) < 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return -1;
	X509_free(root);
	X509_free(root2);
	X509_free(inter);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(root2_key);
	EVP_PKEY_free(int_key);
	return 0;
}

/* ---- start-up refusals ---- */

static void
test_refusals(void)
{
	time_t now = time(NULL);
	EVP_PKEY *k = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	EVP_PKEY *other = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	X509 *good = issue(SP_PKI_CERT_GATEWAY, GW_ID, k, inter, int_key, 0, 3600);
	X509 *old = issue(SP_PKI_CERT_GATEWAY, GW_ID, k, inter, int_key, now - 7200, 3600);
	X509 *future = issue(SP_PKI_CERT_GATEWAY, GW_ID, k, inter, int_key, now + 3600, 3600);
	X509 *revoked = issue(SP_PKI_CERT_GATEWAY, GW_ID, k, inter, int_key, 0, 3600);
	X509 *other_id = issue(SP_PKI_CERT_GATEWAY, "spiffe://td.test/segment/b", k, inter,
			       int_key, 0, 3600);
	static const struct {
		const char *name;
		const char *crt, *key, *bundle;
		bool crls;
		int rc;
		const char *expect;    /* message: "@C@" = cert path, "@K@" = key path */
	} cases[] = {
		{ "good", "good.crt", "good.key", "bundle.pem", true, 0, "" },
		{ "expired", "old.crt", "good.key", "bundle.pem", false, -EKEYEXPIRED,
		  "pki.cert @C@: expired: " },
		{ "not yet valid", "future.crt", "good.key", "bundle.pem", false, -ETIME,
		  "pki.cert @C@: not-yet-valid: " },
		{ "wrong root", "good.crt", "good.key", "bundle2.pem", false, -ENOKEY,
		  "pki.cert @C@: unknown-issuer: " },
		{ "revoked", "revoked.crt", "good.key", "bundle.pem", true, -EKEYREVOKED,
		  "pki.cert @C@: revoked: " },
		{ "wrong identity", "other.crt", "good.key", "bundle.pem", false, -EACCES,
		  "pki.cert @C@: wrong-identity: " },
		{ "key mismatch", "good.crt", "other.key", "bundle.pem", false, -EKEYREJECTED,
		  "pki.key @K@: does not match pki.cert @C@" },
		{ "corrupt PEM", "corrupt.crt", "good.key", "bundle.pem", false, -EBADMSG,
		  "pki.cert @C@: " },
		{ "missing key", "good.crt", "none.key", "bundle.pem", false, -ENOENT,
		  "pki.key @K@: " },
	};
	char p[128];
	FILE *f;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	write_gw(good, k, "good.crt", "good.key");
	write_gw(old, k, "old.crt", "good.key");
	write_gw(future, k, "future.crt", "good.key");
	write_gw(revoked, k, "revoked.crt", "good.key");
	write_gw(other_id, k, "other.crt", "good.key");
	path(p, sizeof(p), "other.key");
	CU_ASSERT_EQUAL_FATAL(sp_pki_key_save(p, other, SP_PKI_OVERWRITE, NULL), 0);
	write_crl("root.crl", root, root_key, NULL);
	write_crl("int.crl", inter, int_key, revoked);
	path(p, sizeof(p), "corrupt.crt");
	f = fopen(p, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("-----BEGIN CERTIFICATE-----\nMIIBnot base64 at all!!\n"
	      "-----END CERTIFICATE-----\n", f);
	fclose(f);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sp_conf_pki pc;
		struct sp_certd_material *m = NULL;
		char err[512] = "", want[512], *at;
		size_t wl;
		int rc;

		pki_conf(&pc, cases[i].crt, cases[i].key, cases[i].bundle, cases[i].crls);
		rc = sp_certd_load(&pc, time(NULL), &m, err, sizeof(err));
		/* expand @C@ and @K@ */
		snprintf(want, sizeof(want), "%s", cases[i].expect);
		while ((at = strstr(want, "@C@")) != NULL || (at = strstr(want, "@K@")) != NULL) {
			char tail[512];

			snprintf(tail, sizeof(tail), "%s", at + 3);
			snprintf(at, sizeof(want) - (size_t)(at - want), "%s%s",
				 at[1] == 'C' ? pc.cert : pc.key, tail);
		}
		wl = strlen(want);
		if (rc != cases[i].rc || strncmp(err, want, wl) != 0)
			printf("\n  %s: rc %d (want %d)\n    got:  %s\n    want: %s...\n",
			       cases[i].name, rc, cases[i].rc, err, want);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		CU_ASSERT_EQUAL(strncmp(err, want, wl), 0);
		if (rc == 0) {
			CU_ASSERT_PTR_NOT_NULL(m);
			CU_ASSERT_STRING_EQUAL(m->spiffe_id, GW_ID);
			CU_ASSERT_EQUAL(sk_X509_num(m->chain), 1);
			CU_ASSERT_EQUAL(sk_X509_CRL_num(m->crls), 2);
		} else {
			CU_ASSERT_PTR_NULL(m);
			/* the message says more than the prefix, and is one line */
			CU_ASSERT(strlen(err) > wl || cases[i].rc == -EKEYREJECTED);
			CU_ASSERT_PTR_NULL(strchr(err, '\n'));
		}
		sp_certd_material_put(m);
	}
	X509_free(good);
	X509_free(old);
	X509_free(future);
	X509_free(revoked);
	X509_free(other_id);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/* sp_certd_check() covers the issuer's files too. */
static void
test_check_issuer(void)
{
	struct sp_conf *c = calloc(1, sizeof(*c));
	char err[1024], want[1024];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(sp_certd_check(c, err, sizeof(err)), 0); /* no pki section */
	pki_conf(&c->pki, "good.crt", "good.key", "bundle.pem", true);
	CU_ASSERT_EQUAL(sp_certd_check(c, err, sizeof(err)), 0);
	c->pki.renew.enabled = true;
	c->pki.renew.source = SP_RENEW_FILE;
	path(c->pki.renew.ca_cert, sizeof(c->pki.renew.ca_cert), "int.crt");
	path(c->pki.renew.ca_key, sizeof(c->pki.renew.ca_key), "good.key");
	CU_ASSERT_EQUAL(sp_certd_check(c, err, sizeof(err)), -EKEYREJECTED);
	snprintf(want, sizeof(want), "pki.renew.ca_key %s: does not match pki.renew.ca_cert %s",
		 c->pki.renew.ca_key, c->pki.renew.ca_cert);
	CU_ASSERT_STRING_EQUAL(err, want);
	path(c->pki.renew.ca_key, sizeof(c->pki.renew.ca_key), "int.key");
	CU_ASSERT_EQUAL(sp_certd_check(c, err, sizeof(err)), 0);
	free(c);
}

/* ---- renewal scheduling ---- */

static void
test_renew_time(void)
{
	static const struct {
		time_t nb, na;
		double at;
		time_t want;
	} cases[] = {
		{ 1000, 1030, 2.0 / 3.0, 1020 },           /* 30 s certificate: at 20 s */
		{ 0, 30 * 86400, 2.0 / 3.0, 20 * 86400 },  /* 30 days: at day 20 */
		{ 1000, 1030, 0.6667, 1020 },              /* 20.001 s rounds down */
		{ 1000, 2000, 0.5, 1500 },
		{ 1000, 2000, 0.95, 1950 },
		{ 1000, 1000, 2.0 / 3.0, 1000 },           /* degenerate: renew at once */
		{ 2000, 1000, 2.0 / 3.0, 2000 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(sp_certd_renew_time(cases[i].nb, cases[i].na, cases[i].at),
				cases[i].want);
}

/* ---- running instance: swap on file change, refused swap, local renewal ---- */

/* sp_ctl_stop() is final for a loop: a test runs it once, with steps on a timer. */
struct steps {
	struct sp_ctl *ctl;
	unsigned int n;
	void (*fn)(unsigned int step, void *arg);
	void *arg;
	unsigned int last;
};

static void
step_cb(uint64_t now_ms, void *arg)
{
	struct steps *st = arg;

	(void)now_ms;
	st->fn(st->n, st->arg);
	if (++st->n > st->last)
		sp_ctl_stop(st->ctl);
}

static void
serial_of(struct sp_certd *cd, char *out, size_t len)
{
	struct sp_certd_material *m = sp_certd_current(cd);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	sp_pki_cert_serial(m->cert, out, len);
	sp_certd_material_put(m);
}

struct swap_state {
	struct sp_certd *cd;
	const char *s2;
	X509 *bad;
	EVP_PKEY *k2;
};

static void
swap_step(unsigned int step, void *arg)
{
	struct swap_state *sw = arg;
	struct sp_certd_counters cnt;
	char s[64];

	if (step != 0)
		return;
	serial_of(sw->cd, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, sw->s2);
	sp_certd_counters(sw->cd, &cnt);
	CU_ASSERT_EQUAL(cnt.reloads, 1);
	CU_ASSERT_EQUAL(cnt.reload_failures, 0);
	write_gw(sw->bad, sw->k2, "run.crt", "run.key");
}

static void
test_swap_and_renew(void)
{
	struct swap_state sw;
	struct steps st = { 0 };
	struct sp_conf *c = calloc(1, sizeof(*c));
	struct sp_ctl *ctl = sp_ctl_create();
	struct sp_certd_counters cnt;
	struct sp_certd *cd;
	EVP_PKEY *k1 = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	EVP_PKEY *k2 = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	X509 *c1 = issue(SP_PKI_CERT_GATEWAY, GW_ID, k1, inter, int_key, 0, 3600);
	X509 *c2 = issue(SP_PKI_CERT_GATEWAY, GW_ID, k2, inter, int_key, 0, 3600);
	X509 *bad = issue(SP_PKI_CERT_GATEWAY, GW_ID, k2, inter, int_key, time(NULL) - 7200, 3600);
	char s1[64], s2[64], s[64], err[512], msg[512];
	struct sp_certd_material *m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl);
	sp_pki_cert_serial(c1, s1, sizeof(s1));
	sp_pki_cert_serial(c2, s2, sizeof(s2));
	write_gw(c1, k1, "run.crt", "run.key");
	pki_conf(&c->pki, "run.crt", "run.key", "bundle.pem", true);
	c->pki.renew.enabled = true;
	c->pki.renew.source = SP_RENEW_FILE;
	path(c->pki.renew.ca_cert, sizeof(c->pki.renew.ca_cert), "int.crt");
	path(c->pki.renew.ca_key, sizeof(c->pki.renew.ca_key), "int.key");
	cd = sp_certd_create(ctl, c, err, sizeof(err));
	if (cd == NULL)
		printf("\n  create: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cd);
	serial_of(cd, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, s1);

	/* a new certificate and key appear: swapped in without a command; then an expired one:
	 * refused, the current one stays */
	write_gw(c2, k2, "run.crt", "run.key");
	sw.cd = cd;
	sw.s2 = s2;
	sw.bad = bad;
	sw.k2 = k2;
	st.ctl = ctl;
	st.fn = swap_step;
	st.arg = &sw;
	st.last = 1;
	CU_ASSERT_FATAL(sp_ctl_add_timer(ctl, 1000, step_cb, &st) >= 0);
	sp_ctl_run(ctl);
	CU_ASSERT_EQUAL(st.n, 2);
	serial_of(cd, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, s2);
	sp_certd_counters(cd, &cnt);
	CU_ASSERT_EQUAL(cnt.reloads, 1);
	CU_ASSERT(cnt.reload_failures >= 1);
	CU_ASSERT(sp_certd_reload(cd, NULL, msg, sizeof(msg)) == -EKEYEXPIRED);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "certificates kept: pki.cert "));

	/* back to a good one by command; unchanged files are a no-op */
	write_gw(c2, k2, "run.crt", "run.key");
	CU_ASSERT_EQUAL(sp_certd_reload(cd, NULL, msg, sizeof(msg)), 0);
	CU_ASSERT_EQUAL(sp_certd_reload(cd, NULL, msg, sizeof(msg)), 0);
	CU_ASSERT_STRING_EQUAL(msg, "certificates unchanged");

	/* local renewal: new key, new serial, same identity, files rewritten (key 0600) */
	CU_ASSERT_EQUAL(sp_certd_renew(cd, msg, sizeof(msg)), 0);
	serial_of(cd, s, sizeof(s));
	CU_ASSERT_STRING_NOT_EQUAL(s, s2);
	m = sp_certd_current(cd);
	CU_ASSERT_STRING_EQUAL(m->spiffe_id, GW_ID);
	CU_ASSERT_EQUAL(sp_pki_key_matches_cert(m->key, m->cert, NULL), 0);
	CU_ASSERT_NOT_EQUAL(sp_pki_key_matches_cert(k2, m->cert, NULL), 0);
	/* the same not-after - not-before as before (the backdate is inside it) */
	{
		time_t nb2 = 0, na2 = 0;

		sp_pki_asn1_time(X509_get0_notBefore(c2), &nb2);
		sp_pki_asn1_time(X509_get0_notAfter(c2), &na2);
		CU_ASSERT_EQUAL(m->not_after - m->not_before, na2 - nb2);
		CU_ASSERT(m->not_before <= time(NULL) - 59);
	}
	sp_certd_material_put(m);
	{
		struct stat sb;
		struct sp_conf_pki again = c->pki;
		struct sp_certd_material *m2;

		CU_ASSERT_EQUAL(stat(c->pki.key, &sb), 0);
		CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
		CU_ASSERT_EQUAL(sp_certd_load(&again, time(NULL), &m2, err, sizeof(err)), 0);
		sp_pki_cert_serial(m2->cert, s2, sizeof(s2));
		CU_ASSERT_STRING_EQUAL(s, s2);
		sp_certd_material_put(m2);
	}
	sp_certd_counters(cd, &cnt);
	CU_ASSERT_EQUAL(cnt.renewals, 1);
	CU_ASSERT_EQUAL(cnt.renewal_failures, 0);

	/* a renewal that cannot sign fails, counts, and keeps the certificate */
	path(c->pki.renew.ca_key, sizeof(c->pki.renew.ca_key), "run.key");
	CU_ASSERT_EQUAL(sp_certd_reload(cd, c, msg, sizeof(msg)), 0);
	CU_ASSERT(sp_certd_renew(cd, msg, sizeof(msg)) < 0);
	serial_of(cd, s2, sizeof(s2));
	CU_ASSERT_STRING_EQUAL(s, s2);
	sp_certd_counters(cd, &cnt);
	CU_ASSERT_EQUAL(cnt.renewal_failures, 1);

	/* the TLS context builder accepts the material */
	m = sp_certd_current(cd);
	{
		SSL_CTX *ctx = sp_certd_ssl_ctx(m, SP_CERTD_TLS_SERVER, GW_ID, err, sizeof(err));

		CU_ASSERT_PTR_NOT_NULL(ctx);
		SSL_CTX_free(ctx);
	}
	sp_certd_material_put(m);

	sp_certd_destroy(cd);
	sp_ctl_destroy(ctl);
	X509_free(c1);
	X509_free(c2);
	X509_free(bad);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	free(c);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("certd", suite_init, suite_clean);
	CU_add_test(s, "start-up refusals: exact messages", test_refusals);
	CU_add_test(s, "start-up check of the renewal CA", test_check_issuer);
	CU_add_test(s, "renewal at a fraction of the lifetime", test_renew_time);
	CU_add_test(s, "swap on file change, refused swap, renewal", test_swap_and_renew);
	return sp_test_run();
}
