/* SPDX-License-Identifier: MIT */
/*
 * One request on its way through hostnet: what validate.c decodes from a
 * private SQE copy, what ops.c executes, and what waits in a socket's lists
 * (sock.h) when it cannot complete at once.
 */
#ifndef VS_HOSTNET_REQ_H
#define VS_HOSTNET_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct hn_sock;
struct hn_queue;
struct hn_chain;

/* A validated request: everything the executor needs, with guest addresses
 * already turned into checked host pointers.  Lives on the worker's stack
 * while it is tried; copied to the heap only if it has to wait. */
struct hn_req {
	struct hn_req *next;        /* in its socket's pending list */
	struct hn_req *pend_prev, *pend_next; /* parked: in its queue's index (pending.h) */
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
	struct hn_chain *chain;     /* a link of this chain (chain.h), or NULL */
};

struct hn_req_list {
	struct hn_req *head, *tail;
};

void hn_req_list_push(struct hn_req_list *l, struct hn_req *r);
struct hn_req *hn_req_list_pop(struct hn_req_list *l);
/* Unlink r (which must be in l). */
void hn_req_list_remove(struct hn_req_list *l, struct hn_req *r);

#endif
