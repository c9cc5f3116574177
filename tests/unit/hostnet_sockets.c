/* SPDX-License-Identifier: MIT */
/*
 * Real sockets on 127.0.0.1 against real peers (socat, or plain host sockets
 * when the test must see the bytes or control timing): echo with exact byte
 * comparison, refused connections, peers that go away, UDP, listen/accept,
 * readiness waits, ordering, NONBLOCK, POLL, CANCEL, CLOSE.
 */
#include "hostnet_guest.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>

static struct tg_vm vm;
static struct tg_queue *g;

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN); /* our own host-side peers write to closed sockets */
	tg_vm_init(&vm, 1, 0);
	g = &vm.qs[0];
}

static void teardown(void)
{
	tg_vm_fini(&vm);
}

/* Each test body runs between setup() and teardown() in the test itself,
 * not in .init/.fini: Criterion ignores assertions that fail in .fini, and
 * teardown asserts that nothing leaked. */
#define SOCKETS_TEST(name)                     \
	static void name##_body(void);            \
	Test(sockets, name, .timeout = 60)          \
	{                                         \
		setup();                          \
		name##_body();                    \
		teardown();                       \
	}                                         \
	static void name##_body(void)

/* A guest TCP socket connected to a plain host socket (*peer). */
static uint32_t connect_pair(int *peer)
{
	uint16_t port;
	int l = tg_listener(&port);
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	cr_assert_gt(h, 0, "SOCKET: %d", h);
	cr_assert_eq(tg_connect(&vm, g, (uint32_t)h, port), 0);
	*peer = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(*peer, 0);
	close(l);
	return (uint32_t)h;
}

static void read_exact(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		cr_assert_gt(r, 0, "peer read: %zd (errno %d) after %zu of %zu", r, errno, got, n);
		got += (size_t)r;
	}
}

SOCKETS_TEST(tcp_echo_mixed_sizes_exact_bytes)
{
	pid_t socat;
	uint16_t port = tg_echo_tcp(&socat);
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	cr_assert_gt(h, 0);
	cr_assert_eq(tg_connect(&vm, g, (uint32_t)h, port), 0);

	static const uint32_t sizes[] = { 1, 7, 100, 1460, 4096, 65536, 1u << 20, 3u << 20 };
	uint64_t out = tg_alloc(&vm, 3u << 20), in = tg_alloc(&vm, 3u << 20);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = sizes[i];
		tg_fill_pattern(tg_ptr(&vm, out), n, i + 1);
		memset(tg_ptr(&vm, in), 0, n);
		/* One batch: the send may have to wait for the echo to be read,
		 * and the receive runs alongside it. */
		struct vs_sqe *s = tg_prep(g, VS_OP_SEND, (uint32_t)h);
		s->addr = out;
		s->len = n;
		uint64_t ud_send = s->user_data;
		struct vs_sqe *r = tg_prep(g, VS_OP_RECV, (uint32_t)h);
		r->addr = in;
		r->len = n;
		r->op_flags = VS_MSG_WAITALL;
		uint64_t ud_recv = r->user_data;
		tg_submit(&vm, g);
		struct vs_cqe c[2];
		tg_collect(&vm, g, c, 2, 20000);
		cr_assert_eq(tg_find(c, 2, ud_send)->result, (int32_t)n, "SEND of %u", n);
		cr_assert_eq(tg_find(c, 2, ud_recv)->result, (int32_t)n, "RECV of %u", n);
		cr_assert_eq(memcmp(tg_ptr(&vm, out), tg_ptr(&vm, in), n), 0, "bytes of %u", n);
	}
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	uint64_t total = 0;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		total += sizes[i];
	cr_assert_eq(st.bytes_sent, total);
	cr_assert_eq(st.bytes_received, total);
	cr_assert_eq(st.bytes_copied, 0, "zero copy");
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	tg_socat_stop(socat);
}

