/*
 * smp: every vCPU reports in on its own line; the boot CPU waits (with a timeout) for
 * all of them, checks that they really ran at the same time (a shared atomic counter)
 * and prints a summary.  Exit 0 if all nr_cpus reported, 1 if some never did.
 */
#include <kernel.h>
#include <stdatomic.h>
#include <stdio.h>

#define ONLINE_TIMEOUT_NS (5 * NSEC_PER_SEC)
#define REPORT_TIMEOUT_NS (5 * NSEC_PER_SEC)
#define INCREMENTS 1000

static atomic_ulong counter;

static void count(void)
{
	for (int i = 0; i < INCREMENTS; i++)
		atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
}

static int report_in(void *arg)
{
	(void)arg;
	printf("cpu %u: online\n", smp_cpu_id());
	count();
	return (int)smp_cpu_id();
}

static int smp_main(int argc, char **argv)
{
	unsigned n = smp_nr_cpus(), online, reported = 1;
	uint64_t start = now_ns(), deadline;

	(void)argc;
	(void)argv;
	printf("cpu 0: online (boot cpu), waiting for %u more\n", n - 1);
	online = smp_wait_online(ONLINE_TIMEOUT_NS);
	for (unsigned cpu = 1; cpu < n; cpu++)
		smp_run_on(cpu, report_in, NULL); /* queued even if not online yet */
	count();
	deadline = now_ns() + REPORT_TIMEOUT_NS;
	for (unsigned cpu = 1; cpu < n; cpu++) {
		uint64_t now = now_ns();
		int who = -1;
		int err = smp_wait_timeout(cpu, deadline > now ? deadline - now : 0, &who);

		if (err == 0 && who == (int)cpu)
			reported++;
		else
			printf("cpu %u: never reported in (%s)\n", cpu,
			       err ? "timed out" : "wrong index");
	}
	printf("smp: %u of %u vCPUs reported in (%u came online), counter %lu of %lu, "
	       "%lu ms\n", reported, n, online, atomic_load(&counter),
	       (unsigned long)reported * INCREMENTS, (now_ns() - start) / NSEC_PER_MSEC);
	return reported == n && atomic_load(&counter) == (unsigned long)n * INCREMENTS ? 0 : 1;
}
GUEST_PROGRAM_SMP("smp", smp_main, "", "every vCPU reports in; exits 1 if one never does");
