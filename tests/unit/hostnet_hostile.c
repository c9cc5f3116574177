/* SPDX-License-Identifier: MIT */
/*
 * A hostile guest through the rings (issue 12): handles that must never come
 * back, ports it must not share or squat, destinations that reach loopback
 * in disguise, socket options that are refused, and a queue broken while a
 * completion is being posted.
 */
#include "hostnet_guest.h"

#include <netinet/tcp.h>
#include <poll.h>

#include "handle_table.h"
#include "policy.h"
#include "sock.h"

/* CONNECT / BIND / SENDTO to an address given as text (IPv4 or IPv6). */
static int32_t sa_op(struct tg_vm *vm, struct tg_queue *g, uint8_t op, uint32_t h,
		     const char *addr, uint16_t port)
{
	struct vs_sqe *e = tg_prep(g, op, h);
	bool six = strchr(addr, ':') != NULL;
	e->u.addr.family = six ? VS_AF_INET6 : VS_AF_INET;
	e->u.addr.port = htons(port);
	cr_assert_eq(inet_pton(six ? AF_INET6 : AF_INET, addr, e->u.addr.addr), 1, "%s", addr);
	return tg_run(vm, g, e, NULL);
}

static int32_t socket_of(struct tg_vm *vm, struct tg_queue *g, uint32_t domain, uint32_t type)
{
	struct vs_sqe *e = tg_prep(g, VS_OP_SOCKET, 0);
	e->op_flags = domain << 16 | type;
	int32_t h = tg_run(vm, g, e, NULL);
	cr_assert_gt(h, 0, "SOCKET: %d", h);
	return h;
}

static int32_t setopt(struct tg_vm *vm, struct tg_queue *g, uint32_t h, uint32_t level,
		      uint32_t name, int64_t value)
{
	struct vs_sqe *e = tg_prep(g, VS_OP_SETSOCKOPT, h);
	e->u.opt.level = level;
	e->u.opt.name = name;
	e->u.opt.value = value;
	return tg_run(vm, g, e, NULL);
}

static void set_policy(const char *const *allow, const char *const *bind_ports)
{
	char msg[256];
	memset(&tg_policy, 0, sizeof(tg_policy));
	for (; allow && *allow; allow++)
		cr_assert_eq(hostnet_policy_add(&tg_policy, *allow, msg, sizeof(msg)), 0, "%s: %s",
			     *allow, msg);
	for (; bind_ports && *bind_ports; bind_ports++)
		cr_assert_eq(hostnet_policy_add_bind_ports(&tg_policy, *bind_ports, msg,
							   sizeof(msg)), 0, "%s: %s", *bind_ports, msg);
}

/* ---- item 5: a closed handle stays invalid, even after its slot's
 * generations run out ------------------------------------------------------ */

Test(hostile, a_closed_handle_never_comes_back_through_the_rings, .timeout = 120)
{
	tg_max_sockets = 1; /* one slot: every SOCKET reuses it */
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 200);
	struct tg_queue *g = &vm.qs[0];
	int32_t first = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)first), 0);
	/* One more than the old 15-bit generation had. */
	int32_t h = 0;
	for (uint32_t i = 0; i < 0x8000; i++) {
		h = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
		cr_assert_neq(h, first, "SOCKET #%u got the closed handle %#x back", i + 1, first);
		if (i + 1 < 0x8000)
			cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	}
	/* The stale handle names nothing, while a socket sits in its slot. */
	cr_assert_eq(tg_op(&vm, g, VS_OP_SHUTDOWN, (uint32_t)first), -EBADF);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)first), -EBADF);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	tg_vm_fini(&vm);
}

/* A slot whose generations are used up is retired: -EMFILE rather than an
 * old handle again (here with 3 generations instead of 2^31 / slots). */
