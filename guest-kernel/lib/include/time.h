/*
 * <time.h> for the guest (kernel/time.c).  The guest has no wall clock: CLOCK_REALTIME,
 * time() and gettimeofday() count from the guest's boot, as if it booted at the Unix
 * epoch (1970-01-01 00:00:00).  Intervals are right; calendar dates are not, so there is
 * no struct tm, localtime or strftime (a program that uses them does not compile).
 * Sleeping busy-waits on the TSC clock.
 */
#ifndef _TIME_H
#define _TIME_H

#include <stddef.h>

typedef long time_t;
typedef long clock_t;
typedef int clockid_t;

struct timespec {
	time_t tv_sec;
	long tv_nsec;
};

#define CLOCK_REALTIME      0  /* since boot, see above */
#define CLOCK_MONOTONIC     1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_BOOTTIME      7
#define CLOCKS_PER_SEC      1000000l

time_t time(time_t *t);
clock_t clock(void);    /* time since boot (the guest runs one program) */
int clock_gettime(clockid_t clk, struct timespec *ts);  /* -1, EINVAL: other clocks */
int clock_getres(clockid_t clk, struct timespec *res);
int nanosleep(const struct timespec *req, struct timespec *rem);

#endif
