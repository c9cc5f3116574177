/* SPDX-License-Identifier: MIT */
/* hostnet's workers in their own jailed process (worker_proc.h). */
#define _GNU_SOURCE
#include "worker_proc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "virtsocket/abi.h"
#include "worker_jail.h"

#ifdef VMM_TEST_HOOKS
#include "worker_test_hook.h"
#endif

/* How long the VMM waits for the process to start, and to quit. */
#define WORKER_START_TIMEOUT_MS 30000
#define WORKER_QUIT_TIMEOUT_MS 5000

/* ---- the child ----------------------------------------------------------- */

/* Async-signal-safe: raw write and exit_group (both allowed by the filter). */
static void child_say_and_exit(const char *line, int status)
{
	ssize_t n = syscall(SYS_write, 2, line, strlen(line));
	(void)n;
	syscall(SYS_exit_group, status);
	for (;;)
		;
}

/* PR_SET_PDEATHSIG: the VMM is gone. */
static void on_parent_death(int sig)
{
	(void)sig;
	child_say_and_exit("vmm: hostnet worker process: the VMM process ended; ending too\n",
			   VS_EXIT_VMM_ERROR);
}

static void child_fail(struct hostnet_link *l, const char *step, int err)
{
	char line[400];
	snprintf(line, sizeof(line), "vmm: hostnet worker process: %s: %s\n", step,
		 strerror(-err));
	atomic_store(&l->sh->start_err, err);
	atomic_store(&l->sh->state, HN_LINK_FAILED);
	child_say_and_exit(line, VS_EXIT_VMM_ERROR);
}

/* The VMM's death ends us from here on (set after the credential change,
 * which clears it); if it is already gone, end now. */
static int watch_parent(pid_t parent)
{
	struct sigaction sa = { .sa_handler = on_parent_death };
	sigfillset(&sa.sa_mask);
	sigset_t hup;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	if (sigaction(SIGHUP, &sa, NULL) || prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0))
		return -errno;
	sigprocmask(SIG_UNBLOCK, &hup, NULL); /* hostnet's threads block everything */
	if (getppid() != parent)
		on_parent_death(SIGHUP);
	return 0;
}

static int jail(struct hostnet_link *l, const struct hostnet_config *cfg, pid_t parent)
{
	int keep[VS_MAX_QUEUES + 2];
	unsigned n = 0;
	keep[n++] = STDERR_FILENO;
	keep[n++] = l->quit_fd;
	for (uint32_t i = 0; i < l->workers; i++)
		keep[n++] = l->kick_fds[i];
	int err = worker_jail_close_fds(keep, n);
	if (err)
		child_fail(l, "closing inherited files", err);
	uint32_t max_sockets = cfg->max_sockets ? cfg->max_sockets : HOSTNET_DEFAULT_MAX_SOCKETS;
	err = worker_jail_limit_files(max_sockets, l->workers);
	if (err) {
		/* Name the limit and the ways out: the usual cause is a hard limit
		 * below what --max-sockets needs, for a VMM without CAP_SYS_RESOURCE. */
		struct rlimit now = { 0 };
		getrlimit(RLIMIT_NOFILE, &now);
		char step[280];
		snprintf(step, sizeof(step),
			 "--max-sockets %u needs RLIMIT_NOFILE %llu, the hard limit is %llu "
			 "(raise it: ulimit -Hn / LimitNOFILE=, or run the vmm as root; or "
			 "lower --max-sockets); setrlimit(RLIMIT_NOFILE)", max_sockets,
			 (unsigned long long)worker_jail_files_needed(max_sockets, l->workers),
			 (unsigned long long)now.rlim_max);
		child_fail(l, step, err);
	}
	err = worker_jail_drop_root(WORKER_PROC_UID);
	if (err)
		child_fail(l, "empty root / dropping privileges", err);
	err = watch_parent(parent);
	if (err)
		child_fail(l, "PR_SET_PDEATHSIG", err);
	return 0;
}

