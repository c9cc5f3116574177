/* SPDX-License-Identifier: MIT */
/*
 * Stream descriptors' fast paths (guest-lib/src/stream.c) through a real hostnet
 * (fake VM, no KVM), against real host sockets: input watched by an interest set
 * arrives with its readiness (a RECV armed into the library's read-ahead buffer) and
 * recv() is served from that buffer; non-blocking sends are copied and not waited
 * for.  Byte-exact data across partial reads, data then end of file or an error in
 * order, a socket closed while its RECV is armed, MOD/DEL with an armed RECV, an
 * async send's failure reported by the next call, and close() after async sends
 * delivering every byte to a slow reader.
 */
#include <pthread.h>
#include <netinet/tcp.h>

#include "guestlib_fake_vm.h"
#include "virtsocket/vs_epoll.h"


static void start(void)
{
	fvm_start(&(struct fvm_opts){ .notify = VS_NOTIFY_ADAPTIVE, .copy = VS_COPY_ZERO,
				      .poll_us = 50 });
	vs_set_allocator(fvm_allocator, NULL);
}

/* A guest stream descriptor (VS_FD_STREAM, as POSIX accept()/connect() mark
 * them) connected to a host socket *peer accepted from l. */
static int stream_conn(int l, uint16_t port, int *peer)
{
	int fd = vs_fd_open(fvm_connect_tcp(port), VS_FD_NONBLOCK | VS_FD_STREAM);
	cr_assert_geq(fd, VS_FD_FIRST, "vs_fd_open: %d", fd);
	*peer = accept(l, NULL, NULL);
	cr_assert_geq(*peer, 0);
	return fd;
}



/* Exactly one event, for data, with (at least) these bits; returns its events. */
static uint32_t expect_one(int ep, uint64_t data, uint32_t bits, int timeout_ms)
{
	struct vs_epoll_event ev[4];
	int n = vs_epoll_wait(ep, ev, 4, timeout_ms);
	cr_assert_eq(n, 1, "wait: %d events, expected one for %llu", n, (unsigned long long)data);
	cr_assert_eq(ev[0].data, data);
	cr_assert_eq(ev[0].events & bits, bits, "events 0x%x lack 0x%x", ev[0].events, bits);
	return ev[0].events;
}

static void expect_none(int ep, int timeout_ms)
{
	struct vs_epoll_event ev[4];
	int n = vs_epoll_wait(ep, ev, 4, timeout_ms);
	cr_assert_eq(n, 0, "%d unexpected event(s), first 0x%x", n, n > 0 ? ev[0].events : 0);
}

static uint64_t requests(void)
{
	struct vs_stats st;
	vs_get_stats(&st);
	return st.requests;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		cr_assert_gt(w, 0);
		p += w;
		n -= (size_t)w;
	}
}

/* The read-ahead buffer serves recv(): partial reads byte-exact, PEEK leaves the
 * bytes, no request per served recv (only the RECV armed again once it drained),
 * EAGAIN without a round trip once empty; then more than one buffer's worth. */
Test(guestlib_stream, recv_served_from_readahead, .init = start, .fini = fvm_stop, .timeout = 60)
{
	uint16_t port;
	int l = fvm_host_listener(&port, 16, 0), peer;
	int fd = stream_conn(l, port, &peer);
	int ep = fvm_new_set();
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd, VS_EPOLLIN, 5), 0);
	expect_none(ep, 50);

	uint8_t sent[1000], got[1000];
	fvm_fill(sent, sizeof(sent), 7);
	write_all(peer, sent, sizeof(sent));
	expect_one(ep, 5, VS_EPOLLIN, 5000);

	uint8_t peek[10];
	cr_assert_eq(vs_recv(fd, peek, sizeof(peek), VS_MSG_PEEK | VS_MSG_DONTWAIT), 10);
	cr_assert_arr_eq(peek, sent, 10);
	uint64_t before = requests();
	size_t at = 0;
	while (at < 990) { /* 99 reads of 10 bytes: all from the buffer */
		int64_t r = vs_recv(fd, got + at, 10, VS_MSG_DONTWAIT);
		cr_assert_eq(r, 10, "recv at %zu: %lld", at, (long long)r);
		at += 10;
	}
	cr_assert_eq(requests(), before, "a recv served from the buffer made a request");
	cr_assert_eq(vs_recv(fd, got + at, 100, VS_MSG_DONTWAIT), 10);
	cr_assert_arr_eq(got, sent, sizeof(sent));
	cr_assert_leq(requests(), before + 1, "only the RECV armed again");
	cr_assert_eq(vs_recv(fd, got, 100, VS_MSG_DONTWAIT), -EAGAIN);
	expect_none(ep, 100);

	/* 20,000 bytes through a 2 KiB buffer: a blocking WAITALL recv, byte-exact. */
	static uint8_t big[20000], back[20000];
	fvm_fill(big, sizeof(big), 9);
	write_all(peer, big, sizeof(big));
	cr_assert_eq(vs_recv(fd, back, sizeof(back), VS_MSG_WAITALL), (int64_t)sizeof(back));
	cr_assert_arr_eq(back, big, sizeof(big));
	expect_none(ep, 100);

	struct vs_stats st;
	vs_get_stats(&st);
	cr_assert_eq(st.bad_completions, 0);
	close(peer);
	close(l);
}

