/* SPDX-License-Identifier: MIT */
/*
 * Executing validated requests (ops.c): try now, park on the socket, resume
 * on readiness.  One execution table row per opcode (ops.c's op_exec[],
 * beside validate.c's op_rules[]).
 *
 * Each worker owns one struct hn_exec: its epoll set (the sockets it
 * creates join it), its private buffers and its payload counters.
 */
#ifndef VS_HOSTNET_OPS_H
#define VS_HOSTNET_OPS_H

#include <stdatomic.h>
#include <stdint.h>

#include "linger.h"
#include "req.h"
#include "virtsocket/abi.h"

struct hn_handle_table;
struct hn_deny_log;
struct hn_sockbuf;
struct hostnet_config;

struct hn_exec {
	/* The VM's, shared by every worker. */
	const struct hostnet_config *cfg; /* policy (LISTEN), max_backlog, max_sockets */
	struct hn_handle_table *handles;
	struct hn_deny_log *deny_log;
	struct hn_sockbuf *sockbuf;     /* guest socket buffers (sockbuf.h) */
	/* This worker's. */
	int epfd;                   /* sockets made here are watched by this set */
	uint8_t *scratch;           /* bounce mode: the private host copy of a payload */
	/* Sockets whose SENDs wait for the end of this pass (referenced); one
	 * pass takes at most VS_SQ_ENTRIES requests, so this many at most. */
	struct hn_sock *deferred[VS_SQ_ENTRIES];
	uint32_t nr_deferred;
	struct hn_linger_set linger; /* closed connections still finishing */
	atomic_uint_least64_t bytes_sent, bytes_received, bytes_copied, send_calls;
	atomic_uint_least64_t syscalls_skipped; /* not made: known not ready (readiness.h) */
};

/* Run a validated request (on the caller's stack); it completes now or is
 * parked on its socket.  Takes over req->sock's reference. */
void hn_ops_submit(struct hn_exec *x, struct hn_req *req);
/* End of a pass over a queue's new requests: send what hn_ops_submit()
 * deferred, each socket's SENDs gathered into one sendmsg. */
void hn_ops_flush(struct hn_exec *x);
/* The socket behind handle became ready (events: the epoll_event's mask):
 * count the edges (readiness.h), retry what waits on it. */
void hn_ops_ready(struct hn_exec *x, uint32_t handle, uint32_t events);
/* Close every socket in the table at destroy time (workers already joined):
 * parked requests are dropped without completions. */
void hn_ops_close_all(struct hn_handle_table *handles, uint32_t max_sockets);

#endif
