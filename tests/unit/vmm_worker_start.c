/* SPDX-License-Identifier: MIT */
/*
 * The VMM's start check of the worker process (vmm/worker_proc.h): the state
 * and start_err words are the worker process's to write, so the check says
 * "ready" only for HN_LINK_READY, "starting" for any other state but FAILED,
 * and fails only with a real -errno, whatever start_err holds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "worker_proc.h"

static int check(unsigned state, int start_err)
{
	struct hn_link_shared *sh = calloc(1, sizeof(*sh));
	cr_assert_not_null(sh);
	atomic_store(&sh->state, state);
	atomic_store(&sh->start_err, start_err);
	int r = worker_proc_start_state(sh);
	free(sh);
	return r;
}

Test(worker_start, ready_starting_and_failed)
{
	cr_assert_eq(check(HN_LINK_READY, -EPERM), 0);
	cr_assert_eq(check(HN_LINK_STARTING, -EPERM), 1);
	cr_assert_eq(check(HN_LINK_FAILED, -EPERM), -EPERM);
	cr_assert_eq(check(HN_LINK_FAILED, -4095), -4095);
	cr_assert_eq(check(HN_LINK_FAILED, 0), -ECHILD, "no errno: the exit status says why");
}

Test(worker_start, a_state_beyond_the_enum_is_still_starting)
{
	cr_assert_eq(check(7, 0), 1);
	cr_assert_eq(check(UINT_MAX, -EPERM), 1);
}

/* What fuzz_link found: a positive start_err came back as a positive
 * "error" (the caller takes only < 0 as failure), INT_MIN as itself. */
Test(worker_start, a_failure_is_always_a_real_errno)
{
	cr_assert_eq(check(HN_LINK_FAILED, 5), -ECHILD);
	cr_assert_eq(check(HN_LINK_FAILED, 1819044972), -ECHILD);
	cr_assert_eq(check(HN_LINK_FAILED, INT_MIN), -ECHILD);
	cr_assert_eq(check(HN_LINK_FAILED, -4096), -ECHILD);
}
