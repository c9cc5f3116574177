/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: hostnet's request path as a hostile guest drives it.
 * The fuzzer's bytes become the queue's starting indices, the contents of
 * (a small) guest RAM, a batch of submission entries, a forged sq_tail and
 * cq_head, and extra doorbell arguments.  hostnet runs for real (its worker
 * thread, real non-blocking sockets) but can reach nothing: the egress policy
 * allows only 127.0.0.1 port 1 (nobody listens there) and binds to loopback.
 *
 * Input layout (missing bytes read as zero):
 *   u32 start index   u32 sq_tail delta (forged if > entries)   u32 cq_head delta
 *   u64 doorbell a2   u8  count of SQEs   [count * 64 bytes of SQEs]
 *   rest: copied to guest RAM at GPA 4096 (buffers and sockaddrs to point at)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "hostnet.h"

#define FUZZ_RAM_BYTES (1u << 20)
#define FUZZ_RING_GPA  (1ull << 32)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
	const uint8_t *p;
	size_t left;
};

static void take(struct reader *r, void *out, size_t n)
{
	size_t k = n < r->left ? n : r->left;
	memset(out, 0, n);
	memcpy(out, r->p, k);
	r->p += k;
	r->left -= k;
}

static uint8_t *ram, *ring;

static void setup(void)
{
	ram = mmap(NULL, FUZZ_RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ring = mmap(NULL, VS_QUEUE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		    -1, 0);
	if (ram == MAP_FAILED || ring == MAP_FAILED)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ram)
		setup();
	struct reader rd = { data, size };
	uint32_t start, tail_delta, cq_delta;
	uint64_t a2;
	uint8_t count;
	take(&rd, &start, 4);
	take(&rd, &tail_delta, 4);
	take(&rd, &cq_delta, 4);
	take(&rd, &a2, 8);
	take(&rd, &count, 1);

	struct vs_queue *q = (struct vs_queue *)ring;
	memset(&q->ctrl, 0, sizeof(q->ctrl));
	memset(q->cq, 0, sizeof(q->cq));
	q->ctrl.sq_head = q->ctrl.sq_tail = q->ctrl.cq_head = q->ctrl.cq_tail = start;
	uint32_t n = count;
	for (uint32_t i = 0; i < n; i++)
		take(&rd, &q->sq[(start + i) & (VS_SQ_ENTRIES - 1)], sizeof(struct vs_sqe));
	memset(ram, 0, 4096 + 64 * 1024);
	take(&rd, ram + 4096, rd.left < 64 * 1024 ? rd.left : 64 * 1024);

	struct hostnet_config cfg = {
		.ram = ram, .ram_bytes = FUZZ_RAM_BYTES,
		.ring = ring, .ring_gpa = FUZZ_RING_GPA, .ring_bytes = VS_QUEUE_BYTES,
		.nr_queues = 1, .workers = 1, .poll_us = 0,
		.copy = (start & 0x80000000u) ? VS_COPY_BOUNCE : VS_COPY_ZERO,
		.max_sockets = 16,
	};
	char msg[128];
	if (hostnet_policy_add(&cfg.policy, "127.0.0.1:1", msg, sizeof(msg)))
		abort();
	struct hostnet *hn;
	if (hostnet_create(&cfg, &hn))
		abort();

	/* Publish: the real count, or a forged tail when the fuzzer says so. */
	uint32_t tail = start + (tail_delta > n ? tail_delta : n);
	__atomic_store_n(&q->ctrl.sq_tail, tail, __ATOMIC_RELEASE);
	hostnet_doorbell(hn, FUZZ_RING_GPA, VS_QUEUE_BYTES / 4096,
			 VS_DB_ARG(0, VS_DB_SUBMIT, 0));
	/* Reap what comes within a few ms (parked requests never complete). */
	uint32_t head = start;
	for (int i = 0; i < 4; i++) {
		int64_t r = hostnet_doorbell(hn, FUZZ_RING_GPA, VS_QUEUE_BYTES / 4096,
					     VS_DB_ARG(0, VS_DB_WAIT, 1));
		if (r < 0 && r != -ETIMEDOUT)
			break;
		head = __atomic_load_n(&q->ctrl.cq_tail, __ATOMIC_ACQUIRE);
		/* A guest may also lie about what it reaped. */
		__atomic_store_n(&q->ctrl.cq_head, i == 1 ? head + cq_delta : head,
				 __ATOMIC_RELEASE);
		if (i >= 1 && head - start >= n)
			break; /* everything completed: no need to wait longer */
	}
	/* Whatever doorbell the fuzzer wants, including nonsense. */
	hostnet_doorbell(hn, FUZZ_RING_GPA, VS_QUEUE_BYTES / 4096, a2 & ~(0xffffull << 16));
	hostnet_doorbell(hn, a2, a2 >> 7, a2);

	struct hostnet_stats st;
	hostnet_get_stats(hn, &st);
	hostnet_destroy(hn);
	return 0;
}
