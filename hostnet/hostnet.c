/* SPDX-License-Identifier: MIT */
/* hostnet_create / stop / destroy / get_stats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "handle_table.h"
#include "hostnet_internal.h"
#include "ops.h"
#include "sandbox.h"
#include "sock.h"

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
	if (c->sock_buffer && c->sock_buffer != HOSTNET_SOCK_BUFFER_AUTO &&
	    (c->sock_buffer < HOSTNET_SOCK_BUFFER_MIN || c->sock_buffer > HOSTNET_SOCK_BUFFER_MAX))
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

static void init_env(struct hostnet *hn)
{
	hn->env = (struct hn_worker_env){
		.cfg = &hn->cfg,
		.mem = &hn->mem,
		.handles = hn->handles,
		.deny_log = &hn->deny_log,
		.sockbuf = &hn->sockbuf,
		.link_sh = hn->link->sh,
	};
	for (uint32_t i = 0; i < hn->cfg.workers; i++)
		hn->env.kick_fds[i] = hn->link->kick_fds[i];
}

/* The caller's link must describe this config; else make one. */
static int attach_link(struct hostnet *hn)
{
	const struct hostnet_config *c = &hn->cfg;
	struct hostnet_link *l = c->link;
	if (l) {
		if (l->ring != c->ring || l->ring_gpa != c->ring_gpa ||
		    l->ring_bytes != c->ring_bytes || l->nr_queues != c->nr_queues ||
		    l->workers != c->workers)
			return -EINVAL;
		hn->link = l;
		return 0;
	}
	hn->own_link = true;
	return hostnet_link_create(c->ring, c->ring_gpa, c->ring_bytes, c->nr_queues,
				   c->workers, &hn->link);
}

static int init_worker(struct hostnet *hn, uint32_t i)
{
	struct hn_worker *w = &hn->workers[i];
	int err = hn_worker_init(w, &hn->env, i, hn->cfg.nr_queues);
	/* A fixed set: queue q belongs to worker q % workers. */
	for (uint32_t q = i; !err && q < hn->cfg.nr_queues; q += hn->cfg.workers) {
		w->queues[w->nr_queues++] = &hn->queues[q];
		hn->queues[q].kick_fd = w->evfd;
	}
	return err;
}

/* Everything after the config checks and the allocation of the arrays. */
static int start(struct hostnet *hn)
{
	int err = attach_link(hn);
	err = err ? err : hn_handles_create(hn->cfg.max_sockets, &hn->handles);
	if (err)
		return err;
	init_env(hn);
	for (uint32_t i = 0; !err && i < hn->cfg.nr_queues; i++)
		err = hn_queue_init(&hn->queues[i], i, hn_ring_queue(&hn->mem, i),
				    &hn->link->sh->q[i],
				    HOSTNET_QUEUE_INFLIGHT(hn->cfg.max_sockets));
	for (uint32_t i = 0; !err && i < hn->cfg.workers; i++)
		err = init_worker(hn, i);
	for (uint32_t i = 0; !err && i < hn->cfg.workers; i++)
		err = hn_worker_start(&hn->workers[i]);
	return err;
}

/* n zeroed elements of a cache-line-aligned type, starting on a line of their
 * own: queues and workers are written by different threads, and neighbours in
 * the array must not share a line (README, "Locks on the request path"). */
static void *calloc_lines(size_t n, size_t size)
{
	void *p = aligned_alloc(64, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
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
	if (!hn->cfg.sock_buffer)
		hn->cfg.sock_buffer = HN_SOCK_BUFFER_BYTES;
	hn_sockbuf_init(&hn->sockbuf, &hn->cfg);
	hn_deny_log_init(&hn->deny_log);
	hn->mem = (struct hn_guest_mem){
		.ram = cfg->ram, .ram_bytes = cfg->ram_bytes,
		.ring = cfg->ring, .ring_gpa = cfg->ring_gpa, .ring_bytes = cfg->ring_bytes,
		.nr_queues = cfg->nr_queues,
	};

	hn->queues = calloc_lines(cfg->nr_queues, sizeof(*hn->queues));
	hn->workers = calloc_lines(hn->cfg.workers, sizeof(*hn->workers));
	if (!hn->queues || !hn->workers) {
		free(hn->queues);
		free(hn->workers);
		free(hn);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < hn->cfg.workers; i++)
		hn->workers[i].exec.epfd = hn->workers[i].evfd = -1;

	err = start(hn);
	if (err) {
		hostnet_destroy(hn);
		return err;
	}
	*out = hn;
	return 0;
}

void hostnet_stop(struct hostnet *hn)
{
	if (hn)
		hostnet_link_stop(hn->link);
}

void hostnet_destroy(struct hostnet *hn)
{
	if (!hn)
		return;
	hostnet_stop(hn);
	atomic_store(&hn->env.quit, true);
	for (uint32_t i = 0; i < hn->cfg.workers; i++)
		hn_worker_join(&hn->workers[i]);
	if (hn->handles)
		hn_ops_close_all(hn->handles, hn->cfg.max_sockets);
	for (uint32_t i = 0; i < hn->cfg.workers; i++)
		hn_worker_release(&hn->workers[i]);
	for (uint32_t i = 0; i < hn->cfg.nr_queues; i++)
		hn_queue_destroy(&hn->queues[i]);
	hn_handles_destroy(hn->handles);
	hn_deny_log_destroy(&hn->deny_log);
	if (hn->own_link)
		hostnet_link_destroy(hn->link);
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
	hostnet_link_get_stats(hn->link, out); /* the doorbell side's counters */
	out->denied = hn_deny_log_count(&hn->deny_log);
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
		out->queue[i].requests = load(&q->requests);
		out->queue[i].batches = load(&q->batches);
		out->queue[i].completions = load(&q->completions);
		out->wake_calls += load(&q->link->wake_calls);
		for (unsigned b = 0; b < HOSTNET_BATCH_BUCKETS; b++)
			out->batch_hist[b] += load(&q->batch_hist[b]);
	}
	uint64_t now = hn_now_ns();
	for (uint32_t i = 0; i < hn->cfg.workers; i++) {
		const struct hn_worker *w = &hn->workers[i];
		out->bytes_sent += load(&w->exec.bytes_sent);
		out->send_calls += load(&w->exec.send_calls);
		out->syscalls_skipped += load(&w->exec.syscalls_skipped);
		out->bytes_received += load(&w->exec.bytes_received);
		out->bytes_copied += load(&w->exec.bytes_copied);
		out->worker_wakeups += load(&w->wakeups);
		out->chains_live += atomic_load(&w->chains.live);
		out->poll_loops += load(&w->poll_loops);
		out->kick_wakes += load(&w->kick_wakes);
		out->kick_wake_ns += load(&w->kick_wake_ns);
		out->t_take_ns += load(&w->timing.take_ns);
		out->t_validate_ns += load(&w->timing.validate_ns);
		out->t_run_ns += load(&w->timing.run_ns);
		out->t_events_ns += load(&w->timing.events_ns);
		out->t_post_ns += load(&w->timing.post_ns);
		out->t_posts += load(&w->timing.posts);
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
