/* SPDX-License-Identifier: MIT */
/*
 * The statistics are true.  A guest program (nsend, bench/nsend.c) sends
 * exactly N messages of SIZE bytes with the async API to a peer in this
 * process, which checks every byte; the test then holds the vmm's
 * --stats-json and the guest's own counts against what must have happened:
 *
 *   - the guest asked for N sends in the sending phase, and the host
 *     consumed as many requests in total as the guest published;
 *   - `batch` mode: ceil(N / B) doorbells for those N sends, `every`: N,
 *     `adaptive`: no more than `batch` (none while the host polls);
 *   - every doorbell the guest rang is one hypercall/port exit the vmm
 *     counted, and one hostnet doorbell;
 *   - --copy=zero: the VMM copied 0 payload bytes; --copy=bounce: exactly
 *     the payload;
 *   - every mode moves the bytes exactly (here and, both directions, with
 *     the `rr` benchmark against an echo peer checking every reply).
 *
 * The counts hold for either doorbell (hypercall or port I/O), so nothing
 * here depends on the host kind; scripts/test runs the kvm label under
 * full KVM (natively or in the sandbox).
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static void require_artifacts(void)
{
	struct stat st;
	cr_assert_eq(stat(vs_vmm_path(), &st), 0, "no vmm at %s: build the vmm target",
		     vs_vmm_path());
	cr_assert_eq(stat(vs_guest_img(), &st), 0, "no guest image at %s: build guest_img",
		     vs_guest_img());
}

TestSuite(kvm_stats, .init = require_artifacts, .timeout = 300);

/* Also in bench/nsend.c: keep the two equal. */
static uint8_t pattern_byte(uint64_t k)
{
	return (uint8_t)(k ^ ((k >> 8) * 0x9d) ^ ((k >> 16) * 0x3b));
}

/* ---- peers in this process ------------------------------------------------- */

struct peer {
	int listen_fd;
	unsigned port;
	bool echo;           /* echo everything back (else: sink that checks the pattern) */
	pthread_t thread;
	/* results (sink) */
	uint64_t bytes;
	uint64_t first_bad;  /* offset of the first wrong byte, UINT64_MAX if none */
	int error;
};

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	int fd = accept(p->listen_fd, NULL, NULL);
	if (fd < 0) {
		p->error = errno;
		return NULL;
	}
	static __thread uint8_t buf[1 << 16];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			p->error = errno;
			break;
		}
		if (p->echo) {
			for (ssize_t off = 0; off < n;) {
				ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
				if (w < 0) {
					p->error = errno;
					goto out;
				}
				off += w;
			}
			continue;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern_byte(p->bytes + (uint64_t)i) &&
			    p->first_bad == UINT64_MAX)
				p->first_bad = p->bytes + (uint64_t)i;
		p->bytes += (uint64_t)n;
	}
out:
	close(fd);
	return NULL;
}

static void peer_start(struct peer *p, bool echo)
{
	memset(p, 0, sizeof(*p));
	p->echo = echo;
	p->first_bad = UINT64_MAX;
	p->listen_fd = np_listen_loopback(&p->port);
	cr_assert_geq(p->listen_fd, 0, "no listener: %s", strerror(-p->listen_fd));
	cr_assert_eq(pthread_create(&p->thread, NULL, peer_main, p), 0);
}

static void peer_join(struct peer *p)
{
	/* A guest that never connected leaves the thread in accept(): shutting
	 * the listener down wakes it. */
	shutdown(p->listen_fd, SHUT_RDWR);
	pthread_join(p->thread, NULL);
	close(p->listen_fd);
}

/* ---- reading the figures ---------------------------------------------------- */

/* The number after "key": in text (the first occurrence), or -1. */
static int64_t json_num(const char *text, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = text ? strstr(text, pat) : NULL;
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return strtoll(p, NULL, 10);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *s = calloc(1, 1 << 16);
	size_t n = s ? fread(s, 1, (1 << 16) - 1, f) : 0;
	(void)n;
	fclose(f);
	return s;
}

