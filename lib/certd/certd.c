/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway's certificate state: load + verify, watch, swap, renew. Material is immutable
 * and reference counted so that a swap never pulls a key out from under a TLS context.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "certd_private.h"
#include "sp_ctl.h"

SP_LOG_TYPE(certd);

struct sp_certd_material *
sp_certd_material_get(struct sp_certd_material *m)
{
	if (m != NULL)
		m->refcnt++;
	return m;
}

void
sp_certd_material_put(struct sp_certd_material *m)
{
	if (m == NULL || --m->refcnt > 0)
		return;
	X509_free(m->cert);
	sp_pki_certs_free(m->chain);
	EVP_PKEY_free(m->key);
	sp_pki_certs_free(m->bundle);
	sk_X509_CRL_pop_free(m->crls, X509_CRL_free);
	free(m);
}

/* SHA-256 over the contents of the files, so that a reload of unchanged files is a no-op. */
static void
digest_files(const struct sp_conf_pki *pki, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const char *paths[3 + SP_CONF_MAX_CRLS];
	unsigned int n = 0, i, len = 32;

	paths[n++] = pki->cert;
	paths[n++] = pki->key;
	paths[n++] = pki->bundle;
	for (i = 0; i < pki->n_crls; i++)
		paths[n++] = pki->crls[i];
	memset(out, 0, 32);
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	for (i = 0; i < n; i++) {
		char *data = NULL;
		size_t dlen = 0;

		if (sp_pki_file_read(paths[i], &data, &dlen, NULL) == 0) {
			EVP_DigestUpdate(md, data, dlen);
			OPENSSL_cleanse(data, dlen);
		}
		free(data);
		EVP_DigestUpdate(md, "\n", 1);
	}
	EVP_DigestFinal_ex(md, out, &len);
out:
	EVP_MD_CTX_free(md);
}

int
certd_verify(const struct sp_conf_pki *pki, const struct sp_certd_material *m, time_t now,
	     char *err, size_t errlen)
{
	struct sp_pki_verify_opts vo = { 0 };
	struct sp_pki_verify_result res;
	struct sp_pki_err pe;
	int rc;

	vo.at = now;
	vo.crls = sk_X509_CRL_num(m->crls) > 0 ? m->crls : NULL;
	vo.expect_id = pki->identity[0] ? pki->identity : NULL;
	rc = sp_pki_verify(m->cert, m->chain, m->bundle, &vo, &res, &pe);
	if (rc < 0) {
		const char *prob = sp_pki_verify_problem(rc);
		size_t pl = strlen(prob);

		/* lib/pki's messages usually start with the problem's name already */
		if (strncmp(pe.msg, prob, pl) == 0 && pe.msg[pl] == ':')
			snprintf(err, errlen, "pki.cert %s: %s", pki->cert, pe.msg);
		else
			snprintf(err, errlen, "pki.cert %s: %s: %s", pki->cert, prob, pe.msg);
		return rc;
	}
	rc = sp_pki_key_matches_cert(m->key, m->cert, &pe);
	if (rc < 0) {
		snprintf(err, errlen, "pki.key %s: does not match pki.cert %s", pki->key,
			 pki->cert);
		return rc;
	}
	return 0;
}

int
sp_certd_load(const struct sp_conf_pki *pki, time_t now, struct sp_certd_material **out,
	      char *err, size_t errlen)
{
	struct sp_certd_material *m = calloc(1, sizeof(*m));
	struct sp_pki_err pe;
	unsigned int i;
	int rc;

	*out = NULL;
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->refcnt = 1;
	digest_files(pki, m->digest);
	m->cert = sp_pki_cert_load(pki->cert, &m->chain, &pe);
	if (m->cert == NULL) {
		snprintf(err, errlen, "pki.cert %s: %s", pki->cert, pe.msg);
		rc = pe.code;
		goto fail;
	}
	m->key = sp_pki_key_load(pki->key, &pe);
	if (m->key == NULL) {
		snprintf(err, errlen, "pki.key %s: %s", pki->key, pe.msg);
		rc = pe.code;
		goto fail;
	}
	m->bundle = sp_pki_bundle_load(pki->bundle, &pe);
	if (m->bundle == NULL) {
		snprintf(err, errlen, "pki.bundle %s: %s", pki->bundle, pe.msg);
		rc = pe.code;
		goto fail;
	}
	m->crls = sk_X509_CRL_new_null();
	if (m->crls == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < pki->n_crls; i++) {
		X509_CRL *crl = sp_pki_crl_load(pki->crls[i], &pe);

		if (crl == NULL) {
			snprintf(err, errlen, "pki.crls %s: %s", pki->crls[i], pe.msg);
			rc = pe.code;
			goto fail;
		}
		if (sk_X509_CRL_push(m->crls, crl) <= 0) {
			X509_CRL_free(crl);
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto fail;
		}
	}
	rc = certd_verify(pki, m, now, err, errlen);
	if (rc < 0)
		goto fail;
	if (sp_pki_cert_spiffe_id(m->cert, m->spiffe_id, sizeof(m->spiffe_id), NULL) < 0)
		m->spiffe_id[0] = '\0';
	sp_pki_asn1_time(X509_get0_notBefore(m->cert), &m->not_before);
	sp_pki_asn1_time(X509_get0_notAfter(m->cert), &m->not_after);
	*out = m;
	return 0;
fail:
	sp_certd_material_put(m);
	return rc < 0 ? rc : -EINVAL;
}

