/* SPDX-License-Identifier: MIT */
/*
 * Chains of linked requests (abi.h, VS_SQE_LINK): links run one after the
 * other in SQ order, VS_HANDLE_CHAIN names the socket the chain created, a
 * failing link completes the rest with -VS_ECHAINBROKEN, CLOSE and CANCEL in
 * the middle, chains cut by a batch or by the end of the ring, chains the
 * guest never ends, and nothing left behind (sockets, fds, chains).
 */
#include "hostnet_guest.h"

enum { LEN = 64 };

/* A request with VS_SQE_LINK set unless it is the chain's last. */
static struct vs_sqe *link_prep(struct tg_queue *g, uint8_t op, uint32_t handle, bool last)
{
	struct vs_sqe *e = tg_prep(g, op, handle);
	if (!last)
		e->flags |= VS_SQE_LINK;
	return e;
}

static struct vs_sqe *link_io(struct tg_vm *vm, struct tg_queue *g, uint8_t op, uint32_t h,
			      uint32_t len, uint32_t op_flags, bool last, uint64_t *gpa)
{
	struct vs_sqe *e = link_prep(g, op, h, last);
	*gpa = tg_alloc(vm, len ? len : 1);
	e->addr = *gpa;
	e->len = len;
	e->op_flags = op_flags;
	return e;
}

static struct hostnet_stats stats(struct tg_vm *vm)
{
	struct hostnet_stats s;
	memset(&s, 0, sizeof(s));
	hostnet_get_stats(vm->hn, &s);
	return s;
}

/* Nothing held: no socket open, no chain alive (give a finishing chain a
 * moment: its owner frees it after the last CQE). */
static void expect_nothing_held(struct tg_vm *vm)
{
	uint64_t deadline = tg_now_ms() + 2000;
	while (stats(vm).chains_live && tg_now_ms() < deadline)
		usleep(1000);
	struct hostnet_stats s = stats(vm);
	cr_expect_eq(s.chains_live, 0, "%llu chains still held", (unsigned long long)s.chains_live);
	cr_expect_eq(s.sockets_open, 0, "%llu sockets still open",
		     (unsigned long long)s.sockets_open);
}

/* Until the host has taken everything published on g. */
static void wait_consumed(struct tg_queue *g)
{
	uint64_t deadline = tg_now_ms() + 5000;
	while (__atomic_load_n(&g->q->ctrl.sq_head, __ATOMIC_ACQUIRE) != g->sq_tail)
		cr_assert_lt(tg_now_ms(), deadline, "the host took nothing in 5 s");
}

/* Collect n completions and check they came in exactly the order of uds. */
static void collect_in_order(struct tg_vm *vm, struct tg_queue *g, struct vs_cqe *c,
			     const uint64_t *uds, unsigned n)
{
	tg_collect(vm, g, c, n, 10000);
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(c[i].user_data, uds[i], "completion %u is for %llu, expected %llu", i,
			     (unsigned long long)c[i].user_data, (unsigned long long)uds[i]);
}

/* SOCKET -> CONNECT (127.0.0.1:port) -> SEND -> RECV -> CLOSE, all but the
 * SOCKET naming VS_HANDLE_CHAIN; the user_data of each in uds. */
static void prep_connection(struct tg_vm *vm, struct tg_queue *g, uint16_t port, uint64_t *uds,
			    uint64_t *out, uint64_t *in)
{
	struct vs_sqe *e = link_prep(g, VS_OP_SOCKET, 0, false);
	e->op_flags = VS_AF_INET << 16 | VS_SOCK_STREAM;
	uds[0] = e->user_data;
	e = link_prep(g, VS_OP_CONNECT, VS_HANDLE_CHAIN, false);
	tg_sa_loopback(&e->u.addr, port);
	uds[1] = e->user_data;
	uds[2] = link_io(vm, g, VS_OP_SEND, VS_HANDLE_CHAIN, LEN, 0, false, out)->user_data;
	uds[3] = link_io(vm, g, VS_OP_RECV, VS_HANDLE_CHAIN, LEN, VS_MSG_WAITALL, false, in)
			 ->user_data;
	uds[4] = link_prep(g, VS_OP_CLOSE, VS_HANDLE_CHAIN, true)->user_data;
}

/* SOCKET -> CONNECT -> SEND -> RECV -> CLOSE against a host peer that echoes
 * by hand: every link names the new socket as VS_HANDLE_CHAIN. */
