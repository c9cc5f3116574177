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
 *     open: the VMM's own teardown closes them all (checked while the vmm
 *     still lives), the host peers see EOF, the port is free.
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <dirent.h>
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
	/* Echo the first 100 000 bytes, then hang up (readbytes: EOF after
	 * that many; socat then closes, with the rest unread). */
	unsigned port = np_start_socat_listener(&socat, false, "readbytes=100000", "PIPE");
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

/* Sockets among /proc/PID/fd ("socket:[INODE]" links), names in list. */
static int count_socket_fds(pid_t pid, char *list, size_t listlen)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int n = 0;
	list[0] = '\0';
	for (struct dirent *e; (e = readdir(d));) {
		char path[320], target[128];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ssize_t k = readlink(path, target, sizeof(target) - 1);
		if (k <= 0)
			continue;
		target[k] = '\0';
		if (strncmp(target, "socket:", 7) == 0) {
			n++;
			size_t used = strlen(list);
			snprintf(list + used, listlen - used, " fd %s", e->d_name);
		}
	}
	closedir(d);
	return n;
}

/*
 * The vmm must close everything itself (vm_destroy -> hostnet_destroy), not leave
 * it to the kernel at exit: the vmm runs with tests/integration/exit_gate.c
 * preloaded, which holds it after main() returned, and everything is checked
 * while it still lives: no socket among its fds, EOF at every host peer, the
 * guest's listening port free.
 */
Test(kvm_net_errors, guest_exit_with_open_sockets_is_cleaned_up)
{
	enum { CONNS = 20 };
	/* Our own listener: the guest connects to it, we accept afterwards. */
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* not for the vmm */
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	cr_assert_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(l, 64), 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	char p[8], n[8];
	snprintf(p, sizeof(p), "%u", ntohs(sin.sin_port));
	snprintf(n, sizeof(n), "%d", CONNS);

	char gate[] = "/tmp/vs-exit-gate-XXXXXX";
	int gfd = mkstemp(gate);
	cr_assert_geq(gfd, 0);
	close(gfd);
	unlink(gate); /* the vmm creates it when it is about to exit */
	const char *asan = getenv("ASAN_OPTIONS");
	char *asan_opts = NULL;
	/* The preloaded library is not sanitized: an ASan vmm must accept it first. */
	cr_assert_geq(asprintf(&asan_opts, "%s%sverify_asan_link_order=0", asan ? asan : "",
			       asan ? ":" : ""), 0);
	char *old_asan = asan ? strdup(asan) : NULL;
	setenv("VS_EXIT_GATE", gate, 1);
	setenv("LD_PRELOAD", VS_EXIT_GATE_LIB, 1);
	setenv("ASAN_OPTIONS", asan_opts, 1);
	struct np_proc vmm;
	double t0 = np_now();
	int started = np_vmm_start(&vmm, 120, vs_guest_img(), "--", "hold-open", "127.0.0.1", p,
				   n, NULL);
	unsetenv("LD_PRELOAD");
	unsetenv("VS_EXIT_GATE");
	if (old_asan)
		setenv("ASAN_OPTIONS", old_asan, 1);
	else
		unsetenv("ASAN_OPTIONS");
	cr_assert_eq(started, 0);

	/* Wait until the vmm has torn down and stands at the gate. */
	while (access(gate, F_OK) != 0) {
		np_pump(&vmm);
		cr_assert(!np_wait_exit(&vmm, 0), "the vmm exited (status %d) without reaching "
			  "the exit gate:\n%s", vmm.status, vmm.out);
		cr_assert_lt(np_now() - t0, 90.0, "the vmm did not finish in 90 s:\n%s", vmm.out);
		np_sleep_ms(20);
	}
	np_pump(&vmm);
	cr_assert_lt(np_now() - t0, 60.0, "the vmm took %.1f s to end with sockets open",
		     np_now() - t0);
	cr_assert_not_null(strstr(vmm.out, "connections and a listener open"), "%s", vmm.out);
	unsigned gport = np_listening_port(&vmm);
	cr_assert_neq(gport, 0, "no 'listening on' in:\n%s", vmm.out);

	/* 1. The vmm, still alive, has no socket left. */
	char socks[512];
	int left = count_socket_fds(vmm.pid, socks, sizeof(socks));
	cr_assert_eq(left, 0, "the vmm has torn down but still holds %d sockets:%s", left, socks);

	/* 2. Every connection: the hello, then EOF, from the vmm's own close. */
	for (int i = 0; i < CONNS; i++) {
		int c = accept(l, NULL, NULL);
		cr_assert_geq(c, 0);
		struct timeval tv = { .tv_sec = 5 };
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		char buf[64];
		size_t got = 0;
		ssize_t k = -1;
		while (got < sizeof(buf) - 1 && (k = recv(c, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
			got += (size_t)k;
		buf[got] = '\0';
		cr_assert_eq(k, 0, "connection %d: no EOF while the vmm lives (%s)", i,
			     strerror(errno));
		cr_assert_eq(strncmp(buf, "hold-open ", 10), 0, "connection %d said '%s'", i, buf);
		close(c);
	}
	close(l);

	/* 3. The guest's listener is gone too: its port can be bound again. */
	cr_assert(!np_port_bound(gport, false), "the guest's listener on %u is still there",
		  gport);

	unlink(gate);
	cr_assert(np_wait_exit(&vmm, 30), "the vmm did not exit after the gate opened");
	cr_assert_eq(vmm.status, 0, "hold-open: status %d\n%s", vmm.status, vmm.out);
	np_proc_free(&vmm);
	free(asan_opts);
	free(old_asan);
}
