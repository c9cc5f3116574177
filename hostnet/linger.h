/* SPDX-License-Identifier: MIT */
/*
 * Closing a guest's TCP socket without leaving an uncounted orphan.
 *
 * close() on a connection the kernel still has work on (unsent or unacked
 * data, a FIN to send or to wait for) leaves an orphan that keeps its send
 * queue until the peer takes it or minutes of retries run out.  A guest that
 * fills sockets with data and closes them would hold that memory outside its
 * --max-sockets.  So CLOSE of such a connection (SO_LINGER-like, without
 * blocking the worker):
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
 * Other sockets (UDP, listeners, never connected) are closed at once.
 */
#ifndef VS_HOSTNET_LINGER_H
#define VS_HOSTNET_LINGER_H

#include <stdint.h>

struct hn_handle_table;

#define HN_LINGER_MS      10000u
/* epoll_event.data.u64 of a lingering socket (handles are < 2^31). */
#define HN_LINGER_TAG     (UINT64_MAX - 1)
/* How often a worker with lingering sockets looks at them anyway. */
#define HN_LINGER_POLL_MS 20

struct hn_linger {
	int fd;
	uint64_t deadline_ns;
};

/* One worker's lingering sockets, watched by its epoll set. */
struct hn_linger_set {
	struct hn_handle_table *handles; /* where their places are reserved */
	int epfd;
	struct hn_linger *v;
	uint32_t n, cap;                 /* cap: max_sockets, places bound n */
	uint64_t checked_ns;
};

/* 0 or -ENOMEM; hn_linger_release() undoes it (also after a failure). */
int hn_linger_init(struct hn_linger_set *l, struct hn_handle_table *handles, int epfd,
		   uint32_t cap);
/* Reset every lingering socket and free the set (the VM ends: places are
 * not given back). */
void hn_linger_release(struct hn_linger_set *l);

/* Close fd (a guest socket of type, out of every epoll set): at once, or
 * lingering as above.  Takes over fd. */
void hn_linger_close(struct hn_linger_set *l, int fd, int type);

/* Finish the lingering sockets that are done or past their deadline
 * (every call looks; hn_linger_tick() at most every HN_LINGER_POLL_MS). */
void hn_linger_poll(struct hn_linger_set *l, uint64_t now_ns);
void hn_linger_tick(struct hn_linger_set *l, uint64_t now_ns);

#endif
