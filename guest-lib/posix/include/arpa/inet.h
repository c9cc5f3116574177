/* SPDX-License-Identifier: MIT */
/* <arpa/inet.h> for guest programs (libvirtsocket's POSIX layer). */
#ifndef _ARPA_INET_H
#define _ARPA_INET_H

#include <netinet/in.h>

/* 1: converted; 0: src is not an address of that family; -1, errno =
 * EAFNOSUPPORT: unknown family. */
int inet_pton(int af, const char *restrict src, void *restrict dst);
/* dst, or NULL with errno = ENOSPC (too small) / EAFNOSUPPORT. */
const char *inet_ntop(int af, const void *restrict src, char *restrict dst, socklen_t size);
in_addr_t inet_addr(const char *cp); /* INADDR_NONE if invalid */
/* Dotted quad only (no "127.1" shorthand): 1 converted, 0 invalid. */
int inet_aton(const char *cp, struct in_addr *inp);
char *inet_ntoa(struct in_addr in);  /* a static buffer */

#endif
