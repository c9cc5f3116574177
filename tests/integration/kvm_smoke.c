/* SPDX-License-Identifier: MIT */
/*
 * Smoke tests: boot build/guest.img with build/vmm.  These run under full
 * KVM and natively on PVM hosts, so nothing here uses the hypercall
 * doorbell except to check it is refused on PVM; where the two hosts differ
 * (the doorbell auto chooses), each kind has its own assertion.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static void require_artifacts(void)
{
	struct stat st;
	cr_assert_eq(stat(vs_vmm_path(), &st), 0, "no vmm at %s: build the vmm target",
		     vs_vmm_path());
	cr_assert_eq(stat(vs_guest_img(), &st), 0, "no guest image at %s: build guest_img",
		     vs_guest_img());
}

TestSuite(kvm_smoke, .init = require_artifacts, .timeout = 120);

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

Test(kvm_smoke, hello)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 30, vs_guest_img(), "--", "hello", NULL), 0);
	vs_result_dump(&r, "hello");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "Hello"), "no greeting on stdout");
	cr_assert_eq(r.err[0], '\0', "the vmm said something without -v: %s", r.err);
	vs_result_free(&r);
}

Test(kvm_smoke, exit_status_is_the_guests)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 30, vs_guest_img(), "--", "exit", "7", NULL), 0);
	vs_result_dump(&r, "exit 7");
	cr_assert_eq(r.status, 7);
	cr_assert(!r.signaled);
	vs_result_free(&r);
}

Test(kvm_smoke, fault_is_reported_with_vector_and_cr2)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 30, vs_guest_img(), "--", "fault", NULL), 0);
	vs_result_dump(&r, "fault");
	cr_assert_eq(r.status, 70, "guest exception must exit 70");
	cr_assert(!r.signaled, "the vmm itself must not crash");
	cr_assert_not_null(strstr(r.out, "vector 14"), "report names the vector");
	cr_assert_not_null(strstr(r.out, "dead0000000"), "report shows CR2");
	cr_assert_not_null(strstr(r.out, "cr2"), "report labels CR2");
	vs_result_free(&r);
}

Test(kvm_smoke, spin_is_stopped_by_the_watchdog)
{
	struct vs_result r;
	const char *args[] = { "--timeout", "2", vs_guest_img(), "--", "spin", NULL };
	struct vs_run_opts o = { .timeout_s = 2, .deadline_s = 20 };
	cr_assert_eq(vs_run_vmm(&r, &o, args), 0);
	vs_result_dump(&r, "spin --timeout 2");
	cr_assert(!r.killed, "the vmm's own watchdog must stop it, not the harness");
	cr_assert_eq(r.status, 72);
	cr_assert_geq(r.seconds, 1.9);
	cr_assert_lt(r.seconds, 6.0, "took %.2f s to stop", r.seconds);
	cr_assert_not_null(strstr(r.err, "--timeout"), "says why it stopped");
	cr_assert_not_null(strstr(r.err, "vCPU 0 at RIP 0x"), "says where the vCPU was");
	vs_result_free(&r);
}

/* A guest waiting for a connection sits in a doorbell WAIT inside the vmm
 * (hostnet), not in KVM_RUN: the watchdog must wake it there too. */
Test(kvm_smoke, watchdog_wakes_a_vcpu_blocked_in_a_doorbell_wait)
{
	char port[16];
	snprintf(port, sizeof(port), "%d", 20000 + (int)(getpid() % 20000));
	struct vs_result r;
	const char *args[] = { "--stats", "--timeout", "2", vs_guest_img(), "--", "sink",
			       "--listen", port, NULL };
	struct vs_run_opts o = { .timeout_s = 2, .deadline_s = 20 };
	cr_assert_eq(vs_run_vmm(&r, &o, args), 0);
	vs_result_dump(&r, "sink --listen, --timeout 2");
	cr_assert(!r.killed);
	cr_assert_eq(r.status, 72);
	cr_assert_lt(r.seconds, 6.0, "took %.2f s to stop", r.seconds);
	cr_assert_not_null(strstr(r.err, "vCPU 0 at RIP 0x"));
	vs_result_free(&r);
}

Test(kvm_smoke, sigterm_stops_the_vm)
{
	struct vs_result r;
	const char *args[] = { vs_guest_img(), "--", "spin", NULL };
	struct vs_run_opts o = { .timeout_s = 30, .signal_after_s = 1.0, .signal = SIGTERM };
	cr_assert_eq(vs_run_vmm(&r, &o, args), 0);
	vs_result_dump(&r, "spin + SIGTERM");
	cr_assert(!r.killed);
	cr_assert(!r.signaled, "the vmm handles SIGTERM itself");
	cr_assert_eq(r.status, 143);
	cr_assert_lt(r.seconds, 6.0);
	cr_assert_not_null(strstr(r.err, "RIP 0x"));
	vs_result_free(&r);
}

