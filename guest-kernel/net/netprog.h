/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the guest's network programs (prog_*.c): argument
 * parsing, error reports that name the errno, connect/listen shorthands,
 * full-length send/receive loops, and the deterministic byte pattern the
 * bulk programs send.
 *
 * Conventions for every network program:
 *   exit 0 success, 1 (NET_EXIT_FAIL) any failure, VS_EXIT_USAGE (2) bad
 *   arguments (after printing the usage).  Failures print one line
 *   "PROG: WHAT: ENAME (N)" where ENAME/N is the errno.
 *   Listening programs bind 127.0.0.1 (the host's loopback, through the VMM);
 *   PORT 0 picks a free port.  Once listening they print
 *   "PROG: listening on 127.0.0.1:PORT" so that a test can read the port.
 */
#ifndef NET_NETPROG_H
#define NET_NETPROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <virtsocket/abi.h>

#define NET_EXIT_FAIL  1
#define NET_EXIT_USAGE VS_EXIT_USAGE

/* "PROG: WHAT: ENAME (N)" for the current errno. */
void net_perror(const char *prog, const char *what);
/* "PROG: usage: PROG USAGE" and returns NET_EXIT_USAGE. */
int net_usage(const char *prog, const char *usage);

/* Decimal port 0..65535 (allow_zero) or 1..65535. */
bool net_parse_port(const char *s, bool allow_zero, uint16_t *out);
/* Unsigned decimal with an optional K, M or G suffix (powers of 1024). */
bool net_parse_size(const char *s, uint64_t *out);

/* An IPv4 or IPv6 literal (IPv6 with or without [brackets]) and a port. */
bool net_parse_ip(const char *host, uint16_t port, struct sockaddr_storage *ss,
		  socklen_t *len);
/* "a.b.c.d:port" / "[v6]:port" of an address, into buf. */
const char *net_addr_str(const struct sockaddr *sa, char *buf, size_t size);

/* A connected TCP socket to HOST:PORT, or -1 after printing why. */
int net_connect_tcp(const char *prog, const char *host, const char *port);
/* A TCP socket listening on 127.0.0.1:port with the given backlog, or -1 after
 * printing why; prints "PROG: listening on 127.0.0.1:P" with the real port. */
int net_listen_tcp(const char *prog, uint16_t port, int backlog);

/* send() until all len bytes are out: len, or -1 (errno set). */
ssize_t net_send_all(int fd, const void *buf, size_t len);
/* recv() until len bytes arrived or EOF: the count (< len only at EOF), or -1. */
ssize_t net_recv_full(int fd, void *buf, size_t len);

/*
 * The bulk pattern: byte i of the stream is byte (i % 8) (little endian) of
 * splitmix64(seed + (i / 8)), where splitmix64(x) is the finalizer
 *     z = (x + 1) * 0x9e3779b97f4a7c15;
 *     z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
 *     z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
 *     z ^ (z >> 31)
 * It depends on the position only, so any chunking gives the same bytes and
 * a test on the host can regenerate it.  Fills buf with stream bytes
 * [offset, offset + len).
 */
#define NET_PATTERN_SEED 0
uint64_t net_pattern_word(uint64_t seed, uint64_t index);
void net_pattern_fill(void *buf, size_t len, uint64_t offset, uint64_t seed);

/* A small deterministic PRNG (xorshift64*) for message sizes. */
uint64_t net_rand_next(uint64_t *state);

/* Milliseconds since the guest booted (TSC clock). */
uint64_t net_now_ms(void);
/* MiB/s for bytes moved in ms (0 if ms is 0). */
uint64_t net_mib_per_s(uint64_t bytes, uint64_t ms);

#endif
