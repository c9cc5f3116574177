/* SPDX-License-Identifier: MIT */
/* <netinet/in.h> for guest programs (libvirtsocket's POSIX layer). */
#ifndef _NETINET_IN_H
#define _NETINET_IN_H

#include <stdint.h>
#include <sys/socket.h>

typedef uint16_t in_port_t;
typedef uint32_t in_addr_t;

struct in_addr {
	in_addr_t s_addr;         /* network byte order */
};

struct in6_addr {
	uint8_t s6_addr[16];
};

struct sockaddr_in {
	sa_family_t sin_family;   /* AF_INET */
	in_port_t sin_port;       /* network byte order */
	struct in_addr sin_addr;
	uint8_t sin_zero[8];
};

struct sockaddr_in6 {
	sa_family_t sin6_family;  /* AF_INET6 */
	in_port_t sin6_port;      /* network byte order */
	uint32_t sin6_flowinfo;
	struct in6_addr sin6_addr;
	uint32_t sin6_scope_id;
};

#define IPPROTO_IP   0
#define IPPROTO_TCP  6
#define IPPROTO_UDP  17
#define IPPROTO_IPV6 41

#define INADDR_ANY       ((in_addr_t)0x00000000)
#define INADDR_LOOPBACK  ((in_addr_t)0x7f000001) /* host order: htonl() it */
#define INADDR_NONE      ((in_addr_t)0xffffffff)

#define IN6ADDR_ANY_INIT      { { 0 } }
#define IN6ADDR_LOOPBACK_INIT { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } }

#define INET_ADDRSTRLEN  16
#define INET6_ADDRSTRLEN 46

static inline uint16_t htons(uint16_t v) { return __builtin_bswap16(v); }
static inline uint16_t ntohs(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t htonl(uint32_t v) { return __builtin_bswap32(v); }
static inline uint32_t ntohl(uint32_t v) { return __builtin_bswap32(v); }

#endif
