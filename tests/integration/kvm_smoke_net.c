/* SPDX-License-Identifier: MIT */
/*
 * Network smoke tests: short round trips through the whole stack (guest
 * programs -> libvirtsocket -> ring -> doorbell -> hostnet -> host sockets)
 * against real host peers.  Small enough to run natively on a PVM host too,
 * where every guest instruction is emulated and the doorbell is port I/O
 * (auto-selected); under full KVM the same tests use the hypercall doorbell.
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

TestSuite(kvm_smoke_net, .timeout = 120);

/* socat as a TCP echo server on a free port; returns the port. */
static unsigned start_tcp_echo(struct np_proc *socat)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		unsigned port = np_free_port(SOCK_STREAM);
		char listen[64];
		snprintf(listen, sizeof(listen), "TCP-LISTEN:%u,bind=127.0.0.1,reuseaddr,fork", port);
		cr_assert_eq(np_start(socat, false, NULL, "socat", listen, "EXEC:cat", NULL), 0,
			     "cannot start socat (apt-get install socat)");
		if (np_wait_bound(socat, port, false, 10))
			return port;
		np_proc_free(socat); /* the port was taken in between: try another */
	}
	cr_assert_fail("socat never listened");
	return 0;
}

Test(kvm_smoke_net, echo_client_20_small_messages)
{
	struct np_proc socat;
	unsigned port = start_tcp_echo(&socat);
	char p[8];
	snprintf(p, sizeof(p), "%u", port);

	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 60, vs_guest_img(), "--", "echo-client", "--max-size", "1024",
			    "127.0.0.1", p, "20", NULL), 0);
	vs_result_dump(&r, "echo-client 20");
	cr_assert_eq(r.status, 0, "echo-client failed (status %d)", r.status);
	cr_assert_not_null(strstr(r.out, "echo-client: 20 messages, "));
	cr_assert_not_null(strstr(r.out, "all byte-exact"));
	vs_result_free(&r);
	np_proc_free(&socat);
}

Test(kvm_smoke_net, udp_echo_20_datagrams)
{
	struct np_proc socat;
	unsigned port = 0;
	for (int attempt = 0; attempt < 5 && !port; attempt++) {
		port = np_free_port(SOCK_DGRAM);
		char listen[64];
		snprintf(listen, sizeof(listen), "UDP4-RECVFROM:%u,bind=127.0.0.1,fork", port);
		cr_assert_eq(np_start(&socat, false, NULL, "socat", "-b", "65536", listen,
				      "PIPE", NULL), 0);
		if (!np_wait_bound(&socat, port, true, 10)) {
			np_proc_free(&socat);
			port = 0;
		}
	}
	cr_assert_neq(port, 0, "socat never bound a UDP port");
	char p[8];
	snprintf(p, sizeof(p), "%u", port);

	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 60, vs_guest_img(), "--", "udp-echo", "--max-size", "512",
			    "127.0.0.1", p, "20", NULL), 0);
	vs_result_dump(&r, "udp-echo 20");
	cr_assert_eq(r.status, 0, "udp-echo failed (status %d)", r.status);
	cr_assert_not_null(strstr(r.out, "udp-echo: 20 datagrams, "));
	vs_result_free(&r);
	np_proc_free(&socat);
}

Test(kvm_smoke_net, errors_reach_the_guest_as_errno)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 60, vs_guest_img(), "--", "net-errors", NULL), 0);
	vs_result_dump(&r, "net-errors");
	cr_assert_eq(np_count_lines_with(r.out, ": FAILED"), 0, "a case failed");
	cr_assert_not_null(strstr(r.out, "cases, all ok"));
	cr_assert_eq(r.status, 0);
	vs_result_free(&r);
}

Test(kvm_smoke_net, guest_sha256_matches_fips_vectors)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 60, vs_guest_img(), "--", "sha256-selftest", NULL), 0);
	vs_result_dump(&r, "sha256-selftest");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "32 of 32 checks passed"));
	vs_result_free(&r);
}
