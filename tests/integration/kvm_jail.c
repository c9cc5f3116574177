/* SPDX-License-Identifier: MIT */
/*
 * hostnet's worker process (vmm/worker_proc.h), seen from outside:
 *   - its jail in /proc while a guest spins: seccomp mode 2 on every thread,
 *     uid/gid 65534 without capabilities, an empty root, RLIMIT_NOFILE from
 *     --max-sockets, no fd but stderr, eventfds, its epoll set and sockets
 *     (no /dev/kvm, no KVM fd), guest RAM and the ring slot mapped, no KVM
 *     mapping;
 *   - a compromised worker (build/vmm-testhook, $VS_TEST_WORKER_HOOK) that
 *     tries to open files, make memory executable, unmap the ring slot,
 *     write into or kill the VMM, fork, execve, or lies on the link page
 *     before it says READY: each fails or ends only the worker process, and
 *     the vmm says so in one line and exits 73;
 *   - the vmm's death ends the worker process.
 * The tests run as root (the sandbox), where the whole jail applies.
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(kvm_jail, .timeout = 300);

/* The text after "Key:" up to the end of its line, tabs squeezed to spaces. */
static void status_line(const char *status, const char *key, char *out, size_t len)
{
	out[0] = '\0';
	const char *p = strstr(status, key);
	if (!p)
		return;
	p += strlen(key);
	size_t n = 0;
	while (*p && *p != '\n' && n + 1 < len) {
		char c = *p++ == '\t' ? ' ' : p[-1];
		if (!(c == ' ' && (n == 0 || out[n - 1] == ' ')))
			out[n++] = c;
	}
	out[n] = '\0';
}

static pid_t worker_proc_of(pid_t vmm)
{
	pid_t pid = np_first_child(vmm);
	cr_assert_gt(pid, 0, "the vmm has no child process");
	return pid;
}

static void check_threads(pid_t w)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)w);
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	unsigned threads = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[128], status[4096], v[128];
		snprintf(path, sizeof(path), "%s/%.20s/status", dir, e->d_name);
		np_read_small(path, status, sizeof(status));
		if (!status[0])
			continue;
		threads++;
		status_line(status, "\nSeccomp:", v, sizeof(v));
		cr_expect_str_eq(v, "2", "thread %s: seccomp mode %s", e->d_name, v);
		status_line(status, "NoNewPrivs:", v, sizeof(v));
		cr_expect_str_eq(v, "1", "thread %s: no_new_privs", e->d_name);
		status_line(status, "Uid:", v, sizeof(v));
		cr_expect_str_eq(v, "65534 65534 65534 65534", "thread %s: uids %s", e->d_name, v);
		status_line(status, "Gid:", v, sizeof(v));
		cr_expect_str_eq(v, "65534 65534 65534 65534", "thread %s: gids %s", e->d_name, v);
		static const char *const caps[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:",
						    "CapAmb:" };
		for (unsigned i = 0; i < 5; i++) {
			status_line(status, caps[i], v, sizeof(v));
			cr_expect_str_eq(v, "0000000000000000", "thread %s: %s %s", e->d_name,
					 caps[i], v);
		}
	}
	closedir(d);
	cr_assert_eq(threads, 3, "main + one worker per queue (2 vCPUs)");
}

static void check_root_is_empty(pid_t w)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/root", (int)w);
	DIR *d = opendir(path);
	cr_assert_not_null(d, "cannot open %s", path);
	for (struct dirent *e; (e = readdir(d));)
		cr_expect(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."),
			  "the worker's root holds %s", e->d_name);
	closedir(d);
}

static void check_fds(pid_t w)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)w);
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	unsigned eventfds = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[128], target[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%.20s", dir, e->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		cr_assert_gt(n, 0);
		target[n] = '\0';
		bool ok = !strcmp(e->d_name, "2") || !strcmp(target, "anon_inode:[eventpoll]") ||
			  !strncmp(target, "socket:", 7);
		if (!strcmp(target, "anon_inode:[eventfd]")) {
			eventfds++;
			ok = true;
		}
		cr_expect(ok, "the worker process has fd %s open: %s", e->d_name, target);
	}
	closedir(d);
	cr_expect_eq(eventfds, 3, "a kick eventfd per worker and the quit eventfd");
}

static void check_maps_and_limits(pid_t w)
{
	char path[64];
	static char maps[1 << 16];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)w);
	np_read_small(path, maps, sizeof(maps));
	cr_expect(strstr(maps, "/memfd:virtsocket-ram"), "guest RAM is mapped:\n%s", maps);
	cr_expect(strstr(maps, "/memfd:virtsocket-ring"), "the ring slot is mapped");
	cr_expect_null(strstr(maps, "kvm"), "no KVM mapping (kvm_run) in the worker");
	char limits[4096];
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)w);
	np_read_small(path, limits, sizeof(limits));
	const char *l = strstr(limits, "Max open files");
	cr_assert_not_null(l);
	unsigned soft = 0, hard = 0;
	sscanf(l + strlen("Max open files"), "%u %u", &soft, &hard);
	/* --max-sockets 100, 2 workers: 100 + 2 * 2 + 16 (worker_jail.c). */
	cr_expect_eq(soft, 120, "RLIMIT_NOFILE %u", soft);
	cr_expect_eq(hard, 120, "RLIMIT_NOFILE hard %u", hard);
}

