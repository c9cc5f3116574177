/* SPDX-License-Identifier: MIT */
#include "tcpinfo.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/tcp.h>

/* Does the kernel's answer of len bytes reach the end of field? */
#define HAS_FIELD(len, field) \
	((len) >= offsetof(struct tcp_info, field) + sizeof(((struct tcp_info *)0)->field))

int hn_tcp_info(int fd, struct hn_tcp_look *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	*out = (struct hn_tcp_look){ .received = HN_TCP_UNKNOWN };
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -errno;
	if (len < 1)
		return -EPROTO;
	out->state = ti.tcpi_state;
	if (HAS_FIELD(len, tcpi_bytes_received))
		out->received = ti.tcpi_bytes_received;
	out->owes_nothing = HAS_FIELD(len, tcpi_notsent_bytes) && ti.tcpi_notsent_bytes == 0 &&
			    ti.tcpi_unacked == 0;
	return 0;
}
