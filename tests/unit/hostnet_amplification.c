/* SPDX-License-Identifier: MIT */
/*
 * --max-sockets bounds every kernel socket the guest causes, not just its
 * handles (issue 12, item 1): connections waiting in a listener's backlog,
 * connections closed with data still to deliver, and the bytes each socket
 * may queue.
 */
#include "hostnet_guest.h"

#include <poll.h>

#include "linger.h"
#include "sock.h"

#define MAX 4u

static int32_t socket_tcp(struct tg_vm *vm, struct tg_queue *g)
{
	return tg_socket(vm, g, VS_SOCK_STREAM);
}

/* Host clients that got connected to 127.0.0.1:port within 300 ms. */
static int host_clients_connected(uint16_t port, int n, int *fds)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int r = connect(fds[i], (struct sockaddr *)&a, sizeof(a));
		cr_assert(r == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
	}
	usleep(300000);
	int connected = 0;
	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLOUT };
		int err = 0;
		socklen_t len = sizeof(err);
		if (poll(&p, 1, 0) == 1 && !getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) &&
		    !err)
			connected++;
	}
	return connected;
}

Test(amplification, waiting_connections_count_against_max_sockets, .timeout = 30)
{
	tg_max_sockets = MAX;
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port;
	int32_t l = tg_guest_listener(&vm, g, 128, &port);
	int fds[20];
	int connected = host_clients_connected(port, 20, fds);
	/* The listener's handle, the waiting connections, one place for ACCEPT. */
	cr_assert_leq(connected, (int)MAX - 2, "%d connections wait in the backlog of a VM "
		      "allowed %u sockets", connected, MAX);
	cr_assert_geq(connected, 1);
	int32_t a = tg_io(&vm, g, VS_OP_ACCEPT, (uint32_t)l, 0, 0, 0);
	cr_assert_gt(a, 0, "ACCEPT: %d", a);
	cr_assert_eq(socket_tcp(&vm, g), -EMFILE, "handles + waiting places are at the limit");
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)l), 0);
	int32_t s = socket_tcp(&vm, g);
	cr_assert_gt(s, 0, "the listener's places came back: %d", s);
	for (int i = 0; i < 20; i++)
		close(fds[i]);
	tg_vm_fini(&vm);
}

/* A LISTEN with no room left for a waiting connection and its ACCEPT. */
Test(amplification, listen_without_room_is_emfile, .timeout = 30)
{
	tg_max_sockets = 2;
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int32_t l = socket_tcp(&vm, g), other = socket_tcp(&vm, g);
	struct vs_sqe *e = tg_prep(g, VS_OP_BIND, (uint32_t)l);
	tg_sa_loopback(&e->u.addr, 0);
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	e = tg_prep(g, VS_OP_LISTEN, (uint32_t)l);
	e->op_flags = 8;
	cr_assert_eq(tg_run(&vm, g, e, NULL), -EMFILE);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)other), 0);
	tg_vm_fini(&vm);
}

/* A guest socket connected to a host peer that does not read, with as much
 * sent as the socket took (non-blocking); returns the handle, *sent. */
static int32_t stuffed_connection(struct tg_vm *vm, struct tg_queue *g, int *peer,
				  uint32_t *sent)
{
	int32_t h = tg_tcp_pair(vm, g, peer);
	uint32_t len = 4u << 20;
	uint64_t buf = tg_alloc(vm, len);
	tg_fill_pattern(tg_ptr(vm, buf), len, 7);
	struct vs_sqe *e = tg_prep(g, VS_OP_SEND, (uint32_t)h);
	e->addr = buf;
	e->len = len;
	e->flags = VS_SQE_NONBLOCK;
	int32_t n = tg_run(vm, g, e, NULL);
	cr_assert_gt(n, 0);
	cr_assert_lt((uint32_t)n, len, "the peer does not read: the socket must fill up");
	*sent = (uint32_t)n;
	return h;
}

/* A VM allowed MAX sockets whose guest closed a stuffed connection (it still
 * owes the peer *sent bytes). */
