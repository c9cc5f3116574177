/* SPDX-License-Identifier: MIT */
/*
 * Binding to the transport, the per-queue request records and the bounce
 * area allocator.
 */
#include <string.h>

#include "internal.h"

struct vs_lib vs_lib;

size_t vs_state_bytes(uint32_t nr_queues)
{
	return VS_STATE_BYTES(nr_queues);
}

static bool transport_ok(const struct vs_transport *t)
{
	if (!t->ring || !t->doorbell || !t->virt_to_gpa || !t->now_ns)
		return false;
	if (t->nr_queues == 0 || t->nr_queues > VS_MAX_QUEUES)
		return false;
	if (t->ring_gpa % 4096 != 0 ||
	    t->ring_bytes < (uint64_t)t->nr_queues * VS_QUEUE_BYTES)
		return false;
	if (t->notify > VS_NOTIFY_EVERY || t->copy > VS_COPY_BOUNCE)
		return false;
	return t->batch <= VS_SQ_ENTRIES;
}

static void queue_init(struct vs_lq *q, const struct vs_transport *t, uint32_t index)
{
	memset(q, 0, sizeof(*q));
	q->ring = (struct vs_queue *)((uint8_t *)t->ring + (uint64_t)index * VS_QUEUE_BYTES);
	q->gpa = t->ring_gpa + (uint64_t)index * VS_QUEUE_BYTES;
	q->index = index;
	/* Start where the rings are: nothing is in flight for us (acquire pairs
	 * with the host's releases, in case a previous user left entries). */
	q->sq_prepared = q->sq_published = vs_load_acquire(&q->ring->ctrl.sq_tail);
	q->cq_head = vs_load_acquire(&q->ring->ctrl.cq_tail);
	vs_store_release(&q->ring->ctrl.cq_head, q->cq_head);
	for (uint32_t i = 0; i < VS_MAX_INFLIGHT; i++) {
		q->req[i].next = (uint16_t)(i + 1 < VS_MAX_INFLIGHT ? i + 1 : VS_REQ_NONE);
		q->req[i].bounce_first = VS_REQ_NONE;
	}
	q->free_head = 0;
	q->done_head = q->done_tail = VS_REQ_NONE;
}

int vs_init(const struct vs_transport *t, void *state, size_t state_bytes)
{
	if (!t || !state || !transport_ok(t))
		return -VS_EINVAL;
	if ((uintptr_t)state % 64 != 0)
		return -VS_EINVAL;
	if (state_bytes < VS_STATE_BYTES(t->nr_queues))
		return -VS_ENOSPC;
	if (t->virt_to_gpa(t->ctx, state) == VS_GPA_INVALID)
		return -VS_EFAULT;

	vs_lib.ready = false;
	vs_lib.t = *t;
	if (vs_lib.t.batch == 0)
		vs_lib.t.batch = VS_DEFAULT_BATCH;
	if (vs_lib.t.spin_ns == 0)
		vs_lib.t.spin_ns = VS_DEFAULT_SPIN_NS;
	vs_lib.queues = (struct vs_lq *)state;
	for (uint32_t i = 0; i < t->nr_queues; i++)
		queue_init((struct vs_lq *)((uint8_t *)state + (size_t)i * VS_STATE_BYTES_PER_QUEUE),
			   t, i);
	vs_lib.ready = true;
	return 0;
}

void vs_fini(void)
{
	vs_lib.ready = false;
	vs_lib.queues = NULL;
}

bool vs_ready(void)
{
	return vs_lib.ready;
}

static struct vs_lq *queue_at(uint32_t i)
{
	return (struct vs_lq *)((uint8_t *)vs_lib.queues + (size_t)i * VS_STATE_BYTES_PER_QUEUE);
}

/* This CPU's queue, or NULL before vs_init() / for a CPU without a queue
 * (sharing another CPU's queue would break the one-producer rule). */
