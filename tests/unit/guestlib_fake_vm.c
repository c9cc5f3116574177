/* SPDX-License-Identifier: MIT */
/* guest-lib on a fake VM (hostnet in this process), for the guestlib unit tests: see guestlib_fake_vm.h. */
#include "guestlib_fake_vm.h"

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

struct fvm fvm;

uint64_t fvm_virt_to_gpa(void *ctx, const void *p)
{
	(void)ctx;
	const uint8_t *b = p;
	if (b >= fvm.ram && b < fvm.ram + FVM_RAM_BYTES)
		return (uint64_t)(b - fvm.ram);
	if (b >= fvm.ring && b < fvm.ring + fvm.ring_bytes)
		return FVM_RING_GPA + (uint64_t)(b - fvm.ring);
	return VS_GPA_INVALID;
}

int64_t fvm_doorbell(void *ctx, uint64_t a2)
{
	(void)ctx;
	fvm.doorbells++;
	return hostnet_doorbell(fvm.hn, FVM_RING_GPA, fvm.ring_bytes / 4096, a2);
}

uint64_t fvm_now_ns(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t fvm_cpu_id(void *ctx)
{
	(void)ctx;
	return fvm.cpu;
}

void *fvm_alloc(size_t size)
{
	uint64_t off = (fvm.ram_used + 63) & ~63ull;
	cr_assert_leq(off + size, FVM_RAM_BYTES, "fake guest RAM exhausted");
	fvm.ram_used = off + size;
	memset(fvm.ram + off, 0, size);
	return fvm.ram + off;
}

void fvm_start(const struct fvm_opts *o)
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
		.max_sockets = o->max_sockets,
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

void fvm_stop(void)
{
	vs_fini();
	if (fvm.hn) {
		hostnet_stop(fvm.hn);
		hostnet_destroy(fvm.hn);
		fvm.hn = NULL;
	}
	for (unsigned i = 0; i < fvm.nr_peers; i++) {
		peer_stop(fvm.peers[i], PEER_STOP_GRACE_MS);
	}
	fvm.nr_peers = 0;
	free(fvm.ram);
	free(fvm.ring);
	fvm.ram = fvm.ring = NULL;
}

struct vs_sockaddr fvm_loopback(uint16_t port)
{
	struct vs_sockaddr sa;
	vs_sockaddr_in(&sa, (const uint8_t[4]){ 127, 0, 0, 1 }, port);
	return sa;
}

uint16_t fvm_free_port(int type)
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

int fvm_host_listener(uint16_t *port, int backlog, int rcvbuf)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert(l >= 0);
	if (rcvbuf > 0)
		cr_assert_eq(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(l, backlog), 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return l;
}

pid_t fvm_spawn(char *const argv[])
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

uint16_t fvm_tcp_echo(void)
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

uint16_t fvm_udp_echo(void)
{
	uint16_t port = fvm_free_port(SOCK_DGRAM);
	char listen[96];
	/* RECVFROM, not LISTEN: a forking UDP-LISTEN hands its socket, connected to
	 * the first peer (the readiness probe), to the child and binds a new one;
	 * a new peer's datagram in between is refused and lost, and the test then
	 * waits for its echo for ever (about 4 in 100 tries right after a probe).
	 * UDP-RECVFROM keeps one socket bound and forks per datagram. */
	snprintf(listen, sizeof(listen), "UDP4-RECVFROM:%u,bind=127.0.0.1,reuseaddr,fork", port);
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

void fvm_fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

int fvm_connect_tcp(uint16_t port)
{
	int s = vs_socket(VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_gt(s, 0, "vs_socket: %d", s);
	struct vs_sockaddr sa = fvm_loopback(port);
	int r = vs_connect(s, &sa);
	cr_assert_eq(r, 0, "vs_connect: %d", r);
	return s;
}

void fvm_recv_all(int s, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		int64_t r = vs_recv(s, buf + got, n - got, 0);
		cr_assert_gt(r, 0, "vs_recv after %zu of %zu bytes: %lld", got, n, (long long)r);
		got += (size_t)r;
	}
}

/* ---- interest sets and the library's memory ------------------------------- */

int fvm_new_set(void)
{
	void *mem = malloc(vs_epoll_bytes());
	cr_assert(mem);
	int ep = vs_epoll_create(mem, vs_epoll_bytes());
	cr_assert_geq(ep, 0, "vs_epoll_create: %d", ep);
	return ep;
}

int fvm_ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct vs_epoll_event ev = { .events = events, .data = data };
	return vs_epoll_ctl(ep, op, fd, &ev);
}

void *fvm_allocator(void *ctx, size_t bytes)
{
	(void)ctx;
	return fvm_alloc(bytes);
}
