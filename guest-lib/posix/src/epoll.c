/* SPDX-License-Identifier: MIT */
/*
 * epoll_create1 / epoll_ctl / epoll_wait / close over libvirtsocket's interest
 * sets (virtsocket/vs_epoll.h).  An epoll descriptor is an ordinary entry of
 * the descriptor table (so it never collides with a socket's number) marked
 * POSIX_FD_EPOLL, with its set's id in the flags; its handle is a placeholder
 * the host never sees.  Guest build only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "virtsocket/vs_epoll.h"
#include "virtsocket/vsock.h"
#include "posix.h"

_Static_assert(EPOLLIN == VS_EPOLLIN && EPOLLOUT == VS_EPOLLOUT && EPOLLERR == VS_EPOLLERR &&
	       EPOLLHUP == VS_EPOLLHUP && EPOLLRDHUP == VS_EPOLLRDHUP &&
	       EPOLLONESHOT == VS_EPOLLONESHOT && EPOLLET == VS_EPOLLET, "epoll bits");
_Static_assert(EPOLL_CTL_ADD == VS_EPOLL_CTL_ADD && EPOLL_CTL_DEL == VS_EPOLL_CTL_DEL &&
	       EPOLL_CTL_MOD == VS_EPOLL_CTL_MOD, "epoll ops");

#define POSIX_FD_EPOLL   0x100u   /* above VS_FD_NONBLOCK; fcntl keeps it */
#define SET_SHIFT        16
#define EPOLL_PLACEHOLDER INT32_MAX

static void *set_mem[VS_EPOLL_MAX_SETS];

/* The set behind an epoll descriptor, or -EBADF / -EINVAL (not an epoll one). */
static int set_of_fd(int epfd)
{
	int flags = vs_fd_flags(epfd);
	if (flags < 0)
		return -EBADF;
	if (!(flags & POSIX_FD_EPOLL))
		return -EINVAL;
	return (int)((unsigned)flags >> SET_SHIFT);
}

int epoll_create1(int flags)
{
	if (flags & ~EPOLL_CLOEXEC)
		return posix_fail(-EINVAL);
	int err = posix_ready();
	if (err)
		return posix_fail(err);
	void *mem = malloc(vs_epoll_bytes());
	if (!mem)
		return posix_fail(-ENOMEM);
	int id = vs_epoll_create(mem, vs_epoll_bytes());
	if (id < 0) {
		free(mem);
		return posix_fail(id);
	}
	int fd = vs_fd_open(EPOLL_PLACEHOLDER, POSIX_FD_EPOLL | (unsigned)id << SET_SHIFT);
	if (fd < 0) {
		vs_epoll_close(id);
		free(mem);
		return posix_fail(fd);
	}
	set_mem[id] = mem;
	return fd;
}

int epoll_create(int size)
{
	return size <= 0 ? posix_fail(-EINVAL) : epoll_create1(0);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	int id = set_of_fd(epfd);
	if (id < 0)
		return posix_fail(id);
	if (fd == epfd)
		return posix_fail(-EINVAL);
	struct vs_epoll_event ev = { 0 };
	if (event) {
		ev.events = event->events;
		ev.data = event->data.u64;
	}
	int r = vs_epoll_ctl(id, op, fd, op == EPOLL_CTL_DEL || event ? &ev : NULL);
	return r < 0 ? posix_fail(r) : 0;
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms)
{
	int id = set_of_fd(epfd);
	if (id < 0)
		return posix_fail(id);
	if (maxevents <= 0 || !events)
		return posix_fail(-EINVAL);
	/* In chunks through an aligned array: struct epoll_event is packed. */
	struct vs_epoll_event out[64];
	int total = 0;
	do {
		int want = maxevents - total < 64 ? maxevents - total : 64;
		int n = vs_epoll_wait(id, out, want, total ? 0 : timeout_ms);
		if (n < 0)
			return total ? total : posix_fail(n);
		for (int i = 0; i < n; i++) {
			events[total + i].events = out[i].events;
			events[total + i].data.u64 = out[i].data;
		}
		total += n;
		if (n < want)
			break;
	} while (total < maxevents);
	return total;
}

int posix_epoll_close(int fd)
{
	int id = set_of_fd(fd);
	if (id < 0)
		return id;
	int err = vs_epoll_close(id);
	free(set_mem[id]);
	set_mem[id] = NULL;
	vs_fd_release(fd);
	return err;
}
