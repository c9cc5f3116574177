/* SPDX-License-Identifier: MIT */
/*
 * Interest sets (vs_epoll.h) through a real hostnet (fake VM, no KVM), against real
 * host sockets: register, modify, remove; level-triggered re-arming and one-shot;
 * a socket closed while registered (its descriptor then reused); and events on more
 * sockets than a queue has request records, each reported exactly once.
 */
#include <sys/resource.h>

#include "guestlib_fake_vm.h"
#include "virtsocket/vs_epoll.h"

/* guestlib_epoll_stream.c runs these tests again with connections marked
 * VS_FD_STREAM and an allocator given: input through the streams' read-ahead. */
#ifndef EPOLL_CONN_FLAGS
#define EPOLL_CONN_FLAGS 0u
#endif

static void start_with(uint32_t max_sockets)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	fvm_start(&(struct fvm_opts){ .notify = VS_NOTIFY_ADAPTIVE, .copy = VS_COPY_ZERO,
				      .poll_us = 50, .max_sockets = max_sockets });
	if (EPOLL_CONN_FLAGS & VS_FD_STREAM)
		vs_set_allocator(fvm_allocator, NULL);
}

static void start(void)
{
	start_with(0);
}

/* A guest descriptor connected to a host socket (*peer). */
static int guest_conn(int listener, uint16_t port, int *peer)
{
	int h = fvm_connect_tcp(port);
	int fd = vs_fd_open(h, EPOLL_CONN_FLAGS);
	cr_assert_geq(fd, VS_FD_FIRST, "vs_fd_open: %d", fd);
	*peer = accept(listener, NULL, NULL);
	cr_assert_geq(*peer, 0);
	return fd;
}



/* One guest connection (fd, its host end peer, the listener l) registered in a new
 * set ep with events and data. */
struct one {
	int l, peer, fd, ep;
	uint16_t port;
};

static struct one one_registered(uint32_t events, uint64_t data)
{
	struct one o;
	o.l = fvm_host_listener(&o.port, 4096, 0);
	o.fd = guest_conn(o.l, o.port, &o.peer);
	o.ep = fvm_new_set();
	cr_assert_eq(fvm_ctl(o.ep, VS_EPOLL_CTL_ADD, o.fd, events, data), 0);
	return o;
}

/* Exactly one event, for data, with (at least) these bits. */
static void expect_one(int ep, uint64_t data, uint32_t bits, int timeout_ms)
{
	struct vs_epoll_event ev[4];
	int n = vs_epoll_wait(ep, ev, 4, timeout_ms);
	cr_assert_eq(n, 1, "wait: %d events, expected one for %llu", n, (unsigned long long)data);
	cr_assert_eq(ev[0].data, data, "event for %llu, expected %llu",
		     (unsigned long long)ev[0].data, (unsigned long long)data);
	cr_assert_eq(ev[0].events & bits, bits, "events 0x%x lack 0x%x", ev[0].events, bits);
}

static void expect_none(int ep, int timeout_ms)
{
	struct vs_epoll_event ev[4];
	int n = vs_epoll_wait(ep, ev, 4, timeout_ms);
	cr_assert_eq(n, 0, "%d unexpected event(s), first for %llu (0x%x)", n,
		     n > 0 ? (unsigned long long)ev[0].data : 0ull, n > 0 ? ev[0].events : 0);
}

/* Read and drop n bytes from a guest descriptor. */
static void drain(int fd, size_t n)
{
	uint8_t *buf = fvm_alloc(n);
	fvm_recv_all(fd, buf, n);
}

Test(guestlib_epoll, register_then_ready_once_per_arrival, .init = start, .fini = fvm_stop,
     .timeout = 60)
{
	struct one o = one_registered(VS_EPOLLIN, 42);
	int l = o.l, peer = o.peer, fd = o.fd, ep = o.ep;
	expect_none(ep, 100);

	cr_assert_eq(write(peer, "abc", 3), 3);
	expect_one(ep, 42, VS_EPOLLIN, 5000);
	drain(fd, 3);
	expect_none(ep, 100); /* read: re-armed, not ready, nothing reported twice */

	cr_assert_eq(write(peer, "de", 2), 2);
	expect_one(ep, 42, VS_EPOLLIN, 5000);
	/* Level-triggered: not read, so reported again at the next wait. */
	expect_one(ep, 42, VS_EPOLLIN, 5000);
	drain(fd, 2);
	expect_none(ep, 100);

	/* The peer goes away: readable (EOF) and hung up. */
	close(peer);
	expect_one(ep, 42, VS_EPOLLIN, 5000);
	cr_assert_eq(vs_epoll_close(ep), 0);
	close(l);
}

