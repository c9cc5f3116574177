/* SPDX-License-Identifier: MIT */
/*
 * The worker threads' seccomp filter (libseccomp) and its SIGSYS reporter.
 * sandbox.h says what and why; the allow-list below says exactly what, with
 * the code that makes each call next to it.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "virtsocket/abi.h"

/* libseccomp's SCMP_A*_32() macros build a struct scmp_arg_cmp with fewer
 * initializers than fields (datum_b stays 0, as meant); clang's
 * -Wmissing-field-initializers, an error in the fuzz build, objects. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* An ASan build (GCC says so with a macro, clang with __has_feature). */
#if defined(__SANITIZE_ADDRESS__)
#define HN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HN_ASAN 1
#endif
#endif

/* ---- the SIGSYS reporter ------------------------------------------------ */

/* si_code of a seccomp trap (the kernel's asm-generic/siginfo.h; glibc's
 * headers do not have it, and the kernel's clash with them). */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* Names of the native system calls, resolved once before any filter is
 * loaded: the handler may only read them (libseccomp's lookup allocates). */
#define NAME_SLOTS 512
#define NAME_MAX_LEN 24
static char syscall_names[NAME_SLOTS][NAME_MAX_LEN];
static uint32_t native_arch;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static int handler_err;

/* Async-signal-safe string building: no stdio in a signal handler. */
struct line {
	char buf[320];
	size_t len;
};

static void put_str(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf))
		l->buf[l->len++] = *s++;
}

static void put_num(struct line *l, uint64_t v, unsigned base)
{
	char digits[24];
	size_t n = 0;
	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (base == 16)
		put_str(l, "0x");
	while (n && l->len < sizeof(l->buf))
		l->buf[l->len++] = digits[--n];
}

static void on_sigsys(int sig, siginfo_t *si, void *ucontext)
{
	(void)sig;
	(void)ucontext;
	struct line l = { .len = 0 };
	if (si->si_code == SYS_SECCOMP) {
		int nr = si->si_syscall;
		put_str(&l, "vmm: seccomp: hostnet worker made a forbidden system call ");
		put_num(&l, (uint64_t)(unsigned)nr, 10);
		if (si->si_arch != native_arch) {
			put_str(&l, " (foreign ABI, audit arch ");
			put_num(&l, si->si_arch, 16);
			put_str(&l, ")");
		} else if (nr >= 0 && nr < NAME_SLOTS && syscall_names[nr][0]) {
			put_str(&l, " (");
			put_str(&l, syscall_names[nr]);
			put_str(&l, ")");
		}
		put_str(&l, "; this is a bug, report it; --no-seccomp to run without the "
			"filter\n");
	} else {
		put_str(&l, "vmm: seccomp: SIGSYS that no filter raised (sent by pid ");
		put_num(&l, (uint64_t)(unsigned)si->si_pid, 10);
		put_str(&l, "); ending the VMM\n");
	}
	/* Raw system calls, not write()/_exit(): under ASan those are intercepted,
	 * and its _exit() hook runs the leak checker, which clones and ptraces:
	 * forbidden here, so a second SIGSYS would kill us without a word. */
	ssize_t n = syscall(SYS_write, 2, l.buf, l.len);
	(void)n;
	syscall(SYS_exit_group, VS_EXIT_VMM_ERROR);
	for (;;)
		; /* not reached: exit_group does not return */
}

static void install_handler_once(void)
{
	native_arch = seccomp_arch_native();
	for (int nr = 0; nr < NAME_SLOTS; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name) {
			strncpy(syscall_names[nr], name, NAME_MAX_LEN - 1);
			free(name);
		}
	}
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	sigfillset(&sa.sa_mask); /* nothing else runs on this thread while we report */
	handler_err = sigaction(SIGSYS, &sa, NULL) ? -errno : 0;
}

int hn_sandbox_install_trap_handler(void)
{
	pthread_once(&handler_once, install_handler_once);
	return handler_err;
}

/* ---- the allow-list ----------------------------------------------------- */

/* System calls a worker makes with arguments not worth (or not possible to)
 * pin down, and who makes them. */
