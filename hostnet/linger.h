/* SPDX-License-Identifier: MIT */
/*
 * Closing a guest's TCP socket without leaving an uncounted orphan.
 *
 * close() on a connection the kernel still has data on (unsent, or sent and
 * not yet acknowledged) leaves an orphan that keeps its send queue until the
 * peer takes it or minutes of retries run out.  A guest that fills sockets
 * with data and closes them would hold that memory outside its --max-sockets.
 * So CLOSE of such a connection (SO_LINGER-like, without blocking the worker):
 *   - takes one reserved place in the handle table (handle_table.h) for it,
 *     and sends the FIN after the data (shutdown(SHUT_WR));
 *   - keeps the fd, watched by the closing worker, until the connection is
 *     closed both ways (then close() leaves nothing but the kernel's data-less
 *     TIME_WAIT entry), or until HN_LINGER_MS pass: then it is reset
 *     (SO_LINGER 0: no orphan), like a lingering close that timed out;
 *   - if no place is left, resets it at once;
 *   - with data the guest never read, or data arriving after the CLOSE, it is
 *     reset as the kernel resets a closed socket in that case (the peer sees
 *     ECONNRESET, as it would with a plain close()).
 * A connection that owes the peer nothing (TCP_INFO: no byte unsent, none
 * unacknowledged) and has nothing unread is closed at once, like the host's
 * own programs close: its orphan holds no payload, only the FIN close() sends
 * (and, once that is acknowledged, the kernel's TIME_WAIT entry); data that
 * comes after it is reset by the kernel.  crr's connections end this way: one
 * TCP_INFO and the close(), not a lingering close's five calls.
 * Other sockets (UDP, listeners, never connected) are closed at once.
 * When the VM stops, the connections still lingering are closed plainly
 * (hn_linger_release): the kernel delivers what they owe, as it does for a
 * host program that exits.
 */
#ifndef VS_HOSTNET_LINGER_H
#define VS_HOSTNET_LINGER_H

#include <stdbool.h>
#include <stdint.h>

struct hn_handle_table;

#define HN_LINGER_MS      10000u
/* epoll_event.data.u64 of a lingering socket: HN_LINGER_TAG + its slot (handles are
 * < 2^31, slots < 2^16, and the worker's eventfd is UINT64_MAX). */
#define HN_LINGER_TAG     (1ull << 40)
#define HN_LINGER_IS_TAG(u64) ((u64) >= HN_LINGER_TAG && (u64) < HN_LINGER_TAG + (1ull << 32))
/* How often a worker with lingering sockets looks at them anyway. */
#define HN_LINGER_POLL_MS 20
/* ... and how many it looks at then, besides those past their deadline: a safety
 * net for a state change without an event, bounded so a tick never walks them all. */
#define HN_LINGER_SWEEP   32u

#define HN_LINGER_NONE    UINT32_MAX

/* One lingering socket, in a slot that stays put (its epoll tag names it). */
struct hn_linger {
	int fd;                  /* -1: a free slot */
	uint32_t prev, next;     /* deadline order (oldest first), or the free list (next) */
	uint64_t deadline_ns;
};

/* One worker's lingering sockets, watched by its epoll set.  Each event checks its
 * own socket; a tick finishes those past their deadline, oldest first, and sweeps a
 * few more: no work grows with the number lingering. */
struct hn_linger_set {
	struct hn_handle_table *handles; /* where their places are reserved */
	int epfd;
	struct hn_linger *v;             /* cap slots */
	uint32_t n, cap;                 /* cap: max_sockets, places bound n */
	uint32_t free_head;
	uint32_t oldest, newest;         /* deadline order */
	uint32_t sweep;                  /* next slot the tick's sweep looks at */
	uint64_t checked_ns;
};

/* 0 or -ENOMEM; hn_linger_release() undoes it (also after a failure). */
int hn_linger_init(struct hn_linger_set *l, struct hn_handle_table *handles, int epfd,
		   uint32_t cap);
/* Close every lingering socket plainly (the kernel delivers what it owes)
 * and free the set (the VM ends: places are not given back). */
void hn_linger_release(struct hn_linger_set *l);

/* Close fd (a guest socket of type, nothing but the caller's): at once, or
 * lingering as above.  Takes over fd.  watched_by: the epoll set that watches
 * fd now (-1: none); it leaves that set either way.  place: the caller reserved
 * the place a lingering close takes (hn_handles_reserve(), before the guest
 * could take it back with a new socket); given back unless used.  false: no
 * place was left, a connection with work left is reset.  consumed: the bytes
 * the guest read from it (HN_TCP_UNKNOWN: unknown), so that a connection with
 * nothing unread is seen without a peek. */
void hn_linger_close(struct hn_linger_set *l, int fd, int type, int watched_by, bool place,
		     uint64_t consumed);

/* An epoll event with tag (HN_LINGER_IS_TAG): finish that socket if it is done. */
void hn_linger_event(struct hn_linger_set *l, uint64_t tag, uint64_t now_ns);
/* At most every HN_LINGER_POLL_MS: finish those past their deadline (reset) and
 * any of a few swept that are done. */
void hn_linger_tick(struct hn_linger_set *l, uint64_t now_ns);

#endif
