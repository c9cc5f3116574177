/* SPDX-License-Identifier: MIT */
/* hostnet_create / stop / destroy / get_stats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "hostnet_internal.h"
#include "sandbox.h"

uint64_t hn_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void hn_policy_denied(struct hostnet *hn, const char *op, const struct sockaddr_storage *sa,
		      socklen_t len)
{
	atomic_fetch_add_explicit(&hn->denied, 1, memory_order_relaxed);
	hn_deny_log_note(&hn->deny_log, op, (const struct sockaddr *)sa, len, hn_now_ns());
}

static int check_config(const struct hostnet_config *c)
{
	if (!c->ram || !c->ram_bytes || !c->ring)
		return -EINVAL;
	if (c->nr_queues == 0 || c->nr_queues > VS_MAX_QUEUES || c->workers > c->nr_queues)
		return -EINVAL;
	if (c->ring_gpa % 4096 || c->ring_bytes % 4096 ||
	    c->ring_bytes < (uint64_t)c->nr_queues * VS_QUEUE_BYTES)
		return -EINVAL;
	/* The ring slot is a separate region above RAM, and does not wrap. */
	if (c->ring_gpa < c->ram_bytes || c->ring_bytes > UINT64_MAX - c->ring_gpa)
		return -EINVAL;
	if (c->copy != VS_COPY_ZERO && c->copy != VS_COPY_BOUNCE)
		return -EINVAL;
	if (c->max_sockets > HOSTNET_MAX_SOCKETS_LIMIT || c->max_backlog > 65535u ||
	    c->policy.nr_rules > HOSTNET_POLICY_MAX_RULES)
		return -EINVAL;
	for (uint32_t q = 0; q < c->nr_queues; q++) {
		const struct vs_queue_ctrl *ctrl =
			(const struct vs_queue_ctrl *)(c->ring + (uint64_t)q * VS_QUEUE_BYTES);
		if (ctrl->sq_head != ctrl->sq_tail || ctrl->cq_head != ctrl->cq_tail)
			return -EINVAL; /* not idle: we would not know where to start */
	}
	return 0;
}

static int init_queue(struct hostnet *hn, uint32_t i)
{
	struct hn_queue *q = &hn->queues[i];
	q->hn = hn;
	q->index = i;
	q->ring = hn_ring_queue(&hn->mem, i);
	q->sq_head = q->ring->ctrl.sq_head;
	q->cq_tail = q->ring->ctrl.cq_tail;
	q->ring->ctrl.flags = 0;
	q->overflow = calloc(HOSTNET_MAX_INFLIGHT, sizeof(*q->overflow));
	if (!q->overflow)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

static int init_worker(struct hostnet *hn, uint32_t i)
{
	struct hn_worker *w = &hn->workers[i];
	w->hn = hn;
	w->index = i;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -errno;
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->evfd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = HN_EVENTFD_TAG };
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) < 0)
		return -errno;
	w->queues = calloc(hn->cfg.nr_queues, sizeof(*w->queues));
	w->snap = calloc(hn->cfg.max_sockets, sizeof(*w->snap));
	if (!w->queues || !w->snap)
		return -ENOMEM;
	if (hn->cfg.copy == VS_COPY_BOUNCE) {
		w->scratch = malloc(VS_BOUNCE_BYTES);
		if (!w->scratch)
			return -ENOMEM;
	}
	/* A fixed set: queue q belongs to worker q % workers. */
	for (uint32_t q = i; q < hn->cfg.nr_queues; q += hn->cfg.workers) {
		w->queues[w->nr_queues++] = &hn->queues[q];
		hn->queues[q].worker = w;
	}
	return 0;
}

int hostnet_create(const struct hostnet_config *cfg, struct hostnet **out)
{
	if (!cfg || !out)
		return -EINVAL;
	int err = check_config(cfg);
	if (err)
		return err;

	/* Before any worker exists: a filtered thread without the reporter
	 * would die of its first forbidden call without a word. */
	if (cfg->seccomp) {
		err = hn_sandbox_install_trap_handler();
		if (err)
			return err;
	}

	struct hostnet *hn = calloc(1, sizeof(*hn));
	if (!hn)
		return -ENOMEM;
	hn->cfg = *cfg;
	if (!hn->cfg.workers)
		hn->cfg.workers = cfg->nr_queues;
	if (!hn->cfg.max_sockets)
		hn->cfg.max_sockets = HOSTNET_DEFAULT_MAX_SOCKETS;
	if (!hn->cfg.max_backlog)
		hn->cfg.max_backlog = HOSTNET_DEFAULT_MAX_BACKLOG;
	hn_deny_log_init(&hn->deny_log);
	hn->mem = (struct hn_guest_mem){
		.ram = cfg->ram, .ram_bytes = cfg->ram_bytes,
		.ring = cfg->ring, .ring_gpa = cfg->ring_gpa, .ring_bytes = cfg->ring_bytes,
		.nr_queues = cfg->nr_queues,
	};

	hn->queues = calloc(cfg->nr_queues, sizeof(*hn->queues));
	hn->workers = calloc(hn->cfg.workers, sizeof(*hn->workers));
	if (!hn->queues || !hn->workers) {
		free(hn->queues);
		free(hn->workers);
		free(hn);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < hn->cfg.workers; i++)
		hn->workers[i].epfd = hn->workers[i].evfd = -1;

	err = hn_handles_create(hn->cfg.max_sockets, &hn->handles);
	for (uint32_t i = 0; !err && i < cfg->nr_queues; i++)
		err = init_queue(hn, i);
	for (uint32_t i = 0; !err && i < hn->cfg.workers; i++)
		err = init_worker(hn, i);
	for (uint32_t i = 0; !err && i < hn->cfg.workers; i++)
		err = hn_worker_start(&hn->workers[i]);
	if (err) {
		hostnet_destroy(hn);
		return err;
	}
	*out = hn;
	return 0;
}

