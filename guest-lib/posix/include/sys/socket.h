/* SPDX-License-Identifier: MIT */
/*
 * <sys/socket.h> for guest programs: POSIX sockets over libvirtsocket
 * (guest build only; the host has glibc's).  A socket descriptor is the
 * host's socket handle.  Calls block; errors set errno and return -1.
 * Each vCPU has its own queue: a socket may be used from any vCPU, but
 * one vCPU's calls must not run concurrently with each other (no threads
 * in the guest kernel, so they never do).
 */
#ifndef _SYS_SOCKET_H
#define _SYS_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>   /* ssize_t (guest kernel libc) */

typedef uint32_t socklen_t;
typedef uint16_t sa_family_t;

struct sockaddr {
	sa_family_t sa_family;
	char sa_data[14];
};

struct sockaddr_storage {
	sa_family_t ss_family;
	char __ss_pad[128 - sizeof(sa_family_t) - sizeof(uint64_t)];
	uint64_t __ss_align;
};

#define AF_UNSPEC  0
#define AF_INET    2
#define AF_INET6   10
#define PF_UNSPEC  AF_UNSPEC
#define PF_INET    AF_INET
#define PF_INET6   AF_INET6

#define SOCK_STREAM 1
#define SOCK_DGRAM  2

#define SOL_SOCKET   1
#define SO_REUSEADDR 2
#define SO_ERROR     4
#define SO_SNDBUF    7
#define SO_RCVBUF    8

#define SOMAXCONN 4096

#define SHUT_RD   0
#define SHUT_WR   1
#define SHUT_RDWR 2

#define MSG_PEEK     0x02
#define MSG_DONTWAIT 0x40
#define MSG_WAITALL  0x100
#define MSG_NOSIGNAL 0x4000

int socket(int domain, int type, int protocol);
int connect(int fd, const struct sockaddr *addr, socklen_t len);
int bind(int fd, const struct sockaddr *addr, socklen_t len);
int listen(int fd, int backlog);
int accept(int fd, struct sockaddr *restrict addr, socklen_t *restrict len);
ssize_t send(int fd, const void *buf, size_t len, int flags);
ssize_t recv(int fd, void *buf, size_t len, int flags);
ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *to, socklen_t tolen);
ssize_t recvfrom(int fd, void *restrict buf, size_t len, int flags,
		 struct sockaddr *restrict from, socklen_t *restrict fromlen);
int shutdown(int fd, int how);
int setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len);
int getsockname(int fd, struct sockaddr *restrict addr, socklen_t *restrict len);
int getpeername(int fd, struct sockaddr *restrict addr, socklen_t *restrict len);

/* POSIX has close() in <unistd.h>, which the guest kernel does not have:
 * sockets are the guest's only descriptors, so it is declared here. */
int close(int fd);

#endif
