/* SPDX-License-Identifier: MIT */
/*
 * Chains of linked requests through the real VMM (guest program net-chain,
 * guest-kernel/net/prog_chain.c): a chain whose CONNECT is refused completes
 * CONNECT with -ECONNREFUSED and every later link with the chain-broken
 * result; the same chain against a socat echo server succeeds byte-exact;
 * and the vmm and its hostnet worker process hold as many open files after
 * all those chains as before them (counted in /proc while the guest waits at
 * the test's gate connection).
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

TestSuite(kvm_net_chain, .timeout = 600);

/* Open files of pid ("/proc/PID/fd" entries), names in list; -1 if unreadable. */
static int count_fds(pid_t pid, char *list, size_t listlen)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	list[0] = '\0';
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[320], target[128];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ssize_t k = readlink(path, target, sizeof(target) - 1);
		target[k > 0 ? k : 0] = '\0';
		n++;
		size_t used = strlen(list);
		snprintf(list + used, listlen - used, " %s=%s", e->d_name, target);
	}
	closedir(d);
	return n;
}

/* The vmm's and its worker process's open files together. */
static int vmm_fds(pid_t vmm, char *list, size_t listlen)
{
	pid_t worker = np_first_child(vmm);
	int a = count_fds(vmm, list, listlen);
	size_t used = strlen(list);
	int b = worker ? count_fds(worker, list + used, listlen - used) : 0;
	return a < 0 || b < 0 ? -1 : a + b;
}

/* Read the guest's line on the gate connection (up to '\n'). */
static void expect_gate_line(int c, const char *want, struct np_proc *vmm)
{
	char buf[32];
	size_t got = 0;
	while (got < sizeof(buf) - 1) {
		ssize_t k = recv(c, buf + got, 1, 0);
		if (k <= 0) {
			np_pump(vmm);
			cr_assert_fail("gate: no '%s' from the guest (%s):\n%s", want,
				       k == 0 ? "EOF" : strerror(errno), vmm->out);
		}
		if (buf[got++] == '\n')
			break;
	}
	buf[got] = '\0';
	cr_assert_str_eq(buf, want, "gate: the guest said '%s'", buf);
}

Test(kvm_net_chain, refused_connect_breaks_the_chain_and_nothing_leaks)
{
	const char *rounds = "50";
	/* The gate: our listener, the guest's first connection. */
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	cr_assert_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(l, 4), 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);

	/* The echo peer: socat, one child per connection. */
	struct np_proc socat;
	unsigned echo = np_start_socat_listener(&socat, false, "fork", "PIPE");
	cr_assert_neq(echo, 0, "socat did not start");
	unsigned refused = np_free_port(SOCK_STREAM); /* nobody listens there */

	char gate_p[8], refused_p[8], echo_p[8];
	snprintf(gate_p, sizeof(gate_p), "%u", ntohs(sin.sin_port));
	snprintf(refused_p, sizeof(refused_p), "%u", refused);
	snprintf(echo_p, sizeof(echo_p), "%u", echo);
	struct np_proc vmm;
	cr_assert_eq(np_vmm_start(&vmm, 240, vs_guest_img(), "--", "net-chain", "127.0.0.1",
				  gate_p, refused_p, echo_p, rounds, NULL), 0);

	int c = accept(l, NULL, NULL);
	cr_assert_geq(c, 0);
	struct timeval tv = { .tv_sec = 120 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	expect_gate_line(c, "ready\n", &vmm);
	char before_list[4096], after_list[4096];
	int before = vmm_fds(vmm.pid, before_list, sizeof(before_list));
	cr_assert_gt(before, 0, "cannot read the vmm's /proc/PID/fd");
	cr_assert_eq(send(c, "g", 1, 0), 1);

	expect_gate_line(c, "done\n", &vmm);
	/* A closed connection may linger in hostnet for a moment (linger.c):
	 * allow it a few seconds to be gone. */
	int after = -1;
	for (int i = 0; i < 100; i++) {
		after = vmm_fds(vmm.pid, after_list, sizeof(after_list));
		if (after == before)
			break;
		np_sleep_ms(50);
	}
	cr_assert_eq(after, before, "the vmm holds %d open files after the chains, %d before:\n"
		     "before:%s\nafter:%s", after, before, before_list, after_list);
	cr_assert_eq(send(c, "g", 1, 0), 1);

	cr_assert(np_wait_exit(&vmm, 120), "the vmm did not exit:\n%s", vmm.out);
	cr_assert_not_null(strstr(vmm.out, "net-chain: refused: SOCKET ok, CONNECT ECONNREFUSED, "
					   "SEND chain broken, RECV chain broken, CLOSE chain broken"),
			   "%s", vmm.out);
	char all_ok[96];
	snprintf(all_ok, sizeof(all_ok), "net-chain: %s refused chains, %s echo chains, all ok",
		 rounds, rounds);
	cr_assert_not_null(strstr(vmm.out, all_ok), "%s", vmm.out);
	cr_assert_eq(np_count_lines_with(vmm.out, "FAILED"), 0, "%s", vmm.out);
	cr_assert_eq(vmm.status, 0, "net-chain: status %d\n%s", vmm.status, vmm.out);
	close(c);
	close(l);
	np_proc_free(&vmm);
	np_proc_free(&socat);
}
