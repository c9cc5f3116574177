/* SPDX-License-Identifier: MIT */
/*
 * Readiness memory (hostnet/readiness.h): a RECV, SEND or ACCEPT on a socket
 * whose last try said "not ready" (EAGAIN, or a short stream read) with no
 * readiness edge since parks without a system call, counted in
 * syscalls_skipped.  Checked against real host sockets: the skipped calls are
 * counted, a request parked that way still completes when data, an end of
 * file, a reset, urgent data or a connection comes, and data racing the first
 * try is never left waiting (a stress loop, the request on another worker
 * than the socket's owner).
 */
#include "hostnet_guest.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

static struct tg_vm vm;
static struct tg_queue *g;

#define READINESS_TEST(name, queues)              \
	static void name##_body(void);            \
	Test(readiness, name, .timeout = 60)      \
	{                                         \
		signal(SIGPIPE, SIG_IGN);         \
		tg_vm_init(&vm, queues, 0);       \
		g = &vm.qs[0];                    \
		name##_body();                    \
		tg_vm_fini(&vm);                  \
	}                                         \
	static void name##_body(void)

static uint64_t skipped(void)
{
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	return st.syscalls_skipped;
}

/* Submit a blocking RECV of len bytes into gpa on queue q; returns its user_data. */
static uint64_t submit_recv(struct tg_queue *q, uint32_t h, uint64_t gpa, uint32_t len)
{
	struct vs_sqe *e = tg_prep(q, VS_OP_RECV, h);
	e->addr = gpa;
	e->len = len;
	uint64_t ud = e->user_data;
	tg_submit(&vm, q);
	return ud;
}

static int32_t nonblock_recv(uint32_t h, uint64_t gpa, uint32_t len)
{
	struct vs_sqe *e = tg_prep(g, VS_OP_RECV, h);
	e->addr = gpa;
	e->len = len;
	e->flags = VS_SQE_NONBLOCK;
	return tg_run(&vm, g, e, NULL);
}

static int32_t wait_result(struct tg_queue *q, uint64_t ud)
{
	struct vs_cqe c;
	tg_wait_cqe(&vm, q, &c, 5000);
	cr_assert_eq(c.user_data, ud, "completion for %llu, not %llu",
		     (unsigned long long)c.user_data, (unsigned long long)ud);
	return c.result;
}

/* The peer writes msg; once the owner worker has seen its edge, a RECV of up
 * to 64 bytes into buf gets it whole (a short read: the queue is empty). */
static void deliver(int peer, uint32_t h, uint64_t buf, const char *msg)
{
	size_t len = strlen(msg);
	cr_assert_eq(write(peer, msg, len), (ssize_t)len);
	usleep(20 * 1000);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, h, buf, 64, 0), (int32_t)len);
	cr_assert_eq(memcmp(tg_ptr(&vm, buf), msg, len), 0);
}

/* A blocking RECV of 64 bytes into buf that parks without a recv() call (one
 * more skipped) and waits; returns its user_data. */
static uint64_t recv_parks_without_a_try(uint32_t h, uint64_t buf, const char *why)
{
	uint64_t s0 = skipped();
	uint64_t ud = submit_recv(g, h, buf, 64);
	tg_expect_nothing(&vm, g, 50);
	cr_assert_eq(skipped() - s0, 1, "%s: the RECV called recv() (%llu skipped)", why,
		     (unsigned long long)(skipped() - s0));
	return ud;
}

/* EAGAIN once: the next RECV parks without a recv() call (one skipped), and
 * still completes with the bytes the peer writes later. */
