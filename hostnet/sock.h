/* SPDX-License-Identifier: MIT */
/*
 * A host socket behind one guest handle.
 *
 * Any worker may run an operation on any socket (a guest may hand a socket
 * to another vCPU, hence another queue and worker), so the socket's state is
 * under its own mutex.  The fd is registered (edge-triggered) with the epoll
 * set of one worker, its owner, which retries the parked operations when the
 * socket becomes ready.
 *
 * Pending operations wait in three FIFO lists:
 *   in   RECV, RECVFROM, ACCEPT             (wait for readable)
 *   out  CONNECT, SEND, SENDTO, SHUTDOWN    (wait for writable / connected)
 *   poll POLL                               (each waits for its own events)
 * Only the head of in/out is ever tried, so operations of one direction
 * complete in submission order; a pending CONNECT also holds back the in list.
 * (Consecutive stream SENDs at the head of out go out together, in order, in
 * one sendmsg: still the head first.)
 *
 * Readiness: events bump the socket's per-direction edge counters (rx, tx),
 * and a direction whose last try said "not ready" is not tried again until
 * the next edge (readiness.h).
 *
 * Lifetime: reference counted.  The handle table holds one reference, every
 * request naming the socket holds one; the last put closes the fd.
 * Lock order: sock->lock, then a queue's lock or the handle table's lock.
 */
#ifndef VS_HOSTNET_SOCK_H
#define VS_HOSTNET_SOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "readiness.h"
#include "req.h"

/* SO_SNDBUF / SO_RCVBUF of every guest socket, and the most SETSOCKOPT may
 * ask for, unless cfg.sock_buffer says otherwise: Linux doubles it, so a
 * socket queues at most about 2 x this each way (its payload and the
 * kernel's bookkeeping). */
#define HN_SOCK_BUFFER_BYTES (256 * 1024)

struct hn_sock {
	atomic_uint refs;
	pthread_mutex_t lock;
	int fd;                  /* non-blocking, close-on-exec; -1 once closed */
	int type;                /* SOCK_STREAM or SOCK_DGRAM */
	uint32_t handle;         /* the guest's name for it */
	int epfd;                /* the epoll set watching fd: its owner worker's (-1: none) */
	bool closed;             /* CLOSE ran: every new operation gets -EBADF */
	uint32_t backlog_places; /* LISTEN: places reserved in the handle table for
	                            connections waiting in its backlog */
	bool autotuned;          /* keeps Linux's buffer autotuning, counted (sockbuf.h) */
	bool listening;          /* a LISTEN succeeded (ACCEPT may find connections) */
	uint64_t consumed;       /* stream: bytes received and not peeked (CLOSE: was
	                            anything left unread? linger.c) */
	bool deferred;           /* holds SENDs parked for the end of the worker's
	                            pass (ops.c: gathered into one sendmsg) */
	struct hn_req_list in, out, poll;
	/* What the last try of each direction said (readiness.h): a receive or
	 * ACCEPT that would only hear EAGAIN parks without a system call. */
	struct hn_readiness rx, tx;
	atomic_bool reads_stop_short; /* urgent data (EPOLLPRI), the end of file or an
	                            error (EPOLLRDHUP, EPOLLERR) came: a read
	                            stops short before it with more to report, so a
	                            short read no longer proves the queue empty */
};

/* A new socket object with one reference (the caller's).  NULL: -ENOMEM. */
struct hn_sock *hn_sock_new(int fd, int type);
void hn_sock_get(struct hn_sock *s);
/* Drop a reference; the last one closes the fd and frees the object. */
void hn_sock_put(struct hn_sock *s);

#endif
