/* SPDX-License-Identifier: MIT */
/* <sys/ioctl.h> for guest programs: FIONBIO (set/clear O_NONBLOCK) and FIONREAD are the
 * requests on sockets; FIONREAD and anything else: -1, errno ENOTTY. */
#ifndef _SYS_IOCTL_H
#define _SYS_IOCTL_H

#define FIONREAD 0x541B
#define FIONBIO  0x5421

int ioctl(int fd, unsigned long request, ...);

#endif
