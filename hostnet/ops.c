/* SPDX-License-Identifier: MIT */
/*
 * Executing requests.
 *
 * Every host socket is non-blocking.  A request is tried at once; if the
 * socket would block it is parked (copied to the heap) in one of the socket's
 * lists (see sock.h) and retried when the owner worker's epoll reports the
 * socket ready, or when an earlier request in its list finishes.  So one slow
 * socket never stalls the others, and per-direction order is kept because
 * only a list's head is ever tried.
 *
 * Payload moves straight between the socket and the translated guest pointer
 * (zero copy).  In bounce mode the pointer is in the queue's bounce area and
 * the payload is staged through the worker's private scratch buffer before a
 * send / after a receive: the copy the paper calls redundant, counted in
 * bytes_copied.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostnet_internal.h"
#include "sockaddr.h"

/* The ABI uses Linux's values, so they pass straight through. */
_Static_assert(VS_MSG_PEEK == MSG_PEEK && VS_MSG_WAITALL == MSG_WAITALL, "MSG_* values");
_Static_assert(VS_POLLIN == POLLIN && VS_POLLOUT == POLLOUT && VS_POLLERR == POLLERR &&
	       VS_POLLHUP == POLLHUP, "POLL* values");
_Static_assert(VS_SOL_SOCKET == SOL_SOCKET && VS_SOL_TCP == IPPROTO_TCP &&
	       VS_SO_REUSEADDR == SO_REUSEADDR && VS_SO_SNDBUF == SO_SNDBUF &&
	       VS_SO_RCVBUF == SO_RCVBUF && VS_SO_ERROR == SO_ERROR &&
	       VS_TCP_NODELAY == TCP_NODELAY, "socket option values");
_Static_assert(SHUT_RD == 0 && SHUT_WR == 1 && SHUT_RDWR == 2, "SHUT_* values");

/* Bounce mode stages a stream send this much at a time, so a send that has
 * to wait wastes at most one chunk of copying. */
#define HN_BOUNCE_CHUNK (64u * 1024u)