SOCKETS_TEST(connect_send_recv_in_one_batch)
{
	pid_t socat;
	uint16_t port = tg_echo_tcp(&socat);
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	uint64_t out = tg_alloc(&vm, 64), in = tg_alloc(&vm, 64);
	memcpy(tg_ptr(&vm, out), "batched hello", 13);

	/* The receive is submitted while the connect is still pending: it must
	 * wait for it instead of failing with ENOTCONN. */
	struct vs_sqe *c = tg_prep(g, VS_OP_CONNECT, (uint32_t)h);
	tg_sa_loopback(&c->u.addr, port);
	struct vs_sqe *r = tg_prep(g, VS_OP_RECV, (uint32_t)h);
	r->addr = in;
	r->len = 13;
	r->op_flags = VS_MSG_WAITALL;
	struct vs_sqe *s = tg_prep(g, VS_OP_SEND, (uint32_t)h);
	s->addr = out;
	s->len = 13;
	uint64_t uc = c->user_data, ur = r->user_data, us = s->user_data;
	tg_submit(&vm, g);
	struct vs_cqe cq[3];
	tg_collect(&vm, g, cq, 3, 10000);
	cr_assert_eq(cq[0].user_data, uc, "CONNECT completes first");
	cr_assert_eq(cq[0].result, 0);
	cr_assert_eq(tg_find(cq, 3, us)->result, 13);
	cr_assert_eq(tg_find(cq, 3, ur)->result, 13);
	cr_assert_eq(memcmp(tg_ptr(&vm, in), "batched hello", 13), 0);
	tg_socat_stop(socat);
}

SOCKETS_TEST(connect_to_a_closed_port_is_refused)
{
	uint16_t port = tg_free_port(SOCK_STREAM);
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	cr_assert_eq(tg_connect(&vm, g, (uint32_t)h, port), -ECONNREFUSED);
	int32_t r = tg_io(&vm, g, VS_OP_RECV, (uint32_t)h, tg_alloc(&vm, 16), 16, 0);
	cr_assert_leq(r, 0, "a receive on the failed socket does not wait: %d", r);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
}

/* The handshake with a loopback listener is over by the time connect()
 * returns EINPROGRESS: a second connect() finds it done, so even a NONBLOCK
 * CONNECT completes with 0 (Linux's first connect() on a non-blocking TCP
 * socket never does; ops.c try_connect).  At least once in ten tries: the
 * kernel may put the SYN-ACK off to ksoftirqd under load. */
SOCKETS_TEST(connect_to_a_loopback_listener_completes_at_once)
{
	uint16_t port;
	int l = tg_listener(&port);
	int at_once = 0;
	for (int i = 0; i < 10; i++) {
		int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
		struct vs_sqe *e = tg_prep(g, VS_OP_CONNECT, (uint32_t)h);
		tg_sa_loopback(&e->u.addr, port);
		e->flags = VS_SQE_NONBLOCK;
		int32_t r = tg_run(&vm, g, e, NULL);
		cr_assert(r == 0 || r == -EINPROGRESS, "NONBLOCK CONNECT: %d", r);
		at_once += r == 0;
		int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		cr_assert_geq(a, 0);
		close(a);
		cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	}
	cr_assert_gt(at_once, 0, "no NONBLOCK CONNECT to 127.0.0.1 completed at once");
	close(l);
}

/* A listener whose accept queue is full drops SYNs: the CONNECT waits
 * (connect() again says EALREADY) and completes with 0 when a retransmitted
 * SYN finds room, on the socket's readiness. */
