/* SPDX-License-Identifier: MIT */
/*
 * POSIX socket calls for guest programs, as thin wrappers over the blocking
 * vs_*() API: convert struct sockaddr <-> struct vs_sockaddr, turn -errno
 * into errno + -1, hand out small descriptors (src/fd.c) and honour
 * O_NONBLOCK.  Guest build only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "virtsocket/vsock.h"
#include "posix.h"

_Static_assert(sizeof(struct pollfd) == sizeof(struct vs_pollfd), "pollfd layout");
_Static_assert(__builtin_offsetof(struct pollfd, revents) ==
	       __builtin_offsetof(struct vs_pollfd, revents), "pollfd layout");
_Static_assert(POLLIN == VS_POLLIN && POLLOUT == VS_POLLOUT && POLLNVAL == VS_POLLNVAL,
	       "poll bits");

/* No platform glue linked in: there is no network. */
__attribute__((weak)) int vs_platform_init(void)
{
	return -ENETDOWN;
}

/* Guest RAM is guest-addressable: the heap feeds the library's read-ahead and
 * send buffers (vs_set_allocator). */
static void *heap_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return malloc(bytes);
}

static int ready(void)
{
	static bool allocator_given;
	if (vs_ready())
		return 0;
	int err = vs_platform_init();
	if (!err && !allocator_given) {
		vs_set_allocator(heap_alloc, NULL);
		allocator_given = true;
	}
	return err ? err : (vs_ready() ? 0 : -ENETDOWN);
}

int posix_fail(int err)
{
	errno = -err;
	return -1;
}

static int ret_int(int r)
{
	return r < 0 ? posix_fail(r) : r;
}

ssize_t posix_ret_ssize(int64_t r)
{
	return r < 0 ? posix_fail((int)r) : (ssize_t)r;
}

int posix_ready(void)
{
	return ready();
}

unsigned posix_nonblock_flags(int fd)
{
	int f = vs_fd_flags(fd);

	return f > 0 && (f & VS_FD_NONBLOCK) ? VS_MSG_DONTWAIT : 0;
}

/* A new handle's descriptor (the handle is closed again if none is free).
 * fd_flags: VS_FD_STREAM for an accepted connection, POSIX_FD_TCP for a new
 * stream socket. */
static int open_fd(int handle, int sock_flags, unsigned fd_flags)
{
	if (handle < 0)
		return posix_fail(handle);
	int fd = vs_fd_open(handle, (sock_flags & SOCK_NONBLOCK ? VS_FD_NONBLOCK : 0) | fd_flags);
	if (fd < 0) {
		vs_close(handle);
		return posix_fail(fd);
	}
	return fd;
}

/* struct sockaddr from the caller -> struct vs_sockaddr for the ring. */
static int sockaddr_in_from(const struct sockaddr *sa, socklen_t len, struct vs_sockaddr *out)
{
	if (!sa)
		return -EFAULT;
	memset(out, 0, sizeof(*out));
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		if (len < sizeof(*in))
			return -EINVAL;
		out->family = VS_AF_INET;
		out->port = in->sin_port;
		memcpy(out->addr, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (len < sizeof(*in6))
			return -EINVAL;
		out->family = VS_AF_INET6;
		out->port = in6->sin6_port;
		out->flowinfo = in6->sin6_flowinfo;
		memcpy(out->addr, &in6->sin6_addr, 16);
		out->scope_id = in6->sin6_scope_id;
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* struct vs_sockaddr from the host -> the caller's buffer, truncated to
 * *len as POSIX says, *len set to the full size. */
static void sockaddr_out_to(const struct vs_sockaddr *vs, struct sockaddr *sa, socklen_t *len)
{
	if (!sa || !len)
		return;
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t full;
	memset(&u, 0, sizeof(u));
	if (vs->family == VS_AF_INET6) {
		u.in6.sin6_family = AF_INET6;
		u.in6.sin6_port = vs->port;
		u.in6.sin6_flowinfo = vs->flowinfo;
		memcpy(&u.in6.sin6_addr, vs->addr, 16);
		u.in6.sin6_scope_id = vs->scope_id;
		full = sizeof(u.in6);
	} else if (vs->family == VS_AF_INET) {
		u.in.sin_family = AF_INET;
		u.in.sin_port = vs->port;
		memcpy(&u.in.sin_addr, vs->addr, 4);
		full = sizeof(u.in);
	} else {
		full = sizeof(sa_family_t); /* AF_UNSPEC: no address (e.g. unbound) */
	}
	memcpy(sa, &u, *len < full ? *len : full);
	*len = full;
}

int socket(int domain, int type, int protocol)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC); /* no exec: CLOEXEC is moot */
	int err = ready();
	if (err)
		return posix_fail(err);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (protocol != 0 &&
	    !(type == SOCK_STREAM && protocol == IPPROTO_TCP) &&
	    !(type == SOCK_DGRAM && protocol == IPPROTO_UDP))
		return posix_fail(-EPROTONOSUPPORT);
	return open_fd(vs_socket(domain, type), flags, type == SOCK_STREAM ? POSIX_FD_TCP : 0);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct vs_sockaddr sa;
	int err = ready();
	if (!err)
		err = sockaddr_in_from(addr, len, &sa);
	if (err)
		return posix_fail(err);
	int r = vs_connect_flags(fd, &sa, posix_nonblock_flags(fd));
	int f = vs_fd_flags(fd);
	if ((r == 0 || r == -EINPROGRESS) && f >= 0 && (f & POSIX_FD_TCP))
		vs_fd_set_flags(fd, (unsigned)f | VS_FD_STREAM); /* a connection now */
	return ret_int(r);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct vs_sockaddr sa;
	int err = ready();
	if (!err)
		err = sockaddr_in_from(addr, len, &sa);
	return err ? posix_fail(err) : ret_int(vs_bind(fd, &sa));
}

