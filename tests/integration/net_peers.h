/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the network integration tests (kvm_net_*.c, kvm_smoke_net.c):
 * host peers (socat, curl, python3 -m http.server, nginx) started as child
 * processes, the vmm started in the background with its stdout readable
 * while it runs (for guest servers: wait for "listening on 127.0.0.1:PORT"),
 * free ports, temp dirs, sha256sum of files and the guest's bulk pattern.
 *
 * Header-only (every function static) so that each test file, which
 * tests/CMakeLists.txt links with harness.c only, can include it.
 *
 * Every child runs in its own process group (killing it kills what it forked,
 * e.g. socat's per-connection children) and gets SIGKILL if the test process
 * dies (PR_SET_PDEATHSIG), so a failed or timed-out test leaves nothing behind.
 */
#ifndef VS_TEST_NET_PEERS_H
#define VS_TEST_NET_PEERS_H

/* Include this before anything else (it needs _GNU_SOURCE for pipe2, asprintf,
 * nftw, before any system header is seen). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NP_MAX_ARGS 64

static inline double np_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void np_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- processes ------------------------------------------------------------- */

struct np_proc {
	pid_t pid;           /* 0: not running (never started, or reaped) */
	int out_fd;          /* read end of its stdout, -1 if not captured */
	char *out;           /* what was read from it so far, NUL terminated */
	size_t out_len, out_cap;
	int status;          /* after reaping: exit status, or 128 + signal */
	bool exited;
	char name[64];       /* for messages */
};

/* The process groups still running, for the atexit() clean-up.  Pids, not
 * the callers' structs: a failed assertion leaves a test function, and its
 * struct np_proc on the stack is gone by the time atexit() runs. */
#define NP_MAX_PROCS 64
static pid_t np_pids[NP_MAX_PROCS];

static inline void np_forget(struct np_proc *p)
{
	for (int i = 0; i < NP_MAX_PROCS; i++)
		if (np_pids[i] == p->pid)
			np_pids[i] = 0;
}

/* Kill p's whole process group and reap p. */
static inline void np_stop(struct np_proc *p)
{
	if (p->pid > 0 && !p->exited) {
		kill(-p->pid, SIGTERM);
		double deadline = np_now() + 3.0;
		int st;
		for (;;) {
			pid_t w = waitpid(p->pid, &st, WNOHANG);
			if (w == p->pid) {
				p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				break;
			}
			if (w < 0 && errno != EINTR)
				break;
			if (np_now() > deadline) {
				kill(-p->pid, SIGKILL);
				deadline = np_now() + 1e9;
			}
			np_sleep_ms(5);
		}
		p->exited = true;
	}
	if (p->pid > 0)
		kill(-p->pid, SIGKILL); /* whatever the group forked and left behind */
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
	np_forget(p);
}

/* atexit(): kill every group still running and reap its leader. */
static inline void np_stop_all(void)
{
	for (int i = 0; i < NP_MAX_PROCS; i++)
		if (np_pids[i] > 0) {
			kill(-np_pids[i], SIGKILL);
			waitpid(np_pids[i], NULL, 0);
			np_pids[i] = 0;
		}
}

/*
 * Start argv[0] (PATH lookup) with stdin from /dev/null, stdout captured into
 * p->out when capture is set (else inherited), stderr inherited (it shows in
 * the test log).  cwd may be NULL.  Returns 0 or -errno.
 */
static inline int np_spawn(struct np_proc *p, const char *const argv[], bool capture,
			   const char *cwd)
{
	int out[2] = { -1, -1 };
	memset(p, 0, sizeof(*p));
	p->out_fd = -1;
	snprintf(p->name, sizeof(p->name), "%s", argv[0]);
	p->out = calloc(1, 1);
	if (capture && pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		if (capture)
			dup2(out[1], STDOUT_FILENO);
		if (cwd && chdir(cwd) < 0)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "net_peers: cannot exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* also here: no race with a kill(-pid) right after */
	p->pid = pid;
	if (capture) {
		close(out[1]);
		p->out_fd = out[0];
		fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	}
	static bool registered;
	if (!registered) {
		atexit(np_stop_all);
		registered = true;
	}
	for (int i = 0; i < NP_MAX_PROCS; i++)
		if (!np_pids[i]) {
			np_pids[i] = pid;
			break;
		}
	return 0;
}

/* Variadic form: np_start(&p, capture, cwd, "prog", "arg", ..., NULL). */
static inline int np_start(struct np_proc *p, bool capture, const char *cwd, ...)
	__attribute__((sentinel));
static inline int np_start(struct np_proc *p, bool capture, const char *cwd, ...)
{
	const char *argv[NP_MAX_ARGS + 1];
	int n = 0;
	va_list ap;
	va_start(ap, cwd);
	for (const char *a; (a = va_arg(ap, const char *)) && n < NP_MAX_ARGS;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return np_spawn(p, argv, capture, cwd);
}

/* Read whatever p's stdout has now (non-blocking); false at EOF. */
static inline bool np_pump(struct np_proc *p)
{
	if (p->out_fd < 0)
		return false;
	for (;;) {
		char chunk[8192];
		ssize_t n = read(p->out_fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (p->out_len + (size_t)n + 1 > p->out_cap) {
				size_t cap = p->out_cap ? p->out_cap * 2 : 65536;
				while (cap < p->out_len + (size_t)n + 1)
					cap *= 2;
				char *d = realloc(p->out, cap);
				if (!d)
					abort();
				p->out = d;
				p->out_cap = cap;
			}
			memcpy(p->out + p->out_len, chunk, (size_t)n);
			p->out_len += (size_t)n;
			p->out[p->out_len] = '\0';
			continue;
		}
		if (n == 0) {
			close(p->out_fd);
			p->out_fd = -1;
			return false;
		}
		return errno == EAGAIN || errno == EINTR;
	}
}

/* Wait until p's stdout contains needle (true) or EOF / timeout (false). */
static inline bool np_wait_output(struct np_proc *p, const char *needle, double timeout_s)
{
	double deadline = np_now() + timeout_s;
	for (;;) {
		bool open = np_pump(p);
		if (strstr(p->out, needle))
			return true;
		if (!open || np_now() > deadline)
			return false;
		struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
		poll(&pfd, 1, 50);
	}
}

/* Reap p if it has exited, waiting at most timeout_s (0: just check), reading
 * its stdout meanwhile.  True once it has exited (p->status is set). */
static inline bool np_wait_exit(struct np_proc *p, double timeout_s)
{
	double deadline = np_now() + timeout_s;
	while (!p->exited) {
		np_pump(p);
		int st;
		pid_t w = waitpid(p->pid, &st, WNOHANG);
		if (w == p->pid) {
			p->exited = true;
			p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (np_now() > deadline)
			return false;
		np_sleep_ms(5);
	}
	/* Drain the rest of its output (a grandchild may hold the pipe: bounded). */
	double drain = np_now() + 2.0;
	while (np_pump(p) && np_now() < drain) {
		struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
		poll(&pfd, 1, 50);
	}
	np_forget(p);
	return true;
}

static inline void np_proc_free(struct np_proc *p)
{
	np_stop(p);
	free(p->out);
	p->out = NULL;
}

/* The vmm in the background, stdout captured: np_vmm_start(&p, timeout_s,
 * "opt", ..., vs_guest_img(), "--", "prog", "arg", ..., NULL). */
static inline int np_vmm_start(struct np_proc *p, unsigned timeout_s, ...)
	__attribute__((sentinel));
static inline int np_vmm_start(struct np_proc *p, unsigned timeout_s, ...)
{
	const char *argv[NP_MAX_ARGS + 4];
	char t[16];
	int n = 0;
	snprintf(t, sizeof(t), "%u", timeout_s);
	argv[n++] = vs_vmm_path();
	argv[n++] = "--timeout";
	argv[n++] = t;
	va_list ap;
	va_start(ap, timeout_s);
	for (const char *a; (a = va_arg(ap, const char *)) && n < NP_MAX_ARGS;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return np_spawn(p, argv, true, NULL);
}

/* The port in "...listening on 127.0.0.1:PORT" in p's output, 0 if none yet. */
static inline unsigned np_listening_port(const struct np_proc *p)
{
	const char *s = strstr(p->out, "listening on 127.0.0.1:");
	return s ? (unsigned)strtoul(s + strlen("listening on 127.0.0.1:"), NULL, 10) : 0;
}

/* ---- /proc ---------------------------------------------------------------- */

/* A small file's text into buf (empty if it cannot be read). */
static inline void np_read_small(const char *path, char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* The first child process of pid's main thread (the vmm's: hostnet's worker
 * process, vmm/worker_proc.h), 0 if none. */
static inline pid_t np_first_child(pid_t pid)
{
	char path[64], text[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	np_read_small(path, text, sizeof(text));
	return (pid_t)atoi(text);
}

/* ---- ports --------------------------------------------------------------- */

/* A port the kernel just gave out for type on 127.0.0.1 (bound, then closed). */
static inline unsigned np_free_port(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	return ntohs(sin.sin_port);
}

/* Is something bound to port (as a TCP listener, or UDP) per /proc/net?  Looks
 * without connecting, so a one-shot listener's single accept is not used up. */
static inline bool np_port_bound(unsigned port, bool udp)
{
	const char *files[2] = { udp ? "/proc/net/udp" : "/proc/net/tcp",
				 udp ? "/proc/net/udp6" : "/proc/net/tcp6" };
	for (int f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "r");
		char line[512];
		if (!fp)
			continue;
		while (fgets(line, sizeof(line), fp)) {
			char local[80];
			unsigned st;
			if (sscanf(line, " %*u: %79s %*s %x", local, &st) != 2)
				continue;
			const char *colon = strrchr(local, ':');
			if (!colon || strtoul(colon + 1, NULL, 16) != port)
				continue;
			if (udp || st == 0x0a /* TCP_LISTEN */) {
				fclose(fp);
				return true;
			}
		}
		fclose(fp);
	}
	return false;
}

/* Wait until a peer process binds port (false after timeout_s or if it died). */
static inline bool np_wait_bound(struct np_proc *peer, unsigned port, bool udp,
				 double timeout_s)
{
	double deadline = np_now() + timeout_s;
	while (!np_port_bound(port, udp)) {
		if (np_now() > deadline || (peer && np_wait_exit(peer, 0)))
			return false;
		np_sleep_ms(10);
	}
	return true;
}

/* ---- files ------------------------------------------------------------------ */

/* A fresh directory under $TMPDIR (or /tmp); path has room for 256 bytes. */
static inline bool np_tmpdir(char path[256])
{
	const char *base = getenv("TMPDIR");
	snprintf(path, 256, "%s/vs-net-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(path) != NULL;
}

static inline int np_rm_entry(const char *path, const struct stat *st, int flag,
			      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void np_rmtree(const char *path)
{
	nftw(path, np_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *np_join(const char *dir, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static inline bool np_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return false;
	bool ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

static inline long long np_file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* sha256sum's digest of path into hex (65 bytes); false if it failed. */
static inline bool np_sha256sum(const char *path, char hex[65])
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "sha256sum -b -- '%s'", path);
	FILE *p = popen(cmd, "r");
	if (!p)
		return false;
	bool ok = fscanf(p, "%64s", hex) == 1 && strlen(hex) == 64;
	return pclose(p) == 0 && ok;
}

/* The guest's bulk pattern (guest-kernel/net/netprog.h): byte i is byte i % 8
 * of splitmix64(seed + i / 8). */
static inline uint64_t np_pattern_word(uint64_t seed, uint64_t index)
{
	uint64_t z = (seed + index + 1) * UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Fill buf with pattern bytes [offset, offset + len) (offset 8-byte aligned). */
static inline void np_pattern_fill(uint8_t *buf, size_t len, uint64_t offset)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = np_pattern_word(0, (offset + i) / 8);
		size_t n = len - i < 8 ? len - i : 8;
		memcpy(buf + i, &v, n);
	}
}

/* Write the first bytes of the pattern to path. */
static inline bool np_write_pattern_file(const char *path, uint64_t bytes)
{
	FILE *f = fopen(path, "wb");
	static uint8_t chunk[1 << 20];
	if (!f)
		return false;
	bool ok = true;
	for (uint64_t off = 0; off < bytes && ok; off += sizeof(chunk)) {
		size_t n = bytes - off < sizeof(chunk) ? (size_t)(bytes - off) : sizeof(chunk);
		np_pattern_fill(chunk, n, off);
		ok = fwrite(chunk, 1, n, f) == n;
	}
	return fclose(f) == 0 && ok;
}

/* Offset of the first byte of path that differs from the pattern, or -1 if
 * the file is exactly the first `bytes` bytes of it. */
static inline long long np_pattern_mismatch(const char *path, uint64_t bytes)
{
	FILE *f = fopen(path, "rb");
	static uint8_t want[1 << 20], got[1 << 20];
	if (!f)
		return 0;
	uint64_t off = 0;
	for (;;) {
		size_t n = fread(got, 1, sizeof(got), f);
		if (n == 0)
			break;
		np_pattern_fill(want, n, off);
		if (memcmp(want, got, n)) {
			size_t i = 0;
			while (want[i] == got[i])
				i++;
			fclose(f);
			return (long long)(off + i);
		}
		off += n;
	}
	fclose(f);
	return off == bytes ? -1 : (long long)off;
}

/* ---- the guest's result lines ------------------------------------------- */

/* From "PROG: bytes=N sha256=HEX ..." in out: N and HEX.  False if absent. */
static inline bool np_parse_bulk(const char *out, const char *prog, unsigned long long *bytes,
			  char hex[65])
{
	char key[64];
	snprintf(key, sizeof(key), "%s: bytes=", prog);
	const char *s = strstr(out, key);
	return s && sscanf(s + strlen(key), "%llu sha256=%64[0-9a-f]", bytes, hex) == 2;
}

/* How many lines of s contain needle. */
static inline int np_count_lines_with(const char *s, const char *needle)
{
	int n = 0;
	for (const char *line = s; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		const char *hit = strstr(line, needle);
		if (hit && hit < line + len)
			n++;
		line = eol ? eol + 1 : NULL;
	}
	return n;
}

#endif /* VS_TEST_NET_PEERS_H */