static const int allowed_any_args[] = {
	/* worker.c: the event loop, waiting on its epoll set; ops.c: sockets
	 * join and leave it.  glibc may implement epoll_wait with epoll_pwait. */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	/* ops.c: the socket calls of the request path.  Addresses were checked
	 * by validate.c and the egress policy before they get here. */
	SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(shutdown),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), /* send() and recv() are these */
	SCMP_SYS(sendmsg),                    /* gathered stream SENDs (ops.c) */
	SCMP_SYS(poll),                       /* CONNECT completion and POLL, timeout 0 */
	SCMP_SYS(close),                      /* CLOSE, and a socket's last reference */
	/* Mutexes, condition variables, the start semaphore (every file). */
	SCMP_SYS(futex),
	SCMP_SYS(sched_yield),                /* the idle poll's yield (idle_poll.h) */
	/* hn_now_ns(): the vDSO answers without a system call, except on hosts
	 * whose clock source it cannot read (some VMs): then the real call. */
	SCMP_SYS(clock_gettime),
	/* malloc/free (parked requests, new sockets): arenas grow and shrink. */
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(brk),
	/* Leaving the thread at hostnet_destroy(): glibc blocks signals, frees
	 * its stack range (madvise) and calls exit.  exit_group: the SIGSYS
	 * handler above, and abort()'s last resort. */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* How the kernel resumes a timed wait that a stop (a debugger) broke
	 * off; it only continues a call the filter already let through. */
	SCMP_SYS(restart_syscall),
	/* abort() (glibc found its heap corrupted): raise(SIGABRT) asks for them;
	 * tgkill itself is pinned to SIGABRT to ourselves below. */
	SCMP_SYS(getpid), SCMP_SYS(gettid),
};

static int allow(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *cmp)
{
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

#define ALLOW(ctx, nr, ...)                                                            \
	allow(ctx, nr, sizeof((struct scmp_arg_cmp[]){ __VA_ARGS__ }) /                 \
			       sizeof(struct scmp_arg_cmp),                              \
	      (struct scmp_arg_cmp[]){ __VA_ARGS__ })

/* The calls whose arguments are pinned down: several rules for one call are
 * alternatives, the comparisons inside one rule must all hold. */
static int add_pinned_rules(scmp_filter_ctx ctx, const struct hn_sandbox_fds *fds,
			    bool whole_process)
{
	int err = 0;

	/* read(2): only the worker process's main thread, on its quit eventfd
	 * (event_fd of a whole process's filter, vmm/worker_proc.c).  The
	 * workers read nothing: their kick eventfds are edge-triggered in
	 * their epoll sets, so a kick is seen without reading the counter back
	 * (worker.c). */
	if (whole_process)
		err = err ? err : ALLOW(ctx, SCMP_SYS(read), SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)fds->event_fd));

	/* hn_worker_kick(): any worker's eventfd (a completion for a queue
	 * another worker serves).  Stderr: hostnet's log lines (queue broken,
	 * egress denial) and glibc's fatal messages (writev). */
	for (uint32_t i = 0; i < fds->nr_kick_fds && !err; i++)
		err = ALLOW(ctx, SCMP_SYS(write), SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)fds->kick_fds[i]));
	err = err ? err : ALLOW(ctx, SCMP_SYS(write), SCMP_A0_32(SCMP_CMP_EQ, STDERR_FILENO));
	err = err ? err : ALLOW(ctx, SCMP_SYS(writev), SCMP_A0_32(SCMP_CMP_EQ, STDERR_FILENO));

	/* ops.c do_socket(): only the two Internet families, stream or
	 * datagram, always non-blocking and close-on-exec, default protocol.
	 * No AF_UNIX, AF_NETLINK, AF_PACKET, raw sockets. */
	static const int families[] = { AF_INET, AF_INET6 };
	static const int types[] = { SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				     SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC };
	for (unsigned f = 0; f < 2 && !err; f++)
		for (unsigned t = 0; t < 2 && !err; t++)
			err = ALLOW(ctx, SCMP_SYS(socket),
				    SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)families[f]),
				    SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)types[t]),
				    SCMP_A2_32(SCMP_CMP_EQ, 0));

	/* ops.c try_accept(): new connections are non-blocking, close-on-exec. */
	err = err ? err : ALLOW(ctx, SCMP_SYS(accept4),
				SCMP_A3_32(SCMP_CMP_EQ, SOCK_NONBLOCK | SOCK_CLOEXEC));

	/* ops.c: SETSOCKOPT/GETSOCKOPT (validate.c allows a few options of these
	 * two levels) and SO_ERROR after a connect. */
	static const int levels[] = { SOL_SOCKET, IPPROTO_TCP };
	for (unsigned k = 0; k < 2 && !err; k++) {
		err = ALLOW(ctx, SCMP_SYS(setsockopt), SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)levels[k]));
		err = err ? err : ALLOW(ctx, SCMP_SYS(getsockopt),
					SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)levels[k]));
	}

	/* malloc: anonymous memory, never executable. */
	err = err ? err : ALLOW(ctx, SCMP_SYS(mmap),
				SCMP_A2_64(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
				SCMP_A3_32(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS));
	err = err ? err : ALLOW(ctx, SCMP_SYS(mprotect),
				SCMP_A2_64(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));

	/* abort(): SIGABRT to a thread of this process, nothing else. */
	err = err ? err : ALLOW(ctx, SCMP_SYS(tgkill),
				SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)getpid()),
				SCMP_A2_32(SCMP_CMP_EQ, SIGABRT));
	return err;
}

