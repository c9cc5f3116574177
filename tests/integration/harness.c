/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef VS_VMM_PATH
#error "VS_VMM_PATH must be defined by the build"
#endif
#ifndef VS_GUEST_IMG
#error "VS_GUEST_IMG must be defined by the build"
#endif

#define MAX_ARGS 64

const char *vs_vmm_path(void)
{
	return VS_VMM_PATH;
}

const char *vs_guest_img(void)
{
	return VS_GUEST_IMG;
}

bool vs_host_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct buf {
	char *data;
	size_t len, cap;
};

static void buf_append(struct buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			abort(); /* a test harness out of memory has nothing better to do */
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static bool has_timeout_option(const char *const args[])
{
	for (int i = 0; args[i]; i++) {
		if (!strcmp(args[i], "--"))
			return false;
		if (!strcmp(args[i], "--timeout") || !strncmp(args[i], "--timeout=", 10))
			return true;
	}
	return false;
}

/* Reap pid, waiting at most until deadline; SIGKILL it then. */
static int reap(pid_t pid, double deadline, bool *killed)
{
	int st;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return st;
		if (w < 0 && errno != EINTR)
			return -1;
		if (now() >= deadline && !*killed) {
			kill(pid, SIGKILL);
			*killed = true;
		}
		usleep(2000);
	}
}

int vs_run_vmm(struct vs_result *r, const struct vs_run_opts *opts, const char *const args[])
{
	memset(r, 0, sizeof(*r));
	unsigned timeout_s = opts && opts->timeout_s ? opts->timeout_s
						     : VS_HARNESS_DEFAULT_TIMEOUT_S;
	double deadline_s = opts && opts->deadline_s > 0 ? opts->deadline_s
							 : timeout_s + VS_HARNESS_GRACE_S;

	char timeout_arg[32];
	snprintf(timeout_arg, sizeof(timeout_arg), "%u", timeout_s);
	const char *argv[MAX_ARGS + 4];
	int n = 0;
	argv[n++] = vs_vmm_path();
	if (!has_timeout_option(args)) {
		argv[n++] = "--timeout";
		argv[n++] = timeout_arg;
	}
	for (int i = 0; args[i]; i++) {
		if (n >= MAX_ARGS + 2)
			return -E2BIG;
		argv[n++] = args[i];
	}
	argv[n] = NULL;

	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err, O_CLOEXEC) < 0) {
		int e = -errno;
		close(out[0]);
		close(out[1]);
		return e;
	}
	double start = now();
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(out[0]); close(out[1]); close(err[0]); close(err[1]);
		return e;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "harness: cannot exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);

	struct buf bo = { 0 }, be = { 0 };
	buf_append(&bo, "", 0);
	buf_append(&be, "", 0);
	struct pollfd p[2] = { { .fd = out[0], .events = POLLIN },
			       { .fd = err[0], .events = POLLIN } };
	double deadline = start + deadline_s;
	bool signalled = false;
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		double t = now();
		if (t >= deadline && !r->killed) {
			kill(pid, SIGKILL);
			r->killed = true;
		}
		if (opts && opts->signal_after_s > 0 && !signalled &&
		    t >= start + opts->signal_after_s) {
			kill(pid, opts->signal);
			signalled = true;
		}
		double next = r->killed ? t + 1.0 : deadline;
		if (opts && opts->signal_after_s > 0 && !signalled &&
		    start + opts->signal_after_s < next)
			next = start + opts->signal_after_s;
		int wait_ms = (int)((next - t) * 1000.0) + 1;
		if (wait_ms > 1000)
			wait_ms = 1000;
		int k = poll(p, 2, wait_ms);
		if (k < 0 && errno != EINTR)
			break;
		if (r->killed && k == 0 && now() > deadline + 5.0)
			break; /* a grandchild holds the pipes: stop reading */
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char chunk[4096];
			ssize_t got = read(p[i].fd, chunk, sizeof(chunk));
			if (got > 0) {
				buf_append(i == 0 ? &bo : &be, chunk, (size_t)got);
			} else if (got == 0 || errno != EINTR) {
				close(p[i].fd);
				p[i].fd = -1;
			}
		}
	}
	if (p[0].fd >= 0)
		close(p[0].fd);
	if (p[1].fd >= 0)
		close(p[1].fd);

	int st = reap(pid, deadline, &r->killed);
	r->seconds = now() - start;
	r->out = bo.data;
	r->err = be.data;
	if (st < 0) {
		r->status = -1;
	} else if (WIFEXITED(st)) {
		r->status = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		r->signaled = true;
		r->status = 128 + WTERMSIG(st);
	}
	return 0;
}

int vs_vmm(struct vs_result *r, unsigned timeout_s, ...)
{
	const char *args[MAX_ARGS + 1];
	int n = 0;
	va_list ap;
	va_start(ap, timeout_s);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
		if (n == MAX_ARGS) {
			va_end(ap);
			return -E2BIG;
		}
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;
	struct vs_run_opts o = { .timeout_s = timeout_s };
	return vs_run_vmm(r, &o, args);
}

void vs_result_free(struct vs_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void vs_result_dump(const struct vs_result *r, const char *what)
{
	fprintf(stderr, "---- %s: status %d%s%s, %.2f s\n---- stdout:\n%s---- stderr:\n%s----\n",
		what, r->status, r->signaled ? " (signal)" : "", r->killed ? " (KILLED)" : "",
		r->seconds, r->out ? r->out : "", r->err ? r->err : "");
}

double vs_stat(const struct vs_result *r, const char *label)
{
	/* Lines look like "  pio doorbells          12" (stats_print in vmm/stats.c). */
	size_t n = strlen(label);
	for (const char *p = r->err; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *s = p + strspn(p, " ");
		if (strncmp(s, label, n) == 0 && s[n] == ' ') {
			char *end;
			double v = strtod(s + n, &end);
			if (end != s + n)
				return v;
		}
	}
	return -1;
}
