/* SPDX-License-Identifier: MIT */
/* Waking a worker: every worker sleeps in epoll_wait on its own eventfd
 * (among its sockets); a write to that eventfd ends the sleep. */
#ifndef VS_HOSTNET_KICK_H
#define VS_HOSTNET_KICK_H

#include <stdint.h>
#include <unistd.h>

static inline void hn_kick(int evfd)
{
	uint64_t one = 1;
	/* Can only fail if the counter is about to overflow: it is awake then. */
	ssize_t n = write(evfd, &one, sizeof(one));
	(void)n;
}

#endif