#ifdef HN_ASAN
/* ---- ASan builds only (build-asan/): the sanitizer runtime's own calls ----
 * Found with strace on the unit tests and by making a filtered thread write
 * past a heap block (tests/unit/hostnet_sandbox.c).  Release builds never
 * allow these. */
static int add_asan_rules(scmp_filter_ctx ctx)
{
	/* Thread exit: ASan takes down the alternate signal stack it gave the
	 * thread at its start (its SEGV reporter runs on it). */
	int err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 0);
	/* A report (heap overflow, UBSan...) asks isatty(2) whether to use
	 * colours: without this the worker's memory error would show up as a
	 * forbidden ioctl.  The report comes through unsymbolized (module +
	 * offset): the symbolizer may not open the binary. */
	err = err ? err : ALLOW(ctx, SCMP_SYS(ioctl), SCMP_A0_32(SCMP_CMP_EQ, STDERR_FILENO),
				SCMP_A1_64(SCMP_CMP_EQ, TCGETS));
	/* The report looks up the binary's name (/proc/self/exe): it copes with
	 * not knowing, like with the files the symbolizer cannot open. */
	err = err ? err : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(readlink), 0);
	/* UBSan's report shows the memory around a bad pointer if a pipe says it
	 * is readable; without a pipe it leaves that out. */
	err = err ? err : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EMFILE), SCMP_SYS(pipe2), 0);
	err = err ? err : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EMFILE), SCMP_SYS(pipe), 0);
	/* (The allocator's spin lock also yields when contended: sched_yield
	 * is in the release list, for the idle poll.) */
	return err;
}
#endif

static int build_filter(scmp_filter_ctx ctx, const struct hn_sandbox_fds *fds,
			bool whole_process)
{
	/* A call from another ABI (int 0x80, x32) gets the same report. */
	int err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	/* Report the kernel's errno from seccomp_load, not -ECANCELED. */
	err = err ? err : seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	for (size_t i = 0; i < sizeof(allowed_any_args) / sizeof(allowed_any_args[0]) && !err; i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed_any_args[i], 0);
	/* Opening files fails with EACCES rather than trapping: glibc's malloc
	 * reads /proc/sys/vm/overcommit_memory the first time a thread's arena
	 * shrinks (seen in the backpressure tests), and without it goes on with
	 * madvise.  Nothing can be opened either way. */
	err = err ? err : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	err = err ? err : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	err = err ? err : add_pinned_rules(ctx, fds, whole_process);
#ifdef HN_ASAN
	err = err ? err : add_asan_rules(ctx);
#endif
	return err;
}

static int load(const struct hn_sandbox_fds *fds, bool whole_process)
{
	int err = hn_sandbox_install_trap_handler();
	if (err)
		return err;
	sigset_t sys;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	err = -pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	if (err)
		return err;

	/* Everything not allowed traps. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	err = build_filter(ctx, fds, whole_process);
	/* Every thread of the process at once (TSYNC), or fail: none may be
	 * left unfiltered beside the others. */
	if (!err && whole_process)
		err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!err)
		err = seccomp_load(ctx); /* sets no_new_privs first (SCMP_FLTATR_CTL_NNP) */
	seccomp_release(ctx);        /* free() is still allowed: munmap, madvise, brk */
	return err < 0 ? err : (err ? -EINVAL : 0);
}

int hn_sandbox_install_worker(const struct hn_sandbox_fds *fds)
{
	return load(fds, false);
}

int hn_sandbox_install_process(const struct hn_sandbox_fds *fds)
{
	return load(fds, true);
}
