/* SPDX-License-Identifier: MIT */
/*
 * The doorbell side of hostnet's link (hostnet/link.h) against a hostile
 * worker process: the VMM reads only numbers from the shared page, so
 * whatever the workers' side writes there (cq_tail far ahead, the broken
 * flag, the waiters count, garbage statistics), a doorbell returns a count
 * within one CQ or -EIO, a stop still ends a WAIT, and the VMM's own
 * doorbell counters stay its own.  No workers run here: the test plays them.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "link.h"

#define RING_GPA (4ull << 30)

struct fixture {
	uint8_t *ring;
	struct hostnet_link *l;
};

static void setup(struct fixture *f)
{
	f->ring = mmap(NULL, VS_QUEUE_BYTES, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(f->ring, MAP_FAILED);
	cr_assert_eq(hostnet_link_create(f->ring, RING_GPA, VS_QUEUE_BYTES, 1, 1, &f->l), 0);
}

static void teardown(struct fixture *f)
{
	hostnet_link_destroy(f->l);
	munmap(f->ring, VS_QUEUE_BYTES);
}

static int64_t ring_db(struct fixture *f, uint32_t flags, uint32_t wait_ms)
{
	return hostnet_link_doorbell(f->l, RING_GPA, VS_QUEUE_BYTES / 4096,
				     VS_DB_ARG(0, flags, wait_ms));
}

Test(link, counts_come_from_the_shared_cq_tail_within_one_cq, .timeout = 30)
{
	struct fixture f;
	setup(&f);
	struct hn_link_queue *q = &f.l->sh->q[0];
	cr_assert_eq(ring_db(&f, VS_DB_SUBMIT, 0), 0);
	atomic_store(&q->cq_tail, 5);
	cr_assert_eq(ring_db(&f, VS_DB_SUBMIT, 0), 5);
	cr_assert_eq(ring_db(&f, VS_DB_SUBMIT | VS_DB_WAIT, 10), 5);
	/* A lie beyond one CQ: refused, never a count the guest could trust. */
	atomic_store(&q->cq_tail, VS_CQ_ENTRIES + 1);
	cr_assert_eq(ring_db(&f, VS_DB_SUBMIT, 0), -EIO);
	cr_assert_eq(ring_db(&f, VS_DB_SUBMIT | VS_DB_WAIT, 10), -EIO);
	atomic_store(&q->cq_tail, 0xffffffffu);
	cr_assert_eq(ring_db(&f, VS_DB_SUBMIT, 0), -EIO);
	atomic_store(&q->cq_tail, 1);
	atomic_store(&q->broken, 1);
	cr_assert_eq(ring_db(&f, VS_DB_SUBMIT | VS_DB_WAIT, 10), -EIO);
	teardown(&f);
}

static void *wait_forever(void *arg)
{
	struct fixture *f = arg;
	return (void *)(intptr_t)ring_db(f, VS_DB_WAIT, VS_DB_WAIT_FOREVER);
}

Test(link, stop_ends_a_wait_whatever_the_shared_waiters_count_says, .timeout = 30)
{
	struct fixture f;
	setup(&f);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, wait_forever, &f), 0);
	struct hn_link_queue *q = &f.l->sh->q[0];
	while (atomic_load(&q->waiters) == 0)
		usleep(1000);
	usleep(20000); /* asleep in the futex by now */
	atomic_store(&q->waiters, 0); /* the hostile worker hides the waiter */
	hostnet_link_stop(f.l);
	void *r;
	cr_assert_eq(pthread_join(t, &r), 0);
	cr_assert_eq((int64_t)(intptr_t)r, -EINTR);
	teardown(&f);
}

Test(link, the_vmms_doorbell_counters_are_its_own, .timeout = 30)
{
	struct fixture f;
	setup(&f);
	ring_db(&f, VS_DB_SUBMIT, 0);
	ring_db(&f, VS_DB_SUBMIT, 0);
	hostnet_link_doorbell(f.l, 0, 0, 0); /* bad */
	/* The worker side fills its snapshot with garbage. */
	memset(&f.l->sh->worker_stats, 0xff, sizeof(f.l->sh->worker_stats));
	atomic_store(&f.l->sh->stats_valid, 1);
	struct hostnet_stats st;
	hostnet_link_get_stats(f.l, &st);
	cr_assert_eq(st.doorbells, 3);
	cr_assert_eq(st.doorbells_bad, 1);
	cr_assert_eq(st.requests, UINT64_MAX, "the rest is the worker's word");
	teardown(&f);
}

/* A worker process that moves seq without end: every futex sleep of the
 * doorbell finds the word changed (EAGAIN), as when the worker bumps it
 * between the doorbell's look and its sleep.  syscall() is this test's
 * while churn_queue is set (only the doorbell calls it then): each sleep
 * takes 1 ms of real time, and the 5000th says ETIMEDOUT whatever the time. */
static struct hn_link_queue *churn_queue;
static unsigned churn_sleeps;

long syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_futex && churn_queue && (a[1] & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET) {
		usleep(1000);
		atomic_fetch_add(&churn_queue->seq, 1);
		errno = ++churn_sleeps < 5000 ? EAGAIN : ETIMEDOUT;
		return -1;
	}
	long (*real)(long, ...) = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

Test(link, a_wait_ends_at_its_deadline_while_the_worker_moves_seq, .timeout = 60)
{
	struct fixture f;
	setup(&f);
	churn_queue = &f.l->sh->q[0];
	int64_t r = ring_db(&f, VS_DB_WAIT, 20);
	churn_queue = NULL;
	cr_assert_eq(r, -ETIMEDOUT);
	/* 20 ms of 1 ms sleeps: some tens of them on a busy host, not 5000. */
	cr_assert_lt(churn_sleeps, 1000, "the WAIT slept %u times past its 20 ms", churn_sleeps);
	teardown(&f);
}
