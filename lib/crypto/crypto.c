/* SPDX-License-Identifier: BSD-3-Clause */
/* Engine registry and the thin wrappers that dispatch to an engine's ops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "sp_crypto.h"
#include "sp_crypto_driver.h"

SP_LOG_TYPE(crypto);

#define MAX_ENGINES 8

static const struct sp_crypto_engine_ops *engines[MAX_ENGINES];
static unsigned int n_engines;
static uint64_t sess_gen;

void
sp_crypto_register(const struct sp_crypto_engine_ops *ops)
{
	/* Constructor time: no log yet, and a full table is a build mistake caught by tests. */
	if (n_engines < MAX_ENGINES)
		engines[n_engines++] = ops;
}

unsigned int
sp_crypto_engine_names(const char **names, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < n_engines && i < max; i++)
		names[i] = engines[i]->name;
	return i;
}

unsigned int
sp_crypto_key_len(enum sp_crypto_alg alg)
{
	return alg == SP_CRYPTO_AES256_GCM ? 32 : 16;
}

void
sp_crypto_wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;

	while (len--)
		*v++ = 0;
}

void *
sp_crypto_zalloc(size_t size)
{
	void *p;

	size = RTE_ALIGN_CEIL(size, RTE_CACHE_LINE_SIZE);
	if (posix_memalign(&p, RTE_CACHE_LINE_SIZE, size) != 0)
		return NULL;
	memset(p, 0, size);
	return p;
}

void
sp_crypto_free(void *p)
{
	free(p);
}

void
sp_crypto_sess_init(struct sp_crypto_sess *s, struct sp_crypto_engine *e,
		    const struct sp_crypto_key *key, enum sp_crypto_dir dir)
{
	s->e = e;
	s->alg = key->alg;
	s->dir = dir;
	/* Control core only; the generation lets a context cache a key schedule safely. */
	s->gen = ++sess_gen;
}

struct sp_crypto_engine *
sp_crypto_engine_open(const char *name, const char *args, unsigned int n_ctx, char *err,
		      size_t errlen)
{
	const struct sp_crypto_engine_ops *ops = NULL;
	struct sp_crypto_engine *e;
	unsigned int i;
	int rc;

	for (i = 0; i < n_engines; i++) {
		if (strcmp(engines[i]->name, name) == 0)
			ops = engines[i];
	}
	if (ops == NULL) {
		snprintf(err, errlen, "unknown engine '%s'", name);
		return NULL;
	}
	e = sp_crypto_zalloc(sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	e->ops = ops;
	e->n_ctx = n_ctx;
	rc = ops->open(e, args != NULL ? args : "", n_ctx);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", name, e->err[0] ? e->err : strerror(-rc));
		sp_crypto_free(e);
		return NULL;
	}
	if (sp_crypto_kat(e, err, errlen) < 0) {
		SP_LOG(crypto, ERR, "engine %s refused: %s", name, err);
		ops->close(e);
		sp_crypto_free(e);
		return NULL;
	}
	SP_LOG(crypto, INFO, "engine %s open for %u contexts, known-answer tests passed", name,
	       n_ctx);
	return e;
}

void
sp_crypto_engine_close(struct sp_crypto_engine *e)
{
	if (e == NULL)
		return;
	e->ops->close(e);
	sp_crypto_free(e);
}

const char *
sp_crypto_engine_name(const struct sp_crypto_engine *e)
{
	return e->ops->name;
}

struct sp_crypto_sess *
sp_crypto_sess_create(struct sp_crypto_engine *e, const struct sp_crypto_key *key,
		      enum sp_crypto_dir dir)
{
	if (key->alg != SP_CRYPTO_AES128_GCM && key->alg != SP_CRYPTO_AES256_GCM)
		return NULL;
	if (dir != SP_CRYPTO_ENCRYPT && dir != SP_CRYPTO_DECRYPT)
		return NULL;
	return e->ops->sess_create(e, key, dir);
}

void
sp_crypto_sess_destroy(struct sp_crypto_engine *e, struct sp_crypto_sess *s)
{
	if (s != NULL)
		e->ops->sess_destroy(e, s);
}

struct sp_crypto_ctx *
sp_crypto_ctx_create(struct sp_crypto_engine *e, unsigned int id)
{
	if (id > e->n_ctx)
		return NULL;
	return e->ops->ctx_create(e, id);
}

void
sp_crypto_ctx_destroy(struct sp_crypto_engine *e, struct sp_crypto_ctx *c)
{
	if (c != NULL)
		e->ops->ctx_destroy(e, c);
}

uint16_t
sp_crypto_enqueue(struct sp_crypto_ctx *c, struct sp_crypto_op **ops, uint16_t n)
{
	return c->ops->enqueue(c, ops, n);
}

uint16_t
sp_crypto_dequeue(struct sp_crypto_ctx *c, struct sp_crypto_op **ops, uint16_t n)
{
	return c->ops->dequeue(c, ops, n);
}
