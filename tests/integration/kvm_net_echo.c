/* SPDX-License-Identifier: MIT */
/*
 * TCP echo through virtsocket against real peers on the host's loopback:
 *   - guest echo-client <-> socat TCP-LISTEN,fork EXEC:cat: 10 000 messages
 *     of 1 B .. 64 KiB, up to 16 in flight, every echo byte-exact;
 *   - the same over IPv6 (::1);
 *   - the same, shorter and strictly one at a time, in every notify mode x
 *     copy mode;
 *   - host clients (concurrently) <-> guest echo-server.
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

TestSuite(kvm_net_echo, .timeout = 900);

/* echo-client [--window WINDOW] HOST PORT COUNT, with up to two vmm options. */
static void run_echo_client(const char *host, unsigned port, const char *count,
			    const char *window, const char *mode_opt1, const char *mode_opt2,
			    unsigned timeout_s)
{
	char p[8], want[64], what[128];
	snprintf(p, sizeof(p), "%u", port);
	snprintf(want, sizeof(want), "echo-client: %s messages, ", count);
	snprintf(what, sizeof(what), "echo-client %s %s x%s window %s %s %s", host, p, count,
		 window, mode_opt1 ? mode_opt1 : "", mode_opt2 ? mode_opt2 : "");

	const char *args[16];
	int n = 0;
	if (mode_opt1)
		args[n++] = mode_opt1;
	if (mode_opt2)
		args[n++] = mode_opt2;
	args[n++] = vs_guest_img();
	args[n++] = "--";
	args[n++] = "echo-client";
	args[n++] = "--window";
	args[n++] = window;
	args[n++] = host;
	args[n++] = p;
	args[n++] = count;
	args[n] = NULL;
	struct vs_run_opts o = { .timeout_s = timeout_s };
	struct vs_result r;
	cr_assert_eq(vs_run_vmm(&r, &o, args), 0);
	vs_result_dump(&r, what);
	cr_assert_eq(r.status, 0, "%s: status %d", what, r.status);
	cr_assert_not_null(strstr(r.out, want), "%s: no summary line", what);
	cr_assert_not_null(strstr(r.out, "all byte-exact"), "%s", what);
	vs_result_free(&r);
}

/* socat echoing on a free port of 127.0.0.1 (or ::1); returns the port. */
static unsigned socat_echo(struct np_proc *socat, bool v6)
{
	unsigned port = np_start_socat_listener(socat, v6, "fork", "EXEC:cat");
	cr_assert_neq(port, 0, "socat never listened");
	return port;
}

Test(kvm_net_echo, echo_client_10000_mixed_messages_with_socat)
{
	struct np_proc socat;
	unsigned port = socat_echo(&socat, false);
	/* 16 messages ahead: the echo path's latency overlaps, and data is in
	 * flight both ways at once. */
	run_echo_client("127.0.0.1", port, "10000", "16", NULL, NULL, 800);
	np_proc_free(&socat);
}

Test(kvm_net_echo, echo_client_over_ipv6)
{
	struct np_proc socat;
	unsigned port = socat_echo(&socat, true);
	run_echo_client("::1", port, "300", "1", NULL, NULL, 300);
	run_echo_client("[::1]", port, "10", "4", NULL, NULL, 300);
	np_proc_free(&socat);
}

Test(kvm_net_echo, echo_client_in_every_notify_and_copy_mode)
{
	static const char *notify[] = { "--notify=every", "--notify=batch", "--notify=adaptive" };
	static const char *copy[] = { "--copy=zero", "--copy=bounce" };
	struct np_proc socat;
	unsigned port = socat_echo(&socat, false);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++)
			run_echo_client("127.0.0.1", port, "300", "1", notify[i], copy[j], 300);
	np_proc_free(&socat);
}

/* Host clients, all connected at once, talk to the guest's echo-server. */
Test(kvm_net_echo, host_clients_with_guest_echo_server)
{
	enum { CLIENTS = 8, ROUNDS = 20 };
	struct np_proc vmm;
	cr_assert_eq(np_vmm_start(&vmm, 300, vs_guest_img(), "--", "echo-server", "0", "8", NULL),
		     0);
	cr_assert(np_wait_output(&vmm, "listening on 127.0.0.1:", 120),
		  "echo-server never listened; it said:\n%s", vmm.out);
	unsigned port = np_listening_port(&vmm);
	cr_assert_neq(port, 0);

	int fds[CLIENTS];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int c = 0; c < CLIENTS; c++) {
		fds[c] = socket(AF_INET, SOCK_STREAM, 0);
		cr_assert_eq(connect(fds[c], (struct sockaddr *)&sin, sizeof(sin)), 0,
			     "connect to the guest's echo-server: %s", strerror(errno));
		struct timeval tv = { .tv_sec = 60 };
		setsockopt(fds[c], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	/* Interleave the clients so the server really serves them at once. */
	static uint8_t msg[16384], back[16384];
	for (int round = 0; round < ROUNDS; round++) {
		for (int c = 0; c < CLIENTS; c++) {
			size_t len = 1 + (size_t)((round * 7919 + c * 104729) % (int)sizeof(msg));
			np_pattern_fill(msg, len, (uint64_t)(round * CLIENTS + c) * 16384);
			cr_assert_eq(send(fds[c], msg, len, 0), (ssize_t)len);
			size_t got = 0;
			while (got < len) {
				ssize_t n = recv(fds[c], back + got, len - got, 0);
				cr_assert_gt(n, 0, "client %d round %d: recv %zd (%s)", c, round, n,
					     strerror(errno));
				got += (size_t)n;
			}
			cr_assert_eq(memcmp(msg, back, len), 0, "client %d round %d: echo differs",
				     c, round);
		}
	}
	for (int c = 0; c < CLIENTS; c++)
		close(fds[c]);
	cr_assert(np_wait_exit(&vmm, 120), "echo-server did not exit after 8 connections");
	fprintf(stderr, "---- echo-server said:\n%s", vmm.out);
	cr_assert_eq(vmm.status, 0);
	cr_assert_not_null(strstr(vmm.out, "echo-server: 8 connections"));
	np_proc_free(&vmm);
}
