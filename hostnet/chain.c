/* SPDX-License-Identifier: MIT */
/*
 * Chains of linked requests: see chain.h for the life of a link and
 * abi.h (VS_SQE_LINK) for what the guest is promised.
 */
#include "chain.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "kick.h"
#include "queue.h"

/* A link waiting for its turn: the private SQE copy, validated only when it
 * runs (its handle may be the one an earlier link creates). */
struct hn_link {
	struct hn_link *next;
	struct vs_sqe sqe;
};

struct hn_chain {
	struct hn_chain_set *set;
	struct hn_queue *q;           /* where its links came from and complete */
	struct hn_chain *next_ready;  /* in set->ready_* while on_ready */
	struct hn_chain *prev, *next; /* in set->all */
	struct hn_link *head, *tail;  /* links waiting for their turn, in SQ order */
	uint32_t handle;              /* what VS_HANDLE_CHAIN stands for (0: nothing yet) */
	bool running;                 /* a link was handed out and has not completed */
	bool broken;                  /* a link failed: the rest complete VS_ECHAINBROKEN */
	bool terminated;              /* its last link (no VS_SQE_LINK) was taken */
	bool on_ready;
};

void hn_chains_init(struct hn_chain_set *cs, int kick_fd)
{
	*cs = (struct hn_chain_set){ .kick_fd = kick_fd };
	pthread_mutex_init(&cs->lock, NULL);
}

static void free_links(struct hn_chain *c)
{
	struct hn_link *l;
	while ((l = c->head)) {
		c->head = l->next;
		free(l);
	}
	c->tail = NULL;
}

void hn_chains_release(struct hn_chain_set *cs)
{
	struct hn_chain *c, *next;
	for (c = cs->all; c; c = next) {
		next = c->next;
		free_links(c);
		free(c);
	}
	cs->all = NULL;
	atomic_store(&cs->live, 0);
	pthread_mutex_destroy(&cs->lock);
}

/* ---- below: set locked ---------------------------------------------------- */

static struct hn_chain *new_chain(struct hn_chain_set *cs, struct hn_queue *q)
{
	struct hn_chain *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->set = cs;
	c->q = q;
	c->next = cs->all;
	if (cs->all)
		cs->all->prev = c;
	cs->all = c;
	atomic_fetch_add(&cs->live, 1);
	return c;
}

static void free_chain(struct hn_chain_set *cs, struct hn_chain *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free_links(c);
	free(c);
	atomic_fetch_sub(&cs->live, 1);
}

/* Has the chain nothing left to do, ever? */
static bool finished(const struct hn_chain *c)
{
	return c->terminated && !c->running && !c->head && !c->on_ready;
}

static void push_ready(struct hn_chain_set *cs, struct hn_chain *c)
{
	if (c->on_ready)
		return;
	c->on_ready = true;
	c->next_ready = NULL;
	if (cs->ready_tail)
		cs->ready_tail->next_ready = c;
	else
		__atomic_store_n(&cs->ready_head, c, __ATOMIC_RELAXED); /* peeked unlocked */
	cs->ready_tail = c;
}

static struct hn_chain *pop_ready(struct hn_chain_set *cs)
{
	struct hn_chain *c = cs->ready_head;
	if (c) {
		__atomic_store_n(&cs->ready_head, c->next_ready, __ATOMIC_RELAXED);
		if (!cs->ready_head)
			cs->ready_tail = NULL;
		c->on_ready = false;
	}
	return c;
}

static void use_chain_handle(const struct hn_chain *c, struct vs_sqe *sqe)
{
	if (sqe->handle == VS_HANDLE_CHAIN && c->handle)
		sqe->handle = c->handle;
}

static void post_broken(struct hn_chain *c, const struct vs_sqe *sqe)
{
	hn_queue_post(c->q, sqe->user_data, -VS_ECHAINBROKEN, 0);
}

/* ---- the worker's side ------------------------------------------------------ */

enum hn_chain_verdict hn_chain_take(struct hn_chain_set *cs, struct hn_queue *q,
				    struct vs_sqe *sqe, struct hn_chain **chain)
{
	bool linked = sqe->flags & VS_SQE_LINK;
	/* Only the worker that owns q takes from it, and only it changes
	 * open[]: a peek without the lock is safe, and saves the lock for
	 * every request that is not in a chain. */
	if (!linked && !cs->open[q->index])
		return HN_CHAIN_NONE;

