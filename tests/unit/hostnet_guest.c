/* SPDX-License-Identifier: MIT */
/* A guest driving hostnet through its rings, for the hostnet unit tests: see hostnet_guest.h. */
#include "hostnet_guest.h"

#ifdef __SANITIZE_ADDRESS__
/* Criterion 2.4.1's runner leaks a small block when tests run in parallel,
 * and LeakSanitizer then fails the whole executable.  The runner is the
 * parent process and runs no code under test; each test runs in a child
 * that Criterion re-executes with BXFI_MAP set.  So: in the parent, ignore
 * leaks from libcriterion; in the children, report everything. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return getenv("BXFI_MAP") ? "" : "leak:libcriterion.so\n";
}
#endif

uint64_t tg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint32_t tg_max_sockets;

bool tg_seccomp = true;
struct hostnet_policy tg_policy;
uint32_t tg_sock_buffer;
uint64_t tg_sock_memory, tg_sock_autotune_bytes;
bool tg_timings;

void tg_vm_init_at(struct tg_vm *vm, uint32_t nr_queues, uint32_t workers,
		   uint32_t poll_us, enum vs_copy_mode copy, uint32_t start_index)
{
	memset(vm, 0, sizeof(*vm));
	vm->nr_queues = nr_queues;
	vm->ring_bytes = (uint64_t)nr_queues * VS_QUEUE_BYTES;
	vm->ram = mmap(NULL, TG_RAM_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	vm->ring = mmap(NULL, vm->ring_bytes, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(vm->ram != MAP_FAILED && vm->ring != MAP_FAILED);
	vm->ram_next = 4096; /* keep GPA 0 unused, like a real guest */
	for (uint32_t i = 0; i < nr_queues; i++) {
		struct tg_queue *g = &vm->qs[i];
		g->q = (struct vs_queue *)(vm->ring + (uint64_t)i * VS_QUEUE_BYTES);
		g->index = i;
		g->sq_tail = g->cq_head = start_index;
		g->q->ctrl.sq_tail = g->q->ctrl.sq_head = start_index;
		g->q->ctrl.cq_tail = g->q->ctrl.cq_head = start_index;
	}
	struct hostnet_config cfg = {
		.ram = vm->ram, .ram_bytes = TG_RAM_BYTES,
		.ring = vm->ring, .ring_gpa = TG_RING_GPA, .ring_bytes = vm->ring_bytes,
		.nr_queues = nr_queues, .workers = workers, .poll_us = poll_us, .copy = copy,
		.max_sockets = tg_max_sockets, .seccomp = tg_seccomp, .policy = tg_policy,
		.sock_buffer = tg_sock_buffer, .timings = tg_timings,
		.sock_memory = tg_sock_memory, .sock_autotune_bytes = tg_sock_autotune_bytes,
	};
	int err = hostnet_create(&cfg, &vm->hn);
	cr_assert_eq(err, 0, "hostnet_create: %d", err);
}

void tg_vm_init(struct tg_vm *vm, uint32_t nr_queues, uint32_t poll_us)
{
	tg_vm_init_at(vm, nr_queues, 0, poll_us, VS_COPY_ZERO, 0);
}

void tg_assert_no_leaks(void)
{
#ifdef __SANITIZE_ADDRESS__
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,
		     "memory leaked: see the LeakSanitizer report on stderr");
#endif
}

void tg_vm_fini(struct tg_vm *vm)
{
	hostnet_destroy(vm->hn);
	vm->hn = NULL;
	munmap(vm->ram, TG_RAM_BYTES);
	munmap(vm->ring, vm->ring_bytes);
	tg_assert_no_leaks();
}

uint64_t tg_alloc(struct tg_vm *vm, uint64_t bytes)
{
	uint64_t gpa = vm->ram_next;
	vm->ram_next = (vm->ram_next + bytes + 63) & ~63ull;
	cr_assert(vm->ram_next <= TG_RAM_BYTES, "test guest RAM exhausted");
	return gpa;
}

void *tg_ptr(struct tg_vm *vm, uint64_t gpa)
{
	return vm->ram + gpa;
}

uint64_t tg_bounce_gpa(struct tg_vm *vm, uint32_t q)
{
	(void)vm;
	return TG_RING_GPA + (uint64_t)q * VS_QUEUE_BYTES + VS_QUEUE_BOUNCE_OFFSET;
}

uint32_t tg_flags(struct tg_queue *g)
{
	return __atomic_load_n(&g->q->ctrl.flags, __ATOMIC_ACQUIRE);
}

int64_t tg_doorbell(struct tg_vm *vm, uint32_t q, uint32_t flags, uint32_t wait_ms)
{
	return hostnet_doorbell(vm->hn, TG_RING_GPA, vm->ring_bytes / 4096,
				VS_DB_ARG(q, flags, wait_ms));
}

