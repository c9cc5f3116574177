/* SPDX-License-Identifier: MIT */
/* struct vs_sockaddr (the ABI's one address form) <-> struct sockaddr. */
#ifndef VS_HOSTNET_SOCKADDR_H
#define VS_HOSTNET_SOCKADDR_H

#include <sys/socket.h>
#include "virtsocket/abi.h"

/* Decode a guest address.  -EAFNOSUPPORT: family is not VS_AF_INET/INET6;
 * -EINVAL: a byte the family does not use is not zero (reserved, IPv4's
 * flowinfo/scope_id/addr[4..15]). */
int hn_sockaddr_from_vs(const struct vs_sockaddr *in, struct sockaddr_storage *out,
			socklen_t *out_len);

/* Encode a host address for the guest; anything but IPv4/IPv6 (or len too
 * short for its family) gives an all-zero address (family 0). */
void hn_sockaddr_to_vs(const struct sockaddr_storage *in, socklen_t len,
		       struct vs_sockaddr *out);

#endif
