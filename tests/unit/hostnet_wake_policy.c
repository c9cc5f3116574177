/* SPDX-License-Identifier: MIT */
/*
 * Who wakes a doorbell WAIT (link.c): a completion wakes the vCPU only once
 * the CQ holds the WAIT's wait_min, not once per completion; and still no
 * completion is ever lost, the receives finish in order, a broken queue and
 * two WAITs on one queue are woken as before.
 */
#include "hostnet_guest.h"

#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>

struct waiter {
	struct tg_vm *vm;
	uint32_t wait_ms;
	int64_t result;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	w->result = tg_doorbell(w->vm, 0, VS_DB_WAIT, w->wait_ms);
	return NULL;
}

/* n 1-byte RECVs on h, published. */
static void post_recvs(struct tg_vm *vm, struct tg_queue *g, int32_t h, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vs_sqe *e = tg_prep(g, VS_OP_RECV, (uint32_t)h);
		e->addr = tg_alloc(vm, 1);
		e->len = 1;
	}
	tg_submit(vm, g);
}

/* A TCP pair, n RECVs parked on it, then a WAIT for wait_min (5 s) in a
 * thread of its own; the statistics just before the WAIT in *before. */
static pthread_t park_then_wait(struct tg_vm *vm, struct tg_queue *g, unsigned n,
				uint32_t wait_min, int *peer, struct hostnet_stats *before,
				struct waiter *w)
{
	int32_t h = tg_tcp_pair(vm, g, peer);
	post_recvs(vm, g, h, n);
	g->q->ctrl.wait_min = wait_min;
	usleep(20000); /* the RECVs are parked */
	hostnet_get_stats(vm->hn, before);
	*w = (struct waiter){ vm, 5000, 0 };
	pthread_t t;
	pthread_create(&t, NULL, wait_thread, w);
	return t;
}

Test(wake_policy, one_wake_up_per_wait_not_per_completion, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	struct hostnet_stats before, after;
	struct waiter w;
	pthread_t t = park_then_wait(&vm, g, 3, 3, &peer, &before, &w);
	for (const char *p = "abc"; *p; p++) {
		usleep(30000); /* the WAIT is asleep: each byte completes one RECV */
		cr_assert_eq(write(peer, p, 1), 1);
	}
	pthread_join(t, NULL);
	cr_assert_eq(w.result, 3, "WAIT returned %lld", (long long)w.result);
	hostnet_get_stats(vm.hn, &after);
	cr_assert_eq(after.wait_wakes - before.wait_wakes, 1,
		     "the WAIT for 3 was woken %llu times by completions",
		     (unsigned long long)(after.wait_wakes - before.wait_wakes));
	/* ...and in order, nothing lost */
	for (const char *p = "abc"; *p; p++) {
		struct vs_cqe c;
		cr_assert(tg_reap(g, &c));
		cr_assert_eq(c.result, 1);
	}
	close(peer);
	tg_vm_fini(&vm);
}

/* A pass that completes many requests after a WAIT's target makes one
 * FUTEX_WAKE, not one per completion until the woken vCPU thread runs and
 * leaves the futex's waiters (link.c: slept_since_wake). */
Test(wake_policy, one_futex_wake_per_sleep_not_per_completion_after_it, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	enum { N = 48 };
	struct hostnet_stats before, after;
	struct waiter w;
	pthread_t t = park_then_wait(&vm, g, N, 1, &peer, &before, &w);
	usleep(50000); /* the WAIT is asleep */
	char bytes[N];
	memset(bytes, 'x', sizeof(bytes));
	cr_assert_eq(write(peer, bytes, N), N); /* one event: N RECVs complete in one pass */
	pthread_join(t, NULL);
	cr_assert_geq(w.result, 1, "WAIT returned %lld", (long long)w.result);
	/* Reap without a WAIT of our own (it would be a sleep of its own). */
	uint64_t t0 = tg_now_ms();
	while (__atomic_load_n(&g->q->ctrl.cq_tail, __ATOMIC_ACQUIRE) - g->cq_head < N &&
	       tg_now_ms() - t0 < 5000)
		usleep(1000);
	hostnet_get_stats(vm.hn, &after);
	struct vs_cqe c;
	for (unsigned i = 0; i < N; i++) {
		cr_assert(tg_reap(g, &c), "completion %u of %u missing", i, N);
		cr_assert_eq(c.result, 1);
	}
	cr_assert_eq(after.wake_calls - before.wake_calls, 1,
		     "%llu FUTEX_WAKEs for one sleeping WAIT and %u completions",
		     (unsigned long long)(after.wake_calls - before.wake_calls), N);
	close(peer);
	tg_vm_fini(&vm);
}

/* A doorbell kicks the worker (an eventfd write) only when it was going to
 * sleep (NEED_WAKEUP set); one that finds it awake in its poll window does
 * not, and what it was rung for still runs. */
