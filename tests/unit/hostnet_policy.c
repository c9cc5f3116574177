/* SPDX-License-Identifier: MIT */
/* Egress policy: rule parsing, matching, and what a guest sees (-EACCES). */
#include "hostnet_guest.h"
#include "policy.h"

static struct sockaddr_storage v4(const char *a, uint16_t port, socklen_t *len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, a, &s->sin_addr), 1, "%s", a);
	*len = sizeof(*s);
	return ss;
}

static struct sockaddr_storage v6(const char *a, uint16_t port, socklen_t *len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET6, a, &s->sin6_addr), 1, "%s", a);
	*len = sizeof(*s);
	return ss;
}

static bool peer(const struct hostnet_policy *p, bool six, const char *a, uint16_t port)
{
	socklen_t len;
	struct sockaddr_storage ss = six ? v6(a, port, &len) : v4(a, port, &len);
	return hostnet_policy_allows_peer(p, (struct sockaddr *)&ss, len);
}

static bool local(const struct hostnet_policy *p, bool six, const char *a)
{
	socklen_t len;
	struct sockaddr_storage ss = six ? v6(a, 0, &len) : v4(a, 0, &len);
	return hostnet_policy_allows_local(p, (struct sockaddr *)&ss, len);
}

static struct hostnet_policy policy_of(const char *const *rules)
{
	struct hostnet_policy p;
	memset(&p, 0, sizeof(p));
	char msg[256];
	for (; *rules; rules++)
		cr_assert_eq(hostnet_policy_add(&p, *rules, msg, sizeof(msg)), 0, "%s: %s", *rules,
			     msg);
	return p;
}

