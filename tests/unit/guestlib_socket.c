/* SPDX-License-Identifier: MIT */
/*
 * libvirtsocket's blocking socket API against real host peers on 127.0.0.1,
 * through a real hostnet (fake VM, no KVM): TCP and UDP echo through socat,
 * listen/accept with a host client, and the errors a program meets.
 */
#include <pthread.h>

#include "guestlib_fake_vm.h"

static void start_zero(void)
{
	fvm_start(&(struct fvm_opts){ .notify = VS_NOTIFY_BATCH, .copy = VS_COPY_ZERO });
}

static void start_bounce(void)
{
	fvm_start(&(struct fvm_opts){ .notify = VS_NOTIFY_ADAPTIVE, .copy = VS_COPY_BOUNCE,
				      .poll_us = 200 });
}

static const size_t echo_sizes[] = { 1, 7, 100, 1460, 4095, 4096, 4097, 65536, 65537,
				     100000, 262144 };

/* Send each size, read it back, compare byte for byte. */
static void tcp_echo_sizes(void)
{
	uint16_t port = fvm_tcp_echo();
	int s = fvm_connect_tcp(port);
	uint8_t *out = fvm_alloc(262144), *in = fvm_alloc(262144);
	for (size_t i = 0; i < sizeof(echo_sizes) / sizeof(echo_sizes[0]); i++) {
		size_t n = echo_sizes[i];
		fvm_fill(out, n, (uint32_t)i + 1);
		memset(in, 0, n);
		int64_t r = vs_send(s, out, n, 0);
		cr_assert_eq(r, (int64_t)n, "vs_send(%zu) = %lld", n, (long long)r);
		fvm_recv_all(s, in, n);
		cr_assert(memcmp(in, out, n) == 0, "echo of %zu bytes differs", n);
	}
	cr_assert_eq(vs_close(s), 0);
}

Test(guestlib_socket, tcp_echo_mixed_sizes_zero_copy, .init = start_zero, .fini = fvm_stop,
     .timeout = 60)
{
	tcp_echo_sizes();
	struct vs_stats st;
	vs_get_stats(&st);
	cr_assert_eq(st.bounce_bytes, 0);
	cr_assert_eq(st.bad_completions, 0);
}

Test(guestlib_socket, tcp_echo_mixed_sizes_bounce, .init = start_bounce, .fini = fvm_stop,
     .timeout = 60)
{
	tcp_echo_sizes();
	struct vs_stats st;
	struct hostnet_stats hs;
	vs_get_stats(&st);
	hostnet_get_stats(fvm.hn, &hs);
	size_t total = 0;
	for (size_t i = 0; i < sizeof(echo_sizes) / sizeof(echo_sizes[0]); i++)
		total += echo_sizes[i];
	/* every byte went in and came out through the bounce area */
	cr_assert_eq(st.bounce_bytes, 2 * total, "bounce_bytes %llu, want %zu",
		     (unsigned long long)st.bounce_bytes, 2 * total);
	cr_assert_eq(hs.bytes_copied, 2 * total, "the VMM copied %llu bytes, want exactly %zu",
		     (unsigned long long)hs.bytes_copied, 2 * total);
}

/* A whole MiB in one asynchronous send while blocking receives drain the echo:
 * a blocking send of that much could fill both directions' buffers. */
Test(guestlib_socket, tcp_echo_one_mib_async_send, .init = start_zero, .fini = fvm_stop,
     .timeout = 60)
{
	const size_t n = 1u << 20;
	int s = fvm_connect_tcp(fvm_tcp_echo());
	uint8_t *out = fvm_alloc(n), *in = fvm_alloc(n);
	fvm_fill(out, n, 99);
	cr_assert_eq(vs_prep_send(s, out, n, 0, 42), 0);
	cr_assert_eq(vs_submit(), 1);
	fvm_recv_all(s, in, n);
	cr_assert(memcmp(in, out, n) == 0);
	struct vs_completion c;
	cr_assert_eq(vs_wait(1, 5000), 1);
	cr_assert_eq(vs_reap(&c, 1), 1);
	cr_assert_eq(c.user_data, 42);
	cr_assert_eq(c.result, (int32_t)n);
	cr_assert_eq(vs_close(s), 0);
}

