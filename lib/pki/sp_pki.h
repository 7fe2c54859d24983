/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_PKI_H
#define SP_PKI_H

/**
 * @file
 * sallyport's internal certificate authority on OpenSSL 3: keys, X.509 issuance for roots,
 * intermediates, gateways and workloads (SPIFFE IDs in the URI SAN), chain verification against
 * a trust bundle with CRLs, CSR signing under a policy, one-time bootstrap tokens, a revocation
 * index, and a hash-chained audit log. See docs/pki.md for the model.
 *
 * Conventions of this library:
 *  - Functions returning int return 0 (or a documented non-negative value) or a negative errno;
 *    constructors return a pointer or NULL. Every function taking a `struct sp_pki_err *err`
 *    fills it on failure (code = the returned errno, msg = one line naming the problem, ready to
 *    print); err may be NULL. The OpenSSL error queue is left empty on return.
 *  - OpenSSL objects are used directly. A returned X509, EVP_PKEY, X509_CRL, X509_REQ or
 *    STACK_OF(X509) belongs to the caller (X509_free(), EVP_PKEY_free(), X509_CRL_free(),
 *    X509_REQ_free(), sp_pki_certs_free()); arguments are borrowed, never consumed.
 *  - Private keys are never logged or printed. EVP_PKEY_free() wipes the key material (OpenSSL's
 *    providers clear it on free); every buffer of ours that held a PEM private key is cleansed
 *    with OPENSSL_cleanse() before it is freed, on every path.
 *  - The library does not log (it links no DPDK and no lib/log, so the plain-libc spctl can use
 *    it): it returns messages, and the records that must outlive the process go to the audit
 *    log. The daemon logs what it decides to.
 *  - Times are time_t seconds (UTC); lifetimes are seconds. "now" is time(NULL) unless a
 *    function takes a time.
 *  - Thread safety: no global state; objects are not shared between threads by the library.
 *
 * Errnos used with a specific meaning across the library (verification results in particular):
 *   -EKEYEXPIRED   a certificate (or the CA asked to sign) has expired
 *   -ETIME         a certificate is not yet valid
 *   -ENOKEY        the chain does not lead to a root of the bundle (unknown issuer, wrong root)
 *   -EKEYREVOKED   a certificate of the chain is revoked by a CRL
 *   -EACCES        wrong identity: the SPIFFE ID is not the one expected / not allowed
 *   -EPERM         a name constraint is violated; a CSR asks for CA rights
 *   -EBADMSG       bad signature, corrupt PEM/DER, damaged file
 *   -EKEYREJECTED  a certificate is used beyond its rights (not a CA, path length, key usage,
 *                  purpose); a key does not match its certificate
 *   -ENODATA       CRL checking was asked for and a level of the chain has no CRL
 *   -ESTALE        a CRL is past its next update (or before its this update)
 *   -EBADE         a CRL is not signed by the CA it names (a CRL from the wrong CA)
 *   -EXDEV         an identity of a foreign trust domain
 *   -EEXIST        an output file exists and overwriting was not asked for
 *   -EALREADY      a token already used; a serial already revoked
 *   -EPROTO        any other verification failure (the message carries OpenSSL's reason)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define SP_PKI_ERR_LEN 320          /**< message buffer, with its NUL */
#define SP_PKI_SPIFFE_MAX 2048      /**< longest SPIFFE ID in bytes, without the NUL */
#define SP_PKI_TD_MAX 255           /**< longest trust domain name */
#define SP_PKI_SEGMENT_MAX 128      /**< longest path segment we issue (namespace, name) */
#define SP_PKI_SERIAL_HEX_MAX 40    /**< 20-octet serials as upper-case hex */
#define SP_PKI_SHA256_HEX 64        /**< a SHA-256 in hex */
#define SP_PKI_TOKEN_CHARS 64       /**< a bootstrap token: 32 random bytes in lower-case hex */
#define SP_PKI_NAME_MAX 256         /**< a distinguished name as one line */

#define SP_PKI_DAY 86400ULL
#define SP_PKI_ROOT_LIFETIME (3650 * SP_PKI_DAY)          /**< 10 years */
#define SP_PKI_INTERMEDIATE_LIFETIME (365 * SP_PKI_DAY)
#define SP_PKI_GATEWAY_LIFETIME (30 * SP_PKI_DAY)
#define SP_PKI_WORKLOAD_LIFETIME (1 * SP_PKI_DAY)
#define SP_PKI_CRL_LIFETIME (30 * SP_PKI_DAY)
#define SP_PKI_BACKDATE 60          /**< default clock-skew backdate of not-before, seconds */

/** What went wrong, for a human. */
struct sp_pki_err {
	int code;                  /**< the negative errno that was returned */
	int depth;                 /**< verification: depth of the culprit (0: leaf), else -1 */
	char msg[SP_PKI_ERR_LEN];  /**< one line, no trailing newline */
};

