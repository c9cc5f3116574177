/* SPDX-License-Identifier: MIT */
/*
 * Bounce mode (--copy=bounce): payload lives in the queue's bounce area in
 * the ring slot, and the host stages it through a private buffer (the
 * "redundant copy", counted in bytes_copied).
 */
#include "hostnet_guest.h"

static struct tg_vm vm;
static struct tg_queue *g;

static void setup(void)
{
	tg_vm_init_at(&vm, 2, 0, 0, VS_COPY_BOUNCE, 0);
	g = &vm.qs[1]; /* not queue 0, to catch offset mistakes */
}

static void teardown(void)
{
	tg_vm_fini(&vm);
}

/* Each test body runs between setup() and teardown() in the test itself,
 * not in .init/.fini: Criterion ignores assertions that fail in .fini, and
 * teardown asserts that nothing leaked. */
#define BOUNCE_TEST(name)                     \
	static void name##_body(void);            \
	Test(bounce, name, .timeout = 60)          \
	{                                         \
		setup();                          \
		name##_body();                    \
		teardown();                       \
	}                                         \
	static void name##_body(void)

static uint8_t *bounce_ptr(uint32_t q, uint64_t off)
{
	return vm.ring + (uint64_t)q * VS_QUEUE_BYTES + VS_QUEUE_BOUNCE_OFFSET + off;
}

BOUNCE_TEST(tcp_echo_through_the_bounce_area)
{
	pid_t socat;
	uint16_t port = tg_echo_tcp(&socat);
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	cr_assert_eq(tg_connect(&vm, g, (uint32_t)h, port), 0);
	const uint64_t half = VS_BOUNCE_BYTES / 2;
	static const uint32_t sizes[] = { 1, 1000, 65536, 100000, VS_BOUNCE_BYTES / 2 };
	uint64_t total = 0;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = sizes[i];
		tg_fill_pattern(bounce_ptr(1, 0), n, 100 + i);
		memset(bounce_ptr(1, half), 0, n);
		struct vs_sqe *s = tg_prep(g, VS_OP_SEND, (uint32_t)h);
		s->addr = tg_bounce_gpa(&vm, 1);
		s->len = n;
		uint64_t us = s->user_data;
		struct vs_sqe *r = tg_prep(g, VS_OP_RECV, (uint32_t)h);
		r->addr = tg_bounce_gpa(&vm, 1) + half;
		r->len = n;
		r->op_flags = VS_MSG_WAITALL;
		uint64_t ur = r->user_data;
		tg_submit(&vm, g);
		struct vs_cqe c[2];
		tg_collect(&vm, g, c, 2, 20000);
		cr_assert_eq(tg_find(c, 2, us)->result, (int32_t)n);
		cr_assert_eq(tg_find(c, 2, ur)->result, (int32_t)n);
		cr_assert_eq(memcmp(bounce_ptr(1, 0), bounce_ptr(1, half), n), 0, "size %u", n);
		total += n;
	}
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.bytes_sent, total);
	cr_assert_eq(st.bytes_received, total);
	cr_assert_eq(st.bytes_copied, 2 * total,
		     "every byte staged exactly once on the way out and once in: %llu, want %llu",
		     (unsigned long long)st.bytes_copied, (unsigned long long)(2 * total));
	tg_socat_stop(socat);
}

BOUNCE_TEST(udp_through_the_bounce_area)
{
	pid_t socat;
	uint16_t port = tg_echo(SOCK_DGRAM, &socat);
	int32_t h = tg_socket(&vm, g, VS_SOCK_DGRAM);
	memcpy(bounce_ptr(1, 0), "datagram!", 9);
	struct vs_sqe *s = tg_prep(g, VS_OP_SENDTO, (uint32_t)h);
	s->addr = tg_bounce_gpa(&vm, 1);
	s->len = 9;
	tg_sa_loopback(&s->u.addr, port);
	cr_assert_eq(tg_run(&vm, g, s, NULL), 9);
	struct vs_sqe *r = tg_prep(g, VS_OP_RECVFROM, (uint32_t)h);
	r->addr = tg_bounce_gpa(&vm, 1) + 4096;
	r->len = 100;
	r->u.out.addr_gpa = tg_alloc(&vm, 32); /* addresses stay in guest RAM */
	uint64_t from = r->u.out.addr_gpa;
	cr_assert_eq(tg_run(&vm, g, r, NULL), 9);
	cr_assert_eq(memcmp(bounce_ptr(1, 4096), "datagram!", 9), 0);
	cr_assert_eq(ntohs(((struct vs_sockaddr *)tg_ptr(&vm, from))->port), port);
	tg_socat_stop(socat);
}

