/* SPDX-License-Identifier: MIT */
/*
 * hostnet's workers in a process of their own (issue 13): the VMM keeps KVM,
 * the workers, which act on what the guest writes, run in a forked child
 * that shares only guest RAM, the ring slot (both MAP_SHARED memfds) and
 * hostnet's link page (link.h: eventfd kicks, completion futexes,
 * statistics) with the VMM, and is jailed before any guest code runs:
 *   - every fd closed but stderr, the workers' eventfds and its quit eventfd
 *     (no /dev/kvm, no KVM fds, no memfd fds: the mappings stay);
 *   - RLIMIT_NOFILE: --max-sockets plus its own few;
 *   - started as root: a new mount namespace whose root is an empty,
 *     read-only tmpfs (pivot_root), all capabilities dropped (bounding set
 *     too), uid/gid 65534;
 *   - no_new_privs (inherited), and unless --no-seccomp the workers' seccomp
 *     allow-list for every thread of the process (TSYNC);
 *   - PR_SET_PDEATHSIG: the VMM's death ends it with one line.
 * The VMM watches its pidfd: if it ends first, vm_wait() prints one line and
 * the VM ends with VS_EXIT_VMM_ERROR.
 */
#ifndef VMM_WORKER_PROC_H
#define VMM_WORKER_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hostnet.h"
#include "link.h"

/* uid/gid the worker process runs as when the VMM was started as root. */
#define WORKER_PROC_UID 65534u

struct worker_proc {
	struct hostnet_link *link;
	pid_t pid;
	int pidfd;        /* readable once the process has ended */
	bool reaped;
	int status;       /* once reaped: exit status, or 128 + signal */
	bool signaled;
};

/*
 * Make the link, fork, jail the child and start hostnet there with cfg
 * (cfg->link and cfg->seccomp are decided here: the filter is the
 * process-wide one when cfg->seccomp).  Returns once the workers run under
 * their filter, or -errno with one line in msg (the child is gone then).
 * Call while the VMM is single-threaded (before the vCPU threads).
 */
int worker_proc_start(struct worker_proc *wp, const struct hostnet_config *cfg, char *msg,
		      size_t msglen);

/* What the link page says of the process's start, each word read once:
 * 0 once HN_LINK_READY, 1 while it is starting (any other state), or once
 * HN_LINK_FAILED its -errno (-ECHILD without one: its exit status says why).
 * The worker process writes these words: judged here, never trusted. */
int worker_proc_start_state(const struct hn_link_shared *sh);

/* If the process has ended (its pidfd is readable), reap it and say how in
 * one line; false while it runs. */
bool worker_proc_ended(struct worker_proc *wp, char *msg, size_t msglen);

/* The orderly end: tell the process to snapshot its statistics and quit,
 * wait (SIGKILL after a few seconds), reap.  Idempotent. */
void worker_proc_finish(struct worker_proc *wp);

/* Statistics: the doorbell side's counters and the snapshot the process
 * left at worker_proc_finish() (zero if it died first). */
void worker_proc_get_stats(const struct worker_proc *wp, struct hostnet_stats *out);

/* Finish if needed, close the pidfd, unmap the link. */
void worker_proc_destroy(struct worker_proc *wp);

#endif /* VMM_WORKER_PROC_H */