/* ---------------------------------------------------------------------------------------- */
/** @name Keys (key.c) */
/** @{ */

enum sp_pki_key_type {
	SP_PKI_KEY_P256 = 0,  /**< ECDSA on NIST P-256 with SHA-256 (default) */
	SP_PKI_KEY_ED25519,   /**< Ed25519 */
};

/** Parse "p256" or "ed25519". @return 0, or -EINVAL. */
int sp_pki_key_type_parse(const char *s, enum sp_pki_key_type *out);
/** "p256" / "ed25519" / "?". */
const char *sp_pki_key_type_name(enum sp_pki_key_type t);

/** Generate a key pair. @return the key (caller frees with EVP_PKEY_free()), or NULL. */
EVP_PKEY *sp_pki_key_generate(enum sp_pki_key_type type, struct sp_pki_err *err);

/**
 * The type of a public or private key.
 * @return an sp_pki_key_type, or -ENOTSUP for any other algorithm or curve.
 */
int sp_pki_key_type_of(const EVP_PKEY *key);

/**
 * Check that key is the private key of cert (compares the public halves).
 * @return 0, -EKEYREJECTED ("key does not match the certificate"), -EINVAL.
 */
int sp_pki_key_matches_cert(const EVP_PKEY *key, const X509 *cert, struct sp_pki_err *err);

/** @} */
/* ---------------------------------------------------------------------------------------- */
/** @name Files and PEM (pemio.c) */
/** @{ */

/** Flags of the save functions. */
#define SP_PKI_OVERWRITE 0x1u  /**< replace an existing file (atomically) instead of -EEXIST */

/**
 * Write a file atomically: a temporary file in the same directory, fsync, then rename (or, when
 * not overwriting, a no-replace rename/link so that an existing file is never clobbered), then
 * fsync of the directory. The file has exactly `mode` (umask ignored). On failure nothing is
 * left behind.
 * @return 0, -EEXIST (exists, SP_PKI_OVERWRITE not given), or the -errno of the failing call.
 */
int sp_pki_file_write(const char *path, const void *data, size_t len, mode_t mode,
		      unsigned int flags, struct sp_pki_err *err);

/**
 * Read a whole file (at most 16 MiB) into a NUL-terminated buffer (caller frees; cleanse first
 * when it may hold a key). @return 0, -ENOENT/-EACCES/... (open), -EFBIG.
 */
int sp_pki_file_read(const char *path, char **data, size_t *len, struct sp_pki_err *err);

/**
 * Save a private key as unencrypted PKCS#8 PEM, mode 0600, atomically. The PEM text is only
 * in buffers that are cleansed before they are freed.
 * @return 0, -EEXIST, -EINVAL, -ENOMEM, or an -errno from the file system.
 */
int sp_pki_key_save(const char *path, const EVP_PKEY *key, unsigned int flags,
		    struct sp_pki_err *err);

/**
 * Load a private key from a PEM file (exactly one PEM block of a private key; P-256 or
 * Ed25519). The file buffer is cleansed before it is freed.
 * @return the key, or NULL: err->code -ENOENT (and other open errnos), -EBADMSG (not a PEM
 *         private key, corrupt, or followed by other data), -ENOTSUP (another algorithm).
 */
EVP_PKEY *sp_pki_key_load(const char *path, struct sp_pki_err *err);

/** Free a stack of certificates and the certificates in it. NULL is fine. */
void sp_pki_certs_free(STACK_OF(X509) *certs);

/**
 * Parse one or more PEM "CERTIFICATE" blocks from memory. Everything must parse: a corrupt
 * block, a block of another type, trailing bytes inside a block or garbage between blocks is
 * refused (-EBADMSG), and so is a buffer without any certificate. what names the source in
 * messages ("root.crt").
 * @return a stack of at least one certificate, or NULL.
 */
STACK_OF(X509) *sp_pki_certs_from_pem(const char *pem, size_t len, const char *what,
				      struct sp_pki_err *err);
/** The same from a file (what = the path). */
STACK_OF(X509) *sp_pki_certs_load(const char *path, struct sp_pki_err *err);

/**
 * Load a file holding exactly one certificate, optionally followed by its chain.
 * @param chain  NULL to refuse anything after the first certificate (-EBADMSG); otherwise
 *               receives the rest (possibly an empty stack), caller frees.
 * @return the first certificate, or NULL.
 */
X509 *sp_pki_cert_load(const char *path, STACK_OF(X509) **chain, struct sp_pki_err *err);

/**
 * PEM text of certs[0..n-1] concatenated (a leaf followed by its chain, or a bundle).
 * @return a NUL-terminated buffer (caller frees with free()), *len its length; NULL on error.
 */
