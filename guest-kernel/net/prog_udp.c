/* SPDX-License-Identifier: MIT */
/*
 * udp-echo: datagrams of mixed sizes to a UDP echo peer, one at a time, each
 * reply compared byte-exact (and checked to come from the peer's address).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <kernel/program.h>

#include "netprog.h"

#define UDP_DEFAULT_COUNT 1000u
#define UDP_DEFAULT_MAX   1400u     /* fits a 1500-byte MTU, as real traffic would */
#define UDP_MAX           65507u    /* the largest IPv4 UDP payload */
#define UDP_REPLY_TIMEOUT_MS 5000

static const char udp_echo_usage[] =
	"[--max-size BYTES] HOST PORT [COUNT]\n"
	"  COUNT datagrams (default 1000) of 1 .. BYTES (default 1400, at most 65507)\n"
	"  bytes to a UDP echo peer; each reply must match and arrive within 5 s.";

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
}

static int udp_echo_main(int argc, char **argv)
{
	const char *prog = argv[0];
	uint64_t max_size = UDP_DEFAULT_MAX, count = UDP_DEFAULT_COUNT;
	struct sockaddr_storage peer, from;
	socklen_t peer_len, from_len;
	uint16_t port;
	char what[96];
	int a = 1;

	if (a + 1 < argc && !strcmp(argv[a], "--max-size")) {
		if (!net_parse_size(argv[a + 1], &max_size) || max_size < 1 ||
		    max_size > UDP_MAX)
			return net_usage(prog, udp_echo_usage);
		a += 2;
	}
	if (argc - a < 2 || argc - a > 3 || !net_parse_port(argv[a + 1], false, &port) ||
	    !net_parse_ip(argv[a], port, &peer, &peer_len))
		return net_usage(prog, udp_echo_usage);
	if (argc - a == 3 && (!net_parse_size(argv[a + 2], &count) || count == 0))
		return net_usage(prog, udp_echo_usage);

	uint8_t *msg = malloc(max_size), *back = malloc(max_size + 1);
	if (!msg || !back) {
		printf("%s: out of memory\n", prog);
		return NET_EXIT_FAIL;
	}
	int fd = socket(peer.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		net_perror(prog, "socket");
		return NET_EXIT_FAIL;
	}

	uint64_t rng = UINT64_C(0x13198a2e03707344), total = 0, t0 = net_now_ms();
	for (uint64_t i = 0; i < count; i++) {
		/* 1 and the maximum first, then uniform sizes. */
		size_t len = i == 0 ? 1 : i == 1 ? max_size
				  : 1 + (size_t)(net_rand_next(&rng) % max_size);
		net_pattern_fill(msg, len, i * 65536, NET_PATTERN_SEED);
		if (sendto(fd, msg, len, 0, (struct sockaddr *)&peer, peer_len) != (ssize_t)len) {
			snprintf(what, sizeof(what), "sendto, datagram %lu (%zu bytes)", i, len);
			net_perror(prog, what);
			return NET_EXIT_FAIL;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, UDP_REPLY_TIMEOUT_MS);
		if (r <= 0) {
			if (r == 0)
				printf("%s: no reply to datagram %lu (%zu bytes) within %d ms\n",
				       prog, i, len, UDP_REPLY_TIMEOUT_MS);
			else
				net_perror(prog, "poll");
			return NET_EXIT_FAIL;
		}
		from_len = sizeof(from);
		ssize_t got = recvfrom(fd, back, max_size + 1, 0, (struct sockaddr *)&from,
				       &from_len);
		if (got < 0) {
			snprintf(what, sizeof(what), "recvfrom, datagram %lu", i);
			net_perror(prog, what);
			return NET_EXIT_FAIL;
		}
		if (!same_addr(&from, &peer)) {
			char s[64];
			printf("%s: datagram %lu: reply from %s, not the peer\n", prog, i,
			       net_addr_str((struct sockaddr *)&from, s, sizeof(s)));
			return NET_EXIT_FAIL;
		}
		if ((size_t)got != len || memcmp(msg, back, len)) {
			printf("%s: datagram %lu: sent %zu bytes, the reply (%zd bytes) differs\n",
			       prog, i, len, got);
			return NET_EXIT_FAIL;
		}
		total += len;
	}
	uint64_t ms = net_now_ms() - t0;
	close(fd);
	printf("%s: %lu datagrams, %lu bytes, all byte-exact (%lu ms)\n", prog, count, total,
	       ms);
	return 0;
}
GUEST_PROGRAM("udp-echo", udp_echo_main, "[--max-size BYTES] HOST PORT [COUNT]",
	      "send COUNT datagrams to a UDP echo peer, check each reply");
