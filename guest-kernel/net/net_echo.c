/* SPDX-License-Identifier: MIT */
/*
 * net-echo: a TCP or UDP echo client over the POSIX socket calls
 * (libvirtsocket underneath).  Sends COUNT messages of SIZE bytes to
 * HOST:PORT, checks every byte that comes back, and prints the library's
 * doorbell statistics.
 *
 * -b (TCP): batched: all COUNT sends go out through the asynchronous API
 * (vs_prep_send + vs_submit each, one vs_wait at the end) before the echo
 * is read back, so the scheduler can batch them; the send phase's own
 * request and doorbell counts are printed ("send-phase: ...").  Keep
 * COUNT * SIZE within the socket buffers (a few hundred KiB).
 *
 * Exit (netprog.h's conventions): 0 ok, NET_EXIT_FAIL (1) could not connect,
 * send/receive failed or the echo differed (the line printed says which),
 * NET_EXIT_USAGE (2) bad arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <kernel/program.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <virtsocket/vsock.h>

#include "netprog.h"

#define NET_ECHO_MAX_SIZE (1u << 20)

static int usage(void)
{
	printf("usage: net-echo [-u | -b] HOST PORT [COUNT [SIZE]]  (-u: UDP; -b: batched "
	       "asynchronous sends; HOST: IPv4 or IPv6 literal; SIZE <= %u)\n",
	       NET_ECHO_MAX_SIZE);
	return NET_EXIT_USAGE;
}

/* HOST:PORT into a sockaddr; 0 if HOST is no address literal. */
static socklen_t parse_addr(const char *host, unsigned port, struct sockaddr_in6 *sa6)
{
	struct sockaddr_in *sa4 = (struct sockaddr_in *)sa6;
	memset(sa6, 0, sizeof(*sa6));
	if (inet_pton(AF_INET, host, &sa4->sin_addr) == 1) {
		sa4->sin_family = AF_INET;
		sa4->sin_port = htons((uint16_t)port);
		return sizeof(*sa4);
	}
	if (inet_pton(AF_INET6, host, &sa6->sin6_addr) == 1) {
		sa6->sin6_family = AF_INET6;
		sa6->sin6_port = htons((uint16_t)port);
		return sizeof(*sa6);
	}
	return 0;
}

static int recv_exactly(int fd, uint8_t *buf, size_t n, bool datagram)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r <= 0) {
			printf("net-echo: recv after %zu of %zu bytes: %s\n", got, n,
			       r == 0 ? "end of stream" : strerror(errno));
			return -1;
		}
		got += (size_t)r;
		if (datagram)
			break;
	}
	if (got != n) {
		printf("net-echo: datagram of %zu bytes came back as %zu\n", n, got);
		return -1;
	}
	return 0;
}

static void fill(uint8_t *p, unsigned long size, unsigned long i)
{
	for (unsigned long j = 0; j < size; j++)
		p[j] = (uint8_t)(i * 31 + j);
}

/* -b: COUNT asynchronous sends, then read the whole echo back. */
static int batched(int fd, unsigned long count, unsigned long size)
{
	uint8_t *out = malloc(count * size), *in = malloc(count * size);
	if (!out || !in) {
		printf("net-echo: no memory for 2 x %lu bytes\n", count * size);
		return NET_EXIT_FAIL;
	}
	for (unsigned long i = 0; i < count; i++)
		fill(out + i * size, size, i);

	struct vs_stats before, after;
	struct vs_completion c[16];
	unsigned long done = 0;
	vs_get_stats(&before);
	for (unsigned long i = 0; i < count; i++) {
		int r;
		while ((r = vs_prep_send(fd, out + i * size, size, 0, i)) == -EBUSY) {
			/* the request table is full: collect some completions */
			int n = vs_wait(1, -1);
			if (n < 0) {
				printf("net-echo: vs_wait: %s\n", strerror(-n));
				return NET_EXIT_FAIL;
			}
			for (int k = vs_reap(c, 16), j = 0; j < k; j++, done++)
				if (c[j].result != (int32_t)size) {
					printf("net-echo: send #%llu: %d\n",
					       (unsigned long long)c[j].user_data, c[j].result);
					return NET_EXIT_FAIL;
				}
		}
		if (r < 0 || (r = vs_submit()) < 0) {
			printf("net-echo: send #%lu: %s\n", i, strerror(-r));
			return NET_EXIT_FAIL;
		}
	}
	while (done < count) {
		int n = vs_wait(1, -1);
		if (n < 0) {
			printf("net-echo: vs_wait: %s\n", strerror(-n));
			return NET_EXIT_FAIL;
		}
		for (int k = vs_reap(c, 16), j = 0; j < k; j++, done++)
			if (c[j].result != (int32_t)size) {
				printf("net-echo: send #%llu: %d\n",
				       (unsigned long long)c[j].user_data, c[j].result);
				return NET_EXIT_FAIL;
			}
	}
	vs_get_stats(&after);
	printf("net-echo: send-phase: requests %llu submit-doorbells %llu doorbells %llu\n",
	       (unsigned long long)(after.requests - before.requests),
	       (unsigned long long)(after.doorbells_submit - before.doorbells_submit),
	       (unsigned long long)(after.doorbells - before.doorbells));
	if (recv_exactly(fd, in, count * size, false) < 0)
		return NET_EXIT_FAIL;
	if (memcmp(in, out, count * size) != 0) {
		printf("net-echo: batched echo differs\n");
		return NET_EXIT_FAIL;
	}
	free(out);
	free(in);
	return 0;
}

