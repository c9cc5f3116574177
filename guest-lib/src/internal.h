/* SPDX-License-Identifier: MIT */
/*
 * libvirtsocket internals: the guest's view of one queue and of one request.
 *
 * Request life cycle (one record per request, in the caller's state memory):
 *   FREE -> PENDING (SQE written; published by a later submit, then the
 *                    host owns it until its CQE arrives)
 *        -> DONE    (CQE consumed, bounce copied out; waiting to be reaped)
 *        -> FREE
 * The SQE's user_data is the record's tag (generation << 16 | index), not
 * the caller's: the record keeps the caller's user_data, and the tag finds
 * the record again when the completion arrives.
 */
#ifndef VS_GUESTLIB_INTERNAL_H
#define VS_GUESTLIB_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crowd_batch.h"
#include "spin_backoff.h"
#include "virtsocket/vsock.h"

#define VS_BOUNCE_CHUNKS     (VS_BOUNCE_BYTES / VS_BOUNCE_CHUNK)
#define VS_BOUNCE_MAP_WORDS  (VS_BOUNCE_CHUNKS / 64u)
#define VS_REQ_NONE          0xffffu

enum vs_req_state {
	VS_REQ_FREE = 0,
	VS_REQ_PENDING,
	VS_REQ_DONE,
};

enum vs_req_owner {
	VS_OWNER_ASYNC = 0, /* the caller reaps it with vs_reap() */
	VS_OWNER_SYNC,      /* a blocking call waits for it and frees it */
	VS_OWNER_ORPHAN,    /* its blocking call gave up (-EINTR): free on completion */
};

struct vs_req {
	struct vs_sockaddr addr_stage; /* host-written sockaddr lands here first */
	uint64_t user_data;            /* the caller's */
	void *copy_out;                /* bounce recv: the caller's buffer */
	struct vs_sockaddr *addr_out;  /* the caller's sockaddr to fill, or NULL */
	uint32_t copy_len;             /* bounce recv: bytes copy_out can take */
	int32_t result;
	uint32_t cqe_flags;
	uint16_t gen;                  /* bumped on every reuse: stale tags are refused */
	uint16_t next;                 /* free list / done list link */
	uint16_t bounce_first;         /* first bounce chunk, VS_REQ_NONE if none */
	uint16_t bounce_count;
	uint8_t state;                 /* enum vs_req_state */
	uint8_t owner;                 /* enum vs_req_owner */
	uint8_t opcode;
	uint8_t pad[5];
};

/* The guest's private state for one queue (the ring itself, shared with the
 * host, is struct vs_queue in abi.h). */
struct vs_queue_state {
	struct vs_queue *ring;   /* this queue in the ring slot */
	uint64_t gpa;            /* its guest-physical address */
	uint32_t index;
	uint32_t sq_prepared;    /* next SQE to fill (local tail) */
	uint32_t sq_published;   /* last value stored to ctrl.sq_tail */
	uint32_t unrung;         /* published but not yet handed over by a doorbell */
	uint32_t cq_head;        /* local copy of ctrl.cq_head */
	uint32_t used;           /* records not FREE */
	uint16_t free_head;      /* free records, a stack */
	uint16_t done_head;      /* DONE async records, oldest first */
	uint16_t done_tail;
	uint16_t no_spin;        /* this wait rings WAIT at once (vs_wait_long) */
	struct vs_spin_backoff spin_backoff; /* adaptive: skip spins that do not pay */
	struct vs_spin_backoff crowd_backoff; /* the same for crowded spins */
	uint64_t crowd_capped_ns; /* a crowded spin reached its cap then, to be
	                             judged by its WAIT (sched.c); 0: none */
	struct vs_crowd_batch crowd_batch;   /* adaptive: crowded any-waits' batch size */
	uint16_t wait_any;       /* this wait is vs_sched_wait_any's */
	uint64_t crowd_wait_ns;  /* adaptive: how long vs_wait()s with many requests
	                            out last (spin_backoff.h, "Long waits"); 0: none yet */
	uint32_t done_count;
	uint32_t broken;         /* host flagged VS_QF_BROKEN or sent nonsense */
	uint64_t bounce_map[VS_BOUNCE_MAP_WORDS]; /* bit set = chunk in use */
	struct vs_stats stats;
	struct vs_req req[VS_MAX_INFLIGHT];
};

struct vs_lib {
	struct vs_transport t;
	struct vs_queue_state *queues;    /* t.nr_queues of them, in the caller's state memory */
	bool ready;
};

extern struct vs_lib vs_lib;

