/* SPDX-License-Identifier: MIT */
/*
 * One TCP_INFO look at a connection: its state, how many bytes it has
 * received and what it still owes the peer, in the kernel's own struct
 * tcp_info (<linux/tcp.h>; glibc's <netinet/tcp.h> stops before
 * tcpi_bytes_received), kept in tcpinfo.c so that the two headers never meet.
 */
#ifndef VS_HOSTNET_TCPINFO_H
#define VS_HOSTNET_TCPINFO_H

#include <stdbool.h>
#include <stdint.h>

#define HN_TCP_UNKNOWN UINT64_MAX

struct hn_tcp_look {
	int state;         /* TCP_ESTABLISHED..., as in <netinet/tcp.h> */
	uint64_t received; /* tcpi_bytes_received: payload in order, plus one
			    * for a FIN; HN_TCP_UNKNOWN from a kernel older than 4.1 */
	bool owes_nothing; /* no byte unsent (tcpi_notsent_bytes) and none sent
			    * but not acknowledged (tcpi_unacked, segments): the
			    * send queue is empty; false when the kernel (< 4.6)
			    * does not say */
};

/* fd's TCP_INFO in *out; 0, or -errno if the kernel would not say. */
int hn_tcp_info(int fd, struct hn_tcp_look *out);

#endif