static int net_echo_main(int argc, char **argv)
{
	bool udp = false, batch = false;
	int a = 1;
	for (; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "-u") == 0)
			udp = true;
		else if (strcmp(argv[a], "-b") == 0)
			batch = true;
		else
			return usage();
	}
	if (udp && batch)
		return usage();
	if (argc - a < 2 || argc - a > 4)
		return usage();
	const char *host = argv[a];
	unsigned long port = strtoul(argv[a + 1], NULL, 10);
	unsigned long count = argc - a > 2 ? strtoul(argv[a + 2], NULL, 10) : 10;
	unsigned long size = argc - a > 3 ? strtoul(argv[a + 3], NULL, 10) : 1000;
	struct sockaddr_in6 sa;
	socklen_t salen = parse_addr(host, (unsigned)port, &sa);
	if (!salen || port == 0 || port > 65535 || size == 0 || size > NET_ECHO_MAX_SIZE)
		return usage();

	uint8_t *out = malloc(size), *in = malloc(size);
	if (!out || !in) {
		printf("net-echo: no memory for 2 x %lu bytes\n", size);
		return NET_EXIT_FAIL;
	}
	int fd = socket(sa.sin6_family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0) {
		printf("net-echo: socket: %s\n", strerror(errno));
		return NET_EXIT_FAIL;
	}
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		printf("net-echo: connect to %s port %lu: %s\n", host, port, strerror(errno));
		return NET_EXIT_FAIL;
	}
	if (!udp) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}

	for (unsigned long i = 0; i < count && !batch; i++) {
		fill(out, size, i);
		ssize_t r = send(fd, out, size, 0);
		if (r != (ssize_t)size) {
			printf("net-echo: send #%lu: %s\n", i, r < 0 ? strerror(errno) : "short");
			return NET_EXIT_FAIL;
		}
		if (recv_exactly(fd, in, size, udp) < 0)
			return NET_EXIT_FAIL;
		if (memcmp(in, out, size) != 0) {
			printf("net-echo: echo #%lu differs\n", i);
			return NET_EXIT_FAIL;
		}
	}
	if (batch) {
		int err = batched(fd, count, size);
		if (err)
			return err;
	}
	close(fd);

	struct vs_stats st;
	vs_get_stats(&st);
	printf("net-echo: %lu x %lu bytes echoed over %s\n", count, size, udp ? "udp" : "tcp");
	printf("net-echo: requests %llu doorbells %llu (submit %llu, wait %llu, skipped %llu) "
	       "batches %llu spin-hits %llu bounce-bytes %llu\n",
	       (unsigned long long)st.requests, (unsigned long long)st.doorbells,
	       (unsigned long long)st.doorbells_submit, (unsigned long long)st.doorbells_wait,
	       (unsigned long long)st.doorbells_skipped, (unsigned long long)st.batches,
	       (unsigned long long)st.spin_hits, (unsigned long long)st.bounce_bytes);
	free(out);
	free(in);
	return 0;
}
GUEST_PROGRAM("net-echo", net_echo_main, "[-u | -b] HOST PORT [COUNT [SIZE]]",
	      "echo client over virtsocket: send, receive, compare; print doorbell stats");
