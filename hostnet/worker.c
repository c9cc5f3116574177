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
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "worker.h"

#include <stdlib.h>

#include "chain.h"
#include "clock.h"
#include "hostnet.h"
#include "idle_poll.h"
#include "kick.h"
#include "link.h"
#include "policy.h"
#include "queue.h"
#include "sandbox.h"
#include "validate.h"

#define HN_EVENTS_PER_WAIT 64

/* epoll_event.data.u64 of the worker's eventfd (socket handles are < 2^31). */
#define HN_EVENTFD_TAG UINT64_MAX

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

int hn_worker_init(struct hn_worker *w, struct hn_worker_env *env, uint32_t index,
		   uint32_t max_queues)
{
	*w = (struct hn_worker){ .env = env, .index = index, .evfd = -1 };
	w->timing.on = env->cfg->timings;
	w->exec = (struct hn_exec){
		.cfg = env->cfg, .handles = env->handles, .deny_log = env->deny_log, .epfd = -1,
		.sockbuf = env->sockbuf,
	};
	w->exec.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->exec.epfd < 0)
		return -errno;
	w->evfd = env->kick_fds[index]; /* the link's: the doorbell side kicks it */
	/* Edge-triggered: every kick (write) is an edge of its own, so the
	 * counter need not be read back to zero (a system call per wake-up);
	 * it cannot overflow (one per kick, 2^64). */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = HN_EVENTFD_TAG };
	if (epoll_ctl(w->exec.epfd, EPOLL_CTL_ADD, w->evfd, &ev) < 0)
		return -errno;
	w->queues = calloc(max_queues, sizeof(*w->queues));
	hn_chains_init(&w->chains, w->evfd);
	w->chains_ready = true;
	if (hn_linger_init(&w->exec.linger, env->handles, w->exec.epfd, env->cfg->max_sockets))
		return -ENOMEM;
	if (!w->queues)
		return -ENOMEM;
	if (env->cfg->copy == VS_COPY_BOUNCE) {
		w->exec.scratch = malloc(VS_BOUNCE_BYTES);
		if (!w->exec.scratch)
			return -ENOMEM;
	}
	return 0;
}

void hn_worker_release(struct hn_worker *w)
{
	if (w->exec.epfd >= 0)
		close(w->exec.epfd);
	free(w->queues);
	hn_linger_release(&w->exec.linger);
	free(w->exec.scratch);
	if (w->chains_ready)
		hn_chains_release(&w->chains);
}

void hn_worker_join(struct hn_worker *w)
{
	if (!w->started)
		return;
	hn_kick(w->evfd);
	pthread_join(w->thread, NULL);
}

static struct hn_validate_ctx validate_ctx(const struct hn_worker *w, const struct hn_queue *q)
{
	return (struct hn_validate_ctx){
		.mem = w->env->mem,
		.handles = w->env->handles,
		.queue = q->index,
		.copy = w->env->cfg->copy,
		.policy = &w->env->cfg->policy,
	};
}

/* One request, copied out of the ring (chain: a link of it whose turn it
 * is): validate it, then run it or complete it at once with the reason it
 * cannot run. */
static void consume_one(struct hn_worker *w, struct hn_queue *q,
			const struct hn_validate_ctx *vctx, const struct vs_sqe *sqe,
			struct hn_chain *chain)
{
	struct hn_req req;
	uint64_t t0 = hn_timing_start(&w->timing);
	int err = hn_validate(vctx, sqe, &req);
	hn_timing_end(&w->timing.validate_ns, t0);
	t0 = hn_timing_start(&w->timing);
	if (!err) {
		req.q = q;
		req.seq = q->seq++;
		req.chain = chain;
		hn_ops_submit(&w->exec, &req);
	} else if (err == -EACCES) {
		/* Well-formed, but somewhere the user did not allow. */
		hn_deny_log_note(w->env->deny_log, hn_op_name(req.opcode),
				 (const struct sockaddr *)&req.sa, req.sa_len, hn_now_ns());
		hn_queue_post(q, sqe->user_data, err, 0);
	} else {
		atomic_fetch_add_explicit(&q->requests_bad, 1, memory_order_relaxed);
		hn_queue_post(q, sqe->user_data, err, VS_CQE_BAD_REQUEST);
	}
	if (err && chain)
		hn_chain_link_done(chain, &req, err); /* a failed link: the rest are broken */
	hn_timing_end(&w->timing.run_ns, t0);
}

