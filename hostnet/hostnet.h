/* SPDX-License-Identifier: MIT */
/*
 * hostnet: the host side of the virtsocket transport.
 *
 * The VMM hands hostnet a view of guest memory (RAM at GPA 0 and the ring
 * slot) and forwards every doorbell to hostnet_doorbell().  hostnet owns the
 * worker threads that consume the submission rings, perform the socket calls
 * straight from / into guest buffers and post completions.
 *
 * Nothing here knows about KVM: unit tests pass a plain malloc'ed buffer as
 * "guest RAM" and another one as the ring slot, and drive the rings directly.
 *
 * All functions return 0 (or a documented non-negative value) or -errno, and
 * never exit the process.
 */
#ifndef VS_HOSTNET_H
#define VS_HOSTNET_H

#include <stdbool.h>
#include <stdint.h>
#include "virtsocket/abi.h"
#include "policy.h"

struct hostnet;

struct hostnet_config {
	uint8_t *ram;           /* host mapping of guest RAM, GPA 0 .. ram_bytes */
	uint64_t ram_bytes;
	uint8_t *ring;          /* host mapping of the ring slot */
	uint64_t ring_gpa;      /* its guest-physical base (page aligned) */
	uint64_t ring_bytes;    /* nr_queues * VS_QUEUE_BYTES */
	uint32_t nr_queues;     /* 1 .. VS_MAX_QUEUES */
	uint32_t workers;       /* worker threads, 1 .. nr_queues (0: one per queue) */
	uint32_t poll_us;       /* adaptive mode: spin this long after draining a queue
	                           before setting NEED_WAKEUP and sleeping (0: sleep at once) */
	enum vs_copy_mode copy; /* zero copy or bounce through the queue's bounce area */
	uint32_t max_sockets;   /* open sockets per VM, 1 .. HOSTNET_MAX_SOCKETS_LIMIT
	                           (0: HOSTNET_DEFAULT_MAX_SOCKETS); more -> -EMFILE */
	uint32_t max_backlog;   /* LISTEN backlogs are clamped to this, 1 .. 65535
	                           (0: HOSTNET_DEFAULT_MAX_BACKLOG) */
	struct hostnet_policy policy; /* egress policy (policy.h); all zero: loopback
	                           only, binds to loopback only.  Denied: -EACCES */
	struct hostnet_link *link; /* link.h: the page the doorbell side shares with the
	                           workers (ring, ring_gpa, nr_queues and workers
	                           as above); NULL: hostnet makes its own */
	uint32_t sock_buffer;   /* SO_SNDBUF and SO_RCVBUF of every guest socket, and the
	                           most a guest's SETSOCKOPT gets: HOSTNET_SOCK_BUFFER_MIN
	                           .. HOSTNET_SOCK_BUFFER_MAX bytes (Linux doubles it), or
	                           HOSTNET_SOCK_BUFFER_AUTO: Linux's autotuning within
	                           the host's net.ipv4.tcp_{w,r}mem (0: the default) */
	uint64_t sock_memory;   /* bytes a VM's autotuned sockets may queue at the most:
	                           its first sock_memory / sock_autotune_bytes sockets keep
	                           Linux's autotuning, the others get sock_buffer (sockbuf.h).
	                           0: none autotuned */
	uint64_t sock_autotune_bytes; /* the most one autotuned socket may queue: the host's
	                           net.ipv4.tcp_wmem + tcp_rmem maxima (the VMM reads them);
	                           0: none autotuned */
	bool timings;           /* time every phase of the request path (timing.h):
	                           the t_*_ns statistics.  Costs clock reads per pass */
	bool seccomp;           /* each worker thread runs under a seccomp filter that
	                           allows only the system calls it makes (sandbox.h);
	                           a forbidden call prints one line and exits the
	                           process with VS_EXIT_VMM_ERROR.  Off when zeroed:
	                           the VMM turns it on unless --no-seccomp */
};

#define HOSTNET_DEFAULT_MAX_BACKLOG 128u

