/* SPDX-License-Identifier: MIT */
/*
 * crr: connect, send --size bytes, receive their echo, close; repeat.
 * Measures the connection rate (and the latency of the whole exchange),
 * where the per-connection requests (socket, connect, close) dominate.
 * The peer is an echo server that closes when we do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "platform.h"

int bench_crr(const struct bench_opts *o)
{
	int status = BENCH_EXIT_FAIL;
	struct bench_lat lat;
	uint8_t *req = malloc(o->size), *rep = malloc(o->size);
	if (!req || !rep || bench_lat_init(&lat) < 0) {
		printf("crr: cannot allocate buffers for %u-byte messages\n", o->size);
		free(req);
		free(rep);
		return BENCH_EXIT_FAIL;
	}

	struct plat_counters c0 = { 0 }, c1;
	uint64_t i = 0, measured = 0, busy_ns = 0, t_start = 0, deadline = 0;
	bench_pattern(req, o->size, 0);
	for (;; i++) {
		if (i == o->warmup) {
			plat_window_begin();
			plat_counters(&c0);
			t_start = plat_now_ns();
			deadline = o->duration_ns ? t_start + o->duration_ns : 0;
		}
		if (o->verify)
			bench_pattern(req, o->size, i);
		uint64_t ta = plat_now_ns();
		int fd = bench_connect(o);
		if (fd < 0)
			goto out;
		if (bench_send_all(fd, req, o->size) < 0) {
			bench_perror(o, "send");
			close(fd);
			goto out;
		}
		if (bench_recv_all(fd, rep, o->size) < 0) {
			bench_perror(o, "receive the echo");
			close(fd);
			goto out;
		}
		if (close(fd) < 0) {
			bench_perror(o, "close");
			goto out;
		}
		uint64_t tb = plat_now_ns();
		if (o->verify && memcmp(req, rep, o->size) != 0) {
			printf("crr: reply %llu differs from its request: data corrupted\n",
			       (unsigned long long)i);
			goto out;
		}
		if (i < o->warmup)
			continue;
		bench_lat_add(&lat, tb - ta);
		busy_ns += tb - ta;
		measured++;
		if (o->count && measured >= o->count)
			break;
		if (deadline && tb >= deadline)
			break;
	}
	uint64_t wall_ns = plat_now_ns() - t_start;
	plat_counters(&c1);
	plat_window_end();

	struct bench_out b;
	out_begin(&b, o);
	out_u64(&b, "connections", measured);
	out_u64(&b, "bytes", 2 * measured * o->size);
	out_u64(&b, "ns", busy_ns);
	out_u64(&b, "wall_ns", wall_ns);
	out_ratio(&b, "seconds", busy_ns, 1000000000ull);
	out_ratio(&b, "conn_per_s", measured * 1000000000ull, busy_ns);
	out_u64(&b, "verified", o->verify);
	bench_out_latency(&b, &lat);
	plat_out_counters(&b, &c0, &c1);
	out_end(&b);
	status = BENCH_EXIT_OK;
out:
	bench_lat_free(&lat);
	free(req);
	free(rep);
	return status;
}