/* The NSEND line of the given phase, or NULL. */
static const char *nsend_line(const char *out, const char *phase)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "NSEND {\"phase\":\"%s\"", phase);
	return strstr(out, pat);
}

struct nsend_run {
	struct vs_result r;
	char *stats;          /* the vmm's --stats-json */
	const char *send;     /* NSEND phase "send" line (in r.out) */
	const char *total;    /* NSEND phase "total" line */
	struct peer peer;
};

static void run_nsend(struct nsend_run *run, const char *notify, const char *copy,
		      unsigned batch, unsigned n, unsigned size)
{
	memset(run, 0, sizeof(*run));
	peer_start(&run->peer, false);
	char stats_path[] = "/tmp/vs-kvm-stats-XXXXXX";
	int fd = mkstemp(stats_path);
	cr_assert_geq(fd, 0);
	close(fd);
	char notify_arg[32], copy_arg[32], batch_arg[16], port[16], n_arg[16], size_arg[16];
	snprintf(notify_arg, sizeof(notify_arg), "--notify=%s", notify);
	snprintf(copy_arg, sizeof(copy_arg), "--copy=%s", copy);
	snprintf(batch_arg, sizeof(batch_arg), "%u", batch);
	snprintf(port, sizeof(port), "%u", run->peer.port);
	snprintf(n_arg, sizeof(n_arg), "%u", n);
	snprintf(size_arg, sizeof(size_arg), "%u", size);
	const char *args[] = { notify_arg, copy_arg, "--batch", batch_arg, "--stats-json",
			       stats_path, vs_guest_img(), "--", "nsend", "127.0.0.1", port,
			       n_arg, size_arg, NULL };
	struct vs_run_opts o = { .timeout_s = 120 };
	cr_assert_eq(vs_run_vmm(&run->r, &o, args), 0, "cannot start the vmm");
	peer_join(&run->peer);
	char what[96];
	snprintf(what, sizeof(what), "nsend %u x %u B, notify=%s copy=%s batch=%u", n, size, notify,
		 copy, batch);
	vs_result_dump(&run->r, what);
	run->stats = read_file(stats_path);
	unlink(stats_path);
	cr_assert_eq(run->r.status, 0, "%s: the guest failed (status %d)", what, run->r.status);
	cr_assert_not_null(run->stats, "the vmm wrote no --stats-json");
	fprintf(stderr, "---- stats json:\n%s\n", run->stats);
	run->send = nsend_line(run->r.out, "send");
	run->total = nsend_line(run->r.out, "total");
	cr_assert_not_null(run->send, "no NSEND send line");
	cr_assert_not_null(run->total, "no NSEND total line");

	/* the bytes arrived, all of them, in order */
	uint64_t payload = (uint64_t)n * size;
	cr_assert_eq(run->peer.error, 0, "peer: %s", strerror(run->peer.error));
	cr_assert_eq(run->peer.bytes, payload, "peer got %" PRIu64 " bytes, want %" PRIu64,
		     run->peer.bytes, payload);
	cr_assert_eq(run->peer.first_bad, UINT64_MAX, "byte %" PRIu64 " of the stream is wrong",
		     run->peer.first_bad);

	/* the sending phase is N requests, all completed, no WAIT doorbells */
	cr_assert_eq(json_num(run->send, "requests"), (int64_t)n);
	cr_assert_eq(json_num(run->send, "completions"), (int64_t)n);
	cr_assert_eq(json_num(run->send, "doorbells_wait"), 0);
	cr_assert_eq(json_num(run->send, "bytes"), (int64_t)payload);

	/* both sides count the same: every guest doorbell is one exit and one
	 * hostnet doorbell; every published request was consumed */
	int64_t exits = json_num(run->stats, "hypercall_doorbells") +
			json_num(run->stats, "pio_doorbells");
	cr_assert_eq(exits, json_num(run->total, "doorbells"),
		     "vmm counted %" PRId64 " doorbell exits, the guest rang %" PRId64, exits,
		     json_num(run->total, "doorbells"));
	cr_assert_eq(json_num(run->stats, "doorbells"), exits, "hostnet doorbells != exits");
	cr_assert_eq(json_num(run->stats, "requests"), json_num(run->total, "requests"),
		     "hostnet consumed %" PRId64 " requests, the guest published %" PRId64,
		     json_num(run->stats, "requests"), json_num(run->total, "requests"));
	cr_assert_eq(json_num(run->stats, "requests_bad"), 0);
	cr_assert_eq(json_num(run->stats, "bytes_sent"), (int64_t)payload);
}