static void connection_chain(struct tg_vm *vm, struct tg_queue *g)
{
	uint16_t port;
	int l = tg_listener(&port);
	uint64_t out, in, uds[5];
	prep_connection(vm, g, port, uds, &out, &in);
	tg_fill_pattern(tg_ptr(vm, out), LEN, 7);
	tg_submit(vm, g);

	/* The peer: what the chain sent comes back; then the chain closes. */
	int p = accept(l, NULL, NULL);
	cr_assert_geq(p, 0);
	uint8_t buf[LEN];
	cr_assert_eq(recv(p, buf, LEN, MSG_WAITALL), LEN);
	cr_assert(memcmp(buf, tg_ptr(vm, out), LEN) == 0, "the peer got other bytes");
	for (unsigned i = 0; i < LEN; i++)
		buf[i] ^= 0x5a; /* an answer that differs from the request */
	cr_assert_eq(send(p, buf, LEN, 0), LEN);
	cr_assert_eq(recv(p, buf, 1, 0), 0, "the chain's CLOSE reaches the peer as EOF");

	struct vs_cqe c[5];
	collect_in_order(vm, g, c, uds, 5);
	cr_assert_geq(c[0].result, (int32_t)VS_HANDLE_MIN, "SOCKET: %d", c[0].result);
	cr_assert_eq(c[1].result, 0, "CONNECT: %d", c[1].result);
	cr_assert_eq(c[2].result, LEN, "SEND: %d", c[2].result);
	cr_assert_eq(c[3].result, LEN, "RECV: %d", c[3].result);
	cr_assert_eq(c[4].result, 0, "CLOSE: %d", c[4].result);
	const uint8_t *got = tg_ptr(vm, in), *sent = tg_ptr(vm, out);
	for (unsigned i = 0; i < LEN; i++)
		cr_assert_eq(got[i], sent[i] ^ 0x5a, "byte %u of the answer", i);
	close(p);
	close(l);
	expect_nothing_held(vm);
}

Test(chain, connect_send_recv_close_in_order_with_the_chain_handle, .timeout = 60)
{
	int before = tg_count_fds();
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	connection_chain(&vm, &vm.qs[0]);
	connection_chain(&vm, &vm.qs[0]); /* and again: nothing left from the first */
	tg_vm_fini(&vm);
	cr_expect_eq(tg_count_fds(), before, "fds leaked");
}

Test(chain, refused_connect_breaks_the_rest, .timeout = 60)
{
	int before = tg_count_fds();
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port = tg_free_port(SOCK_STREAM);
	uint64_t out, in, uds[5];
	prep_connection(&vm, g, port, uds, &out, &in);
	tg_submit(&vm, g);

	struct vs_cqe c[5];
	collect_in_order(&vm, g, c, uds, 5);
	cr_assert_gt(c[0].result, 0);
	cr_assert_eq(c[1].result, -ECONNREFUSED, "CONNECT: %d", c[1].result);
	for (unsigned i = 2; i < 5; i++) {
		cr_assert_eq(c[i].result, -VS_ECHAINBROKEN, "link %u: %d", i, c[i].result);
		cr_assert_eq(c[i].flags, 0, "a broken link is no bad request");
	}
	/* The CLOSE did not run: the socket is the guest's to close. */
	cr_assert_eq(stats(&vm).sockets_open, 1);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)c[0].result), 0);
	expect_nothing_held(&vm);
	tg_vm_fini(&vm);
	cr_expect_eq(tg_count_fds(), before, "fds leaked");
}

Test(chain, a_link_that_fails_validation_breaks_the_rest, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	uint64_t buf, uds[3];

	uds[0] = link_prep(g, VS_OP_NOP, 0, false)->user_data;
	struct vs_sqe *e = link_io(&vm, g, VS_OP_SEND, (uint32_t)h, LEN, 0, false, &buf);
	e->addr = TG_RAM_BYTES - 8; /* runs off the end of guest RAM */
	uds[1] = e->user_data;
	uds[2] = link_io(&vm, g, VS_OP_SEND, (uint32_t)h, LEN, 0, true, &buf)->user_data;
	tg_submit(&vm, g);
	struct vs_cqe c[3];
	collect_in_order(&vm, g, c, uds, 3);
	cr_assert_eq(c[0].result, 0);
	cr_assert_eq(c[1].result, -EFAULT);
	cr_assert_eq(c[1].flags, VS_CQE_BAD_REQUEST);
	cr_assert_eq(c[2].result, -VS_ECHAINBROKEN);

	/* Nothing was sent: the peer sees only the CLOSE. */
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	char x;
	cr_assert_eq(recv(peer, &x, 1, 0), 0);
	close(peer);
	expect_nothing_held(&vm);
	tg_vm_fini(&vm);
}

