/* SPDX-License-Identifier: MIT */
/*
 * The doorbell: what a vCPU's hypercall or port write turns into.  Runs on
 * the vCPU thread, in the VMM's process, and sees only the link (link.h) and
 * the ring slot, never the workers' state, so it works the same whether the
 * workers run in this process or in their own.  SUBMIT kicks the queue's
 * worker and returns at once; WAIT sleeps on the queue's futex word until the
 * CQ holds the guest's wait_min completions, wait_ms passes, or the link is
 * stopped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>

#include "clock.h"
#include "hostnet_internal.h"
#include "kick.h"
#include "link.h"

static struct vs_queue_ctrl *ctrl_of(const struct hostnet_link *l, uint32_t q)
{
	return (struct vs_queue_ctrl *)(l->ring + (uint64_t)q * VS_QUEUE_BYTES);
}

/* How many completions this WAIT is for: the guest's wait_min, read once
 * (the guest may rewrite it at any time) and clamped to what a CQ holds. */
static int64_t wait_min(const struct vs_queue_ctrl *c)
{
	uint32_t min = __atomic_load_n(&c->wait_min, __ATOMIC_RELAXED);
	if (min == 0)
		return 1;
	return min > VS_CQ_ENTRIES ? VS_CQ_ENTRIES : min;
}

/* Completions the guest can reap now: the host's cq_tail against the
 * guest's cq_head.  -EIO when broken; -EAGAIN when cq_head is out of reach:
 * the worker, kicked by this doorbell, breaks the queue (and says why). */
static int64_t ready(const struct hostnet_link *l, uint32_t q)
{
	const struct hn_link_queue *lq = &l->sh->q[q];
	if (atomic_load(&lq->broken))
		return -EIO;
	uint32_t used = atomic_load_explicit(&lq->cq_tail, memory_order_acquire) -
			vs_load_acquire(&ctrl_of(l, q)->cq_head);
	return used > VS_CQ_ENTRIES ? -EAGAIN : (int64_t)used;
}

/* ready() for a WAIT: a queue about to break counts as empty (the worker
 * wakes the WAIT once it has broken it). */
static int64_t ready_for(const struct hostnet_link *l, uint32_t q)
{
	int64_t r = ready(l, q);
	return r == -EAGAIN ? 0 : r;
}

