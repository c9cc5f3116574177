/* SPDX-License-Identifier: MIT */
/*
 * Bulk TCP through virtsocket, 256 MiB each way, against socat on the host:
 *   guest source -> socat -u TCP-LISTEN OPEN:file   (file = the pattern, and
 *                                                    sha256sum = the guest's)
 *   socat -u OPEN:file TCP-LISTEN -> guest sink     (the guest's SHA-256 =
 *                                                    sha256sum of the file)
 * and, smaller, the same with the guest listening (source/sink --listen).
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

#define BIG   (256ull << 20)
#define SMALL (16ull << 20)

TestSuite(kvm_net_bulk, .timeout = 1100);

/* socat -u from a file to a TCP listener (file_to_tcp) or from a TCP listener
 * to a file, the listener on a free port of 127.0.0.1; returns the port. */
static unsigned start_socat_listener(struct np_proc *socat, bool file_to_tcp, const char *file)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		unsigned port = np_free_port(SOCK_STREAM);
		char tcp[80], path[320];
		snprintf(tcp, sizeof(tcp), "TCP4-LISTEN:%u,bind=127.0.0.1,reuseaddr", port);
		snprintf(path, sizeof(path), file_to_tcp ? "OPEN:%s,rdonly" : "OPEN:%s,creat,trunc",
			 file);
		cr_assert_eq(np_start(socat, false, NULL, "socat", "-u",
				      file_to_tcp ? path : tcp, file_to_tcp ? tcp : path, NULL), 0);
		if (np_wait_bound(socat, port, false, 10))
			return port;
		np_proc_free(socat);
	}
	cr_assert_fail("socat never listened");
	return 0;
}

static void check_guest_bulk(const struct vs_result *r, const char *prog,
			     unsigned long long want_bytes, const char *want_sha)
{
	unsigned long long bytes;
	char hex[65];
	cr_assert_eq(r->status, 0, "%s failed (status %d)", prog, r->status);
	cr_assert(np_parse_bulk(r->out, prog, &bytes, hex), "no bytes=/sha256= line from %s",
		  prog);
	cr_assert_eq(bytes, want_bytes, "%s moved %llu bytes, not %llu", prog, bytes, want_bytes);
	cr_assert_str_eq(hex, want_sha, "%s's SHA-256 differs from sha256sum's", prog);
}

Test(kvm_net_bulk, guest_source_256mib_to_host_socat)
{
	char tmp[256], sha[65], n[32];
	cr_assert(np_tmpdir(tmp));
	char *file = np_join(tmp, "received");
	struct np_proc socat;
	unsigned port = start_socat_listener(&socat, false, file);
	char p[8];
	snprintf(p, sizeof(p), "%u", port);
	snprintf(n, sizeof(n), "%llu", BIG);

	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 1000, vs_guest_img(), "--", "source", "127.0.0.1", p, n, NULL), 0);
	vs_result_dump(&r, "source 256 MiB");
	cr_assert(np_wait_exit(&socat, 60), "socat did not finish after the guest closed");
	cr_assert_eq(socat.status, 0, "socat failed");
	cr_assert_eq(np_file_size(file), (long long)BIG);
	cr_assert(np_sha256sum(file, sha));
	check_guest_bulk(&r, "source", BIG, sha);
	cr_assert_eq(np_pattern_mismatch(file, BIG), -1, "the file is not the pattern");
	fprintf(stderr, "guest -> host 256 MiB: vmm ran %.1f s\n", r.seconds);
	vs_result_free(&r);
	np_proc_free(&socat);
	free(file);
	np_rmtree(tmp);
}

Test(kvm_net_bulk, host_socat_256mib_to_guest_sink)
{
	char tmp[256], sha[65];
	cr_assert(np_tmpdir(tmp));
	char *file = np_join(tmp, "sent");
	cr_assert(np_write_pattern_file(file, BIG));
	cr_assert(np_sha256sum(file, sha));
	struct np_proc socat;
	unsigned port = start_socat_listener(&socat, true, file);
	char p[8];
	snprintf(p, sizeof(p), "%u", port);

	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 1000, vs_guest_img(), "--", "sink", "127.0.0.1", p, NULL), 0);
	vs_result_dump(&r, "sink 256 MiB");
	check_guest_bulk(&r, "sink", BIG, sha);
	fprintf(stderr, "host -> guest 256 MiB: vmm ran %.1f s\n", r.seconds);
	cr_assert(np_wait_exit(&socat, 60));
	vs_result_free(&r);
	np_proc_free(&socat);
	free(file);
	np_rmtree(tmp);
}

/* The guest listens, socat connects: 16 MiB each way. */
Test(kvm_net_bulk, guest_listening_source_and_sink_16mib)
{
	char tmp[256], sha[65], addr[64], n[32];
	cr_assert(np_tmpdir(tmp));
	char *sent = np_join(tmp, "sent"), *received = np_join(tmp, "received");
	cr_assert(np_write_pattern_file(sent, SMALL));
	cr_assert(np_sha256sum(sent, sha));
	snprintf(n, sizeof(n), "%llu", SMALL);

	/* host -> guest sink --listen */
	struct np_proc vmm, socat;
	cr_assert_eq(np_vmm_start(&vmm, 600, vs_guest_img(), "--", "sink", "--listen", "0", NULL),
		     0);
	cr_assert(np_wait_output(&vmm, "listening on 127.0.0.1:", 120), "%s", vmm.out);
	snprintf(addr, sizeof(addr), "TCP4:127.0.0.1:%u", np_listening_port(&vmm));
	char open_sent[300];
	snprintf(open_sent, sizeof(open_sent), "OPEN:%s,rdonly", sent);
	cr_assert_eq(np_start(&socat, false, NULL, "socat", "-u", open_sent, addr, NULL), 0);
	cr_assert(np_wait_exit(&vmm, 600), "sink --listen did not finish");
	fprintf(stderr, "---- sink --listen said:\n%s", vmm.out);
	struct vs_result r = { .status = vmm.status, .out = vmm.out };
	check_guest_bulk(&r, "sink", SMALL, sha);
	cr_assert(np_wait_exit(&socat, 60));
	cr_assert_eq(socat.status, 0);
	np_proc_free(&socat);
	np_proc_free(&vmm);

	/* guest source --listen -> host */
	cr_assert_eq(np_vmm_start(&vmm, 600, vs_guest_img(), "--", "source", "--listen", "0", n,
				  NULL), 0);
	cr_assert(np_wait_output(&vmm, "listening on 127.0.0.1:", 120), "%s", vmm.out);
	snprintf(addr, sizeof(addr), "TCP4:127.0.0.1:%u", np_listening_port(&vmm));
	char create[300];
	snprintf(create, sizeof(create), "CREATE:%s", received);
	cr_assert_eq(np_start(&socat, false, NULL, "socat", "-u", addr, create, NULL), 0);
	cr_assert(np_wait_exit(&vmm, 600), "source --listen did not finish");
	fprintf(stderr, "---- source --listen said:\n%s", vmm.out);
	cr_assert(np_wait_exit(&socat, 60));
	cr_assert_eq(socat.status, 0);
	cr_assert_eq(np_file_size(received), (long long)SMALL);
	cr_assert(np_sha256sum(received, sha));
	r = (struct vs_result){ .status = vmm.status, .out = vmm.out };
	check_guest_bulk(&r, "source", SMALL, sha);
	np_proc_free(&socat);
	np_proc_free(&vmm);

	free(sent);
	free(received);
	np_rmtree(tmp);
}
