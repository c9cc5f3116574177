/* SPDX-License-Identifier: MIT */
/*
 * hostnet's internal structures, shared by its .c files (not by the VMM).
 *
 * Threads
 *   - workers (cfg.workers): worker i serves queues q with q % workers == i.
 *     It alone consumes those queues' SQs.  Each has an epoll set holding an
 *     eventfd (doorbell kicks, shutdown) and the sockets it owns.
 *   - vCPU threads call hostnet_doorbell(): they kick a worker and may block
 *     in WAIT on a queue's condition variable.
 * Any thread may post a completion to any queue (a socket may be used from
 * several queues), so posting is under the queue's mutex.
 *
 * Lock order: hn_sock.lock -> hn_queue.lock; hn_sock.lock -> handle table.
 */
#ifndef VS_HOSTNET_INTERNAL_H
#define VS_HOSTNET_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"
#include "handle_table.h"
#include "hostnet.h"
#include "sock.h"
#include "validate.h"

/* Returned by the try_* functions in ops.c: "would block, keep it parked". */
#define HN_PENDING INT32_MIN

/* epoll_event.data.u64 of a worker's eventfd (handles are < 2^31). */
#define HN_EVENTFD_TAG UINT64_MAX

struct hn_worker;

struct hn_queue {
	struct hostnet *hn;
	uint32_t index;
	struct vs_queue *ring;      /* shared with the guest: never trusted */
	struct hn_worker *worker;

	/* Consumer side: touched by the serving worker only. */
	uint32_t sq_head;           /* private copy; the shared one is only written */
	uint64_t seq;               /* requests consumed so far (hn_req.seq) */

	/* Completion side: under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* doorbell WAITers (CLOCK_MONOTONIC) */
	uint32_t waiters;
	uint32_t cq_tail;           /* private copy of what we published */
	struct vs_cqe *overflow;    /* HOSTNET_MAX_INFLIGHT slots, a FIFO ring */
	uint32_t ov_head;
	atomic_uint ov_count;       /* written under lock, peeked without */

	atomic_uint inflight;       /* consumed, CQE not yet in the CQ */
	atomic_bool broken;         /* guest corrupted an index: dead queue */
	atomic_bool stalled;        /* worker left SQEs for lack of CQ/inflight room */

	/* Statistics. */
	atomic_uint_least64_t requests, requests_bad, batches, completions;
	atomic_uint_least64_t cq_overflows, sq_stalls;
	atomic_uint_least64_t batch_hist[HOSTNET_BATCH_BUCKETS];
};

struct hn_worker {
	struct hostnet *hn;
	uint32_t index;
	pthread_t thread;
	bool started;
	sem_t ready;                /* posted by the thread once it is set up... */
	int start_err;              /* ...with this: 0, or -errno (filter not loaded) */
	int epfd;
	int evfd;                   /* kicked by doorbells and hostnet_destroy() */
	struct hn_queue **queues;
	uint32_t nr_queues;
	uint8_t *scratch;           /* bounce mode: the private host copy of a payload */
	struct hn_sock **snap;      /* CANCEL: room for a snapshot of every socket */
	/* Sockets whose SENDs wait for the end of this pass (referenced); one
	 * pass takes at most VS_SQ_ENTRIES requests, so this many at most. */
	struct hn_sock *deferred[VS_SQ_ENTRIES];
	uint32_t nr_deferred;
	uint64_t start_ns;

	atomic_uint_least64_t bytes_sent, bytes_received, bytes_copied, send_calls;
	atomic_uint_least64_t poll_ns, sleep_ns, wakeups;
	atomic_uint_least64_t idle_since, sleep_since; /* current phase start, 0: none */
};

struct hostnet {
	struct hostnet_config cfg;  /* workers, max_sockets filled in */
	struct hn_guest_mem mem;
	struct hn_handle_table *handles;
	struct hn_queue *queues;
	struct hn_worker *workers;
	atomic_bool stopping;       /* hostnet_stop(): WAITs return -EINTR */
	atomic_bool quit;           /* hostnet_destroy(): workers exit */
	atomic_uint_least64_t doorbells, doorbells_bad, wait_ns;
	struct hn_deny_log deny_log; /* egress policy denials, rate limited */
	atomic_uint_least64_t denied;
};

/* ---- queue.c: the rings ------------------------------------------------- */
/* Consume what the queue's SQ offers (within CQ and inflight room), validate
 * and run each request.  Worker thread only.  Returns requests consumed. */
uint32_t hn_queue_service(struct hn_worker *w, struct hn_queue *q);
/* Post one completion (or hold it host-side while the CQ is full). */
void hn_queue_post(struct hn_queue *q, uint64_t user_data, int32_t result, uint32_t flags);
/* Completions the guest can reap now, or -EIO if the queue is broken.
 * Caller holds q->lock; moves held-back completions into the CQ first. */
int64_t hn_queue_ready_locked(struct hn_queue *q);
/* Mark the queue dead (VS_QF_BROKEN) and log why, once. */
void hn_queue_break(struct hn_queue *q, const char *why);
void hn_queue_set_flags(struct hn_queue *q, uint32_t set, uint32_t clear);

/* ---- ops.c: executing requests ------------------------------------------ */
/* Run a validated request (on the caller's stack); it completes now or is
 * parked on its socket.  Takes over req->sock's reference. */
void hn_ops_submit(struct hn_worker *w, struct hn_req *req);
/* End of a pass over a queue's new requests: send what hn_ops_submit()
 * deferred, each socket's SENDs gathered into one sendmsg. */
void hn_ops_flush(struct hn_worker *w);
/* The socket behind handle became ready: retry what waits on it. */
void hn_ops_ready(struct hn_worker *w, uint32_t handle);
/* Close everything at destroy time (workers already joined): no completions. */
void hn_ops_close_all(struct hostnet *hn);

/* ---- worker.c ----------------------------------------------------------- */
int hn_worker_start(struct hn_worker *w);
void hn_worker_kick(struct hn_worker *w);
/* The worker running on this thread (NULL on vCPU and other threads). */
extern _Thread_local struct hn_worker *hn_current_worker;

/* ---- helpers ------------------------------------------------------------ */
uint64_t hn_now_ns(void);
/* Count a request the egress policy refused and log it (rate limited). */
void hn_policy_denied(struct hostnet *hn, const char *op, const struct sockaddr_storage *sa,
		      socklen_t len);

#endif
