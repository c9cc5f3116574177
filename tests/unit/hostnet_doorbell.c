/* SPDX-License-Identifier: MIT */
/*
 * The doorbell: argument checks, WAIT (results, timeout, wake-up by a
 * completion or by hostnet_stop), and the adaptive NEED_WAKEUP protocol.
 */
#include "hostnet_guest.h"

#include <pthread.h>

Test(doorbell, bad_arguments_are_einval, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 2, 0);
	const uint64_t a0 = TG_RING_GPA, a1 = vm.ring_bytes / 4096;
	const uint64_t good = VS_DB_ARG(1, VS_DB_SUBMIT, 0);
	struct { const char *what; uint64_t a0, a1, a2; } bad[] = {
		{ "no magic",        a0, a1, good & 0xffffffffu },
		{ "wrong magic",     a0, a1, good ^ (1ull << 40) },
		{ "queue == nr",     a0, a1, VS_DB_ARG(2, VS_DB_SUBMIT, 0) },
		{ "queue 255",       a0, a1, VS_DB_ARG(255, VS_DB_SUBMIT, 0) },
		{ "flag 0x4",        a0, a1, VS_DB_ARG(0, 0x4, 0) },
		{ "flag 0x80",       a0, a1, VS_DB_ARG(0, VS_DB_SUBMIT | 0x80, 0) },
		{ "a0 + 4096",       a0 + 4096, a1, good },
		{ "a0 = 0",          0, a1, good },
		{ "a1 - 1",          a0, a1 - 1, good },
		{ "a1 + 1",          a0, a1 + 1, good },
		{ "a1 = bytes",      a0, vm.ring_bytes, good },
	};
	const unsigned n = sizeof(bad) / sizeof(bad[0]);
	for (unsigned i = 0; i < n; i++)
		cr_expect_eq(hostnet_doorbell(vm.hn, bad[i].a0, bad[i].a1, bad[i].a2), -EINVAL,
			     "%s", bad[i].what);
	cr_assert_eq(hostnet_doorbell(vm.hn, a0, a1, good), 0);
	cr_assert_eq(hostnet_doorbell(vm.hn, a0, a1, VS_DB_ARG(0, 0, 0)), 0, "no flags: a count");
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.doorbells, n + 2);
	cr_assert_eq(st.doorbells_bad, n);
	tg_vm_fini(&vm);
}

Test(doorbell, wait_times_out_with_etimedout, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	uint64_t t0 = tg_now_ms();
	cr_assert_eq(tg_doorbell(&vm, 0, VS_DB_WAIT, 150), -ETIMEDOUT);
	uint64_t dt = tg_now_ms() - t0;
	cr_assert(dt >= 145 && dt < 2000, "waited %llu ms for 150", (unsigned long long)dt);
	t0 = tg_now_ms();
	cr_assert_eq(tg_doorbell(&vm, 0, VS_DB_WAIT, 0), -ETIMEDOUT, "wait_ms 0: just a check");
	cr_assert_lt(tg_now_ms() - t0, 100);
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_geq(st.wait_ns, 145000000ull);
	tg_vm_fini(&vm);
}

Test(doorbell, wait_returns_the_ready_count, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	for (int i = 0; i < 3; i++)
		tg_prep(g, VS_OP_NOP, 0);
	tg_publish(g);
	int64_t r = tg_doorbell(&vm, 0, VS_DB_SUBMIT | VS_DB_WAIT, 5000);
	cr_assert(r >= 1 && r <= 3, "SUBMIT|WAIT: %lld", (long long)r);
	uint64_t deadline = tg_now_ms() + 5000;
	while ((r = tg_doorbell(&vm, 0, VS_DB_WAIT, 100)) != 3)
		cr_assert_lt(tg_now_ms(), deadline, "WAIT says %lld", (long long)r);
	cr_assert_eq(tg_doorbell(&vm, 0, 0, 0), 3, "a plain doorbell reports the count too");
	tg_vm_fini(&vm);
}

