/* SPDX-License-Identifier: MIT */
/*
 * Back-pressure: the host never drops a completion.  A guest that reaps
 * slowly makes the host stop consuming; completions that finish while the CQ
 * is full wait host-side (VS_QF_CQ_OVERFLOW) in order; the number of parked
 * requests per queue is bounded.
 */
#include "hostnet_guest.h"

static uint32_t cq_used(struct tg_queue *g)
{
	return __atomic_load_n(&g->q->ctrl.cq_tail, __ATOMIC_ACQUIRE) - g->cq_head;
}

/* Submit `total` requests made by prep(i), reaping at most `reap_per_round`
 * per round, checking with check(i, cqe) that completion i arrives i-th. */
static void slow_guest(struct tg_vm *vm, struct tg_queue *g, uint32_t total,
		       unsigned reap_per_round, void (*prep)(struct vs_sqe *, uint32_t),
		       void (*check)(const struct vs_cqe *, uint32_t))
{
	uint32_t submitted = 0, reaped = 0, max_used = 0;
	uint64_t deadline = tg_now_ms() + 60000;
	while (reaped < total) {
		cr_assert_lt(tg_now_ms(), deadline, "stuck at %u of %u", reaped, total);
		struct vs_sqe *e;
		while (submitted < total && (e = tg_sqe(g))) {
			prep(e, submitted);
			e->user_data = submitted++;
		}
		/* Publishing (and ringing if the host sleeps) also tells a host
		 * that stopped for lack of CQ room that we reaped. */
		tg_submit(vm, g);
		uint32_t used = cq_used(g);
		cr_assert_leq(used, VS_CQ_ENTRIES);
		if (used > max_used)
			max_used = used;
		unsigned got = 0;
		struct vs_cqe c;
		while (got < reap_per_round && tg_reap(g, &c)) {
			check(&c, reaped);
			cr_assert_eq(c.user_data, reaped, "completion %u out of order", reaped);
			reaped++;
			got++;
		}
		if (!got)
			tg_doorbell(vm, g->index, VS_DB_WAIT, 100);
		else
			usleep(50);
	}
	cr_assert_eq(max_used, VS_CQ_ENTRIES, "the guest really let the CQ fill up");
}

static void prep_nop(struct vs_sqe *e, uint32_t i)
{
	(void)i;
	e->opcode = VS_OP_NOP;
}

static void check_ok(const struct vs_cqe *c, uint32_t i)
{
	cr_assert_eq(c->result, 0, "completion %u: %d", i, c->result);
}

Test(backpressure, five_thousand_nops_slow_reaper, .timeout = 90)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	slow_guest(&vm, &vm.qs[0], 5000, 7, prep_nop, check_ok);
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.completions, 5000);
	cr_assert_gt(st.sq_stalls, 0, "the host had to stop consuming");
	cr_assert_eq(st.cq_overflows, 0, "NOPs never need the host-side list");
	tg_vm_fini(&vm);
}

static uint32_t send_handle;
static uint64_t send_buf;

static void prep_send(struct vs_sqe *e, uint32_t i)
{
	e->opcode = VS_OP_SEND;
	e->handle = send_handle;
	e->addr = send_buf + 4ull * i;
	e->len = 4;
}

static void check_sent4(const struct vs_cqe *c, uint32_t i)
{
	cr_assert_eq(c->result, 4, "send %u: %d", i, c->result);
}

Test(backpressure, five_thousand_sends_on_one_socket_keep_order, .timeout = 90)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);

	const uint32_t n = 5000;
	send_handle = (uint32_t)h;
	send_buf = tg_alloc(&vm, 4ull * n);
	uint32_t *words = tg_ptr(&vm, send_buf);
	for (uint32_t i = 0; i < n; i++)
		words[i] = i * 2654435761u;
	tg_ud = 0;
	slow_guest(&vm, g, n, 5, prep_send, check_sent4);

	uint32_t *got = malloc(4ull * n);
	size_t have = 0;
	while (have < 4ull * n) {
		ssize_t r = read(peer, (uint8_t *)got + have, 4ull * n - have);
		cr_assert_gt(r, 0);
		have += (size_t)r;
	}
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(got[i], i * 2654435761u, "word %u arrived out of order", i);
	free(got);
	close(peer);
	tg_vm_fini(&vm);
}