Test(kvm_jail, the_worker_process_is_jailed)
{
	unsetenv("VS_TEST_WORKER_HOOK");
	struct np_proc vmm;
	cr_assert_eq(np_vmm_start(&vmm, 120, "--max-sockets", "100", "-c", "2", vs_guest_img(),
				  "--", "spin", NULL), 0);
	cr_assert(np_wait_output(&vmm, "spin: looping forever", 100), "the guest did not "
		  "start:\n%s", vmm.out);
	pid_t w = worker_proc_of(vmm.pid);
	char comm[32];
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)w);
	np_read_small(path, comm, sizeof(comm));
	cr_expect_str_eq(comm, "vmm-hostnet\n");
	check_threads(w);
	check_root_is_empty(w);
	check_fds(w);
	check_maps_and_limits(w);
	np_stop(&vmm);
	cr_assert_eq(vmm.status, 143, "the vmm ended with %d:\n%s", vmm.status, vmm.out);
	np_proc_free(&vmm);
}

/* One compromised-worker attempt: the vmm's status and what stderr must say. */
struct attempt {
	const char *hook;
	int status;
	const char *said[3];
};

static void run_attempt(const struct attempt *a)
{
	setenv("VS_TEST_WORKER_HOOK", a->hook, 1);
	struct vs_result r;
	/* A guest that would run 60 s: only the worker's end ends it early.
	 * "open" fails harmlessly: the guest (hello) finishes with 0. */
	bool harmless = a->status == 0;
	cr_assert_eq(vs_vmm(&r, 60, vs_guest_img(), "--", harmless ? "hello" : "spin", NULL), 0);
	unsetenv("VS_TEST_WORKER_HOOK");
	bool ok = !r.signaled && r.status == a->status && r.seconds < 30.0;
	cr_expect_not(r.signaled, "%s: the vmm itself was killed", a->hook);
	cr_expect_eq(r.status, a->status, "%s: vmm status %d", a->hook, r.status);
	cr_expect_lt(r.seconds, 30.0, "%s: the vmm noticed at once, not at its timeout", a->hook);
	for (unsigned i = 0; i < 3 && a->said[i]; i++) {
		ok &= strstr(r.err, a->said[i]) != NULL;
		cr_expect(strstr(r.err, a->said[i]), "%s: stderr lacks '%s'", a->hook, a->said[i]);
	}
	const char *end = strstr(r.err, "ending the VM");
	bool one_line = harmless ? end == NULL : end && !strstr(end + 1, "ending the VM");
	cr_expect(one_line, "%s: %s", a->hook, harmless ? "the worker goes on" : "one line");
	if (!ok || !one_line)
		vs_result_dump(&r, a->hook);
	vs_result_free(&r);
}

#define ENDED_73 "vmm: the hostnet worker process (pid"
#define FORBIDDEN "vmm: seccomp: hostnet worker made a forbidden system call"
#if defined(__SANITIZE_ADDRESS__)
#define WORKER_SEGV "AddressSanitizer: SEGV"
#else
#define WORKER_SEGV "was killed by signal 11"
#endif

Test(kvm_jail, a_compromised_worker_is_contained)
{
	static const struct attempt attempts[] = {
		{ "open", 0, { "open(/etc/passwd) -> -1 (Permission denied)",
			       "openat(/proc/<vmm>/mem) -> -1 (Permission denied)",
			       "open: the worker process goes on" } },
		{ "mprotect", 73, { FORBIDDEN, "(mprotect)", "ended with status 73" } },
		/* SIGSEGV; an ASan build reports it and exits 1 instead. */
		{ "munmap", 73, { "munmap(ring slot) -> 0", ENDED_73,
				  WORKER_SEGV } },
		{ "write-vmm", 73, { FORBIDDEN, "(process_vm_writev)", "ended with status 73" } },
		{ "kill-vmm", 73, { FORBIDDEN, "(kill)", "ended with status 73" } },
		{ "fork", 73, { FORBIDDEN, "(clone", "ended with status 73" } },
		{ "execve", 73, { FORBIDDEN, "(execve)", "ended with status 73" } },
		/* Lies on the link page before READY, then stays: SIGKILL after 5 s. */
		{ "start-lie", 73, { "start-lie: FAILED with start_err 5", ENDED_73,
				     "was killed by signal 9" } },
	};
	for (unsigned i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++)
		run_attempt(&attempts[i]);
}

Test(kvm_jail, the_vmm_dying_ends_the_worker_process)
{
	unsetenv("VS_TEST_WORKER_HOOK");
	struct np_proc vmm;
	cr_assert_eq(np_vmm_start(&vmm, 120, vs_guest_img(), "--", "spin", NULL), 0);
	cr_assert(np_wait_output(&vmm, "spin: looping forever", 100));
	pid_t w = worker_proc_of(vmm.pid);
	kill(vmm.pid, SIGKILL);
	np_wait_exit(&vmm, 10);
	/* Gone, or a zombie waiting for whoever inherited it. */
	bool ended = false;
	for (int i = 0; i < 500 && !ended; i++) {
		char path[64], status[4096], state[64];
		snprintf(path, sizeof(path), "/proc/%d/status", (int)w);
		np_read_small(path, status, sizeof(status));
		status_line(status, "State:", state, sizeof(state));
		ended = !status[0] || state[0] == 'Z' || state[0] == 'X';
		if (!ended)
			np_sleep_ms(10);
	}
	cr_expect(ended, "the worker process %d outlived the vmm", (int)w);
	np_proc_free(&vmm);
}