struct vs_sqe *tg_sqe(struct tg_queue *g)
{
	uint32_t head = __atomic_load_n(&g->q->ctrl.sq_head, __ATOMIC_ACQUIRE);
	if (g->sq_tail - head == VS_SQ_ENTRIES)
		return NULL;
	struct vs_sqe *e = &g->q->sq[g->sq_tail & (VS_SQ_ENTRIES - 1)];
	memset(e, 0, sizeof(*e));
	g->sq_tail++;
	return e;
}

void tg_publish(struct tg_queue *g)
{
	__atomic_store_n(&g->q->ctrl.sq_tail, g->sq_tail, __ATOMIC_RELEASE);
}

bool tg_submit(struct tg_vm *vm, struct tg_queue *g)
{
	tg_publish(g);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (tg_flags(g) & VS_QF_NEED_WAKEUP) {
		int64_t r = tg_doorbell(vm, g->index, VS_DB_SUBMIT, 0);
		cr_assert_geq(r, 0, "SUBMIT doorbell: %lld", (long long)r);
		return true;
	}
	return false;
}

bool tg_reap(struct tg_queue *g, struct vs_cqe *out)
{
	uint32_t tail = __atomic_load_n(&g->q->ctrl.cq_tail, __ATOMIC_ACQUIRE);
	if (tail == g->cq_head)
		return false;
	*out = g->q->cq[g->cq_head & (VS_CQ_ENTRIES - 1)];
	g->cq_head++;
	__atomic_store_n(&g->q->ctrl.cq_head, g->cq_head, __ATOMIC_RELEASE);
	return true;
}

void tg_wait_cqe(struct tg_vm *vm, struct tg_queue *g, struct vs_cqe *out,
		 uint32_t timeout_ms)
{
	uint64_t deadline = tg_now_ms() + timeout_ms;
	while (!tg_reap(g, out)) {
		cr_assert_lt(tg_now_ms(), deadline, "no completion within %u ms", timeout_ms);
		int64_t r = tg_doorbell(vm, g->index, VS_DB_WAIT, 100);
		cr_assert(r > 0 || r == -ETIMEDOUT, "WAIT doorbell: %lld", (long long)r);
	}
}

int32_t tg_run(struct tg_vm *vm, struct tg_queue *g, struct vs_sqe *e,
	       uint32_t *cqe_flags)
{
	uint64_t ud = e->user_data;
	struct vs_cqe c;
	tg_submit(vm, g);
	tg_wait_cqe(vm, g, &c, 10000);
	cr_assert_eq(c.user_data, ud, "completion for %llu, expected %llu",
		     (unsigned long long)c.user_data, (unsigned long long)ud);
	if (cqe_flags)
		*cqe_flags = c.flags;
	return c.result;
}

uint64_t tg_ud = 1000;

struct vs_sqe *tg_prep(struct tg_queue *g, uint8_t op, uint32_t handle)
{
	struct vs_sqe *e = tg_sqe(g);
	cr_assert(e, "SQ full");
	e->opcode = op;
	e->handle = handle;
	e->user_data = ++tg_ud;
	return e;
}

int32_t tg_op(struct tg_vm *vm, struct tg_queue *g, uint8_t op, uint32_t handle)
{
	return tg_run(vm, g, tg_prep(g, op, handle), NULL);
}

void tg_sa_loopback(struct vs_sockaddr *sa, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = VS_AF_INET;
	sa->port = htons(port);
	sa->addr[0] = 127;
	sa->addr[3] = 1;
}

int32_t tg_socket(struct tg_vm *vm, struct tg_queue *g, uint32_t type)
{
	struct vs_sqe *e = tg_prep(g, VS_OP_SOCKET, 0);
	e->op_flags = VS_AF_INET << 16 | type;
	return tg_run(vm, g, e, NULL);
}

int32_t tg_connect(struct tg_vm *vm, struct tg_queue *g, uint32_t h, uint16_t port)
{
	struct vs_sqe *e = tg_prep(g, VS_OP_CONNECT, h);
	tg_sa_loopback(&e->u.addr, port);
	return tg_run(vm, g, e, NULL);
}

int32_t tg_io(struct tg_vm *vm, struct tg_queue *g, uint8_t op, uint32_t h,
	      uint64_t gpa, uint32_t len, uint32_t op_flags)
{
	struct vs_sqe *e = tg_prep(g, op, h);
	e->addr = gpa;
	e->len = len;
	e->op_flags = op_flags;
	return tg_run(vm, g, e, NULL);
}

