/* SPDX-License-Identifier: MIT */
/*
 * The idle worker's poll window (idle_poll.h): it spins only at the start of
 * the window, then yields the CPU on each look, so that on a busy CPU a
 * thread with work (a vCPU, a client) gets it; and the window still takes a
 * request the guest publishes without a doorbell.
 */
#define _GNU_SOURCE
#include "hostnet_guest.h"
#include "idle_poll.h"

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

Test(idle_poll, spin_then_yield_then_sleep)
{
	const uint64_t window = 1000000;
	cr_assert_eq(hn_idle_step(0, window), HN_IDLE_SPIN);
	cr_assert_eq(hn_idle_step(HN_IDLE_SPIN_NS - 1, window), HN_IDLE_SPIN);
	cr_assert_eq(hn_idle_step(HN_IDLE_SPIN_NS, window), HN_IDLE_YIELD);
	cr_assert_eq(hn_idle_step(window - 1, window), HN_IDLE_YIELD);
	cr_assert_eq(hn_idle_step(window, window), HN_IDLE_SLEEP);
	cr_assert_eq(hn_idle_step(0, 0), HN_IDLE_SLEEP, "--poll-us 0: sleep at once");
	cr_assert_eq(hn_idle_step(10, 1000), HN_IDLE_SPIN, "a window shorter than the spin");
}

/* CPU time (ns, from schedstat) of this process's thread named `name`, or -1. */
static int64_t thread_cpu_ns(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	cr_assert(d);
	int64_t out = -1;
	struct dirent *e;
	while (out < 0 && (e = readdir(d))) {
		char path[300], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
		if (strcmp(comm, name))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
		f = fopen(path, "r");
		long long ns;
		if (f && fscanf(f, "%lld", &ns) == 1)
			out = ns;
		if (f)
			fclose(f);
	}
	closedir(d);
	return out;
}

static int64_t thread_now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The worker and a busy thread share one CPU while the worker's (long) poll
 * window runs: a worker that spun through it would take about half the CPU;
 * a yielding one takes a small part of it. */
Test(idle_poll, a_polling_worker_gives_a_busy_cpu_away, .timeout = 60)
{
	/* One CPU for this thread and every thread started from now on. */
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);

	struct tg_vm vm;
	tg_vm_init(&vm, 1, 20 * 1000 * 1000); /* a 20 s poll window: it lasts the test */
	struct tg_queue *g = &vm.qs[0];
	/* A request first: the worker has run and its window started afresh. */
	cr_assert_geq(tg_socket(&vm, g, VS_SOCK_STREAM), 0);

	int64_t worker0 = thread_cpu_ns("hostnet-w0");
	cr_assert_geq(worker0, 0, "no worker thread named hostnet-w0");
	int64_t mine0 = thread_now_ns(CLOCK_THREAD_CPUTIME_ID);
	int64_t end = thread_now_ns(CLOCK_MONOTONIC) + 400 * 1000 * 1000;
	while (thread_now_ns(CLOCK_MONOTONIC) < end)
		; /* busy: the work the worker's poll must not take the CPU from */
	int64_t mine = thread_now_ns(CLOCK_THREAD_CPUTIME_ID) - mine0;
	int64_t worker = thread_cpu_ns("hostnet-w0") - worker0;

	cr_assert_eq(tg_flags(g) & VS_QF_NEED_WAKEUP, 0u, "the worker left its poll window");
	cr_assert_lt(worker * 4, mine, "the polling worker took %lld us of the CPU, the busy "
		     "thread %lld us", (long long)worker / 1000, (long long)mine / 1000);

	/* Still polling: a request published now is taken without a doorbell. */
	struct vs_sqe *e = tg_prep(g, VS_OP_SOCKET, 0);
	e->op_flags = VS_AF_INET << 16 | VS_SOCK_STREAM;
	cr_assert_not(tg_submit(&vm, g), "the guest had to ring a polling worker");
	struct vs_cqe c;
	bool got = false;
	uint64_t until = tg_now_ms() + 5000;
	while (!(got = tg_reap(g, &c)) && tg_now_ms() < until)
		sched_yield();
	cr_assert(got && c.result >= 0, "the request published during the poll was not taken");
	tg_vm_fini(&vm);
}
