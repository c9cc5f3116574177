/* SPDX-License-Identifier: MIT */
#include "linger.h"

#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "handle_table.h"

/* The connection's TCP state (TCP_ESTABLISHED...), or TCP_CLOSE if unknown. */
static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) || len < 1)
		return TCP_CLOSE;
	return ti.tcpi_state;
}

/* Close with a reset: the kernel frees the socket at once, no orphan. */
static void reset_close(int fd)
{
	struct linger now = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	close(fd);
}

void hn_linger_close(struct hn_exec *x, int fd, int type)
{
	int st = type == SOCK_STREAM ? tcp_state(fd) : TCP_CLOSE;
	if (st == TCP_CLOSE || st == TCP_LISTEN || st == TCP_SYN_SENT) {
		close(fd); /* nothing the kernel would keep */
		return;
	}
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET,
				  .data.u64 = HN_LINGER_TAG };
	if (x->nr_linger >= x->max_sockets || !hn_handles_reserve(x->handles, 1)) {
		reset_close(fd);
		return;
	}
	if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		hn_handles_unreserve(x->handles, 1);
		reset_close(fd);
		return;
	}
	shutdown(fd, SHUT_WR); /* the FIN goes after the data */
	x->linger[x->nr_linger++] = (struct hn_linger){
		.fd = fd, .deadline_ns = hn_now_ns() + HN_LINGER_MS * 1000000ull,
	};
}

void hn_linger_poll(struct hn_exec *x, uint64_t now_ns)
{
	x->linger_checked_ns = now_ns;
	for (uint32_t i = 0; i < x->nr_linger;) {
		struct hn_linger *l = &x->linger[i];
		bool done = tcp_state(l->fd) == TCP_CLOSE;
		if (!done && now_ns < l->deadline_ns) {
			i++;
			continue;
		}
		epoll_ctl(x->epfd, EPOLL_CTL_DEL, l->fd, NULL);
		if (done)
			close(l->fd);
		else
			reset_close(l->fd);
		hn_handles_unreserve(x->handles, 1);
		*l = x->linger[--x->nr_linger];
	}
}

void hn_linger_tick(struct hn_exec *x, uint64_t now_ns)
{
	if (x->nr_linger && now_ns - x->linger_checked_ns >= HN_LINGER_POLL_MS * 1000000ull)
		hn_linger_poll(x, now_ns);
}

void hn_linger_reset_all(struct hn_exec *x)
{
	for (uint32_t i = 0; i < x->nr_linger; i++)
		reset_close(x->linger[i].fd);
	x->nr_linger = 0;
}
