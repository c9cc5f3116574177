/* SPDX-License-Identifier: MIT */
/*
 * hostile: behave like a malicious guest towards the VMM, one case after the
 * other, and check that each bad thing is refused with the right errno while
 * the VMM carries on.  Needs two vCPUs (-c 2): queue 1 belongs to this program
 * alone (nothing else runs on vCPU 1), and it writes raw submission entries,
 * indices and doorbells there by hand from the abi.h layout, bypassing
 * guest-lib's checks.  guest-lib keeps queue 0 for the final echo round trip,
 * which shows the VM (and the host) still work after all of it.
 *
 *     vmm -c 2 --max-sockets N guest.img -- hostile HOST PORT N
 *
 * HOST:PORT is an echo peer on the host's loopback; N the --max-sockets the
 * vmm was given.  One line per case, "hostile: CASE ok" or
 * "hostile: CASE FAILED (got X, want Y)" (or "skipped (why)" for the doorbell
 * cases a port-I/O doorbell cannot express); exit 0 only if none failed.
 * It pauses about a second after "hostile: start" and before exiting, so a
 * test can count the vmm's open files while nothing of the guest is open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <kernel/boot.h>
#include <kernel/clock.h>
#include <kernel/cpu.h>
#include <kernel/program.h>
#include <virtsocket/vsock.h>

#include "netprog.h"

#define PROG "hostile"
#define RQ 1u                       /* the raw queue */
#define WAIT_MS 5000u
#define NO_SUCH_HANDLE 0x3ffe1234u
#define PAUSE_MS 1500u

static unsigned cases, failures;
static struct vs_queue *rq;         /* queue RQ in the ring slot */
static uint32_t sq_tail, cq_head;   /* our private producer/consumer indices */
static uint64_t next_ud = 1;
static uint8_t io_buf[256] __attribute__((aligned(64)));
static uint8_t stuff_buf[64 << 10]; /* case_amplification()'s sends */
static uint8_t io_buf2[256] __attribute__((aligned(64)));

static void report(const char *name, long got, long want)
{
	cases++;
	if (got == want) {
		printf("%s: %s ok\n", PROG, name);
		return;
	}
	failures++;
	printf("%s: %s FAILED (got %ld, want %ld)\n", PROG, name, got, want);
}

/* ---- raw doorbells ------------------------------------------------------- */

static int64_t hypercall(uint64_t a0, uint64_t a1, uint64_t a2)
{
	int64_t rax = VS_HC_NR;
	if (boot_info->hypercall_insn == VS_INSN_VMMCALL)
		__asm__ __volatile__("vmmcall" : "+a"(rax) : "b"(a0), "c"(a1), "d"(a2) : "memory");
	else
		__asm__ __volatile__("vmcall" : "+a"(rax) : "b"(a0), "c"(a1), "d"(a2) : "memory");
	return rax;
}

static int64_t pio(uint32_t value)
{
	int64_t rax = value;
	__asm__ __volatile__("outl %%eax, %%dx"
			     : "+a"(rax)
			     : "d"((uint16_t)VS_PORT_DOORBELL)
			     : "memory");
	return rax;
}

static bool have_hypercall(void)
{
	return boot_info->doorbell == VS_DOORBELL_HYPERCALL;
}

/* A doorbell with an arbitrary a2 (the port form carries only its low half). */
static int64_t doorbell_a2(uint64_t a2)
{
	if (have_hypercall())
		return hypercall(boot_info->ring_gpa, boot_info->ring_bytes / 4096, a2);
	return pio((uint32_t)a2);
}

static int64_t doorbell(uint32_t queue, uint32_t flags, uint32_t wait_ms)
{
	return doorbell_a2(VS_DB_ARG(queue, flags, wait_ms));
}

/* ---- raw requests on queue RQ -------------------------------------------- */

