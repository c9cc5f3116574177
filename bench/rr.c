/* SPDX-License-Identifier: MIT */
/*
 * rr: request/response over one connection: send --size bytes, receive the
 * echo of --size bytes, repeat; one request outstanding (closed loop).
 *
 * Each round trip is timed from before the send to after the last byte of
 * the reply.  Making a fresh pattern per request and checking the reply
 * happen outside that window, so round trips per second are computed from
 * the measured round trips alone (1 / mean latency) and do not depend on
 * how fast this CPU compares buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "platform.h"

void bench_out_latency(struct bench_out *b, struct bench_lat *lat)
{
	out_u64(b, "lat_min_ns", lat->seen ? lat->min_ns : 0);
	out_u64(b, "lat_mean_ns", lat->seen ? lat->sum_ns / lat->seen : 0);
	out_u64(b, "lat_p50_ns", bench_lat_pct(lat, 500));
	out_u64(b, "lat_p90_ns", bench_lat_pct(lat, 900));
	out_u64(b, "lat_p99_ns", bench_lat_pct(lat, 990));
	out_u64(b, "lat_p999_ns", bench_lat_pct(lat, 999));
	out_u64(b, "lat_max_ns", lat->max_ns);
	out_u64(b, "lat_samples", lat->kept);
}

int bench_rr(const struct bench_opts *o)
{
	int status = BENCH_EXIT_FAIL, fd = -1;
	struct bench_lat lat;
	uint8_t *req = malloc(o->size), *rep = malloc(o->size);
	if (!req || !rep || bench_lat_init(&lat) < 0) {
		printf("rr: cannot allocate buffers for %u-byte messages\n", o->size);
		free(req);
		free(rep);
		return BENCH_EXIT_FAIL;
	}
	fd = bench_connect(o);
	if (fd < 0)
		goto out;

	struct plat_counters c0 = { 0 }, c1;
	uint64_t i = 0, measured = 0, busy_ns = 0, t_start = 0, deadline = 0;
	bench_flow_sync(o); /* --flows: all start together */
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
		if (bench_send_all(fd, req, o->size) < 0) {
			bench_perror(o, "send");
			goto out;
		}
		if (bench_recv_all(fd, rep, o->size) < 0) {
			bench_perror(o, "receive the echo");
			goto out;
		}
		uint64_t tb = plat_now_ns();
		if (o->verify && memcmp(req, rep, o->size) != 0) {
			printf("rr: reply %llu differs from its request: data corrupted\n",
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

	if (o->flow) {
		o->flow->busy_ns = busy_ns;
		o->flow->lat_p50_ns = bench_lat_pct(&lat, 500);
		o->flow->lat_p99_ns = bench_lat_pct(&lat, 990);
	}
	if (bench_flow_record(o, t_start, wall_ns, 2 * measured * o->size, measured, &c0, &c1)) {
		status = BENCH_EXIT_OK; /* flows.c prints */
		goto out;
	}
	struct bench_out b;
	out_begin(&b, o);
	out_u64(&b, "round_trips", measured);
	out_u64(&b, "bytes", 2 * measured * o->size);
	out_u64(&b, "ns", busy_ns);
	out_u64(&b, "wall_ns", wall_ns);
	out_ratio(&b, "seconds", busy_ns, 1000000000ull);
	out_ratio(&b, "rtt_per_s", measured * 1000000000ull, busy_ns);
	out_ratio(&b, "mb_per_s", 2 * measured * o->size * 1000, busy_ns);
	out_u64(&b, "verified", o->verify);
	bench_out_latency(&b, &lat);
	plat_out_counters(&b, &c0, &c1);
	out_end(&b);
	status = BENCH_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	bench_lat_free(&lat);
	free(req);
	free(rep);
	return status;
}