int listen(int fd, int backlog)
{
	int err = ready();
	if (err)
		return posix_fail(err);
	if (backlog > 65535)
		backlog = 65535;
	return ret_int(vs_listen(fd, backlog));
}

int accept4(int fd, struct sockaddr *restrict addr, socklen_t *restrict len, int flags)
{
	struct vs_sockaddr peer;
	int err = ready();
	if (err)
		return posix_fail(err);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return posix_fail(-EINVAL);
	int r = vs_accept_flags(fd, addr ? &peer : NULL, posix_nonblock_flags(fd));
	if (r >= 0)
		sockaddr_out_to(&peer, addr, len);
	return open_fd(r, flags, VS_FD_STREAM);
}

int accept(int fd, struct sockaddr *restrict addr, socklen_t *restrict len)
{
	return accept4(fd, addr, len, 0);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	int err = ready();
	return err ? posix_fail(err) : posix_ret_ssize(vs_send(fd, buf, len,
						   (unsigned)flags | posix_nonblock_flags(fd)));
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	int err = ready();
	return err ? posix_fail(err) : posix_ret_ssize(vs_recv(fd, buf, len,
						   (unsigned)flags | posix_nonblock_flags(fd)));
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
	       socklen_t tolen)
{
	struct vs_sockaddr sa;
	int err = ready();
	if (err)
		return posix_fail(err);
	flags |= (int)posix_nonblock_flags(fd);
	if (!to)
		return posix_ret_ssize(vs_send(fd, buf, len, (unsigned)flags));
	err = sockaddr_in_from(to, tolen, &sa);
	return err ? posix_fail(err) : posix_ret_ssize(vs_sendto(fd, buf, len, (unsigned)flags, &sa));
}

ssize_t recvfrom(int fd, void *restrict buf, size_t len, int flags,
		 struct sockaddr *restrict from, socklen_t *restrict fromlen)
{
	struct vs_sockaddr sa;
	int err = ready();
	if (err)
		return posix_fail(err);
	int64_t r = vs_recvfrom(fd, buf, len, (unsigned)flags | posix_nonblock_flags(fd),
				from ? &sa : NULL);
	if (r >= 0)
		sockaddr_out_to(&sa, from, fromlen);
	return posix_ret_ssize(r);
}

int shutdown(int fd, int how)
{
	int err = ready();
	return err ? posix_fail(err) : ret_int(vs_shutdown(fd, how));
}

int close(int fd)
{
	if (fd >= 0 && fd < VS_FD_FIRST)
		return 0; /* the console: nothing to close */
	int err = ready();
	if (err)
		return posix_fail(err);
	if (fd >= (int)VS_HANDLE_MIN)
		return ret_int(vs_close(fd)); /* a raw handle (vs_socket()): the host judges */
	int handle = vs_fd_handle(fd);
	if (handle < 0)
		return posix_fail(handle);
	int ep = posix_epoll_close(fd);
	if (ep != -EINVAL)
		return ret_int(ep);
	/* POSIX: the descriptor is gone even if the close reports an error */
	return ret_int(vs_fd_close(fd));
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int err = ready();
	if (err)
		return posix_fail(err);
	if (!val)
		return posix_fail(-EFAULT);
	if (len < sizeof(int))
		return posix_fail(-EINVAL);
	int v;
	memcpy(&v, val, sizeof(v));
	return ret_int(vs_setsockopt(fd, level, name, v));
}

int getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len)
{
	int err = ready();
	if (err)
		return posix_fail(err);
	if (!val || !len)
		return posix_fail(-EFAULT);
	int v;
	int r = vs_getsockopt(fd, level, name, &v);
	if (r < 0)
		return posix_fail(r);
	memcpy(val, &v, *len < sizeof(v) ? *len : sizeof(v));
	*len = *len < sizeof(v) ? *len : sizeof(v);
	return 0;
}

static int get_name(int fd, struct sockaddr *addr, socklen_t *len,
		    int (*fn)(int, struct vs_sockaddr *))
{
	struct vs_sockaddr sa;
	int err = ready();
	if (err)
		return posix_fail(err);
	if (!addr || !len)
		return posix_fail(-EFAULT);
	int r = fn(fd, &sa);
	if (r < 0)
		return posix_fail(r);
	sockaddr_out_to(&sa, addr, len);
	return 0;
}

int getsockname(int fd, struct sockaddr *restrict addr, socklen_t *restrict len)
{
	return get_name(fd, addr, len, vs_getsockname);
}

int getpeername(int fd, struct sockaddr *restrict addr, socklen_t *restrict len)
{
	return get_name(fd, addr, len, vs_getpeername);
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	int err = ready();
	if (err)
		return posix_fail(err);
	if (nfds > VS_POLL_MAX)
		return posix_fail(-EINVAL);
	return ret_int(vs_poll((struct vs_pollfd *)fds, (unsigned)nfds, timeout_ms));
}