READINESS_TEST(recv_parked_without_a_try_completes_when_data_comes, 1)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	uint64_t buf = tg_alloc(&vm, 64);
	cr_assert_eq(nonblock_recv(h, buf, 64), -EAGAIN);
	uint64_t ud = recv_parks_without_a_try(h, buf, "after EAGAIN");
	cr_assert_eq(write(peer, "ping", 4), 4);
	cr_assert_eq(wait_result(g, ud), 4);
	cr_assert_eq(memcmp(tg_ptr(&vm, buf), "ping", 4), 0);
	/* That read was short (4 of 64): a NONBLOCK RECV now answers -EAGAIN
	 * without a call, too. */
	uint64_t s0 = skipped();
	cr_assert_eq(nonblock_recv(h, buf, 64), -EAGAIN);
	cr_assert_eq(skipped() - s0, 1);
	close(peer);
}

/* A short stream read empties the receive queue: the RECV the guest arms right
 * after it (guest-lib's read-ahead) parks without the recv() that would say
 * EAGAIN; the next request's bytes still arrive, exactly. */
READINESS_TEST(short_read_counts_as_drained, 1)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	uint64_t buf = tg_alloc(&vm, 64);
	for (int round = 0; round < 20; round++) {
		char msg[32];
		snprintf(msg, sizeof(msg), "GET /%d HTTP/1.1\r\n", round);
		deliver(peer, h, buf, msg);
		uint64_t ud = recv_parks_without_a_try(h, buf, "re-armed after a short read");
		cr_assert_eq(write(peer, "x", 1), 1);
		cr_assert_eq(wait_result(g, ud), 1);
		cr_assert_eq(*(char *)tg_ptr(&vm, buf), 'x');
	}
	close(peer);
}

/* Parked without a try, then the peer shuts down: the RECV completes with 0.
 * Data and FIN together before the first try: the short read does not hide
 * the end of file behind it. */
READINESS_TEST(eof_after_a_parked_recv_is_delivered, 1)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	uint64_t buf = tg_alloc(&vm, 64);
	cr_assert_eq(nonblock_recv(h, buf, 64), -EAGAIN);
	uint64_t ud = recv_parks_without_a_try(h, buf, "before EOF");
	cr_assert_eq(shutdown(peer, SHUT_WR), 0);
	cr_assert_eq(wait_result(g, ud), 0, "EOF");
	close(peer);

	h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	cr_assert_eq(write(peer, "hello", 5), 5);
	cr_assert_eq(shutdown(peer, SHUT_WR), 0);
	usleep(50 * 1000); /* data and FIN seen by the owner before the first try */
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, h, buf, 64, 0), 5);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, h, buf, 64, 0), 0, "EOF behind a short read");
	close(peer);
}

/* Parked without a try after a short read, then the peer resets: -ECONNRESET. */
READINESS_TEST(reset_after_a_parked_recv_is_delivered, 1)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	uint64_t buf = tg_alloc(&vm, 64);
	deliver(peer, h, buf, "xyz");
	uint64_t ud = recv_parks_without_a_try(h, buf, "before the reset");
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	cr_assert_eq(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(peer); /* RST */
	cr_assert_eq(wait_result(g, ud), -ECONNRESET);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, h, buf, 64, 0), 0);
}

/* Urgent data makes tcp_recvmsg stop short at its mark with data behind it:
 * that short read must not park the next RECV. */
READINESS_TEST(urgent_data_does_not_hide_what_follows, 1)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	uint64_t buf = tg_alloc(&vm, 64);
	cr_assert_eq(send(peer, "ab", 2, 0), 2);
	cr_assert_eq(send(peer, "!", 1, MSG_OOB), 1);
	cr_assert_eq(send(peer, "cd", 2, 0), 2);
	usleep(50 * 1000);
	char got[8] = { 0 };
	size_t n = 0;
	while (n < 4) {
		int32_t r = tg_io(&vm, g, VS_OP_RECV, h, buf, 64, 0);
		cr_assert_gt(r, 0, "RECV after %zu bytes: %d", n, r);
		cr_assert_leq(n + (size_t)r, 4);
		memcpy(got + n, tg_ptr(&vm, buf), (size_t)r);
		n += (size_t)r;
	}
	cr_assert_str_eq(got, "abcd", "the stream without its urgent byte");
	close(peer);
}

