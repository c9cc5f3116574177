/* SPDX-License-Identifier: MIT */
/*
 * What a socket's last try taught us about one direction (receive or send),
 * so that an operation that would only hear EAGAIN again parks without a
 * system call (io_uring's IORING_RECVSEND_POLL_FIRST, decided by the host).
 *
 * `edges` counts the readiness events the socket's owner worker has seen for
 * this direction (atomic: events are handled by the creating worker, while
 * operations may run on any worker, under the socket's lock).  A try reads
 * the count BEFORE its system call; if the call says "not ready" (EAGAIN, or
 * for a stream a short read or send) the direction is not ready "as of" that
 * count.  Any edge that comes during or after the call changes the count, so
 * the next operation tries again: an edge is never lost.  Until then it is
 * parked at once, and the owner's event retries it.
 *
 * Only ever a reason to skip a call that would fail: forgetting (a POLL that
 * saw the direction ready, a SHUTDOWN) is always safe.
 */
#ifndef VS_HOSTNET_READINESS_H
#define VS_HOSTNET_READINESS_H

#include <stdatomic.h>
#include <stdbool.h>

struct hn_readiness {
	atomic_uint edges;  /* readiness events seen (the owner worker bumps it) */
	unsigned as_of;     /* edges when the last try found it not ready ... */
	bool not_ready;     /* ... if it did (both under the socket's lock) */
};

/* Before a system call (socket locked): *edges is the count to remember if
 * the call says "not ready".  True: nothing changed since the last try said
 * so; skip the call, the request waits for the next edge. */
static inline bool hn_readiness_known_not(struct hn_readiness *d, unsigned *edges)
{
	*edges = atomic_load(&d->edges);
	if (d->not_ready && d->as_of == *edges)
		return true;
	d->not_ready = false; /* stale; the call about to be made says anew */
	return false;
}

/* The call made after hn_readiness_known_not() returned `edges` found the
 * direction not ready (socket locked). */
static inline void hn_readiness_not(struct hn_readiness *d, unsigned edges)
{
	d->not_ready = true;
	d->as_of = edges;
}

/* A fresh look found it ready, or our own call changed it (socket locked). */
static inline void hn_readiness_forget(struct hn_readiness *d)
{
	d->not_ready = false;
}

/* A readiness event for this direction (the owner worker, any lock). */
static inline void hn_readiness_edge(struct hn_readiness *d)
{
	atomic_fetch_add(&d->edges, 1);
}

#endif
