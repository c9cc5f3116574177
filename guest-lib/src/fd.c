/* SPDX-License-Identifier: MIT */
/*
 * Descriptors: the small numbers POSIX programs expect (lowest free first, from 3;
 * 0-2 are the console's), each standing for a host socket handle.  Handles themselves
 * are large (abi.h: generation << 16 | slot, generation >= 1), too large for fd_set
 * and for loops up to "highest fd + 1", hence the table.  Every vs_*() call resolves a
 * descriptor to its handle (vs_resolve_handle), so code may mix both.
 *
 * Opening and closing take a lock (any vCPU may); a lookup is one atomic load.
 */
#include <stdatomic.h>

#include "internal.h"
#include "virtsocket/vs_epoll.h"

struct fd_slot {
	_Atomic int handle;      /* 0: free (a handle is never 0) */
	_Atomic unsigned flags;  /* VS_FD_* */
};

static struct fd_slot fds[VS_FD_MAX];
static atomic_flag fd_lock = ATOMIC_FLAG_INIT;
/* No descriptor below this is free (under the lock): opening is not a walk
 * over every open descriptor, with thousands open. */
static int lowest_free = VS_FD_FIRST;

static void lock(void)
{
	while (atomic_flag_test_and_set_explicit(&fd_lock, memory_order_acquire))
		vs_cpu_relax();
}

static void unlock(void)
{
	atomic_flag_clear_explicit(&fd_lock, memory_order_release);
}

int vs_fd_open(int handle, unsigned flags)
{
	if (handle < (int)VS_HANDLE_MIN)
		return -VS_EINVAL;
	lock();
	for (int fd = lowest_free; fd < VS_FD_MAX; fd++) {
		if (atomic_load_explicit(&fds[fd].handle, memory_order_relaxed) == 0) {
			atomic_store_explicit(&fds[fd].flags, flags, memory_order_relaxed);
			atomic_store_explicit(&fds[fd].handle, handle, memory_order_release);
			lowest_free = fd + 1;
			unlock();
			return fd;
		}
	}
	unlock();
	return -VS_EMFILE;
}

static struct fd_slot *slot_of(int fd)
{
	if (fd < VS_FD_FIRST || fd >= VS_FD_MAX)
		return NULL;
	/* acquire: pairs with vs_fd_open's release, flags are set before */
	if (atomic_load_explicit(&fds[fd].handle, memory_order_acquire) == 0)
		return NULL;
	return &fds[fd];
}

int vs_fd_handle(int fd)
{
	struct fd_slot *s = slot_of(fd);

	return s ? atomic_load_explicit(&s->handle, memory_order_relaxed) : -VS_EBADF;
}

int vs_fd_flags(int fd)
{
	struct fd_slot *s = slot_of(fd);

	return s ? (int)atomic_load_explicit(&s->flags, memory_order_relaxed) : -VS_EBADF;
}

int vs_fd_set_flags(int fd, unsigned flags)
{
	struct fd_slot *s = slot_of(fd);

	if (!s)
		return -VS_EBADF;
	atomic_store_explicit(&s->flags, flags, memory_order_relaxed);
	return 0;
}

int vs_fd_release(int fd)
{
	if (!slot_of(fd))
		return -VS_EBADF;
	vs_epoll_forget_fd(fd); /* closed: out of every interest set, as in Linux */
	vs_stream_detach(fd);   /* its read-ahead and sends end with the socket */
	lock();
	atomic_store_explicit(&fds[fd].handle, 0, memory_order_release);
	if (fd < lowest_free)
		lowest_free = fd;
	unlock();
	return 0;
}

int vs_fd_close(int fd)
{
	int handle = vs_fd_handle(fd);
	if (handle < 0)
		return handle;
	/* Non-blocking sends the host has not done yet go out before the CLOSE (it
	 * would cut off what a full socket buffer holds back). */
	int err = vs_stream_flush(fd);
	vs_fd_release(fd);
	int r = vs_close(handle);
	return r ? r : err;
}

int vs_resolve_handle(int s)
{
	if (s == VS_CHAIN_SOCKET)
		return s; /* the host's VS_HANDLE_CHAIN, once cast */
	if (s < 0)
		return -VS_EBADF;
	int handle = s < (int)VS_HANDLE_MIN ? vs_fd_handle(s) : s;
	/* Not a descriptor either: passed on as it is, and the host answers -EBADF (so a
	 * request's other arguments are checked first, as for any unknown handle). */
	return handle < 0 ? s : handle;
}
