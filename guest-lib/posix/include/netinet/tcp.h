/* SPDX-License-Identifier: MIT */
/* <netinet/tcp.h> for guest programs: the one TCP option virtsocket supports. */
#ifndef _NETINET_TCP_H
#define _NETINET_TCP_H

#define TCP_NODELAY 1

#endif