/* A short peek leaves the bytes queued: the RECV after it reads them at once.
 * A short WAITALL read parks (no EAGAIN call) and completes whole later. */
READINESS_TEST(peek_and_waitall_short_reads, 1)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	uint64_t buf = tg_alloc(&vm, 64);
	cr_assert_eq(write(peer, "abc", 3), 3);
	usleep(20 * 1000);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, h, buf, 64, VS_MSG_PEEK), 3);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, h, buf, 64, 0), 3, "the peeked bytes");
	cr_assert_eq(memcmp(tg_ptr(&vm, buf), "abc", 3), 0);

	cr_assert_eq(write(peer, "0123", 4), 4);
	usleep(20 * 1000);
	uint64_t s0 = skipped();
	struct vs_sqe *e = tg_prep(g, VS_OP_RECV, h);
	e->addr = buf;
	e->len = 8;
	e->op_flags = VS_MSG_WAITALL;
	uint64_t ud = e->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 50);
	cr_assert_eq(skipped() - s0, 1, "WAITALL's second recv() would have said EAGAIN");
	cr_assert_eq(write(peer, "4567", 4), 4);
	cr_assert_eq(wait_result(g, ud), 8);
	cr_assert_eq(memcmp(tg_ptr(&vm, buf), "01234567", 8), 0);
	close(peer);
}

/* ACCEPT on a new listener parks without accept4(); a client still gets through. */
READINESS_TEST(accept_parked_without_a_try_completes, 1)
{
	uint16_t port;
	int32_t l = tg_guest_listener(&vm, g, 8, &port);
	struct vs_sqe *e;

	/* Nothing can wait before the first LISTEN: even the first ACCEPT
	 * (NONBLOCK: -EAGAIN) makes no call, nor the one after it. */
	uint64_t s0 = skipped();
	e = tg_prep(g, VS_OP_ACCEPT, (uint32_t)l);
	e->flags = VS_SQE_NONBLOCK;
	cr_assert_eq(tg_run(&vm, g, e, NULL), -EAGAIN);
	e = tg_prep(g, VS_OP_ACCEPT, (uint32_t)l);
	uint64_t ud = e->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 50);
	cr_assert_eq(skipped() - s0, 2, "an ACCEPT called accept4() (%llu skipped)",
		     (unsigned long long)(skipped() - s0));

	int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(connect(client, (struct sockaddr *)&a, sizeof(a)), 0);
	int32_t h = wait_result(g, ud);
	cr_assert_gt(h, 0, "ACCEPT: %d", h);
	cr_assert_eq(write(client, "hi", 2), 2);
	uint64_t buf = tg_alloc(&vm, 16);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, (uint32_t)h, buf, 16, 0), 2);
	close(client);
}

/* A stream connected at once (loopback) has received nothing before: the
 * RECV right behind CONNECT (crr's chain) parks without a try, and the data
 * still comes.  A CONNECT that had to wait (the kernel may put the SYN-ACK off
 * under load) is not counted on: then try again, at most ten times. */
static bool recv_after_connect_parks(void)
{
	uint16_t port;
	int l = tg_listener(&port);
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	cr_assert_gt(h, 0);
	cr_assert_eq(tg_connect(&vm, g, (uint32_t)h, port), 0);
	int peer = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(peer, 0);
	uint64_t buf = tg_alloc(&vm, 64);
	uint64_t s0 = skipped();
	uint64_t ud = submit_recv(g, (uint32_t)h, buf, 64);
	tg_expect_nothing(&vm, g, 50);
	bool parked = skipped() - s0 == 1;
	cr_assert_eq(write(peer, "echo", 4), 4);
	cr_assert_eq(wait_result(g, ud), 4);
	cr_assert_eq(memcmp(tg_ptr(&vm, buf), "echo", 4), 0);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	close(peer);
	close(l);
	return parked;
}