Test(hostile, a_used_up_slot_is_retired, .timeout = 10)
{
	struct hn_handle_table *t;
	cr_assert_eq(hn_handles_create_gen(2, 3, &t), 0);
	uint32_t seen[8], n = 0, h;
	for (;;) {
		struct hn_sock *s = hn_sock_new(-1, SOCK_STREAM);
		int err = hn_handles_add(t, s, &h);
		if (err) {
			cr_assert_eq(err, -EMFILE);
			hn_sock_put(s);
			break;
		}
		cr_assert_lt(n, 6u, "more than 2 slots x 3 generations handed out");
		for (uint32_t i = 0; i < n; i++)
			cr_assert_neq(seen[i], h, "handle %#x handed out twice", h);
		seen[n++] = h;
		hn_sock_put(hn_handles_remove(t, h, NULL));
	}
	cr_assert_eq(n, 6u);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_null(hn_handles_get(t, seen[i]));
	cr_assert_eq(hn_handles_count(t), 0);
	hn_handles_destroy(t);
}

/* Handles stay positive int32s whatever the table size. */
Test(hostile, generation_bits_follow_the_table_size, .timeout = 10)
{
	const uint32_t sizes[] = { 1, 2, 3, 1024, 1025, 65535 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct hn_handle_table *t;
		cr_assert_eq(hn_handles_create(sizes[k], &t), 0);
		struct hn_sock *s = hn_sock_new(-1, SOCK_STREAM);
		uint32_t h;
		cr_assert_eq(hn_handles_add(t, s, &h), 0);
		cr_assert(h != 0 && (int32_t)h > 0);
		cr_assert_eq(hn_handles_slot(t, h), 0);
		cr_assert_eq(hn_handles_get(t, h), s);
		hn_sock_put(s);
		cr_assert_null(hn_handles_get(t, h | 0x80000000u), "no negative alias");
		hn_sock_put(hn_handles_remove(t, h, NULL));
		hn_handles_destroy(t);
	}
}

/* ---- item 2: no port shared with a host socket ------------------------- */

/* A host UDP service on addr:port with SO_REUSEADDR (like many daemons). */
static int udp_service(const char *addr, uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int one = 1;
	cr_assert(fd >= 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(*port) };
	inet_pton(AF_INET, addr, &a.sin_addr);
	socklen_t len = sizeof(a);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0, "bind %s: %s", addr,
		     strerror(errno));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Datagrams a host client sends to 127.0.0.1:port that reach fd. */
static int datagrams_reaching(int fd, uint16_t port, int n)
{
	int c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < n; i++)
		cr_assert_eq(sendto(c, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	close(c);
	int got = 0;
	char b[8];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (poll(&p, 1, 200) == 1 && recv(fd, b, sizeof(b), MSG_DONTWAIT) == 1)
		got++;
	return got;
}

static void udp_cannot_take(const char *service_addr)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port = 0;
	int svc = udp_service(service_addr, &port);
	int32_t u = socket_of(&vm, g, VS_AF_INET, VS_SOCK_DGRAM);
	cr_assert_eq(setopt(&vm, g, (uint32_t)u, VS_SOL_SOCKET, VS_SO_REUSEADDR, 1), -ENOPROTOOPT,
		     "SO_REUSEADDR on a guest UDP socket");
	cr_assert_eq(setopt(&vm, g, (uint32_t)u, VS_SOL_SOCKET, SO_REUSEPORT, 1), -ENOPROTOOPT);
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)u, "127.0.0.1", port), -EADDRINUSE);
	cr_assert_eq(datagrams_reaching(svc, port, 3), 3, "the host service gets its datagrams");
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)u), 0);
	close(svc);
	tg_vm_fini(&vm);
}

Test(hostile, udp_cannot_share_a_host_port_on_loopback, .timeout = 30)
{
	udp_cannot_take("127.0.0.1");
}

Test(hostile, udp_cannot_share_a_host_port_on_the_wildcard, .timeout = 30)
{
	udp_cannot_take("0.0.0.0");
}

/* TCP keeps SO_REUSEADDR (rebinding over TIME_WAIT); Linux never lets it
 * share a port with a listener. */