static struct tg_queue *closed_stuffed_connection(struct tg_vm *vm, int *peer, uint32_t *sent)
{
	tg_max_sockets = MAX;
	tg_vm_init(vm, 1, 0);
	struct tg_queue *g = &vm->qs[0];
	int32_t h = stuffed_connection(vm, g, peer, sent);
	cr_assert_eq(tg_op(vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	return g;
}

/* Read from fd until EOF or error; returns the bytes, *err the errno (0: EOF). */
static uint64_t read_to_end(int fd, int *err)
{
	static uint8_t b[1 << 16];
	uint64_t total = 0;
	for (;;) {
		ssize_t n = recv(fd, b, sizeof(b), 0);
		if (n <= 0) {
			*err = n < 0 ? errno : 0;
			return total;
		}
		total += (uint64_t)n;
	}
}

Test(amplification, a_closed_connection_with_data_counts_until_delivered, .timeout = 30)
{
	struct tg_vm vm;
	int peer;
	uint32_t sent;
	struct tg_queue *g = closed_stuffed_connection(&vm, &peer, &sent);
	int32_t s[MAX];
	for (uint32_t i = 0; i + 1 < MAX; i++)
		cr_assert_gt(s[i] = socket_tcp(&vm, g), 0);
	cr_assert_eq(socket_tcp(&vm, g), -EMFILE,
		     "the closed connection still holding data counts");
	/* The peer reads everything (then EOF: the FIN came after the data)
	 * and closes: the place comes back. */
	int err;
	cr_assert_eq(read_to_end(peer, &err), sent, "every byte sent is delivered");
	cr_assert_eq(err, 0);
	close(peer);
	uint64_t deadline = tg_now_ms() + 2000;
	int32_t last;
	while ((last = socket_tcp(&vm, g)) == -EMFILE)
		cr_assert_lt(tg_now_ms(), deadline, "the place did not come back");
	cr_assert_gt(last, 0);
	tg_vm_fini(&vm);
}

Test(amplification, a_connection_closed_on_a_stuck_peer_is_reset_in_time, .timeout = 40)
{
	struct tg_vm vm;
	int peer;
	uint32_t sent;
	struct tg_queue *g = closed_stuffed_connection(&vm, &peer, &sent);
	/* The peer never reads: after the linger time the host resets it
	 * rather than leave an orphan holding the data. */
	usleep((HN_LINGER_MS + 1000) * 1000);
	int err;
	read_to_end(peer, &err);
	cr_assert_eq(err, ECONNRESET, "the peer sees %s", err ? strerror(err) : "EOF");
	close(peer);
	for (uint32_t i = 0; i < MAX; i++)
		cr_assert_gt(socket_tcp(&vm, g), 0, "its place came back");
	tg_vm_fini(&vm);
}

/* The VM stops while a closed connection still owes its peer data (the vmm
 * exits right after a guest server's last response): the peer still gets
 * every byte the guest was told was sent, then an orderly end of file, as
 * from a host program that closes and exits.  (CI once saw curl reset here.) */
Test(amplification, a_connection_lingering_when_the_vm_stops_is_still_delivered,
     .timeout = 30)
{
	struct tg_vm vm;
	int peer;
	uint32_t sent;
	closed_stuffed_connection(&vm, &peer, &sent);
	tg_vm_fini(&vm);
	int err;
	uint64_t got = read_to_end(peer, &err);
	cr_assert_eq(err, 0, "the peer sees %s after %llu of %u bytes", strerror(err),
		     (unsigned long long)got, sent);
	cr_assert_eq(got, sent, "every byte sent is delivered");
	close(peer);
}

/* crr's connection: a request sent, its answer read, then CLOSE while the
 * peer has not closed yet.  The peer acknowledged every byte (its answer
 * carries the ACK) and nothing is unread: the host closes it at once (no
 * lingering place, none of a lingering close's calls), and the peer still
 * gets everything, then an orderly end of file; what it sends afterwards is
 * reset, as a closed socket's data is. */
Test(amplification, a_connection_that_owes_nothing_is_closed_at_once, .timeout = 30)
{
	tg_max_sockets = MAX;
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	int peer;
	int32_t h = tg_tcp_pair(&vm, g, &peer);
	uint64_t buf = tg_alloc(&vm, 64);
	memcpy(tg_ptr(&vm, buf), "request", 7);
	cr_assert_eq(tg_io(&vm, g, VS_OP_SEND, (uint32_t)h, buf, 7, 0), 7);
	char got[16];
	cr_assert_eq(read(peer, got, sizeof(got)), 7);
	cr_assert_eq(memcmp(got, "request", 7), 0);
	cr_assert_eq(write(peer, "answer", 6), 6);
	cr_assert_eq(tg_io(&vm, g, VS_OP_RECV, (uint32_t)h, buf, 6, VS_MSG_WAITALL), 6);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)h), 0);
	/* The peer has not closed: a lingering close would still hold a place. */
	for (uint32_t i = 0; i < MAX; i++)
		cr_assert_gt(socket_tcp(&vm, g), 0, "SOCKET %u of %u: the closed connection "
			     "still takes a place", i + 1, MAX);
	cr_assert_eq(socket_tcp(&vm, g), -EMFILE);
	cr_assert_eq(read(peer, got, sizeof(got)), 0, "the peer sees an orderly end of file");
	/* Data for the closed socket: the kernel answers with a reset. */
	ssize_t r;
	for (int i = 0; i < 100 && (r = send(peer, "late", 4, MSG_NOSIGNAL)) > 0; i++)
		usleep(10 * 1000);
	cr_assert(r < 0 && (errno == ECONNRESET || errno == EPIPE),
		  "writing to the closed connection: %zd, errno %d", r, errno);
	close(peer);
	tg_vm_fini(&vm);
}