char *sp_pki_certs_to_pem(X509 *const *certs, size_t n, size_t *len, struct sp_pki_err *err);

/** Save certs[0..n-1] as PEM, mode 0644, atomically. @return as sp_pki_file_write(). */
int sp_pki_certs_save(const char *path, X509 *const *certs, size_t n, unsigned int flags,
		      struct sp_pki_err *err);
/** The same for a stack. */
int sp_pki_stack_save(const char *path, STACK_OF(X509) *certs, unsigned int flags,
		      struct sp_pki_err *err);

/** Load one PEM "X509 CRL" block (nothing else in the file). @return the CRL, or NULL. */
X509_CRL *sp_pki_crl_load(const char *path, struct sp_pki_err *err);
/** Save a CRL as PEM, mode 0644, atomically. @return as sp_pki_file_write(). */
int sp_pki_crl_save(const char *path, X509_CRL *crl, unsigned int flags, struct sp_pki_err *err);

/** Parse one PEM "CERTIFICATE REQUEST" block from memory (HTTPS endpoint). */
X509_REQ *sp_pki_csr_from_pem(const char *pem, size_t len, const char *what,
			      struct sp_pki_err *err);
/** Load one PEM "CERTIFICATE REQUEST" block from a file. */
X509_REQ *sp_pki_csr_load(const char *path, struct sp_pki_err *err);
/** Save a CSR as PEM, mode 0644. */
int sp_pki_csr_save(const char *path, X509_REQ *csr, unsigned int flags, struct sp_pki_err *err);

/** @} */
/* ---------------------------------------------------------------------------------------- */
/** @name SPIFFE IDs (spiffe.c) */
/** @{ */

/**
 * Check a trust domain name: 1..255 characters of [a-z0-9.-_] (lower case only).
 * @return 0, or -EINVAL with the reason.
 */
int sp_pki_trust_domain_check(const char *td, struct sp_pki_err *err);

/**
 * Parse a SPIFFE ID "spiffe://<trust-domain>[/<segment>...]". Refused (-EINVAL, the message
 * says why): another or upper-case scheme, an empty or invalid trust domain, a port, userinfo,
 * a query, a fragment, percent-encoding, empty, "." or ".." segments, a trailing slash, segment
 * characters outside [A-Za-z0-9.-_], more than SP_PKI_SPIFFE_MAX bytes.
 * @param td    receives the trust domain (td_len >= SP_PKI_TD_MAX + 1 is always enough); may be
 *              NULL
 * @param path  receives a pointer into id at the path ("" for the trust domain's own ID); may
 *              be NULL
 * @return 0 or -EINVAL.
 */
int sp_pki_spiffe_parse(const char *id, char *td, size_t td_len, const char **path,
			struct sp_pki_err *err);

/** What a SPIFFE ID names, by the shape of its path. */
enum sp_pki_id_kind {
	SP_PKI_ID_TRUST_DOMAIN = 0,  /**< no path: the trust domain itself (CA certificates) */
	SP_PKI_ID_GATEWAY,           /**< /segment/<name> */
	SP_PKI_ID_WORKLOAD,          /**< /ns/<namespace>/sa/<service-account> */
	SP_PKI_ID_OTHER,             /**< a valid SPIFFE ID of another shape */
};

/**
 * Classify a SPIFFE ID and, for gateways and workloads, copy its parts out.
 * @param ns    workloads: the namespace (SP_PKI_SEGMENT_MAX + 1 bytes); may be NULL
 * @param name  gateways: the segment name, workloads: the service account; may be NULL
 * @return an sp_pki_id_kind, or -EINVAL (not a valid SPIFFE ID, or a part longer than
 *         SP_PKI_SEGMENT_MAX).
 */
int sp_pki_spiffe_kind(const char *id, char *ns, char *name, struct sp_pki_err *err);

/** Build spiffe://<td>/segment/<name>. @return 0, -EINVAL (bad part), -ENAMETOOLONG. */
int sp_pki_spiffe_gateway(char *out, size_t len, const char *td, const char *name,
			  struct sp_pki_err *err);
/** Build spiffe://<td>/ns/<ns>/sa/<sa>. @return 0, -EINVAL, -ENAMETOOLONG. */
int sp_pki_spiffe_workload(char *out, size_t len, const char *td, const char *ns,
			   const char *sa, struct sp_pki_err *err);

/**
 * The SPIFFE ID of a certificate: its subject alternative names must hold exactly one URI, and
 * that URI must be a valid SPIFFE ID.
 * @return 0; -ENOENT (no URI SAN), -EMLINK (more than one URI SAN), -EINVAL (not a valid SPIFFE
 *         ID), -ENAMETOOLONG (out too small).
 */
int sp_pki_cert_spiffe_id(const X509 *cert, char *out, size_t len, struct sp_pki_err *err);

