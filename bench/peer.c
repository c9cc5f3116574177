/* SPDX-License-Identifier: MIT */
/*
 * bench-peer: the host end of the benchmarks, one thread, epoll.
 *
 *   bench-peer [--bind ADDR] [--sink PORT] [--echo PORT]
 *
 *   ADDR: IPv4 (default 127.0.0.1), or vsock:any / vsock:CID for AF_VSOCK
 *   (--vsock is short for --bind vsock:any: scripts/peer-vm's vhost-vsock guest)
 *
 *   sink  reads and discards until EOF, then closes (stream)
 *   echo  writes back whatever it reads until EOF, then closes (rr, crr)
 *
 * PORT 0 lets the kernel choose.  Once listening it prints one line,
 *     READY sink=PORT echo=PORT
 * on stdout (a driver waits for it), then serves until SIGINT/SIGTERM and
 * prints totals to stderr.
 *
 * Why not socat: socat forks a process per connection (costly for crr) and
 * moves data in 8 KiB blocks through two buffers; scripts/bench --peer=socat
 * runs the comparison (README, "Performance").
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"

#define BUF_BYTES   (1u << 20)
#define MAX_EVENTS  64

enum role { ROLE_SINK_LISTEN, ROLE_ECHO_LISTEN, ROLE_SINK, ROLE_ECHO };

struct conn {
	enum role role;
	int fd;
	/* echo: bytes read but not yet written back (write side blocked) */
	uint8_t *pending;
	size_t pend_off, pend_len;
};

static volatile sig_atomic_t stop;
static uint8_t buf[BUF_BYTES];
static uint64_t total_in, total_out, total_conns;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Bind fd to a.  AF_VSOCK ports are 32 bits and the kernel's "any port"
 * (VMADDR_PORT_ANY) starts at a random one above 1023, almost always beyond
 * 65535: the port printed in READY (and taken by native-bench) would be
 * truncated and the client's connect reset.  So for vsock port 0 we pick a free
 * port below 65536 ourselves, starting at a pid-dependent one. */
static int bind_listener(int fd, const char *addr, uint16_t port, struct bench_addr *a)
{
	if (a->family != AF_VSOCK || port != 0)
		return bind(fd, &a->u.sa, a->len);
	uint32_t first = 1024u + (uint32_t)getpid() % 60000u;
	for (uint32_t i = 0; i < 64511u; i++) {
		uint16_t p = (uint16_t)(1024u + (first - 1024u + i) % 64512u);
		if (bench_addr_parse(addr, p, a) < 0)
			return -1;
		if (bind(fd, &a->u.sa, a->len) == 0)
			return 0;
		if (errno != EADDRINUSE)
			return -1;
	}
	return -1;
}

