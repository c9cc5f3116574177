/* SPDX-License-Identifier: MIT */
/*
 * Filling requests: reserve a record and an SQE, attach the payload (zero
 * copy: the caller's buffer's GPA; bounce: a run of the bounce area, copied
 * into for a send), stage host-written socket addresses, and write the SQE.
 * The asynchronous vs_prep_*() API lives at the bottom.
 */
#include <string.h>

#include "internal.h"

/* The most one request may move: the host refuses more than VS_MAX_IO_BYTES,
 * and every count stays inside the int32_t result. */
#define VS_LEN_MAX VS_MAX_IO_BYTES
_Static_assert(VS_MAX_IO_BYTES <= INT32_MAX, "a request's count fits its result");

int vs_msg_flags(unsigned flags, uint8_t *sqe_flags, uint32_t *op_flags)
{
	if (flags & ~(VS_MSG_MASK | VS_MSG_DONTWAIT | VS_MSG_NOSIGNAL))
		return -VS_EOPNOTSUPP;
	*sqe_flags = (flags & VS_MSG_DONTWAIT) ? VS_SQE_NONBLOCK : 0;
	*op_flags = flags & VS_MSG_MASK;
	return 0;
}

/* GPA of [p, p + len), if the host can reach all of it contiguously. */
static uint64_t gpa_of(const void *p, size_t len)
{
	uint64_t gpa = vs_lib.t.virt_to_gpa(vs_lib.t.ctx, p);
	if (gpa == VS_GPA_INVALID || len <= 1)
		return gpa;
	uint64_t end = vs_lib.t.virt_to_gpa(vs_lib.t.ctx, (const uint8_t *)p + len - 1);
	return end == gpa + len - 1 ? gpa : VS_GPA_INVALID;
}

/* Point the request at its payload; returns the length the SQE carries. */
static int attach_payload(struct vs_queue_state *q, struct vs_req *r, const struct vs_attach *a,
			  uint64_t *addr, uint32_t *len)
{
	size_t n = a->len < VS_LEN_MAX ? a->len : VS_LEN_MAX;
	const void *buf = a->send_buf ? a->send_buf : a->recv_buf;

	*addr = 0;
	*len = 0;
	if (n == 0) {
		/* An empty payload still has to point somewhere the host accepts. */
		if (vs_lib.t.copy == VS_COPY_BOUNCE)
			*addr = q->gpa + VS_QUEUE_BOUNCE_OFFSET;
		return 0;
	}
	if (vs_lib.t.copy == VS_COPY_BOUNCE) {
		if (n > VS_BOUNCE_MAX_REQUEST)
			n = VS_BOUNCE_MAX_REQUEST;
		int err = vs_bounce_alloc(q, r, (uint32_t)n);
		if (err)
			return err;
		if (a->send_buf) {
			memcpy(vs_bounce_ptr(q, r), a->send_buf, n);
			q->stats.bounce_bytes += n;
		} else {
			r->copy_out = a->recv_buf;
			r->copy_len = (uint32_t)n;
		}
		*addr = vs_bounce_gpa(q, r);
	} else {
		*addr = gpa_of(buf, n);
		if (*addr == VS_GPA_INVALID)
			return -VS_EFAULT;
	}
	*len = (uint32_t)n;
	return 0;
}

int vs_prep_req(struct vs_queue_state *q, enum vs_req_owner owner, uint64_t user_data,
		const struct vs_sqe *tmpl, const struct vs_attach *a, struct vs_req **out)
{
	if (q->broken)
		return -VS_EIO;
	if (q->free_head == VS_REQ_NONE || vs_sq_space(q) == 0)
		return q->broken ? -VS_EIO : -VS_EBUSY;

	struct vs_req *r = vs_req_alloc(q);
	uint64_t addr = tmpl->addr, out_gpa = tmpl->u.out.addr_gpa;
	uint32_t len = tmpl->len;
	if (a && (a->send_buf || a->recv_buf)) {
		int err = attach_payload(q, r, a, &addr, &len);
		if (err) {
			vs_req_free(q, r);
			return err;
		}
	}
	if (a && a->addr_out) {
		/* The host writes into the record, the completion copies it to
		 * the caller: the caller's struct need not be guest-addressable. */
		memset(&r->addr_stage, 0, sizeof(r->addr_stage));
		r->addr_out = a->addr_out;
		uint64_t gpa = gpa_of(&r->addr_stage, sizeof(r->addr_stage));
		if (a->addr_out_in_u) {
			out_gpa = gpa;
		} else {
			addr = gpa;
			len = sizeof(r->addr_stage);
		}
	}

	struct vs_sqe *sqe = vs_sq_next(q);
	memcpy(sqe, tmpl, sizeof(*sqe));
	sqe->addr = addr;
	sqe->len = len;
	if (a && a->addr_out_in_u)
		sqe->u.out.addr_gpa = out_gpa;
	sqe->user_data = vs_req_tag(q, r);

	r->user_data = user_data;
	r->owner = (uint8_t)owner;
	r->opcode = tmpl->opcode;
	r->state = VS_REQ_PENDING;
	q->sq_prepared++;
	if (out)
		*out = r;
	return 0;
}