struct vs_lq *vs_this_queue(void)
{
	if (!vs_lib.ready)
		return NULL;
	uint32_t cpu = vs_lib.t.cpu_id ? vs_lib.t.cpu_id(vs_lib.t.ctx) : 0;
	if (cpu >= vs_lib.t.nr_queues)
		return NULL;
	return queue_at(cpu);
}

static void stats_add(struct vs_stats *sum, const struct vs_stats *s)
{
	sum->requests += s->requests;
	sum->completions += s->completions;
	sum->batches += s->batches;
	sum->doorbells += s->doorbells;
	sum->doorbells_submit += s->doorbells_submit;
	sum->doorbells_wait += s->doorbells_wait;
	sum->doorbells_skipped += s->doorbells_skipped;
	sum->spin_hits += s->spin_hits;
	sum->bounce_bytes += s->bounce_bytes;
	sum->bad_completions += s->bad_completions;
}

void vs_get_stats(struct vs_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!vs_lib.ready)
		return;
	for (uint32_t i = 0; i < vs_lib.t.nr_queues; i++)
		stats_add(out, &queue_at(i)->stats);
}

int vs_get_queue_stats(uint32_t queue, struct vs_stats *out)
{
	if (!vs_lib.ready || queue >= vs_lib.t.nr_queues)
		return -VS_EINVAL;
	*out = queue_at(queue)->stats;
	return 0;
}

/* ---- request records -------------------------------------------------- */

struct vs_req *vs_req_alloc(struct vs_lq *q)
{
	if (q->free_head == VS_REQ_NONE)
		return NULL;
	struct vs_req *r = &q->req[q->free_head];
	q->free_head = r->next;
	q->used++;
	r->next = VS_REQ_NONE;
	r->gen++;
	r->copy_out = NULL;
	r->addr_out = NULL;
	r->copy_len = 0;
	r->result = 0;
	r->cqe_flags = 0;
	r->bounce_first = VS_REQ_NONE;
	r->bounce_count = 0;
	return r;
}

void vs_req_free(struct vs_lq *q, struct vs_req *r)
{
	vs_bounce_free(q, r);
	r->state = VS_REQ_FREE;
	r->next = q->free_head;
	q->free_head = vs_req_index(q, r);
	q->used--;
}

unsigned vs_inflight(void)
{
	struct vs_lq *q = vs_this_queue();
	return q ? q->used : 0;
}

/* ---- bounce area: VS_BOUNCE_CHUNKS chunks, first fit ------------------ */

static bool chunk_used(const struct vs_lq *q, uint32_t c)
{
	return q->bounce_map[c / 64] & (1ull << (c % 64));
}

static void chunks_mark(struct vs_lq *q, uint32_t first, uint32_t count, bool used)
{
	for (uint32_t c = first; c < first + count; c++) {
		if (used)
			q->bounce_map[c / 64] |= 1ull << (c % 64);
		else
			q->bounce_map[c / 64] &= ~(1ull << (c % 64));
	}
}

/* Give r a run of chunks holding bytes (1 .. VS_BOUNCE_MAX_REQUEST). */
int vs_bounce_alloc(struct vs_lq *q, struct vs_req *r, uint32_t bytes)
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

void vs_bounce_free(struct vs_lq *q, struct vs_req *r)
{
	if (r->bounce_first == VS_REQ_NONE)
		return;
	chunks_mark(q, r->bounce_first, r->bounce_count, false);
	r->bounce_first = VS_REQ_NONE;
	r->bounce_count = 0;
}

void *vs_bounce_ptr(struct vs_lq *q, const struct vs_req *r)
{
	return q->ring->bounce + (size_t)r->bounce_first * VS_BOUNCE_CHUNK;
}

uint64_t vs_bounce_gpa(struct vs_lq *q, const struct vs_req *r)
{
	return q->gpa + VS_QUEUE_BOUNCE_OFFSET + (uint64_t)r->bounce_first * VS_BOUNCE_CHUNK;
}
