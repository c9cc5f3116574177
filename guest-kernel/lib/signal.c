/* <signal.h>: nothing delivers signals in the guest; see the header for why SIG_IGN and
 * SIG_DFL are accepted and handlers are refused. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

/* 0 if sig may get handler; else -1 with errno (and a message for a handler). */
static int check(int sig, bool is_handler, const char *call)
{
	if (sig <= 0 || sig >= NSIG || sig == SIGKILL) {
		errno = EINVAL;
		return -1;
	}
	if (is_handler) {
		fprintf(stderr, "guest: %s(%d): signal handlers are not supported (nothing in "
			"the guest raises signals); SIG_IGN and SIG_DFL are accepted\n", call, sig);
		errno = ENOSYS;
		return -1;
	}
	return 0;
}

static bool is_handler(sighandler_t h)
{
	return h != SIG_IGN && h != SIG_DFL;
}

sighandler_t signal(int sig, sighandler_t handler)
{
	return check(sig, is_handler(handler), "signal") ? SIG_ERR : SIG_DFL;
}

int sigaction(int sig, const struct sigaction *restrict act, struct sigaction *restrict old)
{
	bool handler = act && (act->sa_flags & SA_SIGINFO || is_handler(act->sa_handler));

	if (check(sig, handler, "sigaction"))
		return -1;
	if (old) {
		old->sa_handler = SIG_DFL;
		old->sa_mask = 0;
		old->sa_flags = 0;
	}
	return 0;
}

static int bit(int sig, unsigned long *mask)
{
	if (sig <= 0 || sig >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	*mask = 1ul << (sig - 1);
	return 0;
}

int sigemptyset(sigset_t *set)
{
	*set = 0;
	return 0;
}

int sigfillset(sigset_t *set)
{
	*set = ~0ul;
	return 0;
}

int sigaddset(sigset_t *set, int sig)
{
	unsigned long m;

	if (bit(sig, &m))
		return -1;
	*set |= m;
	return 0;
}

int sigdelset(sigset_t *set, int sig)
{
	unsigned long m;

	if (bit(sig, &m))
		return -1;
	*set &= ~m;
	return 0;
}

int sigismember(const sigset_t *set, int sig)
{
	unsigned long m;

	return bit(sig, &m) ? -1 : (*set & m) != 0;
}
