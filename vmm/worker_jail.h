/* SPDX-License-Identifier: MIT */
/*
 * The jail of hostnet's worker process (worker_proc.h says what and why):
 * each step is one call, run in the child before hostnet starts there.
 * 0 or -errno; the child reports a failure and exits.
 */
#ifndef VMM_WORKER_JAIL_H
#define VMM_WORKER_JAIL_H

#include <stdint.h>

/* Close every fd but those in keep (any order, at most 130). */
int worker_jail_close_fds(const int *keep, unsigned nr_keep);

/* RLIMIT_NOFILE soft and hard: max_sockets plus the process's own fds
 * (worker_jail_files_needed()).  -EPERM: above the hard limit without
 * CAP_SYS_RESOURCE; the caller says what to do. */
int worker_jail_limit_files(uint32_t max_sockets, uint32_t workers);
uint64_t worker_jail_files_needed(uint32_t max_sockets, uint32_t workers);

/* Root only: a new mount namespace whose root is an empty read-only tmpfs,
 * then uid/gid uid with no supplementary groups and no capabilities
 * (bounding set included).  Returns 0 without doing anything when not root. */
int worker_jail_drop_root(uint32_t uid);

#endif /* VMM_WORKER_JAIL_H */
