/* SPDX-License-Identifier: MIT */
#include "pending.h"

#include <stdlib.h>

#include "req.h"
#include "sock.h"

#define FIRST_BUCKETS 256u

static uint32_t bucket_of(uint64_t user_data, uint32_t nbuckets)
{
	/* Fibonacci hashing: tags differ in their low and their high bits */
	return (uint32_t)((user_data * 0x9e3779b97f4a7c15ull) >> 32) & (nbuckets - 1);
}

void hn_pending_init(struct hn_pending *p)
{
	pthread_mutex_init(&p->lock, NULL);
	p->bucket = NULL;
	p->nbuckets = 0;
	p->count = 0;
}

void hn_pending_destroy(struct hn_pending *p)
{
	pthread_mutex_destroy(&p->lock);
	free(p->bucket);
	p->bucket = NULL;
}

static void link_in(struct hn_req **bucket, uint32_t nbuckets, struct hn_req *r)
{
	struct hn_req **head = &bucket[bucket_of(r->user_data, nbuckets)];
	r->pend_prev = NULL;
	r->pend_next = *head;
	if (*head)
		(*head)->pend_prev = r;
	*head = r;
}

/* Twice the buckets; on no memory keep the old ones (longer chains). */
static void grow(struct hn_pending *p)
{
	uint32_t n = p->nbuckets ? p->nbuckets * 2 : FIRST_BUCKETS;
	struct hn_req **b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (uint32_t i = 0; i < p->nbuckets; i++) {
		struct hn_req *r = p->bucket[i], *next;
		for (; r; r = next) {
			next = r->pend_next;
			link_in(b, n, r);
		}
	}
	free(p->bucket);
	p->bucket = b;
	p->nbuckets = n;
}

void hn_pending_add(struct hn_pending *p, struct hn_req *r)
{
	pthread_mutex_lock(&p->lock);
	if (p->count >= 2 * p->nbuckets)
		grow(p);
	if (!p->bucket) {
		/* not even the first table: CANCEL will not find r (-ENOENT) */
		r->pend_prev = r->pend_next = r;
	} else {
		link_in(p->bucket, p->nbuckets, r);
		p->count++;
	}
	pthread_mutex_unlock(&p->lock);
}

void hn_pending_remove(struct hn_pending *p, struct hn_req *r)
{
	pthread_mutex_lock(&p->lock);
	if (r->pend_next == r) { /* never linked (see add) */
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (r->pend_prev)
		r->pend_prev->pend_next = r->pend_next;
	else
		p->bucket[bucket_of(r->user_data, p->nbuckets)] = r->pend_next;
	if (r->pend_next)
		r->pend_next->pend_prev = r->pend_prev;
	r->pend_prev = r->pend_next = NULL;
	p->count--;
	pthread_mutex_unlock(&p->lock);
}

struct hn_sock *hn_pending_oldest(struct hn_pending *p, uint64_t user_data, uint64_t *seq)
{
	struct hn_req *best = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->bucket)
		for (struct hn_req *r = p->bucket[bucket_of(user_data, p->nbuckets)]; r;
		     r = r->pend_next)
			if (r->user_data == user_data && (!best || r->seq < best->seq))
				best = r;
	struct hn_sock *s = NULL;
	if (best) {
		/* best holds a reference to its socket until it finishes, and it
		 * leaves this index (under our lock) before that */
		s = best->sock;
		hn_sock_get(s);
		*seq = best->seq;
	}
	pthread_mutex_unlock(&p->lock);
	return s;
}
