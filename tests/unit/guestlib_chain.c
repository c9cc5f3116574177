/* SPDX-License-Identifier: MIT */
/*
 * libvirtsocket's chains: vs_prep_link() and VS_CHAIN_SOCKET over real
 * hostnet (a crr-style connection in one hand-over, a refused one), in each
 * notify mode and copy mode; vs_prep_link() refuses what it cannot change.
 */
#include "guestlib_fake_vm.h"

enum { LEN = 200, LINKS = 5 };

/* Prepare SOCKET -> CONNECT -> SEND -> RECV -> CLOSE (user_data 0..4). */
static void prep_connection(uint16_t port, const void *out, void *in)
{
	struct vs_sockaddr sa = fvm_loopback(port);
	cr_assert_eq(vs_prep_socket(VS_AF_INET, VS_SOCK_STREAM, 0), 0);
	cr_assert_eq(vs_prep_link(), 0);
	cr_assert_eq(vs_prep_connect(VS_CHAIN_SOCKET, &sa, 1), 0);
	cr_assert_eq(vs_prep_link(), 0);
	cr_assert_eq(vs_prep_send(VS_CHAIN_SOCKET, out, LEN, 0, 2), 0);
	cr_assert_eq(vs_prep_link(), 0);
	cr_assert_eq(vs_prep_recv(VS_CHAIN_SOCKET, in, LEN, VS_MSG_WAITALL, 3), 0);
	cr_assert_eq(vs_prep_link(), 0);
	cr_assert_eq(vs_prep_close(VS_CHAIN_SOCKET, 4), 0);
}

/* One wait for the whole chain (vs_wait_long: no CQ spin, so no spin hit);
 * its completions, in link order. */
static void wait_chain(struct vs_completion *c, bool long_wait)
{
	struct vs_stats before, after;
	vs_get_stats(&before);
	cr_assert_eq(long_wait ? vs_wait_long(LINKS, 10000) : vs_wait(LINKS, 10000), LINKS);
	cr_assert_eq(vs_reap(c, LINKS), LINKS);
	vs_get_stats(&after);
	cr_assert_eq(after.requests - before.requests, LINKS);
	if (long_wait)
		cr_assert_eq(after.spin_hits, before.spin_hits, "vs_wait_long() spun");
	for (unsigned i = 0; i < LINKS; i++)
		cr_assert_eq(c[i].user_data, i, "completion %u is for link %llu", i,
			     (unsigned long long)c[i].user_data);
}

static void echo_chains(const struct fvm_opts *o, bool long_wait)
{
	fvm_start(o);
	uint16_t port = fvm_tcp_echo();
	uint8_t *out = fvm_alloc(LEN), *in = fvm_alloc(LEN);
	for (unsigned round = 0; round < 20; round++) {
		fvm_fill(out, LEN, round);
		memset(in, 0, LEN);
		prep_connection(port, out, in);
		struct vs_completion c[LINKS];
		wait_chain(c, long_wait);
		cr_assert_gt(c[0].result, 0, "SOCKET: %d", c[0].result);
		cr_assert_eq(c[1].result, 0, "CONNECT: %d", c[1].result);
		cr_assert_eq(c[2].result, LEN, "SEND: %d", c[2].result);
		cr_assert_eq(c[3].result, LEN, "RECV: %d", c[3].result);
		cr_assert_eq(c[4].result, 0, "CLOSE: %d", c[4].result);
		cr_assert(memcmp(in, out, LEN) == 0, "round %u: the echo differs", round);
	}
	cr_assert_eq(vs_inflight(), 0);
	struct hostnet_stats st;
	hostnet_get_stats(fvm.hn, &st);
	cr_assert_eq(st.sockets_open, 0);
	fvm_stop();
}

Test(guestlib_chain, connection_per_chain_adaptive)
{
	echo_chains(&(struct fvm_opts){ .notify = VS_NOTIFY_ADAPTIVE, .poll_us = 50 }, false);
}

Test(guestlib_chain, connection_per_chain_adaptive_long_wait)
{
	echo_chains(&(struct fvm_opts){ .notify = VS_NOTIFY_ADAPTIVE, .poll_us = 50 }, true);
}

Test(guestlib_chain, connection_per_chain_batch_bounce)
{
	echo_chains(&(struct fvm_opts){ .notify = VS_NOTIFY_BATCH, .batch = 2,
					.copy = VS_COPY_BOUNCE }, false);
}

Test(guestlib_chain, connection_per_chain_every)
{
	echo_chains(&(struct fvm_opts){ .notify = VS_NOTIFY_EVERY }, false);
}

Test(guestlib_chain, refused_connect_breaks_the_chain)
{
	fvm_start(&(struct fvm_opts){ .notify = VS_NOTIFY_BATCH, .batch = 8 });
	uint8_t *buf = fvm_alloc(LEN);
	prep_connection(fvm_free_port(SOCK_STREAM), buf, buf);
	struct vs_completion c[LINKS];
	wait_chain(c, true);
	cr_assert_gt(c[0].result, 0);
	cr_assert_eq(c[1].result, -VS_ECONNREFUSED);
	for (unsigned i = 2; i < LINKS; i++)
		cr_assert_eq(c[i].result, -VS_ECHAINBROKEN, "link %u: %d", i, c[i].result);
	cr_assert_eq(vs_close(c[0].result), 0, "the SOCKET's handle is the caller's to close");
	fvm_stop();
}

Test(guestlib_chain, link_needs_a_request_not_yet_handed_over)
{
	fvm_start(&(struct fvm_opts){ .notify = VS_NOTIFY_BATCH, .batch = 8 });
	cr_assert_eq(vs_prep_link(), -VS_EINVAL, "nothing prepared");
	cr_assert_eq(vs_prep_nop(1), 0);
	cr_assert_eq(vs_submit(), 1);
	cr_assert_eq(vs_prep_link(), -VS_EINVAL, "the NOP is the host's already");
	cr_assert_eq(vs_wait(1, 5000), 1);
	struct vs_completion c;
	cr_assert_eq(vs_reap(&c, 1), 1);
	/* VS_CHAIN_SOCKET outside a chain reaches the host, which knows no such socket. */
	cr_assert_eq(vs_close(VS_CHAIN_SOCKET), -VS_EBADF);
	cr_assert_eq(vs_close(-1), -VS_EBADF);
	fvm_stop();
}
