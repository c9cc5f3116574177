/* SPDX-License-Identifier: MIT */
/*
 * One queue's rings, host side: taking SQEs out (copied, indices checked),
 * posting completions (or holding them while the CQ is full), the queue's
 * flags and statistics.  It knows the rings and nothing of what a request
 * means: the worker consumes (worker.c), ops.c executes.
 *
 * Lock order: hn_sock.lock -> hn_queue.lock.
 */
#ifndef VS_HOSTNET_QUEUE_H
#define VS_HOSTNET_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hostnet.h"
#include "link.h"
#include "pending.h"
#include "virtsocket/abi.h"

struct hn_queue {
	uint32_t index;
	struct vs_queue *ring;      /* shared with the guest: never trusted */
	int kick_fd;                /* eventfd of the worker that consumes this queue */

	/* Consumer side: touched by the serving worker only. */
	uint32_t sq_head;           /* private copy; the shared one is only written */
	uint64_t seq;               /* requests consumed so far (hn_req.seq) */

	/* Completion side: under lock. */
	pthread_mutex_t lock;
	struct hn_link_queue *link; /* cq_tail, broken and the WAITers' futex (link.h) */
	uint32_t cq_tail;           /* private copy of what we published */
	uint32_t max_inflight;      /* HOSTNET_QUEUE_INFLIGHT(max_sockets) */
	struct vs_cqe *overflow;    /* max_inflight slots, a FIFO ring */
	uint32_t ov_head;
	atomic_uint ov_count;       /* written under lock, peeked without */

	atomic_uint inflight;       /* consumed, CQE not yet in the CQ */
	struct hn_pending pending;  /* its parked requests by user_data (CANCEL) */
	atomic_bool broken;         /* guest corrupted an index: dead queue */
	atomic_bool stalled;        /* worker left SQEs for lack of CQ/inflight room */

	/* Statistics. */
	atomic_uint_least64_t requests, requests_bad, batches, completions;
	atomic_uint_least64_t cq_overflows, sq_stalls;
	atomic_uint_least64_t batch_hist[HOSTNET_BATCH_BUCKETS];
} __attribute__((aligned(64))); /* neighbours in hostnet's array share no line */

/* The kick fd of the worker running on this thread (-1 on other threads): a
 * worker posting to a queue it consumes itself need not kick itself. */
extern _Thread_local int hn_queue_self_kick_fd;

/* Start from the control page's indices (idle, checked by the caller) and
 * clear its flags.  0 or -ENOMEM.  hn_queue_destroy() undoes it (and does
 * nothing for a queue never initialised). */
int hn_queue_init(struct hn_queue *q, uint32_t index, struct vs_queue *ring,
		  struct hn_link_queue *link, uint32_t max_inflight);
void hn_queue_destroy(struct hn_queue *q);

/* Copy out what the SQ offers, at most as many entries as the CQ and the
 * inflight limit have room for, into batch; publish sq_head.  Returns how
 * many (0: nothing, no room, or the queue is or just became broken).
 * Serving worker only. */
uint32_t hn_queue_take(struct hn_queue *q, struct vs_sqe batch[VS_SQ_ENTRIES]);
/* Post one completion (or hold it host-side while the CQ is full). */
void hn_queue_post(struct hn_queue *q, uint64_t user_data, int32_t result, uint32_t flags);
/* Mark the queue dead (VS_QF_BROKEN) and log why, once. */
void hn_queue_break(struct hn_queue *q, const char *why);
void hn_queue_set_flags(struct hn_queue *q, uint32_t set, uint32_t clear);

#endif