void hostnet_stop(struct hostnet *hn)
{
	if (!hn)
		return;
	atomic_store(&hn->stopping, true);
	for (uint32_t i = 0; i < hn->cfg.nr_queues; i++) {
		struct hn_queue *q = &hn->queues[i];
		if (!q->overflow)
			continue; /* never initialised (create failed) */
		/* Under the lock: a waiter between its check and its sleep
		 * cannot miss the broadcast. */
		pthread_mutex_lock(&q->lock);
		pthread_cond_broadcast(&q->cond);
		pthread_mutex_unlock(&q->lock);
	}
}

void hostnet_destroy(struct hostnet *hn)
{
	if (!hn)
		return;
	hostnet_stop(hn);
	atomic_store(&hn->quit, true);
	for (uint32_t i = 0; i < hn->cfg.workers; i++) {
		struct hn_worker *w = &hn->workers[i];
		if (w->started) {
			hn_worker_kick(w);
			pthread_join(w->thread, NULL);
		}
	}
	if (hn->handles)
		hn_ops_close_all(hn);
	for (uint32_t i = 0; i < hn->cfg.workers; i++) {
		struct hn_worker *w = &hn->workers[i];
		if (w->epfd >= 0)
			close(w->epfd);
		if (w->evfd >= 0)
			close(w->evfd);
		free(w->queues);
		free(w->snap);
		free(w->scratch);
	}
	for (uint32_t i = 0; i < hn->cfg.nr_queues; i++) {
		struct hn_queue *q = &hn->queues[i];
		if (!q->overflow)
			continue;
		pthread_mutex_destroy(&q->lock);
		pthread_cond_destroy(&q->cond);
		free(q->overflow);
	}
	hn_handles_destroy(hn->handles);
	hn_deny_log_destroy(&hn->deny_log);
	free(hn->queues);
	free(hn->workers);
	free(hn);
}

static uint64_t load(const atomic_uint_least64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void hostnet_get_stats(const struct hostnet *hn, struct hostnet_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->doorbells = load(&hn->doorbells);
	out->doorbells_bad = load(&hn->doorbells_bad);
	out->wait_ns = load(&hn->wait_ns);
	out->denied = load(&hn->denied);
	out->sockets_open = hn_handles_count(hn->handles);
	for (uint32_t i = 0; i < hn->cfg.nr_queues; i++) {
		const struct hn_queue *q = &hn->queues[i];
		out->requests += load(&q->requests);
		out->requests_bad += load(&q->requests_bad);
		out->batches += load(&q->batches);
		out->completions += load(&q->completions);
		out->cq_overflows += load(&q->cq_overflows);
		out->sq_stalls += load(&q->sq_stalls);
		out->queues_broken += atomic_load(&q->broken);
		for (unsigned b = 0; b < HOSTNET_BATCH_BUCKETS; b++)
			out->batch_hist[b] += load(&q->batch_hist[b]);
	}
	uint64_t now = hn_now_ns();
	for (uint32_t i = 0; i < hn->cfg.workers; i++) {
		const struct hn_worker *w = &hn->workers[i];
		out->bytes_sent += load(&w->bytes_sent);
		out->send_calls += load(&w->send_calls);
		out->bytes_received += load(&w->bytes_received);
		out->bytes_copied += load(&w->bytes_copied);
		out->worker_wakeups += load(&w->wakeups);
		/* Count the phase the worker is in right now, too. */
		uint64_t poll = load(&w->poll_ns), sleep = load(&w->sleep_ns);
		uint64_t idle_since = load(&w->idle_since), sleep_since = load(&w->sleep_since);
		if (idle_since && idle_since < now)
			poll += now - idle_since;
		if (sleep_since && sleep_since < now)
			sleep += now - sleep_since;
		uint64_t alive = now - w->start_ns;
		out->worker_poll_ns += poll;
		out->worker_sleep_ns += sleep;
		out->worker_busy_ns += alive > poll + sleep ? alive - poll - sleep : 0;
	}
}
