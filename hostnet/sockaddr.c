/* SPDX-License-Identifier: MIT */
#include "sockaddr.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int hn_sockaddr_from_vs(const struct vs_sockaddr *in, struct sockaddr_storage *out,
			socklen_t *out_len)
{
	memset(out, 0, sizeof(*out));
	if (in->family == VS_AF_INET) {
		if (in->reserved || in->flowinfo || in->scope_id || !all_zero(in->addr + 4, 12))
			return -EINVAL;
		struct sockaddr_in *s4 = (struct sockaddr_in *)out;
		s4->sin_family = AF_INET;
		s4->sin_port = in->port; /* both network order */
		memcpy(&s4->sin_addr, in->addr, 4);
		*out_len = sizeof(*s4);
		return 0;
	}
	if (in->family == VS_AF_INET6) {
		if (in->reserved)
			return -EINVAL;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = in->port;
		s6->sin6_flowinfo = in->flowinfo;
		memcpy(&s6->sin6_addr, in->addr, 16);
		s6->sin6_scope_id = in->scope_id;
		*out_len = sizeof(*s6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

void hn_sockaddr_to_vs(const struct sockaddr_storage *in, socklen_t len,
		       struct vs_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (in->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)in;
		out->family = VS_AF_INET;
		out->port = s4->sin_port;
		memcpy(out->addr, &s4->sin_addr, 4);
	} else if (in->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)in;
		out->family = VS_AF_INET6;
		out->port = s6->sin6_port;
		out->flowinfo = s6->sin6_flowinfo;
		memcpy(out->addr, &s6->sin6_addr, 16);
		out->scope_id = s6->sin6_scope_id;
	}
}