static void count(atomic_uint_least64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Post r's completion, drop its socket reference, free a parked copy.  The
 * caller must hold its own reference to r->sock if it still uses it. */
static void finish(struct hn_req *r, int32_t res)
{
	hn_queue_post(r->q, r->user_data, res, 0);
	if (r->sock)
		hn_sock_put(r->sock);
	if (r->on_heap)
		free(r);
}

/* What a cancelled (or closed-under) request reports. */
static int32_t cancel_result(const struct hn_req *r)
{
	return r->done ? (int32_t)r->done : -ECANCELED;
}

/* What a request that would wait reports when it may not (VS_SQE_NONBLOCK). */
static int32_t nonblock_result(const struct hn_req *r)
{
	if (r->opcode == VS_OP_CONNECT)
		return -EINPROGRESS; /* the connect goes on; POLL for VS_POLLOUT */
	return r->done ? (int32_t)r->done : -EAGAIN;
}

/* Queue r behind list l, copying it off the caller's stack. */
static void park(struct hn_req_list *l, struct hn_req *r)
{
	struct hn_req *p = malloc(sizeof(*p));
	if (!p) {
		finish(r, -ENOMEM);
		return;
	}
	*p = *r;
	p->on_heap = true;
	hn_req_list_push(l, p);
}

/* Remember s for hn_ops_flush() at the end of this pass.  Sock locked. */
static void defer(struct hn_worker *w, struct hn_sock *s)
{
	if (s->deferred)
		return;
	s->deferred = true;
	hn_sock_get(s);
	w->deferred[w->nr_deferred++] = s;
}

/* Make a host socket object for fd, give it a handle, watch it with w's epoll.
 * On failure fd is closed. */
static int open_socket(struct hn_worker *w, int fd, int type, uint32_t *handle)
{
	struct hn_sock *s = hn_sock_new(fd, type);
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->owner = w;
	/* Hold the lock until epoll knows the fd: a CLOSE naming the brand-new
	 * handle (a guessing guest) must not close the fd before that. */
	pthread_mutex_lock(&s->lock);
	int err = hn_handles_add(w->hn->handles, s, handle);
	if (err) {
		pthread_mutex_unlock(&s->lock);
		hn_sock_put(s);
		return err;
	}
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.u64 = *handle,
	};
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		err = -errno;
		struct hn_sock *t = hn_handles_remove(w->hn->handles, *handle, s);
		s->closed = true;
		pthread_mutex_unlock(&s->lock);
		if (t)
			hn_sock_put(t);
		return err;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int32_t do_socket(struct hn_worker *w, const struct hn_req *r)
{
	int domain = r->domain == VS_AF_INET6 ? AF_INET6 : AF_INET;
	int type = r->type == VS_SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	uint32_t handle;
	int err = open_socket(w, fd, type, &handle);
	return err ? err : (int32_t)handle;
}

static void write_sockaddr(uint8_t *dst, const struct sockaddr_storage *ss, socklen_t len)
{
	struct vs_sockaddr out;
	hn_sockaddr_to_vs(ss, len, &out);
	memcpy(dst, &out, sizeof(out));
}

/* ---- the try_* functions: sock locked; result, -errno or HN_PENDING ----- */

static int32_t try_recv(struct hn_worker *w, struct hn_req *r)
{
	struct hn_sock *s = r->sock;
	bool waitall = (r->op_flags & VS_MSG_WAITALL) && s->type == SOCK_STREAM;
	int flags = MSG_DONTWAIT | (r->op_flags & VS_MSG_PEEK ? MSG_PEEK : 0);
	for (;;) {
		uint8_t *dst = r->bounce ? w->scratch : r->buf + r->done;
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		memset(&from, 0, sizeof(from));
		ssize_t n = recvfrom(s->fd, dst, r->len - r->done, flags,
				     r->sa_out ? (struct sockaddr *)&from : NULL,
				     r->sa_out ? &fromlen : NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return HN_PENDING;
			return r->done ? (int32_t)r->done : -errno;
		}
		if (r->bounce && n > 0) {
			memcpy(r->buf + r->done, w->scratch, (size_t)n);
			count(&w->bytes_copied, (uint64_t)n);
		}
		count(&w->bytes_received, (uint64_t)n);
		if (r->sa_out)
			write_sockaddr(r->sa_out, &from, fromlen);
		r->done += (uint32_t)n;
		if (!waitall || n == 0 || r->done == r->len)
			return (int32_t)r->done;
	}
}

static int32_t try_send(struct hn_worker *w, struct hn_req *r)
{
	struct hn_sock *s = r->sock;
	bool dgram = s->type == SOCK_DGRAM;
	const struct sockaddr *to = r->opcode == VS_OP_SENDTO ? (struct sockaddr *)&r->sa : NULL;
	for (;;) {
		uint32_t chunk = r->len - r->done;
		const uint8_t *src = r->buf + r->done;
		if (r->bounce) {
			if (!dgram && chunk > HN_BOUNCE_CHUNK)
				chunk = HN_BOUNCE_CHUNK; /* a datagram goes whole */
			/* counted below, once sent: a copy redone after EAGAIN or
			 * a short send moves no payload byte twice */
			memcpy(w->scratch, src, chunk);
			src = w->scratch;
		}
		count(&w->send_calls, 1);
		ssize_t n = sendto(s->fd, src, chunk, MSG_DONTWAIT | MSG_NOSIGNAL, to,
				   to ? r->sa_len : 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return HN_PENDING;
			return r->done ? (int32_t)r->done : -errno;
		}
		count(&w->bytes_sent, (uint64_t)n);
		if (r->bounce)
			count(&w->bytes_copied, (uint64_t)n);
		r->done += (uint32_t)n;
		if (dgram || r->done >= r->len)
			return (int32_t)r->done;
	}
}

/* ---- gathered stream sends ----------------------------------------------- *
 *
 * A batch of small SENDs on one stream socket costs one sendmsg instead of
 * one send each: hn_ops_submit() parks them, hn_ops_flush() (the end of the
 * worker's pass) or a writable event runs progress(), and progress() hands
 * every gatherable request at the head of the out list to the kernel at once.
 * The byte stream is the same as sending them one by one, in order.
 */
#define HN_GATHER_MAX 64u /* iovecs per sendmsg (well under IOV_MAX) */

/* Blocking zero-copy SEND on a stream socket: its bytes may share a sendmsg. */
static bool gatherable(const struct hn_sock *s, const struct hn_req *r)
{
	return r->opcode == VS_OP_SEND && s->type == SOCK_STREAM && !r->bounce &&
	       !(r->sqe_flags & VS_SQE_NONBLOCK);
}

/*
 * Send the gatherable requests at the head of s->out in one sendmsg and
 * complete those that went out whole.  Returns false when the socket would
 * block (the head stays parked, perhaps with some of its bytes sent).
 */
static bool send_gathered(struct hn_worker *w, struct hn_sock *s)
{
	struct iovec iov[HN_GATHER_MAX];
	unsigned n = 0;
	for (struct hn_req *r = s->out.head; r && n < HN_GATHER_MAX && gatherable(s, r);
	     r = r->next, n++)
		iov[n] = (struct iovec){ .iov_base = r->buf + r->done, .iov_len = r->len - r->done };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n };
	ssize_t sent;
	do {
		count(&w->send_calls, 1);
		sent = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (sent < 0 && errno == EINTR);
	if (sent < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return false;
		/* The head gets the error (or its count so far); the rest are
		 * tried on their own and meet it themselves. */
		struct hn_req *r = hn_req_list_pop(&s->out);
		finish(r, r->done ? (int32_t)r->done : -errno);
		return true;
	}
	count(&w->bytes_sent, (uint64_t)sent);
	uint64_t left = (uint64_t)sent;
	for (unsigned i = 0; i < n; i++) {
		struct hn_req *r = s->out.head;
		uint32_t take = left < r->len - r->done ? (uint32_t)left : r->len - r->done;
		r->done += take;
		left -= take;
		if (r->done < r->len)
			return false; /* a short send: the socket buffer is full */
		hn_req_list_pop(&s->out);
		finish(r, (int32_t)r->len);
	}
	return true;
}

static int32_t try_connect(struct hn_req *r)
{
	struct hn_sock *s = r->sock;
	if (!r->started) {
		if (connect(s->fd, (struct sockaddr *)&r->sa, r->sa_len) == 0)
			return 0;
		if (errno != EINPROGRESS && errno != EINTR)
			return -errno;
		r->started = true; /* the kernel goes on connecting */
	}
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };
	if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLOUT | POLLERR | POLLHUP)))
		return HN_PENDING;
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

