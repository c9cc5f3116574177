/* <sys/time.h>: struct timeval and gettimeofday() (since boot: see <time.h>). */
#ifndef _SYS_TIME_H
#define _SYS_TIME_H

#include <time.h>

typedef long suseconds_t;

struct timeval {
	time_t tv_sec;
	suseconds_t tv_usec;
};

int gettimeofday(struct timeval *restrict tv, void *restrict tz);  /* tz: ignored */

#endif
