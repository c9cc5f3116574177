/* SPDX-License-Identifier: MIT */
/*
 * libvirtsocket: the guest's socket library over the virtsocket rings.
 *
 * Requests go into this vCPU's submission ring in memory shared with the
 * host; the host's workers do the real socket calls and post completions.
 * The library decides when to ring the doorbell (the "scheduler", see
 * vs_transport.notify) so that a batch of requests costs one VM exit, or
 * none at all while the host is polling.
 *
 * Three layers, each built on the one before:
 *   1. vs_init()                      - bind the library to a transport
 *   2. vs_prep_*() / vs_submit() /    - asynchronous: prepare many requests,
 *      vs_flush() / vs_wait() /          hand them over, reap completions
 *      vs_reap()                         (what batching is for)
 *   3. vs_socket() ... vs_poll()      - blocking socket calls, one request each
 * (The POSIX-named wrappers socket(), send(), ... live in guest-lib/posix/
 * and exist only in the freestanding guest build.)
 *
 * Portability: everything platform-specific comes in through struct
 * vs_transport, so the same code runs in the guest kernel and in host unit
 * tests (where the "guest" is a malloc'ed buffer and hostnet the other end).
 *
 * Errors: every function returns >= 0 on success or -errno (VS_E* values in
 * virtsocket/vs_errno.h, which are Linux's).
 *
 * Threads: each CPU uses its own queue, chosen by transport.cpu_id().  The
 * library takes no locks: a queue must never be used from two CPUs (or an
 * interrupt handler and its CPU) at the same time.  vs_init() runs once,
 * before any CPU calls anything else.
 */
#ifndef VIRTSOCKET_VSOCK_H
#define VIRTSOCKET_VSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtsocket/abi.h"
#include "virtsocket/vs_errno.h"

/* ------------------------------------------------------------------------
 * The platform
 * ------------------------------------------------------------------------ */

#define VS_GPA_INVALID      UINT64_MAX /* virt_to_gpa(): not guest-addressable */
/* transport.batch == 0: abi.h's VS_DEFAULT_BATCH */
#define VS_DEFAULT_SPIN_NS  (VS_DEFAULT_SPIN_US * 1000u) /* transport.spin_ns == 0 (adaptive) */

struct vs_transport {
	void *ring;           /* virtual address of the ring slot */
	uint64_t ring_gpa;    /* its guest-physical address (page aligned) */
	uint64_t ring_bytes;  /* >= nr_queues * VS_QUEUE_BYTES */
	uint32_t nr_queues;   /* 1 .. VS_MAX_QUEUES, one per CPU */
	uint32_t notify;      /* enum vs_notify_mode: when to ring */
	uint32_t copy;        /* enum vs_copy_mode: zero copy or bounce */
	uint32_t batch;       /* largest batch, 1 .. VS_SQ_ENTRIES (0: VS_DEFAULT_BATCH) */
	uint32_t spin_ns;     /* adaptive: before a WAIT doorbell, poll the CQ at most
	                         this long (0: VS_DEFAULT_SPIN_NS) */
	uint32_t reserved;
	void *ctx;            /* passed to every callback below */
	/* Ring the doorbell with a2 = VS_DB_ARG(queue, flags, wait_ms); returns
	 * what the host put in rax (completions ready, or -errno).  Hypercall:
	 * rax=VS_HC_NR rbx=ring_gpa rcx=ring pages rdx=a2; port I/O: outl
	 * (uint32_t)a2 to VS_PORT_DOORBELL, result in rax. */
	int64_t (*doorbell)(void *ctx, uint64_t a2);
	/* Guest-physical address of p (identity in the guest kernel), or
	 * VS_GPA_INVALID if the host cannot reach it.  Every buffer handed to a
	 * request in zero-copy mode, and the state memory given to vs_init(),
	 * must be guest-addressable. */
	uint64_t (*virt_to_gpa)(void *ctx, const void *p);
	uint64_t (*now_ns)(void *ctx);   /* monotonic clock (timeouts, adaptive spin) */
	uint32_t (*cpu_id)(void *ctx);   /* this CPU's index = its queue (NULL: 0) */
};

