/* SPDX-License-Identifier: MIT */
/* --flows natively: one thread per flow (flows.c), the same workload code as
 * the guest's flows on their vCPUs. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "platform.h"

struct flow_thread {
	pthread_t t;
	int (*fn)(void *);
	void *arg;
};

static void *thread_main(void *p)
{
	struct flow_thread *ft = p;
	ft->fn(ft->arg); /* the status is in the flow's record */
	return NULL;
}

int plat_run_flows(unsigned n, int (*fn)(void *), void (*abandon)(void *), void *arg,
		   size_t stride)
{
	struct flow_thread ft[BENCH_MAX_FLOWS];
	unsigned started = 0;
	int err = 0;
	for (; started < n && started < BENCH_MAX_FLOWS; started++) {
		ft[started] = (struct flow_thread){ .fn = fn, .arg = (char *)arg + started * stride };
		err = pthread_create(&ft[started].t, NULL, thread_main, &ft[started]);
		if (err)
			break;
	}
	/* Flows that never started must not hold the others at the start line. */
	for (unsigned i = started; i < n; i++)
		abandon((char *)arg + i * stride);
	for (unsigned i = 0; i < started; i++)
		pthread_join(ft[i].t, NULL);
	if (err) {
		printf("native-bench: cannot start flow %u: %s\n", started, strerror(err));
		return -1;
	}
	return 0;
}

void plat_flows_begin(unsigned n)
{
	(void)n;
}