struct waiter {
	struct tg_vm *vm;
	uint32_t q;
	int64_t result;
	volatile int done;
};

static void *wait_forever(void *arg)
{
	struct waiter *w = arg;
	w->result = tg_doorbell(w->vm, w->q, VS_DB_WAIT, VS_DB_WAIT_FOREVER);
	w->done = 1;
	return NULL;
}

Test(doorbell, stop_wakes_a_wait_forever_with_eintr, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 2, 0);
	struct waiter w[2] = { { &vm, 0, 0, 0 }, { &vm, 1, 0, 0 } };
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, wait_forever, &w[i]);
	usleep(100000);
	cr_assert(!w[0].done && !w[1].done, "WAIT forever is blocked");
	uint64_t t0 = tg_now_ms();
	hostnet_stop(vm.hn);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].result, -EINTR);
	}
	cr_assert_lt(tg_now_ms() - t0, 1000);
	cr_assert_eq(tg_doorbell(&vm, 0, VS_DB_WAIT, VS_DB_WAIT_FOREVER), -EINTR,
		     "after stop, WAIT returns at once");
	hostnet_stop(vm.hn); /* idempotent */
	tg_vm_fini(&vm);
}

Test(doorbell, wait_forever_wakes_on_a_completion, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	tg_io(&vm, g, VS_OP_NOP, 0, 0, 0, 0);
	struct vs_sqe *e = tg_prep(g, VS_OP_RECV, (uint32_t)h);
	e->addr = tg_alloc(&vm, 8);
	e->len = 8;
	tg_publish(g);
	struct waiter w = { &vm, 0, 0, 0 };
	pthread_t t;
	pthread_create(&t, NULL, wait_forever, &w);
	usleep(50000);
	cr_assert(!w.done);
	cr_assert_eq(write(peer, "wake", 4), 4);
	pthread_join(t, NULL);
	cr_assert_eq(w.result, 1);
	struct vs_cqe c;
	cr_assert(tg_reap(g, &c));
	cr_assert_eq(c.result, 4);
	close(peer);
	tg_vm_fini(&vm);
}

/* WAIT with the guest's wait_min = 3: one completion in the CQ is not
 * enough (the wait runs to its timeout and then reports what is there);
 * three are.  A hostile wait_min is clamped, never trusted. */
Test(doorbell, wait_waits_for_wait_min_completions, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	for (int i = 0; i < 3; i++) { /* three 1-byte receives, in order */
		struct vs_sqe *e = tg_prep(g, VS_OP_RECV, (uint32_t)h);
		e->addr = tg_alloc(&vm, 1);
		e->len = 1;
	}
	tg_publish(g);
	g->q->ctrl.wait_min = 3;
	cr_assert_eq(write(peer, "a", 1), 1);
	uint64_t t0 = tg_now_ms();
	int64_t r = tg_doorbell(&vm, 0, VS_DB_SUBMIT | VS_DB_WAIT, 300);
	uint64_t waited = tg_now_ms() - t0;
	cr_assert_eq(r, 1, "a timed-out WAIT reports what is there: %lld", (long long)r);
	cr_assert_geq(waited, 250, "WAIT for 3 returned after %llu ms with 1",
		      (unsigned long long)waited);
	struct waiter w = { &vm, 0, 0, 0 };
	pthread_t t;
	pthread_create(&t, NULL, wait_forever, &w);
	cr_assert_eq(write(peer, "b", 1), 1);
	usleep(100000);
	cr_assert(!w.done, "WAIT for 3 returned with 2");
	cr_assert_eq(write(peer, "c", 1), 1);
	pthread_join(t, NULL);
	cr_assert_eq(w.result, 3);
	g->q->ctrl.wait_min = 0xffffffffu; /* more than a CQ holds */
	cr_assert_eq(tg_doorbell(&vm, 0, VS_DB_WAIT, 50), 3, "clamped, then timed out");
	close(peer);
	tg_vm_fini(&vm);
}

