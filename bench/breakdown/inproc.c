/* SPDX-License-Identifier: MIT */
/* breakdown's in-process VM and peers (inproc.h). */
#define _GNU_SOURCE
#include "inproc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RAM_BYTES (64u << 20)
#define RING_GPA  (4ull << 30) /* above RAM, like the VMM's slot */

static struct {
	uint8_t *ram, *ring;
	uint64_t ram_used, ring_bytes;
	struct hostnet *hn;
} vm;

uint64_t inproc_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_cb(void *ctx)
{
	(void)ctx;
	return inproc_now_ns();
}

static uint64_t gpa_of(void *ctx, const void *p)
{
	(void)ctx;
	const uint8_t *b = p;
	if (b >= vm.ram && b < vm.ram + RAM_BYTES)
		return (uint64_t)(b - vm.ram);
	if (b >= vm.ring && b < vm.ring + vm.ring_bytes)
		return RING_GPA + (uint64_t)(b - vm.ring);
	return VS_GPA_INVALID;
}

static int64_t ring_doorbell(void *ctx, uint64_t a2)
{
	(void)ctx;
	return hostnet_doorbell(vm.hn, RING_GPA, vm.ring_bytes / 4096, a2);
}

void *inproc_alloc(size_t n)
{
	uint64_t off = (vm.ram_used + 63) & ~63ull;
	if (off + n > RAM_BYTES)
		return NULL;
	vm.ram_used = off + n;
	return vm.ram + off;
}

struct hostnet *inproc_hostnet(void)
{
	return vm.hn;
}

int inproc_start(const struct inproc_opts *o)
{
	vm.ring_bytes = VS_QUEUE_BYTES;
	vm.ram = aligned_alloc(4096, RAM_BYTES);
	vm.ring = aligned_alloc(4096, vm.ring_bytes);
	if (!vm.ram || !vm.ring)
		return -ENOMEM;
	memset(vm.ram, 0, RAM_BYTES);
	memset(vm.ring, 0, vm.ring_bytes);
	vm.ram_used = 4096; /* GPA 0 stays unused, as in a guest */
	struct hostnet_config hc = {
		.ram = vm.ram, .ram_bytes = RAM_BYTES,
		.ring = vm.ring, .ring_gpa = RING_GPA, .ring_bytes = vm.ring_bytes,
		.nr_queues = 1, .poll_us = o->poll_us, .copy = VS_COPY_ZERO,
		.timings = true, .seccomp = true,
	};
	int err = hostnet_create(&hc, &vm.hn);
	if (err) {
		fprintf(stderr, "breakdown: hostnet_create: %s\n", strerror(-err));
		return err;
	}
	struct vs_transport t = {
		.ring = vm.ring, .ring_gpa = RING_GPA, .ring_bytes = vm.ring_bytes,
		.nr_queues = 1, .notify = o->notify, .copy = VS_COPY_ZERO, .batch = o->batch,
		.spin_ns = o->spin_us * 1000u, .doorbell = ring_doorbell, .virt_to_gpa = gpa_of,
		.now_ns = now_cb,
	};
	size_t bytes = vs_state_bytes(1);
	void *state = inproc_alloc(bytes);
	err = state ? vs_init(&t, state, bytes) : -ENOMEM;
	if (err)
		fprintf(stderr, "breakdown: vs_init: %s\n", strerror(-err));
	return err;
}

void inproc_stop(void)
{
	vs_fini();
	hostnet_stop(vm.hn);
	hostnet_destroy(vm.hn);
	free(vm.ram);
	free(vm.ring);
	memset(&vm, 0, sizeof(vm));
}

/* ---- peers --------------------------------------------------------------- */

struct peer {
	int listener;
	int echo;
};

static void *peer_main(void *arg)
{
	struct peer p = *(struct peer *)arg;
	free(arg);
	int fd = accept(p.listener, NULL, NULL);
	close(p.listener);
	if (fd < 0)
		return NULL;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	static _Thread_local char buf[1 << 16];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t off = 0; p.echo && off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w <= 0)
				goto out;
			off += w;
		}
	}
out:
	close(fd);
	return NULL;
}

uint16_t inproc_peer(int echo)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len)) {
		perror("breakdown: peer");
		return 0;
	}
	struct peer *p = malloc(sizeof(*p));
	pthread_t t;
	if (!p)
		return 0;
	*p = (struct peer){ .listener = l, .echo = echo };
	if (pthread_create(&t, NULL, peer_main, p)) {
		free(p);
		return 0;
	}
	pthread_detach(t);
	return ntohs(a.sin_port);
}