SOCKETS_TEST(connect_to_a_full_listener_waits_then_completes)
{
	uint16_t port;
	int l = tg_listener(&port);
	cr_assert_eq(listen(l, 0), 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fill[4];
	for (int i = 0; i < 4; i++) { /* more than a backlog of 0 holds */
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		cr_assert_geq(fill[i], 0);
		connect(fill[i], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(50000);
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	struct vs_sqe *e = tg_prep(g, VS_OP_CONNECT, (uint32_t)h);
	tg_sa_loopback(&e->u.addr, port);
	uint64_t ud = e->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 300); /* its SYN was dropped: it waits */
	/* Room for it alone: the fillers go (closing aborts their handshakes),
	 * the queued ones are taken out. */
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	int q;
	cr_assert_eq(fcntl(l, F_SETFL, O_NONBLOCK), 0);
	while ((q = accept4(l, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(q);
	cr_assert_eq(fcntl(l, F_SETFL, 0), 0);
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 10000); /* the SYN is sent again after 1 s, then 3 s */
	cr_assert_eq(c.user_data, ud);
	cr_assert_eq(c.result, 0, "CONNECT after the wait: %d", c.result);
	int p = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(p, 0);
	close(p);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	close(l);
}

SOCKETS_TEST(peer_close_gives_eof_then_epipe_or_reset)
{
	int peer;
	uint32_t h = connect_pair(&peer);
	uint64_t buf = tg_alloc(&vm, 4096);
	close(peer);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, h, buf, 4096, 0), 0, "EOF");
	int32_t r = 0;
	for (int i = 0; i < 200 && r >= 0; i++) {
		r = tg_io(&vm, g, VS_OP_SEND, h, buf, 4096, 0);
		if (r >= 0)
			usleep(5000);
	}
	cr_assert(r == -EPIPE || r == -ECONNRESET, "send to a closed peer: %d", r);
}

SOCKETS_TEST(udp_round_trip_with_socat)
{
	pid_t socat;
	uint16_t port = tg_echo(SOCK_DGRAM, &socat);

	int32_t h = tg_socket(&vm, g, VS_SOCK_DGRAM);
	cr_assert_gt(h, 0);
	uint64_t out = tg_alloc(&vm, 1500), in = tg_alloc(&vm, 1500);
	uint64_t from = tg_alloc(&vm, sizeof(struct vs_sockaddr));
	tg_fill_pattern(tg_ptr(&vm, out), 1200, 42);

	struct vs_sqe *r = tg_prep(g, VS_OP_RECVFROM, (uint32_t)h);
	r->addr = in;
	r->len = 1500;
	r->u.out.addr_gpa = from;
	uint64_t ur = r->user_data;
	struct vs_sqe *s = tg_prep(g, VS_OP_SENDTO, (uint32_t)h);
	s->addr = out;
	s->len = 1200;
	tg_sa_loopback(&s->u.addr, port);
	uint64_t us = s->user_data;
	tg_submit(&vm, g); /* RECVFROM first: it parks until the echo arrives */
	struct vs_cqe c[2];
	tg_collect(&vm, g, c, 2, 10000);
	cr_assert_eq(c[0].user_data, us, "the send completes first");
	cr_assert_eq(tg_find(c, 2, us)->result, 1200);
	cr_assert_eq(tg_find(c, 2, ur)->result, 1200);
	cr_assert_eq(memcmp(tg_ptr(&vm, out), tg_ptr(&vm, in), 1200), 0);
	struct vs_sockaddr *sa = tg_ptr(&vm, from);
	cr_assert_eq(sa->family, VS_AF_INET);
	cr_assert_eq(ntohs(sa->port), port);
	cr_assert_eq(sa->addr[0], 127);
	tg_socat_stop(socat);
}

SOCKETS_TEST(listen_accept_from_a_host_client)
{
	int32_t l = tg_socket(&vm, g, VS_SOCK_STREAM);
	struct vs_sqe *e = tg_prep(g, VS_OP_SETSOCKOPT, (uint32_t)l);
	e->u.opt.level = VS_SOL_SOCKET;
	e->u.opt.name = VS_SO_REUSEADDR;
	e->u.opt.value = 1;
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	e = tg_prep(g, VS_OP_BIND, (uint32_t)l);
	tg_sa_loopback(&e->u.addr, 0);
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	e = tg_prep(g, VS_OP_LISTEN, (uint32_t)l);
	e->op_flags = 8;
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	uint64_t name = tg_alloc(&vm, 32), peer = tg_alloc(&vm, 32);
	cr_assert_eq(tg_io(&vm, g, VS_OP_GETSOCKNAME, (uint32_t)l, name, 0, 0), 0);
	uint16_t port = ntohs(((struct vs_sockaddr *)tg_ptr(&vm, name))->port);
	cr_assert_gt(port, 0);

	/* ACCEPT first: it waits for the client. */
	e = tg_prep(g, VS_OP_ACCEPT, (uint32_t)l);
	e->addr = peer;
	e->len = sizeof(struct vs_sockaddr);
	uint64_t ua = e->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 50);

	int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(connect(client, (struct sockaddr *)&a, sizeof(a)), 0);
	struct sockaddr_in me;
	socklen_t mlen = sizeof(me);
	getsockname(client, (struct sockaddr *)&me, &mlen);
	cr_assert_eq(write(client, "hello", 5), 5);

	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 5000);
	cr_assert_eq(c.user_data, ua);
	cr_assert_gt(c.result, 0, "ACCEPT: %d", c.result);
	uint32_t h = (uint32_t)c.result;
	cr_assert_neq(h, (uint32_t)l);
	struct vs_sockaddr *sa = tg_ptr(&vm, peer);
	cr_assert_eq(sa->family, VS_AF_INET);
	cr_assert_eq(sa->port, me.sin_port, "peer address is the client's");

	uint64_t buf = tg_alloc(&vm, 16);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, h, buf, 16, 0), 5);
	cr_assert_eq(memcmp(tg_ptr(&vm, buf), "hello", 5), 0);
	memcpy(tg_ptr(&vm, buf), "world", 5);
	cr_assert_eq(tg_io(&vm, g, VS_OP_SEND, h, buf, 5, 0), 5);
	char back[5];
	read_exact(client, (uint8_t *)back, 5);
	cr_assert_eq(memcmp(back, "world", 5), 0);
	cr_assert_eq(tg_io(&vm, g, VS_OP_GETPEERNAME, h, name, 0, 0), 0);
	cr_assert_eq(((struct vs_sockaddr *)tg_ptr(&vm, name))->port, me.sin_port);

	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, h), 0);
	cr_assert_eq(read(client, back, 1), 0, "the client sees the close");
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)l), 0);
	close(client);
}

