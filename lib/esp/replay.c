/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window in the manner of RFC 6479: a ring of 64-bit blocks, one block larger than
 * the window (rounded up to a power of two so that indexing is a mask). Moving the right edge
 * clears only the blocks it enters; bits are never shifted. ESN high bits are inferred as in
 * RFC 4303 Appendix A2.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "sp_esp.h"

static uint32_t
replay_blocks(uint32_t size)
{
	return rte_align32pow2(size / 64 + 1);
}

size_t
sp_esp_replay_mem(uint32_t size)
{
	if (size < SP_ESP_REPLAY_MIN || size > SP_ESP_REPLAY_MAX || !rte_is_power_of_2(size))
		return 0;
	return (size_t)replay_blocks(size) * sizeof(uint64_t);
}

int
sp_esp_replay_init(struct sp_esp_replay *r, uint32_t size, bool esn, uint64_t *bits)
{
	size_t mem = sp_esp_replay_mem(size);

	if (mem == 0 || bits == NULL)
		return -EINVAL;
	memset(bits, 0, mem);
	r->top = 0;
	r->size = size;
	r->mask = replay_blocks(size) - 1;
	r->esn = esn;
	r->bits = bits;
	return 0;
}

/* RFC 4303 A2.1: place seq_lo in the window around top; false when it falls below 0. */
static bool
replay_infer(const struct sp_esp_replay *r, uint32_t seq_lo, uint64_t *seq)
{
	uint32_t tl = (uint32_t)r->top;
	uint32_t th = (uint32_t)(r->top >> 32);
	uint32_t w = r->size;
	uint32_t hi;

	if (tl >= w - 1) {
		/* window within one 2^32 span: below its bottom means the next span */
		hi = seq_lo >= tl - w + 1 ? th : th + 1;
		if (hi < th)
			return false;  /* 2^64 exhausted */
	} else {
		/* window straddles a wrap: high numbers belong to the previous span */
		if (seq_lo >= (uint32_t)(tl - w + 1)) {
			if (th == 0)
				return false;
			hi = th - 1;
		} else {
			hi = th;
		}
	}
	*seq = ((uint64_t)hi << 32) | seq_lo;
	return true;
}

static int
replay_test(const struct sp_esp_replay *r, uint64_t seq)
{
	if (seq == 0)
		return -ERANGE;
	if (seq > r->top)
		return 0;
	if (r->top - seq >= r->size)
		return -ERANGE;
	if (r->bits[(seq >> 6) & r->mask] & (UINT64_C(1) << (seq & 63)))
		return -EEXIST;
	return 0;
}

int
sp_esp_replay_check(const struct sp_esp_replay *r, uint32_t seq_lo, uint64_t *seq)
{
	uint64_t s = seq_lo;

	if (r->esn && !replay_infer(r, seq_lo, &s))
		return -ERANGE;
	*seq = s;
	return replay_test(r, s);
}

int
sp_esp_replay_update(struct sp_esp_replay *r, uint64_t seq)
{
	int rc = replay_test(r, seq);

	if (rc != 0)
		return rc;
	if (seq > r->top) {
		uint64_t from = (r->top >> 6) + 1, to = seq >> 6;
		uint64_t nb = to - from + 1;

		if (to >= from) {
			if (nb > (uint64_t)r->mask + 1)
				nb = (uint64_t)r->mask + 1;
			for (uint64_t b = 0; b < nb; b++)
				r->bits[(from + b) & r->mask] = 0;
		}
		r->top = seq;
	}
	r->bits[(seq >> 6) & r->mask] |= UINT64_C(1) << (seq & 63);
	return 0;
}
