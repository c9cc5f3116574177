/* SPDX-License-Identifier: MIT */
/*
 * The first steps of a host peer (socat ...) that a unit test forks: its
 * own process group (the test kills the group), death with the test (a
 * failed assertion ends the test before its clean-up runs), and nothing of
 * the test runner's: stdin and stdout on /dev/null (ctest would wait for the
 * EOF of a pipe a leaked peer still holds), stderr too when quiet.
 */
#ifndef VS_TEST_PEER_CHILD_H
#define VS_TEST_PEER_CHILD_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <unistd.h>

/* In the child, right after fork(); parent = the test's getpid() before it. */
static inline void peer_child_detach(pid_t parent, bool quiet)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127); /* the test died before we could ask to die with it */
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (quiet)
			dup2(devnull, STDERR_FILENO);
	}
}

#endif
