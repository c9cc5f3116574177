/* SPDX-License-Identifier: MIT */
/*
 * A tiny test-side "guest" for the hostnet unit tests: guest RAM and the ring
 * slot are anonymous mappings, and these helpers play the guest's part of
 * the ring protocol with the right atomics (abi.h): fill an SQE, publish
 * sq_tail with release, fence, ring SUBMIT only if NEED_WAKEUP is set; reap
 * CQEs after an acquire load of cq_tail, hand them back with a release store
 * of cq_head.  Plus socat peers and plain host sockets for the real-network
 * tests.  A small library (hostnet_guest.c) linked into every hostnet_*.c test.
 */
#ifndef HOSTNET_TEST_GUEST_H
#define HOSTNET_TEST_GUEST_H

#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostnet.h"
#include "peer_child.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#define TG_RAM_BYTES (64ull << 20)
#define TG_RING_GPA  (1ull << 32) /* a second region above RAM, like the VMM's slot */

struct tg_queue {
	struct vs_queue *q;
	uint32_t index;
	uint32_t sq_tail;   /* the guest's private producer index */
	uint32_t cq_head;   /* the guest's private consumer index */
};

struct tg_vm {
	uint8_t *ram;
	uint8_t *ring;
	uint64_t ring_bytes;
	uint32_t nr_queues;
	uint64_t ram_next;  /* bump allocator for guest buffers */
	struct hostnet *hn;
	struct tg_queue qs[VS_MAX_QUEUES];
};

uint64_t tg_now_ms(void);

/* hostnet_config.max_sockets for the next tg_vm_init* (0: the default). */
extern uint32_t tg_max_sockets;

/* hostnet_config.sock_buffer, .sock_memory, .sock_autotune_bytes and
 * .timings for the next tg_vm_init* (0, false: the defaults). */
extern uint32_t tg_sock_buffer;
extern uint64_t tg_sock_memory, tg_sock_autotune_bytes;
extern bool tg_timings;

/* hostnet_config.policy for the next tg_vm_init* (all zero: the default). */
extern struct hostnet_policy tg_policy;

/* hostnet_config.seccomp for the next tg_vm_init*.  On, like in the VMM: every
 * hostnet test then runs its requests on filtered workers, so a system call
 * missing from the allow-list ends the test with the SIGSYS report (exit 73). */
extern bool tg_seccomp;

/* Map RAM and ring (zero filled), optionally preset every queue's indices
 * (all four equal: an idle queue), and create hostnet with cfg's tunables. */
void tg_vm_init_at(struct tg_vm *vm, uint32_t nr_queues, uint32_t workers,
		   uint32_t poll_us, enum vs_copy_mode copy, uint32_t start_index);

void tg_vm_init(struct tg_vm *vm, uint32_t nr_queues, uint32_t poll_us);

/* Under ASan: fail the test if anything allocated so far is unreachable.
 * (A leak report at process exit would not fail a Criterion test.) */
void tg_assert_no_leaks(void);

void tg_vm_fini(struct tg_vm *vm);

/* Guest RAM for a buffer: returns its GPA (64-byte aligned). */
uint64_t tg_alloc(struct tg_vm *vm, uint64_t bytes);

void *tg_ptr(struct tg_vm *vm, uint64_t gpa);

uint64_t tg_bounce_gpa(struct tg_vm *vm, uint32_t q);

uint32_t tg_flags(struct tg_queue *g);

int64_t tg_doorbell(struct tg_vm *vm, uint32_t q, uint32_t flags, uint32_t wait_ms);

/* The next free SQE, zeroed, or NULL if the SQ is full.  Not visible to the
 * host until tg_publish(). */
struct vs_sqe *tg_sqe(struct tg_queue *g);

void tg_publish(struct tg_queue *g);

/* Publish, then ring only if the host says it sleeps (the adaptive protocol).
 * Returns whether it rang. */
bool tg_submit(struct tg_vm *vm, struct tg_queue *g);

bool tg_reap(struct tg_queue *g, struct vs_cqe *out);

/* One completion, waiting with WAIT doorbells up to timeout_ms. */
void tg_wait_cqe(struct tg_vm *vm, struct tg_queue *g, struct vs_cqe *out,
		 uint32_t timeout_ms);

/* Submit one prepared request and wait for its completion; returns result. */
int32_t tg_run(struct tg_vm *vm, struct tg_queue *g, struct vs_sqe *e,
	       uint32_t *cqe_flags);

/* ---- one-request conveniences (user_data = an increasing counter) ------- */

extern uint64_t tg_ud;

struct vs_sqe *tg_prep(struct tg_queue *g, uint8_t op, uint32_t handle);

int32_t tg_op(struct tg_vm *vm, struct tg_queue *g, uint8_t op, uint32_t handle);

void tg_sa_loopback(struct vs_sockaddr *sa, uint16_t port);

int32_t tg_socket(struct tg_vm *vm, struct tg_queue *g, uint32_t type);

int32_t tg_connect(struct tg_vm *vm, struct tg_queue *g, uint32_t h, uint16_t port);

int32_t tg_io(struct tg_vm *vm, struct tg_queue *g, uint8_t op, uint32_t h,
	      uint64_t gpa, uint32_t len, uint32_t op_flags);

/* Wait for n completions (any order); returns them in arrival order. */
void tg_collect(struct tg_vm *vm, struct tg_queue *g, struct vs_cqe *out,
		unsigned n, uint32_t timeout_ms);

/* The completion for user_data among n collected ones. */
const struct vs_cqe *tg_find(const struct vs_cqe *c, unsigned n, uint64_t ud);

/* Nothing completes on g within ms (a request is really waiting). */
void tg_expect_nothing(struct tg_vm *vm, struct tg_queue *g, uint32_t ms);

/* ---- host-side peers ----------------------------------------------------- */

/* A port nobody listens on right now (bind 0, read it, close). */
uint16_t tg_free_port(int type);

/* Is something bound to 127.0.0.1:port (TCP: listening)?  Read from
 * /proc/net/{tcp,udp}, so that looking does not take the port itself. */
bool tg_port_bound(int type, uint16_t port);

/* Start socat with the given arguments in its own process group and wait
 * until it holds `port`.  Returns its pid, or 0 if it exited first (someone
 * took the port meanwhile: pick another and retry). */
pid_t tg_socat_try(int type, uint16_t port, const char *a1, const char *a2);

void tg_socat_stop(pid_t pid);

/* An echo server on 127.0.0.1 (SOCK_STREAM: TCP, SOCK_DGRAM: UDP, one child
 * per datagram); returns its port. */
uint16_t tg_echo(int type, pid_t *pid);

uint16_t tg_echo_tcp(pid_t *pid);

/* A plain host listener on 127.0.0.1 (for tests that need to see the bytes). */
int tg_listener(uint16_t *port);

/* A guest TCP socket on g connected to a plain host socket (*peer), e.g. to
 * control exactly when the host side reads or writes.  Returns the handle. */
int32_t tg_tcp_pair(struct tg_vm *vm, struct tg_queue *g, int *peer);

/* A guest TCP listener on 127.0.0.1 (an ephemeral port, *port) with the
 * given backlog.  Returns the handle. */
int32_t tg_guest_listener(struct tg_vm *vm, struct tg_queue *g, uint32_t backlog,
			  uint16_t *port);

int tg_count_fds(void);

void tg_fill_pattern(uint8_t *p, size_t n, uint32_t seed);

#endif
