/* SPDX-License-Identifier: MIT */
/*
 * <netdb.h> for guest programs.  getaddrinfo() knows numeric addresses (IPv4, IPv6),
 * "localhost" (127.0.0.1, then ::1) and numeric services; the guest has no resolver, so
 * any other name fails with EAI_NONAME and a service name with EAI_SERVICE.
 */
#ifndef _NETDB_H
#define _NETDB_H

#include <sys/socket.h>
#include <netinet/in.h>

struct addrinfo {
	int ai_flags;
	int ai_family;
	int ai_socktype;
	int ai_protocol;
	socklen_t ai_addrlen;
	struct sockaddr *ai_addr;
	char *ai_canonname;
	struct addrinfo *ai_next;
};

#define AI_PASSIVE     0x0001  /* node NULL: the wildcard address, else loopback */
#define AI_CANONNAME   0x0002
#define AI_NUMERICHOST 0x0004
#define AI_V4MAPPED    0x0008
#define AI_ALL         0x0010
#define AI_ADDRCONFIG  0x0020
#define AI_NUMERICSERV 0x0400

#define EAI_BADFLAGS -1
#define EAI_NONAME   -2
#define EAI_AGAIN    -3
#define EAI_FAIL     -4
#define EAI_FAMILY   -6
#define EAI_SOCKTYPE -7
#define EAI_SERVICE  -8
#define EAI_MEMORY   -10
#define EAI_SYSTEM   -11

int getaddrinfo(const char *restrict node, const char *restrict service,
		const struct addrinfo *restrict hints, struct addrinfo **restrict res);
void freeaddrinfo(struct addrinfo *res);
const char *gai_strerror(int err);

#endif
