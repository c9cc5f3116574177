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
#include <fcntl.h>
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

/* socat echoing on a free port of 127.0.0.1 (or ::1); returns the port. */
static unsigned socat_echo(struct np_proc *socat, bool v6)
{
	unsigned port = np_start_socat_listener(socat, v6, "fork", "EXEC:cat");
	cr_assert_neq(port, 0, "socat never listened");
	return port;
}

Test(kvm_hostile, every_case_refused_and_nothing_leaks)
{
	struct np_proc socat, vmm;
	unsigned port = socat_echo(&socat, false);
	char port_s[16], json[256];
	snprintf(port_s, sizeof(port_s), "%u", port);
	cr_assert(np_tmpdir(json));
	char *stats = np_join(json, "stats.json");

	/* The vmm's stderr into a file (its denial log lines are checked). */
	char *errlog = np_join(json, "stderr.txt");
	int errfd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(errfd, 0);
	fflush(stderr);
	int saved_err = dup(STDERR_FILENO);
	dup2(errfd, STDERR_FILENO); /* the child inherits it as its fd 2 */
	int started = np_vmm_start(&vmm, 400, "-c", "2", "--max-sockets", MAX_SOCKETS,
				   "--stats-json", stats, vs_guest_img(), "--", "hostile",
				   "127.0.0.1", port_s, MAX_SOCKETS, NULL);
	dup2(saved_err, STDERR_FILENO);
	close(saved_err);
	close(errfd);
	cr_assert_eq(started, 0);
	/* The guest pauses after "start" (nothing of it open yet) and before it
	 * exits (everything closed again): count the vmm's files in both. */
	cr_assert(np_wait_output(&vmm, "hostile: start", 300), "no start line:\n%s", vmm.out);
	int fds_before = np_open_fds(vmm.pid);
	cr_assert(np_wait_output(&vmm, "hostile: done", 400), "no done line:\n%s", vmm.out);
	int fds_after = np_open_fds(vmm.pid);
	/* A connection the guest closed stays open host-side until its peer
	 * has closed too (hostnet/linger.c): give the echo peer a moment,
	 * within the guest's pause. */
	for (int i = 0; i < 100 && fds_after > fds_before; i++) {
		usleep(10000);
		fds_after = np_open_fds(vmm.pid);
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
	/* connect, connect v4-mapped, bind wildcard, listen unbound, sendto,
	 * bind to a privileged port */
	cr_assert_not_null(strstr(text, "\"denied\": 6,"), "not exactly 6 denials:\n%s", text);

	/* Logged, rate limited: one line for the first, then at most one a second,
	 * each saying how many it did not show (the exact timing is
	 * hostnet_policy's denials_log_one_line_a_second_with_a_count). */
	static char err[65536];
	FILE *ef = fopen(errlog, "r");
	cr_assert_not_null(ef);
	err[fread(err, 1, sizeof(err) - 1, ef)] = '\0';
	fclose(ef);
	fprintf(stderr, "---- vmm stderr:\n%s", err);
	int lines = np_count_lines_with(err, "hostnet: denied guest ");
	unsigned long long accounted = 0;
	for (const char *p = err; (p = strstr(p, "hostnet: denied guest ")); p++) {
		const char *eol = strchr(p, '\n');
		const char *more = strstr(p, "; ");
		accounted += 1 + (more && (!eol || more < eol) ? strtoull(more + 2, NULL, 10) : 0);
	}
	cr_assert_geq(lines, 1, "no denial was logged");
	const char *first = strstr(err, "hostnet: denied guest ");
	const char *first_end = strchr(first, '\n'), *unshown = strstr(first, "not shown");
	cr_assert(!unshown || (first_end && unshown > first_end),
		  "the first denial line has nothing unshown to count");
	cr_assert_leq(accounted, 6, "the log accounts for %llu denials of 6", accounted);
	free(errlog);

	np_proc_free(&socat);
	np_proc_free(&vmm);
	unlink(stats);
	np_rmtree(json);
	free(stats);
}
