/* SPDX-License-Identifier: MIT */
/*
 * --flows N: the workload N times at once, one flow per vCPU (guest: flow i on
 * vCPU i, hence on queue i and its own host worker) or per thread (native),
 * started together, and one RESULT line for all of them:
 *
 *   aggregate  bytes (and ops) of every flow over the span from the earliest
 *              start to the latest end: what the flows moved together;
 *   per_flow   each flow's own rate and, in the guest, its queue's requests
 *              and doorbells (exits) in its window.
 *
 * Plain C11 atomics for the start line: the same code in both builds.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "platform.h"

struct bench_flows {
	unsigned n;
	atomic_uint arrived;       /* flows at the start line (or failed before it) */
	struct bench_flow flow[BENCH_MAX_FLOWS];
	struct bench_opts opts[BENCH_MAX_FLOWS];
};

static void arrive(struct bench_flow *f)
{
	if (f->arrived)
		return;
	f->arrived = true;
	atomic_fetch_add_explicit(&f->group->arrived, 1, memory_order_acq_rel);
}

void bench_flow_sync(const struct bench_opts *o)
{
	struct bench_flow *f = o->flow;
	if (!f)
		return;
	arrive(f);
	while (atomic_load_explicit(&f->group->arrived, memory_order_acquire) < f->group->n)
		__builtin_ia32_pause();
}

bool bench_flow_record(const struct bench_opts *o, uint64_t t0, uint64_t ns, uint64_t bytes,
		       uint64_t ops, const struct plat_counters *c0,
		       const struct plat_counters *c1)
{
	struct bench_flow *f = o->flow;
	if (!f)
		return false;
	f->t0 = t0;
	f->ns = ns;
	f->bytes = bytes;
	f->ops = ops;
	if (c0->valid && c1->valid) {
		f->requests = c1->requests - c0->requests;
		f->doorbells = c1->doorbells - c0->doorbells;
		f->counted = true;
	}
	f->recorded = true;
	return true;
}

static void flow_abandon(void *arg)
{
	struct bench_opts *o = arg;
	arrive(o->flow);
}

static int flow_main(void *arg)
{
	struct bench_opts *o = arg;
	int status = bench_run(o);
	/* A flow that failed before the start line must not hold the others. */
	arrive(o->flow);
	o->flow->status = status;
	return status;
}

static void out_flow(struct bench_out *b, const struct bench_opts *o, const struct bench_flow *f)
{
	out_obj_begin(b, NULL);
	out_u64(b, "flow", f->index);
	out_u64(b, "bytes", f->bytes);
	out_u64(b, o->kind == BENCH_RR ? "round_trips" : "messages", f->ops);
	out_u64(b, "ns", f->ns);
	out_ratio(b, "mb_per_s", f->bytes * 1000, f->ns);
	if (o->kind == BENCH_RR) {
		out_ratio(b, "rtt_per_s", f->ops * 1000000000ull, f->busy_ns);
		out_u64(b, "lat_p50_ns", f->lat_p50_ns);
		out_u64(b, "lat_p99_ns", f->lat_p99_ns);
	}
	if (f->counted) {
		out_u64(b, "requests", f->requests);
		out_u64(b, "doorbells", f->doorbells);
		out_ratio(b, "doorbells_per_request", f->doorbells, f->requests);
	}
	out_obj_end(b);
}

int bench_flows(const struct bench_opts *o)
{
	struct bench_flows *g = calloc(1, sizeof(*g));
	if (!g) {
		printf("%s: cannot allocate the flows' state\n", o->name);
		return BENCH_EXIT_FAIL;
	}
	g->n = o->flows;
	atomic_init(&g->arrived, 0);
	for (unsigned i = 0; i < g->n; i++) {
		g->opts[i] = *o;
		g->opts[i].flow = &g->flow[i];
		g->flow[i] = (struct bench_flow){ .index = i, .status = BENCH_EXIT_FAIL, .group = g };
	}
	int status = BENCH_EXIT_FAIL;
	if (plat_run_flows(g->n, flow_main, flow_abandon, g->opts, sizeof(g->opts[0])) < 0)
		goto out;

	uint64_t bytes = 0, ops = 0, start = UINT64_MAX, end = 0, requests = 0, doorbells = 0;
	uint64_t rtt_rate_sum = 0; /* rr: sum of each flow's round trips/s (x1000) */
	for (unsigned i = 0; i < g->n; i++) {
		const struct bench_flow *f = &g->flow[i];
		if (f->status != BENCH_EXIT_OK || !f->recorded) {
			printf("%s: flow %u failed (status %d)\n", o->name, i, f->status);
			status = f->status != BENCH_EXIT_OK ? f->status : BENCH_EXIT_FAIL;
			goto out;
		}
		bytes += f->bytes;
		ops += f->ops;
		requests += f->requests;
		doorbells += f->doorbells;
		if (f->t0 < start)
			start = f->t0;
		if (f->t0 + f->ns > end)
			end = f->t0 + f->ns;
		if (f->busy_ns)
			rtt_rate_sum += f->ops * 1000000000ull * 1000 / f->busy_ns;
	}
	uint64_t span = end - start;

	struct bench_out b;
	out_begin(&b, o);
	out_u64(&b, "flows", g->n);
	out_u64(&b, "conns", o->conns);
	out_u64(&b, "bytes", bytes);
	out_u64(&b, o->kind == BENCH_RR ? "round_trips" : "messages", ops);
	out_u64(&b, "ns", span);
	out_ratio(&b, "seconds", span, 1000000000ull);
	/* decimal megabytes: bytes / ns * 1000, every flow together */
	out_ratio(&b, "mb_per_s", bytes * 1000, span);
	if (o->kind == BENCH_RR) {
		out_ratio(&b, "rtt_per_s", rtt_rate_sum, 1000); /* the flows' rates added */
		out_u64(&b, "verified", o->verify); /* every flow compared every reply */
	}
	else
		out_ratio(&b, "msgs_per_s", ops * 1000000000ull, span);
	if (g->flow[0].counted) {
		out_u64(&b, "requests", requests);
		out_u64(&b, "doorbells", doorbells);
		out_ratio(&b, "doorbells_per_request", doorbells, requests);
	}
	out_arr_begin(&b, "per_flow");
	for (unsigned i = 0; i < g->n; i++)
		out_flow(&b, o, &g->flow[i]);
	out_arr_end(&b);
	out_end(&b);
	status = BENCH_EXIT_OK;
out:
	free(g);
	return status;
}
