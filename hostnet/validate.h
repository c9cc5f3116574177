/* SPDX-License-Identifier: MIT */
/*
 * Request validation: a private copy of one SQE in, a decoded request (or
 * -errno) out.  The rules live in one table, op_rules[] in validate.c: which
 * fields each opcode uses, which buffer it reads or writes, which op_flags it
 * accepts.  Nothing here looks at shared memory: the caller copies the SQE
 * out of the ring first, because the guest may rewrite it at any time.
 *
 * Errors (the completion's result, with VS_CQE_BAD_REQUEST):
 *   -EINVAL        unknown opcode, unknown sqe.flags bit, a reserved field
 *                  that is not zero, bad op_flags for the opcode, a length
 *                  over VS_MAX_IO_BYTES, a sockaddr with stray bytes
 *   -EFAULT        a buffer not entirely inside guest RAM (zero copy) or the
 *                  queue's bounce area (bounce mode), or wrapping past 2^64
 *   -EAFNOSUPPORT  a sockaddr or SOCKET domain that is not IPv4/IPv6
 *   -ENOPROTOOPT   a socket option outside the supported list
 *   -EBADF         a handle that is not an open socket of this VM
 *   -EACCES        CONNECT/SENDTO to a peer, or BIND to a local address, that
 *                  the egress policy (policy.h) does not allow; out->sa holds
 *                  the decoded address for the log line.  Checked before the
 *                  handle, so no reference is held.
 */
#ifndef VS_HOSTNET_VALIDATE_H
#define VS_HOSTNET_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "virtsocket/abi.h"
#include "guest_mem.h"
#include "req.h"

struct hn_handle_table;
struct hostnet_policy;

struct hn_validate_ctx {
	const struct hn_guest_mem *mem;
	struct hn_handle_table *handles;
	uint32_t queue;             /* the queue the SQE came from (its bounce area) */
	enum vs_copy_mode copy;
	const struct hostnet_policy *policy; /* egress policy; NULL: allow all (tests) */
};

/* Check sqe and decode it into *out.  Returns 0 (out->sock then holds a
 * reference the caller must drop) or -errno; out is zeroed first either way. */
int hn_validate(const struct hn_validate_ctx *ctx, const struct vs_sqe *sqe,
		struct hn_req *out);

/* The opcode's name for log lines ("?" if out of range). */
const char *hn_op_name(unsigned opcode);

#endif
