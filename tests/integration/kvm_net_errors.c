/* SPDX-License-Identifier: MIT */
/*
 * Errors through virtsocket: each must reach the guest program as the right
 * errno, and the VMM must carry on (and clean up) afterwards.
 *   - net-errors (guest): refused, unknown/closed handles, bad buffer
 *     addresses written into the ring by hand, peer reset, peer close; in
 *     both copy modes;
 *   - a real host peer (socat, readbytes=) that closes in the middle of an echo
 *     stream: the guest program fails cleanly, the VMM does not;
 *   - the guest exits with connections, a listener and pending requests
 *     open: the VMM exits promptly, the host peers see EOF, the port is free.
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

TestSuite(kvm_net_errors, .timeout = 600);

static const char *const cases[] = {
	"connect to a closed port: ok (ECONNREFUSED)",
	"send on an unknown handle: ok (EBADF)",
	"recv on an unknown handle: ok (EBADF)",
	"close an unknown handle: ok (EBADF)",
	"close a new socket: ok (success)",
	"send on a closed handle: ok (EBADF)",
	"close it again: ok (EBADF)",
	"send from beyond guest RAM: ok (EFAULT)",
	"send across the end of guest RAM: ok (EFAULT)",
	"send with address + length overflowing: ok (EFAULT)",
	"send from the ring slot (not RAM): ok (EFAULT)",
	"recv into beyond guest RAM: ok (EFAULT)",
	"recv into the ring slot: ok (EFAULT)",
	"the data is still there after them: ok (success)",
	"the connection still works: ok (success)",
	"recv after the peer reset: ok (ECONNRESET)",
	"send after the peer reset: ok (E",            /* EPIPE or ECONNRESET */
	"recv after the peer closed (EOF): ok (success)",
	"send after the peer closed: ok (E",           /* EPIPE or ECONNRESET */
	"a new connection works: ok (success)",
};

static void run_net_errors(const char *copy_opt)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 300, copy_opt, vs_guest_img(), "--", "net-errors", NULL), 0);
	vs_result_dump(&r, copy_opt);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[160];
		snprintf(line, sizeof(line), "net-errors: %s", cases[i]);
		cr_expect_not_null(strstr(r.out, line), "%s: missing or wrong: '%s'", copy_opt,
				   line);
	}
	cr_assert_eq(np_count_lines_with(r.out, "FAILED"), 0, "%s: a case failed", copy_opt);
	cr_assert_not_null(strstr(r.out, "net-errors: 20 cases, all ok"));
	cr_assert_eq(r.status, 0, "net-errors exited %d", r.status);
	vs_result_free(&r);
}

Test(kvm_net_errors, every_error_case_zero_copy)
{
	run_net_errors("--copy=zero");
}

Test(kvm_net_errors, every_error_case_bounce)
{
	run_net_errors("--copy=bounce");
}

Test(kvm_net_errors, host_peer_closing_mid_stream)
{
	struct np_proc socat;
	unsigned port = 0;
	for (int attempt = 0; attempt < 5 && !port; attempt++) {
		port = np_free_port(SOCK_STREAM);
		char listen[80];
		/* Echo the first 100 000 bytes, then hang up (readbytes: EOF after
		 * that many; socat then closes, with the rest unread). */
		snprintf(listen, sizeof(listen),
			 "TCP4-LISTEN:%u,bind=127.0.0.1,reuseaddr,readbytes=100000", port);
		cr_assert_eq(np_start(&socat, false, NULL, "socat", listen, "PIPE", NULL), 0);
		if (!np_wait_bound(&socat, port, false, 10)) {
			np_proc_free(&socat);
			port = 0;
		}
	}
	cr_assert_neq(port, 0);
	char p[8];
	snprintf(p, sizeof(p), "%u", port);
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 300, vs_guest_img(), "--", "echo-client", "127.0.0.1", p, "10000",
			    NULL), 0);
	vs_result_dump(&r, "echo-client vs a peer that hangs up");
	cr_assert(!r.signaled, "the vmm crashed");
	cr_assert_eq(r.status, 1, "echo-client must fail with status 1, not %d", r.status);
	cr_assert(strstr(r.out, "the server closed after") || strstr(r.out, "ECONNRESET") ||
		  strstr(r.out, "EPIPE"), "no EOF/ECONNRESET/EPIPE report");
	vs_result_free(&r);
	np_proc_free(&socat);
}

Test(kvm_net_errors, guest_exit_with_open_sockets_is_cleaned_up)
{
	enum { CONNS = 20 };
	/* Our own listener: the guest connects to it, we accept afterwards. */
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	cr_assert_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(l, 64), 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	char p[8], n[8];
	snprintf(p, sizeof(p), "%u", ntohs(sin.sin_port));
	snprintf(n, sizeof(n), "%d", CONNS);

	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 120, vs_guest_img(), "--", "hold-open", "127.0.0.1", p, n, NULL),
		     0);
	vs_result_dump(&r, "hold-open");
	cr_assert_eq(r.status, 0, "hold-open: status %d", r.status);
	cr_assert(!r.killed);
	cr_assert_lt(r.seconds, 60.0, "the vmm took %.1f s to exit with sockets open", r.seconds);
	cr_assert_not_null(strstr(r.out, "connections and a listener open"));

	/* Every connection: the hello, then EOF (the vmm is gone and closed it). */
	for (int i = 0; i < CONNS; i++) {
		int c = accept(l, NULL, NULL);
		cr_assert_geq(c, 0);
		struct timeval tv = { .tv_sec = 10 };
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		char buf[64];
		size_t got = 0;
		ssize_t k;
		while ((k = recv(c, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
			got += (size_t)k;
		buf[got] = '\0';
		cr_assert_eq(k, 0, "connection %d: no EOF (%s)", i, strerror(errno));
		cr_assert_eq(strncmp(buf, "hold-open ", 10), 0, "connection %d said '%s'", i, buf);
		close(c);
	}
	close(l);

	/* The guest's listener is gone too: its port can be bound again. */
	const char *s = strstr(r.out, "listening on 127.0.0.1:");
	cr_assert_not_null(s);
	unsigned gport = (unsigned)strtoul(s + strlen("listening on 127.0.0.1:"), NULL, 10);
	cr_assert(!np_port_bound(gport, false), "the guest's listener on %u is still there",
		  gport);
	vs_result_free(&r);
}
