/* SPDX-License-Identifier: MIT */
/*
 * hostnet_doorbell(): what a vCPU's hypercall or port write turns into.
 * Runs on the vCPU thread.  SUBMIT kicks the queue's worker and returns at
 * once; WAIT blocks the vCPU thread on the queue's condition variable until
 * the CQ holds the guest's wait_min completions, wait_ms passes, or
 * hostnet_stop().
 */
#include <errno.h>
#include <time.h>

#include "clock.h"
#include "hostnet_internal.h"
#include "kick.h"

/* How many completions this WAIT is for: the guest's wait_min, read once
 * (the guest may rewrite it at any time) and clamped to what a CQ holds. */
static int64_t wait_min(const struct hn_queue *q)
{
	uint32_t min = __atomic_load_n(&q->ring->ctrl.wait_min, __ATOMIC_RELAXED);
	if (min == 0)
		return 1;
	return min > VS_CQ_ENTRIES ? VS_CQ_ENTRIES : min;
}

static int64_t wait_queue(struct hostnet *hn, struct hn_queue *q, uint32_t wait_ms)
{
	uint64_t t0 = hn_now_ns();
	int64_t min = wait_min(q);
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	int64_t r;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (atomic_load(&hn->stopping)) {
			r = -EINTR;
			break;
		}
		r = hn_queue_ready_locked(q);
		if (r < 0 || r >= min)
			break; /* enough completions, or -EIO: broken queue */
		if (wait_ms == 0) {
			r = r ? r : -ETIMEDOUT;
			break;
		}
		q->waiters++;
		int e = wait_ms == VS_DB_WAIT_FOREVER
				? pthread_cond_wait(&q->cond, &q->lock)
				: pthread_cond_timedwait(&q->cond, &q->lock, &deadline);
		q->waiters--;
		if (e == ETIMEDOUT) {
			r = atomic_load(&hn->stopping) ? -EINTR : hn_queue_ready_locked(q);
			if (r == 0)
				r = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
	atomic_fetch_add_explicit(&hn->wait_ns, hn_now_ns() - t0, memory_order_relaxed);
	return r;
}

int64_t hostnet_doorbell(struct hostnet *hn, uint64_t a0, uint64_t a1, uint64_t a2)
{
	atomic_fetch_add_explicit(&hn->doorbells, 1, memory_order_relaxed);
	uint32_t queue = VS_DB_ARG_QUEUE(a2);
	uint32_t flags = VS_DB_ARG_FLAGS(a2);
	if (VS_DB_ARG_MAGIC(a2) != VS_ABI_MAGIC || a0 != hn->cfg.ring_gpa ||
	    a1 != hn->cfg.ring_bytes / 4096 || queue >= hn->cfg.nr_queues ||
	    (flags & ~VS_DB_FLAGS_MASK)) {
		atomic_fetch_add_explicit(&hn->doorbells_bad, 1, memory_order_relaxed);
		return -EINVAL;
	}
	struct hn_queue *q = &hn->queues[queue];

	/* Any doorbell means "look at queue q": a WAIT may follow a reap that
	 * freed the CQ room a sleeping worker was waiting for.  NEED_WAKEUP is
	 * cleared before the kick: the worker is on its way, and an adaptive
	 * guest that hands over more requests meanwhile (sched.c) must not take
	 * the flag of the sleep being ended for a new one and ring again.  Safe for
	 * the sleep protocol: a worker always sets the flag, fences and looks at
	 * the rings once more before it sleeps (worker.c). */
	hn_queue_set_flags(q, 0, VS_QF_NEED_WAKEUP);
	hn_kick(q->kick_fd);

	if (flags & VS_DB_WAIT)
		return wait_queue(hn, q, VS_DB_ARG_WAIT_MS(a2));
	pthread_mutex_lock(&q->lock);
	int64_t r = hn_queue_ready_locked(q);
	pthread_mutex_unlock(&q->lock);
	return r;
}