SOCKETS_TEST(nonblock_recv_eagain_and_parked_recv_wakes_on_data)
{
	int peer;
	uint32_t h = connect_pair(&peer);
	uint64_t buf = tg_alloc(&vm, 64);
	struct vs_sqe *e = tg_prep(g, VS_OP_RECV, h);
	e->addr = buf;
	e->len = 64;
	e->flags = VS_SQE_NONBLOCK;
	cr_assert_eq(tg_run(&vm, g, e, NULL), -EAGAIN);

	e = tg_prep(g, VS_OP_RECV, h);
	e->addr = buf;
	e->len = 64;
	uint64_t ud = e->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 50);
	cr_assert_eq(write(peer, "ping", 4), 4);
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 5000);
	cr_assert_eq(c.user_data, ud);
	cr_assert_eq(c.result, 4);
	close(peer);
}

SOCKETS_TEST(one_slow_socket_does_not_stall_others)
{
	int pa, pb;
	uint32_t a = connect_pair(&pa), b = connect_pair(&pb);
	uint64_t ba = tg_alloc(&vm, 64), bb = tg_alloc(&vm, 64);
	struct vs_sqe *e = tg_prep(g, VS_OP_RECV, a);
	e->addr = ba;
	e->len = 64;
	uint64_t ua = e->user_data;
	tg_submit(&vm, g);
	cr_assert_eq(write(pb, "b!", 2), 2);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, b, bb, 64, 0), 2, "b is served while a waits");
	cr_assert_eq(tg_op(&vm, g, VS_OP_NOP, 0), 0);
	cr_assert_eq(write(pa, "a!", 2), 2);
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 5000);
	cr_assert_eq(c.user_data, ua);
	cr_assert_eq(c.result, 2);
	close(pa);
	close(pb);
}