Test(chain, chain_handle_without_a_socket_link_is_ebadf, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint32_t flags;
	/* Outside a chain it names nothing. */
	cr_assert_eq(tg_run(&vm, g, tg_prep(g, VS_OP_CLOSE, VS_HANDLE_CHAIN), &flags), -EBADF);
	cr_assert_eq(flags, VS_CQE_BAD_REQUEST);
	/* In a chain with no SOCKET/ACCEPT before it, too. */
	uint64_t uds[2];
	uds[0] = link_prep(g, VS_OP_CLOSE, VS_HANDLE_CHAIN, false)->user_data;
	uds[1] = link_prep(g, VS_OP_NOP, 0, true)->user_data;
	tg_submit(&vm, g);
	struct vs_cqe c[2];
	collect_in_order(&vm, g, c, uds, 2);
	cr_assert_eq(c[0].result, -EBADF);
	cr_assert_eq(c[1].result, -VS_ECHAINBROKEN);
	expect_nothing_held(&vm);
	tg_vm_fini(&vm);
}

/* The server's chain: ACCEPT -> RECV -> SEND -> CLOSE on the accepted socket. */
Test(chain, accept_recv_send_on_the_accepted_socket, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port;
	int32_t ls = tg_guest_listener(&vm, g, 4, &port);
	struct vs_sqe *e;

	uint64_t in, uds[4];
	uds[0] = link_prep(g, VS_OP_ACCEPT, (uint32_t)ls, false)->user_data;
	uds[1] = link_io(&vm, g, VS_OP_RECV, VS_HANDLE_CHAIN, LEN, VS_MSG_WAITALL, false, &in)
			 ->user_data;
	e = link_prep(g, VS_OP_SEND, VS_HANDLE_CHAIN, false);
	e->addr = in; /* echo what came in */
	e->len = LEN;
	uds[2] = e->user_data;
	uds[3] = link_prep(g, VS_OP_CLOSE, VS_HANDLE_CHAIN, true)->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 100); /* ACCEPT waits: nobody connected yet */

	int cl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(connect(cl, (struct sockaddr *)&a, sizeof(a)), 0);
	uint8_t msg[LEN], back[LEN];
	tg_fill_pattern(msg, LEN, 3);
	cr_assert_eq(send(cl, msg, LEN, 0), LEN);
	cr_assert_eq(recv(cl, back, LEN, MSG_WAITALL), LEN);
	cr_assert(memcmp(msg, back, LEN) == 0, "the echo differs");
	cr_assert_eq(recv(cl, back, 1, 0), 0, "closed after the echo");
	close(cl);

	struct vs_cqe c[4];
	collect_in_order(&vm, g, c, uds, 4);
	cr_assert_gt(c[0].result, 0);
	cr_assert_neq(c[0].result, ls);
	cr_assert_eq(c[1].result, LEN);
	cr_assert_eq(c[2].result, LEN);
	cr_assert_eq(c[3].result, 0);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)ls), 0);
	expect_nothing_held(&vm);
	tg_vm_fini(&vm);
}

/* A CLOSE from outside the chain while a link waits: the link completes
 * -ECANCELED, the rest of the chain -VS_ECHAINBROKEN. */
Test(chain, close_of_the_socket_mid_chain, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	uint64_t buf, ud_recv, ud_send, ud_nop;
	ud_recv = link_io(&vm, g, VS_OP_RECV, (uint32_t)h, LEN, 0, false, &buf)->user_data;
	ud_send = link_io(&vm, g, VS_OP_SEND, (uint32_t)h, LEN, 0, false, &buf)->user_data;
	ud_nop = link_prep(g, VS_OP_NOP, 0, true)->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 100); /* the RECV waits for data, the rest for it */

	uint64_t ud_close = tg_prep(g, VS_OP_CLOSE, (uint32_t)h)->user_data;
	tg_submit(&vm, g);
	struct vs_cqe c[4];
	tg_collect(&vm, g, c, 4, 10000);
	cr_assert_eq(tg_find(c, 4, ud_recv)->result, -ECANCELED);
	cr_assert_eq(tg_find(c, 4, ud_close)->result, 0);
	cr_assert_eq(tg_find(c, 4, ud_send)->result, -VS_ECHAINBROKEN);
	cr_assert_eq(tg_find(c, 4, ud_nop)->result, -VS_ECHAINBROKEN);
	cr_assert_eq(c[0].user_data, ud_recv, "the waiting link completes first");
	cr_assert(tg_find(c, 4, ud_send) < tg_find(c, 4, ud_nop), "broken links in order");
	char x;
	cr_assert_eq(recv(peer, &x, 1, 0), 0, "nothing was sent");
	close(peer);
	expect_nothing_held(&vm);
	tg_vm_fini(&vm);
}

