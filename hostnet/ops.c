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

#include "ops.h"

#include "chain.h"
#include "clock.h"
#include "handle_table.h"
#include "hostnet.h"
#include "policy.h"
#include "queue.h"
#include "sock.h"
#include "sockaddr.h"
#include "sockbuf.h"

/* The ABI uses Linux's values, so they pass straight through. */
_Static_assert(VS_MSG_PEEK == MSG_PEEK && VS_MSG_WAITALL == MSG_WAITALL, "MSG_* values");
_Static_assert(VS_POLLIN == POLLIN && VS_POLLOUT == POLLOUT && VS_POLLERR == POLLERR &&
	       VS_POLLHUP == POLLHUP, "POLL* values");
_Static_assert(VS_SOL_SOCKET == SOL_SOCKET && VS_SOL_TCP == IPPROTO_TCP &&
	       VS_SO_REUSEADDR == SO_REUSEADDR && VS_SO_SNDBUF == SO_SNDBUF &&
	       VS_SO_RCVBUF == SO_RCVBUF && VS_SO_ERROR == SO_ERROR &&
	       VS_TCP_NODELAY == TCP_NODELAY, "socket option values");
_Static_assert(SHUT_RD == 0 && SHUT_WR == 1 && SHUT_RDWR == 2, "SHUT_* values");

/* Returned by the try_* functions: "would block, keep it parked". */
#define HN_PENDING INT32_MIN

/* Bounce mode stages a stream send this much at a time through the worker's
 * scratch buffer, so a send that has to wait wastes at most one slice of
 * copying.  (Not guest-lib's VS_BOUNCE_CHUNK, the bounce area's allocation
 * unit.) */
#define HN_BOUNCE_SEND_SLICE (64u * 1024u)

/* One row per opcode: how it runs (see op_exec[] at the bottom). */
enum op_wait {
	WAIT_NEVER,     /* completes at once */
	WAIT_IN,        /* parks on the socket's in list: readable, in order */
	WAIT_OUT,       /* parks on the out list: writable / connected, in order */
	WAIT_POLL,      /* parks on the poll list, each for its own events */
};

struct op_exec {
	/* A request that needs no socket lock (no socket, or one it manages
	 * itself): runs whole and completes r. */
	void (*run)(struct hn_exec *x, struct hn_req *r);
	/* Otherwise, tried with the socket locked: result, -errno, or
	 * HN_PENDING (only when wait != WAIT_NEVER). */
	int32_t (*try)(struct hn_exec *x, struct hn_req *r);
	enum op_wait wait;
	bool unblocks_in;       /* SHUTDOWN: waiting receives may now see EOF */
};

static const struct op_exec op_exec[VS_OP__COUNT];
static void run_unknown(struct hn_exec *x, struct hn_req *r);