SOCKETS_TEST(receives_complete_in_submission_order)
{
	int peer;
	uint32_t h = connect_pair(&peer);
	enum { N = 50 };
	uint64_t buf = tg_alloc(&vm, N);
	uint64_t ud0 = 0;
	for (int i = 0; i < N; i++) {
		struct vs_sqe *e = tg_prep(g, VS_OP_RECV, h);
		e->addr = buf + i;
		e->len = 1;
		if (i == 0)
			ud0 = e->user_data;
	}
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 20);
	uint8_t data[N];
	for (int i = 0; i < N; i++)
		data[i] = (uint8_t)i;
	cr_assert_eq(write(peer, data, N), N);
	for (int i = 0; i < N; i++) {
		struct vs_cqe c;
		tg_wait_cqe(&vm, g, &c, 5000);
		cr_assert_eq(c.user_data, ud0 + i, "order");
		cr_assert_eq(c.result, 1);
	}
	cr_assert_eq(memcmp(tg_ptr(&vm, buf), data, N), 0, "byte i went to the i-th receive");
	close(peer);
}

SOCKETS_TEST(big_send_waits_for_room_and_completes_whole)
{
	int peer;
	uint32_t h = connect_pair(&peer);
	const uint32_t n = 12u << 20; /* more than both socket buffers hold */
	uint64_t out = tg_alloc(&vm, n);
	tg_fill_pattern(tg_ptr(&vm, out), n, 9);
	struct vs_sqe *e = tg_prep(g, VS_OP_SEND, h);
	e->addr = out;
	e->len = n;
	uint64_t ud = e->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 50); /* the peer reads nothing yet: it must wait */
	cr_assert_eq(tg_op(&vm, g, VS_OP_NOP, 0), 0, "the queue keeps going meanwhile");

	uint8_t *got = malloc(n);
	read_exact(peer, got, n);
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 10000);
	cr_assert_eq(c.user_data, ud);
	cr_assert_eq(c.result, (int32_t)n, "a send completes with everything");
	cr_assert_eq(memcmp(got, tg_ptr(&vm, out), n), 0);
	free(got);
	close(peer);
}

SOCKETS_TEST(nonblock_send_returns_the_partial_count)
{
	int peer;
	uint32_t h = connect_pair(&peer);
	const uint32_t n = 16u << 20;
	uint64_t out = tg_alloc(&vm, n);
	struct vs_sqe *e = tg_prep(g, VS_OP_SEND, h);
	e->addr = out;
	e->len = n;
	e->flags = VS_SQE_NONBLOCK;
	int32_t r = tg_run(&vm, g, e, NULL);
	cr_assert(r > 0 && (uint32_t)r < n, "NONBLOCK send of 16 MiB to a reader that sleeps: %d", r);
	e = tg_prep(g, VS_OP_SEND, h);
	e->addr = out;
	e->len = n;
	e->flags = VS_SQE_NONBLOCK;
	/* The kernel may still move queued bytes to the peer's receive buffer (TCP
	 * autotuning), freeing a little room: what matters is that it never waits. */
	r = tg_run(&vm, g, e, NULL);
	cr_assert(r == -EAGAIN || (r > 0 && (uint32_t)r < n),
		  "a second NONBLOCK send returns at once: -EAGAIN or a partial count, got %d", r);
	close(peer);
}

SOCKETS_TEST(poll_waits_for_the_requested_event)
{
	int peer;
	uint32_t h = connect_pair(&peer);
	struct vs_sqe *e = tg_prep(g, VS_OP_POLL, h);
	e->op_flags = VS_POLLOUT;
	cr_assert_eq(tg_run(&vm, g, e, NULL), VS_POLLOUT);
	e = tg_prep(g, VS_OP_POLL, h);
	e->op_flags = VS_POLLIN;
	e->flags = VS_SQE_NONBLOCK;
	cr_assert_eq(tg_run(&vm, g, e, NULL), -EAGAIN);

	e = tg_prep(g, VS_OP_POLL, h);
	e->op_flags = VS_POLLIN;
	uint64_t ud = e->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 30);
	cr_assert_eq(write(peer, "x", 1), 1);
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 5000);
	cr_assert_eq(c.user_data, ud);
	cr_assert_eq(c.result, VS_POLLIN);
	close(peer);
}

