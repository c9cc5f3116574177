/* SPDX-License-Identifier: MIT */
/*
 * Where a request's time goes, host side (the cost breakdown, README "Where
 * the time goes").  Two kinds of figure:
 *
 *   - always on, because they sit on paths that make a system call anyway:
 *     how long a worker took to run after a doorbell kicked it (the
 *     doorbell stamps the kick, the worker reads the stamp when epoll_wait
 *     returns), and how many idle loops a polling worker made (its poll
 *     period is worker_poll_ns / poll_loops; a request published while it
 *     polls waits half of that on average);
 *   - with cfg.timings only (the VMM's --timings), because they read the
 *     clock around every phase of every pass: taking SQEs out, validating
 *     them, running them (system calls), posting completions, and handling
 *     socket readiness.  Off, each costs one predictable branch.
 *
 * The clock is hn_now_ns() (vDSO CLOCK_MONOTONIC: ~20 ns natively, ~0.1 us
 * in the sandbox), the same in the VMM's process and the workers', so a
 * stamp written by one and read by the other is comparable.
 */
#ifndef VS_HOSTNET_TIMING_H
#define VS_HOSTNET_TIMING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"

struct hn_timing {
	bool on;                              /* cfg.timings */
	atomic_uint_least64_t take_ns;        /* hn_queue_take(): admission, copy-out */
	atomic_uint_least64_t validate_ns;    /* hn_validate() of each copy */
	atomic_uint_least64_t run_ns;         /* hn_ops_submit() + hn_ops_flush() */
	atomic_uint_least64_t events_ns;      /* readiness: retrying parked requests */
	atomic_uint_least64_t post_ns;        /* hn_queue_post() (inside run/events) */
	atomic_uint_least64_t posts;          /* ... calls timed */
};

/* The worker's timing block, for hn_queue_post() which does not know its
 * caller (NULL outside workers and when timings are off). */
extern _Thread_local struct hn_timing *hn_timing_self;

/* Start of a timed phase: 0 when timings are off. */
static inline uint64_t hn_timing_start(const struct hn_timing *t)
{
	return t && t->on ? hn_now_ns() : 0;
}

/* End of the phase that began at t0 (no-op when t0 is 0). */
static inline void hn_timing_end(atomic_uint_least64_t *acc, uint64_t t0)
{
	if (t0)
		atomic_fetch_add_explicit(acc, hn_now_ns() - t0, memory_order_relaxed);
}

#endif