Test(policy, good_rules_parse, .timeout = 10)
{
	struct hostnet_rule r;
	char msg[256];
	cr_assert_eq(hostnet_rule_parse("10.1.2.3", &r, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(r.family, 4);
	cr_assert_eq(r.prefix, 32);
	cr_assert_eq(r.port_lo, 0);
	cr_assert_eq(r.port_hi, 65535);

	cr_assert_eq(hostnet_rule_parse("10.1.2.3/8:80-443", &r, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(r.prefix, 8);
	cr_assert_eq(r.addr[0], 10);
	cr_assert_eq(r.addr[1], 0, "host bits are masked off");
	cr_assert_eq(r.port_lo, 80);
	cr_assert_eq(r.port_hi, 443);

	cr_assert_eq(hostnet_rule_parse("[::1]:22", &r, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(r.family, 6);
	cr_assert_eq(r.prefix, 128);
	cr_assert_eq(r.port_lo, 22);
	cr_assert_eq(r.port_hi, 22);

	cr_assert_eq(hostnet_rule_parse("[fd00::]/8:53", &r, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(r.prefix, 8);
	cr_assert_eq(hostnet_rule_parse("fd00::/16", &r, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(r.family, 6);
	cr_assert_eq(hostnet_rule_parse("0.0.0.0/0", &r, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(r.prefix, 0);
	cr_assert_eq(hostnet_rule_parse("127.0.0.1:0-65535", &r, msg, sizeof(msg)), 0, "%s", msg);
}

Test(policy, bad_rules_fail_with_a_message, .timeout = 10)
{
	static const char *const bad[] = {
		"", "10.0.0", "10.0.0.256", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1:",
		"10.0.0.1:65536", "10.0.0.1:90-80", "10.0.0.1:80-", "10.0.0.1 ", "x.y.z.w",
		"[::1", "[::1]/129", "::1:22x", "fd00::1/8:53", "[10.0.0.1]", "10.0.0.1/8/8",
		"[::1]:-1", "10.0.0.1:+80", "10.0.0.1/-1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hostnet_rule r;
		char msg[256] = "";
		cr_assert_eq(hostnet_rule_parse(bad[i], &r, msg, sizeof(msg)), -EINVAL,
			     "'%s' parsed", bad[i]);
		cr_assert(msg[0], "no message for '%s'", bad[i]);
	}
}

Test(policy, too_many_rules, .timeout = 10)
{
	struct hostnet_policy p;
	memset(&p, 0, sizeof(p));
	for (unsigned i = 0; i < HOSTNET_POLICY_MAX_RULES; i++)
		cr_assert_eq(hostnet_policy_add(&p, "10.0.0.1", NULL, 0), 0);
	cr_assert_eq(hostnet_policy_add(&p, "10.0.0.1", NULL, 0), -ENOSPC);
	cr_assert_eq(hostnet_policy_add(&p, "nonsense", NULL, 0), -ENOSPC);
}

Test(policy, default_is_loopback_only, .timeout = 10)
{
	struct hostnet_policy p;
	memset(&p, 0, sizeof(p));
	cr_assert(peer(&p, false, "127.0.0.1", 80));
	cr_assert(peer(&p, false, "127.255.1.2", 1));
	cr_assert(peer(&p, true, "::1", 443));
	cr_assert(peer(&p, true, "::ffff:127.0.0.1", 443), "v4-mapped loopback");
	cr_assert_not(peer(&p, false, "10.0.0.1", 80));
	/* Unspecified destinations reach loopback: judged as it. */
	cr_assert(peer(&p, false, "0.0.0.0", 80));
	cr_assert(peer(&p, true, "::", 80));
	/* ...but not the rest of 0.0.0.0/8: Linux routes 0.0.255.1 by the
	 * default route (found by fuzz_requests, seed connect-zeronet) */
	cr_assert_not(peer(&p, false, "0.0.255.1", 1));
	cr_assert_not(peer(&p, false, "0.1.2.3", 80));
	cr_assert_not(peer(&p, true, "::ffff:0.0.255.1", 1), "v4-mapped, judged as 0.0.255.1");
	cr_assert_not(peer(&p, false, "128.0.0.1", 80));
	cr_assert_not(peer(&p, true, "::100:2", 80), "IPv4-compatible: judged as 1.0.0.2");
	cr_assert_not(peer(&p, true, "::ffff:10.0.0.1", 80), "v4-mapped is judged as IPv4");
	cr_assert_not(peer(&p, true, "2001:db8::1", 80));
}

Test(policy, prefixes_and_port_ranges, .timeout = 10)
{
	static const char *const rules[] = { "10.0.0.0/8:80-443", "192.168.1.5",
					     "[fd00::]/8:53", "172.16.0.0/12:22", NULL };
	struct hostnet_policy p = policy_of(rules);
	cr_assert(peer(&p, false, "10.200.3.4", 80));
	cr_assert(peer(&p, false, "10.200.3.4", 443));
	cr_assert_not(peer(&p, false, "10.200.3.4", 79));
	cr_assert_not(peer(&p, false, "10.200.3.4", 444));
	cr_assert_not(peer(&p, false, "11.0.0.1", 80));
	cr_assert(peer(&p, false, "192.168.1.5", 1));
	cr_assert_not(peer(&p, false, "192.168.1.6", 1));
	cr_assert(peer(&p, false, "172.31.255.255", 22));
	cr_assert_not(peer(&p, false, "172.32.0.0", 22));
	cr_assert(peer(&p, true, "fdff::1", 53));
	cr_assert_not(peer(&p, true, "fdff::1", 54));
	cr_assert_not(peer(&p, true, "fe00::1", 53));
	cr_assert(peer(&p, true, "::ffff:10.1.1.1", 80), "v4-mapped matches the IPv4 rule");
	cr_assert_not(peer(&p, false, "127.0.0.1", 80), "rules replace the loopback default");
}

Test(policy, narrow_loopback_to_one_port, .timeout = 10)
{
	static const char *const rules[] = { "127.0.0.1:7000", NULL };
	struct hostnet_policy p = policy_of(rules);
	cr_assert(peer(&p, false, "127.0.0.1", 7000));
	cr_assert_not(peer(&p, false, "127.0.0.1", 7001));
	cr_assert_not(peer(&p, false, "127.0.0.2", 7000));
	cr_assert_not(peer(&p, true, "::1", 7000));
}

Test(policy, local_addresses, .timeout = 10)
{
	struct hostnet_policy p;
	memset(&p, 0, sizeof(p));
	cr_assert(local(&p, false, "127.0.0.1"));
	cr_assert(local(&p, true, "::1"));
	cr_assert_not(local(&p, false, "0.0.0.0"));
	cr_assert_not(local(&p, true, "::"));
	cr_assert_not(local(&p, false, "10.0.0.1"));
	p.listen_any = true;
	cr_assert(local(&p, false, "0.0.0.0"));
	cr_assert(local(&p, true, "::"));
}

Test(policy, unknown_family_is_denied, .timeout = 10)
{
	struct hostnet_policy p;
	memset(&p, 0, sizeof(p));
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	cr_assert_not(hostnet_policy_allows_peer(&p, (struct sockaddr *)&ss, sizeof(ss)));
	p.listen_any = true;
	cr_assert_not(hostnet_policy_allows_local(&p, (struct sockaddr *)&ss, sizeof(ss)));
	socklen_t len;
	ss = v4("127.0.0.1", 1, &len);
	cr_assert_not(hostnet_policy_allows_peer(&p, (struct sockaddr *)&ss, 4), "short length");
}

/* The backlog of the TCP listener on 127.0.0.1:port, read back from the kernel
 * (`ss`, i.e. sock_diag: Send-Q of a listening socket is its backlog). */
static long listen_backlog(uint16_t port)
{
	char cmd[96], line[256], state[32];
	snprintf(cmd, sizeof(cmd), "ss -Hltn 'sport = :%u' 2>&1", port);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	long recvq = -1, sendq = -1;
	int lines = 0;
	while (fgets(line, sizeof(line), f)) {
		lines++;
		cr_assert_eq(sscanf(line, "%31s %ld %ld", state, &recvq, &sendq), 3, "ss said: %s",
			     line);
	}
	cr_assert_eq(pclose(f), 0, "ss failed");
	cr_assert_eq(lines, 1, "ss found %d listeners on port %u", lines, port);
	return sendq;
}

/* Through the rings: what the guest gets back. */
static int32_t sa_op(struct tg_vm *vm, struct tg_queue *g, uint8_t op, uint32_t h,
		     const char *a, uint16_t port, uint32_t *flags)
{
	struct vs_sqe *e = tg_prep(g, op, h);
	e->u.addr.family = VS_AF_INET;
	e->u.addr.port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, a, e->u.addr.addr), 1);
	return tg_run(vm, g, e, flags);
}

Test(policy, guest_sees_eacces, .timeout = 20)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	cr_assert_gt(h, 0);
	uint32_t flags = 0xff;
	cr_assert_eq(sa_op(&vm, g, VS_OP_CONNECT, (uint32_t)h, "10.255.255.1", 80, &flags), -EACCES);
	cr_assert_eq(flags, 0, "a denial is not a malformed request");
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)h, "0.0.0.0", 0, NULL), -EACCES);
	/* An unbound socket would listen on the wildcard address. */
	struct vs_sqe *e = tg_prep(g, VS_OP_LISTEN, (uint32_t)h);
	e->op_flags = 4;
	cr_assert_eq(tg_run(&vm, g, e, NULL), -EACCES);
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)h, "127.0.0.1", 0, NULL), 0);
	e = tg_prep(g, VS_OP_LISTEN, (uint32_t)h);
	e->op_flags = 65535; /* clamped to max_backlog, not refused */
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	/* The clamp as the kernel has it: a listener's Send-Q in ss is its backlog
	 * (unclamped it would be min(65535, somaxconn) = 4096 by default). */
	uint64_t name = tg_alloc(&vm, sizeof(struct vs_sockaddr));
	cr_assert_eq(tg_io(&vm, g, VS_OP_GETSOCKNAME, (uint32_t)h, name, 0, 0), 0);
	uint16_t lport = ntohs(((struct vs_sockaddr *)tg_ptr(&vm, name))->port);
	cr_assert_eq(listen_backlog(lport), (long)HOSTNET_DEFAULT_MAX_BACKLOG);

	int32_t u = tg_socket(&vm, g, VS_SOCK_DGRAM);
	cr_assert_gt(u, 0);
	uint64_t buf = tg_alloc(&vm, 64);
	e = tg_prep(g, VS_OP_SENDTO, (uint32_t)u);
	e->addr = buf;
	e->len = 8;
	e->u.addr.family = VS_AF_INET;
	e->u.addr.port = htons(53);
	e->u.addr.addr[0] = 8;
	e->u.addr.addr[3] = 8;
	cr_assert_eq(tg_run(&vm, g, e, NULL), -EACCES);

	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.denied, 4);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)u), 0);
	tg_vm_fini(&vm);
}