void tg_collect(struct tg_vm *vm, struct tg_queue *g, struct vs_cqe *out,
		unsigned n, uint32_t timeout_ms)
{
	for (unsigned i = 0; i < n; i++)
		tg_wait_cqe(vm, g, &out[i], timeout_ms);
}

const struct vs_cqe *tg_find(const struct vs_cqe *c, unsigned n, uint64_t ud)
{
	for (unsigned i = 0; i < n; i++)
		if (c[i].user_data == ud)
			return &c[i];
	cr_assert_fail("no completion for user_data %llu", (unsigned long long)ud);
	return NULL;
}

void tg_expect_nothing(struct tg_vm *vm, struct tg_queue *g, uint32_t ms)
{
	struct vs_cqe c;
	int64_t r = tg_doorbell(vm, g->index, VS_DB_WAIT, ms);
	cr_assert_eq(r, -ETIMEDOUT, "WAIT: %lld", (long long)r);
	cr_assert_not(tg_reap(g, &c), "unexpected completion %llu = %d",
		      (unsigned long long)c.user_data, c.result);
}

uint16_t tg_free_port(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

bool tg_port_bound(int type, uint16_t port)
{
	FILE *f = fopen(type == SOCK_DGRAM ? "/proc/net/udp" : "/proc/net/tcp", "r");
	cr_assert(f);
	char line[256], want[32];
	snprintf(want, sizeof(want), "0100007F:%04X", port);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char local[64], remote[64];
		unsigned state;
		if (sscanf(line, " %*s %63s %63s %x", local, remote, &state) == 3)
			found = !strcmp(local, want) && (type == SOCK_DGRAM || state == 0x0a);
	}
	fclose(f);
	return found;
}

pid_t tg_socat_try(int type, uint16_t port, const char *a1, const char *a2)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		peer_child_detach(parent, true);
		execlp("socat", "socat", a1, a2, (char *)NULL);
		_exit(127);
	}
	uint64_t deadline = tg_now_ms() + 5000;
	while (!tg_port_bound(type, port)) {
		cr_assert_lt(tg_now_ms(), deadline, "socat %s did not bind port %u", a1, port);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 0;
		usleep(5000);
	}
	return pid;
}

void tg_socat_stop(pid_t pid)
{
	peer_stop(pid, PEER_STOP_GRACE_MS);
}

uint16_t tg_echo(int type, pid_t *pid)
{
	for (int attempt = 0; attempt < 10; attempt++) {
		uint16_t port = tg_free_port(type);
		char spec[96];
		if (type == SOCK_DGRAM)
			snprintf(spec, sizeof(spec), "UDP-RECVFROM:%u,bind=127.0.0.1,fork", port);
		else
			snprintf(spec, sizeof(spec), "TCP-LISTEN:%u,bind=127.0.0.1,reuseaddr,fork",
				 port);
		*pid = tg_socat_try(type, port, spec, "PIPE");
		if (*pid)
			return port;
	}
	cr_assert_fail("socat could not bind a free port in 10 attempts");
	return 0;
}

uint16_t tg_echo_tcp(pid_t *pid)
{
	return tg_echo(SOCK_STREAM, pid);
}

int tg_listener(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	cr_assert(listen(fd, 16) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	*port = ntohs(a.sin_port);
	return fd;
}

int32_t tg_tcp_pair(struct tg_vm *vm, struct tg_queue *g, int *peer)
{
	uint16_t port;
	int l = tg_listener(&port);
	int32_t h = tg_socket(vm, g, VS_SOCK_STREAM);
	cr_assert_eq(tg_connect(vm, g, (uint32_t)h, port), 0);
	*peer = accept(l, NULL, NULL);
	cr_assert_geq(*peer, 0);
	close(l);
	return h;
}

int32_t tg_guest_listener(struct tg_vm *vm, struct tg_queue *g, uint32_t backlog,
			  uint16_t *port)
{
	int32_t l = tg_socket(vm, g, VS_SOCK_STREAM);
	cr_assert_gt(l, 0);
	struct vs_sqe *e = tg_prep(g, VS_OP_BIND, (uint32_t)l);
	tg_sa_loopback(&e->u.addr, 0);
	cr_assert_eq(tg_run(vm, g, e, NULL), 0);
	e = tg_prep(g, VS_OP_LISTEN, (uint32_t)l);
	e->op_flags = backlog;
	cr_assert_eq(tg_run(vm, g, e, NULL), 0);
	uint64_t sa = tg_alloc(vm, sizeof(struct vs_sockaddr));
	cr_assert_eq(tg_io(vm, g, VS_OP_GETSOCKNAME, (uint32_t)l, sa, 0, 0), 0);
	*port = ntohs(((struct vs_sockaddr *)tg_ptr(vm, sa))->port);
	return l;
}

int tg_count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	cr_assert(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

void tg_fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