/* Kernel TCP sockets on 127.0.0.1:port's connections (both ends), apart
 * from TIME_WAIT entries (no buffers, no process). */
static int sockets_on_port(uint16_t port)
{
	int n = 0;
	const char *files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	for (int f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "r");
		cr_assert(fp);
		char line[512];
		while (fgets(line, sizeof(line), fp)) {
			unsigned lport, rport, state;
			if (sscanf(line, " %*s %*[0-9A-F]:%x %*[0-9A-F]:%x %x", &lport, &rport,
				   &state) == 3 && (lport == port || rport == port) && state != 6)
				n++;
		}
		fclose(fp);
	}
	return n;
}

/* The loop: connect to its own listener, stuff, close; repeat. */
Test(amplification, connect_stuff_close_loop_stays_within_the_limit, .timeout = 60)
{
	tg_max_sockets = MAX;
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port;
	int32_t l = tg_guest_listener(&vm, g, 128, &port);
	uint32_t len = 1u << 20;
	uint64_t buf = tg_alloc(&vm, len);
	uint64_t queued = 0;
	for (int i = 0; i < 40; i++) {
		int32_t c = socket_tcp(&vm, g);
		if (c < 0) {
			cr_assert_eq(c, -EMFILE);
			continue;
		}
		struct vs_sqe *e = tg_prep(g, VS_OP_CONNECT, (uint32_t)c);
		tg_sa_loopback(&e->u.addr, port);
		e->flags = VS_SQE_NONBLOCK;
		int32_t r = tg_run(&vm, g, e, NULL);
		cr_assert(r == 0 || r == -EINPROGRESS, "CONNECT: %d", r);
		usleep(2000);
		e = tg_prep(g, VS_OP_SEND, (uint32_t)c);
		e->addr = buf;
		e->len = len;
		e->flags = VS_SQE_NONBLOCK;
		r = tg_run(&vm, g, e, NULL);
		if (r > 0)
			queued += (uint64_t)r;
		cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)c), 0);
	}
	int kernel = sockets_on_port(port);
	cr_assert_leq(kernel, (int)MAX, "%d kernel sockets on the listener's port (limit %u); "
		      "%llu bytes queued", kernel, MAX, (unsigned long long)queued);
	cr_assert_eq(tg_op(&vm, g, VS_OP_CLOSE, (uint32_t)l), 0);
	tg_vm_fini(&vm);
}

/* Two guest sockets connected to each other, nobody reading: what one side
 * can leave queued is bounded by the buffer cap on both ends, whatever
 * SO_SNDBUF it asks for. */
