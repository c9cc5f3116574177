/* SPDX-License-Identifier: MIT */
/*
 * Request validation, table-driven: start from a valid request of each
 * opcode, break one field, expect one errno.  Plus what a valid request
 * decodes to.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "handle_table.h"
#include "sock.h"
#include "validate.h"

#define RAM_BYTES (64u * 1024u)
#define RING_GPA  (1ull << 32)

static uint8_t *ram, *ring;
static struct hn_guest_mem mem;
static struct hn_handle_table *handles;
static uint32_t H;      /* an open handle */
static uint32_t H_OLD;  /* a closed one whose slot was reused */

static void setup(void)
{
	ram = calloc(1, RAM_BYTES);
	ring = calloc(2, VS_QUEUE_BYTES);
	cr_assert(ram && ring);
	mem = (struct hn_guest_mem){ .ram = ram, .ram_bytes = RAM_BYTES, .ring = ring,
				     .ring_gpa = RING_GPA, .ring_bytes = 2ull * VS_QUEUE_BYTES,
				     .nr_queues = 2 };
	cr_assert_eq(hn_handles_create(4, &handles), 0);
	cr_assert_eq(hn_handles_add(handles, hn_sock_new(-1, SOCK_STREAM), &H_OLD), 0);
	hn_sock_put(hn_handles_remove(handles, H_OLD, NULL));
	for (int i = 0; i < 4; i++) { /* cycle the free list back to H_OLD's slot */
		uint32_t h;
		cr_assert_eq(hn_handles_add(handles, hn_sock_new(-1, SOCK_STREAM), &h), 0);
		if (hn_handles_slot(handles, h) == hn_handles_slot(handles, H_OLD)) {
			H = h;
			break;
		}
	}
	cr_assert_neq(H, 0);
}

static void teardown(void)
{
	struct hn_sock *all[4];
	uint32_t n = hn_handles_snapshot(handles, all, 4);
	for (uint32_t i = 0; i < n; i++) {
		hn_sock_put(hn_handles_remove(handles, all[i]->handle, NULL));
		hn_sock_put(all[i]);
	}
	hn_handles_destroy(handles);
	free(ram);
	free(ring);
}

static int check(const struct vs_sqe *e, enum vs_copy_mode copy, uint32_t queue,
		 struct hn_req *out)
{
	struct hn_validate_ctx ctx = { .mem = &mem, .handles = handles, .queue = queue,
				       .copy = copy };
	int err = hn_validate(&ctx, e, out);
	if (!err && out->sock)
		hn_sock_put(out->sock);
	return err;
}

static void sa4(struct vs_sockaddr *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = VS_AF_INET;
	sa->port = htons(80);
	sa->addr[0] = 127;
	sa->addr[3] = 1;
}

/* A valid request of each opcode. */
static struct vs_sqe good(uint8_t op)
{
	struct vs_sqe e;
	memset(&e, 0, sizeof(e));
	e.opcode = op;
	e.handle = H;
	e.user_data = 0x1234;
	switch (op) {
	case VS_OP_SOCKET:
		e.op_flags = VS_AF_INET << 16 | VS_SOCK_STREAM;
		break;
	case VS_OP_CONNECT:
	case VS_OP_BIND:
		sa4(&e.u.addr);
		break;
	case VS_OP_LISTEN:
		e.op_flags = 128;
		break;
	case VS_OP_ACCEPT:
	case VS_OP_GETSOCKNAME:
	case VS_OP_GETPEERNAME:
		e.addr = 1024;
		e.len = sizeof(struct vs_sockaddr);
		break;
	case VS_OP_SEND:
	case VS_OP_RECV:
		e.addr = 4096;
		e.len = 1000;
		break;
	case VS_OP_SENDTO:
		e.addr = 4096;
		e.len = 1000;
		sa4(&e.u.addr);
		break;
	case VS_OP_RECVFROM:
		e.addr = 4096;
		e.len = 1000;
		e.u.out.addr_gpa = 2048;
		break;
	case VS_OP_SHUTDOWN:
		e.op_flags = 1;
		break;
	case VS_OP_SETSOCKOPT:
		e.u.opt.level = VS_SOL_TCP;
		e.u.opt.name = VS_TCP_NODELAY;
		e.u.opt.value = 1;
		break;
	case VS_OP_GETSOCKOPT:
		e.u.opt.level = VS_SOL_SOCKET;
		e.u.opt.name = VS_SO_ERROR;
		break;
	case VS_OP_POLL:
		e.op_flags = VS_POLLIN;
		break;
	case VS_OP_CANCEL:
		e.u.out.addr_gpa = 77;
		break;
	}
	return e;
}