/** The trust domain of a certificate's SPIFFE ID (CA certificates carry spiffe://<td>). */
int sp_pki_cert_trust_domain(const X509 *cert, char *td, size_t len, struct sp_pki_err *err);

/** @} */
/* ---------------------------------------------------------------------------------------- */
/** @name Certificates: issuance and inspection (issue.c, info.c) */
/** @{ */

enum sp_pki_cert_kind {
	SP_PKI_CERT_ROOT = 0,      /**< self-signed, CA:TRUE, keyCertSign+cRLSign */
	SP_PKI_CERT_INTERMEDIATE,  /**< CA:TRUE pathlen:0, name constraint: URI host = its TD */
	SP_PKI_CERT_GATEWAY,       /**< spiffe://<td>/segment/<name>, serverAuth+clientAuth */
	SP_PKI_CERT_WORKLOAD,      /**< spiffe://<td>/ns/<ns>/sa/<sa>, clientAuth+serverAuth */
};

/** For tests only: skip the issuer's validity and trust-domain checks (see sp_pki_issue()). */
#define SP_PKI_ISSUE_UNCHECKED 0x1u

/** What to issue. Zero-initialise, then set what applies. */
struct sp_pki_cert_spec {
	enum sp_pki_cert_kind kind;
	/** Roots and intermediates: the trust domain (intermediates default to the issuer's). */
	const char *trust_domain;
	/** Gateways and workloads: the SPIFFE ID, already decided (policy is the caller's job). */
	const char *spiffe_id;
	/** Informational subject CN; NULL derives one ("<td> root <keyid>", the SPIFFE ID...). */
	const char *common_name;
	/** Not-before; 0 means now minus backdate. May be in the future (tests). */
	time_t not_before;
	/** Seconds subtracted from now when not_before is 0 (clock skew); 0 means none. */
	uint32_t backdate;
	/** Lifetime in seconds from now, or from not_before when that is given; 0 picks the
	 * kind's default (SP_PKI_*_LIFETIME). */
	uint64_t lifetime;
	/** SP_PKI_ISSUE_* flags. */
	unsigned int flags;
};

/**
 * Issue a certificate for subject_key's public key.
 *
 * A root is self-signed: issuer and issuer_key are NULL and subject_key signs. Otherwise the
 * issuer must be a CA whose key is issuer_key, valid now, and (unless SP_PKI_ISSUE_UNCHECKED)
 * the identity must be in the issuer's trust domain. The not-after is clamped to the issuer's
 * not-after. The serial is 128 random bits (positive, top bits fixed so that it always prints as
 * 32 hex digits); SKI and AKI are set; the URI SAN carries the identity (spiffe://<td> for
 * CAs) and the CN is informational only.
 *
 * @return the certificate (caller frees), or NULL with err->code: -EINVAL (spec, ID or trust
 *         domain), -EKEYREJECTED (issuer key does not match, issuer not a CA), -EKEYEXPIRED /
 *         -ETIME (issuer expired / not yet valid), -EXDEV (identity outside the issuer's trust
 *         domain), -ERANGE (lifetime overflows), -ENOMEM, -EPROTO (OpenSSL failure).
 */
X509 *sp_pki_issue(const struct sp_pki_cert_spec *spec, const EVP_PKEY *subject_key,
		   const X509 *issuer, const EVP_PKEY *issuer_key, struct sp_pki_err *err);

/** The serial as upper-case hex without leading zeros ("0" for zero). @return 0, -ENAMETOOLONG. */
int sp_pki_cert_serial(const X509 *cert, char *out, size_t len);

/**
 * Normalise a serial typed by a human: optional "0x", colons allowed, hex digits, at most 20
 * octets; out gets upper-case hex without leading zeros. @return 0, -EINVAL.
 */
int sp_pki_serial_parse(const char *in, char out[SP_PKI_SERIAL_HEX_MAX + 1],
			struct sp_pki_err *err);

/** Everything `spctl ca show` and the daemon's `show certs` print about a certificate. */
struct sp_pki_cert_info {
	char subject[SP_PKI_NAME_MAX];
	char issuer[SP_PKI_NAME_MAX];
	char serial[SP_PKI_SERIAL_HEX_MAX + 1];
	char spiffe_id[SP_PKI_SPIFFE_MAX + 1];  /**< "" when the certificate has none */
	char key_id[SP_PKI_SHA256_HEX + 1];     /**< subject key identifier in hex, or "" */
	time_t not_before;
	time_t not_after;
	bool is_ca;
	int path_len;                           /**< CA path length constraint, -1 when none */
	bool self_signed;                       /**< issuer == subject and self-signature checks */
	int key_type;                           /**< sp_pki_key_type, or -ENOTSUP */
	char name_constraint[SP_PKI_TD_MAX + 1]; /**< first permitted URI subtree, or "" */
};