/* Data, then the end of file: the data first, byte-exact, then 0 (and 0 again);
 * data then a reset: the data, then -ECONNRESET, then end of file. */
Test(guestlib_stream, data_then_eof_then_reset_in_order, .init = start, .fini = fvm_stop,
     .timeout = 60)
{
	uint16_t port;
	int l = fvm_host_listener(&port, 16, 0), peer, peer2;
	int fd = stream_conn(l, port, &peer);
	int ep = fvm_new_set();
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd, VS_EPOLLIN | VS_EPOLLRDHUP, 1), 0);
	write_all(peer, (const uint8_t *)"hello", 5);
	shutdown(peer, SHUT_WR);
	expect_one(ep, 1, VS_EPOLLIN, 5000);
	char buf[16];
	int64_t r;
	size_t got = 0;
	while (got < 5 && (r = vs_recv(fd, buf + got, sizeof(buf) - got, 0)) > 0)
		got += (size_t)r;
	cr_assert_eq(got, 5);
	cr_assert_arr_eq(buf, "hello", 5);
	cr_assert_eq(vs_recv(fd, buf, sizeof(buf), 0), 0);
	cr_assert_eq(vs_recv(fd, buf, sizeof(buf), VS_MSG_DONTWAIT), 0);
	/* end of file stays ready (level-triggered), with RDHUP as asked */
	expect_one(ep, 1, VS_EPOLLIN | VS_EPOLLRDHUP, 5000);
	cr_assert_eq(vs_epoll_ctl(ep, VS_EPOLL_CTL_DEL, fd, NULL), 0);

	int fd2 = stream_conn(l, port, &peer2);
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd2, VS_EPOLLIN, 2), 0);
	write_all(peer2, (const uint8_t *)"xyz", 3);
	/* ... and the data has been read ahead before the reset comes */
	expect_one(ep, 2, VS_EPOLLIN, 5000);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	cr_assert_eq(setsockopt(peer2, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(peer2); /* RST */
	usleep(100 * 1000);
	cr_assert_eq(vs_recv(fd2, buf, sizeof(buf), 0), 3);
	cr_assert_arr_eq(buf, "xyz", 3);
	cr_assert_eq(vs_recv(fd2, buf, sizeof(buf), 0), -ECONNRESET);
	cr_assert_eq(vs_recv(fd2, buf, sizeof(buf), 0), 0);
	close(peer);
	close(l);
}

/* Closed while registered with its RECV armed: the CLOSE ends the RECV, nothing is
 * reported, no completion is taken for another's; the descriptor's next socket
 * gets only its own data. */
Test(guestlib_stream, closed_while_registered_with_armed_recv, .init = start, .fini = fvm_stop,
     .timeout = 60)
{
	uint16_t port;
	int l = fvm_host_listener(&port, 16, 0), peer, peer2;
	int fd = stream_conn(l, port, &peer);
	int ep = fvm_new_set();
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd, VS_EPOLLIN, 1), 0);
	expect_none(ep, 50); /* its RECV is on the host now */
	cr_assert_eq(vs_fd_close(fd), 0);
	expect_none(ep, 100);
	cr_assert_eq(vs_epoll_ctl(ep, VS_EPOLL_CTL_DEL, fd, NULL), -EBADF);
	char c;
	cr_assert_eq(read(peer, &c, 1), 0, "the host socket was closed");

	int fd2 = stream_conn(l, port, &peer2);
	cr_assert_eq(fd2, fd, "the descriptor is reused");
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd2, VS_EPOLLIN, 2), 0);
	write_all(peer2, (const uint8_t *)"new", 3);
	expect_one(ep, 2, VS_EPOLLIN, 5000);
	char buf[8];
	cr_assert_eq(vs_recv(fd2, buf, sizeof(buf), VS_MSG_DONTWAIT), 3);
	cr_assert_arr_eq(buf, "new", 3);
	expect_none(ep, 100);
	struct vs_stats st;
	vs_get_stats(&st);
	cr_assert_eq(st.bad_completions, 0);
	close(peer);
	close(peer2);
	close(l);
}

