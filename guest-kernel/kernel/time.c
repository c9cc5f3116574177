/* <time.h>, <sys/time.h> and the sleeps of <unistd.h> on the TSC clock (kernel/clock.c).
 * There is no wall clock: CLOCK_REALTIME is the time since boot (see <time.h>). */
#include <errno.h>
#include <kernel/clock.h>
#include <kernel/cpu.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC && clk != CLOCK_MONOTONIC_RAW &&
	    clk != CLOCK_BOOTTIME) {
		errno = EINVAL;
		return -1;
	}
	uint64_t ns = now_ns();

	ts->tv_sec = (time_t)(ns / NSEC_PER_SEC);
	ts->tv_nsec = (long)(ns % NSEC_PER_SEC);
	return 0;
}

int clock_getres(clockid_t clk, struct timespec *res)
{
	struct timespec unused;

	if (clock_gettime(clk, &unused))
		return -1;
	if (res) {
		res->tv_sec = 0;
		res->tv_nsec = 1;
	}
	return 0;
}

time_t time(time_t *t)
{
	time_t now = (time_t)(now_ns() / NSEC_PER_SEC);

	if (t)
		*t = now;
	return now;
}

clock_t clock(void)
{
	return (clock_t)(now_ns() / NSEC_PER_USEC);
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	uint64_t us = now_ns() / NSEC_PER_USEC;

	(void)tz;
	if (tv) {
		tv->tv_sec = (time_t)(us / 1000000);
		tv->tv_usec = (suseconds_t)(us % 1000000);
	}
	return 0;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (!req || req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= (long)NSEC_PER_SEC) {
		errno = EINVAL;
		return -1;
	}
	uint64_t end = now_ns() + (uint64_t)req->tv_sec * NSEC_PER_SEC + (uint64_t)req->tv_nsec;

	while (now_ns() < end)
		cpu_relax();
	if (rem)
		rem->tv_sec = rem->tv_nsec = 0;
	return 0;
}

int usleep(unsigned long usec)
{
	udelay(usec);
	return 0;
}

unsigned sleep(unsigned seconds)
{
	mdelay((uint64_t)seconds * 1000);
	return 0;
}
