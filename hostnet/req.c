/* SPDX-License-Identifier: MIT */
/* The FIFO lists parked requests wait in. */
#include "req.h"

#include <stddef.h>

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