static void count(atomic_uint_least64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Post r's completion, drop its socket reference, free a parked copy.  The
 * caller must hold its own reference to r->sock if it still uses it. */
static void finish(struct hn_req *r, int32_t res)
{
	if (r->on_heap)
		hn_pending_remove(&r->q->pending, r);
	hn_queue_post(r->q, r->user_data, res, 0);
	if (r->chain)
		hn_chain_link_done(r->chain, r, res); /* the next link may go */
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
	hn_pending_add(&p->q->pending, p);
}

/* Remember s for hn_ops_flush() at the end of this pass.  Sock locked. */
static void defer(struct hn_exec *x, struct hn_sock *s)
{
	if (s->deferred)
		return;
	s->deferred = true;
	hn_sock_get(s);
	x->deferred[x->nr_deferred++] = s;
}

/* Make a host socket object for fd, give it a handle, watch it with x's epoll.
 * fresh: a new socket (SOCKET), not an accepted one.  A new datagram socket
 * has nothing to receive before its first readiness edge (a RECVFROM before
 * it waits without a try); a stream socket only once connected (until then
 * recv() says ENOTCONN at once): try_connect() and try_listen() say so.
 * On failure fd is closed (and an autotuned socket's place given back). */
static int open_socket(struct hn_exec *x, int fd, int type, bool autotuned, bool fresh,
		       uint32_t *handle)
{
	struct hn_sock *s = hn_sock_new(fd, type);
	if (!s) {
		close(fd);
		if (autotuned)
			hn_sockbuf_release(x->sockbuf);
		return -ENOMEM;
	}
	s->autotuned = autotuned;
	if (fresh && type == SOCK_DGRAM)
		hn_readiness_not(&s->rx, 0); /* no edge yet: epoll does not know it */
	s->epfd = x->epfd;
	/* Hold the lock until epoll knows the fd: a CLOSE naming the brand-new
	 * handle (a guessing guest) must not close the fd before that. */
	pthread_mutex_lock(&s->lock);
	int err = hn_handles_add(x->handles, s, handle);
	if (err) {
		pthread_mutex_unlock(&s->lock);
		if (autotuned)
			hn_sockbuf_release(x->sockbuf);
		hn_sock_put(s);
		return err;
	}
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET,
		.data.u64 = *handle,
	};
	if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		err = -errno;
		struct hn_sock *t = hn_handles_remove(x->handles, *handle, s);
		s->closed = true;
		pthread_mutex_unlock(&s->lock);
		if (autotuned)
			hn_sockbuf_release(x->sockbuf);
		if (t)
			hn_sock_put(t);
		return err;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int32_t do_socket(struct hn_exec *x, const struct hn_req *r)
{
	int domain = r->domain == VS_AF_INET6 ? AF_INET6 : AF_INET;
	int type = r->type == VS_SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Bound what each kernel socket may queue: autotuned within the VM's
	 * budget, else capped (sockbuf.h; accepted ones inherit it). */
	bool autotuned;
	int err = hn_sockbuf_apply(x->sockbuf, fd, true, &autotuned);
	if (err) {
		close(fd);
		return err;
	}
	uint32_t handle;
	err = open_socket(x, fd, type, autotuned, true, &handle);
	return err ? err : (int32_t)handle;
}

static void write_sockaddr(uint8_t *dst, const struct sockaddr_storage *ss, socklen_t len)
{
	struct vs_sockaddr out;
	hn_sockaddr_to_vs(ss, len, &out);
	memcpy(dst, &out, sizeof(out));
}

/* ---- the try_* functions: sock locked; result, -errno or HN_PENDING ----- */

/* A system call the direction's readiness says would fail with EAGAIN is not
 * made (readiness.h): count it, the request waits for the next edge. */
static bool skip_call(struct hn_exec *x, struct hn_readiness *d, unsigned *edges)
{
	if (!hn_readiness_known_not(d, edges))
		return false;
	count(&x->syscalls_skipped, 1);
	return true;
}

/* A send or receive call failed (not EINTR): wait for readiness (the direction
 * not ready as of edges), or end with the bytes moved so far, or with the
 * error if there were none. */
static int32_t io_failed(const struct hn_req *r, struct hn_readiness *d, unsigned edges)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		hn_readiness_not(d, edges);
		return HN_PENDING;
	}
	return r->done ? (int32_t)r->done : -errno;
}

/* A stream read that got fewer bytes than it asked for emptied the receive
 * queue (the next one would say EAGAIN), unless the socket has had urgent
 * data, an end of file or an error: tcp_recvmsg returns the data before an
 * urgent mark, a FIN or a pending error short, and the next call reports
 * what follows at once.  A peek empties nothing; EOF (0) and datagrams prove
 * nothing.  The flag is read after the call and set before the edge that
 * announces it is counted, so an edge already counted in `edges` is seen. */
static bool read_drained(const struct hn_sock *s, int flags, ssize_t n, size_t asked)
{
	return s->type == SOCK_STREAM && !(flags & MSG_PEEK) && n > 0 && (size_t)n < asked &&
	       !atomic_load(&s->reads_stop_short);
}

