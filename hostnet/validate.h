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

struct hn_sock;
struct hn_queue;
struct hn_handle_table;
struct hostnet_policy;

/* A validated request: everything the executor needs, with guest addresses
 * already turned into checked host pointers.  Lives on the worker's stack
 * while it is tried; copied to the heap only if it has to wait. */
struct hn_req {
	struct hn_req *next;        /* in its socket's pending list */
	struct hn_queue *q;         /* its completion goes to this queue's CQ */
	uint64_t seq;               /* submission number within q (CANCEL: oldest) */
	uint64_t user_data;
	uint8_t opcode;
	uint8_t sqe_flags;          /* VS_SQE_* */
	bool on_heap;               /* parked copy: free after completion */
	bool started;               /* CONNECT: connect() already returned EINPROGRESS */
	uint32_t handle;
	struct hn_sock *sock;       /* referenced; NULL for NOP, SOCKET, CANCEL */
	uint32_t op_flags;
	uint8_t *buf;               /* payload, host pointer (guest RAM or bounce area) */
	uint32_t len;
	uint32_t done;              /* bytes moved so far (SEND, RECV with WAITALL) */
	bool bounce;                /* stage the payload through a private host buffer */
	uint8_t *sa_out;            /* where to write a struct vs_sockaddr, or NULL */
	struct sockaddr_storage sa; /* CONNECT, BIND, SENDTO destination */
	socklen_t sa_len;
	int domain, type;           /* SOCKET */
	int opt_level, opt_name;    /* SETSOCKOPT / GETSOCKOPT */
	int opt_value;
	uint64_t cancel_target;     /* CANCEL: user_data to cancel */
};

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
