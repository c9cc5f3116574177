/* SPDX-License-Identifier: MIT */
/*
 * The workloads as guest programs (`stream`, `rr`, `crr` in guest.img):
 * the kernel's TSC clock, the boot info's transport modes in the RESULT
 * line, guest-lib's counters, and pipelined sends with the async API.
 *
 * Why pipelining: a POSIX send() in the guest waits for its completion, a
 * round trip to the host worker, while a native send() returns once the
 * kernel has buffered the data.  Keeping --depth sends in flight gives the
 * guest the same freedom, and gives batching something to batch.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kernel.h>
#include <virtsocket/vsock.h>

#include "addr.h"
#include "bench.h"
#include "platform.h"

/* AF_VSOCK does not exist in the guest: its only transport is the ring.
 * bench_connect() turns this into a clear message. */
int bench_addr_vsock(uint32_t cid, uint16_t port, struct bench_addr *a)
{
	(void)cid;
	(void)port;
	(void)a;
	return -EAFNOSUPPORT;
}

uint16_t bench_addr_vsock_port(const struct bench_addr *a)
{
	(void)a;
	return 0;
}

uint64_t plat_now_ns(void)
{
	return now_ns();
}

void plat_describe(struct bench_out *b)
{
	out_str(b, "where", "guest");
	out_str(b, "host_kind", host_kind_name(boot_info->host_kind));
	out_str(b, "doorbell", doorbell_name(boot_info->doorbell));
	out_str(b, "notify", notify_mode_name(boot_info->notify));
	out_str(b, "copy", copy_mode_name(boot_info->copy));
	out_u64(b, "batch", boot_info->batch);
	out_u64(b, "vcpus", boot_info->nr_cpus);
	out_u64(b, "tsc_khz", clock_tsc_khz());
}

void plat_counters(struct plat_counters *c)
{
	struct vs_stats s;
	memset(c, 0, sizeof(*c));
	if (!vs_ready())
		return;
	/* This vCPU's queue: a lone run uses only vCPU 0's, and each of --flows'
	 * flows is counted on its own. */
	if (vs_get_queue_stats(cpu_index(), &s) < 0)
		return;
	c->valid = true;
	c->requests = s.requests;
	c->completions = s.completions;
	c->batches = s.batches;
	c->doorbells = s.doorbells;
	c->doorbells_submit = s.doorbells_submit;
	c->doorbells_wait = s.doorbells_wait;
	c->doorbells_skipped = s.doorbells_skipped;
	c->spin_hits = s.spin_hits;
	c->spins_skipped = s.spins_skipped;
	c->spins_crowded = s.spins_crowded;
	c->waits_long = s.waits_long;
	c->batch_waits = s.batch_waits;
	c->batch_timeouts = s.batch_timeouts;
	c->sq_full_waits = s.sq_full_waits;
	c->spins_capped = s.spins_capped;
	c->spins_late = s.spins_late;
	c->bounce_bytes = s.bounce_bytes;
}

void plat_out_counters(struct bench_out *b, const struct plat_counters *x,
		       const struct plat_counters *y)
{
	if (!x->valid || !y->valid)
		return;
	out_obj_begin(b, "transport");
	out_u64(b, "requests", y->requests - x->requests);
	out_u64(b, "completions", y->completions - x->completions);
	out_u64(b, "batches", y->batches - x->batches);
	out_u64(b, "doorbells", y->doorbells - x->doorbells);
	out_u64(b, "doorbells_submit", y->doorbells_submit - x->doorbells_submit);
	out_u64(b, "doorbells_wait", y->doorbells_wait - x->doorbells_wait);
	out_u64(b, "doorbells_skipped", y->doorbells_skipped - x->doorbells_skipped);
	out_u64(b, "spin_hits", y->spin_hits - x->spin_hits);
	out_u64(b, "spins_skipped", y->spins_skipped - x->spins_skipped);
	out_u64(b, "spins_crowded", y->spins_crowded - x->spins_crowded);
	out_u64(b, "waits_long", y->waits_long - x->waits_long);
	out_u64(b, "batch_waits", y->batch_waits - x->batch_waits);
	out_u64(b, "batch_timeouts", y->batch_timeouts - x->batch_timeouts);
	out_u64(b, "sq_full_waits", y->sq_full_waits - x->sq_full_waits);
	out_u64(b, "spins_capped", y->spins_capped - x->spins_capped);
	out_u64(b, "spins_late", y->spins_late - x->spins_late);
	out_u64(b, "bounce_bytes", y->bounce_bytes - x->bounce_bytes);
	out_ratio(b, "doorbells_per_request", y->doorbells - x->doorbells,
		  y->requests - x->requests);
	out_obj_end(b);
}

/* One console line (one `rep outsb`: a single exit), then idle without exits
 * while the host reads the counters (see platform.h). */
static void window_mark(const char *edge)
{
	printf("BENCH WINDOW %s\n", edge);
	fflush(stdout);
	usleep(PLAT_WINDOW_SETTLE_US);
}

void plat_window_begin(void)
{
	window_mark("BEGIN");
}

void plat_window_end(void)
{
	window_mark("END");
}

/* ---- pipelined sends -------------------------------------------------------- *
 *
 * Up to `depth` sends are in flight (default: twice the VM's --batch, B).
 * When the pipeline is full we wait for B of them to complete and take
 * exactly B completions, so exactly B new sends are prepared: one whole
 * group.  Prepared sends are not submitted one by one: vs_wait() publishes
 * them, and a group that is the last one rides on its WAIT doorbell
 * (SUBMIT|WAIT) -- or, when the completions are already there, goes with a
 * plain SUBMIT.  So in `batch` mode B sends cost one exit, in `every` mode
 * each send costs one, and in `adaptive` mode none while the host worker
 * polls and answers within the library's spin window.
 */

