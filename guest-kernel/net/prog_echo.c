/* SPDX-License-Identifier: MIT */
/*
 * echo-client: send messages of mixed sizes to an echo server and check that
 * every byte comes back unchanged.
 * echo-server: listen on 127.0.0.1 (the host's loopback) and echo whatever
 * arrives, to many clients at once (poll()).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <kernel/program.h>

#include "netprog.h"

#define ECHO_MAX_MESSAGE  (64u * 1024u)
#define ECHO_DEFAULT_COUNT 10000u
#define ECHO_POOL_OFFSETS  65536u   /* messages start at varying offsets in the pool */

static const char echo_client_usage[] =
	"[--max-size BYTES] [--window N] HOST PORT [COUNT]\n"
	"  COUNT messages (default 10000) of 1 B .. BYTES (default and at most 64 KiB),\n"
	"  sizes log-uniform from a fixed seed; each is echoed back and compared.\n"
	"  --window N: up to N messages (and 128 KiB) sent ahead of the echoes being\n"
	"  read (default 1: strict request/response).";

#define ECHO_MAX_WINDOW       256u
#define ECHO_WINDOW_BYTES     (128u * 1024u) /* well below what the socket buffers
						 and an echo peer hold, so sending
						 ahead never deadlocks */

/* Message i's size: 1 and the maximum first (the edges), then log-uniform
 * (a power-of-two class, then uniform inside it), so most messages are small
 * and a few are large, as in real traffic.  Called in order of i with the
 * same starting *rng, it gives the same sequence. */
static size_t message_size(uint64_t i, uint64_t *rng, size_t max)
{
	if (i == 0)
		return 1;
	if (i == 1)
		return max;
	uint64_t r = net_rand_next(rng);
	unsigned top_bit = 0;
	while (((size_t)2 << top_bit) <= max)
		top_bit++;
	size_t class_max = (size_t)1 << (r % (top_bit + 1));
	size_t n = 1 + (size_t)((r >> 8) % class_max);
	return n < max ? n : max;
}

/* Message i's bytes: a slice of the pattern pool at an offset that moves on. */
static const uint8_t *message_data(const uint8_t *pool, uint64_t i)
{
	return pool + (i * 4099) % ECHO_POOL_OFFSETS;
}

static int echo_client_main(int argc, char **argv)
{
	const char *prog = argv[0];
	uint64_t max_size = ECHO_MAX_MESSAGE, count = ECHO_DEFAULT_COUNT, window = 1;
	int a = 1;

	while (a + 1 < argc && argv[a][0] == '-') {
		if (!strcmp(argv[a], "--max-size")) {
			if (!net_parse_size(argv[a + 1], &max_size) || max_size < 1 ||
			    max_size > ECHO_MAX_MESSAGE)
				return net_usage(prog, echo_client_usage);
		} else if (!strcmp(argv[a], "--window")) {
			if (!net_parse_size(argv[a + 1], &window) || window < 1 ||
			    window > ECHO_MAX_WINDOW)
				return net_usage(prog, echo_client_usage);
		} else {
			return net_usage(prog, echo_client_usage);
		}
		a += 2;
	}
	if (argc - a < 2 || argc - a > 3)
		return net_usage(prog, echo_client_usage);
	if (argc - a == 3 && (!net_parse_size(argv[a + 2], &count) || count == 0))
		return net_usage(prog, echo_client_usage);

	size_t pool_bytes = ECHO_POOL_OFFSETS + max_size;
	uint8_t *pool = malloc(pool_bytes);
	uint8_t *back = malloc(max_size);
	if (!pool || !back) {
		printf("%s: out of memory for %zu-byte buffers\n", prog, pool_bytes);
		return NET_EXIT_FAIL;
	}
	net_pattern_fill(pool, pool_bytes, 0, NET_PATTERN_SEED);

	int fd = net_connect_tcp(prog, argv[a], argv[a + 1]);
	if (fd < 0)
		return NET_EXIT_FAIL;

	/* The sender runs up to `window` messages ahead of the receiver; both
	 * walk the same size sequence with their own copy of the generator. */
	const uint64_t seed = UINT64_C(0x243f6a8885a308d3);
	uint64_t send_rng = seed, recv_rng = seed, sent = 0, total = 0, t0 = net_now_ms();
	size_t ahead_bytes = 0, next_len = message_size(0, &send_rng, max_size);
	char what[64];
	for (uint64_t i = 0; i < count; i++) {
		while (sent < count && sent - i < window &&
		       (sent == i || ahead_bytes + next_len <= ECHO_WINDOW_BYTES)) {
			if (net_send_all(fd, message_data(pool, sent), next_len) < 0) {
				snprintf(what, sizeof(what), "send of message %lu (%zu bytes)", sent,
					 next_len);
				net_perror(prog, what);
				return NET_EXIT_FAIL;
			}
			ahead_bytes += next_len;
			if (++sent < count)
				next_len = message_size(sent, &send_rng, max_size);
		}

		size_t len = message_size(i, &recv_rng, max_size);
		const uint8_t *msg = message_data(pool, i);
		ssize_t got = net_recv_full(fd, back, len);
		if (got < 0) {
			snprintf(what, sizeof(what), "recv of message %lu (%zu bytes)", i, len);
			net_perror(prog, what);
			return NET_EXIT_FAIL;
		}
		if ((size_t)got != len) {
			printf("%s: message %lu: the server closed after %zd of %zu bytes\n", prog,
			       i, got, len);
			return NET_EXIT_FAIL;
		}
		if (memcmp(msg, back, len)) {
			size_t j = 0;
			while (msg[j] == back[j])
				j++;
			printf("%s: message %lu (%zu bytes): byte %zu differs: sent 0x%02x, "
			       "got 0x%02x\n", prog, i, len, j, msg[j], back[j]);
			return NET_EXIT_FAIL;
		}
		ahead_bytes -= len;
		total += len;
	}
	uint64_t ms = net_now_ms() - t0;
	if (close(fd) < 0) {
		net_perror(prog, "close");
		return NET_EXIT_FAIL;
	}
	printf("%s: %lu messages, %lu bytes, all byte-exact (%lu ms)\n", prog, count, total, ms);
	return 0;
}
GUEST_PROGRAM("echo-client", echo_client_main,
	      "[--max-size BYTES] [--window N] HOST PORT [COUNT]",
	      "send COUNT mixed-size messages to an echo server, check each echo");