/*
 * Bytes of state memory vs_init() needs for nr_queues queues.  The state
 * holds the per-request records, including small buffers the host writes
 * (socket addresses), so it must be guest-addressable (guest RAM); align it
 * to 64 bytes.
 */
#define VS_STATE_BYTES_PER_QUEUE 98304u /* mostly a record per SQ entry (VS_MAX_INFLIGHT) */
#define VS_STATE_BYTES(nr_queues) ((size_t)(nr_queues) * VS_STATE_BYTES_PER_QUEUE)
size_t vs_state_bytes(uint32_t nr_queues);

/*
 * Bind the library to a transport.  Copies *t; the rings and the state
 * memory must stay mapped for as long as the library is used.  Takes the
 * rings' current indices as its starting point.  Returns 0, -EINVAL (bad
 * transport: says nothing more; check the fields against the comments
 * above), or -ENOSPC (state too small: see VS_STATE_BYTES).
 */
int vs_init(const struct vs_transport *t, void *state, size_t state_bytes);

/* Forget the transport (nothing is sent to the host).  vs_init() may follow. */
void vs_fini(void);

/* Has vs_init() succeeded? */
bool vs_ready(void);

/*
 * The POSIX layer (guest build) calls this before its first request when
 * the library is not ready yet.  The guest kernel provides it (in
 * guest-kernel/net/): build the transport from the boot info and vs_init()
 * it, once, safely when several vCPUs race to it.  Returns 0 or -errno.
 * The library's own weak default returns -ENETDOWN.
 */
int vs_platform_init(void);

/* ------------------------------------------------------------------------
 * Statistics (per queue, or summed over all queues)
 * ------------------------------------------------------------------------ */
struct vs_stats {
	uint64_t requests;          /* SQEs published to the host */
	uint64_t completions;       /* CQEs consumed */
	uint64_t batches;           /* hand-overs of >= 1 published request, rung or skipped */
	uint64_t doorbells;         /* doorbells rung (= VM exits caused) */
	uint64_t doorbells_submit;  /* ... carrying VS_DB_SUBMIT */
	uint64_t doorbells_wait;    /* ... carrying VS_DB_WAIT */
	uint64_t doorbells_skipped; /* adaptive: hand-overs without a doorbell (host polling) */
	uint64_t spin_hits;         /* adaptive: waits that the CQ spin satisfied */
	uint64_t spins_skipped;     /* adaptive: waits that went to WAIT at once: recent
	                               spins did not pay (busy host) */
	uint64_t spins_crowded;     /* adaptive: waits for one socket with many requests
	                               with the host, judged apart (spin_backoff.h) */
	uint64_t waits_long;        /* adaptive: vs_wait()s with many requests out that
	                               went to WAIT at once: such waits run long here
	                               (spin_backoff.h, "Long waits") */
	uint64_t batch_waits;       /* adaptive: WAITs of waits for any of many requests
	                               asking for a batch (crowd_batch.h) */
	uint64_t batch_timeouts;    /* ... that ended at their time limit, short of it */
	uint64_t spins_capped;      /* adaptive: spins that reached their cap with nothing */
	uint64_t spins_late;        /* adaptive: spin hits seen only after the cap had
	                               passed (the vCPU was off its CPU mid-spin) */
	uint64_t sq_full_waits;     /* waits for room in a full SQ that slept (adaptive:
	                               after a short spin; ring.c) */
	uint64_t bounce_bytes;      /* payload bytes copied through the bounce area */
	uint64_t bad_completions;   /* CQEs naming no request of ours (host bug) */
};

void vs_get_stats(struct vs_stats *out);                  /* all queues */
int vs_get_queue_stats(uint32_t queue, struct vs_stats *out);