static void udp_echo(void)
{
	uint16_t port = fvm_udp_echo();
	int s = vs_socket(VS_AF_INET, VS_SOCK_DGRAM);
	cr_assert_gt(s, 0);
	struct vs_sockaddr to = fvm_loopback(port), from;
	uint8_t *out = fvm_alloc(8192), *in = fvm_alloc(8192);
	static const size_t sizes[] = { 1, 64, 512, 1400, 4096, 8192 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		fvm_fill(out, n, (uint32_t)(n * 7));
		cr_assert_eq(vs_sendto(s, out, n, 0, &to), (int64_t)n);
		memset(&from, 0xee, sizeof(from));
		int64_t r = vs_recvfrom(s, in, 8192, 0, &from);
		cr_assert_eq(r, (int64_t)n, "datagram of %zu came back as %lld", n, (long long)r);
		cr_assert(memcmp(in, out, n) == 0);
		cr_assert_eq(from.family, VS_AF_INET);
		cr_assert_eq(from.port, htons(port));
		cr_assert(memcmp(from.addr, (uint8_t[]){ 127, 0, 0, 1 }, 4) == 0);
	}
	cr_assert_eq(vs_close(s), 0);
}

Test(guestlib_socket, udp_echo_zero_copy, .init = start_zero, .fini = fvm_stop, .timeout = 60)
{
	udp_echo();
}

Test(guestlib_socket, udp_echo_bounce, .init = start_bounce, .fini = fvm_stop, .timeout = 60)
{
	udp_echo();
}

/* ---- listen / accept with a host client ---------------------------------- */

struct host_client {
	uint16_t port;
	char reply[64];
	ssize_t reply_len;
};

static void *host_client_main(void *arg)
{
	struct host_client *hc = arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(hc->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    send(fd, "hello guest", 11, 0) == 11)
		hc->reply_len = recv(fd, hc->reply, sizeof(hc->reply), MSG_WAITALL);
	else
		hc->reply_len = -errno;
	close(fd);
	return NULL;
}