Test(hostile, tcp_reuseaddr_still_works_but_not_over_a_listener, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port;
	int l = tg_listener(&port);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int32_t t = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_eq(setopt(&vm, g, (uint32_t)t, VS_SOL_SOCKET, VS_SO_REUSEADDR, 1), 0);
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)t, "127.0.0.1", port), -EADDRINUSE);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)t), 0);
	close(l);
	tg_vm_fini(&vm);
}

/* Options that would reach past the policy are not on the list. */
Test(hostile, fastopen_bindtodevice_reuseport_are_refused, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int32_t t = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_eq(setopt(&vm, g, (uint32_t)t, VS_SOL_TCP, TCP_FASTOPEN, 5), -ENOPROTOOPT);
	cr_assert_eq(setopt(&vm, g, (uint32_t)t, VS_SOL_TCP, TCP_FASTOPEN_CONNECT, 1),
		     -ENOPROTOOPT);
	cr_assert_eq(setopt(&vm, g, (uint32_t)t, VS_SOL_SOCKET, SO_BINDTODEVICE, 1), -ENOPROTOOPT);
	cr_assert_eq(setopt(&vm, g, (uint32_t)t, VS_SOL_SOCKET, SO_REUSEPORT, 1), -ENOPROTOOPT);
	/* MSG_FASTOPEN would connect with the send, past CONNECT's policy check. */
	uint64_t buf = tg_alloc(&vm, 16);
	uint32_t flags = 0;
	struct vs_sqe *e = tg_prep(g, VS_OP_SEND, (uint32_t)t);
	e->addr = buf;
	e->len = 4;
	e->op_flags = MSG_FASTOPEN;
	cr_assert_eq(tg_run(&vm, g, e, &flags), -EINVAL);
	cr_assert(flags & VS_CQE_BAD_REQUEST);
	e = tg_prep(g, VS_OP_SENDTO, (uint32_t)t);
	e->addr = buf;
	e->len = 4;
	e->op_flags = MSG_FASTOPEN;
	tg_sa_loopback(&e->u.addr, 9);
	cr_assert_eq(tg_run(&vm, g, e, NULL), -EINVAL);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)t), 0);
	tg_vm_fini(&vm);
}

/* ---- item 3: no squatting on privileged ports; --bind-ports ------------ */

Test(hostile, no_loopback_port_below_1024_by_default, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	const uint16_t low[] = { 1, 22, 80, 1023 };
	for (size_t i = 0; i < sizeof(low) / sizeof(low[0]); i++) {
		int32_t t = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
		cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)t, "127.0.0.1", low[i]), -EACCES,
			     "bind 127.0.0.1:%u", low[i]);
		cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)t, "::ffff:127.0.0.1", low[i]),
			     -EACCES);
		cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)t), 0);
		int32_t u = socket_of(&vm, g, VS_AF_INET, VS_SOCK_DGRAM);
		cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)u, "127.0.0.1", low[i]), -EACCES);
		cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)u), 0);
	}
	/* Port 0 (the kernel picks) and 1024 up stay allowed. */
	int32_t t = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)t, "127.0.0.1", 0), 0);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)t), 0);
	uint16_t free_port = tg_free_port(SOCK_STREAM);
	cr_assert_geq(free_port, 1024);
	t = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)t, "127.0.0.1", free_port), 0);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)t), 0);
	tg_vm_fini(&vm);
}

Test(hostile, bind_ports_rules_say_which_ports, .timeout = 30)
{
	uint16_t p = tg_free_port(SOCK_STREAM);
	char rule[16];
	snprintf(rule, sizeof(rule), "%u", p);
	const char *ports[] = { rule, "80", NULL };
	set_policy(NULL, ports);
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int32_t t = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)t, "127.0.0.1", (uint16_t)(p + 1)),
		     -EACCES);
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)t, "127.0.0.1", p), 0);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)t), 0);
	t = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)t, "127.0.0.1", 0), 0, "port 0 always");
	struct vs_sqe *e = tg_prep(g, VS_OP_LISTEN, (uint32_t)t);
	e->op_flags = 4;
	cr_assert_eq(tg_run(&vm, g, e, NULL), -EACCES, "a listen on a port the rules do not name");
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)t), 0);
	tg_vm_fini(&vm);
	memset(&tg_policy, 0, sizeof(tg_policy));
}

