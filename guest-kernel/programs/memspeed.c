/* memspeed [KIB]: time memcpy and memset over a KIB-sized buffer (default 1024), to see
 * what a payload copy costs in this guest (on a PVM host the guest is emulated). */
#include <kernel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 8

static uint64_t mib_per_s(uint64_t bytes, uint64_t ns)
{
	return ns ? bytes * NSEC_PER_SEC / ns >> 20 : 0;
}

static int memspeed_main(int argc, char **argv)
{
	long kib = argc > 1 ? strtol(argv[1], NULL, 0) : 1024;
	size_t bytes;
	uint8_t *a, *b;
	uint64_t t0, t_set, t_cpy;

	if (kib < 1 || kib > 256 * 1024) {
		printf("usage: memspeed [KIB 1..262144]\n");
		return VS_EXIT_USAGE;
	}
	bytes = (size_t)kib << 10;
	a = malloc(bytes);
	b = malloc(bytes);
	if (!a || !b) {
		printf("memspeed: cannot allocate 2 x %ld KiB\n", kib);
		return 1;
	}
	memset(a, 1, bytes); /* first touch outside the timing */
	memset(b, 2, bytes);
	t0 = now_ns();
	for (int i = 0; i < ROUNDS; i++)
		memset(a, i, bytes);
	t_set = now_ns() - t0;
	t0 = now_ns();
	for (int i = 0; i < ROUNDS; i++)
		memcpy(b, a, bytes);
	t_cpy = now_ns() - t0;
	printf("memspeed: %ld KiB x %d: memset %lu MiB/s, memcpy %lu MiB/s\n", kib, ROUNDS,
	       mib_per_s(bytes * ROUNDS, t_set), mib_per_s(bytes * ROUNDS, t_cpy));
	free(a);
	free(b);
	return 0;
}
GUEST_PROGRAM("memspeed", memspeed_main, "[KIB]", "time memcpy/memset over KIB KiB (1024)");
