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
 * The backoff judges a flow's waits for a few requests (a round trip, a
 * chain).  A readiness wait for whichever of many sockets comes first
 * (epoll_wait, poll) with VS_SPIN_CROWD or more requests out does not spin at
 * all: it sleeps for a batch (crowd_batch.h).  Any other wait with that many
 * out (a stream sender waiting in vs_wait() for its SENDs, which complete at
 * the worker's pace, while its waits are short: "Long waits" below) spins up
 * to a longer cap and is judged apart, with a count
 * of its own: its spins nearly always pay, and a flow's misses must not cost
 * it; should they not, it backs off like a flow.  Such a spin that reached
 * its cap is judged by the WAIT after it (sched.c): back within one spin
 * cap, the host was only busy a moment (paid); a longer sleep is a miss.
 * (Batch WAITs for a stream sender: 0.018 exits per 64 B message, against
 * 0.00007 with this spin; nested sandbox, scripts/bench --quick.)
 */

/* A crowded spin's cap, in spin caps: 2 ms caps rang ~0.05-0.15 WAITs per
 * request at 100 connections, 8 ms ones ~0.02-0.05 (same boot, interleaved;
 * measured when servers' waits spun too). */
#define VS_SPIN_CROWD_CAP_X 4u

/*
 * Long waits.  A crowded spin that pays still costs a host CPU for as long
 * as it spins.  A stream sender's vs_wait() for a group of 4 KiB SENDs waits
 * for the worker to push 128 KiB into a socket: ~1 ms in the nested sandbox,
 * where a WAIT exit costs ~60 us.  Spinning through it kept the CPU from the
 * worker and the receiving host program on a 2-CPU host: stream 4 KiB ran at
 * 76-92 MB/s spinning, 138-157 MB/s when such waits slept (same boot,
 * interleaved; 0.5 s runs, scripts/bench).  So vs_wait() keeps the typical
 * length of its crowded waits (an average, each new wait weighing 1/8), and
 * while it is over VS_WAIT_LONG_DIV-th of the spin cap a crowded vs_wait()
 * rings WAIT at once: one exit per wait, and the CPU goes to whoever produces
 * the completions.  Short waits (64 B sends: a group in ~0.1-0.3 ms) keep
 * their spin, and their exits per message stay near 0.0001.  A wait that
 * went to WAIT counts its exit and wake-up in its length, so a sender whose
 * waits got shorter comes back to spinning.  (Only vs_wait(): a blocking
 * call waits for one flow's progress, spinning as above.)
 */
#define VS_WAIT_LONG_DIV 4u

/* After a crowded vs_wait() of ns: the running average *avg_ns. */
static inline void vs_wait_length_note(uint64_t *avg_ns, uint64_t ns)
{
	*avg_ns = *avg_ns ? *avg_ns - *avg_ns / 8 + ns / 8 : ns;
}

/* Do crowded vs_wait()s, averaging avg_ns, run too long to spin through? */
static inline bool vs_wait_is_long(uint64_t avg_ns, uint64_t spin_ns)
{
	return avg_ns > spin_ns / VS_WAIT_LONG_DIV;
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
