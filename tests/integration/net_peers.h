/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the network integration tests (kvm_net_*.c, kvm_smoke_net.c):
 * host peers (socat, curl, python3 -m http.server, nginx) started as child
 * processes, the vmm started in the background with its stdout readable
 * while it runs (for guest servers: wait for "listening on 127.0.0.1:PORT"),
 * free ports, temp dirs, sha256sum of files and the guest's bulk pattern.
 *
 * A small library (net_peers.c) that tests/CMakeLists.txt links into every
 * KVM test, like harness.c.
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

double np_now(void);

void np_sleep_ms(unsigned ms);

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

/* Kill p's whole process group and reap p. */
void np_stop(struct np_proc *p);

/* atexit(): kill every group still running and reap its leader. */
void np_stop_all(void);

/*
 * Start argv[0] (PATH lookup) with stdin from /dev/null, stdout captured into
 * p->out when capture is set (else /dev/null: see peer_child.h), stderr
 * inherited (it shows in the test log).  cwd may be NULL.  Returns 0 or -errno.
 */
int np_spawn(struct np_proc *p, const char *const argv[], bool capture,
	     const char *cwd);

/* Variadic form: np_start(&p, capture, cwd, "prog", "arg", ..., NULL). */
int np_start(struct np_proc *p, bool capture, const char *cwd, ...) __attribute__((sentinel));

/* Read whatever p's stdout has now (non-blocking); false at EOF. */
bool np_pump(struct np_proc *p);

/* Wait until p's stdout contains needle (true) or EOF / timeout (false). */
bool np_wait_output(struct np_proc *p, const char *needle, double timeout_s);

/* Reap p if it has exited, waiting at most timeout_s (0: just check), reading
 * its stdout meanwhile.  True once it has exited (p->status is set). */
bool np_wait_exit(struct np_proc *p, double timeout_s);

void np_proc_free(struct np_proc *p);

/* The vmm in the background, stdout captured: np_vmm_start(&p, timeout_s,
 * "opt", ..., vs_guest_img(), "--", "prog", "arg", ..., NULL). */
int np_vmm_start(struct np_proc *p, unsigned timeout_s, ...) __attribute__((sentinel));

/* The port in "...listening on 127.0.0.1:PORT" in p's output, 0 if none yet. */
unsigned np_listening_port(const struct np_proc *p);

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

/* Open files of process pid right now (-1 if /proc says nothing). */
int np_open_fds(pid_t pid);

/* ---- ports --------------------------------------------------------------- */

/* A port the kernel just gave out for type on 127.0.0.1 (bound, then closed). */
unsigned np_free_port(int type);

/* Is something bound to port (as a TCP listener, or UDP) per /proc/net?  Looks
 * without connecting, so a one-shot listener's single accept is not used up. */
bool np_port_bound(unsigned port, bool udp);

/* Wait until a peer process binds port (false after timeout_s or if it died). */
/* A TCP listener (backlog 8, CLOEXEC) on a free port of 127.0.0.1, for a
 * test's own in-process peer: its fd, the port in *port; or -errno. */
int np_listen_loopback(unsigned *port);

/* socat listening on a free TCP port of 127.0.0.1 (v6: ::1) with the
 * listen options opts ("fork", "readbytes=N", or ""), its other end peer
 * ("PIPE", "EXEC:cat": an echo).  A few ports are tried (another process may
 * take a free one first).  Returns the port once it is bound, or 0. */
unsigned np_start_socat_listener(struct np_proc *socat, bool v6, const char *opts,
				 const char *peer);

bool np_wait_bound(struct np_proc *peer, unsigned port, bool udp,
		   double timeout_s);

/* ---- files ------------------------------------------------------------------ */

/* A fresh directory under $TMPDIR (or /tmp); path has room for 256 bytes. */
bool np_tmpdir(char path[256]);

void np_rmtree(const char *path);

char *np_join(const char *dir, const char *name);

bool np_write_file(const char *path, const void *data, size_t len);

long long np_file_size(const char *path);

/* sha256sum's digest of path into hex (65 bytes); false if it failed. */
bool np_sha256sum(const char *path, char hex[65]);

/* The guest's bulk pattern (guest-kernel/net/netprog.h): byte i is byte i % 8
 * of splitmix64(seed + i / 8). */
uint64_t np_pattern_word(uint64_t seed, uint64_t index);

/* Fill buf with pattern bytes [offset, offset + len) (offset 8-byte aligned). */
void np_pattern_fill(uint8_t *buf, size_t len, uint64_t offset);

/* Write the first bytes of the pattern to path. */
bool np_write_pattern_file(const char *path, uint64_t bytes);

/* Offset of the first byte of path that differs from the pattern, or -1 if
 * the file is exactly the first `bytes` bytes of it. */
long long np_pattern_mismatch(const char *path, uint64_t bytes);

/* ---- the guest's result lines ------------------------------------------- */

/* From "PROG: bytes=N sha256=HEX ..." in out: N and HEX.  False if absent. */
bool np_parse_bulk(const char *out, const char *prog, unsigned long long *bytes,
		   char hex[65]);

/* How many lines of s contain needle. */
int np_count_lines_with(const char *s, const char *needle);

#endif /* VS_TEST_NET_PEERS_H */