/* ... and a new UDP socket's RECVFROM likewise waits for its datagram. */
READINESS_TEST(a_new_socket_waits_for_its_first_edge, 1)
{
	int tries = 1;
	while (!recv_after_connect_parks() && tries < 10)
		tries++;
	cr_assert_lt(tries, 10, "a just-connected socket's first RECV always called recv()");

	int32_t u = tg_socket(&vm, g, VS_SOCK_DGRAM);
	struct vs_sqe *e = tg_prep(g, VS_OP_BIND, (uint32_t)u);
	tg_sa_loopback(&e->u.addr, 0);
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	uint64_t name = tg_alloc(&vm, 32), buf = tg_alloc(&vm, 64);
	cr_assert_eq(tg_io(&vm, g, VS_OP_GETSOCKNAME, (uint32_t)u, name, 0, 0), 0);
	uint64_t s0 = skipped();
	e = tg_prep(g, VS_OP_RECVFROM, (uint32_t)u);
	e->addr = buf;
	e->len = 64;
	uint64_t ud = e->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 50);
	cr_assert_eq(skipped() - s0, 1, "a new UDP socket's first RECVFROM called recvfrom()");
	int c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = ((struct vs_sockaddr *)tg_ptr(&vm, name))->port,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(sendto(c, "dgram", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
	cr_assert_eq(wait_result(g, ud), 5);
	cr_assert_eq(memcmp(tg_ptr(&vm, buf), "dgram", 5), 0);
	close(c);
}

/* A refused CONNECT marks nothing: the RECV after it reports at once (the
 * error's edge may carry no EPOLLERR once connect() has taken the error). */
READINESS_TEST(a_refused_connect_leaves_receives_to_fail_at_once, 1)
{
	for (int i = 0; i < 5; i++) {
		uint16_t port = tg_free_port(SOCK_STREAM);
		int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
		cr_assert_eq(tg_connect(&vm, g, (uint32_t)h, port), -ECONNREFUSED);
		int32_t r = tg_io(&vm, g, VS_OP_RECV, (uint32_t)h, tg_alloc(&vm, 16), 16, 0);
		cr_assert_leq(r, 0, "a receive on the failed socket: %d", r);
		cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	}
}

/* What the peer sees after the guest's CLOSE: a reset when data the guest
 * never read was waiting (RFC 2525, as Linux does), an orderly end of file
 * when it had read everything (counted in bytes: linger.c, no peek), also
 * after the peer's own FIN, and after urgent data (counted received, never
 * read: the peek decides). */
static void close_and_expect(int32_t h, int peer, bool reset)
{
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	char c;
	ssize_t r;
	do
		r = read(peer, &c, 1);
	while (r > 0);
	if (reset)
		cr_assert(r < 0 && errno == ECONNRESET, "read after the close: %zd, errno %d", r, errno);
	else
		cr_assert_eq(r, 0, "read after the close: %zd, errno %d", r, errno);
	close(peer);
}

READINESS_TEST(close_resets_only_with_unread_data, 1)
{
	int peer;
	uint64_t buf = tg_alloc(&vm, 64);
	/* 10 bytes sent, 4 read: reset */
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	cr_assert_eq(write(peer, "0123456789", 10), 10);
	usleep(20 * 1000);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, (uint32_t)h, buf, 4, 0), 4);
	close_and_expect(h, peer, true);
	/* all read: an orderly close */
	h = tg_tcp_pair(&vm, g, &peer);
	deliver(peer, (uint32_t)h, buf, "0123456789");
	close_and_expect(h, peer, false);
	/* all read, then the peer's FIN (counted as a byte received) */
	h = tg_tcp_pair(&vm, g, &peer);
	cr_assert_eq(write(peer, "0123456789", 10), 10);
	cr_assert_eq(shutdown(peer, SHUT_WR), 0);
	usleep(20 * 1000);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, (uint32_t)h, buf, 64, 0), 10);
	close_and_expect(h, peer, false);
	/* a peeked byte is not read: reset */
	h = tg_tcp_pair(&vm, g, &peer);
	cr_assert_eq(write(peer, "x", 1), 1);
	usleep(20 * 1000);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, (uint32_t)h, buf, 64, VS_MSG_PEEK), 1);
	close_and_expect(h, peer, true);
	/* urgent byte, everything else read: the skipped byte is no unread data */
	h = tg_tcp_pair(&vm, g, &peer);
	cr_assert_eq(send(peer, "ab", 2, 0), 2);
	cr_assert_eq(send(peer, "!", 1, MSG_OOB), 1);
	usleep(20 * 1000);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, (uint32_t)h, buf, 64, 0), 2);
	close_and_expect(h, peer, false);
}