/* ------------------------------------------------------------------------
 * Asynchronous API (this CPU's queue)
 *
 * vs_prep_*() fills one submission entry; the host sees nothing until
 * vs_submit() (or any call that waits) hands the prepared entries to the
 * scheduler.  Each request carries the caller's user_data, returned in its
 * completion.  A prep returns 0, -EBUSY when the ring, the request table
 * (VS_MAX_INFLIGHT requests between prep and reap) or the bounce area is
 * full (reap completions, then retry), or an argument error.
 *
 * Buffers: in zero-copy mode the host reads/writes the caller's buffer
 * directly, so it must be guest-addressable and stay valid (and, for a
 * receive, untouched) until the request's completion is reaped.  In bounce
 * mode the payload is copied into the queue's bounce area at prep time
 * (send) or out of it when the completion arrives (receive); one request
 * then carries at most VS_BOUNCE_MAX_REQUEST bytes (longer ones are
 * shortened: the result says how many bytes moved).  Socket addresses the
 * host fills (accept, recvfrom, getsockname, getpeername) are staged by the
 * library and copied to the caller's struct when the completion arrives, so
 * that struct needs to stay valid but not be guest-addressable.
 * ------------------------------------------------------------------------ */

#define VS_MAX_INFLIGHT       VS_SQ_ENTRIES   /* < VS_CQ_ENTRIES: the CQ never overflows */
#define VS_BOUNCE_CHUNK       4096u
#define VS_BOUNCE_MAX_REQUEST (64u * 1024u)

/* send/recv flags (Linux MSG_* values).  VS_MSG_PEEK and VS_MSG_WAITALL are
 * in abi.h; these two are the library's own. */
#define VS_MSG_DONTWAIT 0x40u   /* -EAGAIN instead of waiting (VS_SQE_NONBLOCK) */
#define VS_MSG_NOSIGNAL 0x4000u /* accepted and ignored: the host never raises SIGPIPE */

/* One completion as the caller sees it. */
struct vs_completion {
	uint64_t user_data;
	int32_t result;   /* >= 0 per opcode (abi.h), or -errno */
	uint32_t flags;   /* VS_CQE_* */
};

int vs_prep_nop(uint64_t user_data);
int vs_prep_socket(int domain, int type, uint64_t user_data);
int vs_prep_connect(int s, const struct vs_sockaddr *addr, uint64_t user_data);
int vs_prep_bind(int s, const struct vs_sockaddr *addr, uint64_t user_data);
int vs_prep_listen(int s, int backlog, uint64_t user_data);
int vs_prep_accept(int s, struct vs_sockaddr *peer /* or NULL */, uint64_t user_data);
int vs_prep_send(int s, const void *buf, size_t len, unsigned flags, uint64_t user_data);
int vs_prep_recv(int s, void *buf, size_t len, unsigned flags, uint64_t user_data);
int vs_prep_sendto(int s, const void *buf, size_t len, unsigned flags,
		   const struct vs_sockaddr *to, uint64_t user_data);
int vs_prep_recvfrom(int s, void *buf, size_t len, unsigned flags,
		     struct vs_sockaddr *from /* or NULL */, uint64_t user_data);
int vs_prep_shutdown(int s, int how, uint64_t user_data);
int vs_prep_close(int s, uint64_t user_data);
int vs_prep_setsockopt(int s, int level, int name, int64_t value, uint64_t user_data);
int vs_prep_getsockopt(int s, int level, int name, uint64_t user_data);
int vs_prep_getsockname(int s, struct vs_sockaddr *out, uint64_t user_data);
int vs_prep_getpeername(int s, struct vs_sockaddr *out, uint64_t user_data);
int vs_prep_poll(int s, unsigned events, uint64_t user_data);
/* Cancel the oldest pending request with user_data == target (-ENOENT if none). */
int vs_prep_cancel(uint64_t target, uint64_t user_data);

