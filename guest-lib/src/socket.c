/* SPDX-License-Identifier: MIT */
/*
 * The blocking socket API: each call is one request (a stream send may be
 * several) prepared, handed to the scheduler and waited for.  Completions
 * of the caller's asynchronous requests that arrive meanwhile are kept for
 * vs_reap().
 */
#include <string.h>

#include "internal.h"

static uint32_t progressed(struct vs_queue_state *q, void *arg)
{
	return q->stats.completions == *(uint64_t *)arg;
}

int vs_prep_sync(struct vs_queue_state *q, const struct vs_sqe *sqe, const struct vs_attach *a,
		 struct vs_req **out)
{
	for (;;) {
		int err = vs_prep_req(q, VS_OWNER_SYNC, 0, sqe, a, out);
		if (err != -VS_EBUSY)
			return err;
		/* A full SQ empties as the host copies entries out (an interest
		 * set's POLLs take slots but no record). */
		if (vs_sq_space(q) == 0) {
			err = vs_sq_wait_room(q);
			if (err)
				return err;
			continue;
		}
		/* Else only a completion frees a record or bounce chunks.  If
		 * everything is completed and waiting for vs_reap(), nothing we can
		 * wait for will help. */
		if (q->used == q->done_count)
			return -VS_EBUSY;
		uint64_t seen = q->stats.completions;
		err = vs_sched_wait(q, progressed, &seen, -1);
		if (err)
			return err;
	}
}

void vs_req_abandon(struct vs_queue_state *q, struct vs_req *r)
{
	if (r->state == VS_REQ_DONE)
		vs_req_free(q, r);
	else
		r->owner = VS_OWNER_ORPHAN;
}

static uint32_t req_done(struct vs_queue_state *q, void *arg)
{
	(void)q;
	return ((struct vs_req *)arg)->state != VS_REQ_DONE;
}

/* One request, start to finish.  built: the builder's verdict. */
static int call(int built, const struct vs_sqe *sqe, const struct vs_attach *a)
{
	if (built)
		return built;
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	struct vs_req *r;
	int err = vs_prep_sync(q, sqe, a, &r);
	if (err)
		return err;
	err = vs_sched_wait(q, req_done, r, -1);
	if (err) {
		vs_req_abandon(q, r);
		return err;
	}
	int result = r->result;
	vs_req_free(q, r);
	return result;
}

int vs_socket(int domain, int type)
{
	struct vs_sqe sqe;
	return call(vs_build_socket(&sqe, domain, type), &sqe, NULL);
}

/* VS_MSG_DONTWAIT -> VS_SQE_NONBLOCK on a built SQE; other flags are refused. */
static int nonblock_flag(int built, struct vs_sqe *sqe, unsigned flags)
{
	if (built)
		return built;
	if (flags & ~VS_MSG_DONTWAIT)
		return -VS_EINVAL;
	if (flags & VS_MSG_DONTWAIT)
		sqe->flags |= VS_SQE_NONBLOCK;
	return 0;
}

int vs_connect_flags(int s, const struct vs_sockaddr *addr, unsigned flags)
{
	struct vs_sqe sqe;
	return call(nonblock_flag(vs_build_addr_in(&sqe, VS_OP_CONNECT, s, addr), &sqe, flags),
		    &sqe, NULL);
}

int vs_connect(int s, const struct vs_sockaddr *addr)
{
	return vs_connect_flags(s, addr, 0);
}

int vs_bind(int s, const struct vs_sockaddr *addr)
{
	struct vs_sqe sqe;
	return call(vs_build_addr_in(&sqe, VS_OP_BIND, s, addr), &sqe, NULL);
}

int vs_listen(int s, int backlog)
{
	struct vs_sqe sqe;
	if (backlog < 0)
		backlog = 0;
	return call(vs_build_simple(&sqe, VS_OP_LISTEN, s, (uint32_t)backlog), &sqe, NULL);
}

int vs_accept_flags(int s, struct vs_sockaddr *peer, unsigned flags)
{
	struct vs_sqe sqe;
	struct vs_attach a;
	return call(nonblock_flag(vs_build_addr_out(&sqe, &a, VS_OP_ACCEPT, s, peer), &sqe,
				  flags),
		    &sqe, &a);
}

int vs_accept(int s, struct vs_sockaddr *peer)
{
	return vs_accept_flags(s, peer, 0);
}

