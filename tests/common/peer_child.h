/* SPDX-License-Identifier: MIT */
/*
 * The first steps of a host peer (socat ...) that a test forks: its
 * own process group (the test kills the group), death with the test (a
 * failed assertion ends the test before its clean-up runs), and nothing of
 * the test runner's: stdin and stdout on /dev/null (ctest would wait for the
 * EOF of a pipe a leaked peer still holds), stderr too when quiet.
 */
#ifndef VS_TEST_PEER_CHILD_H
#define VS_TEST_PEER_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

/* In the child, right after fork(); parent = the test's getpid() before it.
 * The one fork/exec preamble of every host peer the tests start (unit and
 * integration alike). */
void peer_child_detach(pid_t parent, bool quiet);

/* In the test: end a peer started with peer_child_detach() and reap it.
 * SIGTERM to its process group, then SIGKILL if it is still there after
 * grace_ms: socat 1.7.4 now and then outlives a SIGTERM (seen: a
 * UDP-RECVFROM,fork socat back in poll() after it), and a plain waitpid()
 * then hung the test until ctest's timeout.  Returns its exit status (128 +
 * the signal when a signal ended it), or -1 if it could not be reaped (no
 * such child). */
#define PEER_STOP_GRACE_MS 2000u
int peer_stop(pid_t pid, unsigned grace_ms);

#endif