TestSuite(validate, .init = setup, .fini = teardown, .timeout = 10);

Test(validate, every_opcode_has_a_valid_form)
{
	for (uint8_t op = 0; op < VS_OP__COUNT; op++) {
		struct vs_sqe e = good(op);
		struct hn_req r;
		cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0, "%s", hn_op_name(op));
		cr_assert_eq(r.user_data, 0x1234);
		cr_assert_eq(r.opcode, op);
	}
}

struct bad_case {
	const char *what;
	uint8_t op;
	void (*mutate)(struct vs_sqe *e);
	int err;
	enum vs_copy_mode copy;
};

#define MUT(name, body) static void name(struct vs_sqe *e) { body; }
MUT(op_count,          e->opcode = VS_OP__COUNT)
MUT(op_255,            e->opcode = 255)
MUT(flags_unknown,     e->flags = VS_SQE_FLAGS_MASK + 1) /* the lowest bit not defined */
MUT(flags_high,        e->flags = 0x80 | VS_SQE_NONBLOCK)
MUT(reserved0,         e->reserved0 = 1)
MUT(op_flags_1,        e->op_flags = 1)
MUT(op_flags_peek,     e->op_flags = VS_MSG_PEEK)
MUT(dom_unix,          e->op_flags = 1u << 16 | VS_SOCK_STREAM)
MUT(dom_zero,          e->op_flags = VS_SOCK_STREAM)
MUT(type_raw,          e->op_flags = VS_AF_INET << 16 | 3)
MUT(type_nonblock,     e->op_flags = VS_AF_INET << 16 | VS_SOCK_STREAM | 0x800)
MUT(sa_family_unix,    e->u.addr.family = 1)
MUT(sa_family_zero,    e->u.addr.family = 0)
MUT(sa_reserved,       e->u.addr.reserved = 1)
MUT(sa4_stray_addr,    e->u.addr.addr[4] = 1)
MUT(sa4_stray_addr15,  e->u.addr.addr[15] = 1)
MUT(sa4_flowinfo,      e->u.addr.flowinfo = 1)
MUT(sa4_scope,         e->u.addr.scope_id = 1)
MUT(sa6_reserved,      e->u.addr.family = VS_AF_INET6; e->u.addr.reserved = 5)
MUT(handle_zero,       e->handle = 0)
MUT(handle_closed,     e->handle = H_OLD)
MUT(handle_huge,       e->handle = 0xffffffffu)
MUT(handle_other_slot, e->handle = H + 3) /* H's generation (2) with slot 3, whose socket is generation 1 */
MUT(backlog_big,       e->op_flags = 65536)
MUT(buf_outside,       e->addr = RAM_BYTES)
MUT(buf_straddles,     e->addr = RAM_BYTES - 999)
MUT(buf_wraps,         e->addr = UINT64_MAX - 10; e->len = 100)
MUT(buf_at_top,        e->addr = UINT64_MAX; e->len = 1)
MUT(buf_in_ring,       e->addr = RING_GPA + VS_QUEUE_BOUNCE_OFFSET)
MUT(len_too_big,       e->len = VS_MAX_IO_BYTES + 1)
MUT(recv_dontwait,     e->op_flags = 0x40)
MUT(recv_peek_waitall, e->op_flags = VS_MSG_PEEK | VS_MSG_WAITALL)
MUT(from_outside,      e->u.out.addr_gpa = RAM_BYTES - 16)
MUT(from_reserved,     e->u.out.reserved[23] = 1)
MUT(shut_3,            e->op_flags = 3)
MUT(opt_level,         e->u.opt.level = 0)
MUT(opt_keepalive,     e->u.opt.name = 9)
MUT(opt_set_so_error,  e->u.opt.level = VS_SOL_SOCKET; e->u.opt.name = VS_SO_ERROR)
MUT(opt_negative,      e->u.opt.value = -1)
MUT(opt_over_int,      e->u.opt.value = (int64_t)1 << 31)
MUT(opt_reserved,      e->u.opt.reserved[0] = 1)
MUT(name_outside,      e->addr = RAM_BYTES - 31)
MUT(name_wraps,        e->addr = UINT64_MAX - 8)
MUT(accept_short_len,  e->len = 16)
MUT(accept_outside,    e->addr = RAM_BYTES)
MUT(poll_none,         e->op_flags = 0)
MUT(poll_unknown,      e->op_flags = VS_POLLIN | 0x40)
MUT(cancel_reserved,   e->u.out.reserved[0] = 1)
MUT(bounce_ram_buf,    e->addr = 4096)
MUT(bounce_other_q,    e->addr = RING_GPA + VS_QUEUE_BYTES + VS_QUEUE_BOUNCE_OFFSET)
MUT(bounce_overrun,    e->addr = RING_GPA + VS_QUEUE_BOUNCE_OFFSET + VS_BOUNCE_BYTES - 10)
MUT(bounce_cq,         e->addr = RING_GPA + VS_QUEUE_CQ_OFFSET)

