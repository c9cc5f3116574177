/* SPDX-License-Identifier: MIT */
/* Helpers for the guest's network programs, see netprog.h. */
#include "netprog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/clock.h>

void net_perror(const char *prog, const char *what)
{
	int e = errno;
	printf("%s: %s: %s (%d)\n", prog, what, strerror(e), e);
}

int net_usage(const char *prog, const char *usage)
{
	printf("usage: %s %s\n", prog, usage);
	return NET_EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	if (!s || *s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	*end = s;
	return true;
}

bool net_parse_port(const char *s, bool allow_zero, uint16_t *out)
{
	uint64_t v;
	const char *end;
	if (!parse_u64(s, &v, &end) || *end || v > 65535 || (v == 0 && !allow_zero))
		return false;
	*out = (uint16_t)v;
	return true;
}

bool net_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	const char *end;
	unsigned shift = 0;
	if (!parse_u64(s, &v, &end))
		return false;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return false;
	}
	if (*end || v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

bool net_parse_ip(const char *host, uint16_t port, struct sockaddr_storage *ss,
		  socklen_t *len)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);

	memset(ss, 0, sizeof(*ss));
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return false;
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return true;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return true;
	}
	return false;
}

const char *net_addr_str(const struct sockaddr *sa, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, size, "(family %u)", sa->sa_family);
	}
	return buf;
}

int net_connect_tcp(const char *prog, const char *host, const char *port_str)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port;
	char what[96];

	if (!net_parse_port(port_str, false, &port)) {
		printf("%s: '%s' is not a port (1..65535)\n", prog, port_str);
		errno = EINVAL;
		return -1;
	}
	if (!net_parse_ip(host, port, &ss, &len)) {
		printf("%s: '%s' is not an IPv4 or IPv6 address (no name lookup here)\n",
		       prog, host);
		errno = EINVAL;
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		net_perror(prog, "socket");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;
		char addr[64];
		snprintf(what, sizeof(what), "connect to %s",
			 net_addr_str((struct sockaddr *)&ss, addr, sizeof(addr)));
		close(fd);
		errno = e;
		net_perror(prog, what);
		return -1;
	}
	return fd;
}

int net_listen_tcp(const char *prog, uint16_t port, int backlog)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1;

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		net_perror(prog, "socket");
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		net_perror(prog, "setsockopt SO_REUSEADDR");
		goto fail;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		net_perror(prog, "bind 127.0.0.1");
		goto fail;
	}
	if (listen(fd, backlog) < 0) {
		net_perror(prog, "listen");
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		net_perror(prog, "getsockname");
		goto fail;
	}
	printf("%s: listening on 127.0.0.1:%u\n", prog, ntohs(sin.sin_port));
	return fd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

ssize_t net_send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = send(fd, p + done, len - done, MSG_NOSIGNAL);
		if (n < 0)
			return -1;
		if (n == 0) { /* a stream send never makes no progress; do not spin */
			errno = EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t net_recv_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		/* MSG_WAITALL: one request for the whole rest, however the peer
		 * chunks it (a short count only at EOF or an error). */
		ssize_t n = recv(fd, p + done, len - done, MSG_WAITALL);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

uint64_t net_pattern_word(uint64_t seed, uint64_t index)
{
	uint64_t z = (seed + index + 1) * UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void net_pattern_fill(void *buf, size_t len, uint64_t offset, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t word = offset >> 3;

	/* Leading bytes up to an 8-byte stream boundary. */
	if (offset & 7) {
		uint64_t v = net_pattern_word(seed, word++);
		for (unsigned b = offset & 7; b < 8 && len; b++, len--)
			*p++ = (uint8_t)(v >> (8 * b));
	}
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v = net_pattern_word(seed, word++);
		memcpy(p, &v, 8); /* x86 is little endian */
	}
	if (len) {
		uint64_t v = net_pattern_word(seed, word);
		for (unsigned b = 0; b < len; b++)
			*p++ = (uint8_t)(v >> (8 * b));
	}
}

uint64_t net_rand_next(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

uint64_t net_now_ms(void)
{
	return now_ns() / NSEC_PER_MSEC;
}

uint64_t net_mib_per_s(uint64_t bytes, uint64_t ms)
{
	return ms ? bytes * 1000 / ms >> 20 : 0;
}
