/* SPDX-License-Identifier: MIT */
/*
 * The workers' seccomp filter (hostnet/sandbox.c).
 *
 * - hostnet's workers really run filtered (the kernel says so in
 *   /proc/self/task/TID/status) and the calling thread does not (no TSYNC);
 *   every other hostnet_*.c and guestlib_*.c test runs its whole request path
 *   on filtered workers (hostnet_guest.h, guestlib_fake_vm.h turn it on).
 * - A thread that loaded the filter, with every signal blocked like a worker,
 *   and then makes a forbidden call is stopped by the SIGSYS report: exit
 *   status 73 and one line naming the call on stderr.  Each case also runs
 *   without the filter, where the same call must go through: so the test
 *   fails if the filter does not stop it.
 */
#include "hostnet_guest.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>

#include "sandbox.h"

/* ---- workers are filtered --------------------------------------------- */

/* The "Seccomp:" mode of thread tid (0 none, 2 filter), -1 if unknown. */
static int seccomp_mode(const char *tid, int *no_new_privs)
{
	char path[96], line[256];
	snprintf(path, sizeof(path), "/proc/self/task/%.20s/status", tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int mode = -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Seccomp:", 8))
			mode = atoi(line + 8);
		else if (!strncmp(line, "NoNewPrivs:", 11) && no_new_privs)
			*no_new_privs = atoi(line + 11);
	}
	fclose(f);
	return mode;
}

/* Count this process's hostnet worker threads, and those whose seccomp mode
 * is `mode`. */
static void count_workers(int mode, unsigned *workers, unsigned *in_mode)
{
	*workers = *in_mode = 0;
	DIR *d = opendir("/proc/self/task");
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[96], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		if (strncmp(comm, "hostnet-w", 9))
			continue;
		int nnp = -1;
		(*workers)++;
		if (seccomp_mode(e->d_name, &nnp) == mode && (mode == 0 || nnp == 1))
			(*in_mode)++;
	}
	closedir(d);
}

Test(sandbox, workers_run_filtered_and_the_creator_does_not, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init_at(&vm, 3, 0, 0, VS_COPY_ZERO, 0); /* tg_seccomp: on */
	unsigned workers, filtered;
	count_workers(2, &workers, &filtered);
	cr_assert_eq(workers, 3, "three queues, one worker each");
	cr_assert_eq(filtered, 3, "every worker has a seccomp filter and no_new_privs");
	char self[32];
	snprintf(self, sizeof(self), "%ld", (long)syscall(SYS_gettid));
	cr_assert_eq(seccomp_mode(self, NULL), 0, "the thread that created hostnet is not "
		     "filtered (no TSYNC: vCPU threads need KVM_RUN)");
	/* One request through a filtered worker, then the workers' exit path. */
	struct tg_queue *g = &vm.qs[0];
	int32_t h = tg_socket(&vm, g, VS_SOCK_DGRAM);
	cr_assert_gt(h, 0, "SOCKET: %d", h);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	tg_vm_fini(&vm);
}

Test(sandbox, without_seccomp_the_workers_are_not_filtered, .timeout = 30)
{
	struct tg_vm vm;
	tg_seccomp = false;
	tg_vm_init_at(&vm, 2, 0, 0, VS_COPY_ZERO, 0);
	unsigned workers, unfiltered;
	count_workers(0, &workers, &unfiltered);
	cr_assert_eq(workers, 2);
	cr_assert_eq(unfiltered, 2);
	tg_vm_fini(&vm);
}

/* ---- forbidden calls, in a forked child ------------------------------ */

/* What the thread under test does after (maybe) loading the filter.  It
 * returns only if the call went through: the child then exits with the
 * value returned. */
typedef int (*attempt_fn)(void);

static int devnull_fd = -1;
static int own_event_fd = -1; /* the thread's kick eventfd (its filter's event_fd) */
static pid_t parent_pid; /* asked before the filter: getppid is not allowed */

static int try_socket_unix(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd >= 0 ? 0 : 10;
}

static int try_socket_raw(void)
{
	/* Raw sockets need CAP_NET_RAW: unfiltered, EPERM is fine too. */
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	return fd >= 0 || errno == EPERM ? 0 : 10;
}

