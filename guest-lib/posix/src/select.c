/* SPDX-License-Identifier: MIT */
/*
 * select() over poll(): one pollfd per descriptor named in any of the sets, the sets
 * rewritten from the revents.  As on Linux, a descriptor in error or hung up counts as
 * readable (and as writable if asked), and one that is not open fails the call (EBADF).
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

#include "posix.h"

struct select_sets {
	fd_set *rd, *wr, *ex;
};

static bool in(const fd_set *set, int fd)
{
	return set && FD_ISSET(fd, set);
}

/* The pollfds for the descriptors below nfds; returns how many. */
static nfds_t to_pollfds(int nfds, const struct select_sets *s, struct pollfd *p)
{
	nfds_t n = 0;

	for (int fd = 0; fd < nfds; fd++) {
		short events = (short)((in(s->rd, fd) ? POLLIN : 0) | (in(s->wr, fd) ? POLLOUT : 0) |
				       (in(s->ex, fd) ? POLLPRI : 0));
		if (!events)
			continue;
		p[n].fd = fd;
		p[n].events = events;
		p[n].revents = 0;
		n++;
	}
	return n;
}

/* Clear the sets, then set what poll reported; -EBADF if any descriptor was bad. */
static int from_pollfds(const struct pollfd *p, nfds_t n, const struct select_sets *s)
{
	int count = 0;
	fd_set *sets[3] = { s->rd, s->wr, s->ex };
	bool asked[3];

	for (nfds_t i = 0; i < n; i++)
		if (p[i].revents & POLLNVAL)
			return -EBADF;
	for (nfds_t i = 0; i < n; i++) {
		short r = p[i].revents, failed = r & (POLLERR | POLLHUP);

		for (int k = 0; k < 3; k++)
			asked[k] = in(sets[k], p[i].fd);
		for (int k = 0; k < 3; k++)
			if (sets[k])
				FD_CLR(p[i].fd, sets[k]);
		if (asked[0] && (r & POLLIN || failed)) {
			FD_SET(p[i].fd, s->rd);
			count++;
		}
		if (asked[1] && (r & POLLOUT || r & POLLERR)) {
			FD_SET(p[i].fd, s->wr);
			count++;
		}
		if (asked[2] && r & POLLPRI) {
			FD_SET(p[i].fd, s->ex);
			count++;
		}
	}
	return count;
}

static int timeout_ms(const struct timeval *tv)
{
	if (!tv)
		return -1;
	uint64_t ms = (uint64_t)tv->tv_sec * 1000 + ((uint64_t)tv->tv_usec + 999) / 1000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* Linux leaves the time not slept in *tv (programs that loop on one timeval rely on it). */
static void time_left(struct timeval *tv, const struct timespec *t0, const struct timespec *t1)
{
	int64_t left = ((int64_t)tv->tv_sec * 1000000 + tv->tv_usec) -
		       ((int64_t)(t1->tv_sec - t0->tv_sec) * 1000000 +
			(t1->tv_nsec - t0->tv_nsec) / 1000);

	if (left < 0)
		left = 0;
	tv->tv_sec = left / 1000000;
	tv->tv_usec = left % 1000000;
}

int select(int nfds, fd_set *restrict readfds, fd_set *restrict writefds,
	   fd_set *restrict exceptfds, struct timeval *restrict timeout)
{
	struct select_sets s = { readfds, writefds, exceptfds };

	if (nfds < 0 || nfds > FD_SETSIZE)
		return posix_fail(-EINVAL);
	if (timeout && (timeout->tv_sec < 0 || timeout->tv_usec < 0))
		return posix_fail(-EINVAL);
	struct pollfd *p = malloc(sizeof(*p) * (size_t)(nfds ? nfds : 1));
	if (!p)
		return posix_fail(-ENOMEM);
	nfds_t n = to_pollfds(nfds, &s, p);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = poll(p, n, timeout_ms(timeout));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r >= 0)
		r = from_pollfds(p, n, &s);
	else
		r = -errno;
	free(p);
	if (r < 0)
		return posix_fail(r);
	if (timeout)
		time_left(timeout, &t0, &t1);
	return r;
}
