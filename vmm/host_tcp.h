/* SPDX-License-Identifier: MIT */
/* What Linux lets one autotuned TCP socket queue on this host (host_tcp.c). */
#ifndef VMM_HOST_TCP_H
#define VMM_HOST_TCP_H

#include <stdint.h>

/* net.ipv4.tcp_wmem's maximum + tcp_rmem's (the third numbers), in bytes:
 * hostnet's sock_autotune_bytes.  0 if either cannot be read (then no guest
 * socket keeps autotuning).  dir: "/proc/sys/net/ipv4" (tests pass another). */
uint64_t host_tcp_autotune_bytes(const char *dir);

#endif