Test(amplification, bytes_one_connection_can_queue_are_bounded, .timeout = 30)
{
	struct tg_vm vm;
	tg_vm_init(&vm, 1, 0);
	struct tg_queue *g = &vm.qs[0];
	uint16_t port;
	int32_t l = tg_guest_listener(&vm, g, 128, &port);
	int32_t c = socket_tcp(&vm, g);
	cr_assert_eq(tg_connect(&vm, g, (uint32_t)c, port), 0);
	int32_t a = tg_io(&vm, g, VS_OP_ACCEPT, (uint32_t)l, 0, 0, 0);
	cr_assert_gt(a, 0);
	struct vs_sqe *e = tg_prep(g, VS_OP_SETSOCKOPT, (uint32_t)c);
	e->u.opt.level = VS_SOL_SOCKET;
	e->u.opt.name = VS_SO_SNDBUF;
	e->u.opt.value = 64 << 20;
	cr_assert_eq(tg_run(&vm, g, e, NULL), 0);
	e = tg_prep(g, VS_OP_GETSOCKOPT, (uint32_t)c);
	e->u.opt.level = VS_SOL_SOCKET;
	e->u.opt.name = VS_SO_SNDBUF;
	int32_t sndbuf = tg_run(&vm, g, e, NULL);
	cr_assert_leq(sndbuf, 2 * HN_SOCK_BUFFER_BYTES, "SO_SNDBUF %d", sndbuf);
	uint32_t len = 4u << 20;
	uint64_t buf = tg_alloc(&vm, len);
	uint64_t queued = 0;
	for (int idle = 0; idle < 20;) { /* until both ends stay full */
		e = tg_prep(g, VS_OP_SEND, (uint32_t)c);
		e->addr = buf;
		e->len = len;
		e->flags = VS_SQE_NONBLOCK;
		int32_t r = tg_run(&vm, g, e, NULL);
		cr_assert(r > 0 || r == -EAGAIN, "SEND: %d", r);
		if (r > 0) {
			queued += (uint64_t)r;
			idle = 0;
		} else {
			idle++;
			usleep(5000);
		}
	}
	cr_assert_leq(queued, 4ull * HN_SOCK_BUFFER_BYTES, "%llu bytes queued",
		      (unsigned long long)queued);
	tg_vm_fini(&vm);
}

/* CLOSE from another queue (another worker) than the one that made the
 * socket: that worker keeps the lingering connection, and the places and
 * the data come out right. */
Test(amplification, a_lingering_close_from_another_worker, .timeout = 30)
{
	tg_max_sockets = MAX;
	struct tg_vm vm;
	tg_vm_init_at(&vm, 2, 2, 0, VS_COPY_ZERO, 0);
	struct tg_queue *g0 = &vm.qs[0], *g1 = &vm.qs[1];
	int peer;
	uint32_t sent;
	int32_t h = stuffed_connection(&vm, g0, &peer, &sent);
	/* A RECV parked on queue 0, the CLOSE on queue 1. */
	uint64_t rbuf = tg_alloc(&vm, 64);
	struct vs_sqe *e = tg_prep(g0, VS_OP_RECV, (uint32_t)h);
	e->addr = rbuf;
	e->len = 64;
	uint64_t recv_ud = e->user_data;
	tg_submit(&vm, g0);
	tg_expect_nothing(&vm, g0, 50);
	cr_assert_eq(tg_op(&vm, g1, VS_OP_CLOSE, (uint32_t)h), 0);
	struct vs_cqe c;
	tg_wait_cqe(&vm, g0, &c, 5000);
	cr_assert_eq(c.user_data, recv_ud);
	cr_assert_eq(c.result, -ECANCELED);
	for (uint32_t i = 0; i + 1 < MAX; i++)
		cr_assert_gt(socket_tcp(&vm, g0), 0);
	cr_assert_eq(socket_tcp(&vm, g1), -EMFILE);
	int err;
	cr_assert_eq(read_to_end(peer, &err), sent);
	cr_assert_eq(err, 0);
	close(peer);
	uint64_t deadline = tg_now_ms() + 2000;
	while (socket_tcp(&vm, g1) == -EMFILE)
		cr_assert_lt(tg_now_ms(), deadline, "the place did not come back");
	tg_vm_fini(&vm);
}
