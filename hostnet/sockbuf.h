/* SPDX-License-Identifier: MIT */
/*
 * How much a guest socket may queue in the host kernel (sockbuf.c).
 *
 * A socket with SO_SNDBUF/SO_RCVBUF set is capped (cfg.sock_buffer, Linux
 * doubles it) and loses Linux's autotuning, which costs a streaming guest a
 * fifth of its throughput (README "Where the time goes").  So a VM's first
 * sockets keep autotuning, as many as its budget (cfg.sock_memory) covers
 * at the most one autotuned socket may queue (cfg.sock_autotune_bytes: the
 * host's net.ipv4.tcp_wmem + tcp_rmem maxima), and the others get the cap.
 * What a VM may queue stays bounded: sock_memory for the autotuned ones plus
 * about 4 x sock_buffer for each other socket.  An autotuned socket frees its
 * place at CLOSE.  cfg.sock_buffer == HOSTNET_SOCK_BUFFER_AUTO: every socket
 * autotunes, no budget.
 */
#ifndef VS_HOSTNET_SOCKBUF_H
#define VS_HOSTNET_SOCKBUF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct hostnet_config;

struct hn_sockbuf {
	uint32_t cap;             /* cfg.sock_buffer (HOSTNET_SOCK_BUFFER_AUTO: no cap) */
	uint32_t max_autotuned;   /* sockets the budget covers */
	atomic_uint autotuned;    /* ... open now */
};

void hn_sockbuf_init(struct hn_sockbuf *b, const struct hostnet_config *cfg);

/* A socket (fd) whose buffers are still Linux's own (unlocked: a new one, or
 * one accepted from an autotuned listener; an accepted socket inherits its
 * listener's cap, so one from a capped listener is left alone): autotuned
 * if the budget has a place (*autotuned, counted), else capped.  0 or -errno
 * from setsockopt. */
int hn_sockbuf_apply(struct hn_sockbuf *b, int fd, bool unlocked, bool *autotuned);

/* An autotuned socket was closed: its place is free. */
void hn_sockbuf_release(struct hn_sockbuf *b);

/* The most SETSOCKOPT SO_SNDBUF/SO_RCVBUF may set on a socket (INT32_MAX: any). */
int hn_sockbuf_limit(const struct hn_sockbuf *b, bool autotuned);

#endif
