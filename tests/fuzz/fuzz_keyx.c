/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the key exchange protocol (lib/keyx/proto.c) without TLS: arbitrary
 * bytes into the message decoder, and into a session's state machine as either role, with
 * ticks and rekeys in between. Nothing may crash or read past the input, and the session must
 * keep lib/tunnel's contract: inbound epochs new, at most 3 epochs alive, activate only an
 * epoch with outbound SAs and only forwards, never retire the active epoch. Every message the
 * session sends must decode again, and a decoded message must encode back to the same bytes.
 *
 * Input: byte 0 = role (bit 0: client), workers - 1 (bits 1..4), soft lifetime (bit 5); then
 * operations: a byte op and its argument byte: op % 4 = 0, 1: feed the next `arg` bytes;
 * 2: advance the clock by arg * 16 ms and tick; 3: ask for a rekey.
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined
 *   ninja -C build-fuzz tests/fuzz/fuzz_keyx
 *   cp -r tests/fuzz/corpus/keyx /tmp/k
 *   build-fuzz/tests/fuzz/fuzz_keyx -max_total_time=60 /tmp/k
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyx_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); abort(); } } while (0)

struct fake {
	uint64_t alive[3];
	bool has_out[3];
	unsigned int n_alive;
	uint64_t active;
	uint32_t next_spi;
};

static int
find(const struct fake *f, uint64_t epoch)
{
	unsigned int i;

	for (i = 0; i < f->n_alive; i++)
		if (f->alive[i] == epoch)
			return (int)i;
	return -1;
}

static int
f_spi_alloc(void *arg, uint32_t *spis, unsigned int n)
{
	struct fake *f = arg;
	unsigned int i;

	CHECK(n >= 1 && n <= SP_KEYX_MAX_SAS);
	for (i = 0; i < n; i++)
		spis[i] = 0x1000 + ++f->next_spi;
	return 0;
}

static int
f_add(struct fake *f, bool in, uint64_t epoch, const uint32_t *spis,
      const struct sp_crypto_key *keys, unsigned int n)
{
	unsigned int i;
	int k = find(f, epoch);

	CHECK(n >= 1 && n <= SP_KEYX_MAX_SAS);
	for (i = 0; i < n; i++) {
		CHECK(spis[i] >= 256);
		CHECK(keys[i].alg == SP_CRYPTO_AES128_GCM || keys[i].alg == SP_CRYPTO_AES256_GCM);
	}
	if (in)
		CHECK(k < 0);       /* an inbound half is always a new epoch */
	if (k < 0) {
		CHECK(f->n_alive < 3);
		CHECK(epoch > f->active);
		k = (int)f->n_alive++;
		f->alive[k] = epoch;
		f->has_out[k] = false;
	}
	if (!in)
		f->has_out[k] = true;
	return 0;
}

static int
f_add_in(void *arg, unsigned int peer, uint64_t epoch, const uint32_t *spis,
	 const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen)
{
	(void)peer;
	(void)err;
	(void)errlen;
	return f_add(arg, true, epoch, spis, keys, n);
}

static int
f_add_out(void *arg, unsigned int peer, uint64_t epoch, const uint32_t *spis,
	  const struct sp_crypto_key *keys, unsigned int n, char *err, size_t errlen)
{
	(void)peer;
	(void)err;
	(void)errlen;
	return f_add(arg, false, epoch, spis, keys, n);
}

static int
f_activate(void *arg, unsigned int peer, uint64_t epoch)
{
	struct fake *f = arg;
	int k = find(f, epoch);

	(void)peer;
	CHECK(k >= 0 && f->has_out[k]);
	CHECK(epoch > f->active);
	f->active = epoch;
	return 0;
}

static int
f_retire(void *arg, unsigned int peer, uint64_t epoch)
{
	struct fake *f = arg;
	int k = find(f, epoch);

	(void)peer;
	CHECK(k >= 0);
	CHECK(epoch != f->active);
	f->n_alive--;
	f->alive[k] = f->alive[f->n_alive];
	f->has_out[k] = f->has_out[f->n_alive];
	return 0;
}

