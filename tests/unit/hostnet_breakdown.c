/* SPDX-License-Identifier: MIT */
/*
 * The cost breakdown's figures (hostnet/timing.h) and the guest socket
 * buffer knob (cfg.sock_buffer, the VMM's --sock-buffer): each figure counts
 * what it says and only then; the knob sets what every guest socket gets,
 * and never lets a guest's SETSOCKOPT past it.
 */
#include "hostnet_guest.h"

#include "sock.h"

static int read_proc_int(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = 0;
	cr_assert(f, "%s", path);
	cr_assert_eq(fscanf(f, "%d", &v), 1);
	fclose(f);
	return v;
}

/* What Linux makes of SO_SNDBUF = bytes without CAP_NET_ADMIN. */
static int32_t effective_sndbuf(int bytes)
{
	int max = read_proc_int("/proc/sys/net/core/wmem_max");
	return 2 * (bytes < max ? bytes : max);
}

static int32_t opt(struct tg_vm *vm, struct tg_queue *g, uint8_t op, int32_t h, uint32_t name,
		   int64_t value)
{
	struct vs_sqe *e = tg_prep(g, op, (uint32_t)h);
	e->u.opt.level = VS_SOL_SOCKET;
	e->u.opt.name = name;
	e->u.opt.value = value;
	return tg_run(vm, g, e, NULL);
}

static void fini(struct tg_vm *vm)
{
	tg_vm_fini(vm);
	tg_sock_buffer = 0;
	tg_sock_memory = tg_sock_autotune_bytes = 0;
	tg_timings = false;
}

/* Capped sockets have SO_SNDBUF = 2 x the cap, autotuned ones what Linux
 * gives them (tcp_wmem's default, more once connected). */
static bool autotuned(struct tg_vm *vm, struct tg_queue *g, int32_t h)
{
	return opt(vm, g, VS_OP_GETSOCKOPT, h, VS_SO_SNDBUF, 0) !=
	       effective_sndbuf(HN_SOCK_BUFFER_BYTES);
}

/* A budget for two autotuned sockets: the first two keep Linux's autotuning,
 * the third is capped; a CLOSE gives a place back. */
Test(sock_buffer, the_budget_covers_the_first_sockets_then_the_cap, .timeout = 30)
{
	tg_sock_autotune_bytes = 10u << 20;
	tg_sock_memory = 2 * tg_sock_autotune_bytes + 4096; /* two, not three */
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int32_t h[4];
	for (int i = 0; i < 3; i++)
		h[i] = tg_socket(&vm, g, VS_SOCK_STREAM);
	cr_assert(autotuned(&vm, g, h[0]) && autotuned(&vm, g, h[1]));
	cr_assert_not(autotuned(&vm, g, h[2]), "a third socket past the budget autotunes");
	/* an autotuned socket may ask for more than the cap (Linux's limit applies) */
	cr_assert_eq(opt(&vm, g, VS_OP_SETSOCKOPT, h[1], VS_SO_SNDBUF, 2 * HN_SOCK_BUFFER_BYTES), 0);
	cr_assert_eq(opt(&vm, g, VS_OP_GETSOCKOPT, h[1], VS_SO_SNDBUF, 0),
		     effective_sndbuf(2 * HN_SOCK_BUFFER_BYTES));
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h[0]), 0);
	h[3] = tg_socket(&vm, g, VS_SOCK_STREAM);
	cr_assert(autotuned(&vm, g, h[3]), "the CLOSE did not give its place back");
	fini(&vm);
}

/* An accepted socket takes a place too, or is capped when there is none. */
Test(sock_buffer, accepted_sockets_count_against_the_budget, .timeout = 30)
{
	tg_sock_autotune_bytes = 10u << 20;
	tg_sock_memory = 2 * tg_sock_autotune_bytes;
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port;
	int32_t l = tg_guest_listener(&vm, g, 4, &port); /* place 1 */
	int32_t a[2];
	int c[2];
	for (int i = 0; i < 2; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		cr_assert_eq(connect(c[i], (struct sockaddr *)&to, sizeof(to)), 0);
		a[i] = tg_io(&vm, g, VS_OP_ACCEPT, (uint32_t)l, 0, 0, 0);
		cr_assert_gt(a[i], 0);
	}
	cr_assert(autotuned(&vm, g, a[0]), "place 2");
	cr_assert_not(autotuned(&vm, g, a[1]), "an accepted socket past the budget autotunes");
	for (int i = 0; i < 2; i++)
		close(c[i]);
	fini(&vm);
}