Test(guestlib_epoll, modify_and_remove, .init = start, .fini = fvm_stop, .timeout = 60)
{
	struct one o = one_registered(VS_EPOLLIN, 1);
	int l = o.l, peer = o.peer, fd = o.fd, ep = o.ep;
	expect_none(ep, 50);

	/* MOD to writable (a fresh connection is) with new data. */
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_MOD, fd, VS_EPOLLOUT, 2), 0);
	expect_one(ep, 2, VS_EPOLLOUT, 5000);
	/* Back to readable: the writable event does not come back. */
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_MOD, fd, VS_EPOLLIN, 3), 0);
	expect_none(ep, 100);

	/* Removed: data arrives, nothing is reported. */
	cr_assert_eq(vs_epoll_ctl(ep, VS_EPOLL_CTL_DEL, fd, NULL), 0);
	cr_assert_eq(write(peer, "x", 1), 1);
	expect_none(ep, 200);
	/* Added again: the data that waits is reported, once per wait until read. */
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd, VS_EPOLLIN, 4), 0);
	expect_one(ep, 4, VS_EPOLLIN, 5000);
	drain(fd, 1);
	expect_none(ep, 100);

	/* Wrong uses. */
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd, VS_EPOLLIN, 5), -EEXIST);
	cr_assert_eq(vs_epoll_ctl(ep, VS_EPOLL_CTL_DEL, fd, NULL), 0);
	cr_assert_eq(vs_epoll_ctl(ep, VS_EPOLL_CTL_DEL, fd, NULL), -ENOENT);
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_MOD, fd, VS_EPOLLIN, 6), -ENOENT);
	cr_assert_eq(fvm_ctl(ep, 9, fd, VS_EPOLLIN, 6), -EINVAL);
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, 999, VS_EPOLLIN, 6), -EBADF);
	cr_assert_eq(fvm_ctl(ep + 1, VS_EPOLL_CTL_ADD, fd, VS_EPOLLIN, 6), -EBADF);
	cr_assert_eq(vs_epoll_ctl(ep, VS_EPOLL_CTL_ADD, fd, NULL), -EFAULT);
	close(peer);
	close(l);
}

Test(guestlib_epoll, oneshot_until_modified, .init = start, .fini = fvm_stop, .timeout = 60)
{
	struct one o = one_registered(VS_EPOLLIN | VS_EPOLLONESHOT, 7);
	int l = o.l, peer = o.peer, fd = o.fd, ep = o.ep;
	cr_assert_eq(write(peer, "y", 1), 1);
	expect_one(ep, 7, VS_EPOLLIN, 5000);
	expect_none(ep, 100); /* still readable, but one-shot: disabled */
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_MOD, fd, VS_EPOLLIN | VS_EPOLLONESHOT, 8), 0);
	expect_one(ep, 8, VS_EPOLLIN, 5000);
	close(peer);
	close(l);
}

/* Closed while registered: no event, no error, gone from the set; the descriptor's
 * next socket registers afresh and never sees its predecessor's POLL. */
Test(guestlib_epoll, socket_closed_while_registered, .init = start, .fini = fvm_stop,
     .timeout = 60)
{
	struct one o = one_registered(VS_EPOLLIN, 10);
	int l = o.l, peer = o.peer, fd = o.fd, ep = o.ep;
	uint16_t port = o.port;
	int h = vs_fd_handle(fd);
	vs_fd_release(fd); /* what POSIX close() does */
	cr_assert_eq(vs_close(h), 0);
	expect_none(ep, 200);
	cr_assert_eq(vs_epoll_ctl(ep, VS_EPOLL_CTL_DEL, fd, NULL), -EBADF);

	int peer2;
	int fd2 = guest_conn(l, port, &peer2);
	cr_assert_eq(fd2, fd, "the lowest descriptor is reused");
	cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd2, VS_EPOLLIN, 11), 0);
	expect_none(ep, 100);
	cr_assert_eq(write(peer2, "z", 1), 1);
	expect_one(ep, 11, VS_EPOLLIN, 5000);

	/* Closed while its event waits unreported: the event goes with it. */
	h = vs_fd_handle(fd2);
	vs_fd_release(fd2);
	cr_assert_eq(vs_close(h), 0);
	expect_none(ep, 100);
	close(peer);
	close(peer2);
	close(l);
}

#define MANY 400 /* more sockets than a queue's VS_MAX_INFLIGHT request records */