Test(hostile, bind_ports_rules_parse, .timeout = 10)
{
	struct hostnet_policy p;
	memset(&p, 0, sizeof(p));
	char msg[256];
	cr_assert_eq(hostnet_policy_add_bind_ports(&p, "8080", msg, sizeof(msg)), 0);
	cr_assert_eq(hostnet_policy_add_bind_ports(&p, "5000-5999", msg, sizeof(msg)), 0);
	cr_assert_eq(p.nr_bind_ports, 2);
	cr_assert_eq(p.bind_ports[1].lo, 5000);
	cr_assert_eq(p.bind_ports[1].hi, 5999);
	const char *bad[] = { "", "x", "70000", "10-5", "80,81", "-5", "5-" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		cr_assert_eq(hostnet_policy_add_bind_ports(&p, bad[i], msg, sizeof(msg)), -EINVAL,
			     "'%s'", bad[i]);
		cr_assert_not_null(strstr(msg, "PORT[-PORT]"), "'%s': %s", bad[i], msg);
	}
	cr_assert_eq(p.nr_bind_ports, 2);
}

/* ---- item 4: unspecified and disguised destinations -------------------- */

/* "Everything but loopback" written the usual ways, plus the IPv6 spaces that
 * would hold the disguises. */
static const char *const not_loopback[] = {
	"0.0.0.0/2", "64.0.0.0/3", "96.0.0.0/4", "112.0.0.0/5", "120.0.0.0/6",
	"124.0.0.0/7", "126.0.0.0/8", "128.0.0.0/1", "0.0.0.0/8", "[::]/128", "[::127.0.0.0]/104",
	NULL,
};

Test(hostile, unspecified_destinations_are_judged_as_loopback, .timeout = 30)
{
	set_policy(not_loopback, NULL);
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port;
	int l = tg_listener(&port);
	/* Only 0.0.0.0 itself: the rest of 0.0.0.0/8 is routed by Linux like any
	 * address, so it is judged as itself (policy::default_is_loopback_only),
	 * and the rules here allow it. */
	const char *v4[] = { "0.0.0.0" };
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		int32_t t = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
		cr_assert_eq(sa_op(&vm, g, VS_OP_CONNECT, (uint32_t)t, v4[i], port), -EACCES,
			     "CONNECT %s:%u", v4[i], port);
		cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)t), 0);
	}
	const char *v6[] = { "::", "::ffff:0.0.0.0", "::127.0.0.1", "::ffff:127.0.0.1" };
	for (size_t i = 0; i < 4; i++) {
		int32_t t = socket_of(&vm, g, VS_AF_INET6, VS_SOCK_STREAM);
		cr_assert_eq(sa_op(&vm, g, VS_OP_CONNECT, (uint32_t)t, v6[i], port), -EACCES,
			     "CONNECT [%s]:%u", v6[i], port);
		cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)t), 0);
	}
	int32_t u = socket_of(&vm, g, VS_AF_INET, VS_SOCK_DGRAM);
	uint64_t buf = tg_alloc(&vm, 16);
	struct vs_sqe *e = tg_prep(g, VS_OP_SENDTO, (uint32_t)u);
	e->addr = buf;
	e->len = 4;
	e->u.addr.family = VS_AF_INET;
	e->u.addr.port = htons(port);
	cr_assert_eq(tg_run(&vm, g, e, NULL), -EACCES, "SENDTO 0.0.0.0");
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)u), 0);
	struct pollfd p = { .fd = l, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 50), 0, "nothing reached the loopback listener");
	close(l);
	tg_vm_fini(&vm);
	memset(&tg_policy, 0, sizeof(tg_policy));
}

