/* SPDX-License-Identifier: MIT */
/* What the POSIX layer's files share (posix_socket.c defines these). */
#ifndef VS_POSIX_INTERNAL_H
#define VS_POSIX_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

/* 0 once the library is bound to the transport (binds it on first use), or -errno. */
int posix_ready(void);
/* errno = -err; returns -1. */
int posix_fail(int err);
/* r >= 0: r; else errno = -r and -1. */
ssize_t posix_ret_ssize(int64_t r);
/* VS_MSG_DONTWAIT if fd has O_NONBLOCK, else 0. */
unsigned posix_nonblock_flags(int fd);

/* A descriptor's flag (beside VS_FD_*): socket(SOCK_STREAM) made it; a successful
 * connect() then marks it VS_FD_STREAM.  (epoll.c's flag is 0x100.) */
#define POSIX_FD_TCP 0x200u

/* close() of an epoll descriptor (epoll.c): 0 or -errno; -EINVAL / -EBADF
 * when fd is not one. */
int posix_epoll_close(int fd);

#endif