/* CLOSE as a link in the middle: later links naming the socket are -EBADF. */
Test(chain, close_link_in_the_middle, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint64_t buf, uds[4];
	struct vs_sqe *e = link_prep(g, VS_OP_SOCKET, 0, false);
	e->op_flags = VS_AF_INET << 16 | VS_SOCK_DGRAM;
	uds[0] = e->user_data;
	uds[1] = link_prep(g, VS_OP_CLOSE, VS_HANDLE_CHAIN, false)->user_data;
	uds[2] = link_io(&vm, g, VS_OP_RECV, VS_HANDLE_CHAIN, LEN, 0, false, &buf)->user_data;
	uds[3] = link_prep(g, VS_OP_NOP, 0, true)->user_data;
	tg_submit(&vm, g);
	struct vs_cqe c[4];
	collect_in_order(&vm, g, c, uds, 4);
	cr_assert_gt(c[0].result, 0);
	cr_assert_eq(c[1].result, 0);
	cr_assert_eq(c[2].result, -EBADF);
	cr_assert_eq(c[3].result, -VS_ECHAINBROKEN);
	expect_nothing_held(&vm);
	tg_vm_fini(&vm);
}

/* CANCEL of the link that runs: it completes -ECANCELED, the rest broken. */
Test(chain, cancel_of_the_running_link, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	uint64_t buf;
	uint64_t ud_recv = link_io(&vm, g, VS_OP_RECV, (uint32_t)h, LEN, 0, false, &buf)->user_data;
	uint64_t ud_close = link_prep(g, VS_OP_CLOSE, (uint32_t)h, true)->user_data;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 100);
	struct vs_sqe *e = tg_prep(g, VS_OP_CANCEL, 0);
	e->u.out.addr_gpa = ud_recv;
	uint64_t ud_cancel = e->user_data;
	tg_submit(&vm, g);
	struct vs_cqe c[3];
	tg_collect(&vm, g, c, 3, 10000);
	cr_assert_eq(tg_find(c, 3, ud_recv)->result, -ECANCELED);
	cr_assert_eq(tg_find(c, 3, ud_cancel)->result, 0);
	cr_assert_eq(tg_find(c, 3, ud_close)->result, -VS_ECHAINBROKEN);
	cr_assert_eq(stats(&vm).sockets_open, 1, "the CLOSE link did not run");
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	close(peer);
	expect_nothing_held(&vm);
	tg_vm_fini(&vm);
}

/* A waiting chain holds back nothing else: other sockets' requests and
 * unlinked requests after the chain complete meanwhile. */
Test(chain, a_waiting_chain_never_blocks_other_requests, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int p1, p2;
	int32_t h1 = tg_tcp_pair(&vm, g, &p1), h2 = tg_tcp_pair(&vm, g, &p2);
	uint64_t buf, b2;
	uint64_t ud_recv = link_io(&vm, g, VS_OP_RECV, (uint32_t)h1, LEN, 0, false, &buf)->user_data;
	uint64_t ud_nop = link_prep(g, VS_OP_NOP, 0, true)->user_data;
	uint64_t ud_other = link_io(&vm, g, VS_OP_SEND, (uint32_t)h2, LEN, 0, true, &b2)->user_data;
	tg_submit(&vm, g);
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 5000);
	cr_assert_eq(c.user_data, ud_other);
	cr_assert_eq(c.result, LEN);
	tg_expect_nothing(&vm, g, 100);
	cr_assert_eq(send(p1, "x", 1, 0), 1); /* now the chain goes on */
	struct vs_cqe two[2];
	uint64_t uds[2] = { ud_recv, ud_nop };
	collect_in_order(&vm, g, two, uds, 2);
	cr_assert_eq(two[0].result, 1);
	cr_assert_eq(two[1].result, 0);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h1), 0);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h2), 0);
	close(p1);
	close(p2);
	expect_nothing_held(&vm);
	tg_vm_fini(&vm);
}

/* A chain whose links arrive in separate hand-overs, across the end of the
 * SQ ring (the RECV is the ring's last slot, the SEND its first): the later links wait in order. */
