/* SPDX-License-Identifier: MIT */
/* <sys/select.h> for guest programs: select() over poll() (descriptors < FD_SETSIZE). */
#ifndef _SYS_SELECT_H
#define _SYS_SELECT_H

#include <sys/time.h>

#define FD_SETSIZE 1024

typedef struct {
	unsigned long fds_bits[FD_SETSIZE / (8 * sizeof(unsigned long))];
} fd_set;

#define __FD_WORD(fd) ((fd) / (8 * (int)sizeof(unsigned long)))
#define __FD_BIT(fd)  (1ul << ((fd) % (8 * (int)sizeof(unsigned long))))
#define FD_ZERO(set)  __builtin_memset((set), 0, sizeof(fd_set))
#define FD_SET(fd, set)   ((void)((set)->fds_bits[__FD_WORD(fd)] |= __FD_BIT(fd)))
#define FD_CLR(fd, set)   ((void)((set)->fds_bits[__FD_WORD(fd)] &= ~__FD_BIT(fd)))
#define FD_ISSET(fd, set) (((set)->fds_bits[__FD_WORD(fd)] & __FD_BIT(fd)) != 0)

/* nfds <= FD_SETSIZE; timeout NULL: wait forever.  Counts the bits left set. */
int select(int nfds, fd_set *restrict readfds, fd_set *restrict writefds,
	   fd_set *restrict exceptfds, struct timeval *restrict timeout);

#endif
