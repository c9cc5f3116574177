/* SPDX-License-Identifier: MIT */
/*
 * <unistd.h> for guest programs.  Descriptors are sockets, plus 0-2: reading 0 gives
 * end of file (the guest has no input), writing 1 or 2 goes to the serial console.
 * sleep/usleep busy-wait on the TSC clock (kernel/time.c); getpid() is 1.
 */
#ifndef _UNISTD_H
#define _UNISTD_H

#include <stddef.h>
#include <sys/types.h>

#define STDIN_FILENO  0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

typedef int pid_t;

ssize_t read(int fd, void *buf, size_t len);        /* recv() on a socket */
ssize_t write(int fd, const void *buf, size_t len); /* send() on a socket */
int close(int fd);

unsigned sleep(unsigned seconds);
int usleep(unsigned long usec);
pid_t getpid(void);
_Noreturn void _exit(int status);  /* no atexit handlers */

#endif