static int32_t try_accept(struct hn_worker *w, struct hn_req *r)
{
	struct sockaddr_storage peer;
	socklen_t len;
	int fd;
	do {
		len = sizeof(peer);
		fd = accept4(r->sock->fd, (struct sockaddr *)&peer, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
	} while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (fd < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? HN_PENDING : -errno;
	uint32_t handle;
	int err = open_socket(w, fd, SOCK_STREAM, &handle);
	if (err)
		return err;
	if (r->sa_out)
		write_sockaddr(r->sa_out, &peer, len);
	return (int32_t)handle;
}

static int32_t try_poll(struct hn_req *r)
{
	struct pollfd p = { .fd = r->sock->fd, .events = (short)(r->op_flags & (POLLIN | POLLOUT)) };
	if (poll(&p, 1, 0) < 0)
		return -errno;
	int32_t ready = p.revents & (int32_t)(r->op_flags | POLLERR | POLLHUP);
	return ready ? ready : HN_PENDING;
}

/* Operations that never wait. */
static int32_t do_now(struct hn_req *r)
{
	int fd = r->sock->fd;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int v;

	switch (r->opcode) {
	case VS_OP_BIND:
		return bind(fd, (struct sockaddr *)&r->sa, r->sa_len) ? -errno : 0;
	case VS_OP_LISTEN: {
		/* listen() on an unbound socket binds it to the wildcard address:
		 * judge the local address the socket has (or would get). */
		struct hostnet *hn = r->q->hn;
		memset(&ss, 0, sizeof(ss));
		if (getsockname(fd, (struct sockaddr *)&ss, &len))
			return -errno;
		if (!hostnet_policy_allows_local(&hn->cfg.policy, (struct sockaddr *)&ss, len)) {
			hn_policy_denied(hn, "LISTEN", &ss, len);
			return -EACCES;
		}
		uint32_t backlog = r->op_flags < hn->cfg.max_backlog ? r->op_flags
								     : hn->cfg.max_backlog;
		return listen(fd, (int)backlog) ? -errno : 0;
	}
	case VS_OP_SETSOCKOPT:
		return setsockopt(fd, r->opt_level, r->opt_name, &r->opt_value,
				  sizeof(r->opt_value)) ? -errno : 0;
	case VS_OP_GETSOCKOPT:
		len = sizeof(v);
		if (getsockopt(fd, r->opt_level, r->opt_name, &v, &len))
			return -errno;
		return v < 0 ? -EINVAL : v;
	case VS_OP_GETSOCKNAME:
	case VS_OP_GETPEERNAME:
		memset(&ss, 0, sizeof(ss));
		if ((r->opcode == VS_OP_GETSOCKNAME ? getsockname : getpeername)(
			    fd, (struct sockaddr *)&ss, &len))
			return -errno;
		write_sockaddr(r->sa_out, &ss, len);
		return 0;
	}
	return -EINVAL;
}

static int32_t try_op(struct hn_worker *w, struct hn_req *r)
{
	switch (r->opcode) {
	case VS_OP_RECV:
	case VS_OP_RECVFROM:
		return try_recv(w, r);
	case VS_OP_ACCEPT:
		return try_accept(w, r);
	case VS_OP_SEND:
	case VS_OP_SENDTO:
		return try_send(w, r);
	case VS_OP_CONNECT:
		return try_connect(r);
	case VS_OP_SHUTDOWN:
		return shutdown(r->sock->fd, (int)r->op_flags) ? -errno : 0;
	case VS_OP_POLL:
		return try_poll(r);
	default:
		return do_now(r);
	}
}

/* The list a waiting request of this opcode joins (NULL: it never waits). */
static struct hn_req_list *list_for(struct hn_sock *s, uint8_t opcode)
{
	switch (opcode) {
	case VS_OP_RECV:
	case VS_OP_RECVFROM:
	case VS_OP_ACCEPT:
		return &s->in;
	case VS_OP_SEND:
	case VS_OP_SENDTO:
	case VS_OP_CONNECT:
	case VS_OP_SHUTDOWN:
		return &s->out;
	case VS_OP_POLL:
		return &s->poll;
	default:
		return NULL;
	}
}

/* Receives wait while a CONNECT is pending: recv() would say ENOTCONN. */
static bool connecting(const struct hn_sock *s)
{
	return s->out.head && s->out.head->opcode == VS_OP_CONNECT;
}

/* Retry the heads of a socket's lists until they would block.  Sock locked;
 * the caller holds a reference of its own. */
static void progress(struct hn_worker *w, struct hn_sock *s)
{
	struct hn_req *r;
	while ((r = s->out.head)) {
		if (gatherable(s, r) && r->next && gatherable(s, r->next)) {
			if (!send_gathered(w, s))
				break;
			continue;
		}
		int32_t res = try_op(w, r);
		if (res == HN_PENDING)
			break;
		hn_req_list_pop(&s->out);
		finish(r, res);
	}
	while (!connecting(s) && (r = s->in.head)) {
		int32_t res = try_op(w, r);
		if (res == HN_PENDING)
			break;
		hn_req_list_pop(&s->in);
		finish(r, res);
	}
	struct hn_req *next;
	for (r = s->poll.head; r; r = next) {
		next = r->next;
		int32_t res = try_poll(r);
		if (res != HN_PENDING) {
			hn_req_list_remove(&s->poll, r);
			finish(r, res);
		}
	}
}

static void cancel_list(struct hn_req_list *l)
{
	struct hn_req *r;
	while ((r = hn_req_list_pop(l)))
		finish(r, cancel_result(r));
}

static void do_close(struct hn_worker *w, struct hn_req *r)
{
	struct hn_sock *s = r->sock;
	struct hn_sock *table_ref = hn_handles_remove(w->hn->handles, r->handle, s);
	if (!table_ref) {
		finish(r, -EBADF); /* another CLOSE got there first */
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->deferred)
		progress(w, s); /* SENDs of this pass go out as they would have */
	s->closed = true;
	/* Everything earlier on this socket completes before the CLOSE. */
	cancel_list(&s->out);
	cancel_list(&s->in);
	cancel_list(&s->poll);
	if (s->owner)
		epoll_ctl(s->owner->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
	pthread_mutex_unlock(&s->lock);
	hn_sock_put(table_ref);
	finish(r, 0);
}

/* Does p match a CANCEL from queue q for target, and is it older than *best? */
static bool cancel_candidate(const struct hn_req *p, const struct hn_queue *q,
			     uint64_t target, uint64_t best_seq)
{
	return p->q == q && p->user_data == target && p->seq < best_seq;
}

static void do_cancel(struct hn_worker *w, struct hn_req *r)
{
	struct hostnet *hn = w->hn;
	uint32_t n = hn_handles_snapshot(hn->handles, w->snap, hn->cfg.max_sockets);
	struct hn_sock *best = NULL;
	uint64_t best_seq = UINT64_MAX;

	/* Find the oldest matching parked request of this queue... */
	for (uint32_t i = 0; i < n; i++) {
		struct hn_sock *s = w->snap[i];
		pthread_mutex_lock(&s->lock);
		struct hn_req_list *lists[] = { &s->in, &s->out, &s->poll };
		for (unsigned k = 0; k < 3; k++)
			for (struct hn_req *p = lists[k]->head; p; p = p->next)
				if (cancel_candidate(p, r->q, r->cancel_target, best_seq)) {
					best = s;
					best_seq = p->seq;
				}
		pthread_mutex_unlock(&s->lock);
	}

	/* ...and cancel it, unless it finished in the meantime. */
	int32_t res = -ENOENT;
	if (best) {
		pthread_mutex_lock(&best->lock);
		struct hn_req_list *lists[] = { &best->in, &best->out, &best->poll };
		for (unsigned k = 0; k < 3 && res; k++)
			for (struct hn_req *p = lists[k]->head; p; p = p->next)
				if (p->q == r->q && p->seq == best_seq) {
					hn_req_list_remove(lists[k], p);
					finish(p, cancel_result(p));
					res = 0;
					break;
				}
		if (!best->closed)
			progress(w, best); /* the next in line may go now */
		pthread_mutex_unlock(&best->lock);
	}
	for (uint32_t i = 0; i < n; i++)
		hn_sock_put(w->snap[i]);
	finish(r, res);
}

void hn_ops_submit(struct hn_worker *w, struct hn_req *r)
{
	switch (r->opcode) {
	case VS_OP_NOP:
		finish(r, 0);
		return;
	case VS_OP_SOCKET:
		finish(r, do_socket(w, r));
		return;
	case VS_OP_CANCEL:
		do_cancel(w, r);
		return;
	case VS_OP_CLOSE:
		do_close(w, r);
		return;
	}

	struct hn_sock *s = r->sock;
	uint8_t opcode = r->opcode;
	bool nonblock = r->sqe_flags & VS_SQE_NONBLOCK;
	hn_sock_get(s); /* ours; r's own goes with finish() */
	pthread_mutex_lock(&s->lock);
	struct hn_req_list *l = list_for(s, opcode);
	if (s->closed) {
		finish(r, -EBADF);
	} else if (!l) {
		finish(r, do_now(r));
	} else if (l != &s->poll && (l->head || (l == &s->in && connecting(s)))) {
		/* Earlier requests wait on this direction: queue behind them. */
		if (nonblock)
			finish(r, -EAGAIN);
		else
			park(l, r);
	} else if (gatherable(s, r)) {
		/* Wait for the end of the pass: more SENDs may join this one. */
		park(l, r);
		defer(w, s);
	} else {
		int32_t res = try_op(w, r);
		if (res == HN_PENDING) {
			if (nonblock)
				finish(r, nonblock_result(r));
			else
				park(l, r);
		} else {
			finish(r, res);
			if (opcode == VS_OP_SHUTDOWN)
				progress(w, s); /* waiting receives may now see EOF */
		}
	}
	pthread_mutex_unlock(&s->lock);
	hn_sock_put(s);
}

void hn_ops_flush(struct hn_worker *w)
{
	for (uint32_t i = 0; i < w->nr_deferred; i++) {
		struct hn_sock *s = w->deferred[i];
		pthread_mutex_lock(&s->lock);
		s->deferred = false;
		if (!s->closed)
			progress(w, s);
		pthread_mutex_unlock(&s->lock);
		hn_sock_put(s);
	}
	w->nr_deferred = 0;
}

void hn_ops_ready(struct hn_worker *w, uint32_t handle)
{
	struct hn_sock *s = hn_handles_get(w->hn->handles, handle);
	if (!s)
		return; /* closed since the event was queued */
	pthread_mutex_lock(&s->lock);
	if (!s->closed)
		progress(w, s);
	pthread_mutex_unlock(&s->lock);
	hn_sock_put(s);
}

static void drop_list(struct hn_req_list *l)
{
	struct hn_req *r;
	while ((r = hn_req_list_pop(l))) {
		hn_sock_put(r->sock);
		free(r);
	}
}

void hn_ops_close_all(struct hostnet *hn)
{
	uint32_t max = hn->cfg.max_sockets;
	struct hn_sock **all = calloc(max, sizeof(*all));
	if (!all)
		return; /* the fds leak, but only at exit with no memory left */
	uint32_t n = hn_handles_snapshot(hn->handles, all, max);
	for (uint32_t i = 0; i < n; i++) {
		struct hn_sock *s = all[i];
		struct hn_sock *table_ref = hn_handles_remove(hn->handles, s->handle, s);
		pthread_mutex_lock(&s->lock);
		s->closed = true;
		drop_list(&s->in);
		drop_list(&s->out);
		drop_list(&s->poll);
		close(s->fd);
		s->fd = -1;
		pthread_mutex_unlock(&s->lock);
		if (table_ref)
			hn_sock_put(table_ref);
		hn_sock_put(s);
	}
	free(all);
}