/* ---- request builders: shared by the asynchronous and blocking APIs ---- */

static void sqe_init(struct vs_sqe *sqe, uint8_t opcode, int s)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->handle = (uint32_t)s;
}

int vs_build_socket(struct vs_sqe *sqe, int domain, int type)
{
	if (domain != VS_AF_INET && domain != VS_AF_INET6)
		return -VS_EAFNOSUPPORT;
	if (type != VS_SOCK_STREAM && type != VS_SOCK_DGRAM)
		return -VS_EINVAL;
	sqe_init(sqe, VS_OP_SOCKET, 0);
	sqe->op_flags = (uint32_t)domain << 16 | (uint32_t)type;
	return 0;
}

int vs_build_addr_in(struct vs_sqe *sqe, uint8_t opcode, int s, const struct vs_sockaddr *sa)
{
	s = vs_resolve_handle(s);
	if (vs_bad_handle(s))
		return s;
	if (!sa)
		return -VS_EFAULT;
	sqe_init(sqe, opcode, s);
	memcpy(&sqe->u.addr, sa, sizeof(*sa));
	sqe->u.addr.reserved = 0;
	return 0;
}

int vs_build_payload(struct vs_sqe *sqe, struct vs_attach *a, uint8_t opcode, int s,
		     const void *sbuf, void *rbuf, size_t len, unsigned flags,
		     const struct vs_sockaddr *to, struct vs_sockaddr *from)
{
	s = vs_resolve_handle(s);
	if (vs_bad_handle(s))
		return s;
	if (len && !sbuf && !rbuf)
		return -VS_EFAULT;
	if (opcode == VS_OP_SENDTO && !to)
		opcode = VS_OP_SEND; /* sendto(NULL) is send() on a connected socket */
	sqe_init(sqe, opcode, s);
	int err = vs_msg_flags(flags, &sqe->flags, &sqe->op_flags);
	if (err)
		return err;
	if (opcode == VS_OP_SEND || opcode == VS_OP_SENDTO)
		sqe->op_flags = 0; /* PEEK / WAITALL mean nothing for a send */
	if (opcode == VS_OP_SENDTO) {
		memcpy(&sqe->u.addr, to, sizeof(*to));
		sqe->u.addr.reserved = 0;
	}
	memset(a, 0, sizeof(*a));
	a->send_buf = sbuf;
	a->recv_buf = rbuf;
	a->len = len;
	if (opcode == VS_OP_RECVFROM && from) {
		a->addr_out = from;
		a->addr_out_in_u = true;
	}
	return 0;
}

int vs_build_addr_out(struct vs_sqe *sqe, struct vs_attach *a, uint8_t opcode, int s,
		      struct vs_sockaddr *out)
{
	s = vs_resolve_handle(s);
	if (vs_bad_handle(s))
		return s;
	if (!out && opcode != VS_OP_ACCEPT)
		return -VS_EFAULT;
	sqe_init(sqe, opcode, s);
	memset(a, 0, sizeof(*a));
	a->addr_out = out;
	return 0;
}

int vs_build_simple(struct vs_sqe *sqe, uint8_t opcode, int s, uint32_t op_flags)
{
	if (opcode != VS_OP_NOP && vs_bad_handle(s = vs_resolve_handle(s)))
		return s;
	sqe_init(sqe, opcode, opcode == VS_OP_NOP ? 0 : s);
	sqe->op_flags = op_flags;
	return 0;
}

int vs_build_opt(struct vs_sqe *sqe, uint8_t opcode, int s, int level, int name, int64_t value)
{
	s = vs_resolve_handle(s);
	if (vs_bad_handle(s))
		return s;
	if (level < 0 || name < 0)
		return -VS_ENOPROTOOPT;
	sqe_init(sqe, opcode, s);
	sqe->u.opt.level = (uint32_t)level;
	sqe->u.opt.name = (uint32_t)name;
	sqe->u.opt.value = opcode == VS_OP_SETSOCKOPT ? value : 0;
	return 0;
}