static int32_t try_recv(struct hn_exec *x, struct hn_req *r)
{
	struct hn_sock *s = r->sock;
	bool waitall = (r->op_flags & VS_MSG_WAITALL) && s->type == SOCK_STREAM;
	int flags = MSG_DONTWAIT | (r->op_flags & VS_MSG_PEEK ? MSG_PEEK : 0);
	for (;;) {
		unsigned edges;
		if (skip_call(x, &s->rx, &edges))
			return HN_PENDING;
		uint8_t *dst = r->bounce ? x->scratch : r->buf + r->done;
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		memset(&from, 0, sizeof(from));
		size_t asked = r->len - r->done;
		ssize_t n = recvfrom(s->fd, dst, asked, flags,
				     r->sa_out ? (struct sockaddr *)&from : NULL,
				     r->sa_out ? &fromlen : NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_failed(r, &s->rx, edges);
		if (read_drained(s, flags, n, asked))
			hn_readiness_not(&s->rx, edges); /* WAITALL: no EAGAIN call next */
		if (!(flags & MSG_PEEK))
			s->consumed += (uint64_t)n;
		if (r->bounce && n > 0) {
			memcpy(r->buf + r->done, x->scratch, (size_t)n);
			count(&x->bytes_copied, (uint64_t)n);
		}
		count(&x->bytes_received, (uint64_t)n);
		if (r->sa_out)
			write_sockaddr(r->sa_out, &from, fromlen);
		r->done += (uint32_t)n;
		if (!waitall || n == 0 || r->done == r->len)
			return (int32_t)r->done;
	}
}

static int32_t try_send(struct hn_exec *x, struct hn_req *r)
{
	struct hn_sock *s = r->sock;
	bool dgram = s->type == SOCK_DGRAM;
	const struct sockaddr *to = r->opcode == VS_OP_SENDTO ? (struct sockaddr *)&r->sa : NULL;
	for (;;) {
		unsigned edges;
		if (skip_call(x, &s->tx, &edges))
			return HN_PENDING;
		uint32_t chunk = r->len - r->done;
		const uint8_t *src = r->buf + r->done;
		if (r->bounce) {
			if (!dgram && chunk > HN_BOUNCE_SEND_SLICE)
				chunk = HN_BOUNCE_SEND_SLICE; /* a datagram goes whole */
			/* counted below, once sent: a copy redone after EAGAIN or
			 * a short send moves no payload byte twice */
			memcpy(x->scratch, src, chunk);
			src = x->scratch;
		}
		count(&x->send_calls, 1);
		ssize_t n = sendto(s->fd, src, chunk, MSG_DONTWAIT | MSG_NOSIGNAL, to,
				   to ? r->sa_len : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_failed(r, &s->tx, edges);
		count(&x->bytes_sent, (uint64_t)n);
		if (r->bounce)
			count(&x->bytes_copied, (uint64_t)n);
		if (!dgram && (uint32_t)n < chunk)
			hn_readiness_not(&s->tx, edges); /* the buffer is full: no EAGAIN call next */
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
static bool send_gathered(struct hn_exec *x, struct hn_sock *s)
{
	unsigned edges;
	if (skip_call(x, &s->tx, &edges))
		return false;
	struct iovec iov[HN_GATHER_MAX];
	unsigned n = 0;
	uint64_t total = 0;
	for (struct hn_req *r = s->out.head; r && n < HN_GATHER_MAX && gatherable(s, r);
	     r = r->next, n++) {
		iov[n] = (struct iovec){ .iov_base = r->buf + r->done, .iov_len = r->len - r->done };
		total += iov[n].iov_len;
	}
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n };
	ssize_t sent;
	do {
		count(&x->send_calls, 1);
		sent = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (sent < 0 && errno == EINTR);
	if (sent < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			hn_readiness_not(&s->tx, edges);
			return false;
		}
		/* The head gets the error (or its count so far); the rest are
		 * tried on their own and meet it themselves. */
		struct hn_req *r = hn_req_list_pop(&s->out);
		finish(r, r->done ? (int32_t)r->done : -errno);
		return true;
	}
	count(&x->bytes_sent, (uint64_t)sent);
	if ((uint64_t)sent < total)
		hn_readiness_not(&s->tx, edges); /* short: the socket buffer is full */
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

/*
 * connect() again on a connecting socket is Linux's one-call probe
 * (__inet_stream_connect): 0 once established, EALREADY while the handshake
 * goes on, the error if it failed (ECONNREFUSED..., taking it out of
 * SO_ERROR).  On loopback the handshake is usually done by the time the first
 * connect() returns EINPROGRESS (the SYN-ACK waits in the socket's backlog,
 * processed when connect() releases the socket), so probing at once saves a
 * round through epoll, and on readiness it replaces poll() + SO_ERROR.  Never
 * probe again after a failure: that connect() would start a new attempt.
 */
static int32_t try_connect(struct hn_exec *x, struct hn_req *r)
{
	(void)x;
	struct hn_sock *s = r->sock;
	/* A stream connected in this call has received nothing before the edges
	 * counted now: its first RECV (crr's, right behind its SEND) waits for
	 * the next receive edge without a try.  (Not after a failure: recv()
	 * then reports it at once, and a failure's edge may carry no EPOLLERR
	 * once connect() has taken the error.) */
	bool first = !r->started;
	unsigned edges = atomic_load(&s->rx.edges);
	if (!r->started) {
		if (connect(s->fd, (struct sockaddr *)&r->sa, r->sa_len) == 0)
			goto connected;
		if (errno != EINPROGRESS && errno != EINTR)
			return -errno;
		r->started = true; /* the kernel goes on connecting */
	}
	if (connect(s->fd, (struct sockaddr *)&r->sa, r->sa_len) == 0 || errno == EISCONN)
		goto connected;
	if (errno == EALREADY || errno == EINPROGRESS || errno == EINTR)
		return HN_PENDING;
	return -errno;
connected:
	if (first && s->type == SOCK_STREAM)
		hn_readiness_not(&s->rx, edges);
	return 0;
}

static int32_t try_accept(struct hn_exec *x, struct hn_req *r)
{
	unsigned edges;
	if (skip_call(x, &r->sock->rx, &edges))
		return HN_PENDING;
	struct sockaddr_storage peer;
	socklen_t len;
	int fd;
	do {
		len = sizeof(peer);
		fd = accept4(r->sock->fd, (struct sockaddr *)&peer, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
	} while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		hn_readiness_not(&r->sock->rx, edges); /* the backlog is empty */
		return HN_PENDING;
	}
	if (fd < 0)
		return -errno;
	bool autotuned;
	int err = hn_sockbuf_apply(x->sockbuf, fd, r->sock->autotuned, &autotuned);
	if (err) {
		close(fd);
		return err;
	}
	uint32_t handle;
	err = open_socket(x, fd, SOCK_STREAM, autotuned, false, &handle);
	if (err)
		return err;
	if (r->sa_out)
		write_sockaddr(r->sa_out, &peer, len);
	return (int32_t)handle;
}

static int32_t try_poll(struct hn_exec *x, struct hn_req *r)
{
	(void)x;
	struct pollfd p = { .fd = r->sock->fd, .events = (short)(r->op_flags & (POLLIN | POLLOUT)) };
	if (poll(&p, 1, 0) < 0)
		return -errno;
	/* A fresh look: what it saw ready is worth a try again. */
	if (p.revents & (POLLIN | POLLERR | POLLHUP))
		hn_readiness_forget(&r->sock->rx);
	if (p.revents & (POLLOUT | POLLERR | POLLHUP))
		hn_readiness_forget(&r->sock->tx);
	int32_t ready = p.revents & (int32_t)(r->op_flags | POLLERR | POLLHUP);
	return ready ? ready : HN_PENDING;
}

/* ---- operations that never wait ---------------------------------------- */

static int32_t try_bind(struct hn_exec *x, struct hn_req *r)
{
	(void)x;
	return bind(r->sock->fd, (struct sockaddr *)&r->sa, r->sa_len) ? -errno : 0;
}

static int32_t try_listen(struct hn_exec *x, struct hn_req *r)
{
	/* listen() on an unbound socket binds it to the wildcard address:
	 * judge the local address the socket has (or would get). */
	int fd = r->sock->fd;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	if (!hostnet_policy_allows_local(&x->cfg->policy, (struct sockaddr *)&ss, len)) {
		hn_deny_log_note(x->deny_log, "LISTEN", (struct sockaddr *)&ss, len, hn_now_ns());
		return -EACCES;
	}
	/* Connections waiting to be accepted are kernel sockets the guest
	 * caused: Linux queues up to backlog + 1 of them, and each takes a
	 * place within max_sockets (given back at CLOSE).  One more place must
	 * stay free, for the socket ACCEPT makes: else -EMFILE. */
	struct hn_sock *s = r->sock;
	uint32_t max = x->cfg->max_backlog;
	uint32_t want = (r->op_flags < max ? r->op_flags : max) + 1;
	hn_handles_unreserve(x->handles, s->backlog_places);
	s->backlog_places = hn_handles_reserve(x->handles, want + 1);
	if (s->backlog_places < 2) {
		hn_handles_unreserve(x->handles, s->backlog_places);
		s->backlog_places = 0;
		return -EMFILE;
	}
	hn_handles_unreserve(x->handles, 1);
	s->backlog_places--;
	/* No connection to accept before the first listen(): the first ACCEPT
	 * waits for the next edge without a try.  (A LISTEN again, for another
	 * backlog, may find connections waiting.) */
	unsigned edges = atomic_load(&s->rx.edges);
	if (listen(fd, (int)s->backlog_places - 1)) {
		int err = -errno;
		hn_handles_unreserve(x->handles, s->backlog_places);
		s->backlog_places = 0;
		return err;
	}
	if (!s->listening)
		hn_readiness_not(&s->rx, edges);
	s->listening = true;
	return 0;
}

static int32_t try_shutdown(struct hn_exec *x, struct hn_req *r)
{
	(void)x;
	if (shutdown(r->sock->fd, (int)r->op_flags))
		return -errno;
	/* Receives now see EOF, sends EPIPE: no waiting for the owner's event. */
	hn_readiness_forget(&r->sock->rx);
	hn_readiness_forget(&r->sock->tx);
	return 0;
}

static int32_t try_setsockopt(struct hn_exec *x, struct hn_req *r)
{
	int v = r->opt_value;
	bool buffer = r->opt_level == SOL_SOCKET &&
		      (r->opt_name == SO_SNDBUF || r->opt_name == SO_RCVBUF);
	int limit = hn_sockbuf_limit(x->sockbuf, r->sock->autotuned);
	if (buffer && v > limit)
		v = limit; /* never past the cap do_socket() set */
	return setsockopt(r->sock->fd, r->opt_level, r->opt_name, &v, sizeof(v)) ? -errno : 0;
}

static int32_t try_getsockopt(struct hn_exec *x, struct hn_req *r)
{
	(void)x;
	int v;
	socklen_t len = sizeof(v);
	if (getsockopt(r->sock->fd, r->opt_level, r->opt_name, &v, &len))
		return -errno;
	return v < 0 ? -EINVAL : v;
}

/* GETSOCKNAME and GETPEERNAME. */
static int32_t try_getname(struct hn_exec *x, struct hn_req *r)
{
	(void)x;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if ((r->opcode == VS_OP_GETSOCKNAME ? getsockname : getpeername)(
		    r->sock->fd, (struct sockaddr *)&ss, &len))
		return -errno;
	write_sockaddr(r->sa_out, &ss, len);
	return 0;
}

/* The execution row of an opcode (validate.c has already rejected unknown
 * ones; a hole in the table gets -ENOSYS). */
static const struct op_exec *exec_row(uint8_t opcode)
{
	static const struct op_exec none = { .run = run_unknown };
	if (opcode >= VS_OP__COUNT || (!op_exec[opcode].run && !op_exec[opcode].try))
		return &none;
	return &op_exec[opcode];
}

/* The list a waiting request of this kind joins (NULL: it never waits). */
static struct hn_req_list *list_for(struct hn_sock *s, enum op_wait wait)
{
	switch (wait) {
	case WAIT_IN:
		return &s->in;
	case WAIT_OUT:
		return &s->out;
	case WAIT_POLL:
		return &s->poll;
	case WAIT_NEVER:
		break;
	}
	return NULL;
}

/* Receives wait while a CONNECT is pending: recv() would say ENOTCONN. */
static bool connecting(const struct hn_sock *s)
{
	return s->out.head && s->out.head->opcode == VS_OP_CONNECT;
}

/* Retry the heads of a socket's lists until they would block.  Sock locked;
 * the caller holds a reference of its own. */
static void progress(struct hn_exec *x, struct hn_sock *s)
{
	struct hn_req *r;
	while ((r = s->out.head)) {
		if (gatherable(s, r) && r->next && gatherable(s, r->next)) {
			if (!send_gathered(x, s))
				break;
			continue;
		}
		int32_t res = exec_row(r->opcode)->try(x, r);
		if (res == HN_PENDING)
			break;
		hn_req_list_pop(&s->out);
		finish(r, res);
	}
	while (!connecting(s) && (r = s->in.head)) {
		int32_t res = exec_row(r->opcode)->try(x, r);
		if (res == HN_PENDING)
			break;
		hn_req_list_pop(&s->in);
		finish(r, res);
	}
	struct hn_req *next;
	for (r = s->poll.head; r; r = next) {
		next = r->next;
		int32_t res = try_poll(x, r);
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

static void run_close(struct hn_exec *x, struct hn_req *r)
{
	struct hn_sock *s = r->sock;
	struct hn_sock *table_ref = hn_handles_remove(x->handles, r->handle, s);
	if (!table_ref) {
		finish(r, -EBADF); /* another CLOSE got there first */
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->deferred)
		progress(x, s); /* SENDs of this pass go out as they would have */
	s->closed = true;
	/* Everything earlier on this socket completes before the CLOSE. */
	cancel_list(&s->out);
	cancel_list(&s->in);
	cancel_list(&s->poll);
	int fd = s->fd, type = s->type, watched_by = s->epfd;
	uint64_t consumed = s->consumed;
	s->fd = -1;
	if (s->autotuned) {
		s->autotuned = false;
		hn_sockbuf_release(x->sockbuf);
	}
	hn_handles_unreserve(x->handles, s->backlog_places);
	s->backlog_places = 0;
	/* The place a lingering close would take, taken before the guest hears of
	 * the CLOSE (and could fill it with a new socket). */
	bool place = type == SOCK_STREAM && hn_handles_reserve(x->handles, 1) == 1;
	pthread_mutex_unlock(&s->lock);
	hn_sock_put(table_ref);
	/* The guest waits for this completion; nothing below changes it (the
	 * socket is gone from the table, its fd ours alone): post it first, then
	 * close or linger. */
	finish(r, 0);
	hn_linger_close(&x->linger, fd, type, watched_by, place, consumed);
}

/* The oldest parked request of r's queue with the target user_data: its queue's
 * index names the socket (no walk over every socket), then that socket's lists
 * give the request itself, unless it finished in the meantime. */
static void run_cancel(struct hn_exec *x, struct hn_req *r)
{
	uint64_t seq;
	struct hn_sock *s = hn_pending_oldest(&r->q->pending, r->cancel_target, &seq);
	int32_t res = -ENOENT;
	if (s) {
		pthread_mutex_lock(&s->lock);
		struct hn_req_list *lists[] = { &s->in, &s->out, &s->poll };
		for (unsigned k = 0; k < 3 && res; k++)
			for (struct hn_req *p = lists[k]->head; p; p = p->next)
				if (p->q == r->q && p->seq == seq) {
					hn_req_list_remove(lists[k], p);
					finish(p, cancel_result(p));
					res = 0;
					break;
				}
		if (!s->closed)
			progress(x, s); /* the next in line may go now */
		pthread_mutex_unlock(&s->lock);
		hn_sock_put(s);
	}
	finish(r, res);
}

static void run_unknown(struct hn_exec *x, struct hn_req *r)
{
	(void)x;
	finish(r, -ENOSYS);
}

static void run_nop(struct hn_exec *x, struct hn_req *r)
{
	(void)x;
	finish(r, 0);
}

static void run_socket(struct hn_exec *x, struct hn_req *r)
{
	finish(r, do_socket(x, r));
}

/* Sock locked, not closed: run r now, or queue it behind what waits. */
static void submit_locked(struct hn_exec *x, struct hn_sock *s, const struct op_exec *row,
			  struct hn_req *r)
{
	bool nonblock = r->sqe_flags & VS_SQE_NONBLOCK;
	struct hn_req_list *l = list_for(s, row->wait);
	if (!l) {
		finish(r, row->try(x, r));
	} else if (l != &s->poll && (l->head || (l == &s->in && connecting(s)))) {
		/* Earlier requests wait on this direction: queue behind them. */
		if (nonblock)
			finish(r, -EAGAIN);
		else
			park(l, r);
	} else if (gatherable(s, r)) {
		/* Wait for the end of the pass: more SENDs may join this one. */
		park(l, r);
		defer(x, s);
	} else {
		int32_t res = row->try(x, r);
		if (res == HN_PENDING) {
			if (nonblock)
				finish(r, nonblock_result(r));
			else
				park(l, r);
		} else {
			finish(r, res);
			if (row->unblocks_in)
				progress(x, s);
		}
	}
}

void hn_ops_submit(struct hn_exec *x, struct hn_req *r)
{
	const struct op_exec *row = exec_row(r->opcode);
	if (row->run) {
		row->run(x, r);
		return;
	}
	struct hn_sock *s = r->sock;
	hn_sock_get(s); /* ours; r's own goes with finish() */
	pthread_mutex_lock(&s->lock);
	if (s->closed)
		finish(r, -EBADF);
	else
		submit_locked(x, s, row, r);
	pthread_mutex_unlock(&s->lock);
	hn_sock_put(s);
}

void hn_ops_flush(struct hn_exec *x)
{
	for (uint32_t i = 0; i < x->nr_deferred; i++) {
		struct hn_sock *s = x->deferred[i];
		pthread_mutex_lock(&s->lock);
		s->deferred = false;
		if (!s->closed)
			progress(x, s);
		pthread_mutex_unlock(&s->lock);
		hn_sock_put(s);
	}
	x->nr_deferred = 0;
}

void hn_ops_ready(struct hn_exec *x, uint32_t handle, uint32_t events)
{
	struct hn_sock *s = hn_handles_get(x->handles, handle);
	if (!s)
		return; /* closed since the event was queued */
	/* Edges first, lock second: an operation running right now on another
	 * worker sees its "not ready" go stale (readiness.h).  Hang-ups and
	 * errors are edges both ways, so EOF and errors are still delivered;
	 * reads_stop_short goes before the edge that announces it.  EPOLLHUP
	 * alone is no receive edge: that is a socket not yet connected (TCP's
	 * CLOSE state, reported when it joins the set); an end of file or a
	 * reset always comes with EPOLLRDHUP or EPOLLERR (tcp_poll(),
	 * datagram_poll()). */
	const uint32_t ends = EPOLLERR | EPOLLRDHUP;
	if (events & (EPOLLPRI | ends))
		atomic_store(&s->reads_stop_short, true);
	if (events & (EPOLLIN | EPOLLPRI | ends))
		hn_readiness_edge(&s->rx);
	if (events & (EPOLLOUT | EPOLLHUP | ends))
		hn_readiness_edge(&s->tx);
	pthread_mutex_lock(&s->lock);
	if (!s->closed)
		progress(x, s);
	pthread_mutex_unlock(&s->lock);
	hn_sock_put(s);
}

static void drop_list(struct hn_req_list *l)
{
	struct hn_req *r;
	while ((r = hn_req_list_pop(l))) {
		hn_pending_remove(&r->q->pending, r);
		hn_sock_put(r->sock);
		free(r);
	}
}

void hn_ops_close_all(struct hn_handle_table *handles, uint32_t max)
{
	struct hn_sock **all = calloc(max, sizeof(*all));
	if (!all)
		return; /* the fds leak, but only at exit with no memory left */
	uint32_t n = hn_handles_snapshot(handles, all, max);
	for (uint32_t i = 0; i < n; i++) {
		struct hn_sock *s = all[i];
		struct hn_sock *table_ref = hn_handles_remove(handles, s->handle, s);
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

/*
 * The execution table: one row per opcode, beside validate.c's op_rules[]
 * (what each opcode may contain).  A new opcode is a row here, a row there,
 * its try_ or run_ function, and any new system call in sandbox.c.
 */
static const struct op_exec op_exec[VS_OP__COUNT] = {
	[VS_OP_NOP]         = { .run = run_nop },
	[VS_OP_SOCKET]      = { .run = run_socket },
	[VS_OP_CONNECT]     = { .try = try_connect,    .wait = WAIT_OUT },
	[VS_OP_BIND]        = { .try = try_bind },
	[VS_OP_LISTEN]      = { .try = try_listen },
	[VS_OP_ACCEPT]      = { .try = try_accept,     .wait = WAIT_IN },
	[VS_OP_SEND]        = { .try = try_send,       .wait = WAIT_OUT },
	[VS_OP_RECV]        = { .try = try_recv,       .wait = WAIT_IN },
	[VS_OP_SENDTO]      = { .try = try_send,       .wait = WAIT_OUT },
	[VS_OP_RECVFROM]    = { .try = try_recv,       .wait = WAIT_IN },
	[VS_OP_SHUTDOWN]    = { .try = try_shutdown,   .wait = WAIT_OUT, .unblocks_in = true },
	[VS_OP_CLOSE]       = { .run = run_close },
	[VS_OP_SETSOCKOPT]  = { .try = try_setsockopt },
	[VS_OP_GETSOCKOPT]  = { .try = try_getsockopt },
	[VS_OP_GETSOCKNAME] = { .try = try_getname },
	[VS_OP_GETPEERNAME] = { .try = try_getname },
	[VS_OP_POLL]        = { .try = try_poll,       .wait = WAIT_POLL },
	[VS_OP_CANCEL]      = { .run = run_cancel },
};