Test(sock_buffer, the_configured_size_is_what_sockets_get_and_the_most_they_may_ask, .timeout = 30)
{
	tg_sock_buffer = 64 * 1024; /* under any wmem_max, and not the default */
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	cr_assert_gt(h, 0);
	cr_assert_eq(opt(&vm, g, VS_OP_GETSOCKOPT, h, VS_SO_SNDBUF, 0), 2 * 64 * 1024);
	cr_assert_eq(opt(&vm, g, VS_OP_SETSOCKOPT, h, VS_SO_SNDBUF, 64 << 20), 0);
	cr_assert_eq(opt(&vm, g, VS_OP_GETSOCKOPT, h, VS_SO_SNDBUF, 0), 2 * 64 * 1024,
		     "a guest got past the configured cap");
	cr_assert_eq(opt(&vm, g, VS_OP_SETSOCKOPT, h, VS_SO_RCVBUF, 8192), 0);
	cr_assert_eq(opt(&vm, g, VS_OP_GETSOCKOPT, h, VS_SO_RCVBUF, 0), 2 * 8192,
		     "a guest may still ask for less");
	fini(&vm);
}

Test(sock_buffer, the_default_is_the_256k_cap, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	cr_assert_eq(opt(&vm, g, VS_OP_GETSOCKOPT, h, VS_SO_SNDBUF, 0),
		     effective_sndbuf(HN_SOCK_BUFFER_BYTES));
	fini(&vm);
}

/* auto: the socket starts as any host socket does (net.ipv4.tcp_wmem's
 * default, not locked), so Linux's autotuning may grow it. */
Test(sock_buffer, auto_leaves_the_socket_as_linux_makes_it, .timeout = 30)
{
	tg_sock_buffer = HOSTNET_SOCK_BUFFER_AUTO;
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int32_t h = tg_socket(&vm, g, VS_SOCK_STREAM);
	int host = socket(AF_INET, SOCK_STREAM, 0);
	int want;
	socklen_t len = sizeof(want);
	cr_assert_eq(getsockopt(host, SOL_SOCKET, SO_SNDBUF, &want, &len), 0);
	close(host);
	cr_assert_eq(opt(&vm, g, VS_OP_GETSOCKOPT, h, VS_SO_SNDBUF, 0), want);
	fini(&vm);
}

Test(sock_buffer, sizes_out_of_range_are_refused, .timeout = 30)
{
	uint8_t ring[VS_QUEUE_BYTES] __attribute__((aligned(4096))) = { 0 };
	static uint8_t ram[1 << 20];
	const uint32_t bad[] = { 1, HOSTNET_SOCK_BUFFER_MIN - 1, HOSTNET_SOCK_BUFFER_MAX + 1 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hostnet_config c = {
			.ram = ram, .ram_bytes = sizeof(ram), .ring = ring,
			.ring_gpa = TG_RING_GPA, .ring_bytes = sizeof(ring), .nr_queues = 1,
			.sock_buffer = bad[i],
		};
		struct hostnet *hn = NULL;
		cr_assert_eq(hostnet_create(&c, &hn), -EINVAL, "sock_buffer %u", bad[i]);
	}
}

/* ---- the breakdown's figures ---------------------------------------------- */

/* A VM (timings on or off) whose guest sends 8 x 64 B to a host socket that
 * reads them all, then a NOP; *st: the statistics once every posting is in. */