/* Per vCPU (--flows runs a sender on each), a cache line each. */
static struct sender {
	unsigned depth, group;
	unsigned inflight;
	uint32_t chunk_max; /* bounce mode: one request carries at most this */
} __attribute__((aligned(64))) senders[MAX_CPUS];

static struct sender *me(void)
{
	return &senders[cpu_index()];
}

int plat_sender_init(unsigned depth)
{
	if (depth == 0) {
		depth = 2 * (boot_info->batch ? boot_info->batch : VS_DEFAULT_BATCH);
		if (depth > BENCH_MAX_DEPTH)
			depth = BENCH_MAX_DEPTH;
	}
	me()->depth = depth;
	me()->group = depth / 2 ? depth / 2 : 1;
	me()->inflight = 0;
	me()->chunk_max = boot_info->copy == VS_COPY_BOUNCE ? VS_BOUNCE_MAX_REQUEST : 0;
	return 0;
}

unsigned plat_depth(void)
{
	return me()->depth;
}

/* Wait until at least `min` sends completed (0: do not wait), then reap up
 * to `max` completions; each must be a whole send. */
static int reap(unsigned min, unsigned max, uint64_t *bytes_done)
{
	if (min) {
		int r = vs_wait(min, -1);
		if (r < 0) {
			printf("stream: waiting for %u of %u sends: %s\n", min, me()->inflight,
			       strerror(-r));
			errno = -r;
			return -1;
		}
	}
	struct vs_completion c[32];
	unsigned taken = 0;
	while (taken < max) {
		unsigned want = max - taken < 32 ? max - taken : 32;
		int n = vs_reap(c, want);
		if (n < 0) {
			printf("stream: reaping sends: %s\n", strerror(-n));
			errno = -n;
			return -1;
		}
		if (n == 0)
			break;
		taken += (unsigned)n;
		for (int i = 0; i < n; i++) {
			me()->inflight--;
			if (c[i].result < 0) {
				errno = -c[i].result;
				return -1;
			}
			if ((uint64_t)c[i].result != c[i].user_data) {
				/* a stream SEND completes whole unless it failed */
				printf("stream: a send of %llu bytes completed with %d\n",
				       (unsigned long long)c[i].user_data, c[i].result);
				errno = EIO;
				return -1;
			}
			*bytes_done += (uint64_t)c[i].result;
		}
	}
	return 0;
}

static int send_one(int fd, const uint8_t *p, uint32_t len, uint64_t *bytes_done)
{
	if (me()->inflight >= me()->depth && reap(me()->group, me()->group, bytes_done) < 0)
		return -1;
	for (;;) {
		/* user_data = the length: all a completion needs to be checked */
		int r = vs_prep_send(fd, p, len, 0, len);
		if (r == 0)
			break;
		if (r != -EBUSY || me()->inflight == 0) {
			printf("stream: preparing a send (%u in flight): %s\n", me()->inflight,
			       strerror(-r));
			errno = -r;
			return -1;
		}
		/* ring, request table or bounce area full: let some sends finish */
		if (reap(1, me()->group, bytes_done) < 0)
			return -1;
	}
	me()->inflight++;
	return 0;
}

int plat_send(int fd, const void *buf, size_t len, uint64_t *bytes_done)
{
	if (me()->depth <= 1) {
		if (bench_send_all(fd, buf, len) < 0)
			return -1;
		*bytes_done += len;
		return 0;
	}
	/* Split only where one request cannot carry the message (bounce mode),
	 * in order, so the byte stream stays what a blocking send would make. */
	const uint8_t *p = buf;
	while (len) {
		uint32_t n = len > BENCH_MAX_SIZE ? BENCH_MAX_SIZE : (uint32_t)len;
		if (me()->chunk_max && n > me()->chunk_max)
			n = me()->chunk_max;
		if (send_one(fd, p, n, bytes_done) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int plat_drain(uint64_t *bytes_done)
{
	while (me()->inflight)
		if (reap(1, me()->inflight, bytes_done) < 0)
			return -1;
	return 0;
}

/* ---- the guest programs ------------------------------------------------------- */

static int bench_main(int argc, char **argv)
{
	struct bench_opts o;
	int err = bench_parse(argc, argv, &o);
	if (err)
		return err;
	plat_flows_begin(o.flows);
	return bench_run(&o);
}

/* stream and rr may run --flows on other vCPUs: SMP programs (idle vCPUs park
 * in plat_flows_begin). */
GUEST_PROGRAM_SMP("stream", bench_main, "[--size=S --seconds=T --conns=N --depth=D --flows=N] HOST PORT",
	      "benchmark: send to a sink, print RESULT {json}");
/* GUEST_PROGRAM names its descriptor after the function: one function each. */
static int rr_main(int argc, char **argv) { return bench_main(argc, argv); }
static int crr_main(int argc, char **argv) { return bench_main(argc, argv); }
GUEST_PROGRAM_SMP("rr", rr_main, "[--size=S --seconds=T --flows=N] HOST PORT",
	      "benchmark: request/response latency against an echo peer");
GUEST_PROGRAM("crr", crr_main, "[--size=S --seconds=T] HOST PORT",
	      "benchmark: connect/request/response/close rate against an echo peer");
