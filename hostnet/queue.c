/* SPDX-License-Identifier: MIT */
/*
 * The rings of one queue, host side.
 *
 * SQ: the worker loads sq_tail (acquire), checks it against its private
 * sq_head (never the shared one), copies the new entries out, then publishes
 * sq_head (release) before validating its copies.
 *
 * CQ: a completion is written, then cq_tail is stored (release).  It is never
 * dropped: if the CQ is full (cq_tail - cq_head == VS_CQ_ENTRIES) it waits in
 * a host-side FIFO (the overflow list, VS_QF_CQ_OVERFLOW set) and the worker
 * consumes no SQEs on that queue until the guest has reaped and the list has
 * drained.  The worker also consumes at most as many SQEs as the CQ has free
 * slots, so the list only fills with operations that waited on a socket.
 *
 * Indices the guest writes are checked: sq_tail more than VS_SQ_ENTRIES ahead
 * of our head, or a cq_head ahead of cq_tail or more than VS_CQ_ENTRIES
 * behind, marks the queue VS_QF_BROKEN.
 */
#include "queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kick.h"
#include "timing.h"

_Thread_local int hn_queue_self_kick_fd = -1;
_Thread_local struct hn_timing *hn_timing_self;

int hn_queue_init(struct hn_queue *q, uint32_t index, struct vs_queue *ring,
		  struct hn_link_queue *link, uint32_t max_inflight)
{
	q->index = index;
	q->ring = ring;
	q->kick_fd = -1;
	q->sq_head = ring->ctrl.sq_head;
	q->cq_tail = ring->ctrl.cq_tail;
	q->link = link;
	atomic_store(&link->cq_tail, q->cq_tail);
	atomic_store(&link->broken, 0);
	ring->ctrl.flags = 0;
	q->max_inflight = max_inflight;
	q->overflow = calloc(max_inflight, sizeof(*q->overflow));
	if (!q->overflow)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	hn_pending_init(&q->pending);
	return 0;
}

void hn_queue_destroy(struct hn_queue *q)
{
	if (!q->overflow)
		return; /* never initialised */
	pthread_mutex_destroy(&q->lock);
	hn_pending_destroy(&q->pending);
	free(q->overflow);
	q->overflow = NULL;
}

void hn_queue_set_flags(struct hn_queue *q, uint32_t set, uint32_t clear)
{
	/* Read-modify-write on the shared word: several host threads update it.
	 * The workers never make a decision from it (the guest can write it); the
	 * doorbell only whether to kick this guest's own worker (doorbell.c). */
	if (set)
		__atomic_fetch_or(&q->ring->ctrl.flags, set, __ATOMIC_SEQ_CST);
	if (clear)
		__atomic_fetch_and(&q->ring->ctrl.flags, ~clear, __ATOMIC_SEQ_CST);
}

static void break_locked(struct hn_queue *q, const char *why)
{
	if (atomic_exchange(&q->broken, true))
		return;
	hn_queue_set_flags(q, VS_QF_BROKEN, 0);
	fprintf(stderr, "hostnet: queue %u is BROKEN: %s; the host consumes nothing more "
		"from it (guest ring bug or hostile guest)\n", q->index, why);
	atomic_store(&q->link->broken, 1);
	hn_link_notify(q->link);
}

void hn_queue_break(struct hn_queue *q, const char *why)
{
	pthread_mutex_lock(&q->lock);
	break_locked(q, why);
	pthread_mutex_unlock(&q->lock);
}

/* Free CQ slots as the guest's cq_head says, or -1 (queue broken). */
static int64_t cq_free_locked(struct hn_queue *q)
{
	uint32_t head = vs_load_acquire(&q->ring->ctrl.cq_head);
	uint32_t used = q->cq_tail - head;
	if (used > VS_CQ_ENTRIES) {
		char why[128];
		snprintf(why, sizeof(why), "cq_head %u is not within %u entries behind cq_tail %u",
			 head, VS_CQ_ENTRIES, q->cq_tail);
		break_locked(q, why);
		return -1;
	}
	return VS_CQ_ENTRIES - used;
}

static void write_cqe_locked(struct hn_queue *q, const struct vs_cqe *cqe)
{
	memcpy(&q->ring->cq[q->cq_tail & (VS_CQ_ENTRIES - 1)], cqe, sizeof(*cqe));
	q->cq_tail++;
	vs_store_release(&q->ring->ctrl.cq_tail, q->cq_tail);
	atomic_fetch_sub(&q->inflight, 1);
	atomic_fetch_add_explicit(&q->completions, 1, memory_order_relaxed);
	atomic_store_explicit(&q->link->cq_tail, q->cq_tail, memory_order_release);
	hn_link_notify(q->link);
}

/* Move held-back completions into the CQ while it has room. */
static void flush_locked(struct hn_queue *q)
{
	uint32_t n = atomic_load_explicit(&q->ov_count, memory_order_relaxed);
	if (!n)
		return;
	int64_t room = cq_free_locked(q);
	while (n && room > 0) {
		write_cqe_locked(q, &q->overflow[q->ov_head]);
		q->ov_head = (q->ov_head + 1) % q->max_inflight;
		n--;
		room--;
	}
	atomic_store(&q->ov_count, n);
	if (!n)
		hn_queue_set_flags(q, 0, VS_QF_CQ_OVERFLOW);
}