void
certd_issuer_free(struct certd_issuer *is)
{
	if (is == NULL)
		return;
	X509_free(is->ca);
	sp_pki_certs_free(is->ca_chain);
	EVP_PKEY_free(is->ca_key);
	free(is);
}

int
certd_issuer_load(const struct sp_conf_issuer *iss, struct certd_issuer **out, char *err,
		  size_t errlen)
{
	struct certd_issuer *is = calloc(1, sizeof(*is));
	struct sp_pki_cert_info info;
	struct sp_pki_err pe;
	int rc;

	*out = NULL;
	if (is == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	is->ca = sp_pki_cert_load(iss->ca_cert, &is->ca_chain, &pe);
	if (is->ca == NULL) {
		snprintf(err, errlen, "issuer.ca_cert %s: %s", iss->ca_cert, pe.msg);
		rc = pe.code;
		goto fail;
	}
	if (sp_pki_cert_info(is->ca, &info, &pe) < 0 || !info.is_ca) {
		snprintf(err, errlen, "issuer.ca_cert %s: not a CA certificate", iss->ca_cert);
		rc = -EKEYREJECTED;
		goto fail;
	}
	is->ca_key = sp_pki_key_load(iss->ca_key, &pe);
	if (is->ca_key == NULL) {
		snprintf(err, errlen, "issuer.ca_key %s: %s", iss->ca_key, pe.msg);
		rc = pe.code;
		goto fail;
	}
	if (sp_pki_key_matches_cert(is->ca_key, is->ca, &pe) < 0) {
		snprintf(err, errlen, "issuer.ca_key %s: does not match issuer.ca_cert %s",
			 iss->ca_key, iss->ca_cert);
		rc = -EKEYREJECTED;
		goto fail;
	}
	rc = sp_pki_policy_load(&is->policy, iss->policy, &pe);
	if (rc < 0) {
		snprintf(err, errlen, "issuer.policy %s", pe.msg);
		goto fail;
	}
	*out = is;
	return 0;
fail:
	certd_issuer_free(is);
	return rc < 0 ? rc : -EINVAL;
}

int
sp_certd_check(const struct sp_conf *conf, char *err, size_t errlen)
{
	struct sp_certd_material *m;
	struct certd_issuer *is;
	int rc;

	if (!conf->pki.enabled)
		return 0;
	rc = sp_certd_load(&conf->pki, time(NULL), &m, err, errlen);
	if (rc < 0)
		return rc;
	sp_certd_material_put(m);
	if (conf->pki.renew.enabled && conf->pki.renew.source == SP_RENEW_FILE) {
		STACK_OF(X509) *ch = NULL;
		struct sp_pki_err pe;
		X509 *ca = sp_pki_cert_load(conf->pki.renew.ca_cert, &ch, &pe);
		EVP_PKEY *k;

		sp_pki_certs_free(ch);
		if (ca == NULL) {
			snprintf(err, errlen, "pki.renew.ca_cert %s: %s", conf->pki.renew.ca_cert,
				 pe.msg);
			return pe.code < 0 ? pe.code : -EINVAL;
		}
		k = sp_pki_key_load(conf->pki.renew.ca_key, &pe);
		if (k == NULL) {
			X509_free(ca);
			snprintf(err, errlen, "pki.renew.ca_key %s: %s", conf->pki.renew.ca_key,
				 pe.msg);
			return pe.code < 0 ? pe.code : -EINVAL;
		}
		rc = sp_pki_key_matches_cert(k, ca, &pe);
		EVP_PKEY_free(k);
		X509_free(ca);
		if (rc < 0) {
			snprintf(err, errlen,
				 "pki.renew.ca_key %s: does not match pki.renew.ca_cert %s",
				 conf->pki.renew.ca_key, conf->pki.renew.ca_cert);
			return rc;
		}
	}
	if (conf->issuer.enabled) {
		rc = certd_issuer_load(&conf->issuer, &is, err, errlen);
		if (rc < 0)
			return rc;
		certd_issuer_free(is);
	}
	return 0;
}

time_t
sp_certd_renew_time(time_t not_before, time_t not_after, double at)
{
	double life = (double)(not_after - not_before);

	if (not_after <= not_before)
		return not_before;
	return not_before + (time_t)(life * at);
}

void
certd_index_path(char *out, size_t len, const char *ca_cert)
{
	size_t n = strlen(ca_cert);
	const char *dot = strrchr(ca_cert, '.');
	const char *slash = strrchr(ca_cert, '/');

	if (dot != NULL && (slash == NULL || dot > slash) &&
	    (strcmp(dot, ".crt") == 0 || strcmp(dot, ".pem") == 0))
		n = (size_t)(dot - ca_cert);
	snprintf(out, len, "%.*s.index", (int)n, ca_cert);
}

static int watch_dir(struct sp_certd *cd, const char *file);

/* ---- swap ---- */

static void
arm_renewal(struct sp_certd *cd)
{
	cd->renew_at = 0;
	if (cd->cur == NULL || !cd->pki.renew.enabled)
		return;
	cd->renew_at = sp_certd_renew_time(cd->cur->not_before, cd->cur->not_after,
					   cd->pki.renew.at);
}

static void
swap_in(struct sp_certd *cd, struct sp_certd_material *m)
{
	char err[256];
	SSL_CTX *ctx = NULL;

	if (cd->srv != NULL) {
		ctx = sp_certd_ssl_ctx(m, SP_CERTD_TLS_SERVER | SP_CERTD_TLS_PEER_OPTIONAL, NULL,
				       err, sizeof(err));
		if (ctx == NULL)
			SP_LOG(certd, ERR, "endpoint keeps its TLS context: %s", err);
	}
	if (ctx != NULL) {
		SSL_CTX_free(cd->server_ctx);
		cd->server_ctx = ctx;
	}
	sp_certd_material_put(cd->cur);
	cd->cur = m;
	cd->retry_at = 0;
	arm_renewal(cd);
}

static void
log_material(const struct sp_certd_material *m, const char *what)
{
	char serial[SP_PKI_SERIAL_HEX_MAX + 1] = "", na[32];

	sp_pki_cert_serial(m->cert, serial, sizeof(serial));
	sp_pki_time_str(m->not_after, na);
	SP_LOG(certd, NOTICE, "%s: %s serial %s, not after %s, %d roots, %d CRLs", what,
	       m->spiffe_id, serial, na, sk_X509_num(m->bundle), sk_X509_CRL_num(m->crls));
}

int
sp_certd_reload(struct sp_certd *cd, const struct sp_conf *conf, char *msg, size_t len)
{
	const struct sp_conf_pki *pki = conf != NULL ? &conf->pki : &cd->pki;
	const struct sp_conf_issuer *iss = conf != NULL ? &conf->issuer : &cd->iss;
	struct sp_certd_material *m;
	struct certd_issuer *is = NULL;
	char err[512];
	int rc;

	cd->reload_due_ms = 0;
	if (!pki->enabled) {
		snprintf(msg, len, "no pki section: nothing to reload");
		return 0;
	}
	rc = sp_certd_load(pki, time(NULL), &m, err, sizeof(err));
	if (rc == 0 && iss->enabled)
		rc = certd_issuer_load(iss, &is, err, sizeof(err));
	if (rc < 0) {
		sp_certd_material_put(m);
		cd->cnt.reload_failures++;
		snprintf(cd->last_reload_err, sizeof(cd->last_reload_err), "%s", err);
		snprintf(msg, len, "certificates kept: %s", err);
		SP_LOG(certd, ERR, "reload refused, current certificates kept: %s", err);
		return rc;
	}
	cd->last_reload_err[0] = '\0';
	if (conf != NULL) {
		unsigned int i;

		cd->pki = conf->pki;
		cd->iss = conf->issuer;
		/* the paths may have moved: watch their directories too (a directory already
		 * watched keeps its watch) */
		if (cd->ino_fd >= 0) {
			watch_dir(cd, cd->pki.cert);
			watch_dir(cd, cd->pki.key);
			watch_dir(cd, cd->pki.bundle);
			for (i = 0; i < cd->pki.n_crls; i++)
				watch_dir(cd, cd->pki.crls[i]);
		}
	}
	if (is != NULL) {
		certd_issuer_free(cd->issuer);
		cd->issuer = is;
	}
	if (cd->cur != NULL && memcmp(cd->cur->digest, m->digest, sizeof(m->digest)) == 0) {
		sp_certd_material_put(m);
		arm_renewal(cd);
		snprintf(msg, len, "certificates unchanged");
		return 0;
	}
	swap_in(cd, m);
	cd->cnt.reloads++;
	cd->last_reload = time(NULL);
	log_material(m, "certificates reloaded");
	snprintf(msg, len, "certificates reloaded: %s, not after %ld", m->spiffe_id,
		 (long)m->not_after);
	return 0;
}

/* ---- renewal ---- */

int
certd_install(struct sp_certd *cd, X509 *cert, STACK_OF(X509) *chain, EVP_PKEY *key,
	      char *err, size_t errlen)
{
	struct sp_certd_material probe = { 0 }, *m;
	X509 **certs;
	struct sp_pki_err pe;
	int n = chain != NULL ? sk_X509_num(chain) : 0, i, rc;

	/* verify before writing: a bad answer must never replace good files */
	probe.cert = cert;
	probe.chain = chain;
	probe.key = key;
	probe.bundle = cd->cur->bundle;
	probe.crls = cd->cur->crls;
	rc = certd_verify(&cd->pki, &probe, time(NULL), err, errlen);
	if (rc < 0)
		return rc;
	certs = calloc((size_t)n + 1, sizeof(*certs));
	if (certs == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	certs[0] = cert;
	for (i = 0; i < n; i++)
		certs[i + 1] = sk_X509_value(chain, i);
	/* key first: a crash in between leaves a key that the old certificate does not match,
	 * which start-up refuses loudly rather than running on a stale pair */
	rc = sp_pki_key_save(cd->pki.key, key, SP_PKI_OVERWRITE, &pe);
	if (rc == 0)
		rc = sp_pki_certs_save(cd->pki.cert, certs, (size_t)n + 1, SP_PKI_OVERWRITE, &pe);
	free(certs);
	if (rc < 0) {
		snprintf(err, errlen, "writing the new certificate: %s", pe.msg);
		return rc;
	}
	rc = sp_certd_load(&cd->pki, time(NULL), &m, err, errlen);
	if (rc < 0)
		return rc;
	swap_in(cd, m);
	log_material(m, "certificate renewed");
	return 0;
}

void
certd_renew_done(struct sp_certd *cd, int rc, const char *msg)
{
	cd->renewing = false;
	if (rc == 0) {
		cd->cnt.renewals++;
		cd->last_renew = time(NULL);
		cd->last_renew_err[0] = '\0';
		return;
	}
	cd->cnt.renewal_failures++;
	snprintf(cd->last_renew_err, sizeof(cd->last_renew_err), "%s", msg);
	cd->retry_at = time(NULL) + cd->pki.renew.retry_s;
	SP_LOG(certd, ERR, "renewal failed, retrying in %u s: %s", cd->pki.renew.retry_s, msg);
}

/* Same identity, same key type, same lifetime as the current certificate. */
static int
renew_file(struct sp_certd *cd, char *err, size_t errlen)
{
	struct sp_pki_cert_spec spec = { 0 };
	STACK_OF(X509) *ca_chain = NULL, *chain = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca, *cert = NULL;
	struct sp_pki_err pe;
	struct sp_pki_cert_info info;
	char index[SP_CONF_PATH_MAX + 8];
	int rc, type, i;
	uint64_t life = (uint64_t)(cd->cur->not_after - cd->cur->not_before);

	ca = sp_pki_cert_load(cd->pki.renew.ca_cert, &ca_chain, &pe);
	if (ca == NULL) {
		snprintf(err, errlen, "pki.renew.ca_cert %s: %s", cd->pki.renew.ca_cert, pe.msg);
		return pe.code;
	}
	ca_key = sp_pki_key_load(cd->pki.renew.ca_key, &pe);
	if (ca_key == NULL) {
		snprintf(err, errlen, "pki.renew.ca_key %s: %s", cd->pki.renew.ca_key, pe.msg);
		rc = pe.code;
		goto out;
	}
	type = sp_pki_key_type_of(cd->cur->key);
	key = sp_pki_key_generate(type < 0 ? SP_PKI_KEY_P256 : (enum sp_pki_key_type)type, &pe);
	if (key == NULL) {
		snprintf(err, errlen, "new key: %s", pe.msg);
		rc = pe.code;
		goto out;
	}
	spec.kind = SP_PKI_CERT_GATEWAY;
	spec.spiffe_id = cd->cur->spiffe_id;
	if (life == 0)
		life = SP_PKI_GATEWAY_LIFETIME;
	/* clock-skew slack, at most a tenth of a short lifetime; lib/pki adds it before "now",
	 * so it comes out of the lifetime: renewal after renewal keeps not-after - not-before */
	spec.backdate = (uint32_t)(life / 10 < SP_PKI_BACKDATE ? life / 10 : SP_PKI_BACKDATE);
	spec.lifetime = life - spec.backdate;
	cert = sp_pki_issue(&spec, key, ca, ca_key, &pe);
	if (cert == NULL) {
		snprintf(err, errlen, "signing with pki.renew.ca_cert: %s", pe.msg);
		rc = pe.code;
		goto out;
	}
	chain = sk_X509_new_null();
	if (chain == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* the chain is the intermediate (and what came with it), never the root */
	if (sp_pki_cert_info(ca, &info, NULL) == 0 && !info.self_signed) {
		X509_up_ref(ca);
		sk_X509_push(chain, ca);
		for (i = 0; i < sk_X509_num(ca_chain); i++) {
			X509 *c = sk_X509_value(ca_chain, i);

			if (sp_pki_cert_info(c, &info, NULL) == 0 && info.self_signed)
				continue;
			X509_up_ref(c);
			sk_X509_push(chain, c);
		}
	}
	rc = certd_install(cd, cert, chain, key, err, errlen);
	if (rc == 0) {
		char serial[SP_PKI_SERIAL_HEX_MAX + 1] = "";

		certd_index_path(index, sizeof(index), cd->pki.renew.ca_cert);
		if (sp_pki_index_add_issued(index, cert, &pe) < 0)
			SP_LOG(certd, WARNING, "renewed, but not recorded in %s: %s", index,
			       pe.msg);
		sp_pki_cert_serial(cert, serial, sizeof(serial));
		snprintf(err, errlen, "renewed: serial %s", serial);
	}
out:
	X509_free(ca);
	sp_pki_certs_free(ca_chain);
	sp_pki_certs_free(chain);
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return rc;
}

int
sp_certd_renew(struct sp_certd *cd, char *msg, size_t len)
{
	int rc;

	if (cd->cur == NULL || !cd->pki.renew.enabled) {
		snprintf(msg, len, "renewal is not configured (pki.renew)");
		return -ENOTSUP;
	}
	if (cd->renewing) {
		snprintf(msg, len, "a renewal is already under way");
		return -EALREADY;
	}
	cd->renewing = true;
	if (cd->pki.renew.source == SP_RENEW_FILE) {
		rc = renew_file(cd, msg, len);
		certd_renew_done(cd, rc, msg);
		return rc;
	}
	rc = certd_client_start(cd, msg, len);
	if (rc < 0) {
		certd_renew_done(cd, rc, msg);
		return rc;
	}
	snprintf(msg, len, "renewal started: %s", cd->pki.renew.url);
	return 0;
}

/* ---- watching ---- */

static void
on_inotify(int fd, uint32_t events, void *arg)
{
	struct sp_certd *cd = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool ours = false;
	ssize_t n;

	(void)events;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->len > 0)
				/* a name in one of our directories: re-read (the digest decides) */
				ours = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (ours && cd->reload_due_ms == 0)
		cd->reload_due_ms = sp_ctl_now_ms() + CERTD_DEBOUNCE_MS;
}

static int
watch_dir(struct sp_certd *cd, const char *file)
{
	char tmp[SP_CONF_PATH_MAX];
	int wd;

	snprintf(tmp, sizeof(tmp), "%s", file);
	/* the directory: atomic renames replace the file's inode */
	wd = inotify_add_watch(cd->ino_fd, dirname(tmp), IN_CLOSE_WRITE | IN_MOVED_TO |
			       IN_CREATE | IN_DELETE | IN_ATTRIB);
	return wd < 0 ? -errno : 0;
}

static int
start_watch(struct sp_certd *cd, char *err, size_t errlen)
{
	unsigned int i;
	int rc;

	cd->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (cd->ino_fd < 0) {
		snprintf(err, errlen, "inotify: %s", strerror(errno));
		return -errno;
	}
	rc = watch_dir(cd, cd->pki.cert);
	if (rc == 0)
		rc = watch_dir(cd, cd->pki.key);
	if (rc == 0)
		rc = watch_dir(cd, cd->pki.bundle);
	for (i = 0; rc == 0 && i < cd->pki.n_crls; i++)
		rc = watch_dir(cd, cd->pki.crls[i]);
	if (rc == 0)
		rc = sp_ctl_add_fd(cd->ctl, cd->ino_fd, EPOLLIN, on_inotify, cd);
	if (rc < 0) {
		snprintf(err, errlen, "watching the pki files: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static void
on_tick(uint64_t now_ms, void *arg)
{
	struct sp_certd *cd = arg;
	time_t now = time(NULL);
	char msg[512];

	if (cd->reload_due_ms != 0 && now_ms >= cd->reload_due_ms)
		sp_certd_reload(cd, NULL, msg, sizeof(msg));
	if (cd->renew_at != 0 && !cd->renewing && now >= cd->renew_at &&
	    (cd->retry_at == 0 || now >= cd->retry_at)) {
		SP_LOG(certd, NOTICE, "renewing %s (%s)", cd->cur->spiffe_id,
		       cd->pki.renew.source == SP_RENEW_FILE ? "local intermediate" :
		       cd->pki.renew.url);
		sp_certd_renew(cd, msg, sizeof(msg));
	}
	certd_server_tick(cd, now_ms);
	certd_client_tick(cd, now_ms);
}

struct sp_certd *
sp_certd_create(struct sp_ctl *ctl, const struct sp_conf *conf, char *err, size_t errlen)
{
	struct sp_certd *cd = calloc(1, sizeof(*cd));
	int rc;

	if (cd == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cd->ctl = ctl;
	cd->ino_fd = -1;
	cd->tick = -1;
	cd->pki = conf->pki;
	cd->iss = conf->issuer;
	snprintf(cd->netns, sizeof(cd->netns), "%s", conf->exception.netns);
	certd_cli_attach(cd);
	if (!cd->pki.enabled)
		return cd;
	rc = sp_certd_load(&cd->pki, time(NULL), &cd->cur, err, errlen);
	if (rc == 0 && cd->iss.enabled)
		rc = certd_issuer_load(&cd->iss, &cd->issuer, err, errlen);
	if (rc == 0 && cd->pki.watch)
		rc = start_watch(cd, err, errlen);
	if (rc == 0) {
		cd->tick = sp_ctl_add_timer(ctl, CERTD_TICK_MS, on_tick, cd);
		if (cd->tick < 0) {
			snprintf(err, errlen, "certd timer: out of memory");
			rc = -ENOMEM;
		}
	}
	if (rc == 0 && cd->iss.enabled)
		rc = certd_server_start(cd, err, errlen);
	if (rc < 0) {
		sp_certd_destroy(cd);
		return NULL;
	}
	arm_renewal(cd);
	log_material(cd->cur, "certificates loaded");
	return cd;
}

void
sp_certd_destroy(struct sp_certd *cd)
{
	if (cd == NULL)
		return;
	certd_client_stop(cd);
	certd_server_stop(cd);
	if (cd->tick >= 0)
		sp_ctl_del_timer(cd->ctl, cd->tick);
	if (cd->ino_fd >= 0) {
		sp_ctl_del_fd(cd->ctl, cd->ino_fd);
		close(cd->ino_fd);
	}
	SSL_CTX_free(cd->server_ctx);
	certd_issuer_free(cd->issuer);
	sp_certd_material_put(cd->cur);
	certd_cli_attach(NULL);
	free(cd);
}

void
sp_certd_counters(const struct sp_certd *cd, struct sp_certd_counters *out)
{
	*out = cd->cnt;
}

struct sp_certd_material *
sp_certd_current(struct sp_certd *cd)
{
	return sp_certd_material_get(cd->cur);
}
