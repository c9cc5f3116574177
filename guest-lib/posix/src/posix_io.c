/* SPDX-License-Identifier: MIT */
/*
 * read/write on descriptors (0-2: the console; the rest: sockets), sendmsg/recvmsg
 * over send/recv, and the O_NONBLOCK switches fcntl(F_SETFL) and ioctl(FIONBIO).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtsocket/vsock.h"
#include "posix.h"

ssize_t read(int fd, void *buf, size_t len)
{
	if (fd == STDIN_FILENO)
		return 0; /* no input device: end of file */
	if (fd == STDOUT_FILENO || fd == STDERR_FILENO)
		return posix_fail(-EBADF);
	return recv(fd, buf, len, 0);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	if (fd == STDOUT_FILENO || fd == STDERR_FILENO) {
		fwrite(buf, 1, len, stdout);
		return (ssize_t)len;
	}
	if (fd == STDIN_FILENO)
		return posix_fail(-EBADF);
	return send(fd, buf, len, 0);
}

static size_t iov_total(const struct msghdr *msg)
{
	size_t total = 0;

	for (size_t i = 0; i < msg->msg_iovlen; i++)
		total += msg->msg_iov[i].iov_len;
	return total;
}

/* Several buffers go out as one send: gathered into one (a datagram must stay one). */
ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (!msg || (msg->msg_iovlen && !msg->msg_iov))
		return posix_fail(-EFAULT);
	if (msg->msg_controllen)
		return posix_fail(-EOPNOTSUPP); /* no ancillary data */
	if (msg->msg_iovlen == 1)
		return sendto(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags,
			      msg->msg_name, msg->msg_namelen);
	size_t total = iov_total(msg), at = 0;
	char *buf = malloc(total ? total : 1);
	if (!buf)
		return posix_fail(-ENOMEM);
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		memcpy(buf + at, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
		at += msg->msg_iov[i].iov_len;
	}
	ssize_t r = sendto(fd, buf, total, flags, msg->msg_name, msg->msg_namelen);
	free(buf);
	return r;
}

/* Received into one buffer, then spread over the iovecs in order. */
ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (!msg || (msg->msg_iovlen && !msg->msg_iov))
		return posix_fail(-EFAULT);
	msg->msg_controllen = 0;
	msg->msg_flags = 0;
	if (msg->msg_iovlen == 1)
		return recvfrom(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags,
				msg->msg_name, msg->msg_name ? &msg->msg_namelen : NULL);
	size_t total = iov_total(msg), at = 0;
	char *buf = malloc(total ? total : 1);
	if (!buf)
		return posix_fail(-ENOMEM);
	ssize_t r = recvfrom(fd, buf, total, flags, msg->msg_name,
			     msg->msg_name ? &msg->msg_namelen : NULL);
	for (size_t i = 0; r > 0 && i < msg->msg_iovlen && at < (size_t)r; i++) {
		size_t n = msg->msg_iov[i].iov_len;

		if (n > (size_t)r - at)
			n = (size_t)r - at;
		memcpy(msg->msg_iov[i].iov_base, buf + at, n);
		at += n;
	}
	free(buf);
	return r;
}

static int set_nonblock(int fd, bool on)
{
	int flags = vs_fd_flags(fd);

	if (flags < 0)
		return posix_fail(flags);
	flags = on ? flags | VS_FD_NONBLOCK : flags & ~VS_FD_NONBLOCK;
	return vs_fd_set_flags(fd, (unsigned)flags) ? posix_fail(-EBADF) : 0;
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int arg, flags = vs_fd_flags(fd);

	if (flags < 0)
		return posix_fail(flags);
	va_start(ap, cmd);
	arg = cmd == F_SETFL || cmd == F_SETFD ? va_arg(ap, int) : 0;
	va_end(ap);
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (flags & VS_FD_NONBLOCK ? O_NONBLOCK : 0);
	case F_SETFL:
		return set_nonblock(fd, arg & O_NONBLOCK);
	case F_GETFD:
	case F_SETFD:
		return 0;
	default:
		return posix_fail(-EINVAL);
	}
}

int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;

	if (vs_fd_flags(fd) < 0)
		return posix_fail(-EBADF);
	if (request != FIONBIO)
		return posix_fail(-ENOTTY);
	va_start(ap, request);
	const int *on = va_arg(ap, const int *);
	va_end(ap);
	if (!on)
		return posix_fail(-EFAULT);
	return set_nonblock(fd, *on != 0);
}