	enum hn_chain_verdict v = HN_CHAIN_HELD;
	pthread_mutex_lock(&cs->lock);
	struct hn_chain *c = cs->open[q->index];
	if (!c) {
		c = cs->open[q->index] = new_chain(cs, q);
		if (!c) {
			/* Without a chain nothing orders the links: run this one
			 * on its own, as if unlinked.  (malloc failing: the next
			 * linked SQE tries again.) */
			pthread_mutex_unlock(&cs->lock);
			return HN_CHAIN_NONE;
		}
	}
	if (!linked) {
		c->terminated = true;
		cs->open[q->index] = NULL;
	}

	if (!c->running && !c->head && !c->broken) {
		c->running = true;
		use_chain_handle(c, sqe);
		*chain = c;
		v = HN_CHAIN_RUN;
	} else if (!c->running && !c->head) {
		/* Broken, nothing before it: its turn is now. */
		post_broken(c, sqe);
		if (finished(c))
			free_chain(cs, c);
	} else {
		struct hn_link *l = malloc(sizeof(*l));
		if (l) {
			l->next = NULL;
			l->sqe = *sqe;
			if (c->tail)
				c->tail->next = l;
			else
				c->head = l;
			c->tail = l;
		} else {
			/* Cannot keep it: it fails now (ahead of the links before
			 * it, the one case where a chain's completions leave SQ
			 * order) and breaks the chain. */
			hn_queue_post(q, sqe->user_data, -ENOMEM, 0);
			c->broken = true;
			if (!c->running)
				push_ready(cs, c);
		}
	}
	pthread_mutex_unlock(&cs->lock);
	return v;
}

struct hn_chain *hn_chain_next(struct hn_chain_set *cs, struct vs_sqe *sqe,
			       struct hn_queue **q)
{
	if (!__atomic_load_n(&cs->ready_head, __ATOMIC_RELAXED))
		return NULL; /* the lock is taken below before anything is used */
	pthread_mutex_lock(&cs->lock);
	struct hn_chain *c;
	while ((c = pop_ready(cs))) {
		if (c->running)
			continue; /* its link_done puts it back */
		struct hn_link *l;
		while (c->broken && (l = c->head)) {
			c->head = l->next;
			if (!c->head)
				c->tail = NULL;
			post_broken(c, &l->sqe);
			free(l);
		}
		if ((l = c->head)) {
			c->head = l->next;
			if (!c->head)
				c->tail = NULL;
			*sqe = l->sqe;
			free(l);
			use_chain_handle(c, sqe);
			c->running = true;
			*q = c->q;
			pthread_mutex_unlock(&cs->lock);
			return c;
		}
		if (finished(c))
			free_chain(cs, c);
	}
	pthread_mutex_unlock(&cs->lock);
	return NULL;
}

/* Did the link not do what the next one depends on?  (abi.h, Chains.) */
static bool link_failed(const struct hn_req *r, int32_t res)
{
	if (res < 0)
		return true;
	switch (r->opcode) {
	case VS_OP_SEND:
	case VS_OP_SENDTO:
		return (uint32_t)res < r->len;
	case VS_OP_RECV:
	case VS_OP_RECVFROM:
		if (r->len == 0)
			return false;
		return res == 0 || ((r->op_flags & VS_MSG_WAITALL) && (uint32_t)res < r->len);
	default:
		return false;
	}
}

void hn_chain_link_done(struct hn_chain *c, const struct hn_req *r, int32_t res)
{
	struct hn_chain_set *cs = c->set;
	pthread_mutex_lock(&cs->lock);
	c->running = false;
	if (link_failed(r, res))
		c->broken = true;
	else if (r->opcode == VS_OP_SOCKET || r->opcode == VS_OP_ACCEPT)
		c->handle = (uint32_t)res;
	/* Its owner goes on with it (a waiting link), or frees it. */
	bool wake = (c->head || c->terminated) && !c->on_ready;
	if (wake)
		push_ready(cs, c);
	pthread_mutex_unlock(&cs->lock);
	if (wake && hn_queue_self_kick_fd != cs->kick_fd)
		hn_kick(cs->kick_fd);
}
