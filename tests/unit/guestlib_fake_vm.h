/* SPDX-License-Identifier: MIT */
/*
 * A fake "VM" for libvirtsocket unit tests (no KVM): a malloc'ed buffer is
 * guest RAM at GPA 0, another one the ring slot at GPA 4 GiB, hostnet the
 * host side, and the doorbell a plain call into hostnet_doorbell().  Every
 * payload buffer a test hands the library must come from fvm_alloc() (it
 * lives in "guest RAM"); anything else has no GPA and fails with -EFAULT,
 * as a wild pointer would.
 *
 * Also: host peers (socat echo servers) started as child processes in
 * their own process group and stopped by fvm_stop().
 *
 * Included by each tests/unit/guestlib_*.c (one executable per file).
 */
#ifndef GUESTLIB_FAKE_VM_H
#define GUESTLIB_FAKE_VM_H

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostnet.h"
#include "peer_child.h"
#include "virtsocket/vsock.h"

#define FVM_RAM_BYTES  (64u << 20)
#define FVM_RING_GPA   (4ull << 30)
#define FVM_MAX_PEERS  4

struct fvm_opts {
	uint32_t notify;     /* enum vs_notify_mode */
	uint32_t copy;       /* enum vs_copy_mode */
	uint32_t batch;      /* 0: library default */
	uint32_t nr_queues;  /* 0: 1 */
	uint32_t poll_us;    /* hostnet's adaptive poll window */
	uint32_t spin_ns;    /* library's adaptive CQ spin (0: default) */
};

struct fvm {
	uint8_t *ram;
	uint64_t ram_used;
	uint8_t *ring;
	uint64_t ring_bytes;
	struct hostnet *hn;
	uint32_t cpu;                /* what cpu_id() answers: picks the queue */
	uint64_t doorbells;          /* seen by the fake doorbell */
	pid_t peers[FVM_MAX_PEERS];
	unsigned nr_peers;
};

static struct fvm fvm;

/*
 * Criterion 2.4.1's runner (not the tests) sometimes leaks one 48-byte
 * block when tests finish in parallel; LeakSanitizer (scripts/test sets
 * detect_leaks=1) would fail the whole executable for it.  Only leaks
 * allocated inside libcriterion are ignored.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libcriterion.so\n";
}

static inline uint64_t fvm_virt_to_gpa(void *ctx, const void *p)
{
	(void)ctx;
	const uint8_t *b = p;
	if (b >= fvm.ram && b < fvm.ram + FVM_RAM_BYTES)
		return (uint64_t)(b - fvm.ram);
	if (b >= fvm.ring && b < fvm.ring + fvm.ring_bytes)
		return FVM_RING_GPA + (uint64_t)(b - fvm.ring);
	return VS_GPA_INVALID;
}

static inline int64_t fvm_doorbell(void *ctx, uint64_t a2)
{
	(void)ctx;
	fvm.doorbells++;
	return hostnet_doorbell(fvm.hn, FVM_RING_GPA, fvm.ring_bytes / 4096, a2);
}

static inline uint64_t fvm_now_ns(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint32_t fvm_cpu_id(void *ctx)
{
	(void)ctx;
	return fvm.cpu;
}

/* size bytes of "guest RAM", 64-byte aligned, zeroed. */
static inline void *fvm_alloc(size_t size)
{
	uint64_t off = (fvm.ram_used + 63) & ~63ull;
	cr_assert_leq(off + size, FVM_RAM_BYTES, "fake guest RAM exhausted");
	fvm.ram_used = off + size;
	memset(fvm.ram + off, 0, size);
	return fvm.ram + off;
}

static inline void fvm_start(const struct fvm_opts *o)
{
	uint32_t nq = o->nr_queues ? o->nr_queues : 1;
	memset(&fvm, 0, sizeof(fvm));
	fvm.ram = aligned_alloc(4096, FVM_RAM_BYTES);
	fvm.ring_bytes = (uint64_t)nq * VS_QUEUE_BYTES;
	fvm.ring = aligned_alloc(4096, fvm.ring_bytes);
	cr_assert(fvm.ram && fvm.ring);
	memset(fvm.ram, 0, FVM_RAM_BYTES);
	memset(fvm.ring, 0, fvm.ring_bytes);
	fvm.ram_used = 4096; /* keep GPA 0 unused, like a real guest */

	struct hostnet_config hc = {
		.ram = fvm.ram, .ram_bytes = FVM_RAM_BYTES,
		.ring = fvm.ring, .ring_gpa = FVM_RING_GPA, .ring_bytes = fvm.ring_bytes,
		.nr_queues = nq, .workers = 0, .poll_us = o->poll_us, .copy = o->copy,
		.seccomp = true, /* as in the VMM: the workers run filtered */
	};
	int err = hostnet_create(&hc, &fvm.hn);
	cr_assert_eq(err, 0, "hostnet_create: %s", strerror(-err));

	struct vs_transport t = {
		.ring = fvm.ring, .ring_gpa = FVM_RING_GPA, .ring_bytes = fvm.ring_bytes,
		.nr_queues = nq, .notify = o->notify, .copy = o->copy, .batch = o->batch,
		.spin_ns = o->spin_ns, .ctx = NULL, .doorbell = fvm_doorbell,
		.virt_to_gpa = fvm_virt_to_gpa, .now_ns = fvm_now_ns, .cpu_id = fvm_cpu_id,
	};
	size_t bytes = vs_state_bytes(nq);
	err = vs_init(&t, fvm_alloc(bytes), bytes);
	cr_assert_eq(err, 0, "vs_init: %d", err);
}

