/* ticks [N] [MS]: show the TSC clock advancing, N lines MS apart. */
#include <kernel.h>
#include <stdio.h>
#include <stdlib.h>

static int ticks_main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 5;
	long ms = argc > 2 ? strtol(argv[2], NULL, 0) : 100;
	uint64_t start = now_ns(), last = start;

	if (n < 1 || n > 1000 || ms < 0 || ms > 60000) {
		printf("usage: ticks [N 1..1000] [MS 0..60000]\n");
		return VS_EXIT_USAGE;
	}
	printf("ticks: TSC %lu kHz, %ld ticks %ld ms apart\n", clock_tsc_khz(), n, ms);
	for (long i = 1; i <= n; i++) {
		uint64_t t;

		mdelay((uint64_t)ms);
		t = now_ns();
		printf("tick %ld: %lu ms elapsed (+%lu us)\n", i, (t - start) / NSEC_PER_MSEC,
		       (t - last) / NSEC_PER_USEC);
		last = t;
	}
	return 0;
}
GUEST_PROGRAM("ticks", ticks_main, "[N] [MS]",
	      "print the clock N times (5), MS ms apart (100)");