_Static_assert(VS_MAX_INFLIGHT < VS_CQ_ENTRIES, "more requests than CQ slots");
_Static_assert(VS_MAX_INFLIGHT < VS_REQ_NONE, "request index fits 16 bits");
_Static_assert(VS_BOUNCE_CHUNKS % 64u == 0, "bounce map words");
_Static_assert(VS_BOUNCE_CHUNKS < VS_REQ_NONE, "bounce chunk index fits 16 bits");
_Static_assert(sizeof(struct vs_queue_state) <= VS_STATE_BYTES_PER_QUEUE,
	       "VS_STATE_BYTES_PER_QUEUE too small");

/* (index atomics: abi.h's vs_load_acquire / vs_store_release) */
static inline void vs_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* ---- init.c: this CPU's queue */
struct vs_queue_state *vs_this_queue(void);

/* ---- request.c: request records */
struct vs_req *vs_req_alloc(struct vs_queue_state *q);
void vs_req_free(struct vs_queue_state *q, struct vs_req *r);
static inline uint16_t vs_req_index(const struct vs_queue_state *q, const struct vs_req *r)
{
	return (uint16_t)(r - q->req);
}
static inline uint64_t vs_req_tag(const struct vs_queue_state *q, const struct vs_req *r)
{
	return ((uint64_t)r->gen << 16) | vs_req_index(q, r);
}

/* ---- bounce.c: the bounce area's chunks */
int vs_bounce_alloc(struct vs_queue_state *q, struct vs_req *r, uint32_t bytes);
void vs_bounce_free(struct vs_queue_state *q, struct vs_req *r);
void *vs_bounce_ptr(struct vs_queue_state *q, const struct vs_req *r);
uint64_t vs_bounce_gpa(struct vs_queue_state *q, const struct vs_req *r);

/* ---- ring.c: producer / consumer halves */
uint32_t vs_sq_space(struct vs_queue_state *q);
struct vs_sqe *vs_sq_next(struct vs_queue_state *q);    /* caller checked vs_sq_space() */
void vs_sq_publish(struct vs_queue_state *q, uint32_t upto);
int vs_cq_drain(struct vs_queue_state *q);             /* consume every CQE: 0 or -EIO */
/* Write sqe (user_data included) into the SQ, waiting for a free slot: for the
 * library's own requests that need no record (interest sets, streams). */
int vs_sq_put(struct vs_queue_state *q, const struct vs_sqe *sqe);
/* Wait until the SQ has a free slot (the host copies entries out as it can: an
 * interest set's POLLs may fill it with no record in use).  0 or -errno. */
int vs_sq_wait_room(struct vs_queue_state *q);

/* ---- sched.c: when to ring */
int vs_sched_submit(struct vs_queue_state *q, bool caller_waits);
int vs_sched_flush(struct vs_queue_state *q);
/* What a waiter waits for: how many more completions it needs before it can
 * go on (0: it can; 1 when it cannot tell).  A WAIT doorbell asks the host
 * for that many (queue_ctrl.wait_min), so it never returns too early. */
typedef uint32_t (*vs_wait_cond)(struct vs_queue_state *q, void *arg);
/* Requests with the host: published, not yet completed (what makes a wait
 * crowded, crowd_batch.h). */
static inline uint64_t vs_with_host(const struct vs_queue_state *q)
{
	return q->stats.requests - q->stats.completions;
}
int vs_sched_wait(struct vs_queue_state *q, vs_wait_cond cond, void *arg, int64_t timeout_ns);
/* The same for a readiness wait on whichever of many sockets comes first
 * (epoll_wait, poll): with many requests with the host it sleeps for a batch
 * instead of spinning (crowd_batch.h).  Every other wait spins first: one
 * socket's progress (a sender waiting for room, a blocking call), and
 * vs_wait(min), which cannot tell a server's receives from a sender's sends
 * (the stream bench's sender waits there). */
int vs_sched_wait_any(struct vs_queue_state *q, vs_wait_cond cond, void *arg, int64_t timeout_ns);

/* ---- prep.c: reserve a record and an SQE, attach buffers, fill */
struct vs_attach {
	const void *send_buf;          /* payload the host sends (copied in when bouncing) */
	void *recv_buf;                /* payload the host fills (copied out when bouncing) */
	size_t len;                    /* of send_buf / recv_buf */
	struct vs_sockaddr *addr_out;  /* a sockaddr the host fills, staged in the record */
	bool addr_out_in_u;            /* its GPA goes to sqe.u.out.addr_gpa (RECVFROM),
	                                  else to sqe.addr/len (ACCEPT, GET*NAME) */
};
/* sqe: the request minus user_data and payload/staging addresses, which
 * this fills in.  On success the SQE is in the ring (not yet published). */
int vs_prep_req(struct vs_queue_state *q, enum vs_req_owner owner, uint64_t user_data,
		const struct vs_sqe *sqe, const struct vs_attach *a, struct vs_req **out);
