/* SPDX-License-Identifier: MIT */
/*
 * Request records: a free stack per queue (VS_MAX_INFLIGHT of them), each
 * record reused with a new generation so a stale completion tag is refused.
 */
#include "internal.h"

struct vs_req *vs_req_alloc(struct vs_queue_state *q)
{
	if (q->free_head == VS_REQ_NONE)
		return NULL;
	struct vs_req *r = &q->req[q->free_head];
	q->free_head = r->next;
	q->used++;
	r->next = VS_REQ_NONE;
	r->gen++;
	r->copy_out = NULL;
	r->addr_out = NULL;
	r->copy_len = 0;
	r->result = 0;
	r->cqe_flags = 0;
	r->bounce_first = VS_REQ_NONE;
	r->bounce_count = 0;
	return r;
}

void vs_req_free(struct vs_queue_state *q, struct vs_req *r)
{
	vs_bounce_free(q, r);
	r->state = VS_REQ_FREE;
	r->next = q->free_head;
	q->free_head = vs_req_index(q, r);
	q->used--;
}

unsigned vs_inflight(void)
{
	struct vs_queue_state *q = vs_this_queue();
	return q ? q->used : 0;
}
