/* SPDX-License-Identifier: MIT */
/*
 * Every vCPU its own queue (issue 14): `vmm -c 2` running the benchmarks'
 * --flows 2, flow i on vCPU i, against real host peers:
 *
 *   - stream: two connections to a sink in this process that checks every
 *     byte against the workload's pattern (bench_pattern of message 0, sent
 *     over and over); each connection's bytes are exactly what its flow says
 *     it delivered;
 *   - rr: two connections to socat echoing, every reply compared with its
 *     request in the guest ("verified");
 *
 * and in both the vmm's --stats-json shows that both queues carried requests,
 * each at least what its flow counted on its own queue, and that each vCPU
 * exited on its own.
 */
#include "net_peers.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>

#include "bench.h"

TestSuite(kvm_vcpus, .timeout = 600);

#define FLOWS 2
#define STREAM_SIZE 4096u

/* ---- a checking sink: one thread per connection ----------------------------- */

struct sink_conn {
	pthread_t thread;
	int fd;
	const uint8_t *block;        /* what every message is */
	uint64_t bytes;
	uint64_t first_bad;          /* offset of the first wrong byte, UINT64_MAX if none */
	int error;
};

struct sink {
	int listen_fd;
	unsigned port;
	uint8_t block[STREAM_SIZE];
	struct sink_conn conn[FLOWS];
	unsigned accepted;
	pthread_t acceptor;
};

static void *sink_conn_main(void *arg)
{
	struct sink_conn *c = arg;
	static __thread uint8_t buf[1 << 16];
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			c->error = errno;
			break;
		}
		for (ssize_t i = 0; i < n && c->first_bad == UINT64_MAX; i++)
			if (buf[i] != c->block[(c->bytes + (uint64_t)i) % STREAM_SIZE])
				c->first_bad = c->bytes + (uint64_t)i;
		c->bytes += (uint64_t)n;
	}
	close(c->fd); /* the stream's EOF wait ends here */
	return NULL;
}

static void *sink_accept_main(void *arg)
{
	struct sink *s = arg;
	while (s->accepted < FLOWS) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return NULL; /* shut down: the guest never came */
		struct sink_conn *c = &s->conn[s->accepted];
		*c = (struct sink_conn){ .fd = fd, .block = s->block, .first_bad = UINT64_MAX };
		if (pthread_create(&c->thread, NULL, sink_conn_main, c) != 0) {
			close(fd);
			return NULL;
		}
		s->accepted++;
	}
	return NULL;
}

static void sink_start(struct sink *s)
{
	memset(s, 0, sizeof(*s));
	bench_pattern(s->block, STREAM_SIZE, 0);
	s->listen_fd = np_listen_loopback(&s->port);
	cr_assert_geq(s->listen_fd, 0, "no listener: %s", strerror(-s->listen_fd));
	cr_assert_eq(pthread_create(&s->acceptor, NULL, sink_accept_main, s), 0);
}

static void sink_join(struct sink *s)
{
	shutdown(s->listen_fd, SHUT_RDWR); /* wakes an acceptor still waiting */
	pthread_join(s->acceptor, NULL);
	for (unsigned i = 0; i < s->accepted; i++)
		pthread_join(s->conn[i].thread, NULL);
	close(s->listen_fd);
}

/* ---- reading the figures ------------------------------------------------------ */

/* The number after the n-th (0-based) "key": at or after from, or -1. */
static int64_t json_nth(const char *from, const char *key, unsigned n)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = from;
	for (unsigned i = 0; p && i <= n; i++) {
		p = strstr(p, pat);
		if (p && i < n)
			p += strlen(pat);
	}
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return strtoll(p, NULL, 10);
}

static const char *after(const char *text, const char *anchor)
{
	const char *p = text ? strstr(text, anchor) : NULL;
	cr_assert_not_null(p, "no %s in:\n%s", anchor, text ? text : "(nothing)");
	return p;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *s = calloc(1, 1 << 16);
	if (s)
		s[fread(s, 1, (1 << 16) - 1, f)] = '\0';
	fclose(f);
	return s;
}

/* Both queues used, each at least as much as its flow counted on it; each
 * vCPU exited on its own.  result: the RESULT line, stats: --stats-json. */
static void check_queues(const char *result, const char *stats)
{
	const char *flows = after(result, "\"per_flow\":");
	const char *queues = after(stats, "\"queues\":");
	const char *vcpus = after(stats, "\"per_vcpu\":");
	cr_assert_eq(json_nth(stats, "vcpus", 0), FLOWS);
	for (unsigned i = 0; i < FLOWS; i++) {
		int64_t flow_reqs = json_nth(flows, "requests", i);
		int64_t queue_reqs = json_nth(queues, "requests", i);
		int64_t queue_done = json_nth(queues, "completions", i);
		cr_assert_gt(flow_reqs, 0, "flow %u counted no requests on its queue", i);
		cr_assert_geq(queue_reqs, flow_reqs,
			      "queue %u carried %" PRId64 " requests, fewer than flow %u's %" PRId64
			      ": the flows did not each use their own queue", i, queue_reqs, i,
			      flow_reqs);
		cr_assert_eq(queue_done, queue_reqs, "queue %u: %" PRId64 " requests but %" PRId64
			     " completions", i, queue_reqs, queue_done);
		cr_assert_gt(json_nth(vcpus, "exits", i), 0, "vCPU %u never exited", i);
	}
	cr_assert_eq(json_nth(stats, "requests_bad", 0), 0);
	cr_assert_eq(json_nth(stats, "queues_broken", 0), 0);
}

