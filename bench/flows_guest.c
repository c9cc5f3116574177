/* SPDX-License-Identifier: MIT */
/*
 * --flows in the guest: flow i on vCPU i (flows.c).  The library picks each
 * vCPU's own queue (guest-lib: queue = vCPU index), and the vmm gives every
 * queue its own worker by default, so the flows share no queue, no worker and
 * no lock on the request path (hostnet/README.md, "Locks on the request path").
 * vCPU 0 runs flow 0 itself; the others serve smp_run_on() (the workloads are
 * GUEST_PROGRAM_SMP programs).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <kernel.h>

#include "platform.h"

#define ONLINE_TIMEOUT_NS (5 * NSEC_PER_SEC)

int plat_run_flows(unsigned n, int (*fn)(void *), void (*abandon)(void *), void *arg,
		   size_t stride)
{
	unsigned cpus = smp_nr_cpus();
	if (n > cpus) {
		printf("--flows %u needs %u vCPUs, one per flow: run the vmm with -c %u "
		       "(this VM has %u)\n", n, n, n, cpus);
		return -1;
	}
	unsigned online = smp_wait_online(ONLINE_TIMEOUT_NS);
	if (online < n) {
		printf("--flows %u: only %u of the VM's vCPUs came online\n", n, online);
		return -1;
	}
	unsigned started = 1;
	int err = 0;
	for (; started < n; started++) {
		err = smp_run_on(started, fn, (char *)arg + started * stride);
		if (err)
			break;
	}
	for (unsigned i = started; i < n; i++)
		abandon((char *)arg + i * stride);
	if (err)
		abandon(arg);
	else
		fn(arg); /* flow 0, here on vCPU 0; statuses are in the flows' records */
	for (unsigned i = 1; i < started; i++)
		smp_wait(i, NULL);
	if (err) {
		printf("--flows %u: cannot run flow %u on vCPU %u (%s)\n", n, started, started,
		       strerror(-err));
		return -1;
	}
	return 0;
}

/* vCPUs no flow uses stop costing a host CPU (they would poll for work). */
void plat_flows_begin(unsigned n)
{
	for (unsigned cpu = n; cpu < smp_nr_cpus(); cpu++)
		smp_park(cpu);
}