static void nsend_free(struct nsend_run *run)
{
	free(run->stats);
	vs_result_free(&run->r);
}

/* N not a multiple of B, so the last partial batch is counted too. */
#define N_MSGS 100u
#define MSG_SIZE 1000u
#define BATCH 8u

Test(kvm_stats, batch_mode_rings_once_per_batch)
{
	struct nsend_run run;
	run_nsend(&run, "batch", "zero", BATCH, N_MSGS, MSG_SIZE);
	int64_t want = (N_MSGS + BATCH - 1) / BATCH;
	cr_assert_eq(json_num(run.send, "doorbells_submit"), want,
		     "batch mode: %" PRId64 " doorbells for %u sends in batches of %u, want %" PRId64,
		     json_num(run.send, "doorbells_submit"), N_MSGS, BATCH, want);
	cr_assert_eq(json_num(run.send, "doorbells"), want);
	cr_assert_eq(json_num(run.send, "batches"), want);
	nsend_free(&run);
}

Test(kvm_stats, every_mode_rings_once_per_request)
{
	struct nsend_run run;
	run_nsend(&run, "every", "zero", BATCH, N_MSGS, MSG_SIZE);
	cr_assert_eq(json_num(run.send, "doorbells_submit"), (int64_t)N_MSGS);
	cr_assert_eq(json_num(run.send, "doorbells"), (int64_t)N_MSGS);
	/* the vmm saw at least those N exits, plus socket/connect/close */
	int64_t exits = json_num(run.stats, "hypercall_doorbells") +
			json_num(run.stats, "pio_doorbells");
	cr_assert_geq(exits, (int64_t)N_MSGS);
	nsend_free(&run);
}

Test(kvm_stats, adaptive_mode_rings_at_most_once_per_batch)
{
	struct nsend_run run;
	run_nsend(&run, "adaptive", "zero", BATCH, N_MSGS, MSG_SIZE);
	int64_t most = (N_MSGS + BATCH - 1) / BATCH;
	int64_t rung = json_num(run.send, "doorbells");
	cr_assert_leq(rung, most, "adaptive rang %" PRId64 " times, more than batch's %" PRId64,
		      rung, most);
	/* every hand-over either rang or was skipped because the host polled */
	cr_assert_eq(json_num(run.send, "batches"),
		     json_num(run.send, "doorbells_submit") + json_num(run.send, "doorbells_skipped"));
	/* and adaptive is not batch under another name: the host's polling let it
	 * skip doorbells, so it rang and exited less than batch does */
	cr_assert_gt(json_num(run.send, "doorbells_skipped"), 0, "adaptive skipped no doorbell");
	cr_assert_lt(rung, most, "adaptive rang %" PRId64 " times, as many as batch", rung);
	struct nsend_run batch;
	run_nsend(&batch, "batch", "zero", BATCH, N_MSGS, MSG_SIZE);
	int64_t exits_adaptive = json_num(run.stats, "hypercall_doorbells") +
				 json_num(run.stats, "pio_doorbells");
	int64_t exits_batch = json_num(batch.stats, "hypercall_doorbells") +
			      json_num(batch.stats, "pio_doorbells");
	cr_assert_lt(exits_adaptive, exits_batch, "doorbell exits: adaptive %" PRId64
		     ", batch %" PRId64, exits_adaptive, exits_batch);
	nsend_free(&batch);
	nsend_free(&run);
}

