/* SPDX-License-Identifier: MIT */
/*
 * Worker threads (worker.c): worker i serves queues q with q % workers == i
 * and alone consumes their SQs: it takes SQEs out (queue.h), validates the
 * copies (validate.h) and runs them (ops.h).  Each has an epoll set holding
 * an eventfd (doorbell kicks, shutdown) and the sockets it created.
 */
#ifndef VS_HOSTNET_WORKER_H
#define VS_HOSTNET_WORKER_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain.h"
#include "ops.h"
#include "timing.h"
#include "virtsocket/abi.h"

struct hn_guest_mem;
struct hn_queue;
struct hostnet_config;

/* What every worker of a VM shares (owned by struct hostnet). */
struct hn_worker_env {
	const struct hostnet_config *cfg; /* with workers, max_sockets, max_backlog set */
	const struct hn_guest_mem *mem;
	struct hn_handle_table *handles;
	struct hn_deny_log *deny_log;
	struct hn_sockbuf *sockbuf;
	int kick_fds[VS_MAX_QUEUES]; /* every worker's eventfd, the link's (link.h): the
	                                filter allows writes */
	struct hn_link_shared *link_sh; /* the link's shared page: kick stamps (timing.h) */
	atomic_bool quit;            /* hostnet_destroy(): workers exit */
};

struct hn_worker {
	struct hn_worker_env *env;
	uint32_t index;
	pthread_t thread;
	bool started;
	sem_t ready;                /* posted by the thread once it is set up... */
	int start_err;              /* ...with this: 0, or -errno (filter not loaded) */
	int evfd;                   /* kicked by doorbells and hostnet_destroy() */
	struct hn_queue **queues;
	uint32_t nr_queues;
	struct hn_exec exec;        /* its epoll set, buffers, payload counters */
	struct hn_chain_set chains; /* linked requests of its queues (chain.h) */
	bool chains_ready;          /* chains initialised: release them */
	uint64_t start_ns;

	atomic_uint_least64_t poll_ns, sleep_ns, wakeups;
	atomic_uint_least64_t poll_loops, kick_wakes, kick_wake_ns;
	struct hn_timing timing;    /* cfg.timings: per-phase times */
	atomic_uint_least64_t idle_since, sleep_since; /* current phase start, 0: none */
} __attribute__((aligned(64))); /* neighbours in hostnet's array share no line */

/* epoll set (with env->kick_fds[index], its eventfd) and buffers for
 * worker index of env; room for max_queues queue pointers.  0 or -errno;
 * hn_worker_release() undoes it (also after a failure; the eventfd stays). */
int hn_worker_init(struct hn_worker *w, struct hn_worker_env *env, uint32_t index,
		   uint32_t max_queues);
void hn_worker_release(struct hn_worker *w);

/* Start the thread; returns once it runs under its filter (or with the
 * -errno it could not load it with).  hn_worker_join() after env->quit. */
int hn_worker_start(struct hn_worker *w);
void hn_worker_join(struct hn_worker *w);

#endif