Test(chain, chain_cut_by_the_batch_and_the_ring_end, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init_at(&vm, 1, 0, 0, VS_COPY_ZERO, 3 * VS_SQ_ENTRIES - 3);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer); /* 2 requests */
	uint64_t out, in, uds[4];
	uds[0] = link_io(&vm, g, VS_OP_RECV, (uint32_t)h, 4, VS_MSG_WAITALL, false, &in)->user_data;
	tg_submit(&vm, g); /* the first hand-over: the chain is not over */
	tg_expect_nothing(&vm, g, 50);
	uds[1] = link_io(&vm, g, VS_OP_SEND, (uint32_t)h, LEN, 0, false, &out)->user_data;
	tg_fill_pattern(tg_ptr(&vm, out), LEN, 9);
	tg_submit(&vm, g);
	wait_consumed(g);
	tg_expect_nothing(&vm, g, 50); /* taken, but the SEND waits for the RECV */
	cr_assert_eq(stats(&vm).chains_live, 1, "one open chain");
	cr_assert_eq(send(peer, "ping", 4, 0), 4);
	/* The RECV completes; the SEND follows it; the chain waits for more. */
	struct vs_cqe c[4];
	collect_in_order(&vm, g, c, uds, 2);
	cr_assert_eq(c[0].result, 4);
	cr_assert_eq(c[1].result, LEN);
	uint8_t got[LEN];
	cr_assert_eq(recv(peer, got, LEN, MSG_WAITALL), LEN);
	cr_assert(memcmp(got, tg_ptr(&vm, out), LEN) == 0);
	tg_expect_nothing(&vm, g, 50);
	cr_assert_eq(stats(&vm).chains_live, 1, "the chain waits for its next link");
	uds[2] = link_prep(g, VS_OP_CLOSE, (uint32_t)h, false)->user_data;
	uds[3] = link_prep(g, VS_OP_NOP, 0, true)->user_data; /* the end */
	tg_submit(&vm, g);
	collect_in_order(&vm, g, c, uds + 2, 2);
	cr_assert_eq(c[0].result, 0);
	cr_assert_eq(c[1].result, 0);
	close(peer);
	expect_nothing_held(&vm);
	tg_vm_fini(&vm);
}

/* A guest that never ends its chains, with links still waiting behind a
 * link that never completes: destroy frees them all (LeakSanitizer in the
 * ASan build; fds here). */
Test(chain, unterminated_chains_are_freed_at_destroy, .timeout = 60)
{
	int before = tg_count_fds();
	struct tg_vm vm;
	tg_vm_init(&vm, 2, 0);
	int peer;
	int32_t h = tg_tcp_pair(&vm, &vm.qs[0], &peer);
	uint64_t buf;
	for (uint32_t i = 0; i < 2; i++) {
		struct tg_queue *g = &vm.qs[i];
		link_io(&vm, g, VS_OP_RECV, (uint32_t)h, LEN, 0, false, &buf);
		for (unsigned k = 0; k < 20; k++)
			link_prep(g, VS_OP_NOP, 0, false);
		tg_submit(&vm, g);
	}
	tg_expect_nothing(&vm, &vm.qs[0], 100);
	cr_assert_eq(stats(&vm).chains_live, 2);
	close(peer);
	tg_vm_fini(&vm);
	cr_expect_eq(tg_count_fds(), before, "fds leaked");
}

/* Many short chains in one batch, each completing at once: all in order. */
Test(chain, many_chains_in_one_batch, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	enum { CHAINS = 60 };
	uint64_t uds[CHAINS * 3];
	for (unsigned i = 0; i < CHAINS; i++) {
		struct vs_sqe *e = link_prep(g, VS_OP_SOCKET, 0, false);
		e->op_flags = VS_AF_INET << 16 | VS_SOCK_DGRAM;
		uds[3 * i] = e->user_data;
		e = link_prep(g, VS_OP_GETSOCKOPT, VS_HANDLE_CHAIN, false);
		e->u.opt.level = VS_SOL_SOCKET;
		e->u.opt.name = VS_SO_ERROR;
		uds[3 * i + 1] = e->user_data;
		uds[3 * i + 2] = link_prep(g, VS_OP_CLOSE, VS_HANDLE_CHAIN, true)->user_data;
	}
	tg_submit(&vm, g);
	struct vs_cqe c[CHAINS * 3];
	collect_in_order(&vm, g, c, uds, CHAINS * 3);
	for (unsigned i = 0; i < CHAINS * 3; i++)
		cr_assert(i % 3 == 0 ? c[i].result > 0 : c[i].result == 0, "%u: %d", i, c[i].result);
	expect_nothing_held(&vm);
	tg_vm_fini(&vm);
}
