/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The key exchange instance: peers and their roles, TLS contexts built from certd's material
 * (rebuilt when it changes, and every live session's peer certificate verified again), the
 * tick (connect attempts with back-off, deadlines, DPD, rekey timers, certificate expiry),
 * status for `show peers`, and the public API.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "keyx_private.h"
#include "sp_certd.h"
#include "sp_ctl.h"
#include "sp_pki.h"

SP_LOG_TYPE(keyx);

#define KX_BACKOFF_CAP_MS 4000    /* a restarted peer must be back within seconds */

#define KX_REFUSAL_NAME(e, n, d) [SP_KEYX_REFUSE_##e] = n,
#define KX_REFUSAL_DESC(e, n, d) [SP_KEYX_REFUSE_##e] = d,
static const char *const refusal_names[] = { SP_KEYX_REFUSALS(KX_REFUSAL_NAME) };
static const char *const refusal_descs[] = { SP_KEYX_REFUSALS(KX_REFUSAL_DESC) };
#undef KX_REFUSAL_NAME
#undef KX_REFUSAL_DESC

const char *
sp_keyx_refusal_name(enum sp_keyx_refusal r)
{
	return (unsigned int)r < SP_KEYX_REFUSE_MAX ? refusal_names[r] : "?";
}

const char *
sp_keyx_refusal_desc(enum sp_keyx_refusal r)
{
	return (unsigned int)r < SP_KEYX_REFUSE_MAX ? refusal_descs[r] : "?";
}

/* ---- status and accounting ---- */

void
kx_status(struct kx_peer *p, const char *state, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	/* a refused peer stays shown as refused while we retry, until a session comes up */
	if (p->refused && (strcmp(state, "connecting") == 0 || strcmp(state, "handshake") == 0))
		return;
	p->refused = strcmp(state, "refused") == 0;
	if (p->k->env.ops->set_status == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	p->k->env.ops->set_status(p->k->env.arg, p->idx, state, detail);
}

void
kx_refused(struct kx_peer *p, enum sp_keyx_refusal cause, const char *detail, bool status)
{
	p->cnt.refused[cause]++;
	if (!(p->logged & (1u << cause)))
		SP_LOG(keyx, WARNING, "peer %s (%s): refused: %s: %s", p->conf->name,
		       p->conf->identity, sp_keyx_refusal_name(cause), detail);
	p->logged |= 1u << cause;
	if (status)
		kx_status(p, cause == SP_KEYX_REFUSE_TLS ? "down" : "refused", "%s: %s",
			  sp_keyx_refusal_name(cause), detail);
}

void
kx_down(struct kx_peer *p, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!p->down_logged && !p->k->destroying)
		SP_LOG(keyx, NOTICE, "peer %s: down: %s", p->conf->name, why);
	p->down_logged = true;
	kx_status(p, "down", "%s", why);
}

void
kx_schedule_retry(struct kx_peer *p, bool reset)
{
	uint32_t cap = p->k->tun.retry_ms > KX_BACKOFF_CAP_MS ? p->k->tun.retry_ms :
		       KX_BACKOFF_CAP_MS;

	if (!p->client)
		return;
	if (reset)
		p->backoff_ms = p->k->tun.retry_ms;
	p->next_connect_ms = sp_ctl_now_ms() + p->backoff_ms;
	p->backoff_ms = p->backoff_ms * 2 > cap ? cap : p->backoff_ms * 2;
}

void
kx_session_event(struct kx_peer *p, enum kx_event ev)
{
	struct kx_sess *s = kx_conn_sess(p->conn);

	switch (ev) {
	case KX_EV_UP:
		p->cnt.handshakes_ok++;
		p->logged = 0;
		p->down_logged = false;
		p->refused = false;
		kx_status(p, "handshake", "%s verified, keying epoch 1", p->conf->identity);
		break;
	case KX_EV_REKEY:
		kx_status(p, "rekeying", "epoch %llu active, %s", (unsigned long long)s->epoch,
			  p->client ? "next one proposed" : "asked the peer for a new one");
		break;
	case KX_EV_EPOCH:
		p->cnt.epochs++;
		if (s->epoch > 1)
			p->cnt.rekeys++;
		p->bad_logged = false;
		p->backoff_ms = p->k->tun.retry_ms;
		kx_status(p, "established", "epoch %llu, TLSv1.3 %s, %s, %u out/%u in SAs",
			  (unsigned long long)s->epoch, kx_conn_cipher(p->conn),
			  p->conf->identity, p->k->env.n_workers, s->peer_workers);
		if (s->epoch == 1)
			SP_LOG(keyx, NOTICE, "peer %s: established with %s (%u out/%u in SAs)",
			       p->conf->name, p->conf->identity, p->k->env.n_workers,
			       s->peer_workers);
		else
			SP_LOG(keyx, INFO, "peer %s: epoch %llu active", p->conf->name,
			       (unsigned long long)s->epoch);
		break;
	}
}

/* ---- certificates ---- */

/* Contexts for every keyed peer from material m, all or nothing. */
static int
build_contexts(struct sp_keyx *k, const struct sp_certd_material *m, char *err, size_t errlen)
{
	SSL_CTX *ctx[SP_CONF_MAX_PEERS] = { NULL };
	unsigned int i, j;

	for (i = 0; i < k->n_peers; i++) {
		struct kx_peer *p = &k->peers[i];
		char e[256];

		if (!p->keyed)
			continue;
		ctx[i] = sp_certd_ssl_ctx(m, p->client ? 0 : SP_CERTD_TLS_SERVER,
					  p->conf->identity, e, sizeof(e));
		if (ctx[i] == NULL ||
		    SSL_CTX_set_min_proto_version(ctx[i], TLS1_3_VERSION) != 1) {
			snprintf(err, errlen, "tunnels.peers.[%u] (%s): %s", i, p->conf->name,
				 ctx[i] == NULL ? e : "cannot require TLS 1.3");
			for (j = 0; j <= i; j++)
				SSL_CTX_free(ctx[j]);
			ERR_clear_error();
			return -EINVAL;
		}
	}
	/* live connections keep a reference to the context they were made with */
	for (i = 0; i < k->n_peers; i++) {
		SSL_CTX_free(k->peers[i].ctx);
		k->peers[i].ctx = ctx[i];
	}
	return 0;
}

static enum sp_keyx_refusal
cause_of_pki(int code)
{
	switch (code) {
	case -EKEYREVOKED:
		return SP_KEYX_REFUSE_REVOKED;
	case -EKEYEXPIRED:
		return SP_KEYX_REFUSE_EXPIRED;
	case -ETIME:
		return SP_KEYX_REFUSE_NOT_YET_VALID;
	case -EACCES:
	case -EXDEV:
		return SP_KEYX_REFUSE_WRONG_IDENTITY;
	case -ENOKEY:
		return SP_KEYX_REFUSE_UNKNOWN_CA;
	default:
		return SP_KEYX_REFUSE_BAD_CERT;
	}
}

/* A live session's peer is no longer acceptable: SAs go at once, the peer is told. */
static void
tear_down(struct kx_peer *p, enum sp_keyx_refusal cause, const char *detail)
{
	kx_conn_drop(p->conn, KX_CLOSE_CERT, detail);
	kx_refused(p, cause, detail, true);
	kx_schedule_retry(p, false);
}

/* The bundle, CRLs or our certificate changed: new contexts, and every peer checked again. */
static void
material_changed(struct sp_keyx *k, struct sp_certd_material *m)
{
	char err[512];
	unsigned int i;

	if (build_contexts(k, m, err, sizeof(err)) < 0) {
		/* keep the old contexts; the next change is tried again */
		SP_LOG(keyx, ERR, "new certificates not usable, keeping the previous ones: %s",
		       err);
		sp_certd_material_put(k->mat);
		k->mat = m;
		return;
	}
	sp_certd_material_put(k->mat);
	k->mat = m;
	for (i = 0; i < k->n_peers; i++) {
		struct kx_peer *p = &k->peers[i];
		struct sp_pki_verify_opts vo = { 0 };
		struct sp_pki_err pe;
		char detail[400];

		if (!p->keyed || !kx_conn_up(p->conn) || p->leaf == NULL)
			continue;
		vo.crls = sk_X509_CRL_num(m->crls) > 0 ? m->crls : NULL;
		vo.expect_id = p->conf->identity;
		if (sp_pki_verify(p->leaf, p->chain, m->bundle, &vo, NULL, &pe) == 0)
			continue;
		snprintf(detail, sizeof(detail), "certificates reloaded: %s", pe.msg);
		tear_down(p, cause_of_pki(pe.code), detail);
	}
}

static void
on_tick(uint64_t now_ms, void *arg)
{
	struct sp_keyx *k = arg;
	struct sp_certd_material *m = sp_certd_current(k->certd);
	time_t now = time(NULL);
	unsigned int i;

	if (m != NULL && m != k->mat)
		material_changed(k, m);
	else
		sp_certd_material_put(m);
	for (i = 0; i < k->n_peers; i++) {
		struct kx_peer *p = &k->peers[i];

		if (!p->keyed)
			continue;
		if (kx_conn_up(p->conn) && p->leaf != NULL && now >= p->leaf_not_after) {
			char when[32], detail[128];

			sp_pki_time_str(p->leaf_not_after, when);
			snprintf(detail, sizeof(detail), "peer certificate expired at %s", when);
			tear_down(p, SP_KEYX_REFUSE_EXPIRED, detail);
		}
		if (p->incoming != NULL)
			kx_conn_tick(p->incoming, now_ms);
		if (p->conn != NULL) {
			kx_conn_tick(p->conn, now_ms);
		} else if (p->client && now_ms >= p->next_connect_ms) {
			char err[256], a[SP_IP_STRLEN];

			sp_ip_format(&p->conf->address, a, sizeof(a), false);
			kx_status(p, "connecting", "to %s port %u", a, k->tun.port);
			if (kx_connect(p, err, sizeof(err)) < 0) {
				kx_down(p, "%s port %u: %s", a, k->tun.port, err);
				kx_schedule_retry(p, false);
			}
		}
	}
}

/* ---- instance ---- */

static int
check_params(const struct sp_keyx_params *p, char *err, size_t errlen)
{
	const struct sp_keyx_sa_ops *o = p->ops;

	if (p->ctl == NULL || p->certd == NULL || p->tun == NULL || p->locals == NULL ||
	    o == NULL || o->spi_alloc == NULL || o->add_inbound == NULL ||
	    o->add_outbound == NULL || o->activate == NULL || o->retire == NULL ||
	    o->flush == NULL) {
		snprintf(err, errlen, "key exchange: missing parameter");
		return -EINVAL;
	}
	if (p->n_workers == 0 || p->n_workers > SP_KEYX_MAX_SAS) {
		snprintf(err, errlen, "key exchange: %u workers (1..%u SAs per epoch)",
			 p->n_workers, SP_KEYX_MAX_SAS);
		return -EINVAL;
	}
	if (p->tun->key_bits != 128 && p->tun->key_bits != 256) {
		snprintf(err, errlen, "tunnels.key_bits: %u (128 or 256)", p->tun->key_bits);
		return -EINVAL;
	}
	return 0;
}

static int
setup_peers(struct sp_keyx *k, const struct sp_ip *locals, char *err, size_t errlen)
{
	unsigned int i;

	k->n_peers = k->tun.n_peers;
	for (i = 0; i < k->n_peers; i++) {
		struct kx_peer *p = &k->peers[i];
		const struct sp_conf_peer *c = &k->tun.peers[i];
		size_t alen;
		int cmp;

		p->k = k;
		p->idx = i;
		p->conf = c;
		p->keyed = c->n_manual == 0;
		p->backoff_ms = k->tun.retry_ms;
		if (!p->keyed)
			continue;
		p->local = locals[i];
		if (c->address.family != AF_INET && c->address.family != AF_INET6) {
			snprintf(err, errlen, "tunnels.peers.[%u] (%s): no address", i, c->name);
			return -EINVAL;
		}
		if (p->local.family != c->address.family) {
			snprintf(err, errlen, "tunnels.peers.[%u] (%s): no local address of the "
				 "peer's family", i, c->name);
			return -EINVAL;
		}
		if (c->identity[0] == '\0') {
			snprintf(err, errlen, "tunnels.peers.[%u] (%s): no identity", i, c->name);
			return -EINVAL;
		}
		alen = c->address.family == AF_INET ? 4 : 16;
		cmp = c->address.family == AF_INET ? memcmp(&p->local.v4, &c->address.v4, alen) :
		      memcmp(p->local.v6, c->address.v6, alen);
		if (cmp == 0) {
			snprintf(err, errlen, "tunnels.peers.[%u] (%s): the peer's address is ours",
				 i, c->name);
			return -EINVAL;
		}
		/* both ends decide alike without talking: the lower address calls */
		p->client = cmp < 0;
	}
	return 0;
}

struct sp_keyx *
sp_keyx_create(const struct sp_keyx_params *prm, char *err, size_t errlen)
{
	struct sp_keyx *k;
	unsigned int i;
	uint32_t tick;
	int rc;

	if (check_params(prm, err, errlen) < 0)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->ctl = prm->ctl;
	k->certd = prm->certd;
	k->tun = *prm->tun;
	k->tick = -1;
	if (k->tun.dpd_interval_ms == 0)
		k->tun.dpd_interval_ms = 1000;
	if (k->tun.dpd_timeout_ms == 0)
		k->tun.dpd_timeout_ms = 5000;
	if (k->tun.drain_ms == 0)
		k->tun.drain_ms = 2000;
	if (k->tun.retry_ms == 0)
		k->tun.retry_ms = 500;
	if (k->tun.port == 0)
		k->tun.port = 4501;
	snprintf(k->netns, sizeof(k->netns), "%s", prm->netns != NULL ? prm->netns : "");
	k->env.ops = prm->ops;
	k->env.arg = prm->arg;
	k->env.n_workers = prm->n_workers;
	k->env.alg = k->tun.key_bits == 128 ? SP_CRYPTO_AES128_GCM : SP_CRYPTO_AES256_GCM;
	k->env.dpd_interval_ms = k->tun.dpd_interval_ms;
	k->env.dpd_timeout_ms = k->tun.dpd_timeout_ms;
	k->env.drain_ms = k->tun.drain_ms;
	k->env.soft_ms = k->tun.lifetime.soft_seconds * 1000;
	rc = setup_peers(k, prm->locals, err, errlen);
	if (rc == 0) {
		bool keyed = false;

		for (i = 0; i < k->n_peers; i++)
			keyed |= k->peers[i].keyed;
		k->mat = sp_certd_current(k->certd);
		if (k->mat == NULL && keyed) {
			snprintf(err, errlen, "key exchange needs certificates: no pki section");
			rc = -ENOKEY;
		}
	}
	if (rc == 0 && k->mat != NULL)
		rc = build_contexts(k, k->mat, err, errlen);
	if (rc == 0)
		rc = kx_listen_start(k, err, errlen);
	if (rc == 0) {
		tick = k->tun.dpd_interval_ms / 4;
		tick = tick < 10 ? 10 : tick > 100 ? 100 : tick;
		k->tick = sp_ctl_add_timer(k->ctl, tick, on_tick, k);
		if (k->tick < 0) {
			snprintf(err, errlen, "key exchange timer: out of memory");
			rc = -ENOMEM;
		}
	}
	if (rc < 0) {
		k->destroying = true;
		sp_keyx_destroy(k);
		return NULL;
	}
	for (i = 0; i < k->n_peers; i++) {
		struct kx_peer *p = &k->peers[i];
		char a[SP_IP_STRLEN];

		if (!p->keyed)
			continue;
		sp_ip_format(&p->conf->address, a, sizeof(a), false);
		if (p->client)
			kx_status(p, "connecting", "to %s port %u", a, k->tun.port);
		else
			kx_status(p, "connecting", "waiting for %s to connect (lower address)", a);
	}
	return k;
}

void
sp_keyx_destroy(struct sp_keyx *k)
{
	bool started;
	unsigned int i;

	if (k == NULL)
		return;
	/* a failed create has set nothing visible: no status, no flush */
	started = !k->destroying;
	k->destroying = true;
	if (k->tick >= 0)
		sp_ctl_del_timer(k->ctl, k->tick);
	kx_listen_stop(k);
	for (i = 0; i < k->n_peers; i++) {
		struct kx_peer *p = &k->peers[i];

		bool flushed = kx_conn_up(p->conn);

		if (p->incoming != NULL)
			kx_conn_drop(p->incoming, -1, NULL);
		if (p->conn != NULL)
			kx_conn_drop(p->conn, KX_CLOSE_SHUTDOWN, "gateway stopping");
		if (p->keyed && started) {
			if (!flushed)
				k->env.ops->flush(k->env.arg, i);
			kx_status(p, "down", "key exchange stopped");
		}
		SSL_CTX_free(p->ctx);
	}
	sp_certd_material_put(k->mat);
	ERR_clear_error();
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

static struct kx_peer *
api_peer(struct sp_keyx *k, unsigned int peer, char *msg, size_t len, int *rc)
{
	struct kx_peer *p;

	if (peer >= k->n_peers) {
		snprintf(msg, len, "no peer %u", peer);
		*rc = -ENOENT;
		return NULL;
	}
	p = &k->peers[peer];
	if (!p->keyed) {
		snprintf(msg, len, "peer %s has manual keys: no key exchange", p->conf->name);
		*rc = -EINVAL;
		return NULL;
	}
	return p;
}

int
sp_keyx_rekey(struct sp_keyx *k, unsigned int peer, char *msg, size_t len)
{
	struct kx_peer *p;
	struct kx_sess *s;
	char why[320];
	int rc = 0;

	p = api_peer(k, peer, msg, len, &rc);
	if (p == NULL)
		return rc;
	if (!kx_conn_up(p->conn)) {
		snprintf(msg, len, "peer %s: no session", p->conf->name);
		return -ENOTCONN;
	}
	s = kx_conn_sess(p->conn);
	rc = kx_sess_rekey(s, sp_ctl_now_ms(), why, sizeof(why));
	if (rc == -ENOTCONN || rc == -EBUSY) {
		snprintf(msg, len, "peer %s: %s", p->conf->name, why);
		return rc;
	}
	if (rc < 0) {
		snprintf(msg, len, "peer %s: %s", p->conf->name, why);
		kx_conn_fail(p->conn, rc, why);
		return rc;
	}
	if (p->client)
		snprintf(msg, len, "peer %s: epoch %llu proposed", p->conf->name,
			 (unsigned long long)s->pending);
	else
		snprintf(msg, len, "peer %s: asked the peer to propose epoch %llu", p->conf->name,
			 (unsigned long long)s->epoch + 1);
	kx_conn_flush(p->conn);
	return 0;
}

int
sp_keyx_reset(struct sp_keyx *k, unsigned int peer, char *msg, size_t len)
{
	struct kx_peer *p;
	bool flushed;
	int rc = 0;

	p = api_peer(k, peer, msg, len, &rc);
	if (p == NULL)
		return rc;
	flushed = kx_conn_up(p->conn);
	if (p->incoming != NULL)
		kx_conn_drop(p->incoming, -1, NULL);
	if (p->conn != NULL)
		kx_conn_drop(p->conn, KX_CLOSE_RESET, "reset by the peer's operator");
	if (!flushed)
		k->env.ops->flush(k->env.arg, peer);
	p->backoff_ms = k->tun.retry_ms;
	p->next_connect_ms = 0;
	kx_status(p, "down", "reset by operator");
	SP_LOG(keyx, NOTICE, "peer %s: reset by operator", p->conf->name);
	snprintf(msg, len, "peer %s: session dropped, SAs flushed, %s", p->conf->name,
		 p->client ? "reconnecting" : "waiting for the peer to reconnect");
	return 0;
}

static void
add_counters(struct sp_keyx_counters *to, const struct sp_keyx_counters *c)
{
	unsigned int i;

	to->connects += c->connects;
	to->handshakes_ok += c->handshakes_ok;
	to->handshakes_failed += c->handshakes_failed;
	for (i = 0; i < SP_KEYX_REFUSE_MAX; i++)
		to->refused[i] += c->refused[i];
	to->epochs += c->epochs;
	to->rekeys += c->rekeys;
	to->dpd_timeouts += c->dpd_timeouts;
	to->bad_messages += c->bad_messages;
	to->sessions_lost += c->sessions_lost;
	to->sa_failures += c->sa_failures;
}

void
sp_keyx_counters(const struct sp_keyx *k, struct sp_keyx_counters *out)
{
	unsigned int i;

	memset(out, 0, sizeof(*out));
	add_counters(out, &k->cnt);
	for (i = 0; i < k->n_peers; i++)
		add_counters(out, &k->peers[i].cnt);
}

int
sp_keyx_peer_counters(const struct sp_keyx *k, unsigned int peer, struct sp_keyx_counters *out)
{
	if (peer >= k->n_peers)
		return -ENOENT;
	*out = k->peers[peer].cnt;
	return 0;
}

uint64_t
sp_keyx_peer_epoch(const struct sp_keyx *k, unsigned int peer)
{
	const struct kx_peer *p;

	if (peer >= k->n_peers)
		return 0;
	p = &k->peers[peer];
	return kx_conn_up(p->conn) ? kx_conn_sess(p->conn)->epoch : 0;
}