/*
 * Chains: link the request prepared last to the next one prepared on this
 * CPU, so the host runs the next one only after this one succeeded (abi.h,
 * VS_SQE_LINK, says exactly what "succeeded" means).  If a link fails, every
 * later link of the chain completes with -VS_ECHAINBROKEN without running.
 * A link names the socket an earlier SOCKET or ACCEPT of its chain creates
 * with VS_CHAIN_SOCKET.  A connection in one hand-over and one wait:
 *
 *   vs_prep_socket(VS_AF_INET, VS_SOCK_STREAM, 1);               vs_prep_link();
 *   vs_prep_connect(VS_CHAIN_SOCKET, &peer, 2);                  vs_prep_link();
 *   vs_prep_send(VS_CHAIN_SOCKET, req, n, 0, 3);                 vs_prep_link();
 *   vs_prep_recv(VS_CHAIN_SOCKET, rep, n, VS_MSG_WAITALL, 4);    vs_prep_link();
 *   vs_prep_close(VS_CHAIN_SOCKET, 5);
 *   vs_wait(5, -1);  ... vs_reap(): five completions, in this order
 *
 * The chain goes on with whatever this CPU prepares next, so prepare its
 * links back to back: a blocking call (vs_send() ...) made between them
 * would become a link itself.  End a chain with a request that is not
 * linked.  Returns 0, or -EINVAL when nothing has been prepared since the
 * last hand-over to the host (a request already handed over cannot be
 * changed).  If a request after a linked one fails to prepare, end the
 * chain with a vs_prep_nop() so the host does not wait for more links.
 * (Keep the SOCKET's handle from its completion to close the socket if the
 * chain broke before its CLOSE.)
 */
#define VS_CHAIN_SOCKET ((int)-2147483647 - 1) /* INT32_MIN: the host's VS_HANDLE_CHAIN */
int vs_prep_link(void);

/*
 * Hand every prepared request to the scheduler; returns how many.  The
 * scheduler publishes them to the SQ and rings per its mode: every: one
 * SUBMIT per request; batch: one SUBMIT per full batch (transport.batch
 * requests); adaptive: as batch, skipped while the host polls.  A partial
 * batch waits in the SQ, unrung, until the batch fills, the caller waits
 * (vs_wait() or any blocking call) or calls vs_flush().
 */
int vs_submit(void);
/* vs_submit(), then make sure the host knows about every published request
 * (rings unless adaptive mode sees the host polling).  Returns 0 or -errno. */
int vs_flush(void);
/*
 * Submit, then wait until at least min completions are ready to reap, or
 * timeout_ms passes (< 0: forever; 0: just check).  Returns the number
 * ready, -ETIMEDOUT, or -EINTR (the host is stopping the VM).
 */
int vs_wait(unsigned min, int timeout_ms);
/*
 * vs_wait() for a wait the caller knows is long (a chain with network round
 * trips in it, e.g. a whole connection): in adaptive mode it does not poll
 * the CQ first but sleeps in one WAIT doorbell at once, leaving the CPU to
 * the host's worker and peers instead of spinning on it.  Elsewhere as
 * vs_wait().
 */
int vs_wait_long(unsigned min, int timeout_ms);
/* Copy up to max ready completions out (oldest first); never blocks. */
int vs_reap(struct vs_completion *out, unsigned max);
/* Requests prepared or pending, not yet reaped. */
unsigned vs_inflight(void);

/* ------------------------------------------------------------------------
 * Blocking socket API.  A socket is the host's handle (>= 0).
 * ------------------------------------------------------------------------ */

struct vs_pollfd {
	int fd;
	short events;   /* VS_POLLIN | VS_POLLOUT */
	short revents;  /* filled: ready events, VS_POLLERR/VS_POLLHUP, or VS_POLLNVAL */
};
#define VS_POLLNVAL 0x020u  /* fd < 0 or not a socket (Linux value) */

int vs_socket(int domain, int type);
int vs_connect(int s, const struct vs_sockaddr *addr);
/* flags VS_MSG_DONTWAIT: do not wait; connect: -EINPROGRESS and the host goes on
 * connecting (vs_poll for VS_POLLOUT, then VS_SO_ERROR); accept: -EAGAIN. */
int vs_connect_flags(int s, const struct vs_sockaddr *addr, unsigned flags);
int vs_accept_flags(int s, struct vs_sockaddr *peer /* or NULL */, unsigned flags);
int vs_bind(int s, const struct vs_sockaddr *addr);
int vs_listen(int s, int backlog);
int vs_accept(int s, struct vs_sockaddr *peer /* or NULL */);
/* A stream send returns only once all of buf went out (or an error after
 * some did: then the count so far).  Except a VS_MSG_DONTWAIT send of at most
 * 64 KiB on a VS_FD_STREAM descriptor (vs_set_allocator given): copied, handed to
 * the host with the next batch and not waited for; its failure is reported by the
 * descriptor's next send (or VS_SO_ERROR).  A recv on a descriptor with a
 * read-ahead (vs_epoll.h) is served from that buffer first. */
