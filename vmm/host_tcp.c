/* SPDX-License-Identifier: MIT */
#include "host_tcp.h"

#include <inttypes.h>
#include <stdio.h>

/* The third number of a "min default max" file, or 0. */
static uint64_t max_of(const char *dir, const char *name)
{
	char path[256];
	uint64_t lo, def, max;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = fscanf(f, "%" SCNu64 " %" SCNu64 " %" SCNu64, &lo, &def, &max);
	fclose(f);
	return n == 3 ? max : 0;
}

uint64_t host_tcp_autotune_bytes(const char *dir)
{
	uint64_t w = max_of(dir, "tcp_wmem"), r = max_of(dir, "tcp_rmem");
	return w && r ? w + r : 0;
}
