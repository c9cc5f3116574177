/* SPDX-License-Identifier: MIT */
/*
 * The bounce area allocator: each queue's bounce area is VS_BOUNCE_CHUNKS
 * chunks of VS_BOUNCE_CHUNK bytes, one bit each in bounce_map; a request
 * takes a run of them, first fit (--copy=bounce).
 */
#include "internal.h"

static bool chunk_used(const struct vs_queue_state *q, uint32_t c)
{
	return q->bounce_map[c / 64] & (1ull << (c % 64));
}

static void chunks_mark(struct vs_queue_state *q, uint32_t first, uint32_t count, bool used)
{
	for (uint32_t c = first; c < first + count; c++) {
		if (used)
			q->bounce_map[c / 64] |= 1ull << (c % 64);
		else
			q->bounce_map[c / 64] &= ~(1ull << (c % 64));
	}
}

/* Give r a run of chunks holding bytes (1 .. VS_BOUNCE_MAX_REQUEST). */
int vs_bounce_alloc(struct vs_queue_state *q, struct vs_req *r, uint32_t bytes)
{
	uint32_t need = (bytes + VS_BOUNCE_CHUNK - 1) / VS_BOUNCE_CHUNK;
	if (need == 0)
		need = 1;
	uint32_t run = 0;
	for (uint32_t c = 0; c < VS_BOUNCE_CHUNKS; c++) {
		/* skip a whole free-less word at once: the common case when busy */
		if (run == 0 && c % 64 == 0 && q->bounce_map[c / 64] == UINT64_MAX) {
			c += 63;
			continue;
		}
		run = chunk_used(q, c) ? 0 : run + 1;
		if (run == need) {
			uint32_t first = c + 1 - need;
			chunks_mark(q, first, need, true);
			r->bounce_first = (uint16_t)first;
			r->bounce_count = (uint16_t)need;
			return 0;
		}
	}
	return -VS_EBUSY;
}

void vs_bounce_free(struct vs_queue_state *q, struct vs_req *r)
{
	if (r->bounce_first == VS_REQ_NONE)
		return;
	chunks_mark(q, r->bounce_first, r->bounce_count, false);
	r->bounce_first = VS_REQ_NONE;
	r->bounce_count = 0;
}

void *vs_bounce_ptr(struct vs_queue_state *q, const struct vs_req *r)
{
	return q->ring->bounce + (size_t)r->bounce_first * VS_BOUNCE_CHUNK;
}

uint64_t vs_bounce_gpa(struct vs_queue_state *q, const struct vs_req *r)
{
	return q->gpa + VS_QUEUE_BOUNCE_OFFSET + (uint64_t)r->bounce_first * VS_BOUNCE_CHUNK;
}
