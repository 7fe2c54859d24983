/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_CERTD_H
#define SP_CERTD_H

/**
 * @file
 * The control core's certificate state (docs/pki-daemon.md): the gateway's own certificate,
 * key and chain, the trust bundle and the CRLs, loaded from the paths of the `pki` section and
 * verified with lib/pki; watched with inotify and re-read on `certs reload` and on a
 * configuration reload, swapped in only when the new material verifies; the gateway's own
 * certificate renewed at `pki.renew.at` of its lifetime (signed locally or by the issuing
 * gateway over mTLS); and, when `issuer.enabled`, the workload issuance endpoint
 * (HTTPS POST /v1/sign).
 *
 * Everything runs on the control core: files are read synchronously (small, local), network
 * work is non-blocking (sockets + OpenSSL state machines driven by sp_ctl fd events, with
 * timeouts). One instance per process (the console commands use it).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sp_conf.h"

struct sp_ctl;
struct sp_certd;

/** One verified set of material. Immutable once built; reference counted. */
struct sp_certd_material {
	X509 *cert;                  /**< the gateway's certificate */
	STACK_OF(X509) *chain;       /**< intermediates that followed it in pki.cert */
	EVP_PKEY *key;
	STACK_OF(X509) *bundle;      /**< trust roots */
	STACK_OF(X509_CRL) *crls;    /**< may be empty */
	char spiffe_id[SP_CONF_ID_MAX];
	time_t not_before, not_after;
	unsigned char digest[32];    /**< SHA-256 over the files, to skip unchanged reloads */
	unsigned int refcnt;
};

/**
 * Load and verify the material named by pki at time now: the key matches the certificate, the
 * certificate chains to a root of the bundle, is valid at now, is not revoked by a CRL, and
 * carries pki->identity when set. Messages name the file and the problem, e.g.
 * "pki.cert /etc/gw.crt: expired: <lib/pki's reason>" or
 * "pki.key /etc/gw.key: does not match pki.cert /etc/gw.crt".
 * @return 0 and *out (refcnt 1), or a negative errno (lib/pki's: -EKEYEXPIRED, -ETIME,
 *         -ENOKEY, -EKEYREVOKED, -EACCES, -EKEYREJECTED, -EBADMSG, -ENOENT...).
 */
int sp_certd_load(const struct sp_conf_pki *pki, time_t now, struct sp_certd_material **out,
		  char *err, size_t errlen);
struct sp_certd_material *sp_certd_material_get(struct sp_certd_material *m);
void sp_certd_material_put(struct sp_certd_material *m);

/**
 * Start-up checks without side effects: sp_certd_load() of conf->pki and, when issuer.enabled,
 * the issuer's CA certificate and key (match, CA) and its policy file. Returns 0 when conf has
 * no pki section. The daemon exits with 2 (configuration invalid) when this fails.
 */
int sp_certd_check(const struct sp_conf *conf, char *err, size_t errlen);

/** When to renew: not_before + at * (not_after - not_before), rounded down to a second. */
time_t sp_certd_renew_time(time_t not_before, time_t not_after, double at);

/**
 * Start: load (as sp_certd_check()), watch the files when pki.watch, arm the renewal, open the
 * endpoint when issuer.enabled (its socket is created in exception.netns). A conf without a
 * pki section gives an idle instance (show certs says so). conf is copied.
 * @return the instance, or NULL with err filled.
 */
struct sp_certd *sp_certd_create(struct sp_ctl *ctl, const struct sp_conf *conf, char *err,
				 size_t errlen);
void sp_certd_destroy(struct sp_certd *cd);

/**
 * Re-read the files (with the settings of conf, or the current ones when conf is NULL) and
 * swap in what verifies; on failure the current material stays and msg says why.
 * @return 0 (swapped or unchanged: msg says which), or a negative errno.
 */
int sp_certd_reload(struct sp_certd *cd, const struct sp_conf *conf, char *msg, size_t len);

/** Renew now. File source: done on return; gateway source: started (see show certs). */
int sp_certd_renew(struct sp_certd *cd, char *msg, size_t len);

struct sp_certd_counters {
	uint64_t renewals, renewal_failures, reloads, reload_failures;
	uint64_t issued, issue_refused;  /**< endpoint */
};
void sp_certd_counters(const struct sp_certd *cd, struct sp_certd_counters *out);

/** The current material (a reference: sp_certd_material_put() it), or NULL. */
struct sp_certd_material *sp_certd_current(struct sp_certd *cd);

#define SP_CERTD_TLS_SERVER 0x1u        /**< a server context (else a client) */
#define SP_CERTD_TLS_PEER_OPTIONAL 0x2u /**< server: ask for a client certificate, not require */

/**
 * For mTLS users (tunnels, the endpoint, the renewal client): an SSL_CTX with m's certificate,
 * chain and key, TLS 1.2 minimum, and peer verification against m's bundle and CRLs (every
 * level checked when CRLs are configured). When expect_id is set the peer's leaf must carry
 * exactly that SPIFFE ID. Build a new one after a swap; existing connections keep theirs.
 * @return the context (SSL_CTX_free() it), or NULL with err filled.
 */
SSL_CTX *sp_certd_ssl_ctx(const struct sp_certd_material *m, unsigned int flags,
			  const char *expect_id, char *err, size_t errlen);

#endif
