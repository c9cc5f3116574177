/* SPDX-License-Identifier: MIT */
/*
 * A full SQ (guest-lib/src/ring.c, vs_sq_wait_room): the host worker copies
 * everything out at once, runs it, and takes again only after that pass.  A
 * guest that prepares faster than the passes run (a server answering a batch,
 * here non-blocking sends on 32 stream sockets) finds the SQ full for the rest
 * of a pass: it spins a moment, then sleeps in WAIT instead of spinning through
 * the pass.  Every byte still arrives, in order, on every socket.
 */
#include <pthread.h>

#include "guestlib_fake_vm.h"

#define CONNS   32u
#define ROUNDS  60u   /* 1,920 sends: under stream.c's 2,048 chunks in flight,
                          so that only the SQ makes a send wait */
#define MSG     64u

static void start(void)
{
	fvm_start(&(struct fvm_opts){ .notify = VS_NOTIFY_ADAPTIVE, .copy = VS_COPY_ZERO,
				      .poll_us = 50 });
	vs_set_allocator(fvm_allocator, NULL);
}

struct sink {
	int peer[CONNS];
	size_t got[CONNS];
	bool bad[CONNS];
};

/* Byte i of connection c's stream. */
static uint8_t byte_of(unsigned c, size_t i)
{
	return (uint8_t)(c * 31u + i * 7u + i / MSG);
}

/* The host's end: read every connection to its end of file, checking bytes. */
static void *drain(void *arg)
{
	struct sink *s = arg;
	struct pollfd p[CONNS];
	unsigned open = CONNS;
	for (unsigned c = 0; c < CONNS; c++)
		p[c] = (struct pollfd){ .fd = s->peer[c], .events = POLLIN };
	while (open) {
		if (poll(p, CONNS, 10000) <= 0)
			break;
		for (unsigned c = 0; c < CONNS; c++) {
			if (p[c].fd < 0 || !(p[c].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			uint8_t buf[4096];
			ssize_t n = read(p[c].fd, buf, sizeof(buf));
			if (n <= 0) {
				p[c].fd = -1;
				open--;
				continue;
			}
			for (ssize_t i = 0; i < n; i++)
				s->bad[c] |= buf[i] != byte_of(c, s->got[c] + (size_t)i);
			s->got[c] += (size_t)n;
		}
	}
	return NULL;
}

Test(guestlib_sq_room, a_full_sq_sleeps_for_room_and_loses_nothing, .init = start,
     .fini = fvm_stop, .timeout = 60)
{
	uint16_t port;
	int l = fvm_host_listener(&port, CONNS, 0);

	static struct sink s;
	int fd[CONNS];
	for (unsigned c = 0; c < CONNS; c++) {
		fd[c] = vs_fd_open(fvm_connect_tcp(port),
				   VS_FD_NONBLOCK | VS_FD_STREAM);
		cr_assert_geq(fd[c], VS_FD_FIRST, "vs_fd_open: %d", fd[c]);
		s.peer[c] = accept(l, NULL, NULL);
		cr_assert_geq(s.peer[c], 0);
	}
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, drain, &s), 0);

	struct vs_stats before, after;
	vs_get_stats(&before);
	/* A round: one message on each connection, as a server answers a batch. */
	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned c = 0; c < CONNS; c++) {
			uint8_t msg[MSG];
			for (unsigned i = 0; i < MSG; i++)
				msg[i] = byte_of(c, (size_t)r * MSG + i);
			int64_t n = vs_send(fd[c], msg, MSG, VS_MSG_DONTWAIT);
			cr_assert_eq(n, MSG, "round %u, connection %u: %lld", r, c, (long long)n);
		}
	}
	vs_get_stats(&after);
	for (unsigned c = 0; c < CONNS; c++)
		cr_assert_eq(vs_close(fd[c]), 0);
	pthread_join(t, NULL);

	for (unsigned c = 0; c < CONNS; c++) {
		cr_assert_eq(s.got[c], (size_t)ROUNDS * MSG, "connection %u: %zu bytes", c, s.got[c]);
		cr_assert(!s.bad[c], "connection %u: a byte out of place", c);
		close(s.peer[c]);
	}
	close(l);

	uint64_t sends = (uint64_t)ROUNDS * CONNS;
	uint64_t waits = after.sq_full_waits - before.sq_full_waits;
	uint64_t slept = after.doorbells_wait - before.doorbells_wait;
	cr_assert_geq(after.requests - before.requests, sends);
	/* The SQ filled while the worker ran a pass, and the guest slept for room
	 * in WAIT; a WAIT asks for half an SQ of completions, so not one per send. */
	cr_assert_gt(waits, 0, "the SQ never filled");
	cr_assert_geq(slept, waits, "%llu waits for room, %llu WAITs: it spun through the pass",
		      (unsigned long long)waits, (unsigned long long)slept);
	cr_assert_lt(slept, sends / 16, "%llu WAITs for %llu sends", (unsigned long long)slept,
		     (unsigned long long)sends);
	cr_assert_eq(after.bad_completions, 0);
}