/* POLL's op_flags: the events asked for, plus the ones always reported. */
uint32_t vs_poll_mask(unsigned events)
{
	return (events & (VS_POLLIN | VS_POLLOUT)) | VS_POLLERR | VS_POLLHUP;
}

/* CANCEL of the pending request r (its tag, not the caller's user_data). */
void vs_build_cancel(struct vs_sqe *sqe, struct vs_queue_state *q, const struct vs_req *r)
{
	sqe_init(sqe, VS_OP_CANCEL, 0);
	sqe->u.out.addr_gpa = vs_req_tag(q, r);
}

/* ---- the asynchronous API --------------------------------------------- */

static int prep_async(int built, const struct vs_sqe *sqe, const struct vs_attach *a,
		      uint64_t user_data)
{
	if (built)
		return built;
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	return vs_prep_req(q, VS_OWNER_ASYNC, user_data, sqe, a, NULL);
}

int vs_prep_nop(uint64_t user_data)
{
	struct vs_sqe sqe;
	return prep_async(vs_build_simple(&sqe, VS_OP_NOP, 0, 0), &sqe, NULL, user_data);
}

int vs_prep_socket(int domain, int type, uint64_t user_data)
{
	struct vs_sqe sqe;
	return prep_async(vs_build_socket(&sqe, domain, type), &sqe, NULL, user_data);
}

int vs_prep_connect(int s, const struct vs_sockaddr *addr, uint64_t user_data)
{
	struct vs_sqe sqe;
	return prep_async(vs_build_addr_in(&sqe, VS_OP_CONNECT, s, addr), &sqe, NULL, user_data);
}

int vs_prep_bind(int s, const struct vs_sockaddr *addr, uint64_t user_data)
{
	struct vs_sqe sqe;
	return prep_async(vs_build_addr_in(&sqe, VS_OP_BIND, s, addr), &sqe, NULL, user_data);
}

int vs_prep_listen(int s, int backlog, uint64_t user_data)
{
	struct vs_sqe sqe;
	if (backlog < 0)
		backlog = 0;
	return prep_async(vs_build_simple(&sqe, VS_OP_LISTEN, s, (uint32_t)backlog), &sqe, NULL,
			  user_data);
}

int vs_prep_accept(int s, struct vs_sockaddr *peer, uint64_t user_data)
{
	struct vs_sqe sqe;
	struct vs_attach a;
	return prep_async(vs_build_addr_out(&sqe, &a, VS_OP_ACCEPT, s, peer), &sqe, &a,
			  user_data);
}

int vs_prep_send(int s, const void *buf, size_t len, unsigned flags, uint64_t user_data)
{
	struct vs_sqe sqe;
	struct vs_attach a;
	return prep_async(vs_build_payload(&sqe, &a, VS_OP_SEND, s, buf, NULL, len, flags,
					   NULL, NULL),
			  &sqe, &a, user_data);
}

int vs_prep_recv(int s, void *buf, size_t len, unsigned flags, uint64_t user_data)
{
	struct vs_sqe sqe;
	struct vs_attach a;
	return prep_async(vs_build_payload(&sqe, &a, VS_OP_RECV, s, NULL, buf, len, flags,
					   NULL, NULL),
			  &sqe, &a, user_data);
}

int vs_prep_sendto(int s, const void *buf, size_t len, unsigned flags,
		   const struct vs_sockaddr *to, uint64_t user_data)
{
	struct vs_sqe sqe;
	struct vs_attach a;
	return prep_async(vs_build_payload(&sqe, &a, VS_OP_SENDTO, s, buf, NULL, len, flags,
					   to, NULL),
			  &sqe, &a, user_data);
}

int vs_prep_recvfrom(int s, void *buf, size_t len, unsigned flags, struct vs_sockaddr *from,
		     uint64_t user_data)
{
	struct vs_sqe sqe;
	struct vs_attach a;
	return prep_async(vs_build_payload(&sqe, &a, VS_OP_RECVFROM, s, NULL, buf, len, flags,
					   NULL, from),
			  &sqe, &a, user_data);
}

int vs_prep_shutdown(int s, int how, uint64_t user_data)
{
	struct vs_sqe sqe;
	if (how < 0 || how > 2)
		return -VS_EINVAL;
	return prep_async(vs_build_simple(&sqe, VS_OP_SHUTDOWN, s, (uint32_t)how), &sqe, NULL,
			  user_data);
}

int vs_prep_close(int s, uint64_t user_data)
{
	struct vs_sqe sqe;
	return prep_async(vs_build_simple(&sqe, VS_OP_CLOSE, s, 0), &sqe, NULL, user_data);
}