/* ---- echo-server ---------------------------------------------------------- */

#define ECHO_SERVER_CLIENTS 63u   /* + the listener = poll()'s 64 */
#define ECHO_SERVER_BUF     (64u * 1024u)

static const char echo_server_usage[] =
	"PORT [MAX_CONNECTIONS]\n"
	"  echo on 127.0.0.1:PORT (0: any free port) to up to 63 clients at once;\n"
	"  exit 0 after MAX_CONNECTIONS connections closed (default: run forever).";

static int echo_server_main(int argc, char **argv)
{
	const char *prog = argv[0];
	uint16_t port;
	uint64_t max_conns = 0, closed = 0, bytes = 0;

	if (argc < 2 || argc > 3 || !net_parse_port(argv[1], true, &port))
		return net_usage(prog, echo_server_usage);
	if (argc == 3 && (!net_parse_size(argv[2], &max_conns) || max_conns == 0))
		return net_usage(prog, echo_server_usage);

	uint8_t *buf = malloc(ECHO_SERVER_BUF);
	if (!buf) {
		printf("%s: out of memory\n", prog);
		return NET_EXIT_FAIL;
	}
	int lfd = net_listen_tcp(prog, port, 64);
	if (lfd < 0)
		return NET_EXIT_FAIL;

	struct pollfd fds[1 + ECHO_SERVER_CLIENTS];
	unsigned nclients = 0;
	while (max_conns == 0 || closed < max_conns) {
		/* fds[0] is the listener while there is room; clients follow. */
		fds[0].fd = nclients < ECHO_SERVER_CLIENTS ? lfd : -1;
		fds[0].events = POLLIN;
		for (unsigned i = 0; i <= nclients; i++)
			fds[i].revents = 0;
		int n = poll(fds[0].fd < 0 ? fds + 1 : fds,
			     fds[0].fd < 0 ? nclients : nclients + 1, -1);
		if (n < 0) {
			net_perror(prog, "poll");
			return NET_EXIT_FAIL;
		}
		for (unsigned i = 1; i <= nclients; i++) {
			if (!fds[i].revents)
				continue;
			ssize_t got = recv(fds[i].fd, buf, ECHO_SERVER_BUF, 0);
			bool done = got <= 0;
			if (got > 0 && net_send_all(fds[i].fd, buf, (size_t)got) < 0)
				done = true;
			if (got > 0)
				bytes += (size_t)got;
			if (done) {
				close(fds[i].fd);
				fds[i] = fds[nclients--];
				i--;
				closed++;
			}
		}
		if (fds[0].fd >= 0 && (fds[0].revents & POLLIN)) {
			int cfd = accept(lfd, NULL, NULL);
			if (cfd < 0) {
				net_perror(prog, "accept");
				return NET_EXIT_FAIL;
			}
			nclients++;
			fds[nclients].fd = cfd;
			fds[nclients].events = POLLIN;
		}
	}
	close(lfd);
	printf("%s: %lu connections, %lu bytes echoed\n", prog, closed, bytes);
	return 0;
}
GUEST_PROGRAM("echo-server", echo_server_main, "PORT [MAX_CONNECTIONS]",
	      "echo TCP on 127.0.0.1:PORT, exit after MAX_CONNECTIONS closed");