Test(guestlib_socket, listen_accept_host_client, .init = start_zero, .fini = fvm_stop,
     .timeout = 30)
{
	int ls = vs_socket(VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_gt(ls, 0);
	cr_assert_eq(vs_setsockopt(ls, VS_SOL_SOCKET, VS_SO_REUSEADDR, 1), 0);
	struct vs_sockaddr sa = fvm_loopback(0), bound;
	cr_assert_eq(vs_bind(ls, &sa), 0);
	cr_assert_eq(vs_listen(ls, 8), 0);
	cr_assert_eq(vs_getsockname(ls, &bound), 0);
	cr_assert_eq(bound.family, VS_AF_INET);
	cr_assert_neq(bound.port, 0);

	struct host_client hc = { .port = ntohs(bound.port) };
	pthread_t th;
	pthread_create(&th, NULL, host_client_main, &hc);

	struct vs_sockaddr peer, name, peer2;
	int s = vs_accept(ls, &peer);
	cr_assert_gt(s, 0, "vs_accept: %d", s);
	cr_assert_eq(peer.family, VS_AF_INET);
	cr_assert(memcmp(peer.addr, (uint8_t[]){ 127, 0, 0, 1 }, 4) == 0);
	cr_assert_eq(vs_getpeername(s, &peer2), 0);
	cr_assert(memcmp(&peer, &peer2, sizeof(peer)) == 0);
	cr_assert_eq(vs_getsockname(s, &name), 0);
	cr_assert_eq(name.port, bound.port);

	uint8_t *buf = fvm_alloc(64);
	fvm_recv_all(s, buf, 11);
	cr_assert(memcmp(buf, "hello guest", 11) == 0);
	memcpy(buf, "hello host!", 11);
	cr_assert_eq(vs_send(s, buf, 11, 0), 11);
	cr_assert_eq(vs_shutdown(s, 1), 0); /* SHUT_WR: the client's recv ends */

	pthread_join(th, NULL);
	cr_assert_eq(hc.reply_len, 11, "host client got %zd", hc.reply_len);
	cr_assert(memcmp(hc.reply, "hello host!", 11) == 0);
	cr_assert_eq(vs_recv(s, buf, 64, 0), 0, "EOF after the client closed");
	cr_assert_eq(vs_close(s), 0);
	cr_assert_eq(vs_close(ls), 0);
}

/* ---- errors ---------------------------------------------------------------- */

Test(guestlib_socket, connect_refused, .init = start_zero, .fini = fvm_stop, .timeout = 30)
{
	int s = vs_socket(VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_gt(s, 0);
	struct vs_sockaddr sa = fvm_loopback(fvm_free_port(SOCK_STREAM));
	cr_assert_eq(vs_connect(s, &sa), -ECONNREFUSED);
	cr_assert_eq(vs_close(s), 0);
}

/* The peer accepts and closes at once: EOF, then a send fails. */
Test(guestlib_socket, closed_peer, .init = start_zero, .fini = fvm_stop, .timeout = 30)
{
	uint16_t port;
	int lfd = fvm_host_listener(&port, 1, 0);

	int s = fvm_connect_tcp(port);
	int cfd = accept(lfd, NULL, NULL);
	cr_assert_geq(cfd, 0);
	close(cfd);
	close(lfd);

	uint8_t *buf = fvm_alloc(4096);
	cr_assert_eq(vs_recv(s, buf, 4096, 0), 0, "EOF from a closed peer");
	/* The first send may still be accepted by the kernel (the RST comes
	 * back afterwards); a later one must fail with EPIPE or ECONNRESET. */
	int64_t r = 0;
	for (int i = 0; i < 100 && r >= 0; i++) {
		r = vs_send(s, buf, 4096, 0);
		if (r >= 0)
			usleep(1000);
	}
	cr_assert(r == -EPIPE || r == -ECONNRESET, "send to a closed peer: %lld", (long long)r);
	cr_assert_eq(vs_close(s), 0);
}

Test(guestlib_socket, bad_handles, .init = start_zero, .fini = fvm_stop, .timeout = 30)
{
	uint8_t *buf = fvm_alloc(16);
	cr_assert_eq(vs_send(-1, buf, 16, 0), -EBADF);
	cr_assert_eq(vs_send(12345, buf, 16, 0), -EBADF);
	cr_assert_eq(vs_recv(777, buf, 16, 0), -EBADF);
	cr_assert_eq(vs_close(4242), -EBADF);
	int s = vs_socket(VS_AF_INET, VS_SOCK_DGRAM);
	cr_assert_gt(s, 0);
	cr_assert_eq(vs_close(s), 0);
	cr_assert_eq(vs_close(s), -EBADF, "closed twice");
	cr_assert_eq(vs_send(s, buf, 16, 0), -EBADF, "used after close");
	cr_assert_eq(vs_socket(99, VS_SOCK_STREAM), -EAFNOSUPPORT);
}

/* A buffer outside guest RAM has no GPA: refused before it reaches the host. */
Test(guestlib_socket, buffer_outside_guest_ram, .init = start_zero, .fini = fvm_stop,
     .timeout = 30)
{
	int s = vs_socket(VS_AF_INET, VS_SOCK_DGRAM);
	char stack_buf[16] = "not guest memory";
	struct vs_sockaddr to = fvm_loopback(9);
	cr_assert_eq(vs_sendto(s, stack_buf, sizeof(stack_buf), 0, &to), -EFAULT);
	cr_assert_eq(vs_close(s), 0);
}

Test(guestlib_socket, socket_options, .init = start_zero, .fini = fvm_stop, .timeout = 30)
{
	int s = fvm_connect_tcp(fvm_tcp_echo());
	int v = -1;
	cr_assert_eq(vs_setsockopt(s, VS_SOL_SOCKET, VS_SO_REUSEADDR, 1), 0);
	cr_assert_eq(vs_getsockopt(s, VS_SOL_SOCKET, VS_SO_REUSEADDR, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(vs_setsockopt(s, VS_SOL_TCP, VS_TCP_NODELAY, 1), 0);
	cr_assert_eq(vs_getsockopt(s, VS_SOL_TCP, VS_TCP_NODELAY, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(vs_setsockopt(s, VS_SOL_SOCKET, VS_SO_RCVBUF, 65536), 0);
	cr_assert_eq(vs_getsockopt(s, VS_SOL_SOCKET, VS_SO_RCVBUF, &v), 0);
	cr_assert_geq(v, 65536, "Linux doubles the value: %d", v);
	cr_assert_eq(vs_setsockopt(s, VS_SOL_SOCKET, VS_SO_SNDBUF, 65536), 0);
	cr_assert_eq(vs_getsockopt(s, VS_SOL_SOCKET, VS_SO_SNDBUF, &v), 0);
	cr_assert_geq(v, 65536);
	cr_assert_eq(vs_getsockopt(s, VS_SOL_SOCKET, VS_SO_ERROR, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(vs_setsockopt(s, VS_SOL_SOCKET, VS_SO_ERROR, 1), -ENOPROTOOPT);
	cr_assert_eq(vs_close(s), 0);
}

/* ---- poll ------------------------------------------------------------------ */

Test(guestlib_socket, poll_many_sockets, .init = start_zero, .fini = fvm_stop, .timeout = 30)
{
	uint16_t port = fvm_tcp_echo();
	int a = fvm_connect_tcp(port), b = fvm_connect_tcp(port), c = fvm_connect_tcp(port);
	uint8_t *buf = fvm_alloc(64);

	/* nothing to read anywhere: times out after about the timeout */
	struct vs_pollfd fds[3] = { { a, VS_POLLIN, -1 }, { b, VS_POLLIN, -1 }, { c, VS_POLLIN, -1 } };
	uint64_t t0 = fvm_now_ns(NULL);
	cr_assert_eq(vs_poll(fds, 3, 100), 0);
	uint64_t waited_ms = (fvm_now_ns(NULL) - t0) / 1000000;
	cr_assert(waited_ms >= 95 && waited_ms < 2000, "waited %llu ms",
		  (unsigned long long)waited_ms);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(fds[i].revents, 0);

	/* zero timeout: an immediate answer */
	cr_assert_eq(vs_poll(fds, 3, 0), 0);

	/* b's echo arrives: only b is readable; a is writable when asked */
	memcpy(buf, "ping", 4);
	cr_assert_eq(vs_send(b, buf, 4, 0), 4);
	fds[0].events = VS_POLLOUT;
	int n = vs_poll(fds, 3, 5000);
	cr_assert_geq(n, 1);
	/* a connected socket with an empty send buffer is writable at once */
	cr_assert_eq(fds[0].revents, VS_POLLOUT, "a asked for POLLOUT, got revents %#x",
		     (unsigned)fds[0].revents);
	/* writability is immediate; b may need another round for its echo */
	if (!(fds[1].revents & VS_POLLIN)) {
		fds[0].events = VS_POLLIN;
		n = vs_poll(fds, 3, 5000);
		cr_assert_eq(n, 1);
	}
	cr_assert_eq(fds[1].revents, VS_POLLIN);
	cr_assert_eq(fds[2].revents, 0);
	fvm_recv_all(b, buf, 4);

	/* a closed descriptor is reported, not waited for */
	cr_assert_eq(vs_close(c), 0);
	struct vs_pollfd bad = { c, VS_POLLIN, 0 };
	cr_assert_eq(vs_poll(&bad, 1, 1000), 1);
	cr_assert_eq(bad.revents, VS_POLLNVAL);

	/* nothing is left pending after all that */
	cr_assert_eq(vs_inflight(), 0);
	vs_close(a);
	vs_close(b);
}
