/* SPDX-License-Identifier: MIT */
/*
 * Filtered threads under allocator contention (issue 12, item 6).
 *
 * Several threads that each loaded the worker filter malloc and free at
 * once for a second.  Under ASan the allocator's spin lock then calls
 * sched_yield: with that call missing from the ASan allow-list the process
 * ended with the filter's 73 within half a second.  Plain builds pass either
 * way (glibc's malloc does not yield); the test matters in build-asan/.
 */
#include "hostnet_guest.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

#include "sandbox.h"

#define CONTENDERS 8
#define RUN_MS     1000
#define KEEP       256

static int kick_fd;
static pthread_barrier_t start;

static void *contender(void *arg)
{
	(void)arg;
	struct hn_sandbox_fds fds = { .event_fd = kick_fd, .kick_fds = &kick_fd, .nr_kick_fds = 1 };
	if (hn_sandbox_install_worker(&fds))
		return (void *)1;
	pthread_barrier_wait(&start);
	uint64_t end = tg_now_ms() + RUN_MS;
	void *keep[KEEP] = { 0 };
	for (unsigned i = 0; tg_now_ms() < end; i++) {
		unsigned k = (i * 7919u) % KEEP;
		free(keep[k]);
		/* Sizes across many size classes: the per-thread caches keep
		 * going back to the shared allocator (and its lock). */
		keep[k] = malloc(16u << (i % 14));
		if (!keep[k])
			return (void *)2;
	}
	for (unsigned k = 0; k < KEEP; k++)
		free(keep[k]);
	return NULL;
}

/* In a child: CONTENDERS filtered threads (signals blocked, like workers)
 * allocate at once; exit 0 if all ran to the end. */
static void run_contenders(void)
{
	kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_barrier_init(&start, NULL, CONTENDERS);
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	pthread_t t[CONTENDERS];
	for (int i = 0; i < CONTENDERS; i++)
		if (pthread_create(&t[i], NULL, contender, NULL))
			syscall(SYS_exit_group, 97);
	int status = 0;
	for (int i = 0; i < CONTENDERS; i++) {
		void *r;
		pthread_join(t[i], &r);
		if (r)
			status = 10 + (int)(intptr_t)r;
	}
	syscall(SYS_exit_group, status); /* no atexit, no leak check */
}

Test(sandbox_contention, filtered_threads_survive_allocator_contention, .timeout = 60)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		run_contenders();
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "killed by signal %d", WTERMSIG(st));
	cr_assert_neq(WEXITSTATUS(st), VS_EXIT_VMM_ERROR,
		      "a filtered thread made a forbidden call (see the seccomp line above)");
	cr_assert_eq(WEXITSTATUS(st), 0, "status %d", WEXITSTATUS(st));
}
