/* SPDX-License-Identifier: MIT */
/*
 * The peer's address, parsed once from the HOST word of a command line:
 *
 *   a.b.c.d        IPv4 (TCP)
 *   vsock:CID      AF_VSOCK stream to context CID (2 = the host, seen from a
 *                  VM; 1 = local loopback); native builds only
 *   vsock:any      AF_VSOCK, any CID (a listening peer's bind address)
 *
 * Used by the workloads (bench_connect) and by bench-peer (its --bind).
 */
#ifndef BENCH_ADDR_H
#define BENCH_ADDR_H

#include <stdint.h>
#include <sys/socket.h>

struct bench_addr {
	int family;              /* AF_INET or AF_VSOCK */
	socklen_t len;           /* bytes of u in use */
	union {
		struct sockaddr sa;
		unsigned char raw[32]; /* sockaddr_in (16) or sockaddr_vm (16) */
	} u;
};

/* 0, or -EINVAL (not an address this accepts) or -EAFNOSUPPORT (vsock in a
 * build without it: the guest). */
int bench_addr_parse(const char *host, uint16_t port, struct bench_addr *a);
/* The port in a (e.g. after getsockname() into a->u). */
uint16_t bench_addr_port(const struct bench_addr *a);

/* The AF_VSOCK half, per build: addr_vsock.c natively, platform_guest.c
 * (which says -EAFNOSUPPORT) in the guest.  cid UINT32_MAX = any. */
int bench_addr_vsock(uint32_t cid, uint16_t port, struct bench_addr *a);
uint16_t bench_addr_vsock_port(const struct bench_addr *a);

#endif /* BENCH_ADDR_H */