/* Consume what the queue's SQ offers (within CQ and inflight room).
 * Returns requests consumed. */
static uint32_t consume(struct hn_worker *w, struct hn_queue *q)
{
	struct vs_sqe batch[VS_SQ_ENTRIES];
	uint64_t t0 = hn_timing_start(&w->timing);
	uint32_t n = hn_queue_take(q, batch);
	if (n == 0)
		return 0;
	hn_timing_end(&w->timing.take_ns, t0);
	const struct hn_validate_ctx vctx = validate_ctx(w, q);
	for (uint32_t i = 0; i < n; i++) {
		struct hn_chain *chain = NULL; /* set only for HN_CHAIN_RUN */
		if (hn_chain_take(&w->chains, q, &batch[i], &chain) != HN_CHAIN_HELD)
			consume_one(w, q, &vctx, &batch[i], chain);
	}
	t0 = hn_timing_start(&w->timing);
	hn_ops_flush(&w->exec);
	hn_timing_end(&w->timing.run_ns, t0);
	return n;
}

/* Run the links whose previous link has completed (in this pass, or on a
 * socket event), until none is left: a link that completes at once lets the
 * next one go in the same call.  Returns links run. */
static uint32_t run_chains(struct hn_worker *w)
{
	uint32_t total = 0;
	for (;;) {
		uint32_t n = 0;
		struct vs_sqe sqe;
		struct hn_queue *q;
		struct hn_chain *chain;
		while ((chain = hn_chain_next(&w->chains, &sqe, &q))) {
			const struct hn_validate_ctx vctx = validate_ctx(w, q);
			consume_one(w, q, &vctx, &sqe, chain);
			n++;
		}
		if (!n)
			return total;
		hn_ops_flush(&w->exec); /* gathered SENDs among them go out */
		total += n;
	}
}

static uint32_t service_all(struct hn_worker *w)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < w->nr_queues; i++)
		n += consume(w, w->queues[i]);
	return n + run_chains(w);
}

/* Returns how many sockets the events were for. */
static uint32_t handle_events(struct hn_worker *w, const struct epoll_event *ev, int n)
{
	uint32_t sockets = 0;
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == HN_EVENTFD_TAG) {
			/* a kick: the rings are looked at anyway */
		} else if (HN_LINGER_IS_TAG(ev[i].data.u64)) {
			hn_linger_event(&w->exec.linger, ev[i].data.u64, hn_now_ns());
		} else {
			uint64_t t0 = hn_timing_start(&w->timing);
			hn_ops_ready(&w->exec, (uint32_t)ev[i].data.u64, ev[i].events);
			hn_timing_end(&w->timing.events_ns, t0);
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
	const struct hn_worker_env *env = w->env;
	if (!env->cfg->seccomp)
		return 0;
	struct hn_sandbox_fds fds = {
		.event_fd = w->evfd, .kick_fds = env->kick_fds, .nr_kick_fds = env->cfg->workers,
	};
	return hn_sandbox_install_worker(&fds);
}

/* The poll window that began at since ended now. */
static void end_idle(struct hn_worker *w, uint64_t since, uint64_t now)
{
	add_ns(&w->poll_ns, now - since);
	atomic_store_explicit(&w->idle_since, 0, memory_order_relaxed);
}

/* The poll window is over with nothing to do: announce the sleep, look at
 * the rings once more, then sleep until a doorbell or a socket event. */
