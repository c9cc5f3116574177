/* SPDX-License-Identifier: MIT */
/*
 * Binding the library to a transport: vs_init() checks it and sets up each
 * queue's state; this CPU's queue; the statistics summed over queues.
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

static void queue_init(struct vs_queue_state *q, const struct vs_transport *t, uint32_t index)
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
	vs_lib.queues = (struct vs_queue_state *)state;
	for (uint32_t i = 0; i < t->nr_queues; i++)
		queue_init((struct vs_queue_state *)((uint8_t *)state + (size_t)i * VS_STATE_BYTES_PER_QUEUE),
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

static struct vs_queue_state *queue_at(uint32_t i)
{
	return (struct vs_queue_state *)((uint8_t *)vs_lib.queues + (size_t)i * VS_STATE_BYTES_PER_QUEUE);
}

/* This CPU's queue, or NULL before vs_init() / for a CPU without a queue
 * (sharing another CPU's queue would break the one-producer rule). */
struct vs_queue_state *vs_this_queue(void)
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
	sum->spins_skipped += s->spins_skipped;
	sum->spins_crowded += s->spins_crowded;
	sum->waits_long += s->waits_long;
	sum->batch_waits += s->batch_waits;
	sum->batch_timeouts += s->batch_timeouts;
	sum->spins_capped += s->spins_capped;
	sum->spins_late += s->spins_late;
	sum->sq_full_waits += s->sq_full_waits;
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
