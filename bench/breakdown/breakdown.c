/* SPDX-License-Identifier: MIT */
/*
 * breakdown: where a request's time goes, natively (no KVM).  guest-lib and
 * hostnet run in this process over plain memory (inproc.h); each workload
 * reports ns per request for the guest library's phases (prep, publish,
 * wait, reap, timed around each batch) and the worker's (take, validate,
 * run = system calls and parking, readiness, post; hostnet's --timings
 * figures), and, for the one-request round trips, what is left: the
 * hand-off (guest -> worker -> guest through shared memory).  Batched
 * workloads report means; one-request ones the median round (this machine's
 * other load preempts threads now and then: means would show that).
 *
 *   build/breakdown [--rounds N] [--batch B] [--poll-us U] [--spin-us U]
 *
 * scripts/breakdown runs it, then the same workloads in the vmm (sandbox).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inproc.h"

/* The phases of a round, in report order: guest-lib's, then the worker's. */
enum { P_PREP, P_PUBLISH, P_WAIT, P_REAP, P_TAKE, P_VALIDATE, P_SYSCALLS, P_POST, P_RTT,
       P__COUNT };

struct phases {
	uint64_t sum[P__COUNT];       /* ns summed over the rounds */
	uint64_t *round[P__COUNT];    /* per round (one-request workloads), or NULL */
	uint64_t rounds, requests, send_calls;
};

/* One workload: rounds x (prep a batch, submit, wait for it, reap it). */
struct workload {
	const char *name;
	int (*prep)(int s, void *buf, uint32_t size, uint32_t i); /* one request */
	uint32_t per_round;  /* requests per round */
	uint32_t size;       /* payload bytes */
	int peer;            /* 0 none, 1 sink, 2 echo */
	int nodelay;
};

static int prep_nop(int s, void *buf, uint32_t size, uint32_t i)
{
	(void)s, (void)buf, (void)size;
	return vs_prep_nop(i);
}

static int prep_send(int s, void *buf, uint32_t size, uint32_t i)
{
	return vs_prep_send(s, buf, size, 0, i);
}

/* rr: even requests send, odd ones receive the echo in full. */
static int prep_rr(int s, void *buf, uint32_t size, uint32_t i)
{
	if (i % 2 == 0)
		return vs_prep_send(s, buf, size, 0, i);
	return vs_prep_recv(s, (uint8_t *)buf + size, size, VS_MSG_WAITALL, i);
}

static int connect_peer(const struct workload *wl)
{
	uint16_t port = inproc_peer(wl->peer == 2);
	if (!port)
		return -EIO;
	int s = vs_socket(VS_AF_INET, VS_SOCK_STREAM);
	if (s < 0)
		return s;
	struct vs_sockaddr sa;
	vs_sockaddr_in(&sa, (const uint8_t[4]){ 127, 0, 0, 1 }, port);
	int err = vs_connect(s, &sa);
	if (!err && wl->nodelay)
		err = vs_setsockopt(s, VS_SOL_TCP, VS_TCP_NODELAY, 1);
	return err ? err : s;
}

/* The worker's phases since *prev (hostnet --timings), into v; *prev moves on. */
static void worker_delta(struct hostnet_stats *prev, uint64_t v[P__COUNT], uint64_t *sends)
{
	struct hostnet_stats now;
	hostnet_get_stats(inproc_hostnet(), &now);
	uint64_t post = now.t_post_ns - prev->t_post_ns;
	v[P_TAKE] = now.t_take_ns - prev->t_take_ns;
	v[P_VALIDATE] = now.t_validate_ns - prev->t_validate_ns;
	v[P_SYSCALLS] = now.t_run_ns - prev->t_run_ns + now.t_events_ns - prev->t_events_ns - post;
	v[P_POST] = post;
	*sends += now.send_calls - prev->send_calls;
	*prev = now;
}

