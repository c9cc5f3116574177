/* SPDX-License-Identifier: MIT */
/*
 * Worker threads.
 *
 * A worker loops: consume its queues' SQs, then handle socket readiness
 * (epoll, non-blocking, edge-triggered).  When a pass finds nothing to do it
 * keeps polling for cfg.poll_us microseconds (NEED_WAKEUP clear: the guest
 * need not ring), then sets NEED_WAKEUP on its queues, issues a full fence,
 * looks at the rings once more (the guest publishes sq_tail, fences, then
 * reads the flags: one of the two sides sees the other), and sleeps in
 * epoll_wait until a doorbell kicks its eventfd or a socket becomes ready.
 *
 * With cfg.seccomp the thread first loads its seccomp filter (sandbox.h), before
 * it touches anything the guest wrote, and tells hn_worker_start() how that went.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "hostnet_internal.h"
#include "sandbox.h"

#define HN_EVENTS_PER_WAIT 64

_Thread_local struct hn_worker *hn_current_worker;

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void hn_worker_kick(struct hn_worker *w)
{
	uint64_t one = 1;
	/* Can only fail if the counter is about to overflow: it is awake then. */
	ssize_t n = write(w->evfd, &one, sizeof(one));
	(void)n;
}

static uint32_t service_all(struct hn_worker *w)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < w->nr_queues; i++)
		n += hn_queue_service(w, w->queues[i]);
	return n;
}

/* Returns how many sockets the events were for. */
static uint32_t handle_events(struct hn_worker *w, const struct epoll_event *ev, int n)
{
	uint32_t sockets = 0;
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == HN_EVENTFD_TAG) {
			uint64_t v;
			ssize_t r = read(w->evfd, &v, sizeof(v)); /* reset the kick counter */
			(void)r;
		} else {
			hn_ops_ready(w, (uint32_t)ev[i].data.u64);
			sockets++;
		}
	}
	return sockets;
}

static void need_wakeup(struct hn_worker *w, bool on)
{
	for (uint32_t i = 0; i < w->nr_queues; i++)
		hn_queue_set_flags(w->queues[i], on ? VS_QF_NEED_WAKEUP : 0,
				   on ? 0 : VS_QF_NEED_WAKEUP);
}

static void add_ns(atomic_uint_least64_t *c, uint64_t ns)
{
	atomic_fetch_add_explicit(c, ns, memory_order_relaxed);
}

/* Load the filter if asked to.  Every worker's eventfd exists by now:
 * hostnet_create() makes them all before it starts the first thread. */
static int enter_sandbox(struct hn_worker *w)
{
	struct hostnet *hn = w->hn;
	if (!hn->cfg.seccomp)
		return 0;
	int kick_fds[VS_MAX_QUEUES];
	for (uint32_t i = 0; i < hn->cfg.workers; i++)
		kick_fds[i] = hn->workers[i].evfd;
	struct hn_sandbox_fds fds = {
		.event_fd = w->evfd, .kick_fds = kick_fds, .nr_kick_fds = hn->cfg.workers,
	};
	return hn_sandbox_install_worker(&fds);
}

static void *worker_main(void *arg)
{
	struct hn_worker *w = arg;
	struct hostnet *hn = w->hn;
	hn_current_worker = w;
	w->start_err = enter_sandbox(w);
	int failed = w->start_err;
	sem_post(&w->ready); /* w->start_err belongs to the creator from here on */
	if (failed)
		return NULL;
	const uint64_t poll_window = (uint64_t)hn->cfg.poll_us * 1000u;
	struct epoll_event ev[HN_EVENTS_PER_WAIT];
	uint64_t idle_since = 0; /* start of the current poll window, 0: busy */

	while (!atomic_load(&hn->quit)) {
		uint32_t work = service_all(w);
		int n = epoll_wait(w->epfd, ev, HN_EVENTS_PER_WAIT, 0);
		if (n > 0)
			work += handle_events(w, ev, n);
		uint64_t now = hn_now_ns();
		if (work) {
			if (idle_since) {
				add_ns(&w->poll_ns, now - idle_since);
				idle_since = 0;
				atomic_store_explicit(&w->idle_since, 0, memory_order_relaxed);
			}
			continue;
		}
		if (!idle_since) {
			idle_since = now;
			atomic_store_explicit(&w->idle_since, now, memory_order_relaxed);
		}
		if (now - idle_since < poll_window) {
			cpu_relax();
			continue;
		}

		/* The poll window is over: announce the sleep, then look again. */
		need_wakeup(w, true);
		atomic_thread_fence(memory_order_seq_cst);
		work = service_all(w);
		now = hn_now_ns();
		add_ns(&w->poll_ns, now - idle_since);
		idle_since = 0;
		atomic_store_explicit(&w->idle_since, 0, memory_order_relaxed);
		if (work || atomic_load(&hn->quit)) {
			need_wakeup(w, false);
			continue;
		}

		atomic_store_explicit(&w->sleep_since, now, memory_order_relaxed);
		n = epoll_wait(w->epfd, ev, HN_EVENTS_PER_WAIT, -1);
		atomic_store_explicit(&w->sleep_since, 0, memory_order_relaxed);
		add_ns(&w->sleep_ns, hn_now_ns() - now);
		add_ns(&w->wakeups, 1);
		need_wakeup(w, false);
		if (n > 0)
			handle_events(w, ev, n);
		else if (n < 0 && errno != EINTR)
			fprintf(stderr, "hostnet: worker %u: epoll_wait failed (errno %d)\n",
				w->index, errno);
	}
	return NULL;
}

int hn_worker_start(struct hn_worker *w)
{
	/* Signals are the VMM's business (vCPU kicks, SIGINT): never ours.  (With
	 * cfg.seccomp the worker unblocks SIGSYS alone, for its filter's report.) */
	sigset_t all, old;
	sigfillset(&all);
	if (sem_init(&w->ready, 0, 0))
		return -errno;
	pthread_sigmask(SIG_SETMASK, &all, &old);
	w->start_ns = hn_now_ns();
	int err = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		sem_destroy(&w->ready);
		return -err;
	}
	w->started = true; /* hostnet_destroy() joins it, even if it failed below */
	char name[16];
	snprintf(name, sizeof(name), "hostnet-w%u", w->index);
	pthread_setname_np(w->thread, name);

	/* Wait until the thread runs under its filter (or could not load it). */
	while (sem_wait(&w->ready) && errno == EINTR)
		;
	sem_destroy(&w->ready);
	return w->start_err;
}
