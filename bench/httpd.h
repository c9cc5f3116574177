/* SPDX-License-Identifier: MIT */
/*
 * httpd: an event-driven HTTP server over epoll, written once against POSIX
 * sockets and built twice, as the guest program `httpd` (guest.img, epoll
 * over the ring: guest-lib's vs_epoll.h) and as the host binary
 * build/native-httpd (glibc, the host kernel): the same server against the
 * same client (scripts/bench's http workload, wrk).
 *
 *   httpd [--size BYTES] [--keep-alive] PORT [TEXT [MAX_REQUESTS]]
 *
 * Serves one page to every GET (HEAD: its headers) on 127.0.0.1:PORT, any
 * number of connections at once (as many as descriptors allow).  Without
 * --keep-alive every response is HTTP/1.0 with Connection: close; with it,
 * an HTTP/1.1 request keeps its connection (no Connection: close asked) and
 * further requests on it are served in order.
 */
#ifndef BENCH_HTTPD_H
#define BENCH_HTTPD_H

#include <stdbool.h>
#include <stdint.h>

#define HTTPD_EXIT_FAIL  1
#define HTTPD_EXIT_USAGE 2

struct httpd_opts {
	uint16_t port;          /* 0: any free one */
	const char *text;       /* the page (%XX decoded, plus a newline) */
	uint64_t size;          /* --size: generated body of this many bytes */
	bool sized;
	bool keep_alive;
	uint64_t max_requests;  /* exit after this many responses (0: never) */
};

extern const char httpd_usage[];

/* 0, or HTTPD_EXIT_USAGE after printing the usage. */
int httpd_parse(const char *prog, int argc, char **argv, struct httpd_opts *o);
/* Serve; returns the exit status (0 once max_requests were served). */
int httpd_run(const char *prog, const struct httpd_opts *o);

#endif
