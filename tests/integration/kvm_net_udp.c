/* SPDX-License-Identifier: MIT */
/*
 * UDP through virtsocket: the guest's udp-echo against socat echoing
 * datagrams (UDP-LISTEN PIPE) on the host's loopback, IPv4 and IPv6,
 * MTU-sized and maximum-sized datagrams, each reply byte-exact.
 *
 * Not UDP-RECVFROM with fork: that forks a child per datagram and, once in
 * ~3000 datagrams under ASan in the sandbox, a datagram got no reply (the
 * guest's socket is one peer, which UDP-LISTEN serves without forking).
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

TestSuite(kvm_net_udp, .timeout = 600);

static unsigned start_udp_echo(struct np_proc *socat, bool v6)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		unsigned port = np_free_port(SOCK_DGRAM);
		char listen[80];
		if (v6)
			snprintf(listen, sizeof(listen), "UDP6-LISTEN:%u,bind=[::1]", port);
		else
			snprintf(listen, sizeof(listen), "UDP4-LISTEN:%u,bind=127.0.0.1", port);
		/* -b: socat's buffer must hold the largest datagram (default 8192). */
		cr_assert_eq(np_start(socat, false, NULL, "socat", "-b", "65536", listen, "PIPE",
				      NULL), 0);
		if (np_wait_bound(socat, port, true, 10))
			return port;
		np_proc_free(socat);
	}
	cr_assert_fail("socat never bound a UDP port");
	return 0;
}

static void run_udp_echo(const char *host, unsigned port, const char *max, const char *count)
{
	char p[8], want[64], what[96];
	snprintf(p, sizeof(p), "%u", port);
	snprintf(want, sizeof(want), "udp-echo: %s datagrams, ", count);
	snprintf(what, sizeof(what), "udp-echo --max-size %s %s %s %s", max, host, p, count);
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 500, vs_guest_img(), "--", "udp-echo", "--max-size", max, host, p,
			    count, NULL), 0);
	vs_result_dump(&r, what);
	cr_assert_eq(r.status, 0, "%s: status %d", what, r.status);
	cr_assert_not_null(strstr(r.out, want), "%s: no summary", what);
	cr_assert_not_null(strstr(r.out, "all byte-exact"));
	vs_result_free(&r);
}

Test(kvm_net_udp, udp_echo_1000_datagrams_with_socat)
{
	struct np_proc socat;
	unsigned port = start_udp_echo(&socat, false);
	run_udp_echo("127.0.0.1", port, "1400", "1000");
	np_proc_free(&socat);
}

Test(kvm_net_udp, udp_echo_largest_datagrams)
{
	struct np_proc socat;
	unsigned port = start_udp_echo(&socat, false);
	run_udp_echo("127.0.0.1", port, "65507", "100");
	np_proc_free(&socat);
}

Test(kvm_net_udp, udp_echo_over_ipv6)
{
	struct np_proc socat;
	unsigned port = start_udp_echo(&socat, true);
	run_udp_echo("::1", port, "1400", "200");
	np_proc_free(&socat);
}
