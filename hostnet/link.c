/* SPDX-License-Identifier: MIT */
/* The shared page between the VMM's doorbell and hostnet's workers (link.h). */
#define _GNU_SOURCE
#include "link.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"

int hostnet_link_create(uint8_t *ring, uint64_t ring_gpa, uint64_t ring_bytes,
			uint32_t nr_queues, uint32_t workers, struct hostnet_link **out)
{
	if (!ring || nr_queues == 0 || nr_queues > VS_MAX_QUEUES || workers == 0 ||
	    workers > nr_queues)
		return -EINVAL;
	struct hostnet_link *l = aligned_alloc(64, sizeof(*l)); /* per-queue cache lines */
	if (!l)
		return -ENOMEM;
	memset(l, 0, sizeof(*l));
	/* Anonymous and shared: a fork keeps it shared with the child. */
	l->sh = mmap(NULL, sizeof(*l->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	if (l->sh == MAP_FAILED) {
		free(l);
		return -errno;
	}
	l->ring = ring;
	l->ring_gpa = ring_gpa;
	l->ring_bytes = ring_bytes;
	l->nr_queues = nr_queues;
	l->workers = workers;
	l->quit_fd = -1;
	for (uint32_t i = 0; i < VS_MAX_QUEUES; i++)
		l->kick_fds[i] = -1;
	for (uint32_t i = 0; i < workers; i++) {
		l->kick_fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (l->kick_fds[i] < 0)
			goto fail;
	}
	l->quit_fd = eventfd(0, EFD_CLOEXEC); /* blocking: the worker process sleeps in read */
	if (l->quit_fd < 0)
		goto fail;
	*out = l;
	return 0;
fail:;
	int err = -errno;
	hostnet_link_destroy(l);
	return err;
}

void hostnet_link_destroy(struct hostnet_link *l)
{
	if (!l)
		return;
	for (uint32_t i = 0; i < VS_MAX_QUEUES; i++)
		if (l->kick_fds[i] >= 0)
			close(l->kick_fds[i]);
	if (l->quit_fd >= 0)
		close(l->quit_fd);
	munmap(l->sh, sizeof(*l->sh));
	free(l);
}

/* Would a WAIT asleep on lq want this wake-up?  Only once the CQ reaches
 * its target, unless the queue broke or several WAITs share it. */
static bool worth_waking(struct hn_link_queue *lq)
{
	if (atomic_load(&lq->broken) || atomic_load(&lq->wake_any))
		return true;
	uint32_t tail = atomic_load_explicit(&lq->cq_tail, memory_order_relaxed);
	return (int32_t)(tail - atomic_load(&lq->wake_at)) >= 0;
}

/* Has a WAIT gone to sleep since the last wake-up (link.h)?  seq_cst: a WAIT
 * counts its sleep after loading seq and before its last look at the queue;
 * if that count is not seen here, the look sees this completion, and a
 * futex_wait on a value from before the bump returns at once.  *sleeps is
 * the count seen, for the caller to remember once it wakes. */
static bool slept_since_wake(struct hn_link_queue *lq, unsigned *sleeps)
{
	*sleeps = atomic_load(&lq->sleeps);
	if (atomic_load(&lq->broken) || atomic_load(&lq->wake_any))
		return true;
	return *sleeps != atomic_load_explicit(&lq->sleeps_woken, memory_order_relaxed);
}

void hn_link_notify(struct hn_link_queue *lq)
{
	/* seq_cst on both sides: a WAIT that registered (its target, then
	 * waiters) before its last look at the queue is seen here, or it sees
	 * the new seq and does not sleep.  A completion short of its target
	 * still bumps seq: the WAIT, if it is just about to sleep, looks again. */
	unsigned sleeps;
	atomic_fetch_add(&lq->seq, 1);
	if (atomic_load(&lq->waiters) && worth_waking(lq) && slept_since_wake(lq, &sleeps)) {
		atomic_store_explicit(&lq->sleeps_woken, sleeps, memory_order_relaxed);
		atomic_fetch_add_explicit(&lq->wake_calls, 1, memory_order_relaxed);
		/* A system call follows anyway: the stamp costs nothing here. */
		atomic_store_explicit(&lq->woken_ns, hn_now_ns(), memory_order_relaxed);
		syscall(SYS_futex, &lq->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
}

void hn_link_stamp_kick(struct hn_link_shared *sh, uint32_t worker)
{
	uint_least64_t none = 0;
	atomic_compare_exchange_strong_explicit(&sh->kicked_ns[worker], &none, hn_now_ns(),
						memory_order_relaxed, memory_order_relaxed);
}

uint64_t hn_link_take_kick(struct hn_link_shared *sh, uint32_t worker)
{
	uint64_t then = atomic_exchange_explicit(&sh->kicked_ns[worker], 0,
						 memory_order_relaxed);
	uint64_t now = hn_now_ns();
	return then && then < now ? now - then : 0;
}

void hostnet_link_stop(struct hostnet_link *l)
{
	if (!l)
		return;
	atomic_store(&l->stopping, 1);
	/* Wake whether or not the shared waiters count says someone waits: a
	 * worker process may have overwritten it. */
	for (uint32_t i = 0; i < l->nr_queues; i++) {
		atomic_fetch_add(&l->sh->q[i].seq, 1);
		syscall(SYS_futex, &l->sh->q[i].seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
}

static uint64_t load(const atomic_uint_least64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void hostnet_link_get_stats(const struct hostnet_link *l, struct hostnet_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (atomic_load(&l->sh->stats_valid))
		*out = l->sh->worker_stats;
	out->doorbells_bad = load(&l->doorbells_bad);
	out->doorbells = out->doorbells_bad;
	out->wait_ns = 0;
	out->wait_wakes = 0;
	out->kicks = 0;
	out->wait_wake_ns = 0;
	out->nr_queues = l->nr_queues;
	for (uint32_t i = 0; i < l->nr_queues; i++) {
		struct hostnet_queue_stats *qs = &out->queue[i];
		qs->doorbells = load(&l->qc[i].doorbells);
		qs->wait_ns = load(&l->qc[i].wait_ns);
		out->doorbells += qs->doorbells;
		out->wait_ns += qs->wait_ns;
		out->wait_wakes += load(&l->qc[i].wait_wakes);
		out->kicks += load(&l->qc[i].kicks);
		out->wait_wake_ns += load(&l->qc[i].wait_wake_ns);
	}
}