/* MOD and DEL with an armed RECV: what it reads is kept for recv(), never lost or
 * reordered; MOD to output only reports no input, back to input reports it. */
Test(guestlib_stream, mod_and_del_with_armed_recv, .init = start, .fini = fvm_stop, .timeout = 60)
{
	uint16_t port;
	int l = fvm_host_listener(&port, 16, 0), peer;
	int fd = stream_conn(l, port, &peer);
	int ep = fvm_new_set();
	char buf[16];
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd, VS_EPOLLIN, 1), 0);
	expect_none(ep, 50);
	cr_assert_eq(vs_epoll_ctl(ep, VS_EPOLL_CTL_DEL, fd, NULL), 0);
	write_all(peer, (const uint8_t *)"ab", 2);
	expect_none(ep, 200);
	/* out of the set, recv still works (blocking: it waits for the read-ahead) */
	cr_assert_eq(vs_recv(fd, buf, sizeof(buf), 0), 2);
	cr_assert_arr_eq(buf, "ab", 2);

	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd, VS_EPOLLIN, 2), 0);
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_MOD, fd, VS_EPOLLOUT, 3), 0);
	uint32_t ev = expect_one(ep, 3, VS_EPOLLOUT, 5000);
	write_all(peer, (const uint8_t *)"cd", 2);
	usleep(100 * 1000);
	ev = expect_one(ep, 3, VS_EPOLLOUT, 5000);
	cr_assert_eq(ev & VS_EPOLLIN, 0, "input reported to an output-only item");
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_MOD, fd, VS_EPOLLIN, 4), 0);
	expect_one(ep, 4, VS_EPOLLIN, 5000);
	write_all(peer, (const uint8_t *)"ef", 2);
	size_t got = 0;
	while (got < 4) {
		int64_t r = vs_recv(fd, buf + got, sizeof(buf) - got, 0);
		cr_assert_gt(r, 0);
		got += (size_t)r;
	}
	cr_assert_arr_eq(buf, "cdef", 4);
	cr_assert_eq(vs_recv(fd, buf, sizeof(buf), VS_MSG_DONTWAIT), -EAGAIN);
	close(peer);
	close(l);
}

/* A non-blocking send returns before the host sent it; when the host's send fails
 * (the peer reset the connection) the next call reports the error, once. */
