/* SPDX-License-Identifier: MIT */
/*
 * One TCP_INFO look at a connection: its state and how many bytes it has
 * received, in the kernel's own struct tcp_info (<linux/tcp.h>; glibc's
 * <netinet/tcp.h> stops before tcpi_bytes_received), kept in tcpinfo.c so
 * that the two headers never meet.
 */
#ifndef VS_HOSTNET_TCPINFO_H
#define VS_HOSTNET_TCPINFO_H

#include <stdint.h>

#define HN_TCP_UNKNOWN UINT64_MAX

/* fd's TCP state (TCP_ESTABLISHED..., as in <netinet/tcp.h>), or -errno if
 * the kernel would not say.  *received: tcpi_bytes_received (payload in order,
 * plus one for a FIN), HN_TCP_UNKNOWN from a kernel older than 4.1. */
int hn_tcp_info(int fd, uint64_t *received);

#endif
