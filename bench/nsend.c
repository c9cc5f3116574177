/* SPDX-License-Identifier: MIT */
/*
 * nsend HOST PORT N SIZE: send exactly N messages of SIZE bytes over one
 * connection with the async API, and say what that cost.  The statistics
 * test (tests/integration/kvm_stats.c) checks the figures against the
 * vmm's --stats-json, so the sending phase is arranged to ring for
 * submissions only:
 *
 *   - every message is prepared and vs_submit()ted: the scheduler hands
 *     over each full group (1 request in `every` mode, --batch in `batch`),
 *     then one vs_flush() for the last partial group;
 *   - completions are collected with vs_reap(), which polls the CQ and
 *     never rings (no WAIT doorbells), also when the ring is full.
 *
 * So the phase costs exactly N submit doorbells in `every` mode and
 * ceil(N / batch) in `batch` mode; `adaptive` may ring fewer.
 *
 * The byte stream is pattern_byte(k) for stream offset k (the test checks
 * it byte for byte), every message in its own buffer (zero copy: the host
 * reads them in place while they are in flight).
 *
 * Output (stdout, one line each):
 *   NSEND {"phase":"send","requests":N,...}   the sending phase alone
 *   NSEND {"phase":"total",...}               everything, after close()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <kernel.h>
#include <virtsocket/vsock.h>

#define NSEND_MAX_BYTES (64ull << 20)
#define NSEND_TIMEOUT_NS (30ull * NSEC_PER_SEC)

/* Also in tests/integration/kvm_stats.c: keep the two equal. */
static uint8_t pattern_byte(uint64_t k)
{
	return (uint8_t)(k ^ ((k >> 8) * 0x9d) ^ ((k >> 16) * 0x3b));
}

static void print_stats(const char *phase, const struct vs_stats *a, const struct vs_stats *b,
			uint64_t bytes)
{
	printf("NSEND {\"phase\":\"%s\",\"notify\":\"%s\",\"copy\":\"%s\",\"batch\":%u,"
	       "\"requests\":%lu,\"completions\":%lu,\"batches\":%lu,\"doorbells\":%lu,"
	       "\"doorbells_submit\":%lu,\"doorbells_wait\":%lu,\"doorbells_skipped\":%lu,"
	       "\"bounce_bytes\":%lu,\"bytes\":%lu}\n",
	       phase, notify_mode_name(boot_info->notify), copy_mode_name(boot_info->copy),
	       boot_info->batch, b->requests - a->requests, b->completions - a->completions,
	       b->batches - a->batches, b->doorbells - a->doorbells,
	       b->doorbells_submit - a->doorbells_submit,
	       b->doorbells_wait - a->doorbells_wait,
	       b->doorbells_skipped - a->doorbells_skipped, b->bounce_bytes - a->bounce_bytes,
	       bytes);
}

/* Poll the CQ (no doorbell) until at least one completion; check them. */
static int reap_some(unsigned *inflight, uint64_t *done_bytes, uint32_t size,
		     uint64_t deadline)
{
	struct vs_completion c[64];
	for (;;) {
		int n = vs_reap(c, 64);
		if (n < 0) {
			printf("nsend: reap: %s\n", strerror(-n));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			(*inflight)--;
			if (c[i].result != (int32_t)size) {
				printf("nsend: message %lu: send returned %d, not %u\n",
				       (unsigned long)c[i].user_data, c[i].result, size);
				return -1;
			}
			*done_bytes += size;
		}
		if (n > 0)
			return 0;
		if (now_ns() > deadline) {
			printf("nsend: no completion for 30 s (%u in flight)\n", *inflight);
			return -1;
		}
		cpu_relax();
	}
}

static int nsend_main(int argc, char **argv)
{
	if (argc != 5) {
		printf("usage: nsend HOST PORT N SIZE\n");
		return VS_EXIT_USAGE;
	}
	unsigned long port = strtoul(argv[2], NULL, 10);
	unsigned long n = strtoul(argv[3], NULL, 10);
	unsigned long size = strtoul(argv[4], NULL, 10);
	if (port < 1 || port > 65535 || n < 1 || size < 1 || size > VS_BOUNCE_MAX_REQUEST ||
	    (uint64_t)n * size > NSEND_MAX_BYTES) {
		printf("nsend: need PORT 1..65535, N >= 1, SIZE 1..%u, N*SIZE <= 64 MiB\n",
		       VS_BOUNCE_MAX_REQUEST);
		return VS_EXIT_USAGE;
	}
	uint64_t total = (uint64_t)n * size;
	uint8_t *buf = malloc(total);
	if (!buf) {
		printf("nsend: cannot allocate %lu bytes (give the VM more --mem)\n",
		       (unsigned long)total);
		return 1;
	}
	for (uint64_t k = 0; k < total; k++)
		buf[k] = pattern_byte(k);

	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		printf("nsend: '%s' is not an IPv4 address\n", argv[1]);
		return VS_EXIT_USAGE;
	}
	struct vs_stats s0, s1, s2;
	memset(&s0, 0, sizeof(s0)); /* the library is not initialised yet: all zero */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("nsend: connect to %s:%lu: %s\n", argv[1], port, strerror(errno));
		return 1;
	}

	vs_get_stats(&s1);
	uint64_t deadline = now_ns() + NSEND_TIMEOUT_NS, done = 0;
	unsigned inflight = 0;
	for (unsigned long i = 0; i < n; i++) {
		for (;;) {
			int r = vs_prep_send(fd, buf + i * size, size, 0, i);
			if (r == 0)
				break;
			if (r != -EBUSY || inflight == 0) {
				printf("nsend: prep send %lu: %s\n", i, strerror(-r));
				return 1;
			}
			if (reap_some(&inflight, &done, (uint32_t)size, deadline) < 0)
				return 1;
		}
		inflight++;
		int r = vs_submit();
		if (r < 0) {
			printf("nsend: submit: %s\n", strerror(-r));
			return 1;
		}
	}
	int r = vs_flush();
	if (r < 0) {
		printf("nsend: flush: %s\n", strerror(-r));
		return 1;
	}
	while (inflight)
		if (reap_some(&inflight, &done, (uint32_t)size, deadline) < 0)
			return 1;
	vs_get_stats(&s2);
	print_stats("send", &s1, &s2, done);

	if (close(fd) < 0) {
		printf("nsend: close: %s\n", strerror(errno));
		return 1;
	}
	vs_get_stats(&s2);
	print_stats("total", &s0, &s2, done);
	free(buf);
	return 0;
}
GUEST_PROGRAM("nsend", nsend_main, "HOST PORT N SIZE",
	      "send N messages of SIZE bytes with the async API; print NSEND {json} stats");