Test(kvm_stats, zero_copy_copies_nothing)
{
	struct nsend_run run;
	run_nsend(&run, "batch", "zero", BATCH, N_MSGS, MSG_SIZE);
	cr_assert_eq(json_num(run.stats, "bytes_copied"), 0, "zero copy, but the VMM copied %" PRId64
		     " bytes", json_num(run.stats, "bytes_copied"));
	cr_assert_eq(json_num(run.send, "bounce_bytes"), 0);
	nsend_free(&run);
}

Test(kvm_stats, bounce_copies_the_payload)
{
	struct nsend_run run;
	run_nsend(&run, "batch", "bounce", BATCH, N_MSGS, MSG_SIZE);
	int64_t payload = (int64_t)N_MSGS * MSG_SIZE;
	cr_assert_eq(json_num(run.stats, "bytes_copied"), payload,
		     "bounce mode: the VMM copied %" PRId64 " bytes, the payload is %" PRId64,
		     json_num(run.stats, "bytes_copied"), payload);
	cr_assert_eq(json_num(run.send, "bounce_bytes"), payload,
		     "the guest staged %" PRId64 " bytes through the bounce area, want %" PRId64,
		     json_num(run.send, "bounce_bytes"), payload);
	int64_t want = (N_MSGS + BATCH - 1) / BATCH;
	cr_assert_eq(json_num(run.send, "doorbells_submit"), want);
	nsend_free(&run);
}

/* Both directions, every mode: rr checks each echo against its request. */
static void rr_exact(const char *notify, const char *copy, const char *size)
{
	struct peer p;
	peer_start(&p, true);
	char notify_arg[32], copy_arg[32], port[16], size_arg[32];
	snprintf(notify_arg, sizeof(notify_arg), "--notify=%s", notify);
	snprintf(copy_arg, sizeof(copy_arg), "--copy=%s", copy);
	snprintf(port, sizeof(port), "%u", p.port);
	snprintf(size_arg, sizeof(size_arg), "--size=%s", size);
	const char *args[] = { notify_arg, copy_arg, vs_guest_img(), "--", "rr", size_arg,
			       "--count=20", "--warmup=2", "127.0.0.1", port, NULL };
	struct vs_result r;
	struct vs_run_opts o = { .timeout_s = 120 };
	cr_assert_eq(vs_run_vmm(&r, &o, args), 0);
	peer_join(&p);
	vs_result_dump(&r, "rr");
	cr_assert_eq(r.status, 0, "rr %s/%s %s failed (a reply that differs from its request "
		     "says so on stdout)", notify, copy, size);
	const char *res = strstr(r.out, "RESULT {");
	cr_assert_not_null(res, "no RESULT line");
	cr_assert_eq(json_num(res, "round_trips"), 20);
	cr_assert_eq(json_num(res, "verified"), 1);
	cr_assert_eq(p.error, 0, "echo peer: %s", strerror(p.error));
	vs_result_free(&r);
}

Test(kvm_stats, every_zero_is_byte_exact) { rr_exact("every", "zero", "100K"); }
Test(kvm_stats, batch_zero_is_byte_exact) { rr_exact("batch", "zero", "100K"); }
Test(kvm_stats, adaptive_zero_is_byte_exact) { rr_exact("adaptive", "zero", "100K"); }
/* 100 KiB is more than one bounce request carries (64 KiB): split and rejoined */
Test(kvm_stats, every_bounce_is_byte_exact) { rr_exact("every", "bounce", "100K"); }
Test(kvm_stats, batch_bounce_is_byte_exact) { rr_exact("batch", "bounce", "100K"); }
Test(kvm_stats, adaptive_bounce_is_byte_exact) { rr_exact("adaptive", "bounce", "100K"); }
