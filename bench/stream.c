/* SPDX-License-Identifier: MIT */
/*
 * stream: send messages of --size bytes to a sink over --conns connections
 * (round robin, one thread) for --seconds or --count bytes.
 *
 * The clock stops only after every connection was shut down for writing
 * and the sink answered with EOF, i.e. after it has read every byte: what
 * is measured is delivery to the peer, not filling a socket buffer.  The
 * same holds natively, so the two are comparable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench.h"
#include "platform.h"

/* Wait for the sink's EOF: it has read everything we sent. */
static int wait_eof(const struct bench_opts *o, int fd)
{
	char c[64];
	for (;;) {
		ssize_t n = recv(fd, c, sizeof(c), 0);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			bench_perror(o, "waiting for the sink to close");
			return -1;
		}
		/* a sink sends nothing; ignore stray bytes */
	}
}

int bench_stream(const struct bench_opts *o)
{
	int fds[BENCH_MAX_CONNS];
	uint32_t nfds = 0;
	int status = BENCH_EXIT_FAIL;
	uint8_t *buf = malloc(o->size);
	if (!buf) {
		printf("stream: cannot allocate %u bytes\n", o->size);
		return BENCH_EXIT_FAIL;
	}
	bench_pattern(buf, o->size, 0);
	for (; nfds < o->conns; nfds++) {
		fds[nfds] = bench_connect(o);
		if (fds[nfds] < 0)
			goto out;
	}
	if (plat_sender_init(o->depth) < 0) {
		bench_perror(o, "sender setup");
		goto out;
	}

	bench_flow_sync(o); /* --flows: all start together */

	struct plat_counters c0, c1;
	uint64_t msgs = 0, issued = 0, done = 0;
	plat_window_begin();
	plat_counters(&c0);
	uint64_t t0 = plat_now_ns(), deadline = o->duration_ns ? t0 + o->duration_ns : 0;
	for (;;) {
		if (plat_send(fds[msgs % nfds], buf, o->size, &done) < 0) {
			bench_perror(o, "send");
			goto out;
		}
		msgs++;
		issued += o->size;
		if (o->count && issued >= o->count)
			break;
		if (deadline && plat_now_ns() >= deadline)
			break;
	}
	if (plat_drain(&done) < 0) {
		bench_perror(o, "send");
		goto out;
	}
	for (uint32_t i = 0; i < nfds; i++) {
		if (shutdown(fds[i], SHUT_WR) < 0) {
			bench_perror(o, "shutdown");
			goto out;
		}
	}
	for (uint32_t i = 0; i < nfds; i++)
		if (wait_eof(o, fds[i]) < 0)
			goto out;
	uint64_t ns = plat_now_ns() - t0;
	plat_counters(&c1);
	plat_window_end();
	if (done != issued) {
		printf("stream: %llu bytes issued but %llu completed\n",
		       (unsigned long long)issued, (unsigned long long)done);
		goto out;
	}
	if (bench_flow_record(o, t0, ns, done, msgs, &c0, &c1)) {
		status = BENCH_EXIT_OK; /* flows.c prints */
		goto out;
	}

	struct bench_out b;
	out_begin(&b, o);
	out_u64(&b, "conns", nfds);
	out_u64(&b, "depth", plat_depth());
	out_u64(&b, "messages", msgs);
	out_u64(&b, "bytes", done);
	out_u64(&b, "ns", ns);
	out_ratio(&b, "seconds", ns, 1000000000ull);
	/* decimal megabytes: bytes / ns * 1000 */
	out_ratio(&b, "mb_per_s", done * 1000, ns);
	out_ratio(&b, "msgs_per_s", msgs * 1000000000ull, ns);
	plat_out_counters(&b, &c0, &c1);
	out_end(&b);
	status = BENCH_EXIT_OK;
out:
	for (uint32_t i = 0; i < nfds; i++)
		close(fds[i]);
	free(buf);
	return status;
}
