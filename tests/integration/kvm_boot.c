/* SPDX-License-Identifier: MIT */
/*
 * Boot tests that need full KVM (a hardware KVM host, else the nested
 * sandbox): SMP with four vCPUs, the hypercall doorbell, the clock.
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static void require_full_kvm(void)
{
	struct stat st;
	cr_assert_eq(stat(vs_vmm_path(), &st), 0, "no vmm at %s", vs_vmm_path());
	cr_assert_eq(stat(vs_guest_img(), &st), 0, "no guest image at %s", vs_guest_img());
	/* Not a skip: running these on PVM is a mistake of the runner. */
	cr_assert(!vs_host_is_pvm(), "kvm_boot needs full KVM; on PVM hosts run it in the "
		  "sandbox: scripts/kvm-sandbox -- ctest -L kvm ...");
}

TestSuite(kvm_boot, .init = require_full_kvm, .timeout = 180);

Test(kvm_boot, four_vcpus_report_in)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 60, "-c", "4", vs_guest_img(), "--", "smp", NULL), 0);
	vs_result_dump(&r, "-c 4 smp");
	cr_assert_eq(r.status, 0);
	for (int i = 0; i < 4; i++) {
		char want[32];
		snprintf(want, sizeof(want), "cpu %d: online", i);
		cr_assert_not_null(strstr(r.out, want), "missing '%s'", want);
	}
	cr_assert_null(strstr(r.out, "cpu 4"), "only four vCPUs exist");
	/* Lines from different vCPUs never mix: each starts with a known word. */
	for (char *line = r.out; *line;) {
		char *nl = strchr(line, '\n');
		cr_assert(!strncmp(line, "cpu ", 4) || !strncmp(line, "smp", 3),
			  "interleaved line: %.*s", nl ? (int)(nl - line) : 80, line);
		if (!nl)
			break;
		line = nl + 1;
	}
	vs_result_free(&r);
}

Test(kvm_boot, hypercall_doorbell_is_accepted)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 60, "-v", "--doorbell=hypercall", vs_guest_img(), "--", "hello",
			    NULL), 0);
	vs_result_dump(&r, "--doorbell=hypercall");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.err, "doorbell hypercall"));
	cr_assert_not_null(strstr(r.out, "Hello"));
	vs_result_free(&r);
}

Test(kvm_boot, auto_doorbell_is_hypercall_on_full_kvm)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 60, "-v", vs_guest_img(), "--", "bootinfo", NULL), 0);
	vs_result_dump(&r, "bootinfo");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.err, "host kvm"));
	cr_assert_not_null(strstr(r.err, "doorbell hypercall"));
	vs_result_free(&r);
}

/* The number after key in the vmm's output so far, -1 if not there. */
static long number_after(const struct np_proc *p, const char *key)
{
	const char *s = strstr(p->out, key);
	return s ? strtol(s + strlen(key), NULL, 10) : -1;
}

/* "tick N: M ms elapsed": the guest's clock runs at the host's pace.  The guest
 * measures with its TSC (at the frequency the vmm told it); the test times the
 * arrival of its lines with the host's clock.  Between tick 1 and tick 3 (1 s
 * apart for the guest) the two agree within 20 % + 150 ms (serial output under
 * nested emulation). */
Test(kvm_boot, ticks_advance_with_the_host_clock)
{
	struct np_proc vmm;
	cr_assert_eq(np_vmm_start(&vmm, 60, vs_guest_img(), "--", "ticks", "3", "500", NULL), 0);
	cr_assert(np_wait_output(&vmm, "tick 1: ", 50), "no tick 1:\n%s", vmm.out);
	double host1 = np_now();
	cr_assert(np_wait_output(&vmm, "tick 3: ", 50), "no tick 3:\n%s", vmm.out);
	double host3 = np_now();
	cr_assert(np_wait_exit(&vmm, 30));
	cr_assert_eq(vmm.status, 0, "%s", vmm.out);
	long ms1 = number_after(&vmm, "tick 1: "), ms2 = number_after(&vmm, "tick 2: ");
	long ms3 = number_after(&vmm, "tick 3: ");
	cr_assert(ms1 >= 500 && ms2 > ms1 && ms3 > ms2, "ticks %ld %ld %ld ms", ms1, ms2, ms3);
	double guest_ms = (double)(ms3 - ms1), host_ms = (host3 - host1) * 1000.0;
	fprintf(stderr, "ticks: guest %.0f ms, host %.0f ms between tick 1 and tick 3\n",
		guest_ms, host_ms);
	cr_assert(guest_ms >= 950, "3 ticks 500 ms apart: %.0f ms from tick 1 to 3", guest_ms);
	cr_assert(host_ms >= guest_ms * 0.8 - 150 && host_ms <= guest_ms * 1.2 + 150,
		  "the guest counted %.0f ms while the host's clock moved %.0f ms", guest_ms,
		  host_ms);
	np_proc_free(&vmm);
}