static struct timespec deadline_after(uint32_t ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static bool passed(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static int64_t wait_queue(struct hostnet_link *l, uint32_t q, uint32_t wait_ms)
{
	struct hn_link_queue *lq = &l->sh->q[q];
	uint64_t t0 = hn_now_ns();
	int64_t min = wait_min(ctrl_of(l, q));
	struct timespec deadline = deadline_after(wait_ms);
	int64_t r;

	if (atomic_fetch_add(&lq->waiters, 1))
		atomic_store(&lq->wake_any, 1);
	for (;;) {
		/* The target first, then seq: a completion that reaches it after
		 * our look below either bumps seq before we sleep or sees it. */
		atomic_store(&lq->wake_at, vs_load_acquire(&ctrl_of(l, q)->cq_head) + (uint32_t)min);
		unsigned seq = atomic_load(&lq->seq);
		if (atomic_load(&l->stopping)) {
			r = -EINTR;
			break;
		}
		r = ready_for(l, q);
		if (r < 0 || r >= min)
			break; /* enough completions, or -EIO: broken queue */
		if (wait_ms == 0) {
			r = r ? r : -ETIMEDOUT;
			break;
		}
		/* About to sleep: count it, then look once more (link.h: a
		 * worker that does not see the count yet bumped seq before it,
		 * and this look sees its completion).  Not before the first
		 * look: a WAIT that will not sleep must not draw a FUTEX_WAKE. */
		atomic_fetch_add(&lq->sleeps, 1);
		r = ready_for(l, q);
		if (r < 0 || r >= min)
			break;
		/* Not private: the worker that wakes us may be another process.
		 * Absolute CLOCK_MONOTONIC deadline (FUTEX_WAIT_BITSET). */
		long e = syscall(SYS_futex, &lq->seq, FUTEX_WAIT_BITSET, seq,
				 wait_ms == VS_DB_WAIT_FOREVER ? NULL : &deadline, NULL,
				 FUTEX_BITSET_MATCH_ANY);
		if (e == 0 && ready(l, q) > 0) {
			/* Woken by a completion: how long since the worker's wake?
			 * (woken_ns is the worker's word: only this statistic can lie.) */
			uint64_t woke = atomic_load_explicit(&lq->woken_ns, memory_order_relaxed);
			uint64_t now = hn_now_ns();
			if (woke && woke < now) {
				atomic_fetch_add_explicit(&l->qc[q].wait_wakes, 1, memory_order_relaxed);
				atomic_fetch_add_explicit(&l->qc[q].wait_wake_ns, now - woke,
							  memory_order_relaxed);
			}
		}
		/* The deadline holds whatever ended the sleep: a worker process
		 * that moves seq without end (EAGAIN each time) must not keep a
		 * vCPU past the guest's wait_ms (fuzz_link found that). */
		if ((e < 0 && errno == ETIMEDOUT) ||
		    (wait_ms != VS_DB_WAIT_FOREVER && passed(&deadline))) {
			r = atomic_load(&l->stopping) ? -EINTR : ready(l, q);
			if (r == -EAGAIN)
				r = -EIO;
			if (r == 0)
				r = -ETIMEDOUT;
			break;
		}
	}
	atomic_fetch_sub(&lq->waiters, 1);
	atomic_fetch_add_explicit(&l->qc[q].wait_ns, hn_now_ns() - t0, memory_order_relaxed);
	return r;
}

int64_t hostnet_link_doorbell(struct hostnet_link *l, uint64_t a0, uint64_t a1, uint64_t a2)
{
	uint32_t queue = VS_DB_ARG_QUEUE(a2);
	uint32_t flags = VS_DB_ARG_FLAGS(a2);
	if (VS_DB_ARG_MAGIC(a2) != VS_ABI_MAGIC || a0 != l->ring_gpa ||
	    a1 != l->ring_bytes / 4096 || queue >= l->nr_queues ||
	    (flags & ~VS_DB_FLAGS_MASK)) {
		atomic_fetch_add_explicit(&l->doorbells_bad, 1, memory_order_relaxed);
		return -EINVAL;
	}
	/* this queue's own counter: vCPUs ringing different queues share no line */
	atomic_fetch_add_explicit(&l->qc[queue].doorbells, 1, memory_order_relaxed);

	/* Any doorbell means "look at queue q": a WAIT may follow a reap that
	 * freed the CQ room a sleeping worker was waiting for (or that lets it
	 * move held-back completions).  NEED_WAKEUP is cleared before the kick:
	 * the worker is on its way, and an adaptive guest that hands over more
	 * requests meanwhile (sched.c) must not take the flag of the sleep being
	 * ended for a new one and ring again.  Safe for the sleep protocol: a
	 * worker always sets the flag, fences and looks at the rings once more
	 * before it sleeps (worker.c).  So a flag that was clear means the worker
	 * is awake and looks at the rings again before it can sleep: no kick (a
	 * write(2) here and an event for the worker's epoll_wait, per doorbell,
	 * while it is busy).  A guest that clears the flag itself only keeps its
	 * own worker asleep. */
	uint32_t was = __atomic_fetch_and(&ctrl_of(l, queue)->flags, ~VS_QF_NEED_WAKEUP,
					  __ATOMIC_SEQ_CST);
	if (was & VS_QF_NEED_WAKEUP) {
		atomic_fetch_add_explicit(&l->qc[queue].kicks, 1, memory_order_relaxed);
		hn_link_stamp_kick(l->sh, queue % l->workers);
		hn_kick(l->kick_fds[queue % l->workers]);
	}

	if (flags & VS_DB_WAIT)
		return wait_queue(l, queue, VS_DB_ARG_WAIT_MS(a2));
	int64_t r = ready(l, queue);
	return r == -EAGAIN ? -EIO : r;
}

int64_t hostnet_doorbell(struct hostnet *hn, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return hostnet_link_doorbell(hn->link, a0, a1, a2);
}
