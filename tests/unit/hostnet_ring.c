/* SPDX-License-Identifier: MIT */
/*
 * The rings end to end (NOPs, no sockets): free-running indices across 2^32,
 * full and empty SQ, bad requests, and a guest that corrupts its indices.
 */
#include "hostnet_guest.h"

static void wait_flag(struct tg_queue *g, uint32_t flag)
{
	uint64_t deadline = tg_now_ms() + 5000;
	while (!(tg_flags(g) & flag)) {
		cr_assert_lt(tg_now_ms(), deadline, "flag %#x never set", flag);
		usleep(1000);
	}
}

Test(ring, nop_batches_wrap_past_2_32, .timeout = 30)
{
	struct tg_vm vm;
	const uint32_t start = 0xffffff80u; /* both rings wrap after 128 entries */
	tg_vm_init_at(&vm, 1, 0, 0, VS_COPY_ZERO, start);
	struct tg_queue *g = &vm.qs[0];
	uint64_t next_expected = 1;
	for (int round = 0; round < 12; round++) {
		for (int i = 0; i < 100; i++) {
			struct vs_sqe *e = tg_sqe(g);
			cr_assert_not_null(e);
			e->opcode = VS_OP_NOP;
			e->user_data = (uint64_t)round * 100 + i + 1;
		}
		tg_submit(&vm, g);
		for (int i = 0; i < 100; i++) {
			struct vs_cqe c;
			tg_wait_cqe(&vm, g, &c, 5000);
			cr_assert_eq(c.user_data, next_expected, "completion order");
			cr_assert_eq(c.result, 0);
			cr_assert_eq(c.flags, 0);
			next_expected++;
		}
	}
	cr_assert_eq(g->q->ctrl.sq_head, start + 1200, "sq_head wrapped");
	cr_assert_eq(g->q->ctrl.cq_tail, start + 1200, "cq_tail wrapped");
	cr_assert_lt(g->q->ctrl.sq_head, start, "really past 2^32");

	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.requests, 1200);
	cr_assert_eq(st.completions, 1200);
	cr_assert_eq(st.requests_bad, 0);
	cr_assert_geq(st.batches, 12);
	uint64_t hist = 0;
	for (unsigned b = 0; b < HOSTNET_BATCH_BUCKETS; b++)
		hist += st.batch_hist[b];
	cr_assert_eq(hist, st.batches, "every batch lands in one histogram bucket");
	cr_assert_eq(st.queues_broken, 0);
	tg_vm_fini(&vm);
}

Test(ring, sq_full_then_one_doorbell_drains_it, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	wait_flag(g, VS_QF_NEED_WAKEUP); /* the worker sleeps: it will not consume on its own */

	for (uint32_t i = 0; i < VS_SQ_ENTRIES; i++) {
		struct vs_sqe *e = tg_sqe(g);
		cr_assert_not_null(e, "entry %u", i);
		e->opcode = VS_OP_NOP;
		e->user_data = i;
	}
	cr_assert_null(tg_sqe(g), "entry %u does not fit", VS_SQ_ENTRIES + 1);
	tg_publish(g);
	usleep(20000);
	cr_assert_eq(g->q->ctrl.sq_head, 0, "nothing consumed without a doorbell");

	cr_assert(tg_submit(&vm, g), "NEED_WAKEUP was set: the guest rings");
	for (uint32_t i = 0; i < VS_SQ_ENTRIES; i++) {
		struct vs_cqe c;
		tg_wait_cqe(&vm, g, &c, 5000);
		cr_assert_eq(c.user_data, i);
	}
	cr_assert_eq(__atomic_load_n(&g->q->ctrl.sq_head, __ATOMIC_ACQUIRE), VS_SQ_ENTRIES);
	cr_assert_not_null(tg_sqe(g), "space again");
	g->sq_tail--; /* unprepare it */

	/* Empty: a WAIT finds nothing and times out. */
	cr_assert_eq(tg_doorbell(&vm, 0, VS_DB_SUBMIT | VS_DB_WAIT, 30), -ETIMEDOUT);
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.batches, 1, "one doorbell, one batch of the whole SQ");
	cr_assert_eq(st.batch_hist[8], 1);
	tg_vm_fini(&vm);
}