Test(wake_policy, doorbells_kick_only_a_worker_going_to_sleep, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 3000000); /* a 3 s poll window: awake */
	struct tg_queue *g = &vm.qs[0];
	usleep(20000);
	cr_assert_eq(tg_flags(g) & VS_QF_NEED_WAKEUP, 0u, "the worker is in its poll window");
	struct hostnet_stats before, after;
	hostnet_get_stats(vm.hn, &before);
	for (unsigned i = 0; i < 50; i++) {
		tg_prep(g, VS_OP_NOP, 0);
		tg_publish(g);
		cr_assert_geq(tg_doorbell(&vm, 0, VS_DB_WAIT, 2000), 1);
		struct vs_cqe c;
		cr_assert(tg_reap(g, &c));
		cr_assert_eq(c.result, 0);
	}
	hostnet_get_stats(vm.hn, &after);
	cr_assert_eq(after.doorbells - before.doorbells, 50);
	cr_assert_eq(after.kicks - before.kicks, 0, "%llu kicks of an awake worker",
		     (unsigned long long)(after.kicks - before.kicks));
	tg_vm_fini(&vm);

	tg_vm_init(&vm, 1, 0); /* sleeps at once */
	g = &vm.qs[0];
	usleep(20000);
	cr_assert(tg_flags(g) & VS_QF_NEED_WAKEUP, "the worker is asleep");
	hostnet_get_stats(vm.hn, &before);
	tg_prep(g, VS_OP_NOP, 0);
	tg_publish(g);
	cr_assert_geq(tg_doorbell(&vm, 0, VS_DB_WAIT, 2000), 1, "the kick woke the worker");
	hostnet_get_stats(vm.hn, &after);
	cr_assert_eq(after.kicks - before.kicks, 1);
	tg_vm_fini(&vm);
}

/* Many WAITs for 1..4 completions that trickle in from another thread, the
 * WAIT often just going to sleep as they arrive: none may miss its
 * completions (it would run to its timeout). */
struct trickle {
	int peer;
	unsigned bytes;
};

static void *trickle_thread(void *arg)
{
	struct trickle *tr = arg;
	for (unsigned i = 0; i < tr->bytes; i++) {
		if (i % 3 == 0)
			usleep(200);
		if (write(tr->peer, "x", 1) != 1)
			break;
	}
	return NULL;
}

Test(wake_policy, completions_are_never_lost, .timeout = 60)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	int one = 1;
	setsockopt(peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	enum { ROUNDS = 300 };
	unsigned want[ROUNDS], total = 0;
	for (unsigned r = 0; r < ROUNDS; r++)
		total += want[r] = 1 + r % 4;
	struct trickle tr = { peer, total };
	pthread_t t;
	for (unsigned r = 0; r < ROUNDS; r++) {
		post_recvs(&vm, g, h, want[r]);
		g->q->ctrl.wait_min = want[r];
		if (r == 0)
			pthread_create(&t, NULL, trickle_thread, &tr);
		uint64_t t0 = tg_now_ms();
		int64_t got = tg_doorbell(&vm, 0, VS_DB_WAIT, 2000);
		cr_assert_geq(got, (int64_t)want[r], "round %u: WAIT for %u gave %lld after %llu ms",
			      r, want[r], (long long)got, (unsigned long long)(tg_now_ms() - t0));
		for (unsigned i = 0; i < want[r]; i++) {
			struct vs_cqe c;
			cr_assert(tg_reap(g, &c));
			cr_assert_eq(c.result, 1);
		}
	}
	pthread_join(t, NULL);
	close(peer);
	tg_vm_fini(&vm);
}

/* Two WAITs on one queue (a guest using it from two vCPUs) with different
 * targets: the later one's must not keep the earlier one asleep past the
 * completion it waits for. */
Test(wake_policy, two_waits_on_one_queue_each_wakes_for_its_own, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	post_recvs(&vm, g, h, 3);
	usleep(20000);
	struct waiter a = { &vm, 5000, 0 }, b = { &vm, 300, 0 };
	pthread_t ta, tb;
	g->q->ctrl.wait_min = 1;
	pthread_create(&ta, NULL, wait_thread, &a);
	usleep(50000);
	g->q->ctrl.wait_min = 3; /* the second WAIT wants 3 */
	pthread_create(&tb, NULL, wait_thread, &b);
	usleep(50000);
	uint64_t t0 = tg_now_ms();
	cr_assert_eq(write(peer, "a", 1), 1);
	pthread_join(ta, NULL);
	uint64_t took = tg_now_ms() - t0;
	cr_assert_eq(a.result, 1);
	cr_assert_lt(took, 200, "the WAIT for 1 slept %llu ms past its completion",
		     (unsigned long long)took);
	pthread_join(tb, NULL);
	cr_assert_eq(b.result, 1, "a timed-out WAIT reports what is there");
	close(peer);
	tg_vm_fini(&vm);
}

/* A WAIT for more than will ever come still hears that the queue broke. */
Test(wake_policy, a_broken_queue_wakes_a_wait_short_of_its_target, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	g->q->ctrl.wait_min = 8;
	struct waiter w = { &vm, VS_DB_WAIT_FOREVER, 0 };
	pthread_t t;
	pthread_create(&t, NULL, wait_thread, &w);
	usleep(50000);
	__atomic_store_n(&g->q->ctrl.sq_tail, g->sq_tail + 5 * VS_SQ_ENTRIES, __ATOMIC_RELEASE);
	tg_doorbell(&vm, 0, VS_DB_SUBMIT, 0); /* the worker looks, and breaks the queue */
	uint64_t t0 = tg_now_ms();
	pthread_join(t, NULL);
	cr_assert_eq(w.result, -EIO);
	cr_assert_lt(tg_now_ms() - t0, 2000);
	tg_vm_fini(&vm);
}