/* Sends until everything went out: a blocking stream send does that. */
static int64_t send_all(int s, const uint8_t *buf, size_t len, unsigned flags,
			const struct vs_sockaddr *to)
{
	size_t done = 0;
	do {
		struct vs_sqe sqe;
		struct vs_attach a;
		size_t chunk = len - done; /* the request shortens it if need be */
		int r = call(vs_build_payload(&sqe, &a, VS_OP_SENDTO, s, buf + done, NULL, chunk,
					      flags, to, NULL),
			     &sqe, &a);
		if (r < 0)
			return done ? (int64_t)done : r;
		done += (size_t)r;
		if (r == 0 || (flags & VS_MSG_DONTWAIT))
			break;
	} while (done < len);
	return (int64_t)done;
}

int64_t vs_send(int s, const void *buf, size_t len, unsigned flags)
{
	/* A non-blocking send on a stream descriptor: copied, not waited for. */
	struct vs_stream *st = flags & VS_MSG_DONTWAIT ? vs_stream_get(s) : vs_stream_of(s);
	if (st) {
		int64_t r = flags & VS_MSG_DONTWAIT ? vs_stream_send(st, buf, len, flags)
						    : vs_stream_take_error(st);
		if (r != VS_STREAM_NOT_MINE && r != 0)
			return r;
	}
	return send_all(s, buf, len, flags, NULL);
}

int64_t vs_sendto(int s, const void *buf, size_t len, unsigned flags,
		  const struct vs_sockaddr *to)
{
	return send_all(s, buf, len, flags, to);
}

int64_t vs_recv(int s, void *buf, size_t len, unsigned flags)
{
	struct vs_stream *st = vs_stream_of(s);
	if (vs_stream_reading(st)) /* its bytes may be in the read-ahead buffer */
		return vs_stream_recv(st, buf, len, flags, NULL);
	struct vs_sqe sqe;
	struct vs_attach a;
	return call(vs_build_payload(&sqe, &a, VS_OP_RECV, s, NULL, buf, len, flags, NULL, NULL),
		    &sqe, &a);
}

int64_t vs_recvfrom(int s, void *buf, size_t len, unsigned flags, struct vs_sockaddr *from)
{
	struct vs_stream *st = vs_stream_of(s);
	if (vs_stream_reading(st))
		return vs_stream_recv(st, buf, len, flags, from);
	struct vs_sqe sqe;
	struct vs_attach a;
	return call(vs_build_payload(&sqe, &a, VS_OP_RECVFROM, s, NULL, buf, len, flags, NULL,
				     from),
		    &sqe, &a);
}

int vs_shutdown(int s, int how)
{
	struct vs_sqe sqe;
	if (how < 0 || how > 2)
		return -VS_EINVAL;
	return call(vs_build_simple(&sqe, VS_OP_SHUTDOWN, s, (uint32_t)how), &sqe, NULL);
}

int vs_close(int s)
{
	struct vs_sqe sqe;
	return call(vs_build_simple(&sqe, VS_OP_CLOSE, s, 0), &sqe, NULL);
}

int vs_setsockopt(int s, int level, int name, int value)
{
	struct vs_sqe sqe;
	return call(vs_build_opt(&sqe, VS_OP_SETSOCKOPT, s, level, name, value), &sqe, NULL);
}

int vs_getsockopt(int s, int level, int name, int *value)
{
	struct vs_sqe sqe;
	if (!value)
		return -VS_EFAULT;
	int pending = level == (int)VS_SOL_SOCKET && name == (int)VS_SO_ERROR
			      ? vs_stream_take_error(vs_stream_of(s)) : 0;
	if (pending) { /* an async send's failure is the socket's error */
		*value = -pending;
		return 0;
	}
	int r = call(vs_build_opt(&sqe, VS_OP_GETSOCKOPT, s, level, name, 0), &sqe, NULL);
	if (r < 0)
		return r;
	*value = r;
	return 0;
}

int vs_getsockname(int s, struct vs_sockaddr *out)
{
	struct vs_sqe sqe;
	struct vs_attach a;
	return call(vs_build_addr_out(&sqe, &a, VS_OP_GETSOCKNAME, s, out), &sqe, &a);
}

int vs_getpeername(int s, struct vs_sockaddr *out)
{
	struct vs_sqe sqe;
	struct vs_attach a;
	return call(vs_build_addr_out(&sqe, &a, VS_OP_GETPEERNAME, s, out), &sqe, &a);
}

/* ---- socket addresses ---------------------------------------------------- */

static uint16_t be16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

void vs_sockaddr_in(struct vs_sockaddr *sa, const uint8_t ip[4], uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = VS_AF_INET;
	sa->port = be16(port);
	memcpy(sa->addr, ip, 4);
}

void vs_sockaddr_in6(struct vs_sockaddr *sa, const uint8_t ip[16], uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = VS_AF_INET6;
	sa->port = be16(port);
	memcpy(sa->addr, ip, 16);
}
