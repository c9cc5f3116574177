/* SPDX-License-Identifier: MIT */
/*
 * crr: connect, send --size bytes, receive their echo, close; repeat.
 * Measures the connection rate (and the latency of the whole exchange),
 * where the per-connection requests (socket, connect, close) dominate.
 * The peer is an echo server that closes when we do.
 *
 * In the guest, one connection's requests go to the host as one chain of
 * linked requests (crr_chain.c): one hand-over and one wait per connection,
 * not one round trip per call.  Natively (and where a chain cannot carry the
 * message), plain socket calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "platform.h"

/* One connection with plain calls: 0, or -1 after saying why. */
static int exchange_plain(const struct bench_opts *o, const void *req, void *rep)
{
	int fd = bench_connect(o);
	if (fd < 0)
		return -1;
	if (bench_send_all(fd, req, o->size) < 0) {
		bench_perror(o, "send");
		close(fd);
		return -1;
	}
	if (bench_recv_all(fd, rep, o->size) < 0) {
		bench_perror(o, "receive the echo");
		close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		bench_perror(o, "close");
		return -1;
	}
	return 0;
}

static int exchange(const struct bench_opts *o, const void *req, void *rep)
{
#ifdef VS_GUEST
	int r = crr_chain_exchange(o, req, rep);
	if (r != CRR_CHAIN_UNFIT)
		return r;
#endif
	return exchange_plain(o, req, rep);
}

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
		if (exchange(o, req, rep) < 0)
			goto out;
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
