/* SPDX-License-Identifier: MIT */
/*
 * net-errors: provoke the socket errors a guest must see as the right errno,
 * one after the other in the same VM, and show that the transport still works
 * after each.  Self-contained: the peers are the guest's own sockets on the
 * host's loopback (real host sockets, through the VMM).
 *
 * One line per case, "net-errors: CASE: ok (ENAME)" or
 * "net-errors: CASE: FAILED: ...", then "net-errors: N cases, all ok".
 *
 * The bad-buffer cases write their submission entry by hand: the library
 * refuses a buffer outside guest RAM itself (-EFAULT before anything reaches
 * the host), so the program prepares a request with a good buffer and then,
 * before publishing it, rewrites its address the way a hostile or buggy guest
 * could.  That checks the host's own validation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <kernel/boot.h>
#include <kernel/clock.h>
#include <kernel/cpu.h>
#include <kernel/program.h>
#include <virtsocket/vsock.h>

#include "netprog.h"

#define PROG "net-errors"
#define NO_SUCH_HANDLE 0x3ffe1234  /* a handle the host never handed out */
#define RAW_WAIT_MS    10000

static unsigned cases, failures;

/* Report a case whose result is r (>= 0, or -1 with errno) against up to two
 * acceptable errnos (want2 0: only want1; want1 0: success wanted). */
static void expect(const char *name, long r, int want1, int want2)
{
	int e = r < 0 ? errno : 0;
	cases++;
	if (want1 == 0 ? r >= 0 : (r < 0 && (e == want1 || (want2 && e == want2)))) {
		printf("%s: %s: ok (%s)\n", PROG, name, r < 0 ? strerror(e) : "success");
		return;
	}
	failures++;
	if (r >= 0)
		printf("%s: %s: FAILED: succeeded (%ld), expected %s%s%s\n", PROG, name, r,
		       strerror(want1), want2 ? " or " : "", want2 ? strerror(want2) : "");
	else
		printf("%s: %s: FAILED: got %s (%d), expected %s%s%s\n", PROG, name, strerror(e),
		       e, want1 ? strerror(want1) : "success", want2 ? " or " : "",
		       want2 ? strerror(want2) : "");
}

static void fail_setup(const char *what)
{
	cases++;
	failures++;
	printf("%s: setup: FAILED: %s: %s (%d)\n", PROG, what, strerror(errno), errno);
}

/* A connected pair over the host's loopback: *c connected to *s, both
 * guest sockets.  Returns false after reporting. */
static bool make_pair(int *c, int *s)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		return fail_setup("socket"), false;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) < 0)
		return fail_setup("listener"), false;
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return fail_setup("connect to own listener"), false;
	*s = accept(l, NULL, NULL);
	if (*s < 0)
		return fail_setup("accept"), false;
	close(l);
	return true;
}

/* A port nothing listens on: bind one, note it, close it. */
static bool closed_port(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)sin, sizeof(*sin)) < 0 ||
	    getsockname(l, (struct sockaddr *)sin, &len) < 0)
		return fail_setup("bind a port to close"), false;
	close(l);
	return true;
}

/*
 * Send or receive on fd with the SQE's buffer address and length replaced by
 * addr/len before the host sees it.  Returns the result as the POSIX calls
 * do (-1 and errno).
 */
