/* SPDX-License-Identifier: MIT */
#include "validate.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "handle_table.h"
#include "policy.h"
#include "sock.h"
#include "sockaddr.h"

/* What sqe.addr / sqe.len mean for an opcode. */
enum buf_use {
	BUF_NONE,       /* unused */
	BUF_SEND,       /* payload the host reads: guest RAM, or the bounce area */
	BUF_RECV,       /* payload the host writes: same places */
	BUF_SA_OUT,     /* addr: a struct vs_sockaddr the host fills; len unused */
	BUF_SA_OUT_OPT, /* as BUF_SA_OUT, but addr 0 = none and len is 0 or >= 32 */
};

/* What sqe.u means for an opcode. */
enum union_use {
	U_NONE,         /* unused, not looked at */
	U_SA_IN,        /* u.addr: the address to connect/bind/send to */
	U_SA_OUT_OPT,   /* u.out.addr_gpa: a vs_sockaddr to fill, 0 = none */
	U_CANCEL,       /* u.out.addr_gpa: the user_data to cancel */
	U_OPT_SET,      /* u.opt level, name, value */
	U_OPT_GET,      /* u.opt level, name */
};

typedef int (*op_flags_check)(uint32_t op_flags, struct hn_req *out);

struct op_rule {
	const char *name;
	bool handle;            /* sqe.handle must name an open socket */
	enum buf_use buf;
	enum union_use u;
	op_flags_check flags;   /* NULL: op_flags must be 0 */
};

static int check_socket(uint32_t f, struct hn_req *out)
{
	uint32_t domain = f >> 16, type = f & 0xffffu;
	if (domain != VS_AF_INET && domain != VS_AF_INET6)
		return -EAFNOSUPPORT;
	if (type != VS_SOCK_STREAM && type != VS_SOCK_DGRAM)
		return -EINVAL;
	out->domain = (int)domain;
	out->type = (int)type;
	return 0;
}

static int check_backlog(uint32_t f, struct hn_req *out)
{
	(void)out;
	return f <= 65535u ? 0 : -EINVAL;
}

static int check_recv_flags(uint32_t f, struct hn_req *out)
{
	(void)out;
	if (f & ~VS_MSG_MASK)
		return -EINVAL;
	/* Peeking while waiting for all bytes has no useful meaning. */
	if ((f & VS_MSG_PEEK) && (f & VS_MSG_WAITALL))
		return -EINVAL;
	return 0;
}

static int check_shutdown(uint32_t f, struct hn_req *out)
{
	(void)out;
	return f <= 2u ? 0 : -EINVAL; /* SHUT_RD, SHUT_WR, SHUT_RDWR */
}

static int check_poll(uint32_t f, struct hn_req *out)
{
	(void)out;
	const uint32_t known = VS_POLLIN | VS_POLLOUT | VS_POLLERR | VS_POLLHUP;
	return f && !(f & ~known) ? 0 : -EINVAL;
}

static const struct op_rule op_rules[VS_OP__COUNT] = {
	[VS_OP_NOP]         = { "NOP",         false, BUF_NONE,       U_NONE,       NULL },
	[VS_OP_SOCKET]      = { "SOCKET",      false, BUF_NONE,       U_NONE,       check_socket },
	[VS_OP_CONNECT]     = { "CONNECT",     true,  BUF_NONE,       U_SA_IN,      NULL },
	[VS_OP_BIND]        = { "BIND",        true,  BUF_NONE,       U_SA_IN,      NULL },
	[VS_OP_LISTEN]      = { "LISTEN",      true,  BUF_NONE,       U_NONE,       check_backlog },
	[VS_OP_ACCEPT]      = { "ACCEPT",      true,  BUF_SA_OUT_OPT, U_NONE,       NULL },
	[VS_OP_SEND]        = { "SEND",        true,  BUF_SEND,       U_NONE,       NULL },
	[VS_OP_RECV]        = { "RECV",        true,  BUF_RECV,       U_NONE,       check_recv_flags },
	[VS_OP_SENDTO]      = { "SENDTO",      true,  BUF_SEND,       U_SA_IN,      NULL },
	[VS_OP_RECVFROM]    = { "RECVFROM",    true,  BUF_RECV,       U_SA_OUT_OPT, check_recv_flags },
	[VS_OP_SHUTDOWN]    = { "SHUTDOWN",    true,  BUF_NONE,       U_NONE,       check_shutdown },
	[VS_OP_CLOSE]       = { "CLOSE",       true,  BUF_NONE,       U_NONE,       NULL },
	[VS_OP_SETSOCKOPT]  = { "SETSOCKOPT",  true,  BUF_NONE,       U_OPT_SET,    NULL },
	[VS_OP_GETSOCKOPT]  = { "GETSOCKOPT",  true,  BUF_NONE,       U_OPT_GET,    NULL },
	[VS_OP_GETSOCKNAME] = { "GETSOCKNAME", true,  BUF_SA_OUT,     U_NONE,       NULL },
	[VS_OP_GETPEERNAME] = { "GETPEERNAME", true,  BUF_SA_OUT,     U_NONE,       NULL },
	[VS_OP_POLL]        = { "POLL",        true,  BUF_NONE,       U_NONE,       check_poll },
	[VS_OP_CANCEL]      = { "CANCEL",      false, BUF_NONE,       U_CANCEL,     NULL },
};