static inline void fvm_stop(void)
{
	vs_fini();
	if (fvm.hn) {
		hostnet_stop(fvm.hn);
		hostnet_destroy(fvm.hn);
		fvm.hn = NULL;
	}
	for (unsigned i = 0; i < fvm.nr_peers; i++) {
		kill(-fvm.peers[i], SIGTERM); /* the peer's own process group */
		waitpid(fvm.peers[i], NULL, 0);
	}
	fvm.nr_peers = 0;
	free(fvm.ram);
	free(fvm.ring);
	fvm.ram = fvm.ring = NULL;
}

/* ---- addresses and host peers ------------------------------------------ */

static inline struct vs_sockaddr fvm_loopback(uint16_t port)
{
	struct vs_sockaddr sa;
	vs_sockaddr_in(&sa, (const uint8_t[4]){ 127, 0, 0, 1 }, port);
	return sa;
}

/* A port nothing listens on right now (the kernel just handed it out). */
static inline uint16_t fvm_free_port(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static inline pid_t fvm_spawn(char *const argv[])
{
	cr_assert_lt(fvm.nr_peers, FVM_MAX_PEERS);
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		peer_child_detach(parent, false);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	fvm.peers[fvm.nr_peers++] = pid;
	return pid;
}

/* socat TCP echo server on 127.0.0.1; returns its port once it accepts. */
static inline uint16_t fvm_tcp_echo(void)
{
	uint16_t port = fvm_free_port(SOCK_STREAM);
	char listen[96];
	snprintf(listen, sizeof(listen), "TCP4-LISTEN:%u,bind=127.0.0.1,reuseaddr,fork", port);
	fvm_spawn((char *const[]){ "socat", "-T", "30", listen, "PIPE", NULL });
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < 500; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
		close(fd);
		if (r == 0)
			return port;
		usleep(10000);
	}
	cr_assert_fail("socat TCP echo on port %u did not come up", port);
	return 0;
}

/* socat UDP echo server on 127.0.0.1; returns its port once it answers. */
static inline uint16_t fvm_udp_echo(void)
{
	uint16_t port = fvm_free_port(SOCK_DGRAM);
	char listen[96];
	snprintf(listen, sizeof(listen), "UDP4-LISTEN:%u,bind=127.0.0.1,reuseaddr,fork", port);
	fvm_spawn((char *const[]){ "socat", "-T", "30", listen, "PIPE", NULL });
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	for (int i = 0; i < 100; i++) {
		char buf[8];
		sendto(fd, "probe", 5, 0, (struct sockaddr *)&a, sizeof(a));
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 50) == 1 && recv(fd, buf, sizeof(buf), 0) == 5) {
			close(fd);
			return port;
		}
	}
	close(fd);
	cr_assert_fail("socat UDP echo on port %u did not answer", port);
	return 0;
}

/* Deterministic test payload. */
static inline void fvm_fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Guest side: connect a TCP socket to 127.0.0.1:port. */
static inline int fvm_connect_tcp(uint16_t port)
{
	int s = vs_socket(VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_gt(s, 0, "vs_socket: %d", s);
	struct vs_sockaddr sa = fvm_loopback(port);
	int r = vs_connect(s, &sa);
	cr_assert_eq(r, 0, "vs_connect: %d", r);
	return s;
}

/* Guest side: receive exactly n bytes. */
static inline void fvm_recv_all(int s, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		int64_t r = vs_recv(s, buf + got, n - got, 0);
		cr_assert_gt(r, 0, "vs_recv after %zu of %zu bytes: %lld", got, n, (long long)r);
		got += (size_t)r;
	}
}

#endif /* GUESTLIB_FAKE_VM_H */
