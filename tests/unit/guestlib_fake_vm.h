/* SPDX-License-Identifier: MIT */
/*
 * A fake "VM" for libvirtsocket unit tests (no KVM): a malloc'ed buffer is
 * guest RAM at GPA 0, another one the ring slot at GPA 4 GiB, hostnet the
 * host side, and the doorbell a plain call into hostnet_doorbell().  Every
 * payload buffer a test hands the library must come from fvm_alloc() (it
 * lives in "guest RAM"); anything else has no GPA and fails with -EFAULT,
 * as a wild pointer would.
 *
 * Also: host peers (socat echo servers) started as child processes in
 * their own process group and stopped by fvm_stop().
 *
 * A small library (guestlib_fake_vm.c) linked into each tests/unit/guestlib_*.c.
 */
#ifndef GUESTLIB_FAKE_VM_H
#define GUESTLIB_FAKE_VM_H

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostnet.h"
#include "peer_child.h"
#include "virtsocket/vs_epoll.h"
#include "virtsocket/vsock.h"

#define FVM_RAM_BYTES  (64u << 20)
#define FVM_RING_GPA   (4ull << 30)
#define FVM_MAX_PEERS  4

struct fvm_opts {
	uint32_t notify;     /* enum vs_notify_mode */
	uint32_t copy;       /* enum vs_copy_mode */
	uint32_t batch;      /* 0: library default */
	uint32_t nr_queues;  /* 0: 1 */
	uint32_t poll_us;    /* hostnet's adaptive poll window */
	uint32_t spin_ns;    /* library's adaptive CQ spin (0: default) */
	uint32_t max_sockets; /* hostnet's (0: its default) */
};

struct fvm {
	uint8_t *ram;
	uint64_t ram_used;
	uint8_t *ring;
	uint64_t ring_bytes;
	struct hostnet *hn;
	uint32_t cpu;                /* what cpu_id() answers: picks the queue */
	uint64_t doorbells;          /* seen by the fake doorbell */
	pid_t peers[FVM_MAX_PEERS];
	unsigned nr_peers;
};

extern struct fvm fvm;

uint64_t fvm_virt_to_gpa(void *ctx, const void *p);

int64_t fvm_doorbell(void *ctx, uint64_t a2);

uint64_t fvm_now_ns(void *ctx);

uint32_t fvm_cpu_id(void *ctx);

/* size bytes of "guest RAM", 64-byte aligned, zeroed. */
void *fvm_alloc(size_t size);

void fvm_start(const struct fvm_opts *o);

void fvm_stop(void);

/* ---- addresses and host peers ------------------------------------------ */

struct vs_sockaddr fvm_loopback(uint16_t port);

/* A port nothing listens on right now (the kernel just handed it out). */
uint16_t fvm_free_port(int type);

pid_t fvm_spawn(char *const argv[]);

/* socat TCP echo server on 127.0.0.1; returns its port once it accepts. */
uint16_t fvm_tcp_echo(void);

/* socat UDP echo server on 127.0.0.1; returns its port once it answers. */
uint16_t fvm_udp_echo(void);

/* Deterministic test payload. */
void fvm_fill(uint8_t *p, size_t n, uint32_t seed);

/* Host side: a TCP listener on 127.0.0.1, any free port (*port); rcvbuf > 0
 * sets SO_RCVBUF first (its accepted sockets inherit it). */
int fvm_host_listener(uint16_t *port, int backlog, int rcvbuf);

/* Guest side: connect a TCP socket to 127.0.0.1:port. */
int fvm_connect_tcp(uint16_t port);

/* Guest side: receive exactly n bytes. */
void fvm_recv_all(int s, uint8_t *buf, size_t n);

/* ---- interest sets (vs_epoll.h) and the library's memory ---------------- */

/* A new set (its memory from the host heap: a set need not be guest-addressable). */
int fvm_new_set(void);

/* vs_epoll_ctl() with an event made of events and data. */
int fvm_ctl(int ep, int op, int fd, uint32_t events, uint64_t data);

/* vs_set_allocator()'s allocator: fake guest RAM (fvm_alloc). */
void *fvm_allocator(void *ctx, size_t bytes);

#endif /* GUESTLIB_FAKE_VM_H */
