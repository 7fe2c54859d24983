/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/keyx: two instances in one process, A on 127.0.0.1 (the lower address: it connects) and
 * B on 127.0.0.2, driven by one sp_ctl loop, each with a recorder for an ops table that keeps
 * every SA operation in one global sequence. Certificates are made with lib/pki in a temporary
 * directory. Checked: keying with 1..3 workers each way (every key against the peer's), the
 * make-before-break order, rekeys by console, by rekey_wanted() and by time, drain, reset;
 * refusals by cause on both sides (wrong identity, other CA, revoked, expired, no certificate,
 * TLS 1.2, unknown address); a revocation and an expiry during a session; dead-peer detection
 * and restarts of a peer in a child process (SIGSTOP, SIGKILL); garbled messages from a raw
 * TLS client, which also derives the keys itself from the exporter.
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "test_common.h"
#include "sp_certd.h"
#include "sp_ctl.h"
#include "sp_keyx.h"
#include "sp_pki.h"

#define TD "td.test"
#define ID_A "spiffe://td.test/segment/a"
#define ID_B "spiffe://td.test/segment/b"
#define ID_C "spiffe://td.test/segment/c"
#define ADDR_A "127.0.0.1"
#define ADDR_B "127.0.0.2"
#define ADDR_X "127.0.0.3"
#define PEER_AB 1      /* A's index of B; A's peer 0 has manual keys: keyx must ignore it */
#define PEER_BA 0
#define IA 0
#define IB 1

static char dir[64];
static uint16_t port;
static EVP_PKEY *root_key, *int_key, *root2_key, *int2_key, *gw_key;
static X509 *root, *inter, *root2, *inter2;

/* ---------------------------------------------------------------------------------------- */
/* Certificates */

static void
path(char *out, size_t len, const char *name)
{
	/* every caller's buffer has room: the directory is short */
	if ((size_t)snprintf(out, len, "%s/%.100s", dir, name) >= len)
		out[0] = '\0';
}

static X509 *
issue(const char *id, X509 *ca, EVP_PKEY *ca_key, time_t nb, uint64_t life)
{
	struct sp_pki_cert_spec spec = { 0 };
	struct sp_pki_err e;
	X509 *x;

	spec.kind = SP_PKI_CERT_GATEWAY;
	spec.trust_domain = TD;
	spec.spiffe_id = id;
	spec.not_before = nb;
	spec.lifetime = life;
	x = sp_pki_issue(&spec, gw_key, ca, ca_key, &e);
	if (x == NULL)
		printf("\n  issue: %s\n", e.msg);
	return x;
}

/* <name>.crt = leaf + its intermediate; every gateway shares gw.key */
static int
write_cert(const char *name, X509 *leaf, X509 *ca)
{
	X509 *certs[2] = { leaf, ca };
	char p[128], f[80];

	snprintf(f, sizeof(f), "%s.crt", name);
	path(p, sizeof(p), f);
	return sp_pki_certs_save(p, certs, 2, SP_PKI_OVERWRITE, NULL);
}

static int
write_crl(const char *sub, const char *name, X509 *ca, EVP_PKEY *ca_key, X509 *const *revoke,
	  size_t n)
{
	struct sp_pki_revoked r[4];
	X509_CRL *crl;
	char p[160], d[96];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].reason = SP_PKI_REASON_KEY_COMPROMISE;
		r[i].when = time(NULL);
		sp_pki_cert_serial(revoke[i], r[i].serial, sizeof(r[i].serial));
	}
	crl = sp_pki_crl_create(ca, ca_key, r, n, 1, 0, 0, NULL);
	if (crl == NULL)
		return -1;
	snprintf(d, sizeof(d), "%s/%s", dir, sub);
	mkdir(d, 0700);
	snprintf(p, sizeof(p), "%s/%s", d, name);
	rc = sp_pki_crl_save(p, crl, SP_PKI_OVERWRITE, NULL);
	X509_CRL_free(crl);
	return rc;
}

/* A CRL directory: the four CAs' CRLs, int.crl revoking `revoke`. */
static int
write_crls(const char *sub, X509 *const *revoke, size_t n)
{
	if (write_crl(sub, "root.crl", root, root_key, NULL, 0) < 0 ||
	    write_crl(sub, "int.crl", inter, int_key, revoke, n) < 0 ||
	    write_crl(sub, "root2.crl", root2, root2_key, NULL, 0) < 0 ||
	    write_crl(sub, "int2.crl", inter2, int2_key, NULL, 0) < 0)
		return -1;
	return 0;
}