SOCKETS_TEST(cancel_by_user_data)
{
	int peer;
	uint32_t h = connect_pair(&peer);
	uint64_t buf = tg_alloc(&vm, 16);
	struct vs_sqe *e = tg_prep(g, VS_OP_RECV, h);
	e->addr = buf;
	e->len = 16;
	e->user_data = 0xabcdef;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 20);

	e = tg_prep(g, VS_OP_CANCEL, 0);
	e->u.out.addr_gpa = 0xabcdef;
	uint64_t uc = e->user_data;
	tg_submit(&vm, g);
	struct vs_cqe c[2];
	tg_collect(&vm, g, c, 2, 5000);
	cr_assert_eq(c[0].user_data, 0xabcdef, "the cancelled request completes first");
	cr_assert_eq(c[0].result, -ECANCELED);
	cr_assert_eq(c[1].user_data, uc);
	cr_assert_eq(c[1].result, 0);

	e = tg_prep(g, VS_OP_CANCEL, 0);
	e->u.out.addr_gpa = 0xabcdef;
	cr_assert_eq(tg_run(&vm, g, e, NULL), -ENOENT, "nothing left to cancel");

	/* The socket still works after a cancel. */
	cr_assert_eq(write(peer, "ok", 2), 2);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, h, buf, 16, 0), 2);
	close(peer);
}

SOCKETS_TEST(close_cancels_pending_then_handle_is_dead)
{
	int peer;
	uint32_t h = connect_pair(&peer);
	uint64_t buf = tg_alloc(&vm, 16);
	struct vs_sqe *e = tg_prep(g, VS_OP_RECV, h);
	e->addr = buf;
	e->len = 16;
	uint64_t ur = e->user_data;
	e = tg_prep(g, VS_OP_POLL, h);
	e->op_flags = VS_POLLIN;
	uint64_t up = e->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 20);
	e = tg_prep(g, VS_OP_CLOSE, h);
	uint64_t uclose = e->user_data;
	tg_submit(&vm, g);
	struct vs_cqe c[3];
	tg_collect(&vm, g, c, 3, 5000);
	cr_assert_eq(tg_find(c, 3, ur)->result, -ECANCELED);
	cr_assert_eq(tg_find(c, 3, up)->result, -ECANCELED);
	cr_assert_eq(c[2].user_data, uclose, "CLOSE completes after everything on the socket");
	cr_assert_eq(c[2].result, 0);

	uint32_t flags;
	e = tg_prep(g, VS_OP_RECV, h);
	e->addr = buf;
	e->len = 16;
	cr_assert_eq(tg_run(&vm, g, e, &flags), -EBADF);
	cr_assert_eq(flags, VS_CQE_BAD_REQUEST);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, h), -EBADF, "double close");
	char x;
	cr_assert_eq(read(peer, &x, 1), 0, "the host socket is really closed");
	close(peer);
}

SOCKETS_TEST(shutdown_write_after_pending_send)
{
	int peer;
	uint32_t h = connect_pair(&peer);
	uint64_t out = tg_alloc(&vm, 8);
	memcpy(tg_ptr(&vm, out), "bye", 3);
	struct vs_sqe *e = tg_prep(g, VS_OP_SEND, h);
	e->addr = out;
	e->len = 3;
	e = tg_prep(g, VS_OP_SHUTDOWN, h);
	e->op_flags = SHUT_WR;
	tg_submit(&vm, g);
	struct vs_cqe c[2];
	tg_collect(&vm, g, c, 2, 5000);
	cr_assert_eq(c[0].result, 3);
	cr_assert_eq(c[1].result, 0);
	char buf[8];
	read_exact(peer, (uint8_t *)buf, 3);
	cr_assert_eq(memcmp(buf, "bye", 3), 0);
	cr_assert_eq(read(peer, buf, 8), 0, "then EOF");
	close(peer);
}