BOUNCE_TEST(payload_outside_the_own_bounce_area_is_efault)
{
	int32_t h = tg_socket(&vm, g, VS_SOCK_DGRAM);
	uint32_t flags;
	struct vs_sqe *e = tg_prep(g, VS_OP_SEND, (uint32_t)h);
	e->addr = tg_alloc(&vm, 64); /* guest RAM: fine in zero copy, not here */
	e->len = 64;
	cr_assert_eq(tg_run(&vm, g, e, &flags), -EFAULT);
	cr_assert_eq(flags, VS_CQE_BAD_REQUEST);
	e = tg_prep(g, VS_OP_RECV, (uint32_t)h);
	e->addr = tg_bounce_gpa(&vm, 0); /* queue 0's area, submitted on queue 1 */
	e->len = 64;
	cr_assert_eq(tg_run(&vm, g, e, &flags), -EFAULT);
	e = tg_prep(g, VS_OP_SEND, (uint32_t)h);
	e->addr = tg_bounce_gpa(&vm, 1) + VS_BOUNCE_BYTES - 10;
	e->len = 11;
	cr_assert_eq(tg_run(&vm, g, e, &flags), -EFAULT);
}

/* A send that finds the peer's socket full is staged again when it resumes:
 * bytes_copied still counts each payload byte once (it is what was sent). */
BOUNCE_TEST(a_send_resumed_after_eagain_counts_each_byte_once)
{
	uint16_t port;
	int lfd = tg_listener(&port);
	int small = 4096; /* inherited by the accepted socket: a small window */
	cr_assert_eq(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	struct vs_sqe *o = tg_prep(g, VS_OP_SETSOCKOPT, (uint32_t)h);
	o->u.opt.level = VS_SOL_SOCKET; /* and a small send buffer on our side */
	o->u.opt.name = VS_SO_SNDBUF;
	o->u.opt.value = 4096;
	cr_assert_eq(tg_run(&vm, g, o, NULL), 0);
	cr_assert_eq(tg_connect(&vm, g, (uint32_t)h, port), 0);
	int peer = accept(lfd, NULL, NULL);
	cr_assert_geq(peer, 0);
	const uint32_t n = VS_BOUNCE_BYTES;
	tg_fill_pattern(bounce_ptr(1, 0), n, 7);
	struct vs_sqe *s = tg_prep(g, VS_OP_SEND, (uint32_t)h);
	s->addr = tg_bounce_gpa(&vm, 1);
	s->len = n;
	tg_submit(&vm, g);
	/* The peer does not read yet: loopback buffers take less than n... */
	struct vs_cqe early;
	if (tg_doorbell(&vm, g->index, VS_DB_WAIT, 300) != -ETIMEDOUT && tg_reap(g, &early))
		cr_assert_fail("the send completed at once: %d", early.result);
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_lt(st.bytes_sent, n, "the send should have blocked part way");
	/* ... then it reads everything, and the send completes. */
	static uint8_t got[VS_BOUNCE_BYTES];
	for (uint32_t have = 0; have < n;) {
		ssize_t r = recv(peer, got + have, n - have, 0);
		cr_assert_gt(r, 0);
		have += (uint32_t)r;
	}
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 20000);
	cr_assert_eq(c.result, (int32_t)n);
	cr_assert_eq(memcmp(got, bounce_ptr(1, 0), n), 0);
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.bytes_sent, n);
	cr_assert_eq(st.bytes_copied, n, "copied %llu for a %u-byte send",
		     (unsigned long long)st.bytes_copied, n);
	close(peer);
	close(lfd);
}