static long raw_io(bool send_op, int fd, uint64_t addr, uint32_t len)
{
	static uint8_t good[64];
	const uint64_t tag = 0x6e65742d65727273; /* "net-errs" */
	int r = send_op ? vs_prep_send(fd, good, sizeof(good), 0, tag)
			: vs_prep_recv(fd, good, sizeof(good), 0, tag);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	/* Nothing else is prepared (the blocking calls publish everything), so
	 * ours is the entry at the published tail of this vCPU's queue. */
	struct vs_queue *q = (struct vs_queue *)(uintptr_t)(boot_info->ring_gpa +
							    (uint64_t)cpu_index() * VS_QUEUE_BYTES);
	uint32_t tail = __atomic_load_n(&q->ctrl.sq_tail, __ATOMIC_ACQUIRE);
	struct vs_sqe *sqe = &q->sq[tail & (VS_SQ_ENTRIES - 1)];
	int handle = vs_fd_handle(fd); /* the host's handle behind the descriptor */
	if (sqe->opcode != (send_op ? VS_OP_SEND : VS_OP_RECV) || sqe->handle != (uint32_t)handle ||
	    sqe->len != sizeof(good)) {
		printf("%s: cannot find the prepared entry in the ring (library changed?)\n", PROG);
		errno = EPROTO;
		return -1;
	}
	sqe->addr = addr;
	sqe->len = len;

	struct vs_completion c;
	r = vs_wait(1, RAW_WAIT_MS);
	if (r < 0) {
		printf("%s: no completion for the rewritten request within %d ms\n", PROG,
		       RAW_WAIT_MS);
		errno = -r;
		return -1;
	}
	if (vs_reap(&c, 1) != 1 || c.user_data != tag) {
		errno = EPROTO;
		return -1;
	}
	if (c.result < 0) {
		errno = -c.result;
		return -1;
	}
	return c.result;
}

/* Round trip a few bytes c -> s -> c: the connection (and the VM) still work. */
static void round_trip(const char *name, int c, int s)
{
	char buf[8];
	long r = net_send_all(c, "ping", 4);
	if (r >= 0)
		r = net_recv_full(s, buf, 4);
	if (r == 4 && memcmp(buf, "ping", 4))
		r = -1, errno = EBADMSG;
	if (r == 4)
		r = net_send_all(s, "pong", 4);
	if (r >= 0)
		r = net_recv_full(c, buf, 4);
	if (r == 4 && memcmp(buf, "pong", 4))
		r = -1, errno = EBADMSG;
	if (r >= 0 && r != 4)
		r = -1, errno = ECONNRESET;
	expect(name, r, 0, 0);
}

static int net_errors_main(int argc, char **argv)
{
	struct sockaddr_in sin;
	char buf[256];
	int c, s, fd;

	if (argc != 1)
		return net_usage(argv[0], "\n  (no arguments: every case is self-contained)");

	/* Refused: a port nobody listens on. */
	if (closed_port(&sin)) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		expect("connect to a closed port",
		       connect(fd, (struct sockaddr *)&sin, sizeof(sin)), ECONNREFUSED, 0);
		close(fd);
	}

	/* Handles the host never gave out, or took back. */
	expect("send on an unknown handle", send(NO_SUCH_HANDLE, "x", 1, 0), EBADF, 0);
	expect("recv on an unknown handle", recv(NO_SUCH_HANDLE, buf, 1, 0), EBADF, 0);
	expect("close an unknown handle", close(NO_SUCH_HANDLE), EBADF, 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	expect("close a new socket", close(fd), 0, 0);
	expect("send on a closed handle", send(fd, "x", 1, 0), EBADF, 0);
	expect("close it again", close(fd), EBADF, 0);

	/* Bad buffer addresses, written into the entry by hand. */
	if (!make_pair(&c, &s))
		goto out;
	uint64_t ram = boot_info->ram_bytes;
	expect("send from beyond guest RAM", raw_io(true, c, ram + (1ull << 30), 64), EFAULT, 0);
	expect("send across the end of guest RAM", raw_io(true, c, ram - 16, 64), EFAULT, 0);
	expect("send with address + length overflowing", raw_io(true, c, UINT64_MAX - 15, 64),
	       EFAULT, 0);
	expect("send from the ring slot (not RAM)", raw_io(true, c, boot_info->ring_gpa, 64),
	       EFAULT, 0);
	if (net_send_all(s, "data", 4) < 0)
		fail_setup("send data to receive into a bad buffer");
	expect("recv into beyond guest RAM", raw_io(false, c, ram + (1ull << 30), 64), EFAULT, 0);
	expect("recv into the ring slot", raw_io(false, c, boot_info->ring_gpa, 64), EFAULT, 0);
	/* The data the refused receives were for is still there, unharmed. */
	long r = net_recv_full(c, buf, 4);
	if (r == 4 && memcmp(buf, "data", 4))
		r = -1, errno = EBADMSG;
	expect("the data is still there after them", r == 4 ? 0 : -1, 0, 0);
	round_trip("the connection still works", c, s);

	/* The peer resets: it closes with unread data, so its kernel sends RST. */
	if (net_send_all(c, "unread", 6) < 0)
		fail_setup("send data the peer will not read");
	mdelay(20); /* let it land in the peer's receive queue before the close */
	close(s);
	expect("recv after the peer reset", recv(c, buf, sizeof(buf), 0), ECONNRESET, 0);
	expect("send after the peer reset", send(c, "x", 1, 0), EPIPE, ECONNRESET);
	close(c);

	/* The peer closes cleanly: EOF, then sends fail once its RST comes back. */
	if (!make_pair(&c, &s))
		goto out;
	close(s);
	expect("recv after the peer closed (EOF)", recv(c, buf, sizeof(buf), 0) == 0 ? 0 : -1,
	       0, 0);
	r = 0;
	for (int i = 0; i < 200 && r >= 0; i++) {
		r = send(c, buf, sizeof(buf), 0);
		if (r >= 0)
			mdelay(5);
	}
	expect("send after the peer closed", r, EPIPE, ECONNRESET);
	close(c);

	/* After all that, the transport is fine. */
	if (!make_pair(&c, &s))
		goto out;
	round_trip("a new connection works", c, s);
	close(c);
	close(s);
out:
	if (failures) {
		printf("%s: %u of %u cases FAILED\n", PROG, failures, cases);
		return NET_EXIT_FAIL;
	}
	printf("%s: %u cases, all ok\n", PROG, cases);
	return 0;
}
GUEST_PROGRAM("net-errors", net_errors_main, "",
	      "provoke socket errors (refused, reset, EBADF, EFAULT), check each errno");