static int try_blocking_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0); /* not non-blocking */
	return fd >= 0 ? 0 : 10;
}

static int try_execve(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	execve("/bin/true", argv, envp); /* unfiltered: exits 0 as /bin/true */
	return 10;
}

static int try_fork(void)
{
	pid_t p = fork();
	if (p == 0)
		syscall(SYS_exit_group, 0);
	return p > 0 ? 0 : 10;
}

static int try_ioctl(void)
{
	struct termios t;
	ioctl(devnull_fd, TCGETS, &t); /* ENOTTY unfiltered: it went through */
	return 0;
}

static int try_kill(void)
{
	kill(parent_pid, 0); /* signal 0: only asks whether the parent exists */
	return 0;
}

static int try_exec_memory(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p != MAP_FAILED ? 0 : 10;
}

static int try_write_other_fd(void)
{
	return write(devnull_fd, "x", 1) == 1 ? 0 : 10;
}

static int try_read_other_fd(void)
{
	char c;
	return read(devnull_fd, &c, 1) == 0 ? 0 : 10;
}

/* A worker sees its kicks as epoll edges and never reads its eventfd back:
 * its filter leaves read(2) to the worker process's quit eventfd. */
static int try_read_own_eventfd(void)
{
	uint64_t v = 1;
	if (write(own_event_fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 11; /* writing (a kick) is allowed */
	return read(own_event_fd, &v, sizeof(v)) == (ssize_t)sizeof(v) ? 0 : 10;
}

static int try_openat(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return 0;
	return errno == EACCES ? 42 : 10;
}

/* What a worker does all the time must pass. */
static int try_allowed_calls(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 11;
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		return 12;
	close(fd);
	void *big = malloc(8u << 20); /* mmap'ed by malloc */
	if (!big)
		return 13;
	memset(big, 1, 8u << 20);
	free(big);
	fprintf(stderr, "a log line\n");
	return 0;
}

struct child_thread {
	bool filter;
	attempt_fn attempt;
	int event_fd;
	int result;
};

static void *child_thread_main(void *arg)
{
	struct child_thread *c = arg;
	if (c->filter) {
		struct hn_sandbox_fds fds = {
			.event_fd = c->event_fd, .kick_fds = &c->event_fd, .nr_kick_fds = 1,
		};
		int err = hn_sandbox_install_worker(&fds);
		if (err) {
			c->result = 99;
			return NULL;
		}
	}
	c->result = c->attempt();
	return NULL;
}

struct outcome {
	int status;       /* exit status, or 128 + signal */
	bool signaled;
	char err[16384];  /* the child's stderr (the start of it) */
};

/* Fork; in the child, a thread with every signal blocked (like a hostnet
 * worker) loads the filter if asked and makes the attempt. */
static void run_child(attempt_fn attempt, bool filter, struct outcome *o)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		parent_pid = getppid();
		struct child_thread c = { .filter = filter, .attempt = attempt, .result = 98 };
		c.event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		own_event_fd = c.event_fd;
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_t t;
		if (pthread_create(&t, NULL, child_thread_main, &c))
			_exit(97);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_join(t, NULL);
		syscall(SYS_exit_group, c.result); /* no atexit, no leak check */
	}
	close(p[1]);
	size_t len = 0;
	char rest[4096]; /* what does not fit is read and dropped: the child never blocks */
	for (;;) {
		bool full = len + 1 >= sizeof(o->err);
		ssize_t n = full ? read(p[0], rest, sizeof(rest))
				 : read(p[0], o->err + len, sizeof(o->err) - 1 - len);
		if (n <= 0)
			break;
		if (!full)
			len += (size_t)n;
	}
	o->err[len] = '\0';
	close(p[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	o->signaled = WIFSIGNALED(st);
	o->status = o->signaled ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

#define REPORT_HEAD "vmm: seccomp: hostnet worker made a forbidden system call "
#define REPORT_TAIL "; this is a bug, report it; --no-seccomp to run without the filter\n"

/* Unfiltered the attempt goes through (exit 0, silent); filtered it ends the
 * process with 73 and exactly the report naming nr (name). */
static void expect_stopped(attempt_fn attempt, int nr, const char *name)
{
	struct outcome o;
	run_child(attempt, false, &o);
	cr_assert(!o.signaled && o.status == 0, "%s without the filter: status %d, stderr '%s'",
		  name, o.status, o.err);
	cr_assert_str_empty(o.err, "%s without the filter", name);

	run_child(attempt, true, &o);
	char want[256];
	snprintf(want, sizeof(want), REPORT_HEAD "%d (%s)" REPORT_TAIL, nr, name);
	cr_assert_not(o.signaled, "%s: killed by signal %d instead of the report (a blocked "
		      "SIGSYS is delivered with the default action)", name, o.status - 128);
	cr_assert_eq(o.status, VS_EXIT_VMM_ERROR, "%s: status %d, stderr '%s'", name, o.status,
		     o.err);
	cr_assert_str_eq(o.err, want);
}

Test(sandbox, a_forbidden_call_ends_the_process_with_73_and_one_line, .timeout = 60)
{
	expect_stopped(try_socket_unix, SYS_socket, "socket");
	expect_stopped(try_socket_raw, SYS_socket, "socket");
	expect_stopped(try_blocking_socket, SYS_socket, "socket");
	expect_stopped(try_execve, SYS_execve, "execve");
	expect_stopped(try_fork, SYS_clone, "clone");
	expect_stopped(try_ioctl, SYS_ioctl, "ioctl");
	expect_stopped(try_kill, SYS_kill, "kill");
	expect_stopped(try_exec_memory, SYS_mmap, "mmap");
	expect_stopped(try_write_other_fd, SYS_write, "write");
	expect_stopped(try_read_other_fd, SYS_read, "read");
	expect_stopped(try_read_own_eventfd, SYS_read, "read");
}

Test(sandbox, opening_a_file_fails_with_eacces_without_a_report, .timeout = 30)
{
	struct outcome o;
	run_child(try_openat, false, &o);
	cr_assert_eq(o.status, 0, "unfiltered, /dev/null opens");
	run_child(try_openat, true, &o);
	cr_assert_eq(o.status, 42, "filtered: EACCES (status %d, stderr '%s')", o.status, o.err);
	cr_assert_str_empty(o.err);
}

Test(sandbox, what_a_worker_does_is_allowed, .timeout = 30)
{
	struct outcome o;
	run_child(try_allowed_calls, true, &o);
	cr_assert(!o.signaled && o.status == 0, "status %d, stderr '%s'", o.status, o.err);
	cr_assert_str_eq(o.err, "a log line\n");
}

#ifdef __SANITIZE_ADDRESS__
static int try_use_after_free(void)
{
	volatile char *volatile p = malloc(16); /* volatile pointer: no -Wuse-after-free */
	free((void *)p);
	p[0] = 1; /* ASan reports this and exits 1 or aborts (UBSan cannot see it) */
	return 10;
}

/* ASan builds allow (or let fail) the few calls an ASan report makes
 * (sandbox.c), so a memory error in a worker is reported as what it is, not
 * as a forbidden system call. */
Test(sandbox, an_asan_report_from_a_filtered_thread_comes_through, .timeout = 60)
{
	struct outcome o;
	run_child(try_use_after_free, true, &o);
	cr_assert_not_null(strstr(o.err, "ERROR: AddressSanitizer: heap-use-after-free"),
			   "status %d, stderr:\n%s", o.status, o.err);
	cr_assert_null(strstr(o.err, "vmm: seccomp:"), "%s", o.err);
	/* ASan exits 1, or aborts with ASAN_OPTIONS=abort_on_error=1 (as
	 * scripts/test runs it): either is ASan's own end, not the filter's 73. */
	bool asan_exit = !o.signaled && o.status != 0 && o.status != VS_EXIT_VMM_ERROR;
	bool asan_abort = o.signaled && o.status == 128 + SIGABRT;
	cr_assert(asan_exit || asan_abort, "ASan's own end, not the filter's: status %d%s",
		  o.status, o.signaled ? " (signal)" : "");
}
#endif