int vs_msg_flags(unsigned flags, uint8_t *sqe_flags, uint32_t *op_flags);
/* fd.c: the handle a socket argument names (a descriptor stands for its handle; any
 * other number >= 0 is taken as a handle for the host to judge), or -EBADF if < 0. */
int vs_resolve_handle(int s);
/* Is vs_resolve_handle()'s answer an error?  (VS_CHAIN_SOCKET is negative too.) */
static inline bool vs_bad_handle(int s)
{
	return s < 0 && s != VS_CHAIN_SOCKET;
}
_Static_assert((uint32_t)VS_CHAIN_SOCKET == VS_HANDLE_CHAIN, "chain handle value");
/* Builders: validate the arguments and fill an SQE template (+ attachment).
 * Return 0 or -errno; shared by vs_prep_*() and the blocking calls. */
int vs_build_socket(struct vs_sqe *sqe, int domain, int type);
int vs_build_addr_in(struct vs_sqe *sqe, uint8_t opcode, int s, const struct vs_sockaddr *sa);
int vs_build_payload(struct vs_sqe *sqe, struct vs_attach *a, uint8_t opcode, int s,
		     const void *sbuf, void *rbuf, size_t len, unsigned flags,
		     const struct vs_sockaddr *to, struct vs_sockaddr *from);
int vs_build_addr_out(struct vs_sqe *sqe, struct vs_attach *a, uint8_t opcode, int s,
		      struct vs_sockaddr *out);
int vs_build_simple(struct vs_sqe *sqe, uint8_t opcode, int s, uint32_t op_flags);
int vs_build_opt(struct vs_sqe *sqe, uint8_t opcode, int s, int level, int name,
		 int64_t value);
uint32_t vs_poll_mask(unsigned events);
void vs_build_cancel(struct vs_sqe *sqe, struct vs_queue_state *q, const struct vs_req *r);

/* ---- socket.c: one blocking request */
/* Prepare a request owned by the caller (VS_OWNER_SYNC), waiting for room
 * in the rings if needed. */
int vs_prep_sync(struct vs_queue_state *q, const struct vs_sqe *sqe, const struct vs_attach *a,
		 struct vs_req **out);
/* Give up on r (the wait failed): whoever completes it frees it. */
void vs_req_abandon(struct vs_queue_state *q, struct vs_req *r);

/* ---- epoll.c: interest sets' armed POLLs carry tags of their own */
#define VS_EPOLL_TAG (1ull << 63) /* never in a record's tag (gen << 16 | index) */
void vs_epoll_complete(struct vs_queue_state *q, const struct vs_cqe *cqe);
/* A stream watched by the sets in the mask (bit per set) has news for fd. */
void vs_epoll_stream_event(uint64_t sets, int fd);

/* ---- stream.c: read-ahead and async sends on stream descriptors.  Their requests'
 * tags are the interest sets' with the set field all ones (no set has that id). */
#define VS_TAG_STREAM      (VS_EPOLL_TAG | 0x3full << 56)
#define VS_TAG_KIND_MASK   (VS_EPOLL_TAG | 1ull << 62 | 0x3full << 56)
#define VS_STREAM_NOT_MINE INT64_MIN /* vs_stream_send: take the ordinary path */
struct vs_stream;
struct vs_stream *vs_stream_of(int fd);     /* the descriptor's stream, or NULL */
struct vs_stream *vs_stream_get(int fd);    /* ... made if the fast path may serve it */
void vs_stream_detach(int fd);              /* the descriptor is released */
int vs_stream_watch(struct vs_queue_state *q, struct vs_stream *st); /* start read-ahead */
int vs_stream_rearm(struct vs_queue_state *q, struct vs_stream *st);
void vs_stream_set_watch(struct vs_stream *st, unsigned set, bool on);
uint32_t vs_stream_events(const struct vs_stream *st); /* VS_EPOLLIN/RDHUP/ERR now */
bool vs_stream_reading(const struct vs_stream *st);    /* has a read-ahead buffer */
int64_t vs_stream_recv(struct vs_stream *st, void *buf, size_t len, unsigned flags,
		       struct vs_sockaddr *from);
int64_t vs_stream_send(struct vs_stream *st, const void *buf, size_t len, unsigned flags);
int vs_stream_take_error(struct vs_stream *st);        /* pending async error, cleared */
int vs_stream_flush(int fd);                /* wait until its async sends completed */
void vs_stream_complete(struct vs_queue_state *q, const struct vs_cqe *cqe);

/* ---- complete.c */
void vs_complete(struct vs_queue_state *q, const struct vs_cqe *cqe);
void vs_req_result(struct vs_queue_state *q, struct vs_req *r, struct vs_completion *out);

#endif /* VS_GUESTLIB_INTERNAL_H */