Test(backpressure, completions_held_while_cq_full_arrive_in_order, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);

	/* VS_CQ_ENTRIES + 76 one-byte receives park (more than the CQ holds). */
	const uint32_t n = VS_CQ_ENTRIES + 76;
	const uint32_t base = g->sq_tail;
	uint64_t buf = tg_alloc(&vm, n);
	for (uint32_t i = 0; i < n;) {
		struct vs_sqe *e = tg_sqe(g);
		if (!e) {
			tg_submit(&vm, g);
			usleep(1000);
			continue;
		}
		e->opcode = VS_OP_RECV;
		e->handle = (uint32_t)h;
		e->addr = buf + i;
		e->len = 1;
		e->user_data = i++;
	}
	tg_submit(&vm, g);
	uint64_t deadline = tg_now_ms() + 5000;
	while (__atomic_load_n(&g->q->ctrl.sq_head, __ATOMIC_ACQUIRE) != base + n) {
		cr_assert_lt(tg_now_ms(), deadline, "the host did not take all receives: sq_head %u tail %u flags %#x cq %u", g->q->ctrl.sq_head, g->q->ctrl.sq_tail, g->q->ctrl.flags, cq_used(g));
		usleep(1000);
	}
	cr_assert_eq(cq_used(g), 0);

	/* The data arrives at once: VS_CQ_ENTRIES fit in the CQ, 76 wait host-side. */
	uint8_t data[VS_CQ_ENTRIES + 76];
	for (uint32_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7);
	cr_assert_eq(write(peer, data, n), (ssize_t)n);
	deadline = tg_now_ms() + 5000;
	while (!(tg_flags(g) & VS_QF_CQ_OVERFLOW)) {
		cr_assert_lt(tg_now_ms(), deadline, "VS_QF_CQ_OVERFLOW never set");
		usleep(1000);
	}
	cr_assert_eq(cq_used(g), VS_CQ_ENTRIES);

	/* A request submitted now is not consumed until the held ones are out. */
	struct vs_sqe *e = tg_sqe(g);
	e->opcode = VS_OP_NOP;
	e->user_data = 1u << 20;
	tg_submit(&vm, g);
	usleep(20000);
	cr_assert_eq(__atomic_load_n(&g->q->ctrl.sq_head, __ATOMIC_ACQUIRE), base + n,
		     "no SQE consumed while completions are held");

	for (uint32_t i = 0; i < n; i++) {
		struct vs_cqe c;
		tg_wait_cqe(&vm, g, &c, 5000);
		cr_assert_eq(c.user_data, i, "held completion %u out of order", i);
		cr_assert_eq(c.result, 1);
	}
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 5000);
	cr_assert_eq(c.user_data, 1u << 20, "the NOP comes after all of them");
	cr_assert_eq(memcmp(tg_ptr(&vm, buf), data, n), 0);
	cr_assert_eq(tg_flags(g) & VS_QF_CQ_OVERFLOW, 0, "flag cleared once drained");
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.cq_overflows, 76);
	close(peer);
	tg_vm_fini(&vm);
}

Test(backpressure, parked_requests_per_queue_are_bounded, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);

	/* POLLs for input that never comes: each one parks. */
	const uint32_t n = HOSTNET_MAX_INFLIGHT + 100;
	const uint32_t base = g->sq_tail;
	uint32_t i = 0;
	uint64_t deadline = tg_now_ms() + 20000;
	while (i < n) {
		cr_assert_lt(tg_now_ms(), deadline);
		struct vs_sqe *e = tg_sqe(g);
		if (!e) {
			tg_submit(&vm, g);
			if (__atomic_load_n(&g->q->ctrl.sq_head, __ATOMIC_ACQUIRE) - base ==
			    HOSTNET_MAX_INFLIGHT)
				break; /* the host stopped taking more */
			usleep(1000);
			continue;
		}
		e->opcode = VS_OP_POLL;
		e->handle = (uint32_t)h;
		e->op_flags = VS_POLLIN;
		e->user_data = i++;
	}
	tg_submit(&vm, g);
	usleep(50000);
	cr_assert_eq(__atomic_load_n(&g->q->ctrl.sq_head, __ATOMIC_ACQUIRE) - base, HOSTNET_MAX_INFLIGHT,
		     "at most HOSTNET_MAX_INFLIGHT requests consumed: %u, cq %u", g->q->ctrl.sq_head, cq_used(g));
	cr_assert_eq(cq_used(g), 0);

	/* Input: every POLL completes, in order, and the rest get consumed. */
	cr_assert_eq(write(peer, "!", 1), 1);
	uint32_t reaped = 0;
	deadline = tg_now_ms() + 20000;
	while (reaped < n) {
		cr_assert_lt(tg_now_ms(), deadline, "stuck at %u", reaped);
		struct vs_sqe *e;
		while (i < n && (e = tg_sqe(g))) {
			e->opcode = VS_OP_POLL;
			e->handle = (uint32_t)h;
			e->op_flags = VS_POLLIN;
			e->user_data = i++;
		}
		tg_submit(&vm, g);
		struct vs_cqe c;
		if (!tg_reap(g, &c)) {
			tg_doorbell(&vm, 0, VS_DB_WAIT, 100);
			continue;
		}
		cr_assert_eq(c.user_data, reaped);
		cr_assert_eq(c.result, VS_POLLIN);
		reaped++;
	}
	close(peer);
	tg_vm_fini(&vm);
}