Test(ring, bad_requests_complete_and_the_worker_goes_on, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	struct { uint8_t op, flags; uint16_t res0; uint32_t handle; int32_t want; uint32_t cflags; } cases[] = {
		{ VS_OP_NOP, 0, 0, 0, 0, 0 },
		{ 99, 0, 0, 0, -EINVAL, VS_CQE_BAD_REQUEST },
		{ VS_OP_NOP, 0x40, 0, 0, -EINVAL, VS_CQE_BAD_REQUEST },
		{ VS_OP_NOP, 0, 7, 0, -EINVAL, VS_CQE_BAD_REQUEST },
		{ VS_OP_RECV, 0, 0, 12345, -EBADF, VS_CQE_BAD_REQUEST },
		{ VS_OP_CLOSE, 0, 0, 0, -EBADF, VS_CQE_BAD_REQUEST },
		{ VS_OP_NOP, VS_SQE_NONBLOCK, 0, 0, 0, 0 },
	};
	const unsigned n = sizeof(cases) / sizeof(cases[0]);
	for (unsigned i = 0; i < n; i++) {
		struct vs_sqe *e = tg_sqe(g);
		e->opcode = cases[i].op;
		e->flags = cases[i].flags;
		e->reserved0 = cases[i].res0;
		e->handle = cases[i].handle;
		e->user_data = 500 + i;
	}
	/* A buffer far outside guest RAM. */
	struct vs_sqe *e = tg_sqe(g);
	e->opcode = VS_OP_SEND;
	e->handle = 1;
	e->addr = UINT64_MAX - 3;
	e->len = 100;
	e->user_data = 999;
	tg_submit(&vm, g);
	for (unsigned i = 0; i < n; i++) {
		struct vs_cqe c;
		tg_wait_cqe(&vm, g, &c, 5000);
		cr_assert_eq(c.user_data, 500 + i);
		cr_assert_eq(c.result, cases[i].want, "case %u: %d", i, c.result);
		cr_assert_eq(c.flags, cases[i].cflags, "case %u flags", i);
	}
	struct vs_cqe c;
	tg_wait_cqe(&vm, g, &c, 5000);
	cr_assert_eq(c.user_data, 999);
	cr_assert_eq(c.result, -EFAULT);
	cr_assert_eq(c.flags, VS_CQE_BAD_REQUEST);

	cr_assert_eq(tg_op(&vm, g, VS_OP_NOP, 0), 0, "still serving");
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.requests_bad, 6);
	cr_assert_eq(st.requests, n + 2);
	tg_vm_fini(&vm);
}

Test(ring, host_ignores_a_guest_written_sq_head, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	cr_assert_eq(tg_op(&vm, g, VS_OP_NOP, 0), 0);
	g->q->ctrl.sq_head = 0x12345; /* the guest scribbles over the host's index */
	for (int i = 0; i < 3; i++) {
		struct vs_sqe *e = &g->q->sq[g->sq_tail & (VS_SQ_ENTRIES - 1)];
		memset(e, 0, sizeof(*e));
		e->opcode = VS_OP_NOP;
		e->user_data = 70 + i;
		g->sq_tail++;
	}
	tg_submit(&vm, g);
	for (int i = 0; i < 3; i++) {
		struct vs_cqe c;
		tg_wait_cqe(&vm, g, &c, 5000);
		cr_assert_eq(c.user_data, 70 + i);
	}
	cr_assert_eq(g->q->ctrl.sq_head, 4, "the host republished its own head");
	cr_assert_eq(tg_flags(g) & VS_QF_BROKEN, 0);
	tg_vm_fini(&vm);
}

Test(ring, sq_tail_too_far_ahead_breaks_only_that_queue, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 2, 0);
	struct tg_queue *g0 = &vm.qs[0], *g1 = &vm.qs[1];
	__atomic_store_n(&g0->q->ctrl.sq_tail, VS_SQ_ENTRIES + 1, __ATOMIC_RELEASE);
	int64_t r = tg_doorbell(&vm, 0, VS_DB_SUBMIT, 0);
	cr_assert(r == 0 || r == -EIO, "SUBMIT: %lld (-EIO if the worker was quicker)", (long long)r);
	wait_flag(g0, VS_QF_BROKEN);
	cr_assert_eq(g0->q->ctrl.sq_head, 0, "nothing consumed from a broken queue");
	cr_assert_eq(tg_doorbell(&vm, 0, VS_DB_WAIT, 1000), -EIO);

	cr_assert_eq(tg_op(&vm, g1, VS_OP_NOP, 0), 0, "the other queue still works");
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.queues_broken, 1);
	tg_vm_fini(&vm);
}

Test(ring, exactly_a_full_sq_ahead_is_fine, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	for (uint32_t i = 0; i < VS_SQ_ENTRIES; i++) /* zeroed entries: NOPs, user_data 0 */
		g->sq_tail++;
	tg_submit(&vm, g);
	for (uint32_t i = 0; i < VS_SQ_ENTRIES; i++) {
		struct vs_cqe c;
		tg_wait_cqe(&vm, g, &c, 5000);
		cr_assert_eq(c.result, 0);
	}
	cr_assert_eq(tg_flags(g) & VS_QF_BROKEN, 0);
	tg_vm_fini(&vm);
}

static void cq_head_corruption(int32_t delta_from_tail)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	cr_assert_eq(tg_op(&vm, g, VS_OP_NOP, 0), 0);
	uint32_t tail = __atomic_load_n(&g->q->ctrl.cq_tail, __ATOMIC_ACQUIRE);
	__atomic_store_n(&g->q->ctrl.cq_head, tail + (uint32_t)delta_from_tail, __ATOMIC_RELEASE);
	struct vs_sqe *e = tg_sqe(g);
	e->opcode = VS_OP_NOP;
	tg_publish(g);
	cr_assert_eq(tg_doorbell(&vm, 0, VS_DB_SUBMIT | VS_DB_WAIT, 2000), -EIO);
	cr_assert(tg_flags(g) & VS_QF_BROKEN);
	cr_assert_eq(__atomic_load_n(&g->q->ctrl.cq_tail, __ATOMIC_ACQUIRE), tail,
		     "nothing written into a corrupt CQ");
	tg_vm_fini(&vm);
}

Test(ring, cq_head_ahead_of_tail_breaks_the_queue, .timeout = 30)
{
	cq_head_corruption(5);
}

Test(ring, cq_head_too_far_behind_breaks_the_queue, .timeout = 30)
{
	cq_head_corruption(-(int32_t)VS_CQ_ENTRIES - 1);
}