/** A distinguished name on one line, most specific first: "CN=x, O=sallyport". */
void sp_pki_name(const X509_NAME *name, char *out, size_t len);

/** Fill info. @return 0, -EINVAL (a time field does not parse). */
int sp_pki_cert_info(const X509 *cert, struct sp_pki_cert_info *info, struct sp_pki_err *err);

/** not_after - now, in seconds (negative once expired). */
int64_t sp_pki_cert_seconds_left(const X509 *cert, time_t now);

/** When to renew: not_before + 2/3 of the lifetime. 0 if the times do not parse. */
time_t sp_pki_cert_renew_at(const X509 *cert);

/** ASN1_TIME to time_t. @return 0, -EINVAL. */
int sp_pki_asn1_time(const ASN1_TIME *t, time_t *out);

/** Format t as "2026-11-29T07:31:02Z" (21 bytes with the NUL). */
void sp_pki_time_str(time_t t, char out[32]);

/**
 * Parse a time for the command line: "@<unix seconds>", "+<seconds>" / "-<seconds>" relative
 * to now, or "YYYY-MM-DDTHH:MM:SSZ". @return 0, -EINVAL.
 */
int sp_pki_time_parse(const char *s, time_t now, time_t *out);

/** @} */
/* ---------------------------------------------------------------------------------------- */
/** @name Trust bundles and verification (verify.c) */
/** @{ */

/**
 * Add root to bundle unless the same certificate is already in it. root must be a self-signed
 * CA certificate whose self-signature verifies.
 * @return 0 added (the bundle holds its own reference), 1 already present, -EINVAL (not a
 *         self-signed CA: the message says which), -ENOMEM.
 */
int sp_pki_bundle_add(STACK_OF(X509) *bundle, X509 *root, struct sp_pki_err *err);

/**
 * Load a trust bundle file: one or more root certificates, each checked as by
 * sp_pki_bundle_add() (duplicates are dropped). @return the roots, or NULL.
 */
STACK_OF(X509) *sp_pki_bundle_load(const char *path, struct sp_pki_err *err);

/** Verification options. Zero-initialise. */
struct sp_pki_verify_opts {
	time_t at;                  /**< verification time; 0: now */
	/** CRLs; when non-empty, every certificate of the chain but the root must be covered by a
	 * CRL of its issuer (so the root's CRL is needed too: it covers the intermediates). A CRL
	 * that names a CA of the chain but is not signed by that CA's key is an error (-EBADE);
	 * CRLs of unrelated issuers are ignored. */
	STACK_OF(X509_CRL) *crls;
	const char *expect_id;      /**< exact SPIFFE ID the leaf must carry, or NULL */
	const char *expect_td;      /**< trust domain the leaf must belong to, or NULL */
	int purpose;                /**< 0, or X509_PURPOSE_SSL_CLIENT / X509_PURPOSE_SSL_SERVER */
};

/** What a successful verification found. */
struct sp_pki_verify_result {
	char spiffe_id[SP_PKI_SPIFFE_MAX + 1];  /**< the leaf's SPIFFE ID */
	time_t not_after;                       /**< the leaf's */
	time_t chain_not_after;                 /**< earliest not-after of the whole chain */
	int chain_len;                          /**< certificates in the path, root included */
};

/**
 * Verify leaf, with untrusted intermediates, against the roots of a bundle (RFC 5280 path
 * validation by OpenSSL with X509_V_FLAG_X509_STRICT, name constraints enforced), then require
 * that the leaf is not a CA and carries exactly one SPIFFE ID URI SAN with a path, matching
 * expect_id / expect_td when given.
 *
 * @param untrusted  intermediates (may be NULL); roots found there are not trusted
 * @param res        may be NULL
 * @return 0, or the errno naming the problem (see the file comment): -EKEYEXPIRED, -ETIME,
 *         -ENOKEY, -EKEYREVOKED, -EACCES, -EPERM, -EBADMSG, -EKEYREJECTED, -ENODATA,
 *         -ESTALE, -EBADE, -EPROTO, -EINVAL (arguments, empty bundle), -ENOMEM. err->depth
 *         names the certificate (0 = leaf) and err->msg the reason with its subject.
 */
int sp_pki_verify(X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509) *bundle,
		  const struct sp_pki_verify_opts *opts, struct sp_pki_verify_result *res,
		  struct sp_pki_err *err);

/** Short name of a verification errno ("expired", "revoked", ...), or "error". */
const char *sp_pki_verify_problem(int code);

/** @} */
/* ---------------------------------------------------------------------------------------- */
/** @name CRLs (crl.c) */
/** @{ */