Test(kvm_boot, guest_fault_under_full_kvm)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 60, vs_guest_img(), "--", "fault", "ud", NULL), 0);
	vs_result_dump(&r, "fault ud");
	cr_assert_eq(r.status, 70);
	cr_assert_not_null(strstr(r.out, "vector 6"));
	vs_result_free(&r);
}

Test(kvm_boot, watchdog_with_four_spinning_vcpus)
{
	struct vs_result r;
	const char *args[] = { "-c", "4", "--timeout", "3", vs_guest_img(), "--", "spin", NULL };
	struct vs_run_opts o = { .timeout_s = 3, .deadline_s = 30 };
	cr_assert_eq(vs_run_vmm(&r, &o, args), 0);
	vs_result_dump(&r, "-c 4 spin");
	cr_assert(!r.killed);
	cr_assert_eq(r.status, 72);
	cr_assert_lt(r.seconds, 10.0);
	cr_assert_not_null(strstr(r.err, "vCPU 0 at RIP 0x"));
	cr_assert_not_null(strstr(r.err, "vCPU 3 at RIP 0x"));
	/* They spin in guest code: nothing claims the state was lost. */
	cr_assert_null(strstr(r.err, "not guest code"), "%s", r.err);
	vs_result_free(&r);
}

/* Each way out of the guest (the doorbell hypercall answered by the vmm, a hypercall
 * KVM answers itself, the doorbell port) comes back right after the instruction with
 * rax the answer and every other register as it was, thousands of times in a row
 * (hcloop checks each).  The sandbox's own fault (docs/nested-sandbox.md) needs a
 * busy network guest: hcloop alone went 6.2 million exits there without it. */
Test(kvm_boot, every_exit_returns_with_the_registers_intact)
{
	static const char *const kinds[] = { "user", "kernel", "pio" };
	for (unsigned i = 0; i < 3; i++) {
		struct vs_result r;
		cr_assert_eq(vs_vmm(&r, 60, "--doorbell=hypercall", vs_guest_img(), "--",
				    "hcloop", "3000", kinds[i], NULL), 0);
		vs_result_dump(&r, kinds[i]);
		cr_assert_eq(r.status, 0, "hcloop 3000 %s: status %d\n%s%s", kinds[i],
			     r.status, r.out, r.err);
		cr_assert_not_null(strstr(r.out, "hcloop: 3000 exits ok"), "%s", r.out);
		vs_result_free(&r);
	}
}

/* The hypercall doorbell's WAIT blocks the vCPU thread in the vmm: the
 * watchdog wakes it (hostnet_stop) and the VM still ends with 72. */
Test(kvm_boot, watchdog_wakes_a_hypercall_wait)
{
	char port[16];
	snprintf(port, sizeof(port), "%d", 20000 + (int)(getpid() % 20000));
	struct vs_result r;
	const char *args[] = { "-v", "--stats", "--timeout", "3", vs_guest_img(), "--", "sink",
			       "--listen", port, NULL };
	struct vs_run_opts o = { .timeout_s = 3, .deadline_s = 30 };
	cr_assert_eq(vs_run_vmm(&r, &o, args), 0);
	vs_result_dump(&r, "sink --listen, hypercall, --timeout 3");
	cr_assert(!r.killed);
	cr_assert_not_null(strstr(r.err, "doorbell hypercall"));
	cr_assert_eq(r.status, 72);
	cr_assert_lt(r.seconds, 10.0);
	/* and it was blocked in the WAIT, not elsewhere: most of the run */
	double wait = vs_stat(&r, "vcpu wait time"), run = vs_stat(&r, "run time");
	cr_assert(run > 2.5 && wait >= 1.0 && wait <= run + 0.1,
		  "the vCPU waited %.3f s of a %.3f s run", wait, run);
	vs_result_free(&r);
}
