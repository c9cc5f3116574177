/* SPDX-License-Identifier: MIT */
/*
 * The running vmm's process hardening, seen from /proc while a guest spins:
 * hostnet's worker threads run in the vmm's child process (vmm/worker_proc.c)
 * under its seccomp filter, every thread of that process included; the
 * vmm's own main and vCPU threads (they need KVM_RUN) are not filtered;
 * every thread has no_new_privs, and /dev/kvm is no longer open.
 * --no-seccomp leaves the workers' process unfiltered.  (kvm_jail.c looks
 * at the rest of that process's jail.)
 * (Every other KVM test runs with the filter on, the default, so a system
 * call missing from its allow-list fails them with the SIGSYS line and 73.)
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

TestSuite(kvm_seccomp, .timeout = 300);

struct threads {
	char list[1024];                     /* "tid comm seccomp-mode; ..." for messages */
	unsigned workers, workers_filtered;  /* hostnet-w<N> */
	unsigned others, others_filtered;    /* the vmm's: main, vCPUs */
	unsigned proc_main, proc_main_filtered; /* the worker process's main thread */
	unsigned without_nnp;
};

/* A "Key:\tN" number from a status file's text, -1 if missing. */
static int status_field(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? atoi(p + strlen(key)) : -1;
}

/* Adds pid's threads to t (in_worker_proc: pid is hostnet's process). */
static void inspect_threads(pid_t pid, struct threads *t, bool in_worker_proc)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "no %s", dir);
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[128], comm[64], status[4096];
		snprintf(path, sizeof(path), "%s/%.20s/comm", dir, e->d_name);
		np_read_small(path, comm, sizeof(comm));
		snprintf(path, sizeof(path), "%s/%.20s/status", dir, e->d_name);
		np_read_small(path, status, sizeof(status));
		if (!status[0])
			continue; /* the thread ended meanwhile (a halted vCPU's does) */
		bool filtered = status_field(status, "Seccomp:") == 2;
		comm[strcspn(comm, "\n")] = '\0';
		size_t used = strlen(t->list);
		snprintf(t->list + used, sizeof(t->list) - used, "%.20s %s %d; ", e->d_name, comm,
			 status_field(status, "Seccomp:"));
		if (status_field(status, "NoNewPrivs:") != 1)
			t->without_nnp++;
		if (!strncmp(comm, "hostnet-w", 9)) {
			t->workers++;
			t->workers_filtered += filtered;
		} else if (in_worker_proc) {
			t->proc_main++;
			t->proc_main_filtered += filtered;
		} else {
			t->others++;
			t->others_filtered += filtered;
		}
	}
	closedir(d);
}

/* The vmm's one child: hostnet's worker process. */
static pid_t worker_proc_of(pid_t vmm)
{
	pid_t pid = np_first_child(vmm);
	cr_assert_gt(pid, 0, "the vmm has no child process");
	return pid;
}

/* Does pid have /dev/kvm open? */
static bool has_dev_kvm_open(pid_t pid)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "no %s", dir);
	bool found = false;
	for (struct dirent *e; (e = readdir(d));) {
		char path[128], target[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%.20s", dir, e->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			found |= !strcmp(target, "/dev/kvm");
		}
	}
	closedir(d);
	return found;
}

/* Start a 2-vCPU spinning guest (with extra vmm options), look at it, stop it. */
static void look_at_spinning_vmm(const char *extra, struct threads *t, bool *kvm_open)
{
	struct np_proc vmm;
	if (extra)
		cr_assert_eq(np_vmm_start(&vmm, 120, extra, "-c", "2", vs_guest_img(), "--", "spin",
					  NULL), 0);
	else
		cr_assert_eq(np_vmm_start(&vmm, 120, "-c", "2", vs_guest_img(), "--", "spin", NULL),
			     0);
	cr_assert(np_wait_output(&vmm, "spin: looping forever", 100), "the guest did not "
		  "start:\n%s", vmm.out);
	/* The spinning vCPU 0 has its thread; vCPU 1 halts, and a halted vCPU's
	 * thread ends (vcpu.c), so it may or may not be there yet. */
	memset(t, 0, sizeof(*t));
	inspect_threads(vmm.pid, t, false);
	pid_t worker = worker_proc_of(vmm.pid);
	inspect_threads(worker, t, true);
	*kvm_open = has_dev_kvm_open(vmm.pid) || has_dev_kvm_open(worker);
	np_stop(&vmm); /* SIGTERM: the vmm ends through vm_wait() */
	cr_assert_eq(vmm.status, 143, "the vmm ended with %d, not as SIGTERM's 143:\n%s",
		     vmm.status, vmm.out);
	np_proc_free(&vmm);
}

Test(kvm_seccomp, workers_are_filtered_the_rest_is_not_and_dev_kvm_is_closed)
{
	struct threads t;
	bool kvm_open;
	look_at_spinning_vmm(NULL, &t, &kvm_open);
	cr_assert_eq(t.workers, 2, "one hostnet worker per queue, one queue per vCPU: %s", t.list);
	cr_assert_eq(t.workers_filtered, 2, "every worker runs under its seccomp filter");
	cr_assert_eq(t.proc_main, 1, "the worker process's main thread: %s", t.list);
	cr_assert_eq(t.proc_main_filtered, 1, "the whole worker process is filtered (TSYNC)");
	cr_assert_geq(t.others, 2, "main and the spinning vCPU's thread: %s", t.list);
	cr_assert_eq(t.others_filtered, 0, "the vmm's threads need KVM_RUN: %s", t.list);
	cr_assert_eq(t.without_nnp, 0, "no_new_privs on every thread");
	cr_assert_not(kvm_open, "/dev/kvm is closed once the VM and vCPUs exist");
}

Test(kvm_seccomp, no_seccomp_leaves_the_workers_unfiltered)
{
	struct threads t;
	bool kvm_open;
	look_at_spinning_vmm("--no-seccomp", &t, &kvm_open);
	cr_assert_eq(t.workers, 2);
	cr_assert_eq(t.workers_filtered, 0);
	cr_assert_eq(t.proc_main_filtered, 0);
	cr_assert_eq(t.others_filtered, 0);
	cr_assert_eq(t.without_nnp, 0, "--no-seccomp keeps no_new_privs on every thread: %s",
		     t.list);
	cr_assert_not(kvm_open);
}