#define HOSTNET_SOCK_BUFFER_MIN     4096u
#define HOSTNET_SOCK_BUFFER_MAX     (64u << 20)
#define HOSTNET_SOCK_BUFFER_AUTO    UINT32_MAX
#define HOSTNET_DEFAULT_SOCK_MEMORY (1ull << 30) /* the VMM's --sock-memory default */

#define HOSTNET_DEFAULT_MAX_SOCKETS 1024u
#define HOSTNET_MAX_SOCKETS_LIMIT   65535u
/* Requests a queue may have consumed but not yet completed into its CQ (parked
 * receives, sends waiting for room...).  At the limit the worker stops
 * consuming that queue until one completes: a guest cannot make the host
 * allocate without bound. */
#define HOSTNET_MAX_INFLIGHT        (4u * VS_CQ_ENTRIES)
/* ... per queue, with max_sockets: at least one parked request per socket (an
 * interest set keeps a POLL armed on every idle connection, vs_epoll.h) plus a
 * CQ's worth, so that 10,000 idle connections never stop a queue. */
#define HOSTNET_QUEUE_INFLIGHT(max_sockets)                                   \
	((max_sockets) + VS_CQ_ENTRIES > HOSTNET_MAX_INFLIGHT ?               \
		 (max_sockets) + VS_CQ_ENTRIES : HOSTNET_MAX_INFLIGHT)
/* batch_hist[i] counts consume passes that took n SQEs, 2^i <= n < 2^(i+1). */
#define HOSTNET_BATCH_BUCKETS       9u /* 1, 2-3, 4-7, ..., 128-255, 256 and more */

/* One queue's share of the counters below (queue i = vCPU i in the VMM): which
 * queues a multi-vCPU guest really used, and how often each rang. */
struct hostnet_queue_stats {
	uint64_t doorbells;          /* doorbells naming this queue */
	uint64_t wait_ns;            /* time its WAIT doorbells blocked the vCPU */
	uint64_t requests;           /* SQEs consumed from it */
	uint64_t batches;
	uint64_t completions;        /* CQEs posted to it */
};

/* Counters, all monotonically increasing; read with hostnet_get_stats(). */
struct hostnet_stats {
	uint64_t doorbells;          /* hostnet_doorbell() calls */
	uint64_t doorbells_bad;      /* ... rejected with -EINVAL/-ENOSYS */
	uint64_t requests;           /* SQEs consumed */
	uint64_t requests_bad;       /* ... that failed validation */
	uint64_t batches;            /* worker passes over a queue that took >= 1 new SQE
	                                (with or without a doorbell: adaptive polling
	                                consumes batches nobody rang for) */
	uint64_t completions;        /* CQEs posted */
	uint64_t bytes_sent;         /* payload bytes handed to send()/sendto() */
	uint64_t send_calls;         /* send system calls made for SEND/SENDTO (fewer than
	                                the requests when stream SENDs were gathered) */
	uint64_t syscalls_skipped;   /* receive, send and accept calls not made: the socket's
	                                last try said "not ready" and no readiness edge came
	                                since (they would have said EAGAIN) */
	uint64_t bytes_received;     /* payload bytes received into guest memory */
	uint64_t bytes_copied;       /* payload bytes the VMM copied (bounce mode), each once:
	                                a copy redone after EAGAIN is not counted again */
	uint64_t wait_ns;            /* total time doorbell WAITs blocked a vCPU */
	uint64_t sockets_open;       /* currently open handles (a gauge, not a counter) */
	uint64_t nr_queues;          /* entries of queue[] in use */
	struct hostnet_queue_stats queue[VS_MAX_QUEUES]; /* each queue's own share */
	uint64_t cq_overflows;       /* completions held host-side because the CQ was full */
	uint64_t sq_stalls;          /* passes that left SQEs unconsumed: CQ full, host-held
	                                completions or HOSTNET_MAX_INFLIGHT reached */
	uint64_t queues_broken;      /* queues stopped for guest corruption (VS_QF_BROKEN) */
	uint64_t worker_wakeups;     /* worker sleeps ended (doorbell, socket readiness) */
	uint64_t worker_busy_ns;     /* worker time spent consuming / doing socket calls */
	uint64_t worker_poll_ns;     /* ... spinning on idle rings (adaptive poll window) */
	uint64_t worker_sleep_ns;    /* ... asleep in epoll_wait with NEED_WAKEUP set */
	uint64_t batch_hist[HOSTNET_BATCH_BUCKETS]; /* batch sizes, log2 buckets */
	uint64_t denied;             /* requests refused by the egress policy (-EACCES) */
	uint64_t chains_live;        /* chains (VS_SQE_LINK) the workers hold now: begun
	                                and not yet finished or ended (a gauge) */
	/* The hand-offs (always counted: they sit on paths with a system call). */
	uint64_t kick_wakes;         /* worker sleeps ended with a doorbell's kick pending */
	uint64_t kick_wake_ns;       /* ... total time from the kick to the worker running */
	uint64_t wait_wakes;         /* doorbell WAITs woken by a completion */
	uint64_t wait_wake_ns;       /* ... total time from the futex wake to the vCPU thread */
	uint64_t wake_calls;         /* FUTEX_WAKEs the workers made for WAITs (at most one
	                                per sleep: not one per completion after it) */
	uint64_t kicks;              /* doorbells that kicked a worker (NEED_WAKEUP was set:
	                                it was going to sleep); the others found it awake */
	uint64_t poll_loops;         /* idle worker loops in poll windows (period:
	                                worker_poll_ns / poll_loops) */
	/* cfg.timings only (0 otherwise): worker time per phase of the request path. */
	uint64_t t_take_ns;          /* taking SQEs out of the rings (admission, copy) */
	uint64_t t_validate_ns;      /* validating the copies */
	uint64_t t_run_ns;           /* running them: system calls, parking, gathered sends */
	uint64_t t_events_ns;        /* socket readiness: retrying parked requests */
	uint64_t t_post_ns;          /* posting completions (within run and events) */
	uint64_t t_posts;            /* completions whose posting was timed */
};