void hn_queue_post(struct hn_queue *q, uint64_t user_data, int32_t result, uint32_t flags)
{
	struct vs_cqe cqe = { .user_data = user_data, .result = result, .flags = flags };
	uint64_t t0 = hn_timing_start(hn_timing_self);

	pthread_mutex_lock(&q->lock);
	uint32_t held = 0;
	int64_t room = -1;
	if (!atomic_load(&q->broken)) {
		/* Either may find the guest's cq_head corrupt and break the queue. */
		flush_locked(q);
		held = atomic_load_explicit(&q->ov_count, memory_order_relaxed);
		room = held ? 0 : cq_free_locked(q);
	}
	if (atomic_load(&q->broken)) {
		atomic_fetch_sub(&q->inflight, 1); /* nobody can reap it any more */
	} else {
		if (room > 0) {
			write_cqe_locked(q, &cqe);
		} else if (held < q->max_inflight) {
			/* Held completions count as in flight, and inflight never
			 * exceeds q->max_inflight: this slot always exists. */
			q->overflow[(q->ov_head + held) % q->max_inflight] = cqe;
			atomic_store(&q->ov_count, held + 1);
			atomic_fetch_add_explicit(&q->cq_overflows, 1, memory_order_relaxed);
			hn_queue_set_flags(q, VS_QF_CQ_OVERFLOW, 0);
		} else {
			break_locked(q, "internal error: completion overflow list full");
		}
	}
	pthread_mutex_unlock(&q->lock);

	/* A worker that stopped consuming for lack of inflight room sleeps until
	 * something completes: tell it (seq_cst pairs with its stalled store).
	 * If we are that worker, it looks at its queues again anyway. */
	if (atomic_load(&q->stalled) && hn_queue_self_kick_fd != q->kick_fd)
		hn_kick(q->kick_fd);
	if (t0) {
		hn_timing_end(&hn_timing_self->post_ns, t0);
		atomic_fetch_add_explicit(&hn_timing_self->posts, 1, memory_order_relaxed);
	}
}

static unsigned log2_bucket(uint32_t n)
{
	unsigned b = 31u - (unsigned)__builtin_clz(n);
	return b < HOSTNET_BATCH_BUCKETS ? b : HOSTNET_BATCH_BUCKETS - 1;
}

/* How many SQEs may be consumed now (of avail): the CQ's free slots, none while
 * completions are held back, and within q->max_inflight. */
static uint32_t admission(struct hn_queue *q, uint32_t avail)
{
	pthread_mutex_lock(&q->lock);
	flush_locked(q);
	int64_t room = atomic_load(&q->ov_count) ? 0 : cq_free_locked(q);
	pthread_mutex_unlock(&q->lock);
	if (room <= 0)
		return 0;
	uint32_t inflight = atomic_load(&q->inflight);
	uint32_t budget = avail;
	if (budget > room)
		budget = (uint32_t)room;
	if (inflight >= q->max_inflight)
		return 0;
	if (budget > q->max_inflight - inflight)
		budget = q->max_inflight - inflight;
	return budget;
}

/* Is the SQ's tail within reach of our head?  Breaks the queue if not.
 * Returns the entries available (0 when broken). */
static uint32_t sq_available(struct hn_queue *q)
{
	uint32_t tail = vs_load_acquire(&q->ring->ctrl.sq_tail);
	uint32_t avail = tail - q->sq_head;
	if (avail <= VS_SQ_ENTRIES)
		return avail;
	char why[128];
	snprintf(why, sizeof(why), "sq_tail %u is %u entries ahead of the host's head %u "
		 "(at most %u)", tail, avail, q->sq_head, VS_SQ_ENTRIES);
	hn_queue_break(q, why);
	return 0;
}

uint32_t hn_queue_take(struct hn_queue *q, struct vs_sqe batch[VS_SQ_ENTRIES])
{
	if (atomic_load(&q->broken))
		return 0;
	uint32_t avail = sq_available(q);
	if (avail == 0) {
		/* Nothing to consume; still move held completions along, and
		 * break the queue for a cq_head out of reach (a doorbell WAIT
		 * waits for that: it only reads the link). */
		uint32_t used = atomic_load_explicit(&q->link->cq_tail, memory_order_relaxed) -
				vs_load_acquire(&q->ring->ctrl.cq_head);
		if (atomic_load_explicit(&q->ov_count, memory_order_relaxed) ||
		    used > VS_CQ_ENTRIES) {
			pthread_mutex_lock(&q->lock);
			flush_locked(q);
			(void)cq_free_locked(q);
			pthread_mutex_unlock(&q->lock);
		}
		return 0;
	}

	uint32_t n = admission(q, avail);
	if (n == 0) {
		/* Publish "stalled", then look again: a completion posted
		 * meanwhile either sees the flag (and kicks us) or freed the room
		 * we see now (both sides are seq_cst). */
		if (!atomic_exchange(&q->stalled, true))
			atomic_fetch_add_explicit(&q->sq_stalls, 1, memory_order_relaxed);
		n = admission(q, avail);
		if (n == 0)
			return 0;
	}
	atomic_store(&q->stalled, false);

	/* Copy out, then hand the slots back; the caller looks at the copies. */
	for (uint32_t i = 0; i < n; i++)
		memcpy(&batch[i], &q->ring->sq[(q->sq_head + i) & (VS_SQ_ENTRIES - 1)],
		       sizeof(batch[i]));
	q->sq_head += n;
	vs_store_release(&q->ring->ctrl.sq_head, q->sq_head);
	atomic_fetch_add(&q->inflight, n);

	atomic_fetch_add_explicit(&q->requests, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&q->batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&q->batch_hist[log2_bucket(n)], 1, memory_order_relaxed);
	return n;
}
