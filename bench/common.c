/* SPDX-License-Identifier: MIT */
/* Helpers shared by the workloads: connecting, whole-buffer I/O, patterns,
 * latency samples.  Plain POSIX, so it builds for the guest and the host. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "bench.h"
#include "platform.h"

void bench_perror(const struct bench_opts *o, const char *what)
{
	printf("%s: %s: %s\n", o->name, what, strerror(errno));
}

int bench_connect(const struct bench_opts *o)
{
	struct bench_addr a;
	int err = bench_addr_parse(o->host, o->port, &a);
	if (err == -EAFNOSUPPORT) {
		printf("%s: '%s': AF_VSOCK is not available in this build (native-bench only)\n",
		       o->name, o->host);
		return -1;
	}
	if (err) {
		printf("%s: '%s' is neither an IPv4 address nor vsock:CID\n", o->name, o->host);
		return -1;
	}
	int fd = socket(a.family, SOCK_STREAM, 0);
	if (fd < 0) {
		bench_perror(o, "socket");
		return -1;
	}
	if (connect(fd, &a.u.sa, a.len) < 0) {
		int e = errno;
		printf("%s: connect to %s:%u: %s (is the peer running?)\n", o->name, o->host,
		       (unsigned)o->port, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	/* TCP only: AF_VSOCK has no Nagle to turn off. */
	if (o->nodelay && a.family == AF_INET) {
		int one = 1;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
			bench_perror(o, "setsockopt TCP_NODELAY");
			close(fd);
			return -1;
		}
	}
	return fd;
}

int bench_send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bench_recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = recv(fd, p, len, MSG_WAITALL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ECONNRESET; /* the peer closed in the middle of a reply */
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void bench_pattern(void *buf, size_t len, uint64_t seq)
{
	/* 8-byte words: the sequence number mixed with the word's position.  One
	 * store per 8 bytes keeps it cheap even for the emulated guest. */
	uint8_t *p = buf;
	uint64_t x = seq * 0x9e3779b97f4a7c15ull + 1;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = x ^ (i * 0xbf58476d1ce4e5b9ull);
		memcpy(p + i, &w, 8);
	}
	for (; i < len; i++)
		p[i] = (uint8_t)(x >> (8 * (i & 7)));
}

int bench_parse_size(const char *s, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	uint64_t v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	unsigned shift = 0;
	switch (*s) {
	case '\0': break;
	case 'k': case 'K': shift = 10; s++; break;
	case 'm': case 'M': shift = 20; s++; break;
	case 'g': case 'G': shift = 30; s++; break;
	default: return -1;
	}
	if (*s != '\0' || v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

/* ---- latency samples ------------------------------------------------------ */

int bench_lat_init(struct bench_lat *l)
{
	memset(l, 0, sizeof(*l));
	l->ns = malloc(BENCH_MAX_SAMPLES * sizeof(uint64_t));
	l->rng = 0x2545f4914f6cdd1dull;
	l->min_ns = UINT64_MAX;
	return l->ns ? 0 : -1;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

void bench_lat_add(struct bench_lat *l, uint64_t ns)
{
	l->seen++;
	l->sorted = false;
	l->sum_ns += ns;
	if (ns < l->min_ns)
		l->min_ns = ns;
	if (ns > l->max_ns)
		l->max_ns = ns;
	if (l->kept < BENCH_MAX_SAMPLES) {
		l->ns[l->kept++] = ns;
		return;
	}
	/* Algorithm R: the seen-th item replaces a random slot with
	 * probability kept/seen. */
	uint64_t j = xorshift(&l->rng) % l->seen;
	if (j < BENCH_MAX_SAMPLES)
		l->ns[j] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t bench_lat_pct(struct bench_lat *l, unsigned pct_x10)
{
	if (!l->kept)
		return 0;
	if (!l->sorted) {
		qsort(l->ns, l->kept, sizeof(uint64_t), cmp_u64);
		l->sorted = true;
	}
	/* nearest rank: ceil(p * n), 1-based */
	uint64_t rank = ((uint64_t)pct_x10 * l->kept + 999) / 1000;
	if (rank < 1)
		rank = 1;
	if (rank > l->kept)
		rank = l->kept;
	return l->ns[rank - 1];
}

void bench_lat_free(struct bench_lat *l)
{
	free(l->ns);
	l->ns = NULL;
}
