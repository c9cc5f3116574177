/* SPDX-License-Identifier: MIT */
/*
 * TEST BUILDS ONLY: a compromised hostnet worker, simulated.  Compiled into
 * build/vmm-testhook (tests/CMakeLists.txt, with VMM_TEST_HOOKS), never into
 * build/vmm.  In the worker process, once jailed and filtered, it does what
 * $VS_TEST_WORKER_HOOK names (tests/integration/kvm_jail.c):
 *   open        open("/etc/passwd") and openat(/proc/<vmm>/mem): must fail
 *   mprotect    make a page of its own executable: forbidden
 *   munmap      unmap the ring slot, then touch it: ends only itself
 *   write-vmm   process_vm_writev() into the VMM: forbidden
 *   kill-vmm    kill(VMM, SIGKILL): forbidden
 *   fork        fork(): forbidden
 *   execve      execve("/bin/sh"): forbidden
 * and says on stderr what each attempt gave.  Before it says READY:
 *   start-lie   FAILED with start_err 5 (no -errno) and stays: the VMM must
 *               neither take it as started nor wait for it to end
 */
#ifndef VMM_WORKER_TEST_HOOK_H
#define VMM_WORKER_TEST_HOOK_H

#include <sys/types.h>

#include "link.h"

void worker_test_hook_run(struct hostnet_link *l, pid_t vmm);
void worker_test_hook_start(struct hostnet_link *l);

#endif
