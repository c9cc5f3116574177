/* SPDX-License-Identifier: MIT */
/*
 * libvirtsocket's asynchronous API: many requests in flight with their
 * user_data, completions kept across blocking calls, cancel, limits.
 */
#include "guestlib_fake_vm.h"

static void start_batch(void)
{
	fvm_start(&(struct fvm_opts){ .notify = VS_NOTIFY_BATCH, .batch = 8 });
}

static void start_bounce(void)
{
	fvm_start(&(struct fvm_opts){ .notify = VS_NOTIFY_BATCH, .batch = 8,
				      .copy = VS_COPY_BOUNCE });
}

/* Reap exactly n completions (waiting up to 5 s), in arrival order. */
static void reap_n(struct vs_completion *c, unsigned n)
{
	unsigned got = 0;
	while (got < n) {
		int r = vs_wait(1, 5000);
		cr_assert_gt(r, 0, "vs_wait: %d after %u of %u", r, got, n);
		got += (unsigned)vs_reap(c + got, n - got);
	}
}

static const struct vs_completion *find(const struct vs_completion *c, unsigned n, uint64_t ud)
{
	for (unsigned i = 0; i < n; i++)
		if (c[i].user_data == ud)
			return &c[i];
	cr_assert_fail("no completion with user_data %llu", (unsigned long long)ud);
	return NULL;
}

/* Open, connect, send and receive on several sockets with nothing but
 * prep / submit / wait / reap. */
static void async_echo(void)
{
	enum { N = 6, LEN = 3000 };
	uint16_t port = fvm_tcp_echo();
	struct vs_completion c[2 * N];
	int s[N];

	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(vs_prep_socket(VS_AF_INET, VS_SOCK_STREAM, 100 + i), 0);
	reap_n(c, N);
	for (unsigned i = 0; i < N; i++) {
		s[i] = find(c, N, 100 + i)->result;
		cr_assert_gt(s[i], 0);
	}
	struct vs_sockaddr sa = fvm_loopback(port);
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(vs_prep_connect(s[i], &sa, 200 + i), 0);
	reap_n(c, N);
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(find(c, N, 200 + i)->result, 0);

	uint8_t *out = fvm_alloc(N * LEN), *in = fvm_alloc(N * LEN);
	fvm_fill(out, N * LEN, 5);
	for (unsigned i = 0; i < N; i++) {
		/* receive first: a pending receive waits for its data */
		cr_assert_eq(vs_prep_recv(s[i], in + i * LEN, LEN, VS_MSG_WAITALL, 300 + i), 0);
		cr_assert_eq(vs_prep_send(s[i], out + i * LEN, LEN, 0, 400 + i), 0);
	}
	cr_assert_eq(vs_inflight(), 2 * N);
	reap_n(c, 2 * N);
	for (unsigned i = 0; i < N; i++) {
		cr_assert_eq(find(c, 2 * N, 300 + i)->result, LEN);
		cr_assert_eq(find(c, 2 * N, 400 + i)->result, LEN);
	}
	cr_assert(memcmp(in, out, N * LEN) == 0);
	cr_assert_eq(vs_inflight(), 0);

	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(vs_prep_close(s[i], 500 + i), 0);
	reap_n(c, N);
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(find(c, N, 500 + i)->result, 0);
}

Test(guestlib_async, echo_many_sockets_zero_copy, .init = start_batch, .fini = fvm_stop,
     .timeout = 60)
{
	async_echo();
}

Test(guestlib_async, echo_many_sockets_bounce, .init = start_bounce, .fini = fvm_stop,
     .timeout = 60)
{
	async_echo();
}

/* A blocking call in between keeps the async completions for vs_reap(). */
Test(guestlib_async, blocking_call_keeps_async_completions, .init = start_batch,
     .fini = fvm_stop, .timeout = 30)
{
	for (unsigned i = 0; i < 5; i++)
		cr_assert_eq(vs_prep_nop(i), 0);
	int s = vs_socket(VS_AF_INET, VS_SOCK_DGRAM); /* submits and waits */
	cr_assert_gt(s, 0);
	cr_assert_eq(vs_wait(5, 5000), 5);
	struct vs_completion c[8];
	cr_assert_eq(vs_reap(c, 8), 5);
	for (unsigned i = 0; i < 5; i++) {
		cr_assert_eq(c[i].user_data, i);
		cr_assert_eq(c[i].result, 0);
	}
	cr_assert_eq(vs_close(s), 0);
	cr_assert_eq(vs_reap(c, 8), 0);
}

