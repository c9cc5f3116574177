/* SPDX-License-Identifier: MIT */
/*
 * Queues side by side (issue 14, "every vCPU its own queue"): two "vCPUs"
 * (threads here) each drive their own queue at once with requests on their
 * own socket, as the guest's --flows do.
 *
 *   - every completion arrives, on its own queue, exactly once, whether each
 *     queue has its own worker or one worker serves both in turn;
 *   - the per-queue statistics are each queue's own: requests, completions
 *     and doorbells are exactly what that queue's driver did;
 *   - the handle table's lookups (every request makes one) are safe against
 *     sockets coming and going in other slots and in the same slot.
 */
#include "hostnet_guest.h"

#include <pthread.h>
#include <stdatomic.h>

#include "handle_table.h"
#include "sock.h"

#define REQUESTS 20000u
#define WINDOW   64u /* requests in flight per queue */

struct driver {
	struct tg_vm *vm;
	struct tg_queue *g;
	uint32_t handle;
	uint8_t *seen;            /* REQUESTS flags: completion i arrived */
	unsigned completed, doorbells;
	char error[160];          /* set instead of asserting off the main thread */
};

static void fail(struct driver *d, const char *fmt, long long a, long long b)
{
	if (!d->error[0])
		snprintf(d->error, sizeof(d->error), fmt, a, b);
}

/* Publish, and ring SUBMIT only if the worker sleeps (the adaptive guest). */
static void submit(struct driver *d)
{
	tg_publish(d->g);
	atomic_thread_fence(memory_order_seq_cst);
	if (tg_flags(d->g) & VS_QF_NEED_WAKEUP) {
		d->doorbells++;
		if (tg_doorbell(d->vm, d->g->index, VS_DB_SUBMIT, 0) < 0)
			fail(d, "queue %lld: SUBMIT failed (%lld)", d->g->index, 0);
	}
}

static void *drive(void *arg)
{
	struct driver *d = arg;
	unsigned sent = 0;
	uint64_t deadline = tg_now_ms() + 20000;
	while (d->completed < REQUESTS && !d->error[0]) {
		unsigned queued = 0;
		while (sent < REQUESTS && sent - d->completed < WINDOW) {
			struct vs_sqe *e = tg_sqe(d->g);
			if (!e)
				break;
			e->opcode = VS_OP_GETSOCKOPT;
			e->handle = d->handle;
			e->u.opt.level = VS_SOL_SOCKET;
			e->u.opt.name = VS_SO_RCVBUF;
			e->user_data = sent++;
			queued++;
		}
		if (queued)
			submit(d);
		struct vs_cqe c;
		bool got = false;
		while (tg_reap(d->g, &c)) {
			got = true;
			if (c.user_data >= REQUESTS || d->seen[c.user_data])
				fail(d, "queue completion for %lld twice or unknown (queue %lld)",
				     (long long)c.user_data, d->g->index);
			else if (c.result <= 0)
				fail(d, "request %lld failed: %lld", (long long)c.user_data, c.result);
			else
				d->seen[c.user_data] = 1;
			d->completed++;
		}
		if (!got && d->completed < sent) {
			/* nothing yet: wait for one (counted: a WAIT is a doorbell too) */
			atomic_store_explicit(&d->g->q->ctrl.wait_min, 1, memory_order_relaxed);
			d->doorbells++;
			tg_doorbell(d->vm, d->g->index, VS_DB_WAIT, 100);
		}
		if (tg_now_ms() > deadline)
			fail(d, "queue %lld: only %lld completions in 20 s", d->g->index, d->completed);
	}
	return NULL;
}

