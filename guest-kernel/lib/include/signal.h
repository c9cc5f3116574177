/*
 * <signal.h> for the guest.  Nothing in the guest can raise a signal (no other processes,
 * no terminal, no timers), and a send to a closed connection returns EPIPE instead of
 * raising SIGPIPE (the host sends with MSG_NOSIGNAL).  So SIG_IGN and SIG_DFL are
 * accepted for every signal and change nothing; installing a handler fails with ENOSYS
 * and a message on the console, rather than pretend that it would ever run.
 */
#ifndef _SIGNAL_H
#define _SIGNAL_H

typedef void (*sighandler_t)(int);
typedef unsigned long sigset_t;
typedef struct {
	int si_signo;
} siginfo_t;

#define SIG_ERR ((sighandler_t)-1)
#define SIG_DFL ((sighandler_t)0)
#define SIG_IGN ((sighandler_t)1)

#define SIGHUP   1
#define SIGINT   2
#define SIGQUIT  3
#define SIGABRT  6
#define SIGKILL  9
#define SIGUSR1  10
#define SIGSEGV  11
#define SIGUSR2  12
#define SIGPIPE  13
#define SIGALRM  14
#define SIGTERM  15
#define SIGCHLD  17
#define NSIG     65

#define SA_SIGINFO 4
#define SA_RESTART 0x10000000

struct sigaction {
	union {
		void (*__handler)(int);
		void (*__sigaction)(int, siginfo_t *, void *);
	} __u;
	sigset_t sa_mask;
	int sa_flags;
};
#define sa_handler   __u.__handler
#define sa_sigaction __u.__sigaction

sighandler_t signal(int sig, sighandler_t handler);
int sigaction(int sig, const struct sigaction *restrict act, struct sigaction *restrict old);
int sigemptyset(sigset_t *set);
int sigfillset(sigset_t *set);
int sigaddset(sigset_t *set, int sig);
int sigdelset(sigset_t *set, int sig);
int sigismember(const sigset_t *set, int sig);

#endif
