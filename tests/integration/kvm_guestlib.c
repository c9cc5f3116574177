/* SPDX-License-Identifier: MIT */
/*
 * libvirtsocket inside a real VM (full KVM: hardware, or the sandbox): the
 * guest's net-echo program against socat echo servers on the host's
 * loopback, in each notify mode, both copy modes and both doorbells, with
 * the doorbell counts the guest library reports.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "peer_child.h"

static pid_t peers[2];
static char tcp_port[8], udp_port[8];

static uint16_t free_port(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* socat in its own process group (it forks per connection). */
static pid_t spawn_socat(const char *listen)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		execlp("socat", "socat", "-T", "120", listen, "PIPE", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

static void wait_tcp(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < 500; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
		close(fd);
		if (r == 0)
			return;
		usleep(10000);
	}
	cr_assert_fail("socat TCP echo on %u did not come up", port);
}

static void wait_udp(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	for (int i = 0; i < 100; i++) {
		char buf[8];
		sendto(fd, "probe", 5, 0, (struct sockaddr *)&a, sizeof(a));
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) == 1 && recv(fd, buf, sizeof(buf), 0) == 5) {
			close(fd);
			return;
		}
	}
	close(fd);
	cr_assert_fail("socat UDP echo on %u did not answer", port);
}

static void setup(void)
{
	struct stat st;
	cr_assert_eq(stat(vs_vmm_path(), &st), 0, "no vmm at %s", vs_vmm_path());
	cr_assert_eq(stat(vs_guest_img(), &st), 0, "no guest image at %s", vs_guest_img());
	/* Not a skip: running these on PVM is a mistake of the runner. */
	cr_assert(!vs_host_is_pvm(), "kvm_guestlib needs full KVM; on PVM hosts run it in the "
		  "sandbox: scripts/kvm-sandbox -- ctest -L kvm ...");
	uint16_t tp = free_port(SOCK_STREAM), up = free_port(SOCK_DGRAM);
	char listen[96];
	snprintf(listen, sizeof(listen), "TCP4-LISTEN:%u,bind=127.0.0.1,reuseaddr,fork", tp);
	peers[0] = spawn_socat(listen);
	/* RECVFROM, not LISTEN: a forking UDP-LISTEN hands its socket, connected to
	 * the first peer (the readiness probe), to the child and binds a new one;
	 * a new peer's datagram in between is refused and lost, and the test then
	 * waits for its echo for ever (about 4 in 100 tries right after a probe).
	 * UDP-RECVFROM keeps one socket bound and forks per datagram. */
	snprintf(listen, sizeof(listen), "UDP4-RECVFROM:%u,bind=127.0.0.1,reuseaddr,fork", up);
	peers[1] = spawn_socat(listen);
	wait_tcp(tp);
	wait_udp(up);
	snprintf(tcp_port, sizeof(tcp_port), "%u", tp);
	snprintf(udp_port, sizeof(udp_port), "%u", up);
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++) {
		peer_stop(peers[i], PEER_STOP_GRACE_MS);
	}
}

TestSuite(kvm_guestlib, .init = setup, .fini = teardown, .timeout = 300);

/* The numbers net-echo prints after "key " in its output. */
static unsigned long long counter(const struct vs_result *r, const char *key)
{
	const char *p = strstr(r->out, key);
	cr_assert_not_null(p, "no '%s' in the guest's output", key);
	return strtoull(p + strlen(key), NULL, 10);
}

static void expect_ok(const struct vs_result *r, const char *what)
{
	vs_result_dump(r, what);
	cr_assert_eq(r->status, 0, "%s: exit %d", what, r->status);
	cr_assert_not_null(strstr(r->out, "bytes echoed over"), "%s: no echo summary", what);
}

/* notify=every: one doorbell per request, each a SUBMIT. */
Test(kvm_guestlib, every_rings_once_per_request)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 120, "--notify=every", vs_guest_img(), "--", "net-echo",
			    "127.0.0.1", tcp_port, "20", "500", NULL), 0);
	expect_ok(&r, "net-echo, notify=every");
	unsigned long long reqs = counter(&r, "requests "), db = counter(&r, "doorbells ");
	cr_assert_gt(reqs, 40);
	cr_assert_eq(db, reqs, "every: %llu doorbells for %llu requests", db, reqs);
	cr_assert_eq(counter(&r, "(submit "), reqs);
	vs_result_free(&r);
}

