/* SPDX-License-Identifier: MIT */
/*
 * native-bench: the workloads on the host itself, over glibc and the host
 * kernel, no VM: the limit virtsocket is compared with.
 *
 *   native-bench stream|rr|crr [options] HOST PORT
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "platform.h"

uint64_t plat_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void plat_describe(struct bench_out *b)
{
	out_str(b, "where", "native");
}

void plat_counters(struct plat_counters *c)
{
	memset(c, 0, sizeof(*c));
}

void plat_out_counters(struct bench_out *b, const struct plat_counters *before,
		       const struct plat_counters *after)
{
	(void)b;
	(void)before;
	(void)after;
}

/* Natively there are no VM exits to count around the window. */
void plat_window_begin(void)
{
}

void plat_window_end(void)
{
}

/* send() returns as soon as the kernel has the bytes: that is already the
 * pipelining the guest gets from --depth, so natively depth is always 1. */
int plat_sender_init(unsigned depth)
{
	(void)depth;
	return 0;
}

int plat_send(int fd, const void *buf, size_t len, uint64_t *bytes_done)
{
	if (bench_send_all(fd, buf, len) < 0)
		return -1;
	*bytes_done += len;
	return 0;
}

int plat_drain(uint64_t *bytes_done)
{
	(void)bytes_done;
	return 0;
}

unsigned plat_depth(void)
{
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		printf("usage: native-bench stream|rr|crr [options] HOST PORT\n"
		       "(options: native-bench WORKLOAD --help)\n");
		return argc < 2 ? BENCH_EXIT_USAGE : BENCH_EXIT_OK;
	}
	/* A peer that goes away must fail the run, not kill it silently. */
	signal(SIGPIPE, SIG_IGN);
	struct bench_opts o;
	int err = bench_parse(argc - 1, argv + 1, &o);
	if (err)
		return err;
	return bench_run(&o);
}