/* vmm -c 2 --stats-json ... guest.img -- WORKLOAD --flows 2 ARGS... HOST PORT */
static void run_flows(struct vs_result *r, char **stats, const char *workload,
		      const char *size, unsigned port)
{
	char stats_path[] = "/tmp/vs-kvm-vcpus-XXXXXX";
	int fd = mkstemp(stats_path);
	cr_assert_geq(fd, 0);
	close(fd);
	char port_arg[16];
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	const char *args[] = { "-c", "2", "--stats-json", stats_path, vs_guest_img(), "--",
			       workload, "--flows=2", size, "--ms=1500", "127.0.0.1", port_arg,
			       NULL };
	struct vs_run_opts o = { .timeout_s = 120 };
	cr_assert_eq(vs_run_vmm(r, &o, args), 0, "cannot start the vmm");
	*stats = read_all(stats_path);
	unlink(stats_path);
	if (r->status != 0)
		vs_result_dump(r, workload);
	cr_assert_eq(r->status, 0, "%s --flows 2 exited %d", workload, r->status);
	cr_assert_not_null(*stats, "the vmm wrote no --stats-json");
}

/* socat echoing on a free port of 127.0.0.1 (or ::1); returns the port. */
static unsigned socat_echo(struct np_proc *socat, bool v6)
{
	unsigned port = np_start_socat_listener(socat, v6, "fork", "PIPE");
	cr_assert_neq(port, 0, "socat never listened");
	return port;
}

Test(kvm_vcpus, stream_two_flows_two_queues_byte_exact)
{
	struct sink sink;
	sink_start(&sink);
	struct vs_result r;
	char *stats;
	char size[32];
	snprintf(size, sizeof(size), "--size=%u", STREAM_SIZE);
	run_flows(&r, &stats, "stream", size, sink.port);
	sink_join(&sink);

	const char *result = after(r.out, "RESULT {\"bench\":\"stream\"");
	cr_assert_eq(json_nth(result, "flows", 0), FLOWS);
	cr_assert_eq(sink.accepted, FLOWS, "the sink saw %u connections", sink.accepted);
	const char *flows = after(result, "\"per_flow\":");
	uint64_t total = 0;
	for (unsigned i = 0; i < FLOWS; i++) {
		const struct sink_conn *c = &sink.conn[i];
		cr_assert_eq(c->error, 0, "connection %u: %s", i, strerror(c->error));
		cr_assert_eq(c->first_bad, UINT64_MAX, "connection %u: wrong byte at offset %" PRIu64,
			     i, c->first_bad);
		cr_assert_gt(c->bytes, 0);
		cr_assert_eq(c->bytes % STREAM_SIZE, 0, "connection %u: %" PRIu64 " bytes, not whole "
			     "messages", i, c->bytes);
		total += c->bytes;
	}
	/* Each connection is one flow's: the two byte counts are the flows' two. */
	uint64_t f0 = (uint64_t)json_nth(flows, "bytes", 0), f1 = (uint64_t)json_nth(flows, "bytes", 1);
	cr_assert((sink.conn[0].bytes == f0 && sink.conn[1].bytes == f1) ||
		  (sink.conn[0].bytes == f1 && sink.conn[1].bytes == f0),
		  "the sink got %" PRIu64 " and %" PRIu64 " bytes, the flows say %" PRIu64 " and %"
		  PRIu64, sink.conn[0].bytes, sink.conn[1].bytes, f0, f1);
	cr_assert_eq((int64_t)total, json_nth(result, "bytes", 0));
	check_queues(result, stats);
	free(stats);
	vs_result_free(&r);
}

Test(kvm_vcpus, rr_two_flows_two_queues_verified)
{
	struct np_proc socat;
	unsigned port = socat_echo(&socat, false);
	struct vs_result r;
	char *stats;
	run_flows(&r, &stats, "rr", "--size=1024", port);
	np_stop(&socat);
	np_proc_free(&socat);

	const char *result = after(r.out, "RESULT {\"bench\":\"rr\"");
	cr_assert_eq(json_nth(result, "flows", 0), FLOWS);
	/* every flow compared every reply with its request (a difference fails it) */
	cr_assert_eq(json_nth(result, "verified", 0), 1);
	const char *flows = after(result, "\"per_flow\":");
	for (unsigned i = 0; i < FLOWS; i++)
		cr_assert_gt(json_nth(flows, "round_trips", i), 0, "flow %u made no round trip", i);
	check_queues(result, stats);
	free(stats);
	vs_result_free(&r);
}