static const struct bad_case cases[] = {
	{ "opcode == VS_OP__COUNT",         VS_OP_NOP,        op_count,          -EINVAL, VS_COPY_ZERO },
	{ "opcode 255",                     VS_OP_NOP,        op_255,            -EINVAL, VS_COPY_ZERO },
	{ "unknown sqe flag",               VS_OP_RECV,       flags_unknown,     -EINVAL, VS_COPY_ZERO },
	{ "high sqe flag",                  VS_OP_RECV,       flags_high,        -EINVAL, VS_COPY_ZERO },
	{ "reserved0",                      VS_OP_SEND,       reserved0,         -EINVAL, VS_COPY_ZERO },
	{ "NOP op_flags",                   VS_OP_NOP,        op_flags_1,        -EINVAL, VS_COPY_ZERO },
	{ "CONNECT op_flags",               VS_OP_CONNECT,    op_flags_1,        -EINVAL, VS_COPY_ZERO },
	{ "SEND op_flags",                  VS_OP_SEND,       op_flags_peek,     -EINVAL, VS_COPY_ZERO },
	{ "CLOSE op_flags",                 VS_OP_CLOSE,      op_flags_1,        -EINVAL, VS_COPY_ZERO },
	{ "SOCKET AF_UNIX",                 VS_OP_SOCKET,     dom_unix,          -EAFNOSUPPORT, VS_COPY_ZERO },
	{ "SOCKET domain 0",                VS_OP_SOCKET,     dom_zero,          -EAFNOSUPPORT, VS_COPY_ZERO },
	{ "SOCKET SOCK_RAW",                VS_OP_SOCKET,     type_raw,          -EINVAL, VS_COPY_ZERO },
	{ "SOCKET type | NONBLOCK",         VS_OP_SOCKET,     type_nonblock,     -EINVAL, VS_COPY_ZERO },
	{ "CONNECT AF_UNIX",                VS_OP_CONNECT,    sa_family_unix,    -EAFNOSUPPORT, VS_COPY_ZERO },
	{ "BIND family 0",                  VS_OP_BIND,       sa_family_zero,    -EAFNOSUPPORT, VS_COPY_ZERO },
	{ "SENDTO AF_UNIX",                 VS_OP_SENDTO,     sa_family_unix,    -EAFNOSUPPORT, VS_COPY_ZERO },
	{ "sockaddr reserved",              VS_OP_CONNECT,    sa_reserved,       -EINVAL, VS_COPY_ZERO },
	{ "IPv4 addr[4]",                   VS_OP_CONNECT,    sa4_stray_addr,    -EINVAL, VS_COPY_ZERO },
	{ "IPv4 addr[15]",                  VS_OP_BIND,       sa4_stray_addr15,  -EINVAL, VS_COPY_ZERO },
	{ "IPv4 flowinfo",                  VS_OP_CONNECT,    sa4_flowinfo,      -EINVAL, VS_COPY_ZERO },
	{ "IPv4 scope_id",                  VS_OP_SENDTO,     sa4_scope,         -EINVAL, VS_COPY_ZERO },
	{ "IPv6 reserved",                  VS_OP_CONNECT,    sa6_reserved,      -EINVAL, VS_COPY_ZERO },
	{ "handle 0",                       VS_OP_SEND,       handle_zero,       -EBADF, VS_COPY_ZERO },
	{ "closed handle, slot reused",     VS_OP_RECV,       handle_closed,     -EBADF, VS_COPY_ZERO },
	{ "handle 0xffffffff",              VS_OP_CLOSE,      handle_huge,       -EBADF, VS_COPY_ZERO },
	{ "handle of a free slot",          VS_OP_POLL,       handle_other_slot, -EBADF, VS_COPY_ZERO },
	{ "LISTEN backlog 65536",           VS_OP_LISTEN,     backlog_big,       -EINVAL, VS_COPY_ZERO },
	{ "SEND buffer past RAM",           VS_OP_SEND,       buf_outside,       -EFAULT, VS_COPY_ZERO },
	{ "RECV buffer straddles RAM end",  VS_OP_RECV,       buf_straddles,     -EFAULT, VS_COPY_ZERO },
	{ "SEND buffer wraps 2^64",         VS_OP_SEND,       buf_wraps,         -EFAULT, VS_COPY_ZERO },
	{ "RECV buffer at 2^64-1",          VS_OP_RECV,       buf_at_top,        -EFAULT, VS_COPY_ZERO },
	{ "zero copy buffer in ring slot",  VS_OP_SEND,       buf_in_ring,       -EFAULT, VS_COPY_ZERO },
	{ "SEND len > VS_MAX_IO_BYTES",     VS_OP_SEND,       len_too_big,       -EINVAL, VS_COPY_ZERO },
	{ "RECVFROM len > VS_MAX_IO_BYTES", VS_OP_RECVFROM,   len_too_big,       -EINVAL, VS_COPY_ZERO },
	{ "RECV MSG_DONTWAIT",              VS_OP_RECV,       recv_dontwait,     -EINVAL, VS_COPY_ZERO },
	{ "RECV PEEK|WAITALL",              VS_OP_RECV,       recv_peek_waitall, -EINVAL, VS_COPY_ZERO },
	{ "RECVFROM addr past RAM",         VS_OP_RECVFROM,   from_outside,      -EFAULT, VS_COPY_ZERO },
	{ "RECVFROM out.reserved",          VS_OP_RECVFROM,   from_reserved,     -EINVAL, VS_COPY_ZERO },
	{ "SHUTDOWN how 3",                 VS_OP_SHUTDOWN,   shut_3,            -EINVAL, VS_COPY_ZERO },
	{ "SETSOCKOPT level 0",             VS_OP_SETSOCKOPT, opt_level,         -ENOPROTOOPT, VS_COPY_ZERO },
	{ "GETSOCKOPT SO_KEEPALIVE",        VS_OP_GETSOCKOPT, opt_keepalive,     -ENOPROTOOPT, VS_COPY_ZERO },
	{ "SETSOCKOPT SO_ERROR",            VS_OP_SETSOCKOPT, opt_set_so_error,  -ENOPROTOOPT, VS_COPY_ZERO },
	{ "SETSOCKOPT value -1",            VS_OP_SETSOCKOPT, opt_negative,      -EINVAL, VS_COPY_ZERO },
	{ "SETSOCKOPT value 2^31",          VS_OP_SETSOCKOPT, opt_over_int,      -EINVAL, VS_COPY_ZERO },
	{ "SETSOCKOPT reserved",            VS_OP_SETSOCKOPT, opt_reserved,      -EINVAL, VS_COPY_ZERO },
	{ "GETSOCKOPT reserved",            VS_OP_GETSOCKOPT, opt_reserved,      -EINVAL, VS_COPY_ZERO },
	{ "GETSOCKNAME last 31 bytes",      VS_OP_GETSOCKNAME, name_outside,     -EFAULT, VS_COPY_ZERO },
	{ "GETPEERNAME wraps",              VS_OP_GETPEERNAME, name_wraps,       -EFAULT, VS_COPY_ZERO },
	{ "ACCEPT len 16",                  VS_OP_ACCEPT,     accept_short_len,  -EINVAL, VS_COPY_ZERO },
	{ "ACCEPT addr past RAM",           VS_OP_ACCEPT,     accept_outside,    -EFAULT, VS_COPY_ZERO },
	{ "POLL no events",                 VS_OP_POLL,       poll_none,         -EINVAL, VS_COPY_ZERO },
	{ "POLL unknown event",             VS_OP_POLL,       poll_unknown,      -EINVAL, VS_COPY_ZERO },
	{ "CANCEL reserved",                VS_OP_CANCEL,     cancel_reserved,   -EINVAL, VS_COPY_ZERO },
	{ "bounce: buffer in RAM",          VS_OP_SEND,       bounce_ram_buf,    -EFAULT, VS_COPY_BOUNCE },
	{ "bounce: other queue's area",     VS_OP_RECV,       bounce_other_q,    -EFAULT, VS_COPY_BOUNCE },
	{ "bounce: past the area",          VS_OP_SEND,       bounce_overrun,    -EFAULT, VS_COPY_BOUNCE },
	{ "bounce: the CQ",                 VS_OP_RECV,       bounce_cq,         -EFAULT, VS_COPY_BOUNCE },
};