static int check(const struct workload *wl, const struct vs_completion *c, int n)
{
	for (int i = 0; i < n; i++)
		if (c[i].result < 0 || (wl->peer && (uint32_t)c[i].result != wl->size)) {
			fprintf(stderr, "breakdown: %s: request %" PRIu64 " gave %d\n", wl->name,
				c[i].user_data, c[i].result);
			return -EIO;
		}
	return 0;
}

static int run_rounds(const struct workload *wl, int s, uint8_t *buf, uint32_t rounds,
		      struct phases *ph)
{
	struct vs_completion c[VS_SQ_ENTRIES];
	struct hostnet_stats prev;
	hostnet_get_stats(inproc_hostnet(), &prev);
	for (uint32_t r = 0; r < rounds; r++) {
		uint64_t t[5], v[P__COUNT];
		t[0] = inproc_now_ns();
		for (uint32_t i = 0; i < wl->per_round; i++) {
			int err = wl->prep(s, buf, wl->size, i);
			if (err)
				return err;
		}
		t[1] = inproc_now_ns();
		int err = vs_submit();
		t[2] = inproc_now_ns();
		err = err < 0 ? err : vs_wait(wl->per_round, 10000);
		t[3] = inproc_now_ns();
		int n = err < 0 ? err : vs_reap(c, wl->per_round);
		t[4] = inproc_now_ns();
		if (n < 0 || (err = check(wl, c, n)))
			return n < 0 ? n : err;
		for (unsigned k = 0; k < 4; k++)
			v[k] = t[k + 1] - t[k];
		v[P_RTT] = t[4] - t[0];
		/* The worker may still be finishing this round's last post:
		 * that lands in the next round's figures, the same on average. */
		worker_delta(&prev, v, &ph->send_calls);
		for (unsigned k = 0; k < P__COUNT; k++) {
			ph->sum[k] += v[k];
			if (ph->round[k])
				ph->round[k][ph->rounds] = v[k];
		}
		ph->rounds++;
		ph->requests += (uint64_t)n;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double per(uint64_t ns, uint64_t n)
{
	return n ? (double)ns / (double)n : 0.0;
}

/* ns per request of phase k: the mean over all rounds, or with per-round
 * figures the median round (robust against a preempted thread). */
static double figure(const struct phases *ph, unsigned k, uint32_t per_round)
{
	if (!ph->rounds || !ph->requests)
		return 0.0;
	if (!ph->round[k])
		return per(ph->sum[k], ph->requests);
	qsort(ph->round[k], ph->rounds, sizeof(uint64_t), cmp_u64);
	return (double)ph->round[k][ph->rounds / 2] / per_round;
}

static void report(const struct workload *wl, struct phases *ph)
{
	double f[P__COUNT], work = 0;
	for (unsigned k = 0; k < P__COUNT; k++)
		f[k] = figure(ph, k, wl->per_round);
	printf("%-16s %7" PRIu64, wl->name, ph->requests);
	for (unsigned k = 0; k < P_RTT; k++) {
		printf(k == P_TAKE ? " | %7.0f" : k == P_SYSCALLS ? " %9.0f" : " %7.0f", f[k]);
		if (k != P_WAIT)
			work += f[k];
	}
	printf(" | %6.2f", per(ph->send_calls, ph->requests));
	if (ph->round[P_RTT]) {
		/* The hand-off: what the median round trip spends outside both
		 * sides' own work (guest -> worker -> guest through the rings). */
		double rtt = f[P_RTT] * wl->per_round;
		work *= wl->per_round;
		printf(" | %8.0f %8.0f", rtt, rtt > work ? rtt - work : 0.0);
	}
	printf("\n");
}

static int run_workload(const struct workload *wl, uint32_t rounds, int one_request)
{
	static uint8_t *buf;
	if (!buf && !(buf = inproc_alloc(2u << 20)))
		return -ENOMEM;
	int s = wl->peer ? connect_peer(wl) : -1;
	if (wl->peer && s < 0) {
		fprintf(stderr, "breakdown: %s: connect: %s\n", wl->name, strerror(-s));
		return s;
	}
	struct phases warm = { 0 }, ph = { 0 };
	int err = run_rounds(wl, s, buf, rounds / 10 + 1, &warm);
	for (unsigned k = 0; one_request && k < P__COUNT; k++)
		if (!(ph.round[k] = calloc(rounds, sizeof(uint64_t))))
			err = -ENOMEM;
	err = err ? err : run_rounds(wl, s, buf, rounds, &ph);
	if (!err)
		report(wl, &ph);
	for (unsigned k = 0; k < P__COUNT; k++)
		free(ph.round[k]);
	if (s >= 0)
		vs_close(s);
	return err;
}

int main(int argc, char **argv)
{
	struct inproc_opts o = { .notify = VS_NOTIFY_ADAPTIVE, .batch = 32, .poll_us = 50,
				 .spin_us = VS_DEFAULT_SPIN_US };
	uint32_t rounds = 20000;
	static const struct option lo[] = {
		{ "rounds", 1, NULL, 'r' }, { "batch", 1, NULL, 'b' },
		{ "poll-us", 1, NULL, 'p' }, { "spin-us", 1, NULL, 's' }, { 0 },
	};
	for (int c; (c = getopt_long(argc, argv, "", lo, NULL)) != -1;) {
		uint32_t v = (uint32_t)strtoul(optarg ? optarg : "0", NULL, 0);
		if (c == 'r' && v)
			rounds = v;
		else if (c == 'b' && v && v <= VS_SQ_ENTRIES)
			o.batch = v;
		else if (c == 'p')
			o.poll_us = v;
		else if (c == 's')
			o.spin_us = v;
		else {
			fprintf(stderr, "usage: breakdown [--rounds N] [--batch 1..%u] "
				"[--poll-us U] [--spin-us U]\n", VS_SQ_ENTRIES);
			return 2;
		}
	}
	if (inproc_start(&o))
		return 1;
	const struct workload batched[] = {
		{ "nop x batch", prep_nop, o.batch, 0, 0, 0 },
		{ "send 64 B x b", prep_send, o.batch, 64, 1, 0 },
		{ "send 4 KiB x b", prep_send, o.batch, 4096, 1, 0 },
		{ "send 64 KiB x b", prep_send, o.batch, 65536, 1, 0 },
	};
	const struct workload single[] = {
		{ "nop x 1", prep_nop, 1, 0, 0, 0 },
		{ "rr 64 B", prep_rr, 2, 64, 2, 1 },
	};
	printf("ns per request; guest-lib: prep publish wait reap (timed around each batch of "
	       "%u), worker: take validate syscalls post (hostnet --timings);\n"
	       "adaptive, poll window %u us, spin %u us, %u rounds, in one process "
	       "(no VM exit: the doorbell is a call)\n\n", o.batch, o.poll_us, o.spin_us, rounds);
	printf("%-16s %7s %7s %7s %7s %7s | %7s %7s %9s %7s | %6s | %8s %8s\n", "workload",
	       "reqs", "prep", "publish", "wait", "reap", "take", "valid.", "syscalls", "post",
	       "sends/r", "rtt p50", "hand-off");
	int err = 0;
	for (size_t i = 0; !err && i < sizeof(batched) / sizeof(batched[0]); i++)
		err = run_workload(&batched[i], batched[i].size > 4096 ? rounds / 8 : rounds, 0);
	for (size_t i = 0; !err && i < sizeof(single) / sizeof(single[0]); i++)
		err = run_workload(&single[i], rounds, 1);
	struct hostnet_stats st;
	hostnet_get_stats(inproc_hostnet(), &st);
	printf("\nworker: poll period %.0f ns (idle loops %" PRIu64 "); kick -> worker running "
	       "%.0f ns (%" PRIu64 " kicks); completion -> WAIT returning %.0f ns (%" PRIu64
	       " WAITs)\n", per(st.worker_poll_ns, st.poll_loops), st.poll_loops,
	       per(st.kick_wake_ns, st.kick_wakes), st.kick_wakes,
	       per(st.wait_wake_ns, st.wait_wakes), st.wait_wakes);
	inproc_stop();
	return err ? 1 : 0;
}