static void
f_flush(void *arg, unsigned int peer)
{
	(void)arg;
	(void)peer;
}

static bool
f_rekey_wanted(void *arg, unsigned int peer, bool *hard)
{
	(void)arg;
	(void)peer;
	*hard = false;
	return false;
}

static const struct sp_keyx_sa_ops fake_ops = {
	.spi_alloc = f_spi_alloc,
	.add_inbound = f_add_in,
	.add_outbound = f_add_out,
	.activate = f_activate,
	.retire = f_retire,
	.flush = f_flush,
	.rekey_wanted = f_rekey_wanted,
};

/* What the session sends must be well formed. */
static int
io_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct kx_msg m;
	char why[256];
	int n;

	(void)ctx;
	n = kx_msg_decode(buf, len, &m, why, sizeof(why));
	CHECK(n > 0 && (size_t)n == len);
	return 0;
}

static int
io_derive(void *ctx, uint64_t epoch, enum kx_dir dir, uint32_t spi, struct sp_crypto_key *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	out->alg = SP_CRYPTO_AES256_GCM;
	memcpy(out->key, &epoch, sizeof(epoch));
	out->key[8] = (uint8_t)dir;
	memcpy(out->salt, &spi, sizeof(spi));
	return 0;
}

/* Decode every message of the input; each must encode back to the bytes it came from. */
static void
round_trip(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		uint8_t enc[KX_MSG_MAX];
		struct kx_msg m, m2;
		char why[256];
		int n = kx_msg_decode(data + off, size - off, &m, why, sizeof(why));
		int e;

		if (n <= 0) {
			CHECK(n == 0 || why[0] != '\0');
			return;
		}
		e = kx_msg_encode(&m, enc, sizeof(enc));
		CHECK(e == n);
		if (m.type != KX_CLOSE)
			CHECK(memcmp(enc, data + off, (size_t)n) == 0);
		CHECK(kx_msg_decode(enc, (size_t)e, &m2, why, sizeof(why)) == e);
		CHECK(memcmp(&m, &m2, sizeof(m)) == 0);
		off += (size_t)n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake f = { 0 };
	struct kx_env env = { 0 };
	struct kx_io io = { .send = io_send, .derive = io_derive };
	struct kx_sess *s;
	uint64_t now = 1000;
	char why[320];
	size_t off = 1;
	int rc = 0;

	if (size < 1)
		return 0;
	round_trip(data + 1, size - 1);
	s = malloc(sizeof(*s));
	if (s == NULL)
		return 0;
	env.ops = &fake_ops;
	env.arg = &f;
	env.n_workers = ((data[0] >> 1) & 0xf) + 1u;
	env.alg = SP_CRYPTO_AES256_GCM;
	env.dpd_interval_ms = 1000;
	env.dpd_timeout_ms = 5000;
	env.drain_ms = 2000;
	env.soft_ms = data[0] & 0x20 ? 3000 : 0;
	kx_sess_init(s, &env, &io, 0, data[0] & 1, now);
	CHECK(kx_sess_start(s) == 0);
	while (rc >= 0 && off + 2 <= size) {
		uint8_t op = data[off], arg = data[off + 1];
		size_t len;

		off += 2;
		switch (op % 4) {
		case 0:
		case 1:
			len = arg < size - off ? arg : size - off;
			rc = kx_sess_feed(s, data + off, len, now, why, sizeof(why));
			off += len;
			break;
		case 2:
			now += (uint64_t)arg * 16;
			rc = kx_sess_tick(s, now, why, sizeof(why));
			break;
		case 3:
			rc = kx_sess_rekey(s, now, why, sizeof(why));
			if (rc == -EBUSY || rc == -ENOTCONN)
				rc = 0;
			break;
		}
		if (rc < 0)
			CHECK(rc == -EBADMSG || rc == -ECONNRESET || rc == -ETIMEDOUT);
		CHECK(s->epoch == f.active);
	}
	free(s);
	return 0;
}