/** RFC 5280 reason codes we accept. */
enum sp_pki_reason {
	SP_PKI_REASON_UNSPECIFIED = 0,
	SP_PKI_REASON_KEY_COMPROMISE = 1,
	SP_PKI_REASON_CA_COMPROMISE = 2,
	SP_PKI_REASON_AFFILIATION_CHANGED = 3,
	SP_PKI_REASON_SUPERSEDED = 4,
	SP_PKI_REASON_CESSATION = 5,
	SP_PKI_REASON_PRIVILEGE_WITHDRAWN = 9,
};

/**
 * Parse a reason: "unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
 * "superseded", "cessationOfOperation", "privilegeWithdrawn" (case-insensitive; also the
 * short forms "key-compromise", "ca-compromise", "affiliation-changed", "cessation",
 * "privilege-withdrawn"). @return 0, -EINVAL.
 */
int sp_pki_reason_parse(const char *s, enum sp_pki_reason *out);
/** RFC 5280 name of a reason, or "?". */
const char *sp_pki_reason_name(int reason);

/** One revoked certificate. */
struct sp_pki_revoked {
	char serial[SP_PKI_SERIAL_HEX_MAX + 1];  /**< normalised hex (sp_pki_serial_parse()) */
	int reason;                              /**< enum sp_pki_reason */
	time_t when;                             /**< revocation date */
};

/**
 * Create a CRL (v2) signed by the CA: revoked entries with their reason code, this update,
 * next update = this update + lifetime, the CRL number extension and the AKI of the CA.
 * @param this_update  0: now
 * @param lifetime     seconds; 0: SP_PKI_CRL_LIFETIME
 * @return the CRL (caller frees), or NULL: -EKEYREJECTED (key does not match, CA without
 *         cRLSign), -EKEYEXPIRED (CA expired), -EINVAL, -ENOMEM, -EPROTO.
 */
X509_CRL *sp_pki_crl_create(const X509 *ca, const EVP_PKEY *ca_key,
			    const struct sp_pki_revoked *revoked, size_t n, uint64_t crl_number,
			    time_t this_update, uint64_t lifetime, struct sp_pki_err *err);

/**
 * Check that crl was issued by ca: issuer name, AKI (when both present), signature; and, when
 * at != 0, that it is current at that time.
 * @return 0, -EBADE (another CA's CRL, or bad signature), -ESTALE (past next update or before
 *         this update), -EINVAL.
 */
int sp_pki_crl_check(X509_CRL *crl, const X509 *ca, time_t at, struct sp_pki_err *err);

/** Is cert listed in crl? @return 1 revoked (reason in *reason, may be NULL), 0 not, -EINVAL. */
int sp_pki_crl_lookup(X509_CRL *crl, const X509 *cert, int *reason);

/** The CRL number extension. @return 0, -ENOENT (absent), -ERANGE (does not fit 64 bits). */
int sp_pki_crl_number(const X509_CRL *crl, uint64_t *out);

/** This/next update of a CRL. @return 0, -EINVAL. */
int sp_pki_crl_times(const X509_CRL *crl, time_t *this_update, time_t *next_update);

/** @} */
/* ---------------------------------------------------------------------------------------- */
/** @name The CA's index: issued and revoked serials, CRL number (index.c) */
/** @{ */

/**
 * A text file next to the CA certificate, appended to under an exclusive flock(), one record
 * per line (see docs/pki.md): "issued <serial> <not-after> <spiffe-id>", "revoked <serial>
 * <unix-time> <reason>", "crl-number <n>".
 */
struct sp_pki_index {
	uint64_t crl_number;           /**< the last CRL number issued (0: none yet) */
	size_t n_issued;
	size_t n_revoked;
	struct sp_pki_revoked *revoked;
	struct sp_pki_index_issued {
		char serial[SP_PKI_SERIAL_HEX_MAX + 1];
		time_t not_after;
		char *identity;
	} *issued;
};

/** Read an index file; a missing file is an empty index. @return 0, -EBADMSG (file:line). */
int sp_pki_index_load(const char *path, struct sp_pki_index *idx, struct sp_pki_err *err);
/** Free what sp_pki_index_load() allocated and zero idx. */
void sp_pki_index_free(struct sp_pki_index *idx);

/** Record an issued certificate. @return 0, or an -errno (file system). */
int sp_pki_index_add_issued(const char *path, const X509 *cert, struct sp_pki_err *err);

/**
 * Record a revocation. The serial must be recorded as issued unless force.
 * @return 0, -ENOENT (serial unknown to this CA), -EALREADY (already revoked), -EINVAL.
 */
int sp_pki_index_revoke(const char *path, const char *serial, int reason, time_t when,
			bool force, struct sp_pki_err *err);

/** Record the number of a CRL that was written. @return 0, -EINVAL (not larger), -errno. */
int sp_pki_index_set_crl_number(const char *path, uint64_t number, struct sp_pki_err *err);

/** @} */
/* ---------------------------------------------------------------------------------------- */
/** @name CSRs and the signing policy (csr.c, policy.c) */
/** @{ */

