/* SPDX-License-Identifier: MIT */
/*
 * exitcost [N]: what one doorbell exit costs on this host, from the guest's
 * clock.  Rings the doorbell the VM booted with (hypercall or port I/O) N
 * times (default 2000) as "WAIT for queue 0, timeout 0 ms": the host only
 * checks the empty CQ and answers, so each ring is one VM exit, a trip
 * through the vmm and hostnet, and the re-entry, with no socket work.
 * scripts/bench uses it as the "one exit" of the rr latency target.
 *
 * Prints RESULT {"bench":"exitcost",...,"ns_per_exit":...}.
 */
#include <stdio.h>
#include <stdlib.h>

#include <kernel.h>
#include <virtsocket/vsock.h>
#include <virtsocket/vsock_x86.h>

#include "bench.h"
#include "platform.h"

static uint64_t exitcost_now(void *ctx)
{
	(void)ctx;
	return now_ns();
}

static int exitcost_main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 2000;
	if (n < 1 || n > 10000000) {
		printf("usage: exitcost [N 1..10000000]\n");
		return VS_EXIT_USAGE;
	}
	struct vs_transport t;
	int err = vs_x86_transport(&t, boot_info, exitcost_now, NULL);
	if (err) {
		printf("exitcost: this VM has no transport doorbell (%d)\n", err);
		return 1;
	}
	uint64_t a2 = VS_DB_ARG(0, VS_DB_WAIT, 0);
	/* one unmeasured ring: first-touch costs (page tables, caches) */
	int64_t r = t.doorbell(t.ctx, a2);
	if (r < 0 && r != -VS_ETIMEDOUT) {
		printf("exitcost: the doorbell answered %ld\n", (long)r);
		return 1;
	}
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++)
		t.doorbell(t.ctx, a2);
	uint64_t ns = now_ns() - t0;

	struct bench_out b;
	struct bench_opts o = { .name = "exitcost" };
	out_begin(&b, &o);
	out_u64(&b, "exits", (uint64_t)n);
	out_u64(&b, "ns", ns);
	out_u64(&b, "ns_per_exit", ns / (uint64_t)n);
	out_end(&b);
	return 0;
}
GUEST_PROGRAM("exitcost", exitcost_main, "[N]",
	      "benchmark: time N empty doorbell exits (2000), print RESULT {json}");
