/* SPDX-License-Identifier: MIT */
/*
 * The seccomp filter of hostnet's worker threads.
 *
 * A worker thread is the part of the VMM that acts on what the guest writes:
 * it parses guest requests and makes socket calls on guest buffers.  If a bug
 * ever let a guest run code there, the filter limits it to the system calls a
 * worker makes anyway (sockets of the two Internet families, its epoll set,
 * eventfd kicks, memory for malloc, stderr): no open, no exec, no fork, no
 * ioctl on the KVM fds, no signals to other processes.
 *
 * A forbidden call is not silently killed: it raises SIGSYS (SECCOMP_RET_TRAP),
 * and a process-wide handler writes one line naming the call to stderr and
 * ends the process with VS_EXIT_VMM_ERROR (73).  That handler is the one place
 * in hostnet that exits the process: after a forbidden call the worker can
 * neither go on (the call did not happen) nor report back through any API,
 * and a bug in the filter list must be loud, not a hang.
 *
 * Filters are per thread: each worker loads its own at the start of its
 * thread function (no TSYNC: the vCPU threads need KVM_RUN and friends).
 */
#ifndef VS_HOSTNET_SANDBOX_H
#define VS_HOSTNET_SANDBOX_H

#include <stdint.h>

/* What a worker may write(2), and its process read(2): nothing else goes
 * through them (socket payloads go through sendto/recvfrom). */
struct hn_sandbox_fds {
	int event_fd;          /* a worker process's quit eventfd (read by its main
	                          thread); unused by a worker thread's own filter */
	const int *kick_fds;   /* every worker's eventfd: written to kick one */
	uint32_t nr_kick_fds;
};

/*
 * Install the process-wide SIGSYS handler that reports a forbidden call and
 * exits VS_EXIT_VMM_ERROR.  Idempotent and thread-safe.  Returns 0 or -errno.
 * Call it before starting threads that will load the filter.
 */
int hn_sandbox_install_trap_handler(void);

/*
 * Load the worker filter into the calling thread (and set no_new_privs on
 * it, which seccomp requires without CAP_SYS_ADMIN).  Also installs the trap
 * handler if needed and unblocks SIGSYS in the calling thread: the kernel
 * delivers a seccomp trap to a thread that blocks SIGSYS by resetting the
 * handler to the default action, i.e. a core dump without our message.
 * Returns 0 or -errno; on failure the thread is unchanged except for its
 * signal mask.
 */
int hn_sandbox_install_worker(const struct hn_sandbox_fds *fds);

/*
 * The same allow-list for every thread of the calling process at once
 * (SECCOMP_FILTER_FLAG_TSYNC), for a process that runs nothing but hostnet
 * (vmm/worker_proc.c): read(2) is allowed on event_fd (the process's own
 * quit eventfd) only.  0 or -errno (also when a thread
 * already has another filter).
 */
int hn_sandbox_install_process(const struct hn_sandbox_fds *fds);

#endif /* VS_HOSTNET_SANDBOX_H */
