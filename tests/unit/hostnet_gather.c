/* SPDX-License-Identifier: MIT */
/*
 * Gathered stream sends (ops.c): the SENDs one pass takes for one stream
 * socket go out in one sendmsg, in order, and each still completes with its
 * own length; a full socket buffer, a CLOSE right behind them, NONBLOCK and
 * bounce mode keep their meaning.
 */
#include "hostnet_guest.h"

static struct tg_vm vm;
static struct tg_queue *g;

#define GATHER_TEST(name)                         \
	static void name##_body(void);            \
	Test(gather, name, .timeout = 60)         \
	{                                         \
		signal(SIGPIPE, SIG_IGN);         \
		tg_vm_init(&vm, 1, 0);            \
		g = &vm.qs[0];                    \
		name##_body();                    \
		tg_vm_fini(&vm);                  \
	}                                         \
	static void name##_body(void)

static uint64_t send_calls(void)
{
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	return st.send_calls;
}

/* n SENDs of size bytes each from one guest buffer filled with a pattern,
 * published together (one batch for the worker).  Returns the buffer. */
static uint8_t *prep_sends(uint32_t h, unsigned n, uint32_t size, uint64_t *first_ud)
{
	uint64_t gpa = tg_alloc(&vm, (uint64_t)n * size);
	uint8_t *buf = tg_ptr(&vm, gpa);
	tg_fill_pattern(buf, (size_t)n * size, 42);
	for (unsigned i = 0; i < n; i++) {
		struct vs_sqe *e = tg_prep(g, VS_OP_SEND, h);
		e->addr = gpa + (uint64_t)i * size;
		e->len = size;
		if (i == 0)
			*first_ud = e->user_data;
	}
	return buf;
}

static void read_exact(int fd, uint8_t *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, buf + got, n - got);
		cr_assert_gt(r, 0, "peer read: %zd after %zu of %zu bytes", r, got, n);
		got += (size_t)r;
	}
}

/* Every SEND completes with its full length, in submission order. */
static void collect_sends(unsigned n, uint32_t size, uint64_t first_ud)
{
	for (unsigned i = 0; i < n; i++) {
		struct vs_cqe c;
		tg_wait_cqe(&vm, g, &c, 20000);
		cr_assert_eq(c.user_data, first_ud + i, "completion %u out of order", i);
		cr_assert_eq(c.result, (int32_t)size);
	}
}

GATHER_TEST(a_batch_of_small_sends_is_one_sendmsg)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	const unsigned n = 32;
	const uint32_t size = 64;
	uint64_t ud;
	uint8_t *sent = prep_sends(h, n, size, &ud);
	uint64_t calls0 = send_calls();
	tg_submit(&vm, g);
	collect_sends(n, size, ud);
	uint64_t calls = send_calls() - calls0;
	cr_assert_eq(calls, 1, "%llu send system calls for %u SENDs in one batch",
		     (unsigned long long)calls, n);
	uint8_t got[32 * 64];
	read_exact(peer, got, sizeof(got));
	cr_assert_eq(memcmp(got, sent, sizeof(got)), 0, "the byte stream changed");
	close(peer);
}

/* Gathered sends that fill the socket buffer go on when the peer reads,
 * from the exact byte where the kernel stopped. */
GATHER_TEST(a_full_socket_buffer_resumes_in_order)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	struct vs_sqe *o = tg_prep(g, VS_OP_SETSOCKOPT, h);
	o->u.opt.level = VS_SOL_SOCKET;
	o->u.opt.name = VS_SO_SNDBUF;
	o->u.opt.value = 4096;
	cr_assert_eq(tg_run(&vm, g, o, NULL), 0);
	const unsigned n = 40;
	const uint32_t size = 10000; /* 400 KB: far more than the buffers hold */
	uint64_t ud;
	uint8_t *sent = prep_sends(h, n, size, &ud);
	tg_submit(&vm, g);
	static uint8_t got[40 * 10000];
	read_exact(peer, got, sizeof(got));
	collect_sends(n, size, ud);
	cr_assert_eq(memcmp(got, sent, sizeof(got)), 0, "the byte stream changed");
	close(peer);
}

/* SEND, SEND, CLOSE in one batch: the data still goes out before the close. */
GATHER_TEST(close_right_behind_sends_sends_them_first)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	uint64_t ud;
	uint8_t *sent = prep_sends(h, 2, 100, &ud);
	uint64_t close_ud = tg_prep(g, VS_OP_CLOSE, h)->user_data;
	tg_submit(&vm, g);
	collect_sends(2, 100, ud);
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 5000);
	cr_assert_eq(c.user_data, close_ud);
	cr_assert_eq(c.result, 0);
	uint8_t got[200];
	read_exact(peer, got, sizeof(got));
	cr_assert_eq(memcmp(got, sent, sizeof(got)), 0);
	cr_assert_eq(read(peer, got, 1), 0, "EOF after the data");
	close(peer);
}

/* NONBLOCK sends are not held back: each is tried at once, on its own. */
GATHER_TEST(nonblock_sends_are_not_gathered)
{
	int peer;
	uint32_t h = (uint32_t)tg_tcp_pair(&vm, g, &peer);
	uint64_t gpa = tg_alloc(&vm, 3 * 50);
	uint64_t calls0 = send_calls();
	for (unsigned i = 0; i < 3; i++) {
		struct vs_sqe *e = tg_prep(g, VS_OP_SEND, h);
		e->addr = gpa + 50u * i;
		e->len = 50;
		e->flags = VS_SQE_NONBLOCK;
	}
	tg_submit(&vm, g);
	for (unsigned i = 0; i < 3; i++) {
		struct vs_cqe c;
		tg_wait_cqe(&vm, g, &c, 5000);
		cr_assert_eq(c.result, 50);
	}
	cr_assert_eq(send_calls() - calls0, 3);
	close(peer);
}
