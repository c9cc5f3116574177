/* SPDX-License-Identifier: MIT */
/* <sys/uio.h>: struct iovec, for sendmsg()/recvmsg() (readv/writev are not provided). */
#ifndef _SYS_UIO_H
#define _SYS_UIO_H

#include <stddef.h>

struct iovec {
	void *iov_base;
	size_t iov_len;
};

#endif