SOCKETS_TEST(socket_options)
{
	int peer;
	uint32_t h = connect_pair(&peer);
	struct vs_sqe *e = tg_prep(g, VS_OP_SETSOCKOPT, h);
	e->u.opt.level = VS_SOL_TCP;
	e->u.opt.name = VS_TCP_NODELAY;
	e->u.opt.value = 1;
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	e = tg_prep(g, VS_OP_GETSOCKOPT, h);
	e->u.opt.level = VS_SOL_TCP;
	e->u.opt.name = VS_TCP_NODELAY;
	cr_assert_eq(tg_run(&vm, g, e, NULL), 1);
	e = tg_prep(g, VS_OP_SETSOCKOPT, h);
	e->u.opt.level = VS_SOL_SOCKET;
	e->u.opt.name = VS_SO_RCVBUF;
	e->u.opt.value = 65536;
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	e = tg_prep(g, VS_OP_GETSOCKOPT, h);
	e->u.opt.level = VS_SOL_SOCKET;
	e->u.opt.name = VS_SO_RCVBUF;
	cr_assert_eq(tg_run(&vm, g, e, NULL), 2 * 65536, "Linux doubles it");
	e = tg_prep(g, VS_OP_GETSOCKOPT, h);
	e->u.opt.level = VS_SOL_SOCKET;
	e->u.opt.name = VS_SO_ERROR;
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	close(peer);
}

SOCKETS_TEST(too_many_sockets_is_emfile)
{
	tg_vm_fini(&vm); /* again, with a smaller table */
	tg_max_sockets = 3;
	tg_vm_init(&vm, 1, 0);
	g = &vm.qs[0];
	int32_t h[3];
	for (int i = 0; i < 3; i++)
		cr_assert_gt(h[i] = tg_socket(&vm, g, VS_SOCK_DGRAM), 0);
	cr_assert_eq(tg_socket(&vm, g, VS_SOCK_DGRAM), -EMFILE);
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.sockets_open, 3);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h[1]), 0);
	cr_assert_gt(tg_socket(&vm, g, VS_SOCK_DGRAM), 0, "a close frees a slot");
}

/*
 * Zero copy means the bytes on the wire are read from guest memory when the
 * host sends them, not from a copy taken earlier.  A SEND bigger than the
 * socket buffers parks once they are full (the peer does not read yet); the
 * guest then rewrites its buffer, and what the peer reads past the point where
 * the send stopped must be the new contents.  A host that staged the buffer at
 * submit time would deliver the old bytes throughout.
 */
SOCKETS_TEST(zero_copy_sends_the_guest_buffer_as_it_is_at_send_time)
{
	enum { N = 16 << 20, OLD = 0xaa, NEW = 0x55 };
	int peer;
	uint32_t h = connect_pair(&peer);
	uint64_t buf = tg_alloc(&vm, N);
	memset(tg_ptr(&vm, buf), OLD, N);
	struct vs_sqe *e = tg_prep(g, VS_OP_SEND, h);
	e->addr = buf;
	e->len = N;
	uint64_t ud = e->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 300); /* parked: the buffers are full */
	memset(tg_ptr(&vm, buf), NEW, N);

	static uint8_t got[N];
	read_exact(peer, got, N);
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 20000);
	cr_assert_eq(c.user_data, ud);
	cr_assert_eq(c.result, (int32_t)N);
	size_t k = 0;
	while (k < N && got[k] == OLD)
		k++;
	cr_assert_lt(k, (size_t)N, "all %u bytes on the wire are the buffer as submitted", N);
	cr_assert_gt(k, 0u, "nothing was sent before the rewrite: the test proves nothing");
	for (size_t i = k; i < N; i++)
		cr_assert_eq(got[i], NEW, "byte %zu of %u: %#x, after new bytes from %zu", i, N,
			     got[i], k);
	close(peer);
}