Test(guestlib_stream, async_send_error_on_next_call, .init = start, .fini = fvm_stop,
     .timeout = 60)
{
	uint16_t port;
	int l = fvm_host_listener(&port, 16, 0), peer;
	int fd = stream_conn(l, port, &peer);
	uint8_t *msg = fvm_alloc(100);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	cr_assert_eq(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(peer); /* RST */
	usleep(100 * 1000);
	uint64_t before = requests();
	/* Accepted at once, copied: the host has not run it yet. */
	cr_assert_eq(vs_send(fd, msg, 100, VS_MSG_DONTWAIT), 100);
	cr_assert_eq(requests(), before + 1);
	/* Handed over with the next batch (a wait, a full batch or a flush). */
	cr_assert_eq(vs_flush(), 0);
	usleep(200 * 1000); /* the host's send fails meanwhile */
	int64_t r = vs_send(fd, msg, 100, VS_MSG_DONTWAIT);
	cr_assert(r == -EPIPE || r == -ECONNRESET, "next send: %lld", (long long)r);

	/* The same through SO_ERROR. */
	cr_assert_eq(vs_send(fd, msg, 100, VS_MSG_DONTWAIT), 100);
	cr_assert_eq(vs_flush(), 0);
	usleep(200 * 1000);
	int err = 0;
	cr_assert_eq(vs_getsockopt(fd, VS_SOL_SOCKET, VS_SO_ERROR, &err), 0);
	cr_assert(err == EPIPE || err == ECONNRESET, "SO_ERROR %d", err);
	close(l);
}

struct reader {
	int fd;
	uint8_t *buf;
	size_t cap, got;
};

/* A slow host reader: small reads with pauses, until the end of file. */
static void *slow_reader(void *arg)
{
	struct reader *rd = arg;
	for (;;) {
		ssize_t n = read(rd->fd, rd->buf + rd->got, rd->cap - rd->got < 4096 ? rd->cap - rd->got : 4096);
		if (n <= 0)
			break;
		rd->got += (size_t)n;
		usleep(1000);
	}
	return NULL;
}

/* Many non-blocking sends (past the per-socket bound, so some wait for room), then
 * close(): every byte reaches the slow reader, in order, before its end of file. */
Test(guestlib_stream, close_after_async_sends_delivers_all, .init = start, .fini = fvm_stop,
     .timeout = 60)
{
	uint16_t port;
	int l = fvm_host_listener(&port, 16, 4096), peer;
	int fd = stream_conn(l, port, &peer);
	cr_assert_eq(vs_setsockopt(fd, VS_SOL_SOCKET, VS_SO_SNDBUF, 4096), 0);
	enum { TOTAL = 300 * 1000, PIECE = 1500 };
	static uint8_t data[TOTAL];
	fvm_fill(data, sizeof(data), 3);
	struct reader rd = { .fd = peer, .buf = malloc(TOTAL + 1), .cap = TOTAL + 1 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, slow_reader, &rd), 0);
	uint64_t before = requests();
	for (size_t at = 0; at < TOTAL; at += PIECE)
		cr_assert_eq(vs_send(fd, data + at, PIECE, VS_MSG_DONTWAIT), PIECE);
	cr_assert_eq(requests() - before, TOTAL / PIECE, "one SEND per piece, nothing else");
	cr_assert_eq(vs_fd_close(fd), 0);
	pthread_join(t, NULL);
	cr_assert_eq(rd.got, (size_t)TOTAL, "the reader got %zu of %d bytes", rd.got, TOTAL);
	cr_assert_arr_eq(rd.buf, data, TOTAL);
	free(rd.buf);
	close(peer);
	close(l);
}

/* poll() on a descriptor whose bytes wait in the read-ahead buffer: readable at
 * once (the host's socket is empty). */
Test(guestlib_stream, poll_sees_buffered_input, .init = start, .fini = fvm_stop, .timeout = 60)
{
	uint16_t port;
	int l = fvm_host_listener(&port, 16, 0), peer;
	int fd = stream_conn(l, port, &peer);
	int ep = fvm_new_set();
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd, VS_EPOLLIN, 1), 0);
	write_all(peer, (const uint8_t *)"0123456789", 10);
	expect_one(ep, 1, VS_EPOLLIN, 5000);
	char buf[4];
	cr_assert_eq(vs_recv(fd, buf, 4, VS_MSG_DONTWAIT), 4);
	struct vs_pollfd p = { .fd = fd, .events = VS_POLLIN };
	cr_assert_eq(vs_poll(&p, 1, 5000), 1);
	cr_assert(p.revents & VS_POLLIN);
	char rest[16];
	cr_assert_eq(vs_recv(fd, rest, sizeof(rest), VS_MSG_DONTWAIT), 6);
	cr_assert_arr_eq(rest, "456789", 6);
	p.revents = 0;
	cr_assert_eq(vs_poll(&p, 1, 100), 0, "nothing left to read");
	write_all(peer, (const uint8_t *)"z", 1);
	cr_assert_eq(vs_poll(&p, 1, 5000), 1, "the read-ahead's completion ends the wait");
	cr_assert_eq(vs_recv(fd, rest, sizeof(rest), VS_MSG_DONTWAIT), 1);
	close(peer);
	close(l);
}