static void child_main(struct hostnet_link *l, const struct hostnet_config *in, pid_t parent)
{
	prctl(PR_SET_NAME, "vmm-hostnet", 0, 0, 0);
	jail(l, in, parent);

	struct hostnet_config cfg = *in;
	cfg.link = l;
	cfg.seccomp = false; /* no per-thread filters: one for the process, below */
	int err = in->seccomp ? hn_sandbox_install_trap_handler() : 0;
	if (err)
		child_fail(l, "SIGSYS handler", err);
	struct hostnet *hn;
	err = hostnet_create(&cfg, &hn);
	if (err)
		child_fail(l, "starting the workers", err);
	/* The workers run but nothing guest-written exists yet: the vCPUs
	 * start only once we say READY. */
	if (in->seccomp) {
		struct hn_sandbox_fds fds = {
			.event_fd = l->quit_fd, .kick_fds = l->kick_fds, .nr_kick_fds = l->workers,
		};
		err = hn_sandbox_install_process(&fds);
		if (err)
			child_fail(l, "loading the seccomp filter", err);
	}
#ifdef VMM_TEST_HOOKS
	worker_test_hook_start(l);
#endif
	atomic_store(&l->sh->state, HN_LINK_READY);
#ifdef VMM_TEST_HOOKS
	worker_test_hook_run(l, parent);
#endif

	uint64_t v;
	while (read(l->quit_fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		;
	hostnet_get_stats(hn, &l->sh->worker_stats);
	atomic_store(&l->sh->stats_valid, 1);
	hostnet_destroy(hn);
	syscall(SYS_exit_group, 0); /* no atexit handlers: they are the VMM's */
}

/* ---- the VMM's side ------------------------------------------------------ */

static void describe(const struct worker_proc *wp, char *msg, size_t msglen)
{
	if (wp->signaled)
		snprintf(msg, msglen, "vmm: the hostnet worker process (pid %d) was killed by "
			 "signal %d (%s); ending the VM", (int)wp->pid, wp->status - 128,
			 strsignal(wp->status - 128));
	else
		snprintf(msg, msglen, "vmm: the hostnet worker process (pid %d) ended with "
			 "status %d; ending the VM", (int)wp->pid, wp->status);
}

static bool reap(struct worker_proc *wp, bool block)
{
	if (wp->reaped)
		return true;
	siginfo_t si = { 0 };
	if (waitid(P_PID, (id_t)wp->pid, &si, WEXITED | (block ? 0 : WNOHANG)) < 0)
		return false;
	if (si.si_pid == 0)
		return false; /* still running */
	wp->reaped = true;
	wp->signaled = si.si_code != CLD_EXITED;
	wp->status = wp->signaled ? 128 + si.si_status : si.si_status;
	return true;
}

static bool pidfd_readable(const struct worker_proc *wp, int timeout_ms)
{
	struct pollfd p = { .fd = wp->pidfd, .events = POLLIN };
	return poll(&p, 1, timeout_ms) > 0;
}

static void kill_and_reap(struct worker_proc *wp)
{
	if (wp->pid > 0 && !wp->reaped) {
		kill(wp->pid, SIGKILL);
		reap(wp, true);
	}
}

int worker_proc_start_state(const struct hn_link_shared *sh)
{
	unsigned st = atomic_load(&sh->state);
	if (st == HN_LINK_READY)
		return 0;
	if (st != HN_LINK_FAILED)
		return 1;
	/* Its -errno, if it is one: a positive word would read as success
	 * and INT_MIN has no negation (fuzz_link found both). */
	int err = atomic_load(&sh->start_err);
	return err < 0 && err >= -4095 ? err : -ECHILD;
}

static int wait_ready(struct worker_proc *wp, char *msg, size_t msglen)
{
	for (int waited = 0; waited < WORKER_START_TIMEOUT_MS; waited += 5) {
		int st = worker_proc_start_state(wp->link->sh);
		if (st == 0)
			return 0;
		if (st < 0 || pidfd_readable(wp, 5)) {
			int err = st < 0 ? st : -ECHILD;
			/* FAILED is the process's word: it may not end by itself. */
			if (pidfd_readable(wp, WORKER_QUIT_TIMEOUT_MS))
				reap(wp, true);
			else
				kill_and_reap(wp);
			if (err == -ECHILD)
				describe(wp, msg, msglen);
			else
				snprintf(msg, msglen, "vmm: starting the hostnet worker process "
					 "failed: %s", strerror(-err));
			return err;
		}
	}
	kill_and_reap(wp);
	snprintf(msg, msglen, "vmm: the hostnet worker process did not start within %d s",
		 WORKER_START_TIMEOUT_MS / 1000);
	return -ETIMEDOUT;
}

static int start(struct worker_proc *wp, const struct hostnet_config *cfg, char *msg,
		 size_t msglen)
{
	uint32_t workers = cfg->workers ? cfg->workers : cfg->nr_queues;
	int err = hostnet_link_create(cfg->ring, cfg->ring_gpa, cfg->ring_bytes, cfg->nr_queues,
				      workers, &wp->link);
	if (err) {
		snprintf(msg, msglen, "vmm: hostnet link: %s", strerror(-err));
		return err;
	}
	struct hostnet_config hc = *cfg;
	hc.workers = workers;
	pid_t parent = getpid();
	fflush(NULL); /* the child never flushes: nothing of ours printed twice */
	wp->pid = fork();
	if (wp->pid < 0) {
		err = -errno;
		snprintf(msg, msglen, "vmm: fork for the hostnet worker process: %s",
			 strerror(-err));
		return err;
	}
	if (wp->pid == 0)
		child_main(wp->link, &hc, parent); /* does not return */
	wp->pidfd = (int)syscall(SYS_pidfd_open, wp->pid, 0);
	if (wp->pidfd < 0) {
		err = -errno;
		kill_and_reap(wp);
		snprintf(msg, msglen, "vmm: pidfd_open: %s", strerror(-err));
		return err;
	}
	return wait_ready(wp, msg, msglen);
}

int worker_proc_start(struct worker_proc *wp, const struct hostnet_config *cfg, char *msg,
		      size_t msglen)
{
	*wp = (struct worker_proc){ .pid = -1, .pidfd = -1 };
	int err = start(wp, cfg, msg, msglen);
	if (err < 0)
		worker_proc_destroy(wp); /* the link and pidfd of a start that failed */
	return err;
}

bool worker_proc_ended(struct worker_proc *wp, char *msg, size_t msglen)
{
	if (!reap(wp, false))
		return false;
	describe(wp, msg, msglen);
	return true;
}

void worker_proc_finish(struct worker_proc *wp)
{
	if (wp->pid <= 0 || wp->reaped)
		return;
	uint64_t one = 1;
	ssize_t n = write(wp->link->quit_fd, &one, sizeof(one));
	(void)n;
	if (wp->pidfd >= 0 && pidfd_readable(wp, WORKER_QUIT_TIMEOUT_MS))
		reap(wp, true);
	else
		kill_and_reap(wp);
}

void worker_proc_get_stats(const struct worker_proc *wp, struct hostnet_stats *out)
{
	hostnet_link_get_stats(wp->link, out);
}

void worker_proc_destroy(struct worker_proc *wp)
{
	worker_proc_finish(wp);
	if (wp->pidfd >= 0)
		close(wp->pidfd);
	hostnet_link_destroy(wp->link);
	*wp = (struct worker_proc){ .pid = -1, .pidfd = -1 };
}
