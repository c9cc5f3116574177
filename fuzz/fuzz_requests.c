/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: hostnet's request path as a hostile guest drives it.
 * The fuzzer's bytes become the queue's starting indices, the contents of
 * (a small) guest RAM, a batch of submission entries, a forged sq_tail and
 * cq_head, and extra doorbell arguments.  hostnet runs for real (its worker
 * thread under its seccomp filter as in the vmm, real non-blocking sockets)
 * but can reach nothing: the egress policy allows only 127.0.0.1 port 1
 * (nobody listens there) and binds to loopback.
 *
 * Not only crashes: after every input it checks what a guest may rely on
 * (check_invariants): every completion's user_data is one the guest published
 * and appears once; no more completions than entries consumed, no more
 * consumed than published; the statistics agree with the rings (requests,
 * completions, bad requests); the process has as many fds after
 * hostnet_destroy() as before hostnet_create(); and no CONNECT to a denied
 * address succeeded, nor reached the listener this target keeps on one
 * (127.0.0.1:FUZZ_DENIED_PORT; seed connect-denied-listener aims at it).
 * Chains (VS_SQE_LINK, seeds chain-*): a link never completes before the link
 * it follows, and after a link that failed with -errno or was itself broken
 * the next one, if it completed, did so with -VS_ECHAINBROKEN.
 * A broken invariant prints what and aborts, which libFuzzer reports.
 *
 * Input layout (missing bytes read as zero):
 *   u32 start index   u32 sq_tail delta (forged if > entries)   u32 cq_head delta
 *   u64 doorbell a2   u8  count of SQEs   [count * 64 bytes of SQEs]
 *   rest: copied to guest RAM at GPA 4096 (buffers and sockaddrs to point at)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hostnet.h"

#define FUZZ_RAM_BYTES (1u << 20)
#define FUZZ_RING_GPA  (1ull << 32)
/* Published entries get user_data FUZZ_TAG << 32 | their index from start. */
#define FUZZ_TAG       0xf022beefull
#define FUZZ_DENIED_PORT 39217u

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
static int denied_listener = -1; /* 127.0.0.1:FUZZ_DENIED_PORT, or -1 if taken */

static void setup_denied_listener(void)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(FUZZ_DENIED_PORT),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l >= 0 && bind(l, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(l, 64) == 0) {
		denied_listener = l;
		return;
	}
	fprintf(stderr, "fuzz_requests: note: cannot listen on 127.0.0.1:%u (%s); denied "
		"connects are judged by their completions only\n", FUZZ_DENIED_PORT,
		strerror(errno));
	if (l >= 0)
		close(l);
}

