/* SPDX-License-Identifier: MIT */
/*
 * <sys/socket.h> for guest programs: POSIX sockets over libvirtsocket
 * (guest build only; the host has glibc's).  A socket descriptor is a small
 * number standing for a host socket handle (guest-lib/src/fd.c).  Calls
 * block unless the descriptor has O_NONBLOCK; errors set errno and return -1.
 * Each vCPU has its own queue: a socket may be used from any vCPU, but
 * one vCPU's calls must not run concurrently with each other (no threads
 * in the guest kernel, so they never do).
 */
#ifndef _SYS_SOCKET_H
#define _SYS_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>   /* ssize_t (guest kernel libc) */
#include <sys/uio.h>     /* struct iovec */

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
#define SOCK_NONBLOCK 04000     /* socket(), accept4(): O_NONBLOCK from the start */
#define SOCK_CLOEXEC  02000000  /* accepted; there is no exec */

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

/* sendmsg/recvmsg: the payload in msg_iov; no ancillary data (msg_controllen must be
 * 0 for sendmsg; recvmsg sets it to 0). */
struct msghdr {
	void *msg_name;
	socklen_t msg_namelen;
	struct iovec *msg_iov;
	size_t msg_iovlen;
	void *msg_control;
	size_t msg_controllen;
	int msg_flags;
};
#define MSG_TRUNC 0x20

int socket(int domain, int type, int protocol);
int connect(int fd, const struct sockaddr *addr, socklen_t len);
int bind(int fd, const struct sockaddr *addr, socklen_t len);
int listen(int fd, int backlog);
int accept(int fd, struct sockaddr *restrict addr, socklen_t *restrict len);
int accept4(int fd, struct sockaddr *restrict addr, socklen_t *restrict len, int flags);
ssize_t sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t recvmsg(int fd, struct msghdr *msg, int flags);
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

/* close() is POSIX's <unistd.h>'s; declared here too, as it always was. */
int close(int fd);

#endif