/* Every one of `want` (a bitmap by index) reported exactly once, nothing else; each
 * reported socket's byte is read before the next wait, as a server would (else
 * level-triggered readiness rightly reports it again). */
static void expect_each_once(int ep, const bool *want, unsigned n_want, const int *fd)
{
	static unsigned seen[MANY];
	struct vs_epoll_event ev[64];
	memset(seen, 0, sizeof(seen));
	unsigned got = 0;
	while (got < n_want) {
		int n = vs_epoll_wait(ep, ev, 64, 5000);
		cr_assert_gt(n, 0, "wait: %d after %u of %u events", n, got, n_want);
		for (int i = 0; i < n; i++) {
			uint64_t k = ev[i].data;
			cr_assert_lt(k, MANY);
			cr_assert(want[k], "event for socket %llu, which got no data",
				  (unsigned long long)k);
			cr_assert_eq(seen[k]++, 0, "socket %llu reported twice", (unsigned long long)k);
			drain(fd[k], 1);
			got++;
		}
	}
}

Test(guestlib_epoll, events_on_many_sockets_each_once, .init = start, .fini = fvm_stop,
     .timeout = 120)
{
	uint16_t port;
	int l = fvm_host_listener(&port, 4096, 0);
	static int fd[MANY], peer[MANY];
	static bool want[MANY];
	int ep = fvm_new_set();
	for (unsigned i = 0; i < MANY; i++) {
		fd[i] = guest_conn(l, port, &peer[i]);
		cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd[i], VS_EPOLLIN, i), 0);
	}
	expect_none(ep, 100);

	/* Every third socket gets a byte: those, and only those, once each. */
	unsigned n_want = 0;
	for (unsigned i = 0; i < MANY; i++) {
		want[i] = i % 3 == 0;
		if (want[i]) {
			cr_assert_eq(write(peer[i], "m", 1), 1);
			n_want++;
		}
	}
	expect_each_once(ep, want, n_want, fd);
	expect_none(ep, 100);

	/* Then all of them at once. */
	for (unsigned i = 0; i < MANY; i++) {
		want[i] = true;
		cr_assert_eq(write(peer[i], "n", 1), 1);
	}
	expect_each_once(ep, want, MANY, fd);
	expect_none(ep, 100);

	/* Close every other one while registered: the rest still report, once. */
	for (unsigned i = 0; i < MANY; i += 2) {
		int h = vs_fd_handle(fd[i]);
		vs_fd_release(fd[i]);
		cr_assert_eq(vs_close(h), 0);
	}
	for (unsigned i = 0; i < MANY; i++) {
		want[i] = i % 2 == 1;
		cr_assert_eq(write(peer[i], "o", 1) == 1 || !want[i], true);
	}
	expect_each_once(ep, want, MANY / 2, fd);
	expect_none(ep, 100);
	for (unsigned i = 0; i < MANY; i++)
		close(peer[i]);
	close(l);
}

/* More idle registered sockets than hostnet's default room for parked requests per
 * queue (HOSTNET_MAX_INFLIGHT, 4,096): each holds an armed POLL, and the queue must
 * still take new requests (room grows with --max-sockets). */
#define IDLE 4200

static void start_big(void)
{
	start_with(IDLE + 64);
}

Test(guestlib_epoll, more_idle_sockets_than_the_default_inflight_room, .init = start_big,
     .fini = fvm_stop, .timeout = 120)
{
	struct rlimit r;
	getrlimit(RLIMIT_NOFILE, &r);
	cr_assert_geq(r.rlim_cur, 2 * IDLE + 64, "needs %d open files", 2 * IDLE + 64);
	uint16_t port;
	int l = fvm_host_listener(&port, 4096, 0);
	static int fd[IDLE], peer[IDLE];
	int ep = fvm_new_set();
	for (unsigned i = 0; i < IDLE; i++) {
		fd[i] = guest_conn(l, port, &peer[i]);
		cr_assert_eq(fvm_ctl(ep, VS_EPOLL_CTL_ADD, fd[i], VS_EPOLLIN, i), 0);
	}
	/* The last registered and a new request both get through. */
	cr_assert_eq(write(peer[IDLE - 1], "q", 1), 1);
	expect_one(ep, IDLE - 1, VS_EPOLLIN, 10000);
	int extra_peer, extra = guest_conn(l, port, &extra_peer);
	cr_assert_geq(extra, VS_FD_FIRST);
	for (unsigned i = 0; i < IDLE; i++)
		close(peer[i]);
	close(extra_peer);
	close(l);
}
