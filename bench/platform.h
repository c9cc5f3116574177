/* SPDX-License-Identifier: MIT */
/*
 * What differs between the guest build and the native build of the
 * workloads: the clock, what the RESULT line says about where it ran, the
 * transport's own counters, and pipelined sends.
 *
 *   platform_guest.c   guest.img: the kernel's TSC clock, boot info, guest-lib
 *                      statistics, pipelined sends with the async API
 *   platform_native.c  native-bench: clock_gettime, plain send()
 */
#ifndef BENCH_PLATFORM_H
#define BENCH_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "bench.h"

#ifdef VS_GUEST
#include <sys/socket.h> /* close(): sockets are the guest's only descriptors */
#else
#include <unistd.h>
#endif

/* Monotonic nanoseconds. */
uint64_t plat_now_ns(void);

/* Fields that say where this ran ("where", and in the guest the transport's
 * modes as the VM really booted with them), appended to the RESULT line. */
void plat_describe(struct bench_out *b);

/*
 * Flows (flows.c): run fn(arg + i * stride) for i < n at once, i on vCPU i in
 * the guest (vCPU 0 is the caller) or on a thread of its own natively, and
 * return when all did: 0, or -1 after printing why they could not all start
 * (the guest has fewer than n vCPUs); abandon(arg + i * stride) is called for
 * each flow that will not run, before waiting for those that do.
 * plat_flows_begin(n), first thing in a program: vCPUs no flow will use give
 * their host CPU back (guest; no-op natively).
 */
int plat_run_flows(unsigned n, int (*fn)(void *), void (*abandon)(void *), void *arg,
		   size_t stride);
void plat_flows_begin(unsigned n);

/* The transport's counters (guest-lib's view: what this guest asked of the
 * host) on this vCPU's queue (the only one a lone run uses; its own with
 * --flows), for the measured window only.  valid = false natively. */
struct plat_counters {
	bool valid;
	uint64_t requests, completions, batches;
	uint64_t doorbells, doorbells_submit, doorbells_wait, doorbells_skipped;
	uint64_t spin_hits, spins_skipped, spins_crowded, spins_capped, spins_late, waits_long;
	uint64_t batch_waits, batch_timeouts, sq_full_waits;
	uint64_t bounce_bytes;
};
void plat_counters(struct plat_counters *c);
/* "transport":{...deltas after - before...}, or nothing natively. */
void plat_out_counters(struct bench_out *b, const struct plat_counters *before,
		       const struct plat_counters *after);

/*
 * The measured window's edges, for an observer outside the VM: in the guest,
 * a line "BENCH WINDOW BEGIN" (or END) on the console, then PLAT_WINDOW_SETTLE_US
 * of busy idle (no exits), so that scripts/bench, which reads KVM's exit
 * counters when it sees the line, reads them while nothing is measured and
 * nothing else is printed.  Reading them during the run would cost the run
 * (an observer effect); reading them only here makes the counts cover the
 * measured period and nothing else (benchlib/exitwindow.py).  Natively: nothing.
 * Call begin before the window's first clock read, end after its last one.
 */
#define PLAT_WINDOW_SETTLE_US 200000u
void plat_window_begin(void);
void plat_window_end(void);

/*
 * Pipelined sends (stream).  plat_send() hands len bytes of buf to fd and
 * returns once at most `depth` sends are still in flight; buf must stay
 * unchanged until plat_drain().  With depth 1 (and always natively, where
 * send() already returns once the kernel has buffered the data) it is a
 * plain blocking send of all len bytes.  Both return 0 or -1 (errno set).
 * *bytes_done counts the bytes whose sends completed.
 */
int plat_sender_init(unsigned depth);
int plat_send(int fd, const void *buf, size_t len, uint64_t *bytes_done);
int plat_drain(uint64_t *bytes_done);
/* Depth in effect (1 natively). */
unsigned plat_depth(void);

#ifdef VS_GUEST
/* crr (crr_chain.c, guest only): connect, send o->size bytes of req, receive
 * as many into rep, close, as one chain of linked requests.  0, -1 after
 * saying why, or CRR_CHAIN_UNFIT: a chain cannot do it (e.g. a message over
 * what one bounce-mode request carries): use plain calls. */
#define CRR_CHAIN_UNFIT 1
int crr_chain_exchange(const struct bench_opts *o, const void *req, void *rep);
#endif

#endif /* BENCH_PLATFORM_H */
