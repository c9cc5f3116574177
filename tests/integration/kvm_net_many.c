/* SPDX-License-Identifier: MIT */
/*
 * Many connections: the guest's httpd (bench/httpd.c over guest-lib's epoll) holds
 * 2,000 connections from one host client at once, answers a request on every one
 * byte-exact, then a second on each (keep-alive) that closes it; afterwards the
 * vmm's and its hostnet worker process's open files are back to their count
 * before the first connection, and the server says it served every request.
 */
#include "net_peers.h" /* first: it defines _GNU_SOURCE */

#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "harness.h"
#include "virtsocket/abi.h"

#define CONNS 2000
#define PAGE  "many%20connections,%20one%20epoll%20set"
#define BODY  "many connections, one epoll set\n"

TestSuite(kvm_net_many, .timeout = 290);

static const char keep_response[] =
	"HTTP/1.1 200 OK\r\nServer: virtsocket-httpd\r\n"
	"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 32\r\n\r\n" BODY;
static const char close_response[] =
	"HTTP/1.0 200 OK\r\nServer: virtsocket-httpd\r\n"
	"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 32\r\n"
	"Connection: close\r\n\r\n" BODY;

static int connect_to(unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	struct timeval tv = { .tv_sec = 120 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	return fd;
}

static void send_request(int fd, unsigned i, bool close_it)
{
	char req[128];
	int n = snprintf(req, sizeof(req), "GET /%u HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", i,
			 close_it ? "Connection: close\r\n" : "");
	cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n, "request %u: %s", i,
		     strerror(errno));
}

static struct np_proc *server; /* for its last words when a check fails */

static const char *server_said(void)
{
	np_pump(server);
	return server->out_len > 1500 ? server->out + server->out_len - 1500 : server->out;
}

/* Exactly want (and with at_eof, then the end of the stream). */
static void expect_response(int fd, unsigned i, const char *want, bool at_eof)
{
	size_t len = strlen(want), got = 0;
	char buf[512];
	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);
		cr_assert_gt(n, 0, "connection %u: %zd after %zu of %zu bytes (%s); httpd said:\n%s",
			     i, n, got, len, n < 0 ? strerror(errno) : "EOF", server_said());
		got += (size_t)n;
	}
	cr_assert_eq(memcmp(buf, want, len), 0, "connection %u: response differs:\n%.*s", i,
		     (int)len, buf);
	if (at_eof)
		cr_assert_eq(recv(fd, buf, 1, 0), 0, "connection %u: bytes after the response", i);
}

/* Wait until pid's open files are back to base (lingering closes finish once both
 * ends closed); the last count seen. */
static int settle_fds(pid_t pid, int base)
{
	int n = -1;
	for (int tries = 0; tries < 300; tries++) {
		n = np_open_fds(pid);
		if (n == base)
			break;
		np_sleep_ms(100);
	}
	return n;
}

Test(kvm_net_many, guest_httpd_holds_2000_connections_byte_exact_then_frees_them)
{
	struct rlimit r;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
	if (r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	cr_assert_geq(r.rlim_cur, CONNS + 64, "this test needs %d open files", CONNS + 64);

	struct np_proc vmm;
	server = &vmm;
	char max_requests[16];
	snprintf(max_requests, sizeof(max_requests), "%d", 2 * CONNS + 1);
	/* Places: the connections, a full backlog (its places are reserved) and spare. */
	cr_assert_eq(np_vmm_start(&vmm, 280, "--max-sockets", "8192", "--max-backlog", "4096",
				  vs_guest_img(), "--", "httpd", "--keep-alive", "0", PAGE,
				  max_requests, NULL), 0);
	cr_assert(np_wait_output(&vmm, "listening on 127.0.0.1:", 120),
		  "httpd never listened; it said:\n%s", vmm.out);
	unsigned port = np_listening_port(&vmm);
	pid_t worker = np_first_child(vmm.pid);
	cr_assert_gt(worker, 0, "no hostnet worker process");
	int base_vmm = np_open_fds(vmm.pid), base_worker = np_open_fds(worker);
	cr_assert_gt(base_vmm, 0);
	cr_assert_gt(base_worker, 0);

	static int fd[CONNS];
	for (unsigned i = 0; i < CONNS; i++)
		fd[i] = connect_to(port);
	/* All 2,000 open at once: a request on each, then every answer. */
	for (unsigned i = 0; i < CONNS; i++)
		send_request(fd[i], i, false);
	for (unsigned i = 0; i < CONNS; i++)
		expect_response(fd[i], i, keep_response, false);
	int held = np_open_fds(worker);
	cr_assert_geq(held, base_worker + CONNS, "the worker holds %d files for %d connections",
		      held, CONNS);
	/* The same connections again (keep-alive), this time closing them. */
	for (unsigned i = 0; i < CONNS; i++)
		send_request(fd[i], i, true);
	for (unsigned i = 0; i < CONNS; i++) {
		expect_response(fd[i], i, close_response, true);
		close(fd[i]);
	}

	int now_worker = settle_fds(worker, base_worker);
	cr_assert_eq(now_worker, base_worker, "hostnet's worker process: %d open files, %d before",
		     now_worker, base_worker);
	int now_vmm = settle_fds(vmm.pid, base_vmm);
	cr_assert_eq(now_vmm, base_vmm, "the vmm: %d open files, %d before", now_vmm, base_vmm);

	/* One more request ends the server, which counts what it served. */
	int last = connect_to(port);
	send_request(last, CONNS, true);
	expect_response(last, CONNS, close_response, true);
	close(last);
	cr_assert(np_wait_exit(&vmm, 120), "httpd did not exit after its last request");
	fprintf(stderr, "---- httpd said:\n%s", vmm.out);
	cr_assert_eq(vmm.status, 0, "vmm exit status %d", vmm.status);
	char expect[96];
	snprintf(expect, sizeof(expect), "httpd: %d responses, 0 connections without one",
		 2 * CONNS + 1);
	cr_assert_not_null(strstr(vmm.out, expect), "expected '%s'", expect);
	np_proc_free(&vmm);
}

/* Where the host's hard limit on open files is below what --max-sockets needs and the
 * vmm may not raise it (no CAP_SYS_RESOURCE), it stops before the guest runs with a
 * line that names the limit, the figures and the ways out. */
Test(kvm_net_many, max_sockets_beyond_the_hard_file_limit_is_refused_with_what_to_do)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "exec prlimit --nofile=512:512 setpriv --bounding-set=-sys_resource "
		 "--inh-caps=-sys_resource '%s' --timeout 60 --max-sockets 4000 '%s' -- exit 0 2>&1",
		 vs_vmm_path(), vs_guest_img());
	struct np_proc p;
	cr_assert_eq(np_start(&p, true, NULL, "sh", "-c", cmd, NULL), 0);
	cr_assert(np_wait_exit(&p, 120), "the vmm did not stop");
	fprintf(stderr, "---- the vmm said:\n%s", p.out);
	cr_assert_eq(p.status, VS_EXIT_VMM_ERROR, "exit status %d", p.status);
	cr_assert_not_null(strstr(p.out, "--max-sockets 4000 needs RLIMIT_NOFILE"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "the hard limit is 512"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "lower --max-sockets"), "%s", p.out);
	np_proc_free(&p);
}
