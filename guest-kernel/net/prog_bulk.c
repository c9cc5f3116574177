/* SPDX-License-Identifier: MIT */
/*
 * source / sink: one-way bulk TCP transfer, each side hashing every byte
 * (SHA-256) so the other end can check the data with sha256sum.
 *   source HOST PORT BYTES      connect, send BYTES of the pattern (netprog.h)
 *   source --listen PORT BYTES  the same to the first client on 127.0.0.1:PORT
 *   sink HOST PORT              connect, receive until EOF
 *   sink --listen PORT          the same from the first client
 * Both end with the line "PROG: bytes=N sha256=HEX ms=T MiB/s=R".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <kernel/program.h>

#include "netprog.h"
#include "sha256.h"

#define BULK_DEFAULT_CHUNK (256u * 1024u)
#define BULK_MAX_CHUNK     (16u * 1024u * 1024u)  /* VS_MAX_IO_BYTES */

static const char source_usage[] =
	"[--chunk BYTES] [--no-hash] (HOST PORT | --listen PORT) BYTES\n"
	"  send BYTES (K/M/G suffixes) of a deterministic pattern in sends of --chunk\n"
	"  bytes (default 256K), then close; prints bytes=N sha256=HEX (none with\n"
	"  --no-hash).";
static const char sink_usage[] =
	"[--chunk BYTES] [--no-hash] (HOST PORT | --listen PORT)\n"
	"  receive until the peer closes, in receives of --chunk bytes (default 256K);\n"
	"  prints bytes=N sha256=HEX (none with --no-hash).";

struct bulk_args {
	uint64_t chunk;
	bool hash;
	bool listen;
	const char *host;
	const char *port;
	uint16_t listen_port;
	int next;           /* first argument after the address */
};

static bool parse_bulk_args(int argc, char **argv, struct bulk_args *b)
{
	int a = 1;
	b->chunk = BULK_DEFAULT_CHUNK;
	b->hash = true;
	b->listen = false;
	for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; a++) {
		if (!strcmp(argv[a], "--no-hash")) {
			b->hash = false;
		} else if (!strcmp(argv[a], "--chunk") && a + 1 < argc) {
			if (!net_parse_size(argv[++a], &b->chunk) || b->chunk == 0 ||
			    b->chunk > BULK_MAX_CHUNK)
				return false;
		} else if (!strcmp(argv[a], "--listen") && a + 1 < argc) {
			if (!net_parse_port(argv[++a], true, &b->listen_port))
				return false;
			b->listen = true;
			a++;
			break;
		} else {
			return false;
		}
	}
	if (!b->listen) {
		if (a + 1 >= argc)
			return false;
		b->host = argv[a];
		b->port = argv[a + 1];
		a += 2;
	}
	b->next = a;
	return true;
}

/* The data connection: connected, or the first client of a listener. */
static int bulk_connection(const char *prog, const struct bulk_args *b)
{
	if (!b->listen)
		return net_connect_tcp(prog, b->host, b->port);
	int lfd = net_listen_tcp(prog, b->listen_port, 1);
	if (lfd < 0)
		return -1;
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		net_perror(prog, "accept");
	close(lfd);
	return fd;
}

static void bulk_report(const char *prog, uint64_t bytes, struct sha256 *sha, bool hash,
			uint64_t ms)
{
	char hex[SHA256_HEX_BYTES] = "none";
	if (hash)
		sha256_final_hex(sha, hex);
	printf("%s: bytes=%lu sha256=%s ms=%lu MiB/s=%lu\n", prog, bytes, hex, ms,
	       net_mib_per_s(bytes, ms));
}

static int source_main(int argc, char **argv)
{
	const char *prog = argv[0];
	struct bulk_args b;
	uint64_t total;

	if (!parse_bulk_args(argc, argv, &b) || argc - b.next != 1 ||
	    !net_parse_size(argv[b.next], &total))
		return net_usage(prog, source_usage);
	uint8_t *buf = malloc(b.chunk);
	if (!buf) {
		printf("%s: out of memory for a %lu-byte chunk\n", prog, b.chunk);
		return NET_EXIT_FAIL;
	}
	int fd = bulk_connection(prog, &b);
	if (fd < 0)
		return NET_EXIT_FAIL;

	struct sha256 sha;
	sha256_init(&sha);
	uint64_t sent = 0, t0 = net_now_ms();
	while (sent < total) {
		size_t n = total - sent < b.chunk ? (size_t)(total - sent) : (size_t)b.chunk;
		net_pattern_fill(buf, n, sent, NET_PATTERN_SEED);
		if (b.hash)
			sha256_update(&sha, buf, n);
		if (net_send_all(fd, buf, n) < 0) {
			char what[64];
			snprintf(what, sizeof(what), "send after %lu bytes", sent);
			net_perror(prog, what);
			return NET_EXIT_FAIL;
		}
		sent += n;
	}
	/* FIN, then wait for the peer's close: the data has then left the host
	 * socket for sure, and the time covers the whole transfer. */
	if (shutdown(fd, SHUT_WR) < 0) {
		net_perror(prog, "shutdown");
		return NET_EXIT_FAIL;
	}
	while (recv(fd, buf, b.chunk, 0) > 0)
		;
	uint64_t ms = net_now_ms() - t0;
	close(fd);
	bulk_report(prog, sent, &sha, b.hash, ms);
	return 0;
}
GUEST_PROGRAM("source", source_main, "[--chunk B] [--no-hash] (HOST PORT|--listen PORT) BYTES",
	      "send BYTES of a pattern over TCP, print its SHA-256");

static int sink_main(int argc, char **argv)
{
	const char *prog = argv[0];
	struct bulk_args b;

	if (!parse_bulk_args(argc, argv, &b) || argc != b.next)
		return net_usage(prog, sink_usage);
	uint8_t *buf = malloc(b.chunk);
	if (!buf) {
		printf("%s: out of memory for a %lu-byte chunk\n", prog, b.chunk);
		return NET_EXIT_FAIL;
	}
	int fd = bulk_connection(prog, &b);
	if (fd < 0)
		return NET_EXIT_FAIL;

	struct sha256 sha;
	sha256_init(&sha);
	uint64_t got = 0, t0 = net_now_ms();
	for (;;) {
		ssize_t n = recv(fd, buf, b.chunk, 0);
		if (n < 0) {
			char what[64];
			snprintf(what, sizeof(what), "recv after %lu bytes", got);
			net_perror(prog, what);
			return NET_EXIT_FAIL;
		}
		if (n == 0)
			break;
		if (b.hash)
			sha256_update(&sha, buf, (size_t)n);
		got += (uint64_t)n;
	}
	uint64_t ms = net_now_ms() - t0;
	close(fd);
	bulk_report(prog, got, &sha, b.hash, ms);
	return 0;
}
GUEST_PROGRAM("sink", sink_main, "[--chunk B] [--no-hash] (HOST PORT|--listen PORT)",
	      "receive over TCP until EOF, print the byte count and SHA-256");