int vs_prep_setsockopt(int s, int level, int name, int64_t value, uint64_t user_data)
{
	struct vs_sqe sqe;
	return prep_async(vs_build_opt(&sqe, VS_OP_SETSOCKOPT, s, level, name, value), &sqe,
			  NULL, user_data);
}

int vs_prep_getsockopt(int s, int level, int name, uint64_t user_data)
{
	struct vs_sqe sqe;
	return prep_async(vs_build_opt(&sqe, VS_OP_GETSOCKOPT, s, level, name, 0), &sqe, NULL,
			  user_data);
}

int vs_prep_getsockname(int s, struct vs_sockaddr *out, uint64_t user_data)
{
	struct vs_sqe sqe;
	struct vs_attach a;
	return prep_async(vs_build_addr_out(&sqe, &a, VS_OP_GETSOCKNAME, s, out), &sqe, &a,
			  user_data);
}

int vs_prep_getpeername(int s, struct vs_sockaddr *out, uint64_t user_data)
{
	struct vs_sqe sqe;
	struct vs_attach a;
	return prep_async(vs_build_addr_out(&sqe, &a, VS_OP_GETPEERNAME, s, out), &sqe, &a,
			  user_data);
}

int vs_prep_poll(int s, unsigned events, uint64_t user_data)
{
	struct vs_sqe sqe;
	return prep_async(vs_build_simple(&sqe, VS_OP_POLL, s, vs_poll_mask(events)), &sqe, NULL,
			  user_data);
}

int vs_prep_cancel(uint64_t target, uint64_t user_data)
{
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	for (uint32_t i = 0; i < VS_MAX_INFLIGHT; i++) {
		struct vs_req *r = &q->req[i];
		if (r->state == VS_REQ_PENDING && r->owner == VS_OWNER_ASYNC &&
		    r->user_data == target) {
			struct vs_sqe sqe;
			vs_build_cancel(&sqe, q, r);
			return vs_prep_req(q, VS_OWNER_ASYNC, user_data, &sqe, NULL, NULL);
		}
	}
	return -VS_ENOENT;
}

/* Chains (abi.h, VS_SQE_LINK): set the link flag on the SQE prepared last.
 * It must still be ours: not yet handed to the host (published). */
int vs_prep_link(void)
{
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	if (q->sq_prepared == q->sq_published)
		return -VS_EINVAL;
	q->ring->sq[(q->sq_prepared - 1) & (VS_SQ_ENTRIES - 1)].flags |= VS_SQE_LINK;
	return 0;
}

/* ---- handing over and waiting ------------------------------------------ */

int vs_submit(void)
{
	struct vs_queue_state *q = vs_this_queue();
	return q ? vs_sched_submit(q, false) : -VS_ENODEV;
}

int vs_flush(void)
{
	struct vs_queue_state *q = vs_this_queue();
	return q ? vs_sched_flush(q) : -VS_ENODEV;
}

static uint32_t enough_done(struct vs_queue_state *q, void *arg)
{
	unsigned min = *(unsigned *)arg;
	return q->done_count >= min ? 0 : min - q->done_count;
}

static int wait_done(struct vs_queue_state *q, unsigned min, int64_t timeout_ns)
{
	int err = vs_sched_wait(q, enough_done, &min, timeout_ns);
	return err ? err : (int)q->done_count;
}

int vs_wait(unsigned min, int timeout_ms)
{
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	if (min > q->used)
		return -VS_EINVAL; /* would wait forever */
	int64_t timeout_ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
	/* (requests are with the host or about to be: vs_sched_wait submits) */
	bool crowded = vs_lib.t.notify == VS_NOTIFY_ADAPTIVE && !q->no_spin &&
		       vs_spin_crowded(q->sq_prepared - q->sq_published + vs_with_host(q));
	if (!crowded)
		return wait_done(q, min, timeout_ns);
	bool skip_spin = vs_wait_is_long(q->crowd_wait_ns, vs_lib.t.spin_ns);
	if (skip_spin) {
		q->stats.waits_long++;
		q->no_spin = 1; /* spin_backoff.h, "Long waits" */
	}
	uint64_t t0 = vs_lib.t.now_ns(vs_lib.t.ctx);
	int r = wait_done(q, min, timeout_ns);
	q->no_spin = 0;
	if (r >= 0)
		vs_wait_length_note(&q->crowd_wait_ns, vs_lib.t.now_ns(vs_lib.t.ctx) - t0);
	return r;
}

int vs_wait_long(unsigned min, int timeout_ms)
{
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	q->no_spin = 1;
	int r = vs_wait(min, timeout_ms);
	q->no_spin = 0;
	return r;
}