Test(validate, each_bad_field_gets_its_errno)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		struct vs_sqe e = good(c->op);
		if (c->copy == VS_COPY_BOUNCE) {
			e.addr = RING_GPA + VS_QUEUE_BOUNCE_OFFSET;
			struct hn_req ok;
			cr_assert_eq(check(&e, VS_COPY_BOUNCE, 0, &ok), 0, "%s base", c->what);
		}
		c->mutate(&e);
		struct hn_req r;
		int err = check(&e, c->copy, 0, &r);
		cr_expect_eq(err, c->err, "%s: got %d, expected %d", c->what, err, c->err);
		cr_expect_null(r.sock, "%s: no reference kept on failure", c->what);
	}
	/* And no reference leaked anywhere: only the table's own remains. */
	struct hn_sock *s = hn_handles_get(handles, H);
	cr_assert_eq(atomic_load(&s->refs), 2);
	hn_sock_put(s);
}

Test(validate, edges_that_are_fine)
{
	struct hn_req r;
	struct vs_sqe e = good(VS_OP_SEND);
	e.addr = RAM_BYTES - 1000; /* ends exactly at the last byte */
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);
	cr_assert_eq(r.buf, ram + RAM_BYTES - 1000);
	e.addr = RAM_BYTES;        /* empty buffer at the end */
	e.len = 0;
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);

	e = good(VS_OP_RECV);
	e.op_flags = VS_MSG_WAITALL;
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);
	e.op_flags = VS_MSG_PEEK;
	e.flags = VS_SQE_NONBLOCK;
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);
	cr_assert_eq(r.sqe_flags, VS_SQE_NONBLOCK);

	e = good(VS_OP_ACCEPT);
	e.addr = 0; /* no peer address wanted */
	e.len = 0;
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);
	cr_assert_null(r.sa_out);
	e.addr = RAM_BYTES - 32;
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0); /* len 0: 32 bytes implied */
	cr_assert_eq(r.sa_out, ram + RAM_BYTES - 32);

	e = good(VS_OP_RECVFROM);
	e.u.out.addr_gpa = 0;
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);
	cr_assert_null(r.sa_out);

	e = good(VS_OP_SETSOCKOPT);
	e.u.opt.level = VS_SOL_SOCKET;
	e.u.opt.name = VS_SO_RCVBUF;
	e.u.opt.value = INT32_MAX;
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);
	cr_assert_eq(r.opt_value, INT32_MAX);

	e = good(VS_OP_POLL);
	e.op_flags = VS_POLLIN | VS_POLLOUT | VS_POLLERR | VS_POLLHUP;
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);

	/* Bounce mode: the whole area of the submitting queue, and only it. */
	e = good(VS_OP_RECV);
	e.addr = RING_GPA + VS_QUEUE_BYTES + VS_QUEUE_BOUNCE_OFFSET;
	e.len = VS_BOUNCE_BYTES;
	cr_assert_eq(check(&e, VS_COPY_BOUNCE, 1, &r), 0);
	cr_assert(r.bounce);
	cr_assert_eq(r.buf, ring + VS_QUEUE_BYTES + VS_QUEUE_BOUNCE_OFFSET);
	cr_assert_eq(check(&e, VS_COPY_BOUNCE, 0, &r), -EFAULT);
}