static int listen_on(const char *addr, uint16_t port, uint16_t *bound)
{
	struct bench_addr a;
	if (bench_addr_parse(addr, port, &a) < 0) {
		fprintf(stderr, "bench-peer: '%s' is neither an IPv4 address nor vsock:CID|any\n",
			addr);
		return -1;
	}
	int fd = socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind_listener(fd, addr, port, &a) < 0 || listen(fd, 1024) < 0) {
		fprintf(stderr, "bench-peer: cannot listen on %s:%u: %s\n", addr, port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	socklen_t len = sizeof(a.u);
	getsockname(fd, &a.u.sa, &len);
	*bound = bench_addr_port(&a);
	return fd;
}

static struct conn *conn_new(int ep, int fd, enum role role)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->role = role;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void conn_close(struct conn *c)
{
	close(c->fd); /* also removes it from the epoll set */
	free(c->pending);
	free(c);
}

static void accept_all(int ep, struct conn *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "bench-peer: accept: %s\n", strerror(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (!conn_new(ep, fd, l->role == ROLE_SINK_LISTEN ? ROLE_SINK : ROLE_ECHO))
			close(fd);
		else
			total_conns++;
	}
}

/* Write out c->pending; true when it is empty. */
static bool flush_pending(struct conn *c, bool *dead)
{
	while (c->pend_off < c->pend_len) {
		ssize_t n = send(c->fd, c->pending + c->pend_off, c->pend_len - c->pend_off,
				 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return false;
			*dead = true;
			return false;
		}
		c->pend_off += (size_t)n;
		total_out += (uint64_t)n;
	}
	c->pend_off = c->pend_len = 0;
	return true;
}

static void set_events(int ep, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Serve one ready connection; false when it is finished. */
static bool serve(int ep, struct conn *c, uint32_t events)
{
	bool dead = false;
	if (c->role == ROLE_ECHO && c->pend_len) {
		if (!flush_pending(c, &dead))
			return !dead;
		set_events(ep, c, EPOLLIN); /* drained: read again */
	}
	(void)events;
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0)
			return false; /* EOF: close, which the client waits for */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN;
		}
		total_in += (uint64_t)n;
		if (c->role == ROLE_SINK)
			continue;
		size_t off = 0;
		while (off < (size_t)n) {
			ssize_t w = send(c->fd, buf + off, (size_t)n - off, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno != EAGAIN)
				return false;
			if (w < 0) {
				/* the client is not reading: keep the rest, stop reading */
				if (!c->pending)
					c->pending = malloc(BUF_BYTES);
				if (!c->pending)
					return false;
				c->pend_len = (size_t)n - off;
				c->pend_off = 0;
				memcpy(c->pending, buf + off, c->pend_len);
				set_events(ep, c, EPOLLOUT);
				return true;
			}
			off += (size_t)w;
			total_out += (uint64_t)w;
		}
	}
	return true; /* more may be there: epoll (level triggered) says so */
}

static int usage(void)
{
	fprintf(stderr, "usage: bench-peer [--bind ADDR|--vsock] [--sink PORT] [--echo PORT]\n"
			"  ADDR: IPv4 (default 127.0.0.1) or vsock:any|vsock:CID (AF_VSOCK);\n"
			"  --vsock = --bind vsock:any\n"
			"  serves a sink (read until EOF) and/or an echo (write back until EOF);\n"
			"  prints 'READY sink=PORT echo=PORT' once listening (PORT 0: any)\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	long sink_port = -1, echo_port = -1;
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--bind"))
			addr = argv[++i];
		else if (!strcmp(argv[i], "--vsock"))
			addr = "vsock:any";
		else if (i + 1 < argc && !strcmp(argv[i], "--sink"))
			sink_port = strtol(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--echo"))
			echo_port = strtol(argv[++i], NULL, 10);
		else
			return usage();
	}
	if ((sink_port < 0 && echo_port < 0) || sink_port > 65535 || echo_port > 65535)
		return usage();

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("bench-peer: epoll_create1");
		return 1;
	}
	uint16_t sink_bound = 0, echo_bound = 0;
	if (sink_port >= 0) {
		int fd = listen_on(addr, (uint16_t)sink_port, &sink_bound);
		if (fd < 0 || !conn_new(ep, fd, ROLE_SINK_LISTEN))
			return 1;
	}
	if (echo_port >= 0) {
		int fd = listen_on(addr, (uint16_t)echo_port, &echo_bound);
		if (fd < 0 || !conn_new(ep, fd, ROLE_ECHO_LISTEN))
			return 1;
	}
	printf("READY sink=%u echo=%u\n", sink_bound, echo_bound);
	fflush(stdout);

	struct epoll_event evs[MAX_EVENTS];
	while (!stop) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, 500);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("bench-peer: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->role == ROLE_SINK_LISTEN || c->role == ROLE_ECHO_LISTEN)
				accept_all(ep, c);
			else if (!serve(ep, c, evs[i].events))
				conn_close(c);
		}
	}
	fprintf(stderr, "bench-peer: %llu connections, %llu bytes in, %llu bytes out\n",
		(unsigned long long)total_conns, (unsigned long long)total_in,
		(unsigned long long)total_out);
	return 0;
}