/* ---- the race: data arriving while the first try runs ------------------- */

#define STRESS_BYTES 50000u

struct writer {
	int fd;
	atomic_uint got;  /* bytes the guest has received */
	atomic_bool stop;
};

/* Ping-pong, one byte at a time (pattern i & 0xff): each written only once
 * the guest has the previous one, after an irregular pause, so that it lands
 * before the next RECV's try, during it, or after it parked.  Nothing else
 * comes until the guest has it: an edge lost is a RECV left waiting. */
static void *write_in_step(void *arg)
{
	struct writer *w = arg;
	unsigned seed = 1;
	for (uint32_t i = 0; i < STRESS_BYTES && !atomic_load(&w->stop); i++) {
		while (atomic_load(&w->got) < i && !atomic_load(&w->stop))
			sched_yield(); /* the workers need the CPUs more */
		unsigned pause = (unsigned)rand_r(&seed) % 4000;
		for (volatile unsigned k = 0; k < pause; k++)
			;
		uint8_t b = (uint8_t)i;
		if (write(w->fd, &b, 1) != 1)
			break;
	}
	return NULL;
}

/* The socket belongs to worker 0 (made on queue 0), the RECVs run on worker 1
 * (queue 1) while worker 0 handles the socket's events: every RECV completes
 * (a lost edge would leave one parked for good), and the bytes come in order. */
READINESS_TEST(data_racing_the_first_try_is_never_lost, 2)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	struct tg_queue *other = &vm.qs[1];
	uint64_t buf = tg_alloc(&vm, 64);
	struct writer w = { .fd = peer };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, write_in_step, &w), 0);
	uint32_t got = 0, recvs = 0;
	uint64_t s0 = skipped();
	while (got < STRESS_BYTES) {
		/* Mostly one byte, the exact size: not a short read, so the next
		 * RECV calls recv() (EAGAIN, racing the write); sometimes 64, a
		 * short read: the next one parks without a try. */
		uint64_t ud = submit_recv(other, h, buf, recvs % 3 ? 1 : 64);
		struct vs_cqe c;
		tg_wait_cqe(&vm, other, &c, 5000);
		if (c.user_data != ud || c.result <= 0)
			atomic_store(&w.stop, true);
		cr_assert_eq(c.user_data, ud);
		cr_assert_gt(c.result, 0, "RECV %u after %u bytes: %d", recvs, got, c.result);
		const uint8_t *p = tg_ptr(&vm, buf);
		for (int32_t i = 0; i < c.result; i++)
			cr_assert_eq(p[i], (uint8_t)(got + (uint32_t)i), "byte %u", got + (uint32_t)i);
		got += (uint32_t)c.result;
		atomic_store(&w.got, got);
		recvs++;
	}
	atomic_store(&w.stop, true);
	pthread_join(t, NULL);
	uint64_t skips = skipped() - s0;
	cr_log_info("%u bytes in %u RECVs, %llu recv calls skipped", got, recvs,
		    (unsigned long long)skips);
	cr_assert_gt(skips, 0, "no RECV parked without a try: the race was not exercised");
	close(peer);
}