int64_t vs_send(int s, const void *buf, size_t len, unsigned flags);
int64_t vs_recv(int s, void *buf, size_t len, unsigned flags);
int64_t vs_sendto(int s, const void *buf, size_t len, unsigned flags,
		  const struct vs_sockaddr *to);
int64_t vs_recvfrom(int s, void *buf, size_t len, unsigned flags,
		    struct vs_sockaddr *from /* or NULL */);
int vs_shutdown(int s, int how);
int vs_close(int s);
int vs_setsockopt(int s, int level, int name, int value);
int vs_getsockopt(int s, int level, int name, int *value);
int vs_getsockname(int s, struct vs_sockaddr *out);
int vs_getpeername(int s, struct vs_sockaddr *out);
/* Wait until one of fds is ready or timeout_ms passes (< 0: forever);
 * returns how many have revents != 0 (0 on timeout).  At most
 * VS_POLL_MAX fds. */
#define VS_POLL_MAX 64u
int vs_poll(struct vs_pollfd *fds, unsigned nfds, int timeout_ms);

/* ------------------------------------------------------------------------
 * Descriptors (fd.c): the small numbers the POSIX layer hands out, as POSIX
 * does (lowest free first from VS_FD_FIRST; 0-2 are the console's).  Each
 * stands for a handle; every call above takes either a handle or such a
 * descriptor (a handle is never below abi.h's VS_HANDLE_MIN; a number that is neither
 * goes to the host as it is, which answers -EBADF).  Closing a handle does not
 * free the descriptor that stands for it: vs_fd_release() does.
 * ------------------------------------------------------------------------ */
#define VS_FD_FIRST   3
#define VS_FD_MAX     65536     /* as many as hostnet's --max-sockets allows; select()
                                   takes those below FD_SETSIZE (1024), poll() and
                                   epoll any */
#define VS_FD_NONBLOCK 0x1u     /* vs_fd_flags(): O_NONBLOCK was set */
#define VS_FD_STREAM   0x2u     /* a connected (or connecting) stream socket: read-ahead
                                   and non-blocking sends may serve it without a round
                                   trip per call (vs_set_allocator) */

int vs_fd_open(int handle, unsigned flags);      /* the new descriptor, or -EMFILE */
int vs_fd_handle(int fd);                        /* its handle, or -EBADF */
int vs_fd_flags(int fd);                         /* VS_FD_* or -EBADF */
int vs_fd_set_flags(int fd, unsigned flags);
int vs_fd_release(int fd);                       /* 0 or -EBADF */
/* Close a descriptor and its socket: its non-blocking sends go out first, then
 * the descriptor is released (even if the close fails) and the socket closed. */
int vs_fd_close(int fd);

/*
 * Memory for the fast paths of VS_FD_STREAM descriptors: a read-ahead buffer
 * (2 KiB) per descriptor watched for input by an interest set, and copies of
 * non-blocking sends until the host sent them (at most 64 KiB per socket, 4 MiB in
 * all).  alloc(ctx, bytes) returns guest-addressable memory, 16-byte aligned, or
 * NULL; the library takes it in slabs and keeps it for reuse.  Without an
 * allocator (or in bounce mode) every call is one request as before.  The POSIX
 * layer gives malloc.  A descriptor served this way is used from one CPU.
 */
void vs_set_allocator(void *(*alloc)(void *ctx, size_t bytes), void *ctx);

/* Socket address helpers (port in host order, addresses in network order). */
void vs_sockaddr_in(struct vs_sockaddr *sa, const uint8_t ip[4], uint16_t port);
void vs_sockaddr_in6(struct vs_sockaddr *sa, const uint8_t ip[16], uint16_t port);

#endif /* VIRTSOCKET_VSOCK_H */
