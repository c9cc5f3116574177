/* SPDX-License-Identifier: MIT */
/*
 * Whether an adaptive wait spins on the CQ before its WAIT doorbell: only
 * while spinning pays.
 *
 * The spin saves a WAIT exit when the completion comes within the cap and
 * the vCPU has a host CPU of its own meanwhile.  On a busy host it has not:
 * the spinning vCPU thread is one more CPU hog beside the polling worker and
 * the host programs (rr's echo peer), the host scheduler gives it no wake-up
 * preference (it never sleeps), and whoever shares its CPU, or it itself
 * after a futex wake, waits for a tick.  Measured in the nested sandbox with
 * one busy loop beside rr 64 B: 260-320 round trips/s, p50 ~4.1 ms (the
 * 4 ms tick), against 1,400/s for a guest that never spins and 4,000/s
 * natively; the spins there failed 1.7 times per round trip.
 *
 * So spins that do not pay (one reached its cap, or succeeded only after
 * the cap had passed: the vCPU was off its CPU meanwhile) make the next
 * waits go straight to WAIT, where the vCPU thread sleeps and the host
 * scheduler treats it as the interactive thread it is.  One miss alone
 * skips nothing: a calm host has a long round trip now and then (0.2-1 %
 * of rr's waits in the sandbox), and a WAIT after each would land in the
 * p99; misses on a busy host come in runs.  The second miss in a row skips
 * 1 wait, the next ones 2, 4, ... up to VS_SPIN_BACKOFF_MAX; a spin that
 * pays starts the count again.
 */
#ifndef VS_GUESTLIB_SPIN_BACKOFF_H
#define VS_GUESTLIB_SPIN_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

/* Waits skipped after a long run of misses: one probe spin per this many
 * waits costs a busy host little, and a host that calmed down gets its
 * spins back within this many waits (~0.2 s of WAIT round trips in the
 * sandbox). */
#define VS_SPIN_BACKOFF_MAX 256u

/*
 * The backoff judges only waits for a few requests (a round trip, a chain).
 * With VS_SPIN_CROWD or more requests with the host, as for a server under
 * load with a receive or POLL armed per connection, the wait is for whichever
 * of them comes first: the vCPU's time there is throughput, not one flow's
 * latency, and the worker that keeps a CPU from the spin is producing the
 * very completions it waits for.  Such waits spin up to a longer cap and
 * are judged apart, with a count of their own: under load a crowded spin
 * nearly always pays, and a flow's misses must not cost it; on a quiet server
 * holding many idle connections it reaches its cap before each request, and
 * without a count it would spin VS_SPIN_CROWD_CAP_X caps per request (the
 * busy-host trouble above, on a server).  A crowded spin that reached its cap
 * is judged by the WAIT after it (sched.c): back within one spin cap, the
 * host was only busy a moment (paid); a longer sleep is a miss.
 * Measured under wrk against the guest's httpd (guest-lib/README.md, "Adaptive waits"): with the backoff judging
 * those waits too, 80 % of them skipped their spin, after runs of spins
 * that reached the cap (not late hits: 53 caps, 4 late hits in 3 s), and a
 * WAIT that any completion ends (an async SEND's) came back without the
 * ready event, so an epoll_wait cost ~7 WAITs: 0.4 exits per request.
 */
#define VS_SPIN_CROWD 16u

/* A crowded wait's cap, in spin caps.  Its spin ends at the cap when the
 * worker lost its CPU for that long (wrk, the worker and the spinning vCPU
 * share two CPUs), and the scheduler gives it back within a few ticks:
 * 2 ms caps rang ~0.05-0.15 WAITs per request at 100 connections, 8 ms
 * ones ~0.02-0.05 (same boot, interleaved). */
#define VS_SPIN_CROWD_CAP_X 4u

static inline bool vs_spin_crowded(uint64_t in_flight)
{
	return in_flight >= VS_SPIN_CROWD;
}

struct vs_spin_backoff {
	uint16_t skip; /* waits left that go straight to WAIT */
	uint16_t next; /* waits the next miss skips (0: no miss in a row yet) */
};

enum vs_spin_outcome {
	VS_SPIN_PAID,    /* caught what it waited for within the cap */
	VS_SPIN_MISSED,  /* reached the cap, or caught it only after the cap */
	VS_SPIN_NEUTRAL, /* stopped for another reason (deadline, doorbell needed) */
};

/* Before a spin: false if this wait is to skip it (and count it skipped). */
static inline bool vs_spin_backoff_allows(struct vs_spin_backoff *b)
{
	if (b->skip == 0)
		return true;
	b->skip--;
	return false;
}

/* After a spin. */
static inline void vs_spin_backoff_note(struct vs_spin_backoff *b, enum vs_spin_outcome o)
{
	if (o == VS_SPIN_PAID) {
		b->next = 0;
	} else if (o == VS_SPIN_MISSED) {
		b->skip = b->next; /* the first miss in a row: 0 */
		b->next = b->next == 0 ? 1
			: b->next >= VS_SPIN_BACKOFF_MAX / 2 ? VS_SPIN_BACKOFF_MAX
							     : (uint16_t)(b->next * 2);
	}
}

#endif