static bool reap_spinning(struct tg_queue *g, struct vs_cqe *c, uint32_t ms)
{
	uint64_t deadline = tg_now_ms() + ms;
	while (!tg_reap(g, c))
		if (tg_now_ms() > deadline)
			return false;
	return true;
}

Test(doorbell, adaptive_polling_needs_no_doorbell_then_sleeps, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 500000); /* poll 500 ms after draining */
	struct tg_queue *g = &vm.qs[0];
	for (int i = 0; i < 20; i++) {
		tg_prep(g, VS_OP_NOP, 0);
		cr_assert_not(tg_submit(&vm, g), "the worker polls: no doorbell needed");
		struct vs_cqe c;
		cr_assert(reap_spinning(g, &c, 2000), "consumed without any doorbell");
		usleep(1000);
	}
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.doorbells, 0);
	cr_assert_eq(st.requests, 20);

	uint64_t deadline = tg_now_ms() + 5000;
	while (!(tg_flags(g) & VS_QF_NEED_WAKEUP))
		cr_assert_lt(tg_now_ms(), deadline, "the worker never went to sleep");
	usleep(20000);
	hostnet_get_stats(vm.hn, &st);
	cr_assert_geq(st.worker_poll_ns, 400000000ull, "it polled ~500 ms");
	cr_assert_gt(st.worker_sleep_ns, 0);

	tg_prep(g, VS_OP_NOP, 0);
	cr_assert(tg_submit(&vm, g), "asleep: the guest must ring");
	struct vs_cqe c;
	cr_assert(reap_spinning(g, &c, 2000));
	cr_assert_eq(tg_flags(g) & VS_QF_NEED_WAKEUP, 0, "awake and polling again");
	tg_vm_fini(&vm);
}

Test(doorbell, poll_us_zero_sleeps_right_after_draining, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint64_t deadline = tg_now_ms() + 2000;
	while (!(tg_flags(g) & VS_QF_NEED_WAKEUP))
		cr_assert_lt(tg_now_ms(), deadline);
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_lt(st.worker_poll_ns, 50000000ull, "no poll window");
	tg_vm_fini(&vm);
}

/* The guest only rings when it sees NEED_WAKEUP and then spins for the
 * completion without ever sending WAIT: a lost wake-up would hang here. */
static void need_wakeup_race(uint32_t poll_us)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, poll_us);
	struct tg_queue *g = &vm.qs[0];
	for (int i = 0; i < 3000; i++) {
		tg_prep(g, VS_OP_NOP, 0);
		tg_submit(&vm, g);
		struct vs_cqe c;
		cr_assert(reap_spinning(g, &c, 5000), "request %d lost: no wake-up", i);
		if (i % 3 == 0)
			usleep((unsigned)(i % 7) * 3); /* land on both sides of the window */
	}
	/* The worker counts a completion just after the guest can see it: give
	 * the last count a moment (ASan once read 2999 here). */
	struct hostnet_stats st;
	for (int tries = 0; tries < 1000; tries++) {
		hostnet_get_stats(vm.hn, &st);
		if (st.completions >= 3000)
			break;
		usleep(1000);
	}
	cr_assert_eq(st.completions, 3000);
	cr_log_info("poll_us %u: %llu doorbells for 3000 requests", poll_us,
		    (unsigned long long)st.doorbells);
	tg_vm_fini(&vm);
}

Test(doorbell, no_lost_wakeup_poll_0, .timeout = 60)
{
	need_wakeup_race(0);
}

Test(doorbell, no_lost_wakeup_poll_5us, .timeout = 60)
{
	need_wakeup_race(5);
}

Test(doorbell, no_lost_wakeup_poll_200us, .timeout = 60)
{
	need_wakeup_race(200);
}
