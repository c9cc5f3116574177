/* SPDX-License-Identifier: MIT */
/* The first steps of a host peer a test forks: see peer_child.h. */
#include "peer_child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

void peer_child_detach(pid_t parent, bool quiet)
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

static int exit_status(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int peer_stop(pid_t pid, unsigned grace_ms)
{
	if (pid <= 0)
		return -1;
	kill(-pid, SIGTERM);
	int st;
	for (unsigned waited = 0; waited < grace_ms; waited += 5) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return exit_status(st);
		if (w < 0 && errno != EINTR)
			return -1;
		usleep(5000);
	}
	kill(-pid, SIGKILL);
	pid_t w;
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	return w == pid ? exit_status(st) : -1;
}