/* Put e in the next SQ slot (user_data assigned), publish, ring. */
static uint64_t raw_submit(struct vs_sqe *e)
{
	e->user_data = next_ud++;
	memcpy(&rq->sq[sq_tail & (VS_SQ_ENTRIES - 1)], e, sizeof(*e));
	sq_tail++;
	__atomic_store_n(&rq->ctrl.sq_tail, sq_tail, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	doorbell(RQ, VS_DB_SUBMIT, 0);
	return e->user_data;
}

/* Wait for the next completion; its result, or a large negative sentinel
 * (-100000 - errno) if none came. */
static long raw_reap(uint64_t *ud, uint32_t *flags)
{
	uint64_t deadline = now_ns() + (uint64_t)WAIT_MS * 1000000u;
	while (__atomic_load_n(&rq->ctrl.cq_tail, __ATOMIC_ACQUIRE) == cq_head) {
		int64_t r = doorbell(RQ, VS_DB_WAIT, 500);
		if (r < 0 && r != -ETIMEDOUT)
			return -100000 + r;
		if (now_ns() > deadline)
			return -100000 - ETIMEDOUT;
	}
	struct vs_cqe c;
	memcpy(&c, &rq->cq[cq_head & (VS_CQ_ENTRIES - 1)], sizeof(c));
	cq_head++;
	__atomic_store_n(&rq->ctrl.cq_head, cq_head, __ATOMIC_RELEASE);
	if (ud)
		*ud = c.user_data;
	if (flags)
		*flags = c.flags;
	return c.result;
}

/* Submit one request and return its result (checking it is ours). */
static long raw(struct vs_sqe *e)
{
	uint64_t want = raw_submit(e), got = 0;
	long r = raw_reap(&got, NULL);
	if (r > -100000 && got != want) {
		printf("%s: completion for %lu, expected %lu\n", PROG, got, want);
		return -100000 - EPROTO;
	}
	return r;
}

static struct vs_sqe sqe(uint8_t opcode, uint32_t handle)
{
	struct vs_sqe e;
	memset(&e, 0, sizeof(e));
	e.opcode = opcode;
	e.handle = handle;
	return e;
}

static long raw_socket(void)
{
	struct vs_sqe e = sqe(VS_OP_SOCKET, 0);
	e.op_flags = VS_AF_INET << 16 | VS_SOCK_STREAM;
	return raw(&e);
}

static long raw_close(uint32_t h)
{
	struct vs_sqe e = sqe(VS_OP_CLOSE, h);
	return raw(&e);
}

static void sa_v4(struct vs_sockaddr *sa, uint8_t a, uint8_t b, uint8_t c, uint8_t d,
		  uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = VS_AF_INET;
	sa->port = htons(port);
	sa->addr[0] = a;
	sa->addr[1] = b;
	sa->addr[2] = c;
	sa->addr[3] = d;
}

/* ---- the cases ----------------------------------------------------------- */

static void case_buffers(uint32_t h)
{
	uint64_t ram = boot_info->ram_bytes;
	struct vs_sqe e = sqe(VS_OP_SEND, h);
	e.addr = ram + 4096;
	e.len = 16;
	report("gpa-beyond-ram", raw(&e), -EFAULT);
	e = sqe(VS_OP_SEND, h);
	e.addr = ram - 8;
	e.len = 16;
	report("gpa-across-end-of-ram", raw(&e), -EFAULT);
	e = sqe(VS_OP_RECV, h);
	e.addr = UINT64_MAX - 15;
	e.len = 64;
	report("gpa-plus-len-wraps", raw(&e), -EFAULT);
	e = sqe(VS_OP_RECV, h);
	e.addr = boot_info->ring_gpa;
	e.len = 64;
	report("gpa-in-ring-slot", raw(&e), -EFAULT);
	e = sqe(VS_OP_SEND, h);
	e.addr = (uint64_t)(uintptr_t)io_buf;
	e.len = 0xffffffffu;
	report("len-4g-minus-1", raw(&e), -EINVAL);
	e = sqe(VS_OP_GETSOCKNAME, h);
	e.addr = ram - 16; /* a 32-byte sockaddr across the end */
	report("sockaddr-out-across-end", raw(&e), -EFAULT);
	e = sqe(VS_OP_ACCEPT, h);
	e.addr = (uint64_t)(uintptr_t)io_buf;
	e.len = 8; /* shorter than a vs_sockaddr */
	report("accept-sockaddr-too-short", raw(&e), -EINVAL);
}

static void case_fields(uint32_t h)
{
	struct vs_sqe e = sqe(200, 0);
	report("unknown-opcode", raw(&e), -EINVAL);
	e = sqe(VS_OP__COUNT, 0);
	report("opcode-count", raw(&e), -EINVAL);
	e = sqe(VS_OP_NOP, 0);
	e.reserved0 = 1;
	report("reserved0-nonzero", raw(&e), -EINVAL);
	e = sqe(VS_OP_NOP, 0);
	e.flags = 0x80;
	report("unknown-sqe-flag", raw(&e), -EINVAL);
	e = sqe(VS_OP_NOP, 0);
	e.op_flags = 1;
	report("nop-op-flags", raw(&e), -EINVAL);
	e = sqe(VS_OP_CONNECT, h);
	sa_v4(&e.u.addr, 127, 0, 0, 1, 9);
	e.u.addr.reserved = 1;
	report("sockaddr-reserved-nonzero", raw(&e), -EINVAL);
	e = sqe(VS_OP_CANCEL, 0);
	e.u.out.reserved[5] = 1;
	report("cancel-reserved-nonzero", raw(&e), -EINVAL);
	e = sqe(VS_OP_SETSOCKOPT, h);
	e.u.opt.level = VS_SOL_SOCKET;
	e.u.opt.name = VS_SO_REUSEADDR;
	e.u.opt.value = -1;
	report("setsockopt-negative", raw(&e), -EINVAL);
	e = sqe(VS_OP_SETSOCKOPT, h);
	e.u.opt.level = 0;
	e.u.opt.name = 1; /* IP_TOS: not on the list */
	report("setsockopt-unlisted", raw(&e), -ENOPROTOOPT);
	e = sqe(VS_OP_SOCKET, 0);
	e.op_flags = 1u << 16 | VS_SOCK_STREAM; /* AF_UNIX */
	report("socket-af-unix", raw(&e), -EAFNOSUPPORT);
	e = sqe(VS_OP_SOCKET, 0);
	e.op_flags = VS_AF_INET << 16 | 3; /* SOCK_RAW */
	report("socket-raw", raw(&e), -EINVAL);
	e = sqe(VS_OP_POLL, h);
	e.op_flags = 0;
	report("poll-no-events", raw(&e), -EINVAL);
	e = sqe(VS_OP_LISTEN, h);
	e.op_flags = 0x10000;
	report("listen-backlog-huge", raw(&e), -EINVAL);
}

static void case_sockaddrs(uint32_t h)
{
	struct vs_sqe e = sqe(VS_OP_CONNECT, h);
	sa_v4(&e.u.addr, 127, 0, 0, 1, 9);
	e.u.addr.family = 1; /* AF_UNIX */
	report("sockaddr-family-unix", raw(&e), -EAFNOSUPPORT);
	e.u.addr.family = 0xffff;
	report("sockaddr-family-ffff", raw(&e), -EAFNOSUPPORT);
	sa_v4(&e.u.addr, 127, 0, 0, 1, 9);
	e.u.addr.addr[9] = 7; /* IPv4 with bytes past its 4 */
	report("sockaddr-v4-stray-bytes", raw(&e), -EINVAL);
	sa_v4(&e.u.addr, 127, 0, 0, 1, 9);
	e.u.addr.scope_id = 5;
	report("sockaddr-v4-scope-id", raw(&e), -EINVAL);
}

static void case_handles(void)
{
	struct vs_sqe e = sqe(VS_OP_SEND, NO_SUCH_HANDLE);
	e.addr = (uint64_t)(uintptr_t)io_buf;
	e.len = 1;
	report("never-opened-handle", raw(&e), -EBADF);
	e.handle = 0;
	report("handle-zero", raw(&e), -EBADF);
	e.handle = 0xffffffffu;
	report("handle-all-ones", raw(&e), -EBADF);
	long h = raw_socket();
	if (h <= 0) {
		report("socket-for-double-close", h, 1);
		return;
	}
	report("close-once", raw_close((uint32_t)h), 0);
	report("close-twice", raw_close((uint32_t)h), -EBADF);
	e.handle = (uint32_t)h;
	report("send-on-closed-handle", raw(&e), -EBADF);
	/* Its slot is reused by the next socket, with a new generation. */
	long h2 = raw_socket();
	e.handle = (uint32_t)h;
	report("stale-handle-after-reuse", h2 > 0 ? raw(&e) : h2, -EBADF);
	if (h2 > 0)
		report("close-reused", raw_close((uint32_t)h2), 0);
}

static void case_policy(uint32_t h)
{
	struct vs_sqe e = sqe(VS_OP_CONNECT, h);
	sa_v4(&e.u.addr, 10, 255, 255, 1, 80);
	report("connect-denied", raw(&e), -EACCES);
	e = sqe(VS_OP_CONNECT, h);
	memset(&e.u.addr, 0, sizeof(e.u.addr));
	e.u.addr.family = VS_AF_INET6;
	e.u.addr.port = htons(80);
	e.u.addr.addr[10] = e.u.addr.addr[11] = 0xff; /* ::ffff:10.0.0.1 */
	e.u.addr.addr[12] = 10;
	e.u.addr.addr[15] = 1;
	report("connect-v4-mapped-denied", raw(&e), -EACCES);
	e = sqe(VS_OP_BIND, h);
	sa_v4(&e.u.addr, 0, 0, 0, 0, 0);
	report("bind-wildcard-denied", raw(&e), -EACCES);
	e = sqe(VS_OP_LISTEN, h); /* unbound: it would listen on the wildcard */
	e.op_flags = 4;
	report("listen-unbound-denied", raw(&e), -EACCES);
	long u = raw_socket();
	e = sqe(VS_OP_SENDTO, (uint32_t)u);
	e.addr = (uint64_t)(uintptr_t)io_buf;
	e.len = 8;
	sa_v4(&e.u.addr, 192, 0, 2, 1, 53);
	report("sendto-denied", u > 0 ? raw(&e) : u, -EACCES);
	if (u > 0)
		raw_close((uint32_t)u);
}

/* Ports a guest may not take: privileged ones, a port shared over UDP. */
static void case_ports(void)
{
	long t = raw_socket();
	struct vs_sqe e = sqe(VS_OP_BIND, (uint32_t)t);
	sa_v4(&e.u.addr, 127, 0, 0, 1, 1);
	report("bind-privileged-port-denied", t > 0 ? raw(&e) : t, -EACCES);
	if (t > 0)
		raw_close((uint32_t)t);
	e = sqe(VS_OP_SOCKET, 0);
	e.op_flags = VS_AF_INET << 16 | VS_SOCK_DGRAM;
	long u = raw(&e);
	e = sqe(VS_OP_SETSOCKOPT, (uint32_t)u);
	e.u.opt.level = VS_SOL_SOCKET;
	e.u.opt.name = VS_SO_REUSEADDR;
	e.u.opt.value = 1;
	report("udp-reuseaddr-refused", u > 0 ? raw(&e) : u, -ENOPROTOOPT);
	if (u > 0)
		raw_close((uint32_t)u);
}

/* The issue-12 loop: connect to our own listener, stuff, close, again.  The
 * waiting connections and the closed ones still owing data count against
 * --max-sockets, so SOCKET must meet -EMFILE; the places come back once the
 * lingering closes end (reset after 10 s: nobody reads). */
static void case_amplification(void)
{
	long l = raw_socket();
	struct vs_sqe e = sqe(VS_OP_BIND, (uint32_t)l);
	sa_v4(&e.u.addr, 127, 0, 0, 1, 0);
	long r = l > 0 ? raw(&e) : l;
	e = sqe(VS_OP_LISTEN, (uint32_t)l);
	e.op_flags = 128;
	r = r ? r : raw(&e);
	static struct vs_sockaddr name;
	e = sqe(VS_OP_GETSOCKNAME, (uint32_t)l);
	e.addr = (uint64_t)(uintptr_t)&name;
	r = r ? r : raw(&e);
	report("amplification-listener", r, 0);
	if (r)
		return;
	long emfile = 0;
	for (int i = 0; i < 100 && !emfile; i++) {
		long c = raw_socket();
		if (c == -EMFILE) {
			emfile = 1;
			break;
		}
		e = sqe(VS_OP_CONNECT, (uint32_t)c);
		e.flags = VS_SQE_NONBLOCK;
		e.u.addr = name;
		raw(&e);
		mdelay(2);
		/* Stuff it until it takes no more: a connection whose every byte the
		 * peer acknowledged closes at once (hostnet/linger.h), one that still
		 * owes data lingers and counts. */
		for (int k = 0; k < 256; k++) {
			e = sqe(VS_OP_SEND, (uint32_t)c);
			e.flags = VS_SQE_NONBLOCK;
			e.addr = (uint64_t)(uintptr_t)stuff_buf;
			e.len = sizeof(stuff_buf);
			if (raw(&e) < (long)sizeof(stuff_buf))
				break;
		}
		raw_close((uint32_t)c);
	}
	report("amplification-emfile", emfile, 1);
	report("amplification-close-listener", raw_close((uint32_t)l), 0);
	long c = -EMFILE;
	uint64_t deadline = now_ns() + 15000000000ull;
	while (c == -EMFILE && now_ns() < deadline) {
		mdelay(100);
		c = raw_socket();
	}
	report("amplification-places-return", c > 0 ? 0 : c, 0);
	if (c > 0)
		raw_close((uint32_t)c);
}

/* Open sockets until -EMFILE; free one, open one; close all. */
static void case_flood(uint32_t already_open, uint32_t max_sockets)
{
	static uint32_t hs[70000];
	uint32_t n = 0;
	long r = 0;
	while (n < sizeof(hs) / sizeof(hs[0])) {
		r = raw_socket();
		if (r <= 0)
			break;
		hs[n++] = (uint32_t)r;
	}
	report("socket-flood-emfile", r, -EMFILE);
	if (max_sockets)
		report("socket-flood-count", (long)(n + already_open), (long)max_sockets);
	if (n) {
		report("flood-close-one", raw_close(hs[--n]), 0);
		r = raw_socket();
		report("flood-reopen-after-close", r > 0 ? 0 : r, 0);
		if (r > 0)
			hs[n++] = (uint32_t)r;
		report("flood-full-again", raw_socket(), -EMFILE);
	}
	long bad = 0;
	while (n)
		if (raw_close(hs[--n]) != 0)
			bad++;
	report("flood-close-all", bad, 0);
	r = raw_socket();
	report("flood-released", r > 0 ? 0 : r, 0);
	if (r > 0)
		raw_close((uint32_t)r);
}

/* The guest rewrites entries and host-owned indices while the host works. */
static void case_rewrite(uint32_t conn)
{
	/* A receive parks on the host (no data yet) ... */
	struct vs_sqe e = sqe(VS_OP_RECV, conn);
	e.addr = (uint64_t)(uintptr_t)io_buf2;
	e.len = 7;
	e.op_flags = VS_MSG_WAITALL;
	uint32_t slot = sq_tail & (VS_SQ_ENTRIES - 1);
	uint64_t recv_ud = raw_submit(&e);
	mdelay(20);
	/* ... then its slot is scribbled on: the host works from its own copy. */
	for (int i = 0; i < 200; i++) {
		struct vs_sqe *s = &rq->sq[slot];
		s->opcode = (uint8_t)(0xff - i);
		s->addr = UINT64_MAX - (uint64_t)i;
		s->len = 0xffffffffu;
		s->handle = NO_SUCH_HANDLE + (uint32_t)i;
	}
	memcpy(io_buf, "hostile", 7);
	struct vs_sqe s = sqe(VS_OP_SEND, conn);
	s.addr = (uint64_t)(uintptr_t)io_buf;
	s.len = 7;
	uint64_t send_ud = raw_submit(&s);
	long send_r = -1, recv_r = -1;
	for (int k = 0; k < 2; k++) {
		uint64_t ud = 0;
		long r = raw_reap(&ud, NULL);
		if (ud == recv_ud)
			recv_r = r;
		else if (ud == send_ud)
			send_r = r;
	}
	report("rewrite-parked-sqe-send", send_r, 7);
	report("rewrite-parked-sqe-recv", recv_r, 7);
	report("rewrite-parked-sqe-data", memcmp(io_buf2, "hostile", 7) ? -1 : 0, 0);

	/* A NOP whose bytes flip while the host may be copying it: either the
	 * NOP or the garbage is what the host saw, never anything else. */
	e = sqe(VS_OP_NOP, 0);
	slot = sq_tail & (VS_SQ_ENTRIES - 1);
	uint64_t ud = raw_submit(&e);
	for (int i = 0; i < 2000; i++) {
		rq->sq[slot].opcode = (uint8_t)(i & 1 ? 0xee : VS_OP_NOP);
		rq->sq[slot].reserved0 = (uint16_t)(i & 1);
	}
	uint64_t got = 0;
	long r = raw_reap(&got, NULL);
	report("rewrite-racing-nop", got == ud && (r == 0 || r == -EINVAL) ? 0 : r, 0);

	/* Host-owned indices (sq_head, cq_tail) scribbled: the host keeps its own. */
	__atomic_store_n(&rq->ctrl.sq_head, 0xdeadbeefu, __ATOMIC_RELEASE);
	__atomic_store_n(&rq->ctrl.cq_tail, cq_head + 777, __ATOMIC_RELEASE);
	e = sqe(VS_OP_NOP, 0);
	ud = raw_submit(&e);
	/* raw_reap() would trust our forged cq_tail: look at the entry itself. */
	uint64_t deadline = now_ns() + (uint64_t)WAIT_MS * 1000000u;
	struct vs_cqe *c = &rq->cq[cq_head & (VS_CQ_ENTRIES - 1)];
	while (__atomic_load_n(&c->user_data, __ATOMIC_ACQUIRE) != ud && now_ns() < deadline) {
		doorbell(RQ, VS_DB_SUBMIT, 0);
		mdelay(1);
	}
	long nop_r = __atomic_load_n(&c->user_data, __ATOMIC_ACQUIRE) == ud ? c->result : -1;
	report("forged-host-indices", nop_r, 0);
	cq_head++;
	__atomic_store_n(&rq->ctrl.cq_head, cq_head, __ATOMIC_RELEASE);
	e = sqe(VS_OP_NOP, 0);
	report("after-forged-indices", raw(&e), 0);
}

static void case_doorbells(void)
{
	report("doorbell-queue-out-of-range", doorbell(200, VS_DB_SUBMIT, 0), -EINVAL);
	report("doorbell-queue-nr-queues", doorbell(boot_info->nr_queues, VS_DB_SUBMIT, 0),
	       -EINVAL);
	report("doorbell-bad-flags", doorbell(RQ, 0x80, 0), -EINVAL);
	report("doorbell-wait-zero-empty", doorbell(RQ, VS_DB_WAIT, 0), -ETIMEDOUT);
	if (have_hypercall()) {
		uint64_t a2 = VS_DB_ARG(RQ, VS_DB_SUBMIT, 0);
		uint64_t gpa = boot_info->ring_gpa, pages = boot_info->ring_bytes / 4096;
		report("doorbell-wrong-magic",
		       hypercall(gpa, pages, (a2 & 0xffffffffu) | (uint64_t)0x12345678 << 32),
		       -EINVAL);
		report("doorbell-wrong-ring-gpa", hypercall(gpa + 4096, pages, a2), -EINVAL);
		report("doorbell-wrong-ring-pages", hypercall(gpa, pages + 1, a2), -EINVAL);
	} else {
		printf("%s: doorbell-wrong-magic skipped (port-I/O doorbell: the magic and ring "
		       "arguments are implied)\n", PROG);
	}
	struct vs_sqe e = sqe(VS_OP_NOP, 0);
	report("doorbells-after-bad-ones", raw(&e), 0);
}

/* Last on queue RQ: after this nothing more is consumed from it. */
static void case_broken_ring(void)
{
	__atomic_store_n(&rq->ctrl.sq_tail, sq_tail + 100000u, __ATOMIC_RELEASE);
	doorbell(RQ, VS_DB_SUBMIT, 0);
	int64_t r = -ETIMEDOUT;
	for (int i = 0; i < 10 && r == -ETIMEDOUT; i++)
		r = doorbell(RQ, VS_DB_WAIT, 500);
	report("ring-tail-far-ahead-wait-eio", (long)r, -EIO);
	uint32_t flags = __atomic_load_n(&rq->ctrl.flags, __ATOMIC_ACQUIRE);
	report("ring-tail-far-ahead-broken-flag", (flags & VS_QF_BROKEN) ? 0 : -1, 0);
	report("broken-queue-submit", doorbell(RQ, VS_DB_SUBMIT, 0), -EIO);
}

/* A normal round trip through guest-lib on queue 0: the VM still works. */
static void case_echo(const char *host, const char *port)
{
	int fd = net_connect_tcp(PROG, host, port);
	if (fd < 0) {
		report("echo-after-all", -errno, 0);
		return;
	}
	static const char msg[] = "still alive after all that";
	char buf[sizeof(msg)];
	long r = net_send_all(fd, msg, sizeof(msg));
	if (r >= 0)
		r = net_recv_full(fd, buf, sizeof(msg));
	report("echo-after-all", r == (long)sizeof(msg) && !memcmp(buf, msg, sizeof(msg)) ? 0
		       : (r < 0 ? -errno : r), 0);
	close(fd);
}

static int hostile_main(int argc, char **argv)
{
	uint64_t max_sockets = 0;
	if (argc != 4 || !net_parse_size(argv[3], &max_sockets) || max_sockets > 65535)
		return net_usage(argv[0], "HOST PORT MAX_SOCKETS\n  (run with -c 2 and "
				 "--max-sockets MAX_SOCKETS; HOST:PORT an echo peer)");
	uint16_t port;
	if (!net_parse_port(argv[2], false, &port))
		return net_usage(argv[0], "HOST PORT MAX_SOCKETS (bad PORT)");
	if (boot_info->nr_queues < 2 || boot_info->ring_gpa == 0) {
		printf("%s: needs a transport with two queues: run the vmm with -c 2\n", PROG);
		return NET_EXIT_USAGE;
	}
	int err = vs_platform_init(); /* guest-lib takes queue 0's indices now */
	if (err) {
		printf("%s: the socket library did not start: %s\n", PROG, strerror(-err));
		return NET_EXIT_FAIL;
	}
	rq = (struct vs_queue *)(uintptr_t)(boot_info->ring_gpa + (uint64_t)RQ * VS_QUEUE_BYTES);
	sq_tail = __atomic_load_n(&rq->ctrl.sq_tail, __ATOMIC_ACQUIRE);
	cq_head = __atomic_load_n(&rq->ctrl.cq_head, __ATOMIC_ACQUIRE);
	printf("%s: start\n", PROG);
	mdelay(PAUSE_MS);

	struct vs_sqe e = sqe(VS_OP_NOP, 0);
	report("nop", raw(&e), 0);
	long h = raw_socket();
	report("socket", h > 0 ? 0 : h, 0);
	if (h <= 0)
		goto out;
	case_buffers((uint32_t)h);
	case_fields((uint32_t)h);
	case_sockaddrs((uint32_t)h);
	case_handles();
	case_policy((uint32_t)h);
	case_ports();

	/* A connection to the echo peer, for the rewrite cases. */
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (!net_parse_ip(argv[1], port, &ss, &sslen) || ss.ss_family != AF_INET) {
		printf("%s: HOST must be an IPv4 address (the raw cases connect to it)\n", PROG);
		return NET_EXIT_USAGE;
	}
	long c = raw_socket();
	e = sqe(VS_OP_CONNECT, (uint32_t)c);
	const uint8_t *ip = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
	sa_v4(&e.u.addr, ip[0], ip[1], ip[2], ip[3], port);
	report("connect-echo-peer", c > 0 ? raw(&e) : c, 0);

	case_flood(c > 0 ? 2 : 1, (uint32_t)max_sockets);
	if (c > 0)
		case_rewrite((uint32_t)c);
	case_doorbells();
	report("close-socket", raw_close((uint32_t)h), 0);
	if (c > 0)
		report("close-connection", raw_close((uint32_t)c), 0);
	case_amplification();
	case_broken_ring();
out:
	case_echo(argv[1], argv[2]);
	if (failures)
		printf("%s: %u of %u cases FAILED\n", PROG, failures, cases);
	else
		printf("%s: %u cases, all ok\n", PROG, cases);
	printf("%s: done\n", PROG);
	mdelay(PAUSE_MS);
	return failures ? NET_EXIT_FAIL : 0;
}
GUEST_PROGRAM("hostile", hostile_main, "HOST PORT MAX_SOCKETS",
	      "play a malicious guest (raw ring entries, doorbells) on queue 1; needs -c 2");
