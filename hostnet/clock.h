/* SPDX-License-Identifier: MIT */
/* hostnet's one clock: CLOCK_MONOTONIC in nanoseconds (statistics, WAIT
 * timing, the poll window, the denial log's rate limit). */
#ifndef VS_HOSTNET_CLOCK_H
#define VS_HOSTNET_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t hn_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