static void try_sleep(struct hn_worker *w, uint64_t idle_since, struct epoll_event *ev)
{
	/* Kicks from before this sleep were for passes already made: time only
	 * the ones that end it. */
	(void)hn_link_take_kick(w->env->link_sh, w->index);
	need_wakeup(w, true);
	atomic_thread_fence(memory_order_seq_cst);
	uint32_t work = service_all(w);
	uint64_t now = hn_now_ns();
	end_idle(w, idle_since, now);
	if (work || atomic_load(&w->env->quit)) {
		need_wakeup(w, false);
		return;
	}

	atomic_store_explicit(&w->sleep_since, now, memory_order_relaxed);
	/* Lingering closes have deadlines: wake up for them. */
	int timeout = w->exec.linger.n ? HN_LINGER_POLL_MS : -1;
	int n = epoll_wait(w->exec.epfd, ev, HN_EVENTS_PER_WAIT, timeout);
	atomic_store_explicit(&w->sleep_since, 0, memory_order_relaxed);
	add_ns(&w->sleep_ns, hn_now_ns() - now);
	add_ns(&w->wakeups, 1);
	uint64_t kicked = hn_link_take_kick(w->env->link_sh, w->index);
	if (kicked) {
		add_ns(&w->kick_wakes, 1);
		add_ns(&w->kick_wake_ns, kicked);
	}
	need_wakeup(w, false);
	if (n > 0)
		handle_events(w, ev, n);
	else if (n < 0 && errno != EINTR)
		fprintf(stderr, "hostnet: worker %u: epoll_wait failed (errno %d)\n",
			w->index, errno);
}

static void run_loop(struct hn_worker *w)
{
	const uint64_t poll_window = (uint64_t)w->env->cfg->poll_us * 1000u;
	struct epoll_event ev[HN_EVENTS_PER_WAIT];
	uint64_t idle_since = 0; /* start of the current poll window, 0: busy */

	while (!atomic_load(&w->env->quit)) {
		uint32_t work = service_all(w);
		int n = epoll_wait(w->exec.epfd, ev, HN_EVENTS_PER_WAIT, 0);
		if (n > 0)
			work += handle_events(w, ev, n);
		uint64_t now = hn_now_ns();
		hn_linger_tick(&w->exec.linger, now);
		if (work) {
			if (idle_since)
				end_idle(w, idle_since, now);
			idle_since = 0;
			continue;
		}
		if (!idle_since) {
			idle_since = now;
			atomic_store_explicit(&w->idle_since, now, memory_order_relaxed);
		}
		enum hn_idle_step step = hn_idle_step(now - idle_since, poll_window);
		if (step != HN_IDLE_SLEEP) {
			add_ns(&w->poll_loops, 1);
			if (step == HN_IDLE_YIELD)
				sched_yield(); /* idle_poll.h: others runnable here go first */
			else
				cpu_relax();
			continue;
		}
		try_sleep(w, idle_since, ev);
		idle_since = 0;
	}
}

static void *worker_main(void *arg)
{
	struct hn_worker *w = arg;
	/* Named by itself (prctl), not by its creator: naming another thread
	 * goes through /proc, which a jailed worker process has not got. */
	char name[16];
	snprintf(name, sizeof(name), "hostnet-w%u", w->index);
	pthread_setname_np(pthread_self(), name);
	hn_queue_self_kick_fd = w->evfd;
	hn_timing_self = w->timing.on ? &w->timing : NULL;
	w->start_err = enter_sandbox(w);
	int failed = w->start_err;
	sem_post(&w->ready); /* w->start_err belongs to the creator from here on */
	if (!failed)
		run_loop(w);
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

	/* Wait until the thread runs under its filter (or could not load it). */
	while (sem_wait(&w->ready) && errno == EINTR)
		;
	sem_destroy(&w->ready);
	return w->start_err;
}