/**
 * Create a CSR for key asking for spiffe_id (in a URI SAN of the extension request; CN = the
 * ID). Self-signed with key. @return the CSR (caller frees), or NULL (-EINVAL, -ENOTSUP,
 * -EPROTO).
 */
X509_REQ *sp_pki_csr_create(const EVP_PKEY *key, const char *spiffe_id, struct sp_pki_err *err);

/**
 * Check a CSR as received: its self-signature verifies, its key is P-256 or Ed25519, it asks
 * for no CA rights (basicConstraints CA:TRUE, keyCertSign/cRLSign key usage, name constraints)
 * and at most one URI SAN, which must be a valid SPIFFE ID.
 * @param requested  receives the requested SPIFFE ID ("" when none); may be NULL
 * @return 0, -EBADMSG (bad self-signature), -ENOTSUP (key type), -EPERM (asks for CA rights),
 *         -EMLINK (several URI SANs), -EINVAL (malformed request or ID).
 */
int sp_pki_csr_check(X509_REQ *csr, char *requested, size_t len, struct sp_pki_err *err);

#define SP_PKI_POLICY_MAX_RULES 64

/**
 * Which identities may be granted to CSRs. Rules are shell globs (fnmatch(), no FNM_PATHNAME
 * needed since segments contain no '/').
 */
struct sp_pki_policy {
	char trust_domain[SP_PKI_TD_MAX + 1];
	uint64_t default_lifetime;    /**< seconds; used when the caller asks for 0 */
	uint64_t max_lifetime;        /**< seconds; longer requests are refused (-ERANGE) */
	unsigned int n_rules;
	struct sp_pki_policy_rule {
		enum sp_pki_id_kind kind;   /**< SP_PKI_ID_GATEWAY or SP_PKI_ID_WORKLOAD */
		char ns[SP_PKI_SEGMENT_MAX + 1];    /**< workloads: namespace glob */
		char name[SP_PKI_SEGMENT_MAX + 1];  /**< service-account / segment-name glob */
	} rules[SP_PKI_POLICY_MAX_RULES];
};

/**
 * Initialise a policy for a trust domain with no rules, default lifetime
 * SP_PKI_WORKLOAD_LIFETIME and maximum 30 days. @return 0, -EINVAL.
 */
int sp_pki_policy_init(struct sp_pki_policy *p, const char *trust_domain,
		       struct sp_pki_err *err);

/**
 * Add a rule in the file syntax: "workload ns=<glob> sa=<glob>" or "gateway name=<glob>".
 * Globs may use [A-Za-z0-9.-_] and the wildcards * ? [ ]. @return 0, -EINVAL, -ENOSPC.
 */
int sp_pki_policy_add_rule(struct sp_pki_policy *p, const char *rule, struct sp_pki_err *err);

/**
 * Load a policy file (see docs/pki.md): "trust-domain TD", "allow <rule>",
 * "default-lifetime <seconds>", "max-lifetime <seconds>", comments with '#'. Errors are
 * "file:line: reason". @return 0, -EINVAL, -ENOENT and other open errnos.
 */
int sp_pki_policy_load(struct sp_pki_policy *p, const char *path, struct sp_pki_err *err);

/**
 * May id be granted under p? @return 0, -EXDEV (foreign trust domain), -EACCES (no rule
 * allows it), -EINVAL (not a gateway or workload SPIFFE ID).
 */
int sp_pki_policy_allows(const struct sp_pki_policy *p, const char *id, struct sp_pki_err *err);

/** How to sign a CSR. Zero-initialise. */
struct sp_pki_sign_opts {
	const struct sp_pki_policy *policy;  /**< required */
	/**
	 * The identity the requester has proven (a consumed bootstrap token's identity, or the
	 * SPIFFE ID of a verified client certificate on renewal), or NULL. When set it is the
	 * identity granted; the CSR may name no ID or the same one, anything else is -EACCES.
	 * It must still be in the policy's trust domain (-EXDEV). When NULL, the CSR's requested
	 * ID is granted only if a policy rule allows it.
	 */
	const char *bound_id;
	uint64_t lifetime;                   /**< seconds; 0: the policy's default */
	time_t not_before;                   /**< 0: now minus backdate */
	uint32_t backdate;
};

/**
 * Check the CSR (sp_pki_csr_check()), decide the identity by policy, and issue a gateway or
 * workload certificate for the CSR's public key with our extensions only (nothing from the CSR
 * is copied but the key and, after the policy agreed, the ID).
 * @param granted  receives the granted SPIFFE ID; may be NULL
 * @return the certificate, or NULL with the errnos of sp_pki_csr_check(),
 *         sp_pki_policy_allows() and sp_pki_issue(), -ENOENT (no identity requested or bound),
 *         -ERANGE (lifetime above the policy's maximum).
 */
