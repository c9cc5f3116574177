/* SPDX-License-Identifier: MIT */
/*
 * Create / destroy: config checks, no fd leak, several workers and queues,
 * a socket shared between queues served by different workers.
 */
#include "hostnet_guest.h"

static struct hostnet_config base_config(uint8_t *ram, uint8_t *ring)
{
	return (struct hostnet_config){
		.ram = ram, .ram_bytes = 1u << 20,
		.ring = ring, .ring_gpa = 1ull << 32, .ring_bytes = 2ull * VS_QUEUE_BYTES,
		.nr_queues = 2,
	};
}

Test(lifecycle, create_rejects_bad_configs, .timeout = 30)
{
	uint8_t *ram = calloc(1, 1u << 20), *ring = calloc(2, VS_QUEUE_BYTES);
	struct hostnet *hn;
	struct hostnet_config c = base_config(ram, ring);
	cr_assert_eq(hostnet_create(&c, &hn), 0, "the base config is fine");
	hostnet_destroy(hn);

#define BAD(field_change)                                                      \
	do {                                                                   \
		c = base_config(ram, ring);                                    \
		field_change;                                                  \
		cr_expect_eq(hostnet_create(&c, &hn), -EINVAL, #field_change); \
	} while (0)
	BAD(c.ram = NULL);
	BAD(c.ram_bytes = 0);
	BAD(c.ring = NULL);
	BAD(c.nr_queues = 0);
	BAD(c.nr_queues = VS_MAX_QUEUES + 1);
	BAD(c.nr_queues = 3);                       /* ring_bytes too small for 3 */
	BAD(c.workers = 3);                         /* more workers than queues */
	BAD(c.ring_gpa += 8);                       /* not page aligned */
	BAD(c.ring_bytes -= 4096);
	BAD(c.ring_bytes += 100);
	BAD(c.ring_gpa = 4096);                     /* overlaps RAM */
	BAD(c.ring_gpa = UINT64_MAX - 4095);        /* wraps */
	BAD(c.copy = 7);
	BAD(c.max_sockets = HOSTNET_MAX_SOCKETS_LIMIT + 1);
	BAD(((struct vs_queue *)ring)->ctrl.sq_tail = 5); /* queue not idle */
	((struct vs_queue *)ring)->ctrl.sq_tail = 0;
	BAD(((struct vs_queue *)(ring + VS_QUEUE_BYTES))->ctrl.cq_head = 1);
	((struct vs_queue *)(ring + VS_QUEUE_BYTES))->ctrl.cq_head = 0;
	cr_assert_eq(hostnet_create(NULL, &hn), -EINVAL);
	c = base_config(ram, ring);
	cr_assert_eq(hostnet_create(&c, NULL), -EINVAL);
	hostnet_destroy(NULL);
	free(ram);
	free(ring);
}

Test(lifecycle, destroy_closes_every_socket_no_fd_leak, .timeout = 30)
{
	int before = tg_count_fds();
	struct tg_vm vm;
	tg_vm_init(&vm, 2, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port;
	int l = tg_listener(&port);
	int peers[3];
	for (int i = 0; i < 3; i++) {
		int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
		cr_assert_eq(tg_connect(&vm, g, (uint32_t)h, port), 0);
		peers[i] = accept(l, NULL, NULL);
		/* and a receive that stays parked */
		struct vs_sqe *e = tg_prep(g, VS_OP_RECV, (uint32_t)h);
		e->addr = tg_alloc(&vm, 16);
		e->len = 16;
		tg_submit(&vm, g);
	}
	cr_assert_gt(tg_socket(&vm, &vm.qs[1], VS_SOCK_DGRAM), 0);
	int32_t ls = tg_socket(&vm, g, VS_SOCK_STREAM);
	struct vs_sqe *e = tg_prep(g, VS_OP_BIND, (uint32_t)ls);
	tg_sa_loopback(&e->u.addr, 0);
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	e = tg_prep(g, VS_OP_LISTEN, (uint32_t)ls);
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	tg_prep(g, VS_OP_ACCEPT, (uint32_t)ls); /* parked too */
	tg_submit(&vm, g);

	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.sockets_open, 5);
	cr_assert_gt(tg_count_fds(), before + 5);
	tg_vm_fini(&vm);
	for (int i = 0; i < 3; i++) {
		char x;
		cr_assert_eq(read(peers[i], &x, 1), 0, "peer %d sees the close", i);
		close(peers[i]);
	}
	close(l);
	cr_assert_eq(tg_count_fds(), before, "every fd hostnet opened is closed");
}

Test(lifecycle, many_queues_fewer_workers, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init_at(&vm, 4, 2, 0, VS_COPY_ZERO, 0); /* worker 0: q0,q2; worker 1: q1,q3 */
	for (int round = 0; round < 50; round++)
		for (uint32_t q = 0; q < 4; q++) {
			tg_prep(&vm.qs[q], VS_OP_NOP, 0);
			tg_submit(&vm, &vm.qs[q]);
		}
	for (uint32_t q = 0; q < 4; q++)
		for (int round = 0; round < 50; round++) {
			struct vs_cqe c;
			tg_wait_cqe(&vm, &vm.qs[q], &c, 5000);
			cr_assert_eq(c.result, 0);
		}
	tg_vm_fini(&vm);
}

Test(lifecycle, socket_shared_between_queues_of_different_workers, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init_at(&vm, 4, 2, 0, VS_COPY_ZERO, 0);
	struct tg_queue *q0 = &vm.qs[0], *q1 = &vm.qs[1], *q2 = &vm.qs[2], *q3 = &vm.qs[3];
	uint16_t port;
	int l = tg_listener(&port);
	int32_t h = tg_socket(&vm, q0, VS_SOCK_STREAM); /* owned by worker 0 */
	cr_assert_eq(tg_connect(&vm, q0, (uint32_t)h, port), 0);
	int peer = accept(l, NULL, NULL);
	close(l);

	/* A receive from queue 3 (worker 1) completes into queue 3's CQ. */
	uint64_t buf = tg_alloc(&vm, 16);
	struct vs_sqe *e = tg_prep(q3, VS_OP_RECV, (uint32_t)h);
	e->addr = buf;
	e->len = 16;
	uint64_t ud = e->user_data;
	tg_submit(&vm, q3);
	tg_expect_nothing(&vm, q3, 30);
	cr_assert_eq(write(peer, "shared", 6), 6);
	struct vs_cqe c;
	tg_wait_cqe(&vm, q3, &c, 5000);
	cr_assert_eq(c.user_data, ud);
	cr_assert_eq(c.result, 6);

	/* A send from queue 1. */
	memcpy(tg_ptr(&vm, buf), "back", 4);
	cr_assert_eq(tg_io(&vm, q1, VS_OP_SEND, (uint32_t)h, buf, 4, 0), 4);
	char got[4];
	cr_assert_eq(read(peer, got, 4), 4);

	/* Park a receive from queue 3 again; CLOSE from queue 2 cancels it. */
	e = tg_prep(q3, VS_OP_RECV, (uint32_t)h);
	e->addr = buf;
	e->len = 16;
	ud = e->user_data;
	tg_submit(&vm, q3);
	tg_expect_nothing(&vm, q3, 30);
	cr_assert_eq(tg_op(&vm, q2, VS_OP_CLOSE, (uint32_t)h), 0);
	tg_wait_cqe(&vm, q3, &c, 5000);
	cr_assert_eq(c.user_data, ud);
	cr_assert_eq(c.result, -ECANCELED);
	cr_assert_eq(read(peer, got, 1), 0);
	close(peer);
	tg_vm_fini(&vm);
}

Test(lifecycle, worker_time_adds_up, .timeout = 30)
{
	/* busy + poll + sleep is each worker's whole life: it cannot exceed the
	 * wall time around it, and it covers the idle pause below. */
	uint64_t t_before = tg_now_ms();
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 20000);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(tg_op(&vm, &vm.qs[0], VS_OP_NOP, 0), 0);
	uint64_t deadline = tg_now_ms() + 10000;
	while (!(tg_flags(&vm.qs[0]) & VS_QF_NEED_WAKEUP)) /* polled 20 ms, now asleep */
		cr_assert_lt(tg_now_ms(), deadline);
	usleep(100000);
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	uint64_t wall_ns = (tg_now_ms() - t_before + 2) * 1000000ull;
	uint64_t sum = st.worker_busy_ns + st.worker_poll_ns + st.worker_sleep_ns;
	cr_assert_leq(sum, wall_ns, "busy+poll+sleep %llu > wall time %llu",
		      (unsigned long long)sum, (unsigned long long)wall_ns);
	cr_assert_geq(sum, 100000000ull);
	cr_assert_gt(st.worker_sleep_ns, 0);
	cr_assert_gt(st.worker_poll_ns, 0);
	tg_vm_fini(&vm);
}