/* Cancel a receive that would wait forever. */
Test(guestlib_async, cancel_pending_recv, .init = start_batch, .fini = fvm_stop, .timeout = 30)
{
	int s = fvm_connect_tcp(fvm_tcp_echo());
	uint8_t *buf = fvm_alloc(64);
	cr_assert_eq(vs_prep_recv(s, buf, 64, 0, 7), 0);
	cr_assert_eq(vs_flush(), 0);
	cr_assert_eq(vs_wait(1, 100), -ETIMEDOUT);
	cr_assert_eq(vs_prep_cancel(7, 8), 0);
	cr_assert_eq(vs_prep_cancel(12345, 9), -ENOENT);
	struct vs_completion c[2];
	reap_n(c, 2);
	/* the cancelled request completes before the CANCEL */
	cr_assert_eq(c[0].user_data, 7);
	cr_assert_eq(c[0].result, -ECANCELED);
	cr_assert_eq(c[1].user_data, 8);
	cr_assert_eq(c[1].result, 0);
	cr_assert_eq(vs_close(s), 0);
}

/* Closing a socket completes its pending requests first. */
Test(guestlib_async, close_cancels_pending, .init = start_batch, .fini = fvm_stop,
     .timeout = 30)
{
	int s = fvm_connect_tcp(fvm_tcp_echo());
	uint8_t *buf = fvm_alloc(64);
	cr_assert_eq(vs_prep_recv(s, buf, 64, 0, 1), 0);
	cr_assert_eq(vs_prep_accept(s, NULL, 2), 0); /* not listening: fails at once */
	cr_assert_eq(vs_close(s), 0);
	struct vs_completion c[2];
	reap_n(c, 2);
	cr_assert_eq(find(c, 2, 1)->result, -ECANCELED);
	cr_assert_lt(find(c, 2, 2)->result, 0);
}

/* The request table holds VS_MAX_INFLIGHT requests between prep and reap. */
Test(guestlib_async, table_full_is_ebusy, .init = start_batch, .fini = fvm_stop, .timeout = 30)
{
	unsigned i, bad = 0;
	for (i = 0; i < VS_MAX_INFLIGHT; i++)
		bad += vs_prep_nop(i) != 0;
	cr_assert_eq(bad, 0);
	cr_assert_eq(vs_prep_nop(i), -EBUSY);
	cr_assert_eq(vs_wait(VS_MAX_INFLIGHT, 5000), VS_MAX_INFLIGHT);
	/* everything is done and unreaped: a blocking call cannot get room */
	cr_assert_eq(vs_socket(VS_AF_INET, VS_SOCK_DGRAM), -EBUSY);
	struct vs_completion c[VS_MAX_INFLIGHT];
	cr_assert_eq(vs_reap(c, VS_MAX_INFLIGHT), VS_MAX_INFLIGHT);
	for (i = 0; i < VS_MAX_INFLIGHT; i++)
		bad += c[i].user_data != i || c[i].result != 0;
	cr_assert_eq(bad, 0, "completions out of order or failed");
	cr_assert_eq(vs_prep_nop(1), 0);
	cr_assert_eq(vs_wait(1, 5000), 1);
}

/* Bounce mode: the bounce area runs out before the request table does. */
Test(guestlib_async, bounce_area_full_is_ebusy, .init = start_bounce, .fini = fvm_stop,
     .timeout = 30)
{
	int s = vs_socket(VS_AF_INET, VS_SOCK_DGRAM);
	struct vs_sockaddr me = fvm_loopback(0);
	cr_assert_eq(vs_bind(s, &me), 0);
	uint8_t *buf = fvm_alloc(VS_BOUNCE_MAX_REQUEST);
	unsigned per_area = VS_BOUNCE_BYTES / VS_BOUNCE_MAX_REQUEST, i;
	for (i = 0; i < per_area; i++)
		cr_assert_eq(vs_prep_recv(s, buf, VS_BOUNCE_MAX_REQUEST, 0, i), 0);
	cr_assert_eq(vs_prep_recv(s, buf, 1, 0, i), -EBUSY);
	cr_assert_eq(vs_close(s), 0); /* completes all of them */
	struct vs_completion c[VS_BOUNCE_BYTES / VS_BOUNCE_MAX_REQUEST];
	reap_n(c, per_area);
	for (i = 0; i < per_area; i++)
		cr_assert_eq(c[i].result, -ECANCELED);
	/* the chunks are free again */
	cr_assert_eq(vs_prep_recv(s, buf, VS_BOUNCE_MAX_REQUEST, 0, 99), 0);
	reap_n(c, 1);
	cr_assert_eq(c[0].result, -EBADF);
}

Test(guestlib_async, bad_arguments, .init = start_batch, .fini = fvm_stop, .timeout = 30)
{
	uint8_t *buf = fvm_alloc(16);
	char stack_buf[16];
	cr_assert_eq(vs_prep_send(-1, buf, 16, 0, 0), -EBADF);
	cr_assert_eq(vs_prep_send(1, stack_buf, 16, 0, 0), -EFAULT);
	cr_assert_eq(vs_prep_send(1, buf, 16, 0x80000000u, 0), -EOPNOTSUPP);
	cr_assert_eq(vs_prep_connect(1, NULL, 0), -EFAULT);
	cr_assert_eq(vs_prep_shutdown(1, 3, 0), -EINVAL);
	cr_assert_eq(vs_wait(1, 0), -EINVAL, "waiting for more than is in flight");
	cr_assert_eq(vs_inflight(), 0);
}
