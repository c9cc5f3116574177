/* SPDX-License-Identifier: MIT */
#include "sock.h"

#include <stdlib.h>
#include <unistd.h>

#include "validate.h"

struct hn_sock *hn_sock_new(int fd, int type)
{
	struct hn_sock *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	atomic_init(&s->refs, 1);
	pthread_mutex_init(&s->lock, NULL);
	s->fd = fd;
	s->type = type;
	return s;
}

void hn_sock_get(struct hn_sock *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void hn_sock_put(struct hn_sock *s)
{
	/* acq_rel: the freeing thread must see every other user's writes. */
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (s->fd >= 0)
		close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void hn_req_list_push(struct hn_req_list *l, struct hn_req *r)
{
	r->next = NULL;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
}

struct hn_req *hn_req_list_pop(struct hn_req_list *l)
{
	struct hn_req *r = l->head;
	if (r) {
		l->head = r->next;
		if (!l->head)
			l->tail = NULL;
		r->next = NULL;
	}
	return r;
}

void hn_req_list_remove(struct hn_req_list *l, struct hn_req *r)
{
	struct hn_req *prev = NULL;
	for (struct hn_req *it = l->head; it; prev = it, it = it->next) {
		if (it != r)
			continue;
		if (prev)
			prev->next = r->next;
		else
			l->head = r->next;
		if (l->tail == r)
			l->tail = prev;
		r->next = NULL;
		return;
	}
}
