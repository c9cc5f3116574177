/* SPDX-License-Identifier: MIT */
/* TEST BUILDS ONLY (worker_test_hook.h). */
#define _GNU_SOURCE
#include "worker_test_hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

static void said(const char *what, long r)
{
	fprintf(stderr, "worker test hook: %s -> %ld (%s)\n", what, r,
		r < 0 ? strerror(errno) : "succeeded");
}

void worker_test_hook_start(struct hostnet_link *l)
{
	const char *h = getenv("VS_TEST_WORKER_HOOK");
	if (!h || strcmp(h, "start-lie"))
		return;
	fprintf(stderr, "worker test hook: start-lie: FAILED with start_err 5, staying\n");
	atomic_store(&l->sh->start_err, 5);
	atomic_store(&l->sh->state, HN_LINK_FAILED);
	uint64_t v;
	for (;;)
		if (read(l->quit_fd, &v, sizeof(v)) < 0)
			pause();
}

void worker_test_hook_run(struct hostnet_link *l, pid_t vmm)
{
	const char *h = getenv("VS_TEST_WORKER_HOOK");
	if (!h)
		return;
	if (!strcmp(h, "open")) {
		said("open(/etc/passwd)", open("/etc/passwd", O_RDONLY));
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)vmm);
		said("openat(/proc/<vmm>/mem)", openat(AT_FDCWD, path, O_RDWR));
	} else if (!strcmp(h, "mprotect")) {
		said("mprotect(PROT_EXEC)", mprotect(l->sh, 4096, PROT_READ | PROT_EXEC));
	} else if (!strcmp(h, "munmap")) {
		said("munmap(ring slot)", munmap(l->ring, 4096));
		*(volatile uint8_t *)l->ring = 1; /* SIGSEGV: only this process */
	} else if (!strcmp(h, "write-vmm")) {
		char b = 0;
		struct iovec local = { &b, 1 }, remote = { l->sh, 1 };
		said("process_vm_writev(vmm)", process_vm_writev(vmm, &local, 1, &remote, 1, 0));
	} else if (!strcmp(h, "kill-vmm")) {
		said("kill(vmm, SIGKILL)", kill(vmm, SIGKILL));
	} else if (!strcmp(h, "fork")) {
		said("fork()", fork());
	} else if (!strcmp(h, "execve")) {
		char *argv[] = { "sh", NULL };
		said("execve(/bin/sh)", execve("/bin/sh", argv, NULL));
	}
	fprintf(stderr, "worker test hook: %s: the worker process goes on\n", h);
}
