/* SPDX-License-Identifier: MIT */
#include "tcpinfo.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/tcp.h>

int hn_tcp_info(int fd, uint64_t *received)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	*received = HN_TCP_UNKNOWN;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -errno;
	if (len < 1)
		return -EPROTO;
	if (len >= offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		*received = ti.tcpi_bytes_received;
	return ti.tcpi_state;
}