static int
suite_init(void)
{
	struct sp_pki_cert_spec spec = { .kind = SP_PKI_CERT_ROOT, .trust_domain = TD };
	time_t now = time(NULL);
	X509 *b[2], *x, *rev[2];
	char p[128];
	int rc = 0;

	snprintf(dir, sizeof(dir), "/tmp/test_keyx.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	/* loopback is shared with whatever else runs here: a port of our own */
	port = (uint16_t)(20000 + getpid() % 20000);
	root_key = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	int_key = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	root2_key = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	int2_key = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	gw_key = sp_pki_key_generate(SP_PKI_KEY_P256, NULL);
	if (root_key == NULL || int_key == NULL || root2_key == NULL || int2_key == NULL ||
	    gw_key == NULL)
		return -1;
	root = sp_pki_issue(&spec, root_key, NULL, NULL, NULL);
	root2 = sp_pki_issue(&spec, root2_key, NULL, NULL, NULL);
	spec.kind = SP_PKI_CERT_INTERMEDIATE;
	inter = sp_pki_issue(&spec, int_key, root, root_key, NULL);
	inter2 = sp_pki_issue(&spec, int2_key, root2, root2_key, NULL);
	if (root == NULL || root2 == NULL || inter == NULL || inter2 == NULL)
		return -1;
	b[0] = root;
	b[1] = root2;
	path(p, sizeof(p), "bundle.pem");
	rc |= sp_pki_certs_save(p, b, 1, 0, NULL);
	path(p, sizeof(p), "bundle12.pem");
	rc |= sp_pki_certs_save(p, b, 2, 0, NULL);
	path(p, sizeof(p), "gw.key");
	rc |= sp_pki_key_save(p, gw_key, 0, NULL);
	/* a, b: good; a_c, b_c: identity C; a_o, b_o: the other CA; a_r, b_r: revoked in "r" */
	{
		static const struct {
			const char *name, *id;
			bool other;
		} certs[] = {
			{ "a", ID_A, false }, { "b", ID_B, false }, { "a_c", ID_C, false },
			{ "b_c", ID_C, false }, { "a_o", ID_A, true }, { "b_o", ID_B, true },
			{ "a_r", ID_A, false }, { "b_r", ID_B, false },
		};
		size_t i;

		for (i = 0; i < RTE_DIM(certs); i++) {
			x = issue(certs[i].id, certs[i].other ? inter2 : inter,
				  certs[i].other ? int2_key : int_key, now - 60, 7200);
			if (x == NULL)
				return -1;
			rc |= write_cert(certs[i].name, x, certs[i].other ? inter2 : inter);
			if (strcmp(certs[i].name, "a_r") == 0)
				rev[0] = x;
			else if (strcmp(certs[i].name, "b_r") == 0)
				rev[1] = x;
			else
				X509_free(x);
		}
	}
	rc |= write_crls("ok", NULL, 0);
	rc |= write_crls("r", rev, 2);
	X509_free(rev[0]);
	X509_free(rev[1]);
	return rc == 0 ? 0 : -1;
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
	X509_free(inter2);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(root2_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(int2_key);
	EVP_PKEY_free(gw_key);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Recorder: an ops table that keeps every call, and behaves as lib/tunnel's contract says */

enum rop { R_IN = 0, R_OUT, R_ACT, R_RETIRE, R_FLUSH };

struct rev {
	int inst;
	enum rop op;
	unsigned int peer;
	uint64_t epoch;
	unsigned int n;
	uint32_t spis[SP_KEYX_MAX_SAS];
	struct sp_crypto_key keys[SP_KEYX_MAX_SAS];
	uint64_t ms;
};

#define MAX_EV 4096
static struct rev evs[MAX_EV];
static unsigned int n_evs;

struct rec {
	int inst;
	uint32_t next_spi;
	bool want_rekey;
	uint64_t alive[3];        /* lib/tunnel keeps 3 epochs per peer */
	unsigned int n_alive;
	uint64_t active;
	char state[32];
	char detail[512];
	unsigned int n_status;
	unsigned int wrong_peer;  /* calls about a peer keyx must leave alone */
	unsigned int refused_ops; /* calls the contract refuses */
};

static struct rec recs[2];

static unsigned int
keyed_peer(int inst)
{
	return inst == IA ? PEER_AB : PEER_BA;
}

static void
record(struct rec *r, enum rop op, unsigned int peer, uint64_t epoch, const uint32_t *spis,
       const struct sp_crypto_key *keys, unsigned int n)
{
	struct rev *e;

	if (peer != keyed_peer(r->inst))
		r->wrong_peer++;
	if (n_evs == MAX_EV)
		return;
	e = &evs[n_evs++];
	memset(e, 0, sizeof(*e));
	e->inst = r->inst;
	e->op = op;
	e->peer = peer;
	e->epoch = epoch;
	e->n = n;
	if (spis != NULL)
		memcpy(e->spis, spis, n * sizeof(*spis));
	if (keys != NULL)
		memcpy(e->keys, keys, n * sizeof(*keys));
	e->ms = sp_ctl_now_ms();
}

static int
alive_idx(const struct rec *r, uint64_t epoch)
{
	unsigned int i;

	for (i = 0; i < r->n_alive; i++)
		if (r->alive[i] == epoch)
			return (int)i;
	return -1;
}

static int
r_spi_alloc(void *arg, uint32_t *spis, unsigned int n)
{
	struct rec *r = arg;
	unsigned int i;

	for (i = 0; i < n; i++)
		spis[i] = (uint32_t)(r->inst + 1) << 24 | ++r->next_spi;
	return 0;
}

static int
r_add(struct rec *r, enum rop op, unsigned int peer, uint64_t epoch, const uint32_t *spis,
      const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen)
{
	record(r, op, peer, epoch, spis, keys, n);
	if (n == 0 || n > SP_KEYX_MAX_SAS) {
		r->refused_ops++;
		snprintf(err, errlen, "bad n %u", n);
		return -EINVAL;
	}
	if (alive_idx(r, epoch) >= 0) {
		if (op == R_OUT)
			return 0;
		r->refused_ops++;
		snprintf(err, errlen, "epoch %llu exists", (unsigned long long)epoch);
		return -EEXIST;
	}
	if (r->n_alive == 3) {
		r->refused_ops++;
		snprintf(err, errlen, "no free epoch slot");
		return -ENOSPC;
	}
	r->alive[r->n_alive++] = epoch;
	return 0;
}

static int
r_add_in(void *arg, unsigned int peer, uint64_t epoch, const uint32_t *spis,
	 const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen)
{
	return r_add(arg, R_IN, peer, epoch, spis, keys, n, err, errlen);
}

static int
r_add_out(void *arg, unsigned int peer, uint64_t epoch, const uint32_t *spis,
	  const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen)
{
	return r_add(arg, R_OUT, peer, epoch, spis, keys, n, err, errlen);
}

static int
r_activate(void *arg, unsigned int peer, uint64_t epoch)
{
	struct rec *r = arg;

	record(r, R_ACT, peer, epoch, NULL, NULL, 0);
	if (alive_idx(r, epoch) < 0) {
		r->refused_ops++;
		return -ENOENT;
	}
	r->active = epoch;
	return 0;
}

static int
r_retire(void *arg, unsigned int peer, uint64_t epoch)
{
	struct rec *r = arg;
	int i = alive_idx(r, epoch);

	record(r, R_RETIRE, peer, epoch, NULL, NULL, 0);
	if (i < 0) {
		r->refused_ops++;
		return -ENOENT;
	}
	r->alive[i] = r->alive[--r->n_alive];
	if (r->active == epoch)
		r->active = 0;
	return 0;
}

static void
r_flush(void *arg, unsigned int peer)
{
	struct rec *r = arg;

	record(r, R_FLUSH, peer, 0, NULL, NULL, 0);
	r->n_alive = 0;
	r->active = 0;
}

static bool
r_rekey_wanted(void *arg, unsigned int peer, bool *hard)
{
	struct rec *r = arg;

	(void)peer;
	*hard = false;
	return r->want_rekey;
}

static void
r_set_status(void *arg, unsigned int peer, const char *state, const char *detail)
{
	struct rec *r = arg;

	if (peer != keyed_peer(r->inst))
		r->wrong_peer++;
	snprintf(r->state, sizeof(r->state), "%s", state);
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
	r->n_status++;
}

static const struct sp_keyx_sa_ops rec_ops = {
	.spi_alloc = r_spi_alloc,
	.add_inbound = r_add_in,
	.add_outbound = r_add_out,
	.activate = r_activate,
	.retire = r_retire,
	.flush = r_flush,
	.rekey_wanted = r_rekey_wanted,
	.set_status = r_set_status,
};

static void
rec_reset(void)
{
	n_evs = 0;
	memset(recs, 0, sizeof(recs));
	recs[IA].inst = IA;
	recs[IB].inst = IB;
}

/* Index of the first event (inst, op, epoch) at or after from; -1 when none. */
static int
ev_find(int inst, enum rop op, uint64_t epoch, unsigned int from)
{
	unsigned int i;

	for (i = from; i < n_evs; i++)
		if (evs[i].inst == inst && evs[i].op == op && (op == R_FLUSH || evs[i].epoch == epoch))
			return (int)i;
	return -1;
}

static unsigned int
ev_count(int inst, enum rop op, unsigned int from)
{
	unsigned int i, n = 0;

	for (i = from; i < n_evs; i++)
		if (evs[i].inst == inst && evs[i].op == op)
			n++;
	return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Instances and the loop */

struct side {
	const char *cert;        /* "a" -> a.crt */
	const char *bundle;      /* "bundle.pem" */
	const char *crls;        /* CRL directory */
	const char *identity;    /* our own */
	unsigned int workers;
};

struct tunopts {
	uint16_t key_bits;
	uint32_t dpd_interval_ms, dpd_timeout_ms, drain_ms, retry_ms;
	uint64_t soft_seconds;
};

static const struct tunopts fast = { 256, 100, 600, 300, 100, 0 };

struct inst {
	struct sp_certd *cd;
	struct sp_keyx *kx;
	struct sp_conf *conf;
	struct sp_ip locals[2];
};

static void
side_pki(struct sp_conf_pki *k, const struct side *s)
{
	static const char *const crls[] = { "root.crl", "int.crl", "root2.crl", "int2.crl" };
	char f[80];
	unsigned int i;

	memset(k, 0, sizeof(*k));
	k->enabled = true;
	snprintf(f, sizeof(f), "%s.crt", s->cert);
	path(k->cert, sizeof(k->cert), f);
	path(k->key, sizeof(k->key), "gw.key");
	path(k->bundle, sizeof(k->bundle), s->bundle);
	for (i = 0; i < RTE_DIM(crls); i++) {
		snprintf(f, sizeof(f), "%s/%s", s->crls, crls[i]);
		path(k->crls[i], sizeof(k->crls[i]), f);
	}
	k->n_crls = RTE_DIM(crls);
	snprintf(k->identity, sizeof(k->identity), "%s", s->identity);
	k->watch = false;
}

static void
add_peer(struct sp_conf_tunnels *t, const char *name, const char *id, const char *addr,
	 bool manual)
{
	struct sp_conf_peer *p = &t->peers[t->n_peers++];

	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->identity, sizeof(p->identity), "%s", id);
	sp_ip_parse(addr, &p->address, false);
	p->n_manual = manual ? 1 : 0;
}

/* A (inst 0) or B (inst 1) on ctl. @return 0, or -1 with the reason printed. */
static int
inst_start(struct inst *in, struct sp_ctl *ctl, int which, const struct side *s,
	   const struct tunopts *o)
{
	struct sp_keyx_params kp = { 0 };
	struct sp_conf_tunnels *t;
	char err[512];

	memset(in, 0, sizeof(*in));
	in->conf = calloc(1, sizeof(*in->conf));
	if (in->conf == NULL)
		return -1;
	side_pki(&in->conf->pki, s);
	in->cd = sp_certd_create(ctl, in->conf, err, sizeof(err));
	if (in->cd == NULL) {
		printf("\n  certd %c: %s\n", 'A' + which, err);
		return -1;
	}
	t = &in->conf->tunnels;
	t->enabled = true;
	t->port = port;
	t->key_bits = o->key_bits;
	t->dpd_interval_ms = o->dpd_interval_ms;
	t->dpd_timeout_ms = o->dpd_timeout_ms;
	t->drain_ms = o->drain_ms;
	t->retry_ms = o->retry_ms;
	t->lifetime.soft_seconds = o->soft_seconds;
	if (which == IA) {
		add_peer(t, "m", "", "127.0.0.9", true);
		add_peer(t, "b", ID_B, ADDR_B, false);
		sp_ip_parse(ADDR_A, &in->locals[0], false);
		sp_ip_parse(ADDR_A, &in->locals[1], false);
	} else {
		add_peer(t, "a", ID_A, ADDR_A, false);
		sp_ip_parse(ADDR_B, &in->locals[0], false);
	}
	kp.ctl = ctl;
	kp.certd = in->cd;
	kp.tun = t;
	kp.locals = in->locals;
	kp.netns = "";
	kp.n_workers = s->workers;
	kp.ops = &rec_ops;
	kp.arg = &recs[which];
	in->kx = sp_keyx_create(&kp, err, sizeof(err));
	if (in->kx == NULL) {
		printf("\n  keyx %c: %s\n", 'A' + which, err);
		return -1;
	}
	return 0;
}

static void
inst_stop(struct inst *in)
{
	sp_keyx_destroy(in->kx);
	sp_certd_destroy(in->cd);
	free(in->conf);
	memset(in, 0, sizeof(*in));
}

/*
 * A scenario is a list of phases run by one sp_ctl loop (sp_ctl_stop() is final): step()
 * returns 0 to stay in the phase, 1 to go to the next, -1 when done. A phase that does not
 * finish within its timeout fails the scenario.
 */
struct run {
	struct sp_ctl *ctl;
	struct inst in[2];
	int phase;
	uint64_t phase_ms;
	uint32_t timeout_ms;
	int failed_phase;          /* -1: none */
	int (*step)(struct run *r, uint64_t now);
	void *arg;
};

static void
run_cb(uint64_t now, void *arg)
{
	struct run *r = arg;
	int rc = r->step(r, now);

	if (rc < 0) {
		sp_ctl_stop(r->ctl);
	} else if (rc > 0) {
		r->phase++;
		r->phase_ms = now;
	} else if (now - r->phase_ms > r->timeout_ms) {
		r->failed_phase = r->phase;
		sp_ctl_stop(r->ctl);
	}
}

static void
run_init(struct run *r, int (*step)(struct run *, uint64_t), void *arg, uint32_t timeout_ms)
{
	memset(r, 0, sizeof(*r));
	rec_reset();
	r->ctl = sp_ctl_create();
	r->step = step;
	r->arg = arg;
	r->timeout_ms = timeout_ms;
	r->failed_phase = -1;
}

static void
run_go(struct run *r)
{
	r->phase_ms = sp_ctl_now_ms();
	CU_ASSERT_FATAL(sp_ctl_add_timer(r->ctl, 10, run_cb, r) >= 0);
	sp_ctl_run(r->ctl);
	if (r->failed_phase >= 0)
		printf("\n  timed out in phase %d (A: %s: %s | B: %s: %s)\n", r->failed_phase,
		       recs[IA].state, recs[IA].detail, recs[IB].state, recs[IB].detail);
	CU_ASSERT_EQUAL(r->failed_phase, -1);
}

static void
run_end(struct run *r)
{
	inst_stop(&r->in[IA]);
	inst_stop(&r->in[IB]);
	sp_ctl_destroy(r->ctl);
}

static const struct side side_a = { "a", "bundle.pem", "ok", ID_A, 2 };
static const struct side side_b = { "b", "bundle.pem", "ok", ID_B, 2 };

static bool
both_active(uint64_t epoch, unsigned int from)
{
	return ev_find(IA, R_ACT, epoch, from) >= 0 && ev_find(IB, R_ACT, epoch, from) >= 0;
}

static struct sp_keyx_counters
counters(struct sp_keyx *k)
{
	struct sp_keyx_counters c;

	sp_keyx_counters(k, &c);
	return c;
}

/*
 * Epoch e as installed from event index `from` on: make-before-break order, counts, SPIs and
 * keys identical on both sides for each SPI, distinct between SAs.
 */
static void
check_epoch(uint64_t e, unsigned int from, unsigned int wa, unsigned int wb, uint16_t key_bits)
{
	int ai = ev_find(IA, R_IN, e, from), ao = ev_find(IA, R_OUT, e, from);
	int aa = ev_find(IA, R_ACT, e, from), bi = ev_find(IB, R_IN, e, from);
	int bo = ev_find(IB, R_OUT, e, from), ba = ev_find(IB, R_ACT, e, from);
	size_t klen = key_bits / 8;
	const struct {
		int tx, rx;          /* sender's outbound, receiver's inbound */
		unsigned int n;      /* the sender's workers */
		uint32_t rx_prefix;  /* SPIs are the receiver's */
	} dirs[2] = { { ao, bi, wa, 2u << 24 }, { bo, ai, wb, 1u << 24 } };
	unsigned int d, i, j;

	CU_ASSERT_FATAL(ai >= 0 && ao >= 0 && aa >= 0 && bi >= 0 && bo >= 0 && ba >= 0);
	/* the client's inbound exist before the server sends to them, and vice versa */
	CU_ASSERT(ai < bo);
	CU_ASSERT(ai < ba);
	CU_ASSERT(bi < ba);
	CU_ASSERT(bo < ba);
	CU_ASSERT(bi < aa);
	CU_ASSERT(ao < aa);
	CU_ASSERT(ba < aa);
	for (d = 0; d < 2; d++) {
		const struct rev *tx = &evs[dirs[d].tx], *rx = &evs[dirs[d].rx];

		CU_ASSERT_EQUAL(tx->n, dirs[d].n);
		CU_ASSERT_EQUAL(rx->n, dirs[d].n);
		for (i = 0; i < tx->n && i < rx->n; i++) {
			CU_ASSERT_EQUAL(tx->spis[i], rx->spis[i]);
			CU_ASSERT_EQUAL(rx->spis[i] & 0xff000000u, dirs[d].rx_prefix);
			CU_ASSERT(rx->spis[i] >= 256);
			CU_ASSERT_EQUAL(tx->keys[i].alg, key_bits == 128 ? SP_CRYPTO_AES128_GCM :
							SP_CRYPTO_AES256_GCM);
			CU_ASSERT_EQUAL(rx->keys[i].alg, tx->keys[i].alg);
			CU_ASSERT_EQUAL(memcmp(tx->keys[i].key, rx->keys[i].key, 32), 0);
			CU_ASSERT_EQUAL(memcmp(tx->keys[i].salt, rx->keys[i].salt, 4), 0);
			/* a 128-bit key leaves the rest of the buffer zero */
			for (j = (unsigned int)klen; j < 32; j++)
				CU_ASSERT_EQUAL(tx->keys[i].key[j], 0);
			for (j = 0; j < i; j++)
				CU_ASSERT_NOT_EQUAL(memcmp(tx->keys[i].key, tx->keys[j].key, klen), 0);
		}
	}
	/* the two directions never share a key */
	CU_ASSERT_NOT_EQUAL(memcmp(evs[ao].keys[0].key, evs[bo].keys[0].key, klen), 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Keying with every worker combination */

struct key_case {
	unsigned int wa, wb;
	uint16_t key_bits;
};

static int
step_establish(struct run *r, uint64_t now)
{
	(void)now;
	(void)r;
	return both_active(1, 0) ? -1 : 0;
}

static void
test_handshake(void)
{
	static const struct key_case cases[] = {
		{ 1, 1, 256 }, { 1, 2, 128 }, { 2, 3, 256 }, { 3, 1, 128 }, { 16, 4, 256 },
	};
	size_t i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		struct side a = side_a, b = side_b;
		struct tunopts o = fast;
		struct sp_keyx_counters ca, cb;
		struct run r;
		char want[256];
		unsigned int before;

		a.workers = cases[i].wa;
		b.workers = cases[i].wb;
		o.key_bits = cases[i].key_bits;
		run_init(&r, step_establish, NULL, 3000);
		CU_ASSERT_FATAL(inst_start(&r.in[IB], r.ctl, IB, &b, &o) == 0);
		CU_ASSERT_FATAL(inst_start(&r.in[IA], r.ctl, IA, &a, &o) == 0);
		/* both say where they are before anything happened */
		CU_ASSERT_STRING_EQUAL(recs[IA].state, "connecting");
		snprintf(want, sizeof(want), "to 127.0.0.2 port %u", port);
		CU_ASSERT_STRING_EQUAL(recs[IA].detail, want);
		CU_ASSERT_STRING_EQUAL(recs[IB].detail,
				       "waiting for 127.0.0.1 to connect (lower address)");
		run_go(&r);
		check_epoch(1, 0, cases[i].wa, cases[i].wb, cases[i].key_bits);
		CU_ASSERT_EQUAL(sp_keyx_peer_epoch(r.in[IA].kx, PEER_AB), 1);
		CU_ASSERT_EQUAL(sp_keyx_peer_epoch(r.in[IB].kx, PEER_BA), 1);
		CU_ASSERT_EQUAL(sp_keyx_peer_epoch(r.in[IA].kx, 0), 0);
		/* the server's status may lag the client's by one message: both are final here */
		CU_ASSERT_STRING_EQUAL(recs[IA].state, "established");
		CU_ASSERT_STRING_EQUAL(recs[IB].state, "established");
		snprintf(want, sizeof(want), "epoch 1, TLSv1.3 TLS_AES_256_GCM_SHA384, %s, %u out/%u "
			 "in SAs", ID_B, cases[i].wa, cases[i].wb);
		CU_ASSERT_STRING_EQUAL(recs[IA].detail, want);
		snprintf(want, sizeof(want), "epoch 1, TLSv1.3 TLS_AES_256_GCM_SHA384, %s, %u out/%u "
			 "in SAs", ID_A, cases[i].wb, cases[i].wa);
		CU_ASSERT_STRING_EQUAL(recs[IB].detail, want);
		ca = counters(r.in[IA].kx);
		cb = counters(r.in[IB].kx);
		CU_ASSERT_EQUAL(ca.connects, 1);
		CU_ASSERT_EQUAL(cb.connects, 1);
		CU_ASSERT_EQUAL(ca.handshakes_ok, 1);
		CU_ASSERT_EQUAL(cb.handshakes_ok, 1);
		CU_ASSERT_EQUAL(ca.epochs, 1);
		CU_ASSERT_EQUAL(cb.epochs, 1);
		CU_ASSERT_EQUAL(ca.handshakes_failed + cb.handshakes_failed, 0);
		CU_ASSERT_EQUAL(ev_count(IA, R_FLUSH, 0) + ev_count(IB, R_FLUSH, 0), 0);
		CU_ASSERT_EQUAL(recs[IA].wrong_peer + recs[IB].wrong_peer, 0);
		CU_ASSERT_EQUAL(recs[IA].refused_ops + recs[IB].refused_ops, 0);
		/* stopping flushes the keyed peer (only) */
		before = n_evs;
		run_end(&r);
		CU_ASSERT_EQUAL(ev_count(IA, R_FLUSH, before), 1);
		CU_ASSERT_EQUAL(ev_count(IB, R_FLUSH, before), 1);
		CU_ASSERT_EQUAL(recs[IA].wrong_peer, 0);
		CU_ASSERT_STRING_EQUAL(recs[IA].state, "down");
		CU_ASSERT_STRING_EQUAL(recs[IA].detail, "key exchange stopped");
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Rekeys: console (both sides), rekey_wanted() (both sides), drain, reset */

struct rekey_state {
	unsigned int mark[8];     /* event index when epoch e's rekey started */
	uint64_t act_ms[8];
	char msg[256];
	int rc, rc2;
};

static int
step_rekey(struct run *r, uint64_t now)
{
	struct rekey_state *st = r->arg;
	struct sp_keyx *a = r->in[IA].kx, *b = r->in[IB].kx;

	(void)now;
	switch (r->phase) {
	case 0:
		if (!both_active(1, 0))
			return 0;
		st->mark[2] = n_evs;
		st->rc = sp_keyx_rekey(a, PEER_AB, st->msg, sizeof(st->msg));
		CU_ASSERT_EQUAL(st->rc, 0);
		CU_ASSERT_STRING_EQUAL(st->msg, "peer b: epoch 2 proposed");
		/* one rekey at a time */
		CU_ASSERT_EQUAL(sp_keyx_rekey(a, PEER_AB, st->msg, sizeof(st->msg)), -EBUSY);
		CU_ASSERT_STRING_EQUAL(st->msg, "peer b: epoch 2 is being proposed");
		CU_ASSERT_STRING_EQUAL(recs[IA].state, "rekeying");
		return 1;
	case 1:
		if (!both_active(2, st->mark[2]))
			return 0;
		return 1;
	case 2:
		/* epoch 1 drains, then goes */
		if (ev_find(IA, R_RETIRE, 1, 0) < 0 || ev_find(IB, R_RETIRE, 1, 0) < 0)
			return 0;
		st->mark[3] = n_evs;
		CU_ASSERT_EQUAL(sp_keyx_rekey(b, PEER_BA, st->msg, sizeof(st->msg)), 0);
		CU_ASSERT_STRING_EQUAL(st->msg, "peer a: asked the peer to propose epoch 3");
		CU_ASSERT_EQUAL(sp_keyx_rekey(b, PEER_BA, st->msg, sizeof(st->msg)), -EBUSY);
		return 1;
	case 3:
		if (!both_active(3, st->mark[3]))
			return 0;
		st->mark[4] = n_evs;
		recs[IB].want_rekey = true;       /* the server's SAs reached a soft limit */
		return 1;
	case 4:
		if (!both_active(4, st->mark[4]))
			return 0;
		recs[IB].want_rekey = false;
		st->mark[5] = n_evs;
		recs[IA].want_rekey = true;       /* the client's */
		return 1;
	case 5:
		if (!both_active(5, st->mark[5]))
			return 0;
		recs[IA].want_rekey = false;
		st->mark[6] = n_evs;
		/* reset: SAs gone at once on both sides, a new session starts at epoch 1 */
		CU_ASSERT_EQUAL(sp_keyx_reset(a, PEER_AB, st->msg, sizeof(st->msg)), 0);
		CU_ASSERT_STRING_EQUAL(st->msg, "peer b: session dropped, SAs flushed, reconnecting");
		CU_ASSERT_EQUAL(ev_count(IA, R_FLUSH, st->mark[6]), 1);
		CU_ASSERT_EQUAL(sp_keyx_rekey(a, PEER_AB, st->msg, sizeof(st->msg)), -ENOTCONN);
		CU_ASSERT_STRING_EQUAL(st->msg, "peer b: no session");
		return 1;
	case 6:
		if (!both_active(1, st->mark[6]))
			return 0;
		return -1;
	}
	return -1;
}

static void
test_rekey(void)
{
	struct rekey_state st = { 0 };
	struct sp_keyx_counters ca, cb;
	struct run r;
	char msg[128];
	uint64_t e;

	run_init(&r, step_rekey, &st, 4000);
	CU_ASSERT_FATAL(inst_start(&r.in[IB], r.ctl, IB, &side_b, &fast) == 0);
	CU_ASSERT_FATAL(inst_start(&r.in[IA], r.ctl, IA, &side_a, &fast) == 0);
	/* API refusals */
	CU_ASSERT_EQUAL(sp_keyx_rekey(r.in[IA].kx, 0, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(msg, "peer m has manual keys: no key exchange");
	CU_ASSERT_EQUAL(sp_keyx_rekey(r.in[IA].kx, 7, msg, sizeof(msg)), -ENOENT);
	CU_ASSERT_EQUAL(sp_keyx_reset(r.in[IA].kx, 0, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_EQUAL(sp_keyx_rekey(r.in[IA].kx, PEER_AB, msg, sizeof(msg)), -ENOTCONN);
	run_go(&r);

	st.mark[1] = 0;
	for (e = 1; e <= 5; e++) {
		int a_prev, b_prev, a_act, b_act;

		check_epoch(e, st.mark[e], 2, 2, 256);
		if (e == 1)
			continue;
		/* fresh SPIs and keys */
		a_prev = ev_find(IA, R_IN, e - 1, 0);
		b_prev = ev_find(IA, R_IN, e, 0);
		CU_ASSERT_NOT_EQUAL(evs[a_prev].spis[0], evs[b_prev].spis[0]);
		CU_ASSERT_NOT_EQUAL(memcmp(evs[a_prev].keys[0].key, evs[b_prev].keys[0].key, 32), 0);
		/* the previous epoch is retired drain_ms after the new one is active, not before */
		a_act = ev_find(IA, R_ACT, e, 0);
		b_act = ev_find(IB, R_ACT, e, 0);
		a_prev = ev_find(IA, R_RETIRE, e - 1, 0);
		b_prev = ev_find(IB, R_RETIRE, e - 1, 0);
		if (e < 5 && a_prev >= 0 && b_prev >= 0) {
			CU_ASSERT(a_prev > a_act);
			CU_ASSERT(b_prev > b_act);
			/* scheduled retires wait drain_ms; an early one only when the next is in */
			if (ev_find(IA, R_ACT, e + 1, 0) > a_prev)
				CU_ASSERT(evs[a_prev].ms - evs[a_act].ms >= fast.drain_ms - 15);
		}
	}
	/* make-before-break: no flush until the reset */
	CU_ASSERT_EQUAL(ev_count(IA, R_FLUSH, 0), 1);
	CU_ASSERT(ev_find(IA, R_FLUSH, 0, 0) >= (int)st.mark[6]);
	CU_ASSERT_EQUAL(ev_count(IB, R_FLUSH, 0), 1);
	CU_ASSERT(ev_find(IB, R_FLUSH, 0, 0) >= (int)st.mark[6]);
	ca = counters(r.in[IA].kx);
	cb = counters(r.in[IB].kx);
	CU_ASSERT_EQUAL(ca.epochs, 6);
	CU_ASSERT_EQUAL(cb.epochs, 6);
	CU_ASSERT_EQUAL(ca.rekeys, 4);
	CU_ASSERT_EQUAL(cb.rekeys, 4);
	CU_ASSERT_EQUAL(ca.handshakes_ok, 2);
	CU_ASSERT_EQUAL(cb.handshakes_ok, 2);
	CU_ASSERT_EQUAL(ca.sessions_lost, 1);
	CU_ASSERT_EQUAL(cb.sessions_lost, 1);
	CU_ASSERT_EQUAL(ca.sa_failures + cb.sa_failures, 0);
	CU_ASSERT_EQUAL(ca.bad_messages + cb.bad_messages, 0);
	CU_ASSERT_EQUAL(recs[IA].refused_ops + recs[IB].refused_ops, 0);
	CU_ASSERT_EQUAL(recs[IA].wrong_peer + recs[IB].wrong_peer, 0);
	run_end(&r);
}

/* Time-based rekey at lifetime.soft_seconds (jittered up to 5% early). */
static int
step_soft(struct run *r, uint64_t now)
{
	(void)r;
	(void)now;
	return both_active(3, 0) ? -1 : 0;
}

static void
test_soft_lifetime(void)
{
	struct tunopts o = fast;
	struct side a = side_a, b = side_b;
	struct run r;
	int a1, a2, a3;

	o.soft_seconds = 1;
	a.workers = 1;
	b.workers = 1;
	run_init(&r, step_soft, NULL, 2500);
	CU_ASSERT_FATAL(inst_start(&r.in[IB], r.ctl, IB, &b, &o) == 0);
	CU_ASSERT_FATAL(inst_start(&r.in[IA], r.ctl, IA, &a, &o) == 0);
	run_go(&r);
	a1 = ev_find(IA, R_ACT, 1, 0);
	a2 = ev_find(IA, R_ACT, 2, 0);
	a3 = ev_find(IA, R_ACT, 3, 0);
	CU_ASSERT_FATAL(a1 >= 0 && a2 >= 0 && a3 >= 0);
	/* 950..1000 ms after activation, and a tick; the upper margin is for a loaded machine */
	CU_ASSERT(evs[a2].ms - evs[a1].ms >= 900 && evs[a2].ms - evs[a1].ms <= 1400);
	CU_ASSERT(evs[a3].ms - evs[a2].ms >= 900 && evs[a3].ms - evs[a2].ms <= 1400);
	check_epoch(2, 0, 1, 1, 256);
	check_epoch(3, 0, 1, 1, 256);
	run_end(&r);
}

/* ---------------------------------------------------------------------------------------- */
/* Refusals: each bad certificate on either side, counted by cause where it is verified */

struct refuse_case {
	const char *name;
	struct side a, b;
	int verifier;                 /* the side that refuses */
	enum sp_keyx_refusal cause;   /* its cause; the other side counts rejected-by-peer */
	const char *detail;           /* the verifier's status detail */
};

static int
step_refuse(struct run *r, uint64_t now)
{
	const struct refuse_case *c = r->arg;
	struct sp_keyx_counters cv = counters(r->in[c->verifier].kx);
	struct sp_keyx_counters co = counters(r->in[!c->verifier].kx);

	(void)now;
	/* a couple of retries, to see the back-off count them */
	return cv.refused[c->cause] >= 2 && co.refused[SP_KEYX_REFUSE_PEER_REJECTED] >= 2 ? -1 : 0;
}

static void
test_refusals(void)
{
	static const char rejected[] = "rejected-by-peer: the peer refused our certificate: TLS "
				       "alert ";
	static const struct refuse_case cases[] = {
		{ "server wrong identity", { "a", "bundle.pem", "ok", ID_A, 2 },
		  { "b_c", "bundle.pem", "ok", ID_C, 2 }, IA, SP_KEYX_REFUSE_WRONG_IDENTITY,
		  "wrong-identity: server certificate: application verification failure" },
		{ "server from another CA", { "a", "bundle.pem", "ok", ID_A, 2 },
		  { "b_o", "bundle12.pem", "ok", ID_B, 2 }, IA, SP_KEYX_REFUSE_UNKNOWN_CA,
		  "unknown-ca: server certificate: unable to get local issuer certificate" },
		{ "server revoked", { "a", "bundle.pem", "r", ID_A, 2 },
		  { "b_r", "bundle.pem", "ok", ID_B, 2 }, IA, SP_KEYX_REFUSE_REVOKED,
		  "revoked: server certificate: certificate revoked" },
		{ "client wrong identity", { "a_c", "bundle.pem", "ok", ID_C, 2 },
		  { "b", "bundle.pem", "ok", ID_B, 2 }, IB, SP_KEYX_REFUSE_WRONG_IDENTITY,
		  "wrong-identity: client certificate: application verification failure" },
		{ "client from another CA", { "a_o", "bundle12.pem", "ok", ID_A, 2 },
		  { "b", "bundle.pem", "ok", ID_B, 2 }, IB, SP_KEYX_REFUSE_UNKNOWN_CA,
		  "unknown-ca: client certificate: unable to get local issuer certificate" },
		{ "client revoked", { "a_r", "bundle.pem", "ok", ID_A, 2 },
		  { "b", "bundle.pem", "r", ID_B, 2 }, IB, SP_KEYX_REFUSE_REVOKED,
		  "revoked: client certificate: certificate revoked" },
	};
	size_t i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		const struct refuse_case *c = &cases[i];
		struct sp_keyx_counters cv, co;
		struct run r;
		unsigned int k;

		run_init(&r, step_refuse, (void *)c, 3000);
		CU_ASSERT_FATAL(inst_start(&r.in[IB], r.ctl, IB, &c->b, &fast) == 0);
		CU_ASSERT_FATAL(inst_start(&r.in[IA], r.ctl, IA, &c->a, &fast) == 0);
		run_go(&r);
		cv = counters(r.in[c->verifier].kx);
		co = counters(r.in[!c->verifier].kx);
		if (r.failed_phase >= 0)
			printf("  case %s\n", c->name);
		for (k = 0; k < SP_KEYX_REFUSE_MAX; k++) {
			/* nothing but the expected cause on either side */
			if (k != c->cause)
				CU_ASSERT_EQUAL(cv.refused[k], 0);
			if (k != SP_KEYX_REFUSE_PEER_REJECTED)
				CU_ASSERT_EQUAL(co.refused[k], 0);
		}
		CU_ASSERT_EQUAL(cv.handshakes_ok + co.handshakes_ok, 0);
		CU_ASSERT_EQUAL(cv.handshakes_failed, cv.refused[c->cause]);
		/* not one SA */
		CU_ASSERT_EQUAL(ev_count(IA, R_IN, 0) + ev_count(IA, R_OUT, 0) +
				ev_count(IA, R_ACT, 0), 0);
		CU_ASSERT_EQUAL(ev_count(IB, R_IN, 0) + ev_count(IB, R_OUT, 0) +
				ev_count(IB, R_ACT, 0), 0);
		CU_ASSERT_STRING_EQUAL(recs[c->verifier].state, "refused");
		CU_ASSERT_STRING_EQUAL(recs[c->verifier].detail, c->detail);
		CU_ASSERT_STRING_EQUAL(recs[!c->verifier].state, "refused");
		CU_ASSERT_EQUAL(strncmp(recs[!c->verifier].detail, rejected, strlen(rejected)), 0);
		if (strcmp(recs[c->verifier].detail, c->detail) != 0 ||
		    strcmp(recs[c->verifier].state, "refused") != 0)
			printf("\n  %s: %s: %s\n", c->name, recs[c->verifier].state,
			       recs[c->verifier].detail);
		run_end(&r);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* An established peer is revoked (new CRL, certd reload), or its certificate expires */

struct revoke_state {
	unsigned int mark;
	uint64_t t0;
	int rc;
};

static int
step_revoke(struct run *r, uint64_t now)
{
	struct revoke_state *st = r->arg;
	struct sp_keyx_counters ca;
	char msg[512];

	switch (r->phase) {
	case 0: {
		X509 *victim;
		char p[128];
		STACK_OF(X509) *certs;

		if (!both_active(1, 0))
			return 0;
		/* revoke B's certificate in A's CRL, and make A's certd take it */
		path(p, sizeof(p), "b.crt");
		certs = sp_pki_certs_load(p, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(certs);
		victim = sk_X509_value(certs, 0);
		CU_ASSERT_EQUAL_FATAL(write_crls("live", &victim, 1), 0);
		sp_pki_certs_free(certs);
		st->mark = n_evs;
		st->t0 = now;
		st->rc = sp_certd_reload(r->in[IA].cd, NULL, msg, sizeof(msg));
		CU_ASSERT_EQUAL(st->rc, 0);
		return 1;
	}
	case 1:
		ca = counters(r->in[IA].kx);
		/* torn down on the next tick, and refused again on the retries */
		if (ev_count(IA, R_FLUSH, st->mark) < 1 || ev_count(IB, R_FLUSH, st->mark) < 1 ||
		    ca.refused[SP_KEYX_REFUSE_REVOKED] < 3 || strcmp(recs[IB].state, "refused") != 0)
			return 0;
		return -1;
	}
	return -1;
}

static void
test_revoke_live(void)
{
	struct side a = side_a;
	struct revoke_state st = { 0 };
	struct sp_keyx_counters ca, cb;
	struct run r;
	int f;

	CU_ASSERT_FATAL(write_crls("live", NULL, 0) == 0);
	a.crls = "live";
	run_init(&r, step_revoke, &st, 3000);
	CU_ASSERT_FATAL(inst_start(&r.in[IB], r.ctl, IB, &side_b, &fast) == 0);
	CU_ASSERT_FATAL(inst_start(&r.in[IA], r.ctl, IA, &a, &fast) == 0);
	run_go(&r);
	ca = counters(r.in[IA].kx);
	cb = counters(r.in[IB].kx);
	/* A flushed within a tick of the reload (ctl timer 10 ms, keyx tick 25 ms) */
	f = ev_find(IA, R_FLUSH, 0, st.mark);
	CU_ASSERT_FATAL(f >= 0);
	/* one keyx tick (25 ms) in theory; the margin is for a loaded machine */
	if (evs[f].ms - st.t0 > 100)
		printf("\n  revocation took effect after %llu ms ",
		       (unsigned long long)(evs[f].ms - st.t0));
	CU_ASSERT(evs[f].ms - st.t0 <= 500);
	CU_ASSERT_EQUAL(ca.sessions_lost, 1);
	CU_ASSERT_EQUAL(cb.sessions_lost, 1);
	CU_ASSERT(cb.refused[SP_KEYX_REFUSE_PEER_REJECTED] >= 1);
	CU_ASSERT(cb.refused[SP_KEYX_REFUSE_PEER_REJECTED] < ca.refused[SP_KEYX_REFUSE_REVOKED]);
	/* nothing keyed since */
	CU_ASSERT_EQUAL(ev_count(IA, R_IN, st.mark) + ev_count(IB, R_IN, st.mark), 0);
	CU_ASSERT_STRING_EQUAL(recs[IA].state, "refused");
	CU_ASSERT_STRING_EQUAL(recs[IA].detail, "revoked: server certificate: certificate revoked");
	CU_ASSERT_STRING_EQUAL(recs[IB].state, "refused");
	run_end(&r);
}

static int
step_expire(struct run *r, uint64_t now)
{
	struct revoke_state *st = r->arg;
	struct sp_keyx_counters ca = counters(r->in[IA].kx);

	(void)now;
	switch (r->phase) {
	case 0:
		if (!both_active(1, 0))
			return 0;
		st->mark = n_evs;
		return 1;
	case 1:
		if (ca.refused[SP_KEYX_REFUSE_EXPIRED] < 1)
			return 0;
		/* the session was torn down at notAfter, with the SAs on both sides */
		CU_ASSERT_EQUAL(ev_count(IA, R_FLUSH, st->mark), 1);
		CU_ASSERT_EQUAL(strncmp(recs[IA].detail, "expired: peer certificate expired at ",
					37), 0);
		return 1;
	case 2:
		return ca.refused[SP_KEYX_REFUSE_EXPIRED] >= 3 &&
		       ev_count(IB, R_FLUSH, st->mark) >= 1 ? -1 : 0;
	}
	return -1;
}

static void
test_expire_live(void)
{
	struct side b = side_b;
	struct revoke_state st = { 0 };
	struct run r;
	time_t now = time(NULL);
	X509 *x;

	/* B's certificate expires 2 s from now */
	x = issue(ID_B, inter, int_key, now - 60, 62);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_FATAL(write_cert("b_x", x, inter) == 0);
	X509_free(x);
	b.cert = "b_x";
	run_init(&r, step_expire, &st, 4000);
	CU_ASSERT_FATAL(inst_start(&r.in[IB], r.ctl, IB, &b, &fast) == 0);
	CU_ASSERT_FATAL(inst_start(&r.in[IA], r.ctl, IA, &side_a, &fast) == 0);
	run_go(&r);
	CU_ASSERT_EQUAL(ev_count(IA, R_IN, st.mark), 0);
	CU_ASSERT_STRING_EQUAL(recs[IA].state, "refused");
	CU_ASSERT_STRING_EQUAL(recs[IA].detail, "expired: server certificate: certificate has "
			       "expired");
	run_end(&r);
}

/* ---------------------------------------------------------------------------------------- */
/* Dead peer and restarts: B runs in a child process (SIGSTOP = hung, SIGKILL = crashed) */

static pid_t
spawn_b(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sp_ctl *ctl;
		struct inst in;
		int fd;

		/* nothing of the parent's: its sockets would keep connections half alive */
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		ctl = sp_ctl_create();
		rec_reset();
		if (ctl == NULL || inst_start(&in, ctl, IB, &side_b, &fast) < 0)
			_exit(1);
		sp_ctl_run(ctl);
		_exit(0);
	}
	return pid;
}

struct dpd_state {
	pid_t child;
	unsigned int mark;
	uint64_t t0;
	uint64_t detect_ms[3];
};

static int
step_dpd(struct run *r, uint64_t now)
{
	struct dpd_state *st = r->arg;
	struct sp_keyx_counters ca = counters(r->in[IA].kx);

	switch (r->phase) {
	case 0:
		if (ev_find(IA, R_ACT, 1, 0) < 0)
			return 0;
		/* B hangs: its sockets stay open, nothing answers */
		kill(st->child, SIGSTOP);
		st->mark = n_evs;
		st->t0 = now;
		return 1;
	case 1:
		if (ev_count(IA, R_FLUSH, st->mark) < 1)
			return 0;
		st->detect_ms[0] = now - st->t0;
		CU_ASSERT_EQUAL(ca.dpd_timeouts, 1);
		CU_ASSERT_STRING_EQUAL(recs[IA].state, "down");
		CU_ASSERT_EQUAL(strncmp(recs[IA].detail, "dead peer: nothing received for ", 32), 0);
		/* B is killed and comes back */
		kill(st->child, SIGKILL);
		waitpid(st->child, NULL, 0);
		st->child = spawn_b();
		st->mark = n_evs;
		st->t0 = now;
		return 1;
	case 2:
		if (ev_find(IA, R_ACT, 1, st->mark) < 0)
			return 0;
		st->detect_ms[1] = now - st->t0;
		/* B crashes while established: the connection closes, A notices at once */
		kill(st->child, SIGKILL);
		waitpid(st->child, NULL, 0);
		st->mark = n_evs;
		st->t0 = now;
		return 1;
	case 3:
		if (ev_count(IA, R_FLUSH, st->mark) < 1)
			return 0;
		st->detect_ms[2] = now - st->t0;
		CU_ASSERT_EQUAL(ca.dpd_timeouts, 1);
		CU_ASSERT_STRING_EQUAL(recs[IA].detail, "connection closed by the peer");
		st->child = spawn_b();
		st->mark = n_evs;
		st->t0 = now;
		return 1;
	case 4:
		if (ev_find(IA, R_ACT, 1, st->mark) < 0)
			return 0;
		return -1;
	}
	return -1;
}

static void
test_dpd_restart(void)
{
	struct dpd_state st = { 0 };
	struct sp_keyx_counters ca;
	struct run r;

	run_init(&r, step_dpd, &st, 5000);
	st.child = spawn_b();
	CU_ASSERT_FATAL(st.child > 0);
	CU_ASSERT_FATAL(inst_start(&r.in[IA], r.ctl, IA, &side_a, &fast) == 0);
	run_go(&r);
	if (st.child > 0) {
		kill(st.child, SIGKILL);
		waitpid(st.child, NULL, 0);
	}
	/* dead after the timeout (600 ms) and a tick or two; back within a second or two; a
	 * crash is seen at once (upper bounds leave room for a loaded machine) */
	printf("\n  hung peer detected in %llu ms, restarted peer keyed in %llu ms, crash seen "
	       "in %llu ms ", (unsigned long long)st.detect_ms[0],
	       (unsigned long long)st.detect_ms[1], (unsigned long long)st.detect_ms[2]);
	CU_ASSERT(st.detect_ms[0] >= 450 && st.detect_ms[0] <= 1200);
	CU_ASSERT(st.detect_ms[1] <= 2000);
	CU_ASSERT(st.detect_ms[2] <= 300);
	ca = counters(r.in[IA].kx);
	CU_ASSERT_EQUAL(ca.handshakes_ok, 3);
	CU_ASSERT_EQUAL(ca.sessions_lost, 2);
	CU_ASSERT_EQUAL(recs[IA].refused_ops, 0);
	inst_stop(&r.in[IA]);
	sp_ctl_destroy(r.ctl);
}

/* ---------------------------------------------------------------------------------------- */
/* Garbled messages from a raw TLS client with A's certificate, against B */

/* The test's own encoder: independent of lib/keyx's. */
static size_t
msg(uint8_t *out, uint8_t ver, uint8_t type, const uint8_t *body, uint16_t blen)
{
	out[0] = ver;
	out[1] = type;
	out[2] = (uint8_t)(blen >> 8);
	out[3] = (uint8_t)blen;
	if (blen > 0)
		memcpy(out + 4, body, blen);
	return 4u + blen;
}

static void
be(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static size_t
m_hello(uint8_t *out, uint16_t workers)
{
	uint8_t b[2];

	be(b, workers, 2);
	return msg(out, 1, 1, b, 2);
}

/* PROPOSE (type 2) or ACCEPT (3) with n SPIs from first, count field `n_field`. */
static size_t
m_sa(uint8_t *out, uint8_t type, uint64_t epoch, unsigned int n, unsigned int n_field,
     uint32_t first, bool dup)
{
	uint8_t b[10 + 4 * 17];
	unsigned int i;

	be(b, epoch, 8);
	be(b + 8, n_field, 2);
	for (i = 0; i < n; i++)
		be(b + 10 + 4 * i, dup ? first : first + i, 4);
	return msg(out, 1, type, b, (uint16_t)(10 + 4 * n));
}

static size_t
m_u64(uint8_t *out, uint8_t type, uint64_t v)
{
	uint8_t b[8];

	be(b, v, 8);
	return msg(out, 1, type, b, 8);
}

#define RAW_SPI 0x5000

struct raw {
	/* in */
	SSL_CTX *ctx;
	uint8_t send1[256];
	size_t len1;
	bool wait_accept;     /* then send send2 */
	uint8_t send2[64];
	size_t len2;
	bool hangup;          /* close right after send1 */
	/* out */
	bool tls_ok;
	unsigned int hello_workers;
	bool accepted;
	uint64_t acc_epoch;
	unsigned int acc_n;
	uint32_t acc_spis[SP_KEYX_MAX_SAS];
	int close_code;
	struct sp_crypto_key c2s[SP_KEYX_MAX_SAS], s2c[SP_KEYX_MAX_SAS];
	volatile int done;
};

/* RFC 8446 7.5 with our label and context epoch | dir | SPI, written out here on purpose. */
static void
raw_key(SSL *ssl, uint64_t epoch, uint8_t d, uint32_t spi, struct sp_crypto_key *k)
{
	uint8_t ctx[13], km[36];

	be(ctx, epoch, 8);
	ctx[8] = d;
	be(ctx + 9, spi, 4);
	memset(k, 0, sizeof(*k));
	if (SSL_export_keying_material(ssl, km, sizeof(km), "EXPORTER-sallyport-esp-v1", 25, ctx,
				       sizeof(ctx), 1) == 1) {
		k->alg = SP_CRYPTO_AES256_GCM;
		memcpy(k->key, km, 32);
		memcpy(k->salt, km + 32, 4);
	}
}

/* Parse what B sent; @return true when an ACCEPT arrived in this chunk. */
static bool
raw_parse(struct raw *w, uint8_t *buf, size_t *len)
{
	bool acc = false;
	size_t off = 0;

	while (*len - off >= 4) {
		size_t blen = (size_t)buf[off + 2] << 8 | buf[off + 3];
		const uint8_t *b = buf + off + 4;

		if (*len - off < 4 + blen)
			break;
		if (buf[off + 1] == 1 && blen == 2)
			w->hello_workers = (unsigned int)(b[0] << 8 | b[1]);
		if (buf[off + 1] == 3 && blen >= 10) {
			unsigned int i;

			w->accepted = true;
			acc = true;
			w->acc_epoch = 0;
			for (i = 0; i < 8; i++)
				w->acc_epoch = w->acc_epoch << 8 | b[i];
			w->acc_n = (unsigned int)(b[8] << 8 | b[9]);
			for (i = 0; i < w->acc_n && i < SP_KEYX_MAX_SAS; i++)
				w->acc_spis[i] = (uint32_t)b[10 + 4 * i] << 24 |
						 (uint32_t)b[11 + 4 * i] << 16 |
						 (uint32_t)b[12 + 4 * i] << 8 | b[13 + 4 * i];
		}
		if (buf[off + 1] == 7 && blen >= 1)
			w->close_code = b[0];
		off += 4 + blen;
	}
	memmove(buf, buf + off, *len - off);
	*len -= off;
	return acc;
}

static void *
raw_client(void *arg)
{
	struct raw *w = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET }, da = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 3 };
	uint8_t buf[4096];
	size_t len = 0;
	SSL *ssl = NULL;
	int fd;

	w->close_code = -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, ADDR_A, &sa.sin_addr);
	inet_pton(AF_INET, ADDR_B, &da.sin_addr);
	da.sin_port = htons(port);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    connect(fd, (struct sockaddr *)&da, sizeof(da)) < 0)
		goto out;
	ssl = SSL_new(w->ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		goto out;
	w->tls_ok = true;
	if (w->len1 > 0 && SSL_write(ssl, w->send1, (int)w->len1) <= 0)
		goto out;
	if (w->hangup) {
		SSL_shutdown(ssl);
		goto out;
	}
	for (;;) {
		int r = SSL_read(ssl, buf + len, (int)(sizeof(buf) - len));

		if (r <= 0)
			break;
		len += (size_t)r;
		if (raw_parse(w, buf, &len) && w->wait_accept) {
			unsigned int i;

			/* our SPIs (sent in send1) are where B sends: keys server -> client */
			for (i = 0; i < 2; i++)
				raw_key(ssl, w->acc_epoch, 1, RAW_SPI + i, &w->s2c[i]);
			for (i = 0; i < w->acc_n && i < SP_KEYX_MAX_SAS; i++)
				raw_key(ssl, w->acc_epoch, 0, w->acc_spis[i], &w->c2s[i]);
			if (w->len2 == 0)
				break;
			if (SSL_write(ssl, w->send2, (int)w->len2) <= 0)
				break;
		}
	}
out:
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

enum raw_ctx { RC_GOOD = 0, RC_NOCERT, RC_TLS12 };

struct raw_case {
	const char *name;
	enum raw_ctx ctx;
	size_t (*build)(struct raw *w);
	bool bad;                        /* counted as bad-message, CLOSE "protocol error" */
	bool accepted;                   /* B keyed an epoch first */
	int refusal;                     /* -1, or the refusal B counts (no session) */
};

static size_t
b_valid(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	w->len1 += m_sa(w->send1 + w->len1, 2, 1, 2, 2, RAW_SPI, false);
	w->wait_accept = true;
	return w->len1;
}
static size_t
b_version(struct raw *w)
{
	return w->len1 = msg(w->send1, 2, 1, (uint8_t *)"\0\1", 2);
}
static size_t
b_type(struct raw *w)
{
	return w->len1 = msg(w->send1, 1, 99, NULL, 0);
}
static size_t
b_type0(struct raw *w)
{
	return w->len1 = msg(w->send1, 1, 0, NULL, 0);
}
static size_t
b_hello_len(struct raw *w)
{
	return w->len1 = msg(w->send1, 1, 1, (uint8_t *)"\0\1\0", 3);
}
static size_t
b_huge(struct raw *w)
{
	w->send1[0] = 1;
	w->send1[1] = 7;
	w->send1[2] = 0xff;
	w->send1[3] = 0xff;
	return w->len1 = 4;
}
static size_t
b_propose_first(struct raw *w)
{
	return w->len1 = m_sa(w->send1, 2, 1, 2, 2, RAW_SPI, false);
}
static size_t
b_hello_twice(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += m_hello(w->send1 + w->len1, 1);
}
static size_t
b_accept_to_server(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += m_sa(w->send1 + w->len1, 3, 1, 2, 2, RAW_SPI, false);
}
static size_t
b_rekeyreq_to_server(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += m_u64(w->send1 + w->len1, 4, 0);
}
static size_t
b_epoch5(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += m_sa(w->send1 + w->len1, 2, 5, 2, 2, RAW_SPI, false);
}
static size_t
b_epoch0(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += m_sa(w->send1 + w->len1, 2, 0, 2, 2, RAW_SPI, false);
}
static size_t
b_wrong_n(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += m_sa(w->send1 + w->len1, 2, 1, 3, 3, RAW_SPI, false);
}
static size_t
b_reserved_spi(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += m_sa(w->send1 + w->len1, 2, 1, 2, 2, 255, false);
}
static size_t
b_dup_spi(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += m_sa(w->send1 + w->len1, 2, 1, 2, 2, RAW_SPI, true);
}
static size_t
b_n_mismatch(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += m_sa(w->send1 + w->len1, 2, 1, 2, 3, RAW_SPI, false);
}
static size_t
b_pong(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += m_u64(w->send1 + w->len1, 6, 77);
}
static size_t
b_hello0(struct raw *w)
{
	return w->len1 = m_hello(w->send1, 0);
}
static size_t
b_hello17(struct raw *w)
{
	return w->len1 = m_hello(w->send1, 17);
}
static size_t
b_valid_then_garbage(struct raw *w)
{
	b_valid(w);
	return w->len2 = msg(w->send2, 1, 99, NULL, 0);
}
static size_t
b_replayed_propose(struct raw *w)
{
	b_valid(w);
	return w->len2 = m_sa(w->send2, 2, 1, 2, 2, RAW_SPI + 8, false);
}
static size_t
b_truncated(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1) - 1;
	w->hangup = true;
	return w->len1;
}
static size_t
b_close(struct raw *w)
{
	w->len1 = m_hello(w->send1, 1);
	return w->len1 += msg(w->send1 + w->len1, 1, 7, (uint8_t *)"\0bye", 4);
}
static size_t
b_none(struct raw *w)
{
	return w->len1 = 0;
}

static const struct raw_case raw_cases[] = {
	{ "valid HELLO + PROPOSE", RC_GOOD, b_valid, false, true, -1 },
	{ "version 2", RC_GOOD, b_version, true, false, -1 },
	{ "unknown type 99", RC_GOOD, b_type, true, false, -1 },
	{ "type 0", RC_GOOD, b_type0, true, false, -1 },
	{ "HELLO of 3 bytes", RC_GOOD, b_hello_len, true, false, -1 },
	{ "length 65535", RC_GOOD, b_huge, true, false, -1 },
	{ "PROPOSE before HELLO", RC_GOOD, b_propose_first, true, false, -1 },
	{ "HELLO twice", RC_GOOD, b_hello_twice, true, false, -1 },
	{ "ACCEPT to the server", RC_GOOD, b_accept_to_server, true, false, -1 },
	{ "REKEY_REQ to the server", RC_GOOD, b_rekeyreq_to_server, true, false, -1 },
	{ "PROPOSE of epoch 5", RC_GOOD, b_epoch5, true, false, -1 },
	{ "PROPOSE of epoch 0", RC_GOOD, b_epoch0, true, false, -1 },
	{ "PROPOSE with 3 SPIs to 2 workers", RC_GOOD, b_wrong_n, true, false, -1 },
	{ "PROPOSE with SPI 255", RC_GOOD, b_reserved_spi, true, false, -1 },
	{ "PROPOSE with an SPI twice", RC_GOOD, b_dup_spi, true, false, -1 },
	{ "PROPOSE count 3, 2 SPIs", RC_GOOD, b_n_mismatch, true, false, -1 },
	{ "PONG without PING", RC_GOOD, b_pong, true, false, -1 },
	{ "HELLO with 0 workers", RC_GOOD, b_hello0, true, false, -1 },
	{ "HELLO with 17 workers", RC_GOOD, b_hello17, true, false, -1 },
	{ "garbage after keying", RC_GOOD, b_valid_then_garbage, true, true, -1 },
	{ "PROPOSE replayed", RC_GOOD, b_replayed_propose, true, true, -1 },
	{ "truncated HELLO, then EOF", RC_GOOD, b_truncated, false, false, -1 },
	{ "CLOSE", RC_GOOD, b_close, false, false, -1 },
	{ "no client certificate", RC_NOCERT, b_none, false, false, SP_KEYX_REFUSE_NO_CERT },
	{ "TLS 1.2 only", RC_TLS12, b_none, false, false, SP_KEYX_REFUSE_TLS },
};

struct raw_state {
	SSL_CTX *ctx[3];
	size_t i;
	bool running;
	pthread_t th;
	struct raw w;
	struct sp_keyx_counters base;
	unsigned int mark;
	int unknown_fd;
};

static void
raw_check(struct run *r, struct raw_state *st)
{
	const struct raw_case *c = &raw_cases[st->i];
	struct sp_keyx_counters cb = counters(r->in[IB].kx);
	int bi = ev_find(IB, R_IN, 1, st->mark), bo = ev_find(IB, R_OUT, 1, st->mark);
	int fl = ev_find(IB, R_FLUSH, 0, st->mark);
	unsigned int k;

	if ((cb.bad_messages - st->base.bad_messages != (c->bad ? 1u : 0u)) ||
	    st->w.accepted != c->accepted)
		printf("\n  case \"%s\": bad %llu accepted %d close %d (B: %s: %s)\n", c->name,
		       (unsigned long long)(cb.bad_messages - st->base.bad_messages),
		       st->w.accepted, st->w.close_code, recs[IB].state, recs[IB].detail);
	CU_ASSERT_EQUAL(cb.bad_messages - st->base.bad_messages, c->bad ? 1u : 0u);
	CU_ASSERT_EQUAL(st->w.accepted, c->accepted);
	if (c->bad) {
		CU_ASSERT_EQUAL(st->w.close_code, 3);   /* protocol error */
		CU_ASSERT_STRING_EQUAL(recs[IB].state, "down");
		CU_ASSERT_EQUAL(strncmp(recs[IB].detail, "bad message: ", 13), 0);
	}
	if (c->refusal >= 0) {
		CU_ASSERT_FALSE(st->w.accepted);
		CU_ASSERT_EQUAL(cb.refused[c->refusal] - st->base.refused[c->refusal], 1);
		CU_ASSERT_EQUAL(fl, -1);
	} else {
		/* a verified session ended: whatever it installed is gone */
		CU_ASSERT(fl >= 0);
		CU_ASSERT_EQUAL(cb.handshakes_ok - st->base.handshakes_ok,
				c->ctx == RC_GOOD && c->build != b_truncated &&
				c->build != b_propose_first && c->build != b_version &&
				c->build != b_type && c->build != b_type0 &&
				c->build != b_hello_len && c->build != b_huge &&
				c->build != b_hello0 && c->build != b_hello17 ? 1u : 0u);
	}
	if (c->accepted) {
		/* B keyed epoch 1 exactly as the exporter says, then flushed it */
		CU_ASSERT_EQUAL(st->w.hello_workers, 2);
		CU_ASSERT_EQUAL(st->w.acc_epoch, 1);
		CU_ASSERT_EQUAL(st->w.acc_n, 1);
		CU_ASSERT_FATAL(bi >= 0 && bo >= 0);
		CU_ASSERT(fl > bi && fl > bo);
		CU_ASSERT_EQUAL(evs[bi].n, 1);
		CU_ASSERT_EQUAL(evs[bi].spis[0], st->w.acc_spis[0]);
		CU_ASSERT_EQUAL(memcmp(evs[bi].keys[0].key, st->w.c2s[0].key, 32), 0);
		CU_ASSERT_EQUAL(memcmp(evs[bi].keys[0].salt, st->w.c2s[0].salt, 4), 0);
		CU_ASSERT_EQUAL(evs[bo].n, 2);
		for (k = 0; k < 2; k++) {
			CU_ASSERT_EQUAL(evs[bo].spis[k], RAW_SPI + k);
			CU_ASSERT_EQUAL(memcmp(evs[bo].keys[k].key, st->w.s2c[k].key, 32), 0);
			CU_ASSERT_EQUAL(memcmp(evs[bo].keys[k].salt, st->w.s2c[k].salt, 4), 0);
		}
	} else {
		CU_ASSERT_EQUAL(bi, -1);
	}
}

static int
step_raw(struct run *r, uint64_t now)
{
	struct raw_state *st = r->arg;
	const struct raw_case *c;
	struct sp_keyx_counters cb = counters(r->in[IB].kx);

	(void)now;
	if (st->i == RTE_DIM(raw_cases)) {
		/* last: a connection from an address that is no peer */
		if (st->unknown_fd < 0) {
			struct sockaddr_in sa = { .sin_family = AF_INET };
			struct sockaddr_in da = { .sin_family = AF_INET };

			st->base = cb;
			st->unknown_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			inet_pton(AF_INET, ADDR_X, &sa.sin_addr);
			inet_pton(AF_INET, ADDR_B, &da.sin_addr);
			da.sin_port = htons(port);
			bind(st->unknown_fd, (struct sockaddr *)&sa, sizeof(sa));
			connect(st->unknown_fd, (struct sockaddr *)&da, sizeof(da));
			return 0;
		}
		return cb.refused[SP_KEYX_REFUSE_UNKNOWN_PEER] > st->base.refused[
			SP_KEYX_REFUSE_UNKNOWN_PEER] ? -1 : 0;
	}
	c = &raw_cases[st->i];
	if (!st->running) {
		memset(&st->w, 0, sizeof(st->w));
		st->w.ctx = st->ctx[c->ctx];
		c->build(&st->w);
		st->base = cb;
		st->mark = n_evs;
		st->running = true;
		CU_ASSERT_FATAL(pthread_create(&st->th, NULL, raw_client, &st->w) == 0);
		return 0;
	}
	if (!__atomic_load_n(&st->w.done, __ATOMIC_ACQUIRE))
		return 0;
	/* B has seen the end of the connection */
	if (c->refusal >= 0 ? cb.refused[c->refusal] == st->base.refused[c->refusal] :
	    ev_find(IB, R_FLUSH, 0, st->mark) < 0)
		return 0;
	pthread_join(st->th, NULL);
	st->running = false;
	raw_check(r, st);
	st->i++;
	return 1;
}

static void
test_garbled(void)
{
	struct raw_state st = { .unknown_fd = -1 };
	struct sp_certd_material *m;
	struct side b = side_b;
	struct tunopts o = fast;
	struct run r;
	char err[256];

	o.dpd_timeout_ms = 5000;    /* the raw client never PINGs */
	o.dpd_interval_ms = 1000;
	run_init(&r, step_raw, &st, 5000);
	CU_ASSERT_FATAL(inst_start(&r.in[IB], r.ctl, IB, &b, &o) == 0);
	/* A's certificate for the raw client, with the TLS settings certd gives */
	{
		struct sp_conf_pki pk;

		side_pki(&pk, &side_a);
		CU_ASSERT_FATAL(sp_certd_load(&pk, time(NULL), &m, err, sizeof(err)) == 0);
	}
	st.ctx[RC_GOOD] = sp_certd_ssl_ctx(m, 0, ID_B, err, sizeof(err));
	st.ctx[RC_TLS12] = sp_certd_ssl_ctx(m, 0, ID_B, err, sizeof(err));
	st.ctx[RC_NOCERT] = SSL_CTX_new(TLS_client_method());
	CU_ASSERT_FATAL(st.ctx[0] != NULL && st.ctx[1] != NULL && st.ctx[2] != NULL);
	SSL_CTX_set_max_proto_version(st.ctx[RC_TLS12], TLS1_2_VERSION);
	SSL_CTX_set_verify(st.ctx[RC_NOCERT], SSL_VERIFY_NONE, NULL);
	run_go(&r);
	CU_ASSERT_EQUAL(st.i, RTE_DIM(raw_cases));
	if (st.running)
		pthread_join(st.th, NULL);
	if (st.unknown_fd >= 0)
		close(st.unknown_fd);
	{
		struct sp_keyx_counters cb = counters(r.in[IB].kx), cp;

		CU_ASSERT_EQUAL(cb.refused[SP_KEYX_REFUSE_UNKNOWN_PEER], 1);
		/* unknown-peer is the instance's, not a peer's */
		CU_ASSERT_EQUAL(sp_keyx_peer_counters(r.in[IB].kx, PEER_BA, &cp), 0);
		CU_ASSERT_EQUAL(cp.refused[SP_KEYX_REFUSE_UNKNOWN_PEER], 0);
		{
			uint64_t n_bad = 0;
			size_t i;

			for (i = 0; i < RTE_DIM(raw_cases); i++)
				n_bad += raw_cases[i].bad;
			CU_ASSERT_EQUAL(n_bad, 20);
			CU_ASSERT_EQUAL(cp.bad_messages, n_bad);
		}
		CU_ASSERT_EQUAL(sp_keyx_peer_counters(r.in[IB].kx, 5, &cp), -ENOENT);
	}
	SSL_CTX_free(st.ctx[0]);
	SSL_CTX_free(st.ctx[1]);
	SSL_CTX_free(st.ctx[2]);
	sp_certd_material_put(m);
	inst_stop(&r.in[IB]);
	sp_ctl_destroy(r.ctl);
}

/* ---------------------------------------------------------------------------------------- */
/* Parameters refused at creation */

static void
test_create_errors(void)
{
	static const struct {
		const char *name;
		int what;
		const char *err;
	} cases[] = {
		{ "no workers", 0, "key exchange: 0 workers (1..16 SAs per epoch)" },
		{ "17 workers", 1, "key exchange: 17 workers (1..16 SAs per epoch)" },
		{ "key bits", 2, "tunnels.key_bits: 192 (128 or 256)" },
		{ "local of another family", 3, "tunnels.peers.[1] (b): no local address of the "
		  "peer's family" },
		{ "peer's address is ours", 4, "tunnels.peers.[1] (b): the peer's address is ours" },
		{ "no identity", 5, "tunnels.peers.[1] (b): no identity" },
	};
	struct sp_ctl *ctl = sp_ctl_create();
	struct inst in;
	size_t i;

	CU_ASSERT_FATAL(ctl != NULL);
	CU_ASSERT_FATAL(inst_start(&in, ctl, IA, &side_a, &fast) == 0);
	for (i = 0; i < RTE_DIM(cases); i++) {
		struct sp_conf_tunnels *t = calloc(1, sizeof(*t));
		struct sp_keyx_params kp = { 0 };
		struct sp_ip locals[2];
		char err[256] = "";

		CU_ASSERT_FATAL(t != NULL);
		*t = in.conf->tunnels;
		t->port = (uint16_t)(port + 1);
		memcpy(locals, in.locals, sizeof(locals));
		kp.ctl = ctl;
		kp.certd = in.cd;
		kp.tun = t;
		kp.locals = locals;
		kp.n_workers = 2;
		kp.ops = &rec_ops;
		kp.arg = &recs[IA];
		switch (cases[i].what) {
		case 0: kp.n_workers = 0; break;
		case 1: kp.n_workers = 17; break;
		case 2: t->key_bits = 192; break;
		case 3: sp_ip_parse("::1", &locals[1], false); break;
		case 4: sp_ip_parse(ADDR_B, &locals[1], false); break;
		case 5: t->peers[1].identity[0] = '\0'; break;
		}
		CU_ASSERT_PTR_NULL(sp_keyx_create(&kp, err, sizeof(err)));
		CU_ASSERT_STRING_EQUAL(err, cases[i].err);
		free(t);
	}
	inst_stop(&in);
	sp_ctl_destroy(ctl);
}

int
main(void)
{
	CU_pSuite s;

	signal(SIGPIPE, SIG_IGN);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("keyx", suite_init, suite_clean);
	CU_add_test(s, "creation refusals: exact messages", test_create_errors);
	CU_add_test(s, "keying with 1..16 workers each way, keys match", test_handshake);
	CU_add_test(s, "rekeys by console and rekey_wanted, drain, reset", test_rekey);
	CU_add_test(s, "rekey at the soft lifetime", test_soft_lifetime);
	CU_add_test(s, "refusals by cause on both sides", test_refusals);
	CU_add_test(s, "revocation of an established peer", test_revoke_live);
	CU_add_test(s, "expiry of an established peer", test_expire_live);
	CU_add_test(s, "dead peer, restart, crash", test_dpd_restart);
	CU_add_test(s, "garbled messages from a raw TLS client", test_garbled);
	return sp_test_run();
}
