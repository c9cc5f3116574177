/* SPDX-License-Identifier: MIT */
/*
 * A hostile guest (guest program "hostile") against the real VMM: raw bad
 * submission entries, forged indices, bad doorbells, a socket flood, a
 * broken ring.  Every case must be refused with the right errno, the VMM must
 * neither crash nor leak (same open file count before and after the guest's
 * sockets, no socket left open at exit) and a normal echo must still work.
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

TestSuite(kvm_hostile, .timeout = 600);

#define MAX_SOCKETS "32"

static const char *const cases[] = {
	"nop", "socket", "gpa-beyond-ram", "gpa-across-end-of-ram", "gpa-plus-len-wraps",
	"gpa-in-ring-slot", "len-4g-minus-1", "sockaddr-out-across-end",
	"accept-sockaddr-too-short", "unknown-opcode", "opcode-count", "reserved0-nonzero",
	"unknown-sqe-flag", "nop-op-flags", "sockaddr-reserved-nonzero",
	"cancel-reserved-nonzero", "setsockopt-negative", "setsockopt-unlisted",
	"socket-af-unix", "socket-raw", "poll-no-events", "listen-backlog-huge",
	"sockaddr-family-unix", "sockaddr-family-ffff", "sockaddr-v4-stray-bytes",
	"sockaddr-v4-scope-id", "never-opened-handle", "handle-zero", "handle-all-ones",
	"close-once", "close-twice", "send-on-closed-handle", "stale-handle-after-reuse",
	"close-reused", "connect-denied", "connect-v4-mapped-denied", "bind-wildcard-denied",
	"listen-unbound-denied", "sendto-denied", "bind-privileged-port-denied",
	"udp-reuseaddr-refused", "connect-echo-peer", "socket-flood-emfile",
	"socket-flood-count", "flood-close-one", "flood-reopen-after-close",
	"flood-full-again", "flood-close-all", "flood-released", "rewrite-parked-sqe-send",
	"rewrite-parked-sqe-recv", "rewrite-parked-sqe-data", "rewrite-racing-nop",
	"forged-host-indices", "after-forged-indices", "doorbell-queue-out-of-range",
	"doorbell-queue-nr-queues", "doorbell-bad-flags", "doorbell-wait-zero-empty",
	"doorbell-wrong-magic", "doorbell-wrong-ring-gpa", "doorbell-wrong-ring-pages",
	"doorbells-after-bad-ones", "close-socket", "close-connection",
	"amplification-listener", "amplification-emfile", "amplification-close-listener",
	"amplification-places-return",
	"ring-tail-far-ahead-wait-eio", "ring-tail-far-ahead-broken-flag",
	"broken-queue-submit", "echo-after-all",
};

static unsigned start_socat_echo(struct np_proc *socat)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		unsigned port = np_free_port(SOCK_STREAM);
		char listen[80];
		snprintf(listen, sizeof(listen), "TCP4-LISTEN:%u,bind=127.0.0.1,reuseaddr,fork",
			 port);
		cr_assert_eq(np_start(socat, false, NULL, "socat", listen, "EXEC:cat", NULL), 0,
			     "cannot start socat");
		if (np_wait_bound(socat, port, false, 10))
			return port;
		np_proc_free(socat);
	}
	cr_assert_fail("socat never listened");
	return 0;
}

/* Open files of process pid right now (-1 if /proc says nothing). */
static int open_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

Test(kvm_hostile, every_case_refused_and_nothing_leaks)
{
	struct np_proc socat, vmm;
	unsigned port = start_socat_echo(&socat);
	char port_s[16], json[256];
	snprintf(port_s, sizeof(port_s), "%u", port);
	cr_assert(np_tmpdir(json));
	char *stats = np_join(json, "stats.json");

	cr_assert_eq(np_vmm_start(&vmm, 400, "-c", "2", "--max-sockets", MAX_SOCKETS,
				  "--stats-json", stats, vs_guest_img(), "--", "hostile",
				  "127.0.0.1", port_s, MAX_SOCKETS, NULL), 0);
	/* The guest pauses after "start" (nothing of it open yet) and before it
	 * exits (everything closed again): count the vmm's files in both. */
	cr_assert(np_wait_output(&vmm, "hostile: start", 300), "no start line:\n%s", vmm.out);
	int fds_before = open_fds(vmm.pid);
	cr_assert(np_wait_output(&vmm, "hostile: done", 400), "no done line:\n%s", vmm.out);
	int fds_after = open_fds(vmm.pid);
	/* A connection the guest closed stays open host-side until its peer
	 * has closed too (hostnet/linger.c): give the echo peer a moment,
	 * within the guest's pause. */
	for (int i = 0; i < 100 && fds_after > fds_before; i++) {
		usleep(10000);
		fds_after = open_fds(vmm.pid);
	}
	cr_assert(np_wait_exit(&vmm, 120), "the vmm did not exit:\n%s", vmm.out);
	fprintf(stderr, "%s", vmm.out);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[160];
		snprintf(line, sizeof(line), "hostile: %s ok\n", cases[i]);
		cr_expect_not_null(strstr(vmm.out, line), "missing or failed: '%s'", cases[i]);
	}
	cr_assert_eq(np_count_lines_with(vmm.out, "FAILED"), 0, "a case failed");
	cr_assert_eq(np_count_lines_with(vmm.out, "skipped"), 0,
		     "a case was skipped (needs the hypercall doorbell: full KVM)");
	cr_assert_eq(vmm.status, 0, "hostile exited %d", vmm.status);

	cr_assert_gt(fds_before, 0);
	cr_assert_eq(fds_after, fds_before, "the vmm had %d files open before the guest's "
		     "sockets and %d after they were all closed", fds_before, fds_after);

	FILE *f = fopen(stats, "r");
	cr_assert_not_null(f, "no --stats-json file");
	static char text[16384];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	cr_assert_not_null(strstr(text, "\"sockets_open\": 0,"), "sockets left open:\n%s", text);
	cr_assert_not_null(strstr(text, "\"queues_broken\": 1,"), "%s", text);
	cr_assert_null(strstr(text, "\"denied\": 0,"), "no denial counted:\n%s", text);

	np_proc_free(&socat);
	np_proc_free(&vmm);
	unlink(stats);
	np_rmtree(json);
	free(stats);
}
