/* SPDX-License-Identifier: MIT */
/*
 * <sys/epoll.h> for guest programs: epoll over the ring (libvirtsocket's
 * interest sets, virtsocket/vs_epoll.h).  Level-triggered; EPOLLET is taken
 * as level-triggered, EPOLLONESHOT works; sockets only.
 */
#ifndef _SYS_EPOLL_H
#define _SYS_EPOLL_H

#include <stdint.h>

#define EPOLLIN      0x001u
#define EPOLLPRI     0x002u
#define EPOLLOUT     0x004u
#define EPOLLERR     0x008u
#define EPOLLHUP     0x010u
#define EPOLLRDNORM  0x040u
#define EPOLLRDHUP   0x2000u
#define EPOLLONESHOT (1u << 30)
#define EPOLLET      (1u << 31)

#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3

#define EPOLL_CLOEXEC 02000000

typedef union epoll_data {
	void *ptr;
	int fd;
	uint32_t u32;
	uint64_t u64;
} epoll_data_t;

/* Packed, as Linux's on x86-64. */
struct epoll_event {
	uint32_t events;
	epoll_data_t data;
} __attribute__((packed));

int epoll_create(int size);
int epoll_create1(int flags);
int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms);

#endif
