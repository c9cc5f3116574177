/* SPDX-License-Identifier: MIT */
/*
 * What the VMM's doorbell side and hostnet's workers share, so that the
 * workers can run in a process of their own (vmm/worker_proc.c) or in the
 * caller's (unit tests, fuzzers).  Two parts:
 *   - struct hostnet_link, private memory (a fork copies it): the ring
 *     slot's mapping and geometry, the eventfds (one per worker for doorbell
 *     kicks, one to tell the worker process to end), the stop flag and the
 *     doorbell counters.  The workers' process cannot change the VMM's copy.
 *   - struct hn_link_shared, one MAP_SHARED mapping made before the fork:
 *     per queue the host's cq_tail, the broken flag and a futex word that
 *     every completion bumps (a doorbell WAIT sleeps on it, doorbell.c); the
 *     worker process's start state; its final statistics.
 * The VMM only reads numbers from the shared part, never a pointer, fd or
 * index: a compromised worker can lie to the guest it serves about
 * completions, wake or starve its WAITs, and lie in the statistics.
 */
#ifndef VS_HOSTNET_LINK_H
#define VS_HOSTNET_LINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hostnet.h"
#include "virtsocket/abi.h"

/* A cache line each: one queue's completions and WAITs never write a line
 * another queue's vCPU or worker reads. */
struct hn_link_queue {
	atomic_uint cq_tail;   /* the host's cq_tail, stored after each CQE (release) */
	atomic_uint broken;    /* the queue is VS_QF_BROKEN */
	atomic_uint seq;       /* futex word: bumped by completions, breaks, stop */
	atomic_uint waiters;   /* doorbell WAITs asleep on seq */
	/* The cq_tail at which the WAIT asleep here has its wait_min completions:
	 * a completion short of it does not wake the vCPU only to have it sleep
	 * again (one wake-up per WAIT, not one per completion).  Not trusted by
	 * the doorbell side: a WAIT always looks at the queue itself. */
	atomic_uint wake_at;
	atomic_uint wake_any;  /* sticky: two WAITs met on this queue (a guest using
	                          one queue from two vCPUs): every completion wakes */
	/* How many times a WAIT was about to sleep (the doorbell side counts one
	 * before its last look at the queue), and that count as the last
	 * FUTEX_WAKE saw it (the worker side, under the queue's lock).  A wake-up
	 * empties the futex, so while the two are equal nobody went to sleep
	 * since, and the completions that follow a wake (the rest of the pass,
	 * until the vCPU thread runs and leaves `waiters`) make no FUTEX_WAKE of
	 * their own.  Equal or not, never older or newer: no order to wrap
	 * around after 2^31 completions.  (Not for wake_any or a broken queue.) */
	atomic_uint sleeps;
	atomic_uint sleeps_woken;
	atomic_uint_least64_t wake_calls; /* FUTEX_WAKEs made for completions */
	/* hn_now_ns() of the last wake of a sleeping WAIT (timing.h): the WAIT
	 * that wakes measures how long the hand-back to its vCPU took. */
	atomic_uint_least64_t woken_ns;
} __attribute__((aligned(64)));

/* The doorbell side's counters for one queue, bumped by that queue's vCPU
 * thread only (private memory, a cache line each). */
struct hn_link_counters {
	atomic_uint_least64_t doorbells, wait_ns;
	atomic_uint_least64_t kicks;    /* doorbells that found the worker going to sleep */
	atomic_uint_least64_t wait_wakes, wait_wake_ns; /* WAITs woken by a completion */
} __attribute__((aligned(64)));

/* Worker process states (state word). */
enum { HN_LINK_STARTING = 0, HN_LINK_READY = 1, HN_LINK_FAILED = 2 };

/* The MAP_SHARED part. */
struct hn_link_shared {
	atomic_uint state;              /* HN_LINK_*: the worker process's start */
	atomic_int start_err;           /* -errno with HN_LINK_FAILED */
	atomic_uint stats_valid;        /* worker_stats holds the final snapshot */
	struct hostnet_stats worker_stats;
	struct hn_link_queue q[VS_MAX_QUEUES];
	/* hn_now_ns() of the first doorbell kick not yet seen by worker i
	 * (0: none): the worker measures how long it took to run (timing.h). */
	atomic_uint_least64_t kicked_ns[VS_MAX_QUEUES];
};

struct hostnet_link {
	/* The doorbell's view, fixed at creation. */
	uint8_t *ring;                  /* ring slot mapping (same address in both) */
	uint64_t ring_gpa, ring_bytes;
	uint32_t nr_queues, workers;
	int kick_fds[VS_MAX_QUEUES];    /* worker i's eventfd; queue q -> q % workers */
	int quit_fd;                    /* eventfd: the worker process ends */

	atomic_uint stopping;           /* hostnet_link_stop(): WAITs return -EINTR */
	atomic_uint_least64_t doorbells_bad; /* no valid queue to count them in */
	struct hn_link_counters qc[VS_MAX_QUEUES];
	struct hn_link_shared *sh;      /* the shared part */
};

/* The link, its shared anonymous mapping and the eventfds.  workers:
 * 1 .. nr_queues.  0 or -errno; hostnet_link_destroy() undoes it. */
int hostnet_link_create(uint8_t *ring, uint64_t ring_gpa, uint64_t ring_bytes,
			uint32_t nr_queues, uint32_t workers, struct hostnet_link **out);
void hostnet_link_destroy(struct hostnet_link *l);

/* hostnet_doorbell() over the link (hostnet.h says what it returns).
 * WAIT sleeps on the queue's futex word: works across processes. */
int64_t hostnet_link_doorbell(struct hostnet_link *l, uint64_t a0, uint64_t a1, uint64_t a2);
/* Wake every WAIT (-EINTR) and make new ones return at once.  Idempotent. */
void hostnet_link_stop(struct hostnet_link *l);
/* Statistics: the workers' final snapshot (zero if none) with the
 * doorbell counters of this side. */
void hostnet_link_get_stats(const struct hostnet_link *l, struct hostnet_stats *out);

/* Workers' side: a queue's completions moved or it broke; wake its WAITs
 * (only if some wait, as the shared word says). */
void hn_link_notify(struct hn_link_queue *lq);

/* The doorbell side: stamp a kick of worker i (keeps an older unseen one).
 * The worker side, woken: take the stamp; returns ns since it, 0 if none. */
void hn_link_stamp_kick(struct hn_link_shared *sh, uint32_t worker);
uint64_t hn_link_take_kick(struct hn_link_shared *sh, uint32_t worker);

#endif