Test(kvm_smoke, text_file_is_a_bad_image)
{
	char path[] = "/tmp/vmm-smoke-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	static const char text[] = "this is a text file, not a kernel\n";
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 30, path, NULL), 0);
	unlink(path);
	vs_result_dump(&r, "text file");
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "not an ELF file"));
	cr_assert_eq(count_lines(r.err), 1, "one clear line");
	vs_result_free(&r);
}

Test(kvm_smoke, missing_kvm_device_names_the_sandbox)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 30, "--kvm-device", "/nonexistent", vs_guest_img(), NULL), 0);
	vs_result_dump(&r, "--kvm-device /nonexistent");
	cr_assert_eq(r.status, 3);
	cr_assert_not_null(strstr(r.err, "/nonexistent"));
	cr_assert_not_null(strstr(r.err, "scripts/kvm-sandbox"));
	cr_assert_eq(count_lines(r.err), 1);
	vs_result_free(&r);
}

Test(kvm_smoke, unknown_guest_program_fails)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 30, vs_guest_img(), "--", "no-such-program", NULL), 0);
	vs_result_dump(&r, "no-such-program");
	cr_assert_neq(r.status, 0);
	cr_assert(!r.signaled);
	cr_assert_neq(r.status, 72, "must fail, not hang");
	vs_result_free(&r);
}

Test(kvm_smoke, bad_command_line_is_one_line_and_status_2)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 30, "-m", "12Q", vs_guest_img(), NULL), 0);
	vs_result_dump(&r, "-m 12Q");
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "bad --mem '12Q'"));
	cr_assert_eq(count_lines(r.err), 1);
	vs_result_free(&r);
}

Test(kvm_smoke, doorbell_auto_follows_the_host)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 30, "-v", vs_guest_img(), "--", "hello", NULL), 0);
	vs_result_dump(&r, "-v hello");
	cr_assert_eq(r.status, 0);
	if (vs_host_is_pvm()) {
		cr_assert_not_null(strstr(r.err, "host pvm"));
		cr_assert_not_null(strstr(r.err, "doorbell pio"), "auto must be pio on PVM");
		cr_assert_not_null(strstr(r.err, "emulated"), "-v explains PVM");
	} else {
		cr_assert_not_null(strstr(r.err, "host kvm"));
		cr_assert_not_null(strstr(r.err, "doorbell hypercall"));
	}
	vs_result_free(&r);
}

Test(kvm_smoke, hypercall_doorbell_refused_only_on_pvm)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 30, "--doorbell=hypercall", vs_guest_img(), "--", "hello", NULL),
		     0);
	vs_result_dump(&r, "--doorbell=hypercall");
	if (vs_host_is_pvm()) {
		/* Refused before the guest starts: no vmcall is ever run here. */
		cr_assert_eq(r.status, 2);
		cr_assert_eq(r.out[0], '\0', "the guest must not have started");
		cr_assert_not_null(strstr(r.err, "never returns from KVM_RUN"));
		cr_assert_not_null(strstr(r.err, "scripts/kvm-sandbox"));
		cr_assert_eq(count_lines(r.err), 1);
	} else {
		cr_assert_eq(r.status, 0);
		cr_assert_not_null(strstr(r.out, "Hello"));
	}
	vs_result_free(&r);
}

Test(kvm_smoke, stats_json_names_host_and_doorbell)
{
	char path[] = "/tmp/vmm-stats-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 30, "--stats", "--stats-json", path, "--doorbell=pio",
			    vs_guest_img(), "--", "hello", NULL), 0);
	vs_result_dump(&r, "--stats");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.err, "vmm statistics"));
	cr_assert_not_null(strstr(r.err, "serial bytes"));

	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	char json[8192];
	size_t n = fread(json, 1, sizeof(json) - 1, f);
	fclose(f);
	unlink(path);
	json[n] = '\0';
	cr_assert_not_null(strstr(json, vs_host_is_pvm() ? "\"host_kind\": \"pvm\""
							 : "\"host_kind\": \"kvm\""), "%s", json);
	cr_assert_not_null(strstr(json, "\"doorbell\": \"pio\""), "%s", json);
	cr_assert_not_null(strstr(json, "\"IO\": "), "%s", json);
	cr_assert_not_null(strstr(json, "\"exit_status\": 0"), "%s", json);
	vs_result_free(&r);
}

Test(kvm_smoke, two_vcpus_report_in)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 60, "-c", "2", vs_guest_img(), "--", "smp", NULL), 0);
	vs_result_dump(&r, "-c 2 smp");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "cpu 0"));
	cr_assert_not_null(strstr(r.out, "cpu 1"));
	vs_result_free(&r);
}