/* The default policy allows loopback, so 0.0.0.0 (which is loopback) too. */
Test(hostile, unspecified_destination_under_the_default_policy, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port;
	int l = tg_listener(&port);
	int32_t t = socket_of(&vm, g, VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_eq(sa_op(&vm, g, VS_OP_CONNECT, (uint32_t)t, "0.0.0.0", port), 0);
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int a = accept(l, (struct sockaddr *)&peer, &len);
	cr_assert_geq(a, 0);
	cr_assert_eq(ntohl(peer.sin_addr.s_addr), INADDR_LOOPBACK, "it is loopback indeed");
	close(a);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)t), 0);
	/* A dual-stack wildcard bind is not loopback. */
	int32_t s6 = socket_of(&vm, g, VS_AF_INET6, VS_SOCK_STREAM);
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)s6, "::ffff:0.0.0.0", 0), -EACCES);
	cr_assert_eq(sa_op(&vm, g, VS_OP_BIND, (uint32_t)s6, "::", 0), -EACCES);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)s6), 0);
	close(l);
	tg_vm_fini(&vm);
}

static bool allows_peer(const struct hostnet_policy *p, const char *addr)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(80) };
	if (strchr(addr, ':')) {
		cr_assert_eq(inet_pton(AF_INET6, addr, &s.sin6_addr), 1);
		return hostnet_policy_allows_peer(p, (struct sockaddr *)&s, sizeof(s));
	}
	cr_assert_eq(inet_pton(AF_INET, addr, &s4.sin_addr), 1);
	return hostnet_policy_allows_peer(p, (struct sockaddr *)&s4, sizeof(s4));
}

/* A rule written as v4-mapped IPv6 is the IPv4 rule it means. */
Test(hostile, v4_mapped_rules_are_normalised, .timeout = 10)
{
	struct hostnet_rule r;
	char msg[256];
	cr_assert_eq(hostnet_rule_parse("::ffff:10.0.0.1", &r, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(r.family, 4);
	cr_assert_eq(r.prefix, 32);
	cr_assert_eq(r.addr[0], 10);
	cr_assert_eq(r.addr[3], 1);
	cr_assert_eq(hostnet_rule_parse("[::ffff:10.0.0.0]/104:80", &r, msg, sizeof(msg)), 0);
	cr_assert_eq(r.family, 4);
	cr_assert_eq(r.prefix, 8);
	struct hostnet_policy p;
	memset(&p, 0, sizeof(p));
	cr_assert_eq(hostnet_policy_add(&p, "[::ffff:10.0.0.1]:80", msg, sizeof(msg)), 0);
	cr_assert(allows_peer(&p, "10.0.0.1"));
	cr_assert(allows_peer(&p, "::ffff:10.0.0.1"));
	cr_assert_not(allows_peer(&p, "10.0.0.2"));
	cr_assert_not(allows_peer(&p, "127.0.0.1"));
}

/* ---- item 7: a queue broken while a completion is posted --------------- */

Test(hostile, a_completion_on_a_broken_queue_is_not_held_back, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	uint64_t buf = tg_alloc(&vm, 64);
	struct vs_sqe *e = tg_prep(g, VS_OP_RECV, (uint32_t)h);
	e->addr = buf;
	e->len = 64;
	tg_submit(&vm, g);
	tg_expect_nothing(&vm, g, 100); /* parked */
	/* The guest corrupts cq_head, then the RECV's completion comes. */
	__atomic_store_n(&g->q->ctrl.cq_head, g->cq_head + 7, __ATOMIC_RELEASE);
	cr_assert_eq(send(peer, "data", 4, 0), 4);
	uint64_t deadline = tg_now_ms() + 5000;
	while (!(tg_flags(g) & VS_QF_BROKEN))
		cr_assert_lt(tg_now_ms(), deadline, "the queue did not break");
	usleep(20000);
	cr_assert_not(tg_flags(g) & VS_QF_CQ_OVERFLOW, "a dead queue's completion parked "
		      "host-side (flags %#x)", tg_flags(g));
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_eq(st.cq_overflows, 0);
	close(peer);
	tg_vm_fini(&vm);
}