/* The socket options a guest may touch; values are ints in [0, INT_MAX].
 * SO_REUSEADDR only on streams: on a UDP socket it would let the guest bind
 * a port a host daemon holds with SO_REUSEADDR and take its datagrams (on
 * TCP, Linux never shares a port with a listener).  No SO_REUSEPORT at all. */
static const struct opt_rule {
	uint32_t level, name;
	bool settable;
	bool set_on_streams_only;
} opt_rules[] = {
	{ VS_SOL_SOCKET, VS_SO_REUSEADDR, true,  true },
	{ VS_SOL_SOCKET, VS_SO_SNDBUF,    true,  false },
	{ VS_SOL_SOCKET, VS_SO_RCVBUF,    true,  false },
	{ VS_SOL_SOCKET, VS_SO_ERROR,     false, false },
	{ VS_SOL_TCP,    VS_TCP_NODELAY,  true,  false },
};

static bool set_on_streams_only(uint32_t level, uint32_t name)
{
	for (size_t i = 0; i < sizeof(opt_rules) / sizeof(opt_rules[0]); i++)
		if (opt_rules[i].level == level && opt_rules[i].name == name)
			return opt_rules[i].set_on_streams_only;
	return false;
}

const char *hn_op_name(unsigned opcode)
{
	return opcode < VS_OP__COUNT ? op_rules[opcode].name : "?";
}