/* "One line, at most one a second, with a count of the ones not shown" (README),
 * on a clock the test sets: stderr goes to a file meanwhile. */
static char *deny_log_lines(const uint64_t *at_ms, size_t n)
{
	struct hn_deny_log l;
	hn_deny_log_init(&l);
	socklen_t len;
	struct sockaddr_storage ss = v4("10.1.2.3", 80, &len);
	char path[] = "/tmp/vs-deny-log-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	for (size_t i = 0; i < n; i++)
		hn_deny_log_note(&l, "CONNECT", (struct sockaddr *)&ss, len, at_ms[i] * 1000000ull);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	static char text[4096];
	ssize_t k = pread(fd, text, sizeof(text) - 1, 0);
	text[k > 0 ? k : 0] = '\0';
	close(fd);
	hn_deny_log_destroy(&l);
	return text;
}

Test(policy, denials_log_one_line_a_second_with_a_count)
{
	/* 1 line at 1 s; 3 more within that second; a line at 2.0 s that counts
	 * them; one more at 2.5 s; the next line, at 3.6 s, counts that one. */
	static const uint64_t at_ms[] = { 1000, 1100, 1500, 1999, 2000, 2500, 3600 };
	char *text = deny_log_lines(at_ms, sizeof(at_ms) / sizeof(at_ms[0]));
	const char *want[] = {
		"hostnet: denied guest CONNECT 10.1.2.3:80 by the egress policy (allow it with "
		"--allow / --listen-any / --bind-ports)\n",
		"hostnet: denied guest CONNECT 10.1.2.3:80 by the egress policy (allow it with "
		"--allow / --listen-any / --bind-ports); 3 more denials not shown\n",
		"hostnet: denied guest CONNECT 10.1.2.3:80 by the egress policy (allow it with "
		"--allow / --listen-any / --bind-ports); 1 more denials not shown\n",
	};
	const char *p = text;
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(strncmp(p, want[i], strlen(want[i])), 0, "line %zu: want\n%s\ngot:\n%s",
			     i + 1, want[i], text);
		p += strlen(want[i]);
	}
	cr_assert_str_eq(p, "", "more than three lines:\n%s", text);
}