/* notify=batch, batch 8: 64 asynchronous sends cost 8 SUBMIT doorbells. */
Test(kvm_guestlib, batch_rings_once_per_batch)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 120, "--notify=batch", "--batch", "8", vs_guest_img(), "--",
			    "net-echo", "-b", "127.0.0.1", tcp_port, "64", "100", NULL), 0);
	expect_ok(&r, "net-echo -b, notify=batch");
	cr_assert_eq(counter(&r, "send-phase: requests "), 64);
	cr_assert_eq(counter(&r, "submit-doorbells "), 8);
	vs_result_free(&r);
}

/* notify=adaptive with a host that keeps polling: most batches need no
 * doorbell at all. */
Test(kvm_guestlib, adaptive_skips_doorbells_while_host_polls)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 120, "--notify=adaptive", "--batch", "8", "--poll-us", "200000",
			    vs_guest_img(), "--", "net-echo", "-b", "127.0.0.1", tcp_port, "64",
			    "100", NULL), 0);
	expect_ok(&r, "net-echo -b, notify=adaptive");
	cr_assert_eq(counter(&r, "send-phase: requests "), 64);
	unsigned long long rung = counter(&r, "submit-doorbells ");
	cr_assert_lt(rung, 4, "adaptive rang %llu SUBMIT doorbells for 8 batches", rung);
	cr_assert_gt(counter(&r, "skipped "), 0);
	vs_result_free(&r);
}

/* copy=bounce: every payload byte goes through the bounce area both ways. */
Test(kvm_guestlib, bounce_copies_every_byte)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 120, "--copy=bounce", vs_guest_img(), "--", "net-echo",
			    "127.0.0.1", tcp_port, "5", "200000", NULL), 0);
	expect_ok(&r, "net-echo, copy=bounce");
	cr_assert_eq(counter(&r, "bounce-bytes "), 2ull * 5 * 200000);
	vs_result_free(&r);
}

Test(kvm_guestlib, udp_echo)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 120, vs_guest_img(), "--", "net-echo", "-u", "127.0.0.1",
			    udp_port, "20", "1400", NULL), 0);
	expect_ok(&r, "net-echo -u");
	vs_result_free(&r);
}

/* The port-I/O doorbell carries the same protocol on full KVM too. */
Test(kvm_guestlib, pio_doorbell)
{
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 120, "--stats", "--doorbell=pio", "--notify=batch", vs_guest_img(),
			    "--", "net-echo", "127.0.0.1", tcp_port, "10", "3000", NULL), 0);
	expect_ok(&r, "net-echo, doorbell=pio");
	/* port I/O really carried the doorbells (auto would pick the hypercall here) */
	cr_assert_gt(vs_stat(&r, "pio doorbells"), 0, "no port-I/O doorbell counted");
	cr_assert_eq(vs_stat(&r, "hypercall doorbells"), 0, "a hypercall doorbell with --doorbell=pio");
	cr_assert_eq(vs_stat(&r, "doorbells"), vs_stat(&r, "pio doorbells"),
		     "hostnet's doorbells are the port-I/O ones");
	vs_result_free(&r);
}

/* Nothing listening: the guest program reports the refusal and fails. */
Test(kvm_guestlib, connection_refused)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", free_port(SOCK_STREAM));
	struct vs_result r;
	cr_assert_eq(vs_vmm(&r, 120, vs_guest_img(), "--", "net-echo", "127.0.0.1", port, NULL),
		     0);
	vs_result_dump(&r, "net-echo to a closed port");
	cr_assert_eq(r.status, 1); /* NET_EXIT_FAIL (netprog.h); 2 would be a usage error */
	cr_assert_not_null(strstr(r.out, "connect to 127.0.0.1"));
	vs_result_free(&r);
}
