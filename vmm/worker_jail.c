/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "worker_jail.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What the process opens itself beyond its sockets: one epoll set per
 * worker, plus stdio slots and a margin (sockets take the lowest free
 * numbers, so the kept eventfds sit below this). */
#define WORKER_OWN_FDS 16u

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int worker_jail_close_fds(const int *keep, unsigned nr_keep)
{
	int sorted[130];
	if (nr_keep > sizeof(sorted) / sizeof(sorted[0]))
		return -EINVAL;
	for (unsigned i = 0; i < nr_keep; i++)
		sorted[i] = keep[i];
	qsort(sorted, nr_keep, sizeof(sorted[0]), cmp_int);
	unsigned first = 0;
	for (unsigned i = 0; i <= nr_keep; i++) {
		unsigned last = i < nr_keep ? (unsigned)sorted[i] : ~0u;
		if (last > first && syscall(SYS_close_range, first, last - 1, 0) < 0)
			return -errno;
		if (i < nr_keep)
			first = (unsigned)sorted[i] + 1;
	}
	return 0;
}

uint64_t worker_jail_files_needed(uint32_t max_sockets, uint32_t workers)
{
	return (uint64_t)max_sockets + 2u * workers + WORKER_OWN_FDS;
}

int worker_jail_limit_files(uint32_t max_sockets, uint32_t workers)
{
	rlim_t n = (rlim_t)worker_jail_files_needed(max_sockets, workers);
	struct rlimit r = { .rlim_cur = n, .rlim_max = n };
	return setrlimit(RLIMIT_NOFILE, &r) ? -errno : 0;
}

/* A new mount namespace, private, whose root is an empty tmpfs mounted on
 * /tmp (a directory every system has), made read-only; the old root is
 * detached.  pivot_root fails where the VMM's own root is not a mount
 * point (some chroots): chroot then, which without CAP_SYS_CHROOT and with
 * no directory fd open cannot be escaped. */
static int empty_root(void)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	if (mount("vs-empty", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,mode=0555") || chdir("/tmp"))
		return -errno;
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH))
			return -errno;
	} else if (chroot(".")) {
		return -errno;
	}
	if (chdir("/"))
		return -errno;
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
		  MS_NOEXEC, NULL))
		return -errno;
	return 0;
}

static int drop_privileges(uint32_t uid)
{
	for (unsigned long cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -errno;
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return -errno;
	/* setresuid() away from 0 cleared permitted and effective; clear the
	 * inheritable set too, so nothing at all is left. */
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

int worker_jail_drop_root(uint32_t uid)
{
	if (geteuid() != 0)
		return 0;
	int err = empty_root();
	return err ? err : drop_privileges(uid);
}