X509 *sp_pki_csr_sign(X509_REQ *csr, const struct sp_pki_sign_opts *opts, const X509 *ca,
		      const EVP_PKEY *ca_key, char *granted, size_t granted_len,
		      struct sp_pki_err *err);

/** @} */
/* ---------------------------------------------------------------------------------------- */
/** @name One-time bootstrap tokens (token.c) */
/** @{ */

/**
 * Create a token granting identity, valid for ttl seconds from now. The token file (mode 0600)
 * stores only SHA-256(token), the expiry, a used flag and the identity; it is rewritten
 * atomically under an exclusive lock on "<path>.lock".
 * @param token  receives the token: SP_PKI_TOKEN_CHARS hex characters and a NUL
 * @return 0, -EINVAL (identity not a gateway/workload SPIFFE ID, ttl 0), -EBADMSG (token file
 *         damaged), or an -errno from the file system.
 */
int sp_pki_token_create(const char *path, const char *identity, uint64_t ttl, time_t now,
			char token[SP_PKI_TOKEN_CHARS + 1], struct sp_pki_err *err);

/**
 * Check a token and mark it used, atomically with respect to the file (lock, read, rewrite).
 * Entries that expired more than a day ago are dropped on the way.
 * @param identity  receives the identity the token grants (SP_PKI_SPIFFE_MAX + 1 bytes)
 * @return 0, -ENOENT (no such token: wrong or unknown), -EALREADY (already used),
 *         -EKEYEXPIRED (expired), -EINVAL (malformed token), -EBADMSG (file damaged), -errno.
 */
int sp_pki_token_consume(const char *path, const char *token, time_t now, char *identity,
			 size_t len, struct sp_pki_err *err);

/**
 * What sp_pki_token_consume() would do, without marking the token used (so that a caller can
 * do all its fallible work before it consumes). Same returns.
 */
int sp_pki_token_lookup(const char *path, const char *token, time_t now, char *identity,
			size_t len, struct sp_pki_err *err);

/** @} */
/* ---------------------------------------------------------------------------------------- */
/** @name Audit log (audit.c) */
/** @{ */

enum sp_pki_audit_action {
	SP_PKI_AUDIT_INIT = 0,
	SP_PKI_AUDIT_INTERMEDIATE,
	SP_PKI_AUDIT_ISSUE,
	SP_PKI_AUDIT_SIGN,
	SP_PKI_AUDIT_RENEW,
	SP_PKI_AUDIT_REVOKE,
	SP_PKI_AUDIT_CRL,
	SP_PKI_AUDIT_BUNDLE,
	SP_PKI_AUDIT_TOKEN,
	SP_PKI_AUDIT_MAX,
};

/** "init", "intermediate", "issue", ... or "?". */
const char *sp_pki_audit_action_name(int action);

/** One audit record. Strings may be NULL (written as ""). */
struct sp_pki_audit_rec {
	enum sp_pki_audit_action action;
	const char *who;       /**< "uid=0(root)", or the peer's SPIFFE ID for the endpoint */
	const char *serial;    /**< certificate serial (hex), or the CRL number */
	const char *identity;  /**< SPIFFE ID issued / revoked / granted by a token */
	time_t not_after;      /**< 0: none */
	const char *detail;    /**< free text: file names, reason, bundle fingerprints */
	time_t time;           /**< 0: now */
};

/**
 * Append one JSON line to the audit log: {"seq":N,"time":"...","who":"...","action":"...",
 * "serial":"...","identity":"...","not_after":"...","detail":"...","prev":"<sha256 of the
 * previous line>"}. The file (mode 0600) is opened with O_APPEND and locked with flock();
 * the line is written in one write() and fsync()ed; then "<path>.head" ("<seq> <sha256 of
 * the last line>") is replaced atomically so that removing lines at the end is detected too.
 * @return 0, -EBADMSG (the log's last line is damaged: nothing is appended), -errno.
 */
int sp_pki_audit_append(const char *path, const struct sp_pki_audit_rec *rec,
			struct sp_pki_err *err);

/**
 * Check the chain: every line's "prev" is the SHA-256 of the line before it, seq counts from 1
 * without gaps, and the head file matches the last line.
 * @param entries  receives the number of lines; may be NULL
 * @param head     receives the SHA-256 of the last line (print it, keep it off the machine);
 *                 may be NULL
 * @return 0, -EBADMSG (err->msg names the line: edited, removed, inserted or truncated),
 *         -ENOENT (no log, or no head file for a non-empty log), -errno.
 */
int sp_pki_audit_verify(const char *path, uint64_t *entries,
			char head[SP_PKI_SHA256_HEX + 1], struct sp_pki_err *err);

/** "uid=<uid>(<user>)" of the calling process, with " sudo=<user>" when SUDO_USER is set. */
void sp_pki_audit_who(char *out, size_t len);

/** @} */

#endif
