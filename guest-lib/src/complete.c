/* SPDX-License-Identifier: MIT */
/*
 * Completions: match a CQE to its request, finish the request (bounce copy
 * out, staged socket address), and queue it for whoever waits for it.
 */
#include <string.h>

#include "internal.h"

void vs_complete(struct vs_queue_state *q, const struct vs_cqe *cqe)
{
	uint64_t tag = cqe->user_data;
	if ((tag & VS_TAG_KIND_MASK) == VS_TAG_STREAM) {
		q->stats.completions++;
		vs_stream_complete(q, cqe);
		return;
	}
	if (tag & VS_EPOLL_TAG) {
		q->stats.completions++;
		vs_epoll_complete(q, cqe);
		return;
	}
	uint32_t index = (uint32_t)(tag & 0xffffu);
	struct vs_req *r = &q->req[index < VS_MAX_INFLIGHT ? index : 0];
	if (index >= VS_MAX_INFLIGHT || (tag >> 32) != 0 || r->state != VS_REQ_PENDING ||
	    r->gen != (uint16_t)(tag >> 16)) {
		/* not a request of ours (or one already completed): a host bug;
		 * taking it would corrupt some other request's result */
		q->stats.bad_completions++;
		return;
	}
	q->stats.completions++;
	r->result = cqe->result;
	r->cqe_flags = cqe->flags;

	if (r->copy_out && r->result > 0) {
		uint32_t n = (uint32_t)r->result;
		if (n > r->copy_len)
			n = r->copy_len;
		memcpy(r->copy_out, vs_bounce_ptr(q, r), n);
		q->stats.bounce_bytes += n;
	}
	if (r->addr_out && r->result >= 0)
		memcpy(r->addr_out, &r->addr_stage, sizeof(r->addr_stage));
	vs_bounce_free(q, r);
	r->state = VS_REQ_DONE;

	switch (r->owner) {
	case VS_OWNER_ASYNC:
		r->next = VS_REQ_NONE;
		if (q->done_tail == VS_REQ_NONE)
			q->done_head = (uint16_t)index;
		else
			q->req[q->done_tail].next = (uint16_t)index;
		q->done_tail = (uint16_t)index;
		q->done_count++;
		break;
	case VS_OWNER_SYNC:
		break; /* its blocking call sees DONE and frees it */
	default:
		vs_req_free(q, r); /* nobody waits any more */
		break;
	}
}

void vs_req_result(struct vs_queue_state *q, struct vs_req *r, struct vs_completion *out)
{
	(void)q;
	out->user_data = r->user_data;
	out->result = r->result;
	out->flags = r->cqe_flags;
}

int vs_reap(struct vs_completion *out, unsigned max)
{
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	int err = vs_cq_drain(q);
	if (err && q->done_head == VS_REQ_NONE)
		return err;
	unsigned n = 0;
	while (n < max && q->done_head != VS_REQ_NONE) {
		struct vs_req *r = &q->req[q->done_head];
		q->done_head = r->next;
		if (q->done_head == VS_REQ_NONE)
			q->done_tail = VS_REQ_NONE;
		q->done_count--;
		vs_req_result(q, r, &out[n++]);
		vs_req_free(q, r);
	}
	return (int)n;
}