static void setup(void)
{
	ram = mmap(NULL, FUZZ_RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ring = mmap(NULL, VS_QUEUE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		    -1, 0);
	if (ram == MAP_FAILED || ring == MAP_FAILED)
		abort();
	setup_denied_listener();
}

static void broken(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void broken(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz_requests: invariant broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		abort();
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The completions the "guest" has taken from the CQ, in order. */
struct reaped {
	uint32_t head;                  /* next CQ index to read */
	uint32_t n;
	struct vs_cqe cqe[VS_SQ_ENTRIES]; /* one input publishes at most this many */
};

/* Take every CQE the host has posted since the last call. */
static void reap(const struct vs_queue *q, struct reaped *rp)
{
	uint32_t tail = __atomic_load_n(&q->ctrl.cq_tail, __ATOMIC_ACQUIRE);
	uint32_t k = tail - rp->head;
	if (k > VS_CQ_ENTRIES)
		broken("cq_tail %u is %u entries past the guest's head %u", tail, k, rp->head);
	for (uint32_t i = 0; i < k; i++) {
		if (rp->n == VS_SQ_ENTRIES)
			broken("more than %u completions for one input", VS_SQ_ENTRIES);
		rp->cqe[rp->n++] = q->cq[(rp->head + i) & (VS_CQ_ENTRIES - 1)];
	}
	rp->head = tail;
}

static bool connect_allowed(const struct vs_sockaddr *sa)
{
	static const uint8_t v4[4] = { 127, 0, 0, 1 };
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 };
	if (sa->port != htons(1))
		return false;
	if (sa->family == VS_AF_INET)
		return memcmp(sa->addr, v4, 4) == 0;
	return sa->family == VS_AF_INET6 && memcmp(sa->addr, mapped, 16) == 0;
}

/* Chains (abi.h): links complete in order; the rest of a failed chain is
 * VS_ECHAINBROKEN.  (A short SEND/RECV also breaks a chain, but its result
 * is >= 0: only failures with -errno are checked here.) */
static void check_chains(uint32_t consumed, const struct vs_sqe *pub, const struct reaped *rp)
{
	int32_t pos[VS_SQ_ENTRIES]; /* where each consumed entry completed, -1: not yet */
	for (uint32_t i = 0; i < consumed; i++)
		pos[i] = -1;
	for (uint32_t i = 0; i < rp->n; i++)
		pos[rp->cqe[i].user_data & 0xffffffffu] = (int32_t)i;
	for (uint32_t i = 0; i + 1 < consumed; i++) {
		if (!(pub[i].flags & VS_SQE_LINK) || pos[i + 1] < 0)
			continue;
		if (pos[i] < 0 || pos[i] > pos[i + 1])
			broken("link %u completed before the link %u it follows", i + 1, i);
		int32_t prev = rp->cqe[pos[i]].result, next = rp->cqe[pos[i + 1]].result;
		if (prev < 0 && next != -VS_ECHAINBROKEN)
			broken("link %u completed %d after link %u failed with %d", i + 1, next, i,
			       prev);
	}
}

/*
 * What a guest may rely on, after hostnet_destroy().  pub: the entries as
 * published (the "guest" does not rewrite them afterwards); published: how many
 * (0 when the forged tail was beyond the ring: the host must then take none);
 * st: statistics taken before hostnet_destroy(), so each is at most what the
 * rings show now.
 */
static void check_invariants(const struct vs_queue *q, uint32_t start, uint32_t published,
			     const struct vs_sqe *pub, const struct reaped *rp,
			     const struct hostnet_stats *st)
{
	uint32_t consumed = __atomic_load_n(&q->ctrl.sq_head, __ATOMIC_ACQUIRE) - start;
	if (consumed > published)
		broken("consumed %u entries of %u published", consumed, published);
	if (rp->n > consumed)
		broken("%u completions for %u consumed entries", rp->n, consumed);
	if (st->requests > consumed || st->completions > rp->n)
		broken("stats say %llu requests / %llu completions, the rings %u / %u",
		       (unsigned long long)st->requests, (unsigned long long)st->completions,
		       consumed, rp->n);

	bool seen[VS_SQ_ENTRIES] = { false };
	uint32_t bad = 0;
	for (uint32_t i = 0; i < rp->n; i++) {
		const struct vs_cqe *c = &rp->cqe[i];
		uint64_t idx = c->user_data & 0xffffffffu;
		if (c->user_data >> 32 != FUZZ_TAG || idx >= consumed)
			broken("completion %u has user_data %#llx: not one of the %u consumed", i,
			       (unsigned long long)c->user_data, consumed);
		if (seen[idx])
			broken("user_data %#llx completed twice", (unsigned long long)c->user_data);
		seen[idx] = true;
		if (c->flags & VS_CQE_BAD_REQUEST)
			bad++;
		const struct vs_sqe *e = &pub[idx];
		if (e->opcode == VS_OP_CONNECT && c->result == 0 && !(c->flags & VS_CQE_BAD_REQUEST) &&
		    !connect_allowed(&e->u.addr))
			broken("CONNECT %#llx to a denied address succeeded",
			       (unsigned long long)c->user_data);
	}
	/* Every bad request completes at once; unless completions were held back
	 * or dropped (CQ overflow, broken queue), each one is in the CQ. */
	uint32_t flags = __atomic_load_n(&q->ctrl.flags, __ATOMIC_ACQUIRE);
	if (!(flags & (VS_QF_BROKEN | VS_QF_CQ_OVERFLOW)) && st->requests_bad > bad)
		broken("stats say %llu bad requests, the CQ has %u", 
		       (unsigned long long)st->requests_bad, bad);
	if (st->requests_bad > st->requests)
		broken("%llu bad requests of %llu", (unsigned long long)st->requests_bad,
		       (unsigned long long)st->requests);

	check_chains(consumed, pub, rp);

	if (denied_listener >= 0) {
		int c = accept4(denied_listener, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			broken("a connection reached the denied listener on 127.0.0.1:%u",
			       FUZZ_DENIED_PORT);
	}
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
	/* Published: the real count, or a forged tail when the fuzzer says so (the
	 * entries past n are whatever earlier inputs left).  Each gets a user_data
	 * that names it, and is remembered as published. */
	uint32_t tail = start + (tail_delta > n ? tail_delta : n);
	uint32_t published = tail - start <= VS_SQ_ENTRIES ? tail - start : 0;
	static struct vs_sqe pub[VS_SQ_ENTRIES];
	for (uint32_t i = 0; i < published; i++) {
		struct vs_sqe *e = &q->sq[(start + i) & (VS_SQ_ENTRIES - 1)];
		e->user_data = FUZZ_TAG << 32 | i;
		pub[i] = *e;
	}
	memset(ram, 0, 4096 + 64 * 1024);
	take(&rd, ram + 4096, rd.left < 64 * 1024 ? rd.left : 64 * 1024);

	struct hostnet_config cfg = {
		.ram = ram, .ram_bytes = FUZZ_RAM_BYTES,
		.ring = ring, .ring_gpa = FUZZ_RING_GPA, .ring_bytes = VS_QUEUE_BYTES,
		.nr_queues = 1, .workers = 1, .poll_us = 0,
		.copy = (start & 0x80000000u) ? VS_COPY_BOUNCE : VS_COPY_ZERO,
		.max_sockets = 16,
		.seccomp = true, /* as the vmm runs them (without --no-seccomp) */
	};
	char msg[128];
	if (hostnet_policy_add(&cfg.policy, "127.0.0.1:1", msg, sizeof(msg)))
		abort();
	int fds_before = count_fds();
	struct hostnet *hn;
	if (hostnet_create(&cfg, &hn))
		abort();

	__atomic_store_n(&q->ctrl.sq_tail, tail, __ATOMIC_RELEASE);
	hostnet_doorbell(hn, FUZZ_RING_GPA, VS_QUEUE_BYTES / 4096,
			 VS_DB_ARG(0, VS_DB_SUBMIT, 0));
	/* Reap what comes within a few ms (parked requests never complete). */
	static struct reaped rp;
	rp.head = start;
	rp.n = 0;
	for (int i = 0; i < 4; i++) {
		int64_t r = hostnet_doorbell(hn, FUZZ_RING_GPA, VS_QUEUE_BYTES / 4096,
					     VS_DB_ARG(0, VS_DB_WAIT, 1));
		if (r < 0 && r != -ETIMEDOUT)
			break;
		reap(q, &rp);
		/* A guest may also lie about what it reaped. */
		__atomic_store_n(&q->ctrl.cq_head, i == 1 ? rp.head + cq_delta : rp.head,
				 __ATOMIC_RELEASE);
		if (i >= 1 && rp.head - start >= n)
			break; /* everything completed: no need to wait longer */
	}
	/* Whatever doorbell the fuzzer wants, including nonsense. */
	hostnet_doorbell(hn, FUZZ_RING_GPA, VS_QUEUE_BYTES / 4096, a2 & ~(0xffffull << 16));
	hostnet_doorbell(hn, a2, a2 >> 7, a2);

	struct hostnet_stats st;
	hostnet_get_stats(hn, &st);
	hostnet_destroy(hn);
	reap(q, &rp); /* what was posted until the workers stopped */
	check_invariants(q, start, published, pub, &rp, &st);
	int fds_after = count_fds();
	if (fds_after != fds_before)
		broken("%d fds before hostnet_create(), %d after hostnet_destroy()", fds_before,
		       fds_after);
	return 0;
}