/* Two queues, `workers` workers (1: one serves both; 2: one each). */
static void two_queues_at_once(uint32_t workers)
{
	struct tg_vm vm;
	tg_vm_init_at(&vm, 2, workers, 50, VS_COPY_ZERO, 0);
	struct driver d[2];
	pthread_t t[2];
	for (uint32_t i = 0; i < 2; i++) {
		d[i] = (struct driver){ .vm = &vm, .g = &vm.qs[i] };
		int32_t h = tg_socket(&vm, &vm.qs[i], VS_SOCK_STREAM);
		cr_assert_gt(h, 0);
		d[i].handle = (uint32_t)h;
		d[i].seen = calloc(REQUESTS, 1);
		cr_assert_not_null(d[i].seen);
	}
	struct hostnet_stats before;
	hostnet_get_stats(vm.hn, &before);
	for (uint32_t i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, drive, &d[i]), 0);
	for (uint32_t i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	struct hostnet_stats after;
	hostnet_get_stats(vm.hn, &after);

	cr_assert_eq(after.nr_queues, 2);
	for (uint32_t i = 0; i < 2; i++) {
		cr_assert_str_empty(d[i].error, "%s", d[i].error);
		cr_assert_eq(d[i].completed, REQUESTS);
		for (unsigned k = 0; k < REQUESTS; k++)
			cr_assert(d[i].seen[k], "queue %u: completion %u never came", i, k);
		const struct hostnet_queue_stats *a = &after.queue[i], *b = &before.queue[i];
		cr_assert_eq(a->requests - b->requests, REQUESTS, "queue %u: %llu requests counted",
			     i, (unsigned long long)(a->requests - b->requests));
		cr_assert_eq(a->completions - b->completions, REQUESTS);
		cr_assert_eq(a->doorbells - b->doorbells, d[i].doorbells,
			     "queue %u rang %u doorbells, its counter says %llu", i, d[i].doorbells,
			     (unsigned long long)(a->doorbells - b->doorbells));
		free(d[i].seen);
	}
	cr_assert_eq(after.requests_bad, 0);
	tg_vm_fini(&vm);
}

Test(queues, two_queues_two_workers_every_completion_once, .timeout = 120)
{
	two_queues_at_once(2);
}

Test(queues, two_queues_one_worker_serves_both, .timeout = 120)
{
	two_queues_at_once(1);
}

/* ---- the handle table under concurrent lookups -------------------------------- */

struct looker {
	struct hn_handle_table *t;
	uint32_t handle;
	atomic_bool *stop;
	atomic_uint found; /* read by the test while the looker runs */
	unsigned missed;
};

static void *look(void *arg)
{
	struct looker *l = arg;
	while (!atomic_load(l->stop)) {
		struct hn_sock *s = hn_handles_get(l->t, l->handle);
		if (s) {
			if (s->handle != l->handle)
				l->missed = UINT32_MAX / 2; /* a socket under another handle */
			atomic_fetch_add(&l->found, 1);
			hn_sock_put(s);
		} else {
			l->missed++;
		}
	}
	return NULL;
}

Test(queues, handle_lookups_race_with_add_and_remove, .timeout = 60)
{
	struct hn_handle_table *t;
	cr_assert_eq(hn_handles_create(64, &t), 0);
	struct hn_sock *mine[2];
	uint32_t h[2];
	for (int i = 0; i < 2; i++) {
		mine[i] = hn_sock_new(-1, SOCK_STREAM);
		cr_assert_eq(hn_handles_add(t, mine[i], &h[i]), 0);
	}
	atomic_bool stop = false;
	struct looker l[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		l[i] = (struct looker){ .t = t, .handle = h[i], .stop = &stop };
		cr_assert_eq(pthread_create(&th[i], NULL, look, &l[i]), 0);
	}
	/* Churn only once both lookers run: on a busy machine a thread may
	 * not get a CPU before the churn below is over. */
	uint64_t deadline = tg_now_ms() + 20000;
	while (!atomic_load(&l[0].found) || !atomic_load(&l[1].found))
		cr_assert_lt(tg_now_ms(), deadline, "the lookers never ran");
	/* Sockets come and go in the other slots meanwhile. */
	for (int round = 0; round < 20000; round++) {
		struct hn_sock *s = hn_sock_new(-1, SOCK_STREAM);
		uint32_t hs;
		cr_assert_eq(hn_handles_add(t, s, &hs), 0);
		cr_assert_eq(hn_handles_remove(t, hs, s), s);
		hn_sock_put(s);
	}
	/* Then flow 1's own socket goes while it is being looked up. */
	struct hn_sock *gone = hn_handles_remove(t, h[1], mine[1]);
	cr_assert_eq(gone, mine[1]);
	hn_sock_put(gone);
	for (int k = 0; k < 1000; k++)
		sched_yield();
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	cr_assert_gt(atomic_load(&l[0].found), 0);
	cr_assert_eq(l[0].missed, 0, "an open handle was not found %u times", l[0].missed);
	cr_assert_lt(l[1].missed, UINT32_MAX / 2, "a lookup returned another socket");
	cr_assert_eq(atomic_load(&mine[0]->refs), 1, "lookups leaked references");
	cr_assert_null(hn_handles_get(t, h[1]), "a closed handle is still found");
	hn_sock_put(hn_handles_remove(t, h[0], mine[0]));
	hn_handles_destroy(t);
}
