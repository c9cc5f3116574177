/* SPDX-License-Identifier: MIT */
/*
 * How a crowded wait waits: asleep in one WAIT for a batch of completions,
 * not spinning.
 *
 * A readiness wait for whichever of many sockets comes first (epoll_wait,
 * poll: sched.c's vs_sched_wait_any) with VS_SPIN_CROWD or more requests with
 * the host (a server with a receive or POLL armed per connection) is
 * crowded: its vCPU time is throughput, not one flow's latency.  (Other
 * waits with as many requests out spin, spin_backoff.h: a stream sender
 * waiting in vs_wait() for its SENDs has them completed at the worker's pace,
 * and its spin pays while those waits are short (spin_backoff.h, "Long
 * waits"); batch WAITs there cost stream 64 B 0.018 exits per
 * message against 0.00007 spinning.)  Spinning there keeps a
 * host CPU from the worker and the host programs that produce the very
 * completions it waits for: under wrk against the guest's httpd (nested
 * sandbox, 2 CPUs: vCPU, worker and wrk's two threads) the spinning vCPU took
 * 0.65-0.73 of a CPU, 85-143 us per request, of which the guest's own work
 * was about 15 us (guest-lib/README.md, "Crowded waits sleep for a batch").
 *
 * So a crowded wait rings WAIT at once and asks the host for a batch: k
 * completions (at least what it needs), or VS_CROWD_BATCH_MS, whichever
 * comes first.  The vCPU thread sleeps meanwhile (its CPU goes to the worker
 * and the host programs), and one exit serves the batch.
 *
 * k follows the load.  A batch that came within a quarter of the time (the
 * completions arrive faster than k per VS_CROWD_BATCH_MS) doubles k, up to a
 * quarter of the requests with the host and VS_CROWD_BATCH_MAX.  A batch WAIT
 * that timed out sets k to what did come (what the load brings in that time)
 * and holds k there for 1, 2, 4 ... VS_CROWD_BATCH_HOLD_MAX waits on timeouts
 * in a row: a lone client among idle connections, whose next request waits
 * for this response, would otherwise time out every other request.  A batch
 * WAIT that timed out with nothing leaves k at 1: the wait goes on as a plain
 * WAIT, no timer ticking while the server is idle.
 */
#ifndef VS_GUESTLIB_CROWD_BATCH_H
#define VS_GUESTLIB_CROWD_BATCH_H

#include <stdbool.h>
#include <stdint.h>

/* A wait with this many requests with the host (published, not completed)
 * or more is crowded. */
#define VS_SPIN_CROWD 16u

/* The longest a batch WAIT sleeps past its first completion: what the batch
 * may add to a response's latency.  5 ms measured best of 1, 2, 5 and 10 ms
 * (with k capped at 1/16, 1/8, 1/4 and 1/2 of the requests with the host):
 * wrk at 100 and 1,000 connections in the nested sandbox, with a 256-entry
 * SQ.  With the 1,024-entry SQ, 15 ms against 5 ms, same boot, turns
 * interleaved (guest-lib/README.md, "Crowded waits sleep for a batch"): at
 * 1,000 connections the doorbell exits per request fell from 0.035-0.052 to
 * 0.012-0.018, and requests/s rose from 0.52-0.72x native to 0.64-0.77x,
 * wrk's p50 latency 80-108 ms to 69-101 ms.  Under load a batch fills long
 * before 15 ms; the window is only the cap of a slow one. */
#define VS_CROWD_BATCH_MS 15u
#define VS_CROWD_BATCH_MAX 256u
#define VS_CROWD_BATCH_HOLD_MAX 256u

struct vs_crowd_batch {
	uint32_t k;         /* completions the next batch WAIT asks for (0: 1) */
	uint16_t hold;      /* waits left before k may grow again */
	uint16_t next_hold; /* the hold the next timeout sets (0: none in a row yet) */
};

static inline bool vs_spin_crowded(uint64_t in_flight)
{
	return in_flight >= VS_SPIN_CROWD;
}

/* Completions to ask for: at least need, else k, at most a quarter of the
 * requests with the host and VS_CROWD_BATCH_MAX. */
static inline uint32_t vs_crowd_batch_ask(const struct vs_crowd_batch *b, uint32_t need,
					  uint64_t in_flight)
{
	uint64_t cap = in_flight / 4 < VS_CROWD_BATCH_MAX ? in_flight / 4 : VS_CROWD_BATCH_MAX;
	uint64_t k = b->k < cap ? b->k : cap;
	return k > need ? (uint32_t)k : need;
}

/* After a batch WAIT that asked for `asked` (> its need) and saw `got`
 * completions after waited_ns. */
static inline void vs_crowd_batch_note(struct vs_crowd_batch *b, uint32_t asked, uint32_t got,
				       uint64_t waited_ns)
{
	if (got < asked) { /* timed out */
		b->k = got ? got : 1;
		b->hold = b->next_hold ? b->next_hold : 1;
		b->next_hold = b->hold >= VS_CROWD_BATCH_HOLD_MAX / 2 ?
				       VS_CROWD_BATCH_HOLD_MAX : (uint16_t)(b->hold * 2);
		return;
	}
	b->next_hold = 0; /* a batch came whole: batching pays at this k */
	if (b->hold) {
		b->hold--;
	} else if (waited_ns < VS_CROWD_BATCH_MS * 1000000ull / 4 && b->k < VS_CROWD_BATCH_MAX) {
		b->k = b->k ? b->k * 2 : 2;
	}
}

/* After a plain crowded WAIT (it asked for its need only) that saw got
 * completions after waited_ns: the first step of a batch when they came
 * quickly. */
static inline void vs_crowd_batch_note_plain(struct vs_crowd_batch *b, uint32_t got,
					     uint64_t waited_ns)
{
	if (b->hold) {
		b->hold--;
	} else if (got && waited_ns < VS_CROWD_BATCH_MS * 1000000ull / 4 && b->k < 2) {
		b->k = 2;
	}
}

#endif
