/* SPDX-License-Identifier: MIT */
/*
 * What an idle worker does in its poll window (cfg.poll_us): the window
 * exists so that a guest which publishes right after a completion needs no
 * doorbell (an exit: 1-2 us on hardware, ~100 us in the nested sandbox).
 * But a worker that spins the whole window takes a CPU the guest's vCPU, the
 * other workers and the host's own programs (a benchmark's client) may need:
 * on a saturated machine (scripts/bench http: vCPU, worker and wrk's two
 * threads on two CPUs) every microsecond it spins is one they wait.
 *
 * So the worker spins only for the first HN_IDLE_SPIN_NS of the window (the
 * request that follows a completion at once) and then yields the CPU on every
 * loop: sched_yield() returns at once when nothing else wants this CPU (an
 * idle machine keeps the whole window, a poll period of one system call), and
 * lets whoever is runnable here go first when the machine is busy.
 * NEED_WAKEUP stays clear while it yields: the guest still rings no doorbell.
 */
#ifndef VS_HOSTNET_IDLE_POLL_H
#define VS_HOSTNET_IDLE_POLL_H

#include <stdint.h>

/* Pure spinning at the start of a poll window: what a reply's next request
 * takes to come when the guest answers at once (rr's turn-around). */
#define HN_IDLE_SPIN_NS 5000u

enum hn_idle_step {
	HN_IDLE_SPIN,   /* cpu_relax() and look again */
	HN_IDLE_YIELD,  /* sched_yield() and look again */
	HN_IDLE_SLEEP,  /* the window is over: NEED_WAKEUP, then epoll_wait */
};

/* The step after a loop that found nothing, idle_ns into a window of
 * window_ns. */
static inline enum hn_idle_step hn_idle_step(uint64_t idle_ns, uint64_t window_ns)
{
	if (idle_ns >= window_ns)
		return HN_IDLE_SLEEP;
	return idle_ns < HN_IDLE_SPIN_NS ? HN_IDLE_SPIN : HN_IDLE_YIELD;
}

#endif
