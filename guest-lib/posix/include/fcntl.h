/* SPDX-License-Identifier: MIT */
/* <fcntl.h> for guest programs: fcntl() on socket descriptors, O_NONBLOCK only. */
#ifndef _FCNTL_H
#define _FCNTL_H

#define O_RDWR     02
#define O_NONBLOCK 04000
#define O_NDELAY   O_NONBLOCK

#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define FD_CLOEXEC 1

/* F_GETFL (O_RDWR, | O_NONBLOCK), F_SETFL (O_NONBLOCK; other flags are ignored, as
 * Linux ignores the access mode), F_GETFD/F_SETFD (accepted: there is no exec);
 * any other command: -1, errno EINVAL. */
int fcntl(int fd, int cmd, ...);

#endif
