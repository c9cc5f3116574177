/* SPDX-License-Identifier: MIT */
/* The HOST word of a command line -> a socket address (addr.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"

#define VSOCK_PREFIX "vsock:"

/* "any" or a decimal CID below UINT32_MAX; -1 if malformed. */
static int parse_cid(const char *s, uint32_t *cid)
{
	if (!strcmp(s, "any")) {
		*cid = UINT32_MAX;
		return 0;
	}
	uint64_t v = 0;
	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX)
			return -1;
	}
	*cid = (uint32_t)v;
	return 0;
}

int bench_addr_parse(const char *host, uint16_t port, struct bench_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!strncmp(host, VSOCK_PREFIX, strlen(VSOCK_PREFIX))) {
		uint32_t cid;
		if (parse_cid(host + strlen(VSOCK_PREFIX), &cid) < 0)
			return -EINVAL;
		return bench_addr_vsock(cid, port, a);
	}
	struct sockaddr_in in;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &in.sin_addr) != 1)
		return -EINVAL;
	a->family = AF_INET;
	a->len = sizeof(in);
	memcpy(a->u.raw, &in, sizeof(in));
	return 0;
}

uint16_t bench_addr_port(const struct bench_addr *a)
{
	if (a->family != AF_INET)
		return bench_addr_vsock_port(a);
	struct sockaddr_in in;
	memcpy(&in, a->u.raw, sizeof(in));
	return ntohs(in.sin_port);
}