static void traffic(bool timings, struct hostnet_stats *st)
{
	tg_timings = timings;
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	uint64_t buf = tg_alloc(&vm, 64);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(tg_io(&vm, g, VS_OP_SEND, (uint32_t)h, buf, 64, 0), 64);
	cr_assert_eq(tg_op(&vm, g, VS_OP_NOP, 0), 0);
	char sink[512];
	for (size_t got = 0; got < 8 * 64;) {
		ssize_t n = read(peer, sink, sizeof(sink));
		cr_assert_gt(n, 0);
		got += (size_t)n;
	}
	/* The last posting is timed just after its CQE went out. */
	uint64_t deadline = tg_now_ms() + 1000;
	do
		hostnet_get_stats(vm.hn, st);
	while (timings && st->t_posts != st->completions && tg_now_ms() < deadline);
	close(peer);
	fini(&vm);
}

Test(breakdown, timings_count_every_phase_when_on, .timeout = 30)
{
	struct hostnet_stats st;
	traffic(true, &st);
	cr_assert_gt(st.t_take_ns, 0);
	cr_assert_gt(st.t_validate_ns, 0);
	cr_assert_gt(st.t_run_ns, 0);
	cr_assert_gt(st.t_post_ns, 0);
	cr_assert_eq(st.t_posts, st.completions, "every completion's posting is timed");
	/* the posts happen inside the run and readiness phases */
	cr_assert_leq(st.t_post_ns, st.t_run_ns + st.t_events_ns);
}

Test(breakdown, timings_stay_zero_when_off, .timeout = 30)
{
	struct hostnet_stats st;
	traffic(false, &st);
	cr_assert_gt(st.completions, 8);
	cr_assert_eq(st.t_take_ns + st.t_validate_ns + st.t_run_ns + st.t_events_ns +
		     st.t_post_ns + st.t_posts, 0);
}

/* A worker that sleeps at once (poll_us 0) is woken by every SUBMIT: each
 * such wake-up is timed from the kick, and only those. */
Test(breakdown, kicks_that_wake_a_sleeping_worker_are_timed, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	for (int i = 0; i < 20; i++) {
		/* Ring only once the worker has said it sleeps (NEED_WAKEUP), so
		 * every SUBMIT kicks it awake: a fixed pause lost to a busy
		 * machine's scheduler made this count short. */
		uint64_t deadline = tg_now_ms() + 5000;
		while (!(tg_flags(g) & VS_QF_NEED_WAKEUP))
			cr_assert_lt(tg_now_ms(), deadline, "the worker never went to sleep");
		cr_assert_eq(tg_op(&vm, g, VS_OP_NOP, 0), 0);
	}
	struct hostnet_stats st;
	hostnet_get_stats(vm.hn, &st);
	cr_assert_geq(st.kick_wakes, 10, "%llu timed wake-ups",
		      (unsigned long long)st.kick_wakes);
	cr_assert_leq(st.kick_wakes, st.worker_wakeups);
	cr_assert_gt(st.kick_wake_ns, 0);
	cr_assert_lt(st.kick_wake_ns / st.kick_wakes, 1000000000ull, "a second per wake-up?");
	fini(&vm);
}

/* A WAIT asleep on the futex and woken by a completion: timed from the wake. */
Test(breakdown, a_wait_woken_by_a_completion_is_timed, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	struct hostnet_stats before, after;
	hostnet_get_stats(vm.hn, &before);
	struct vs_sqe *e = tg_prep(g, VS_OP_RECV, (uint32_t)h);
	e->addr = tg_alloc(&vm, 8);
	e->len = 8;
	tg_submit(&vm, g);
	pid_t child = fork();
	if (child == 0) {
		usleep(100000); /* the WAIT below is asleep by then */
		_exit(write(peer, "wake", 4) == 4 ? 0 : 1);
	}
	int64_t r = tg_doorbell(&vm, 0, VS_DB_WAIT, 5000);
	cr_assert_eq(r, 1);
	waitpid(child, NULL, 0);
	hostnet_get_stats(vm.hn, &after);
	cr_assert_eq(after.wait_wakes - before.wait_wakes, 1);
	uint64_t ns = after.wait_wake_ns - before.wait_wake_ns;
	cr_assert(ns > 0 && ns < 50000000ull, "completion -> WAIT returning took %llu ns",
		  (unsigned long long)ns);
	struct vs_cqe c;
	cr_assert(tg_reap(g, &c));
	cr_assert_eq(c.result, 4);
	close(peer);
	fini(&vm);
}
