/* SPDX-License-Identifier: MIT */
/*
 * What the POSIX layer builds on, through a real hostnet (fake VM, no KVM): a
 * non-blocking connect (-EINPROGRESS, then POLLOUT and SO_ERROR) to a listening host
 * socket and to a closed port, a non-blocking accept (-EAGAIN, then the connection),
 * and descriptors that stand for handles in every call.
 */
#include "guestlib_fake_vm.h"

static void start(void)
{
	fvm_start(&(struct fvm_opts){ .notify = VS_NOTIFY_BATCH, .copy = VS_COPY_ZERO });
}

/* A host listener whose accept queue is full (backlog 0, one connection waiting): a new
 * SYN is dropped, so a connect to it stays in progress until the test accepts. */
static int full_listener(uint16_t *port, int *waiting)
{
	int l = fvm_host_listener(port, 0, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(*port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	*waiting = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(*waiting, (struct sockaddr *)&a, sizeof(a)), 0);
	return l;
}

Test(guestlib_nonblock, connect_in_progress_then_writable_with_so_error_0, .init = start,
     .fini = fvm_stop, .timeout = 60)
{
	uint16_t port;
	int waiting, l = full_listener(&port, &waiting);
	int s = vs_socket(VS_AF_INET, VS_SOCK_STREAM);
	struct vs_sockaddr sa = fvm_loopback(port);
	cr_assert_eq(vs_connect_flags(s, &sa, VS_MSG_DONTWAIT), -EINPROGRESS);
	struct vs_pollfd p = { .fd = s, .events = VS_POLLOUT };
	cr_assert_eq(vs_poll(&p, 1, 0), 0, "writable before the listener had room");

	int first = accept(l, NULL, NULL); /* room: the retransmitted SYN gets in */
	cr_assert_geq(first, 0);
	cr_assert_eq(vs_poll(&p, 1, 10000), 1, "the connect never finished");
	cr_assert(p.revents & VS_POLLOUT);
	int err = -1;
	cr_assert_eq(vs_getsockopt(s, VS_SOL_SOCKET, VS_SO_ERROR, &err), 0);
	cr_assert_eq(err, 0);
	int peer = accept(l, NULL, NULL);
	cr_assert_geq(peer, 0);
	char *ok = fvm_alloc(2); /* zero copy: the payload must be in guest RAM */
	memcpy(ok, "ok", 2);
	int64_t sent = vs_send(s, ok, 2, 0);
	cr_assert_eq(sent, 2, "send on the connected socket: %lld", (long long)sent);
	char buf[2];
	cr_assert_eq(recv(peer, buf, 2, MSG_WAITALL), 2);
	cr_assert_eq(vs_close(s), 0);
	close(peer);
	close(first);
	close(waiting);
	close(l);
}

/* Refused: at once (loopback answers within the host's connect) or through SO_ERROR. */
Test(guestlib_nonblock, connect_refused_without_waiting, .init = start, .fini = fvm_stop,
     .timeout = 60)
{
	int s = vs_socket(VS_AF_INET, VS_SOCK_STREAM);
	struct vs_sockaddr sa = fvm_loopback(fvm_free_port(SOCK_STREAM));
	int r = vs_connect_flags(s, &sa, VS_MSG_DONTWAIT);
	if (r == -EINPROGRESS) {
		struct vs_pollfd p = { .fd = s, .events = VS_POLLOUT };
		cr_assert_eq(vs_poll(&p, 1, 10000), 1);
		cr_assert_eq(vs_getsockopt(s, VS_SOL_SOCKET, VS_SO_ERROR, &r), 0);
		r = -r;
	}
	cr_assert_eq(r, -ECONNREFUSED);
	cr_assert_eq(vs_close(s), 0);
}

Test(guestlib_nonblock, accept_without_waiting_and_descriptors_stand_for_handles,
     .init = start, .fini = fvm_stop, .timeout = 60)
{
	int h = vs_socket(VS_AF_INET, VS_SOCK_STREAM);
	cr_assert_geq(h, VS_HANDLE_MIN, "a handle is never below VS_HANDLE_MIN");
	int fd = vs_fd_open(h, 0);
	cr_assert_eq(fd, VS_FD_FIRST, "the lowest free descriptor");
	cr_assert_eq(vs_fd_handle(fd), h);
	struct vs_sockaddr any = fvm_loopback(0), bound;
	cr_assert_eq(vs_bind(fd, &any), 0, "a descriptor works wherever a handle does");
	cr_assert_eq(vs_listen(fd, 4), 0);
	cr_assert_eq(vs_getsockname(fd, &bound), 0);
	cr_assert_eq(vs_accept_flags(fd, NULL, VS_MSG_DONTWAIT), -EAGAIN);

	int c = fvm_connect_tcp(ntohs(bound.port)); /* another guest socket */
	struct vs_pollfd p = { .fd = fd, .events = VS_POLLIN };
	cr_assert_eq(vs_poll(&p, 1, 10000), 1);
	int conn = vs_accept_flags(fd, NULL, VS_MSG_DONTWAIT);
	cr_assert_geq(conn, VS_HANDLE_MIN);
	cr_assert_eq(vs_fd_open(conn, VS_FD_NONBLOCK), VS_FD_FIRST + 1);
	cr_assert_eq(vs_fd_flags(VS_FD_FIRST + 1), (int)VS_FD_NONBLOCK);

	cr_assert_eq(vs_fd_release(fd), 0);
	cr_assert_eq(vs_fd_handle(fd), -EBADF);
	cr_assert_eq(vs_fd_release(fd), -EBADF);
	cr_assert_eq(vs_fd_open(h, 0), VS_FD_FIRST, "a freed descriptor is reused first");
	cr_assert_eq(vs_close(VS_FD_FIRST), 0);
	cr_assert_eq(vs_close(conn), 0);
	vs_fd_release(VS_FD_FIRST);
	vs_fd_release(VS_FD_FIRST + 1);
	cr_assert_eq(vs_close(c), 0);
}