Test(validate, decoding)
{
	struct hn_req r;
	struct vs_sqe e = good(VS_OP_SENDTO);
	e.flags = VS_SQE_NONBLOCK;
	struct hn_validate_ctx ctx = { .mem = &mem, .handles = handles, .copy = VS_COPY_ZERO };
	cr_assert_eq(hn_validate(&ctx, &e, &r), 0);
	cr_assert_not_null(r.sock);
	cr_assert_eq(r.sock->handle, H);
	cr_assert_eq(r.buf, ram + 4096);
	cr_assert_eq(r.len, 1000);
	cr_assert_eq(r.sa.ss_family, AF_INET);
	cr_assert_eq(r.sa_len, sizeof(struct sockaddr_in));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&r.sa;
	cr_assert_eq(s4->sin_port, htons(80));
	cr_assert_eq(s4->sin_addr.s_addr, htonl(0x7f000001));
	hn_sock_put(r.sock);

	e = good(VS_OP_CONNECT);
	e.u.addr.family = VS_AF_INET6;
	e.u.addr.addr[15] = 1; /* ::1 with stray-looking bytes is fine for v6 */
	e.u.addr.addr[0] = 0;
	e.u.addr.addr[3] = 0;
	e.u.addr.scope_id = 3;
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);
	cr_assert_eq(r.sa.ss_family, AF_INET6);
	cr_assert_eq(((struct sockaddr_in6 *)&r.sa)->sin6_scope_id, 3);

	e = good(VS_OP_SOCKET);
	e.op_flags = VS_AF_INET6 << 16 | VS_SOCK_DGRAM;
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);
	cr_assert_eq(r.domain, VS_AF_INET6);
	cr_assert_eq(r.type, VS_SOCK_DGRAM);

	e = good(VS_OP_CANCEL);
	cr_assert_eq(check(&e, VS_COPY_ZERO, 0, &r), 0);
	cr_assert_eq(r.cancel_target, 77);
	cr_assert_null(r.sock, "CANCEL names no socket");

	cr_assert_str_eq(hn_op_name(VS_OP_RECVFROM), "RECVFROM");
	cr_assert_str_eq(hn_op_name(200), "?");
}