static bool zero_bytes(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A destination (CONNECT, SENDTO) or local address (BIND) from the request:
 * decoded, then judged by the egress policy. */
static int check_sockaddr_in(const struct hn_validate_ctx *ctx, const struct vs_sqe *sqe,
			     struct hn_req *out)
{
	int err = hn_sockaddr_from_vs(&sqe->u.addr, &out->sa, &out->sa_len);
	if (err || !ctx->policy)
		return err;
	const struct sockaddr *sa = (const struct sockaddr *)&out->sa;
	bool ok = sqe->opcode == VS_OP_BIND
			  ? hostnet_policy_allows_local(ctx->policy, sa, out->sa_len)
			  : hostnet_policy_allows_peer(ctx->policy, sa, out->sa_len);
	return ok ? 0 : -EACCES;
}

/* A struct vs_sockaddr the host will write: always in guest RAM (in bounce
 * mode too: only payload is staged through the bounce area). */
static int check_sockaddr_out(const struct hn_validate_ctx *ctx, uint64_t gpa,
			      struct hn_req *out)
{
	out->sa_out = hn_gpa_ram(ctx->mem, gpa, sizeof(struct vs_sockaddr));
	return out->sa_out ? 0 : -EFAULT;
}

static int check_union(const struct hn_validate_ctx *ctx, const struct op_rule *rule,
		       const struct vs_sqe *sqe, struct hn_req *out)
{
	switch (rule->u) {
	case U_NONE:
		return 0;
	case U_SA_IN:
		return check_sockaddr_in(ctx, sqe, out);
	case U_SA_OUT_OPT:
		if (!zero_bytes(sqe->u.out.reserved, sizeof(sqe->u.out.reserved)))
			return -EINVAL;
		return sqe->u.out.addr_gpa ? check_sockaddr_out(ctx, sqe->u.out.addr_gpa, out) : 0;
	case U_CANCEL:
		if (!zero_bytes(sqe->u.out.reserved, sizeof(sqe->u.out.reserved)))
			return -EINVAL;
		out->cancel_target = sqe->u.out.addr_gpa;
		return 0;
	case U_OPT_SET:
	case U_OPT_GET:
		if (!zero_bytes(sqe->u.opt.reserved, sizeof(sqe->u.opt.reserved)))
			return -EINVAL;
		for (size_t i = 0; i < sizeof(opt_rules) / sizeof(opt_rules[0]); i++) {
			const struct opt_rule *o = &opt_rules[i];
			if (o->level != sqe->u.opt.level || o->name != sqe->u.opt.name)
				continue;
			if (rule->u == U_OPT_SET) {
				if (!o->settable)
					return -ENOPROTOOPT;
				if (sqe->u.opt.value < 0 || sqe->u.opt.value > INT_MAX)
					return -EINVAL;
				out->opt_value = (int)sqe->u.opt.value;
			}
			out->opt_level = (int)o->level;
			out->opt_name = (int)o->name;
			return 0;
		}
		return -ENOPROTOOPT;
	}
	return -EINVAL;
}

static int check_buffer(const struct hn_validate_ctx *ctx, const struct op_rule *rule,
			const struct vs_sqe *sqe, struct hn_req *out)
{
	switch (rule->buf) {
	case BUF_NONE:
		return 0;
	case BUF_SEND:
	case BUF_RECV:
		if (sqe->len > VS_MAX_IO_BYTES)
			return -EINVAL;
		out->len = sqe->len;
		if (ctx->copy == VS_COPY_BOUNCE) {
			out->buf = hn_gpa_bounce(ctx->mem, ctx->queue, sqe->addr, sqe->len);
			out->bounce = true;
		} else {
			out->buf = hn_gpa_ram(ctx->mem, sqe->addr, sqe->len);
		}
		return out->buf ? 0 : -EFAULT;
	case BUF_SA_OUT:
		return check_sockaddr_out(ctx, sqe->addr, out);
	case BUF_SA_OUT_OPT:
		if (!sqe->addr)
			return 0;
		if (sqe->len && sqe->len < sizeof(struct vs_sockaddr))
			return -EINVAL;
		return check_sockaddr_out(ctx, sqe->addr, out);
	}
	return -EINVAL;
}

int hn_validate(const struct hn_validate_ctx *ctx, const struct vs_sqe *sqe,
		struct hn_req *out)
{
	memset(out, 0, sizeof(*out));
	out->user_data = sqe->user_data;
	out->opcode = sqe->opcode;
	out->sqe_flags = sqe->flags;
	out->handle = sqe->handle;
	out->op_flags = sqe->op_flags;

	if (sqe->opcode >= VS_OP__COUNT)
		return -EINVAL;
	const struct op_rule *rule = &op_rules[sqe->opcode];
	if ((sqe->flags & ~VS_SQE_FLAGS_MASK) || sqe->reserved0)
		return -EINVAL;

	int err = rule->flags ? rule->flags(sqe->op_flags, out) : (sqe->op_flags ? -EINVAL : 0);
	if (!err)
		err = check_union(ctx, rule, sqe, out);
	if (!err)
		err = check_buffer(ctx, rule, sqe, out);
	if (err)
		return err;

	/* Last, so that no reference is taken for a request that fails. */
	if (rule->handle) {
		out->sock = hn_handles_get(ctx->handles, sqe->handle);
		if (!out->sock)
			return -EBADF;
		if (sqe->opcode == VS_OP_SETSOCKOPT && out->sock->type != SOCK_STREAM &&
		    set_on_streams_only(sqe->u.opt.level, sqe->u.opt.name)) {
			hn_sock_put(out->sock);
			out->sock = NULL;
			return -ENOPROTOOPT;
		}
	}
	return 0;
}