/*
 * Validate the config, create the handle table and start the workers.
 * Each queue's control page must be idle (sq_head == sq_tail, cq_head ==
 * cq_tail; a zero-filled slot is): hostnet starts from those indices and
 * resets the queue's flags.  Worker threads run with all signals blocked
 * (but SIGSYS, with cfg->seccomp).  With cfg->seccomp, installs the process-wide
 * SIGSYS handler, and every worker has loaded its filter before this returns;
 * if one could not, this fails with its -errno.
 * -EINVAL names nothing: check the fields against the comments above.
 */
int hostnet_create(const struct hostnet_config *cfg, struct hostnet **out);

/*
 * One doorbell, hypercall or port-I/O form alike (for the port form the VMM
 * passes a0 = ring_gpa, a1 = ring_bytes / 4096, a2 = VS_ABI_MAGIC << 32 | value).
 * Checks every argument (magic, ring GPA and size, queue, flags), then:
 * SUBMIT wakes the queue's worker; WAIT blocks the calling thread until the
 * queue's CQ holds the guest's wait_min completions (queue_ctrl.wait_min,
 * 0 = 1), the wait timeout passes, or hostnet_stop() is called.
 * Returns what the guest sees in rax: completions ready (>= 0) or -errno:
 * -EINVAL bad arguments, -ETIMEDOUT a WAIT that found nothing, -EINTR a WAIT
 * after/at hostnet_stop(), -EIO the queue is VS_QF_BROKEN (see abi.h).
 * Thread-safe; any number of vCPU threads may call it at once.
 */
int64_t hostnet_doorbell(struct hostnet *hn, uint64_t a0, uint64_t a1, uint64_t a2);

/* Wake every blocked WAIT (they return -EINTR) and make new ones return at once.
 * Called when the VM is ending. Safe from any thread, idempotent.  Workers keep
 * running until hostnet_destroy(). */
void hostnet_stop(struct hostnet *hn);

/* Stop the workers, close every host socket, free everything. NULL is fine.
 * No vCPU may be inside hostnet_doorbell() any more (call hostnet_stop() and
 * join them first). */
void hostnet_destroy(struct hostnet *hn);

void hostnet_get_stats(const struct hostnet *hn, struct hostnet_stats *out);

#endif /* VS_HOSTNET_H */