/* ---- hold-open ---------------------------------------------------------------- */

static const char hold_open_usage[] =
	"HOST PORT COUNT\n"
	"  open COUNT connections to HOST:PORT (say hello on each), a listener, and a\n"
	"  pending receive on every connection and accept on the listener, then exit\n"
	"  without closing anything: the VMM must clean up.";

static int hold_open_main(int argc, char **argv)
{
	const char *prog = argv[0];
	uint64_t count;

	if (argc != 4 || !net_parse_size(argv[3], &count) || count == 0 || count > 200)
		return net_usage(prog, hold_open_usage);
	static uint8_t bufs[200][16];
	for (uint64_t i = 0; i < count; i++) {
		char hello[32];
		int fd = net_connect_tcp(prog, argv[1], argv[2]);
		if (fd < 0)
			return NET_EXIT_FAIL;
		int n = snprintf(hello, sizeof(hello), "hold-open %lu\n", i);
		if (net_send_all(fd, hello, (size_t)n) < 0) {
			net_perror(prog, "send");
			return NET_EXIT_FAIL;
		}
		int r = vs_prep_recv(fd, bufs[i], sizeof(bufs[i]), 0, i);
		if (r < 0) {
			errno = -r;
			net_perror(prog, "vs_prep_recv");
			return NET_EXIT_FAIL;
		}
	}
	int lfd = net_listen_tcp(prog, 0, 4);
	if (lfd < 0)
		return NET_EXIT_FAIL;
	int r = vs_prep_accept(lfd, NULL, count);
	if (r >= 0)
		r = vs_flush();
	if (r < 0) {
		errno = -r;
		net_perror(prog, "accept/flush");
		return NET_EXIT_FAIL;
	}
	/* Give the host time to take them in and park them. */
	mdelay(50);
	printf("%s: %lu connections and a listener open, %u requests pending; exiting\n", prog,
	       count, vs_inflight());
	return 0;
}
GUEST_PROGRAM("hold-open", hold_open_main, "HOST PORT COUNT",
	      "exit with connections, a listener and requests still open");
