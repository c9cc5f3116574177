/* SPDX-License-Identifier: MIT */
#include "linger.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
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

/* Data the guest never read is waiting: a close then resets the connection
 * (RFC 2525's rule, which Linux follows), and so must a lingering close. */
static bool has_unread(int fd)
{
	char b;
	return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Close with a reset: the kernel frees the socket at once, no orphan. */
static void reset_close(int fd)
{
	struct linger now = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	close(fd);
}

int hn_linger_init(struct hn_linger_set *l, struct hn_handle_table *handles, int epfd,
		   uint32_t cap)
{
	*l = (struct hn_linger_set){ .handles = handles, .epfd = epfd, .cap = cap };
	l->v = calloc(cap, sizeof(*l->v));
	return l->v ? 0 : -ENOMEM;
}

void hn_linger_release(struct hn_linger_set *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		reset_close(l->v[i].fd);
	l->n = 0;
	free(l->v);
	l->v = NULL;
}

void hn_linger_close(struct hn_linger_set *l, int fd, int type)
{
	int st = type == SOCK_STREAM ? tcp_state(fd) : TCP_CLOSE;
	if (st == TCP_CLOSE || st == TCP_LISTEN || st == TCP_SYN_SENT || has_unread(fd)) {
		close(fd); /* nothing the kernel would keep, or a reset that frees it */
		return;
	}
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET,
				  .data.u64 = HN_LINGER_TAG };
	if (l->n >= l->cap || !hn_handles_reserve(l->handles, 1)) {
		reset_close(fd);
		return;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		hn_handles_unreserve(l->handles, 1);
		reset_close(fd);
		return;
	}
	shutdown(fd, SHUT_WR); /* the FIN goes after the data */
	l->v[l->n++] = (struct hn_linger){
		.fd = fd, .deadline_ns = hn_now_ns() + HN_LINGER_MS * 1000000ull,
	};
}

void hn_linger_poll(struct hn_linger_set *l, uint64_t now_ns)
{
	l->checked_ns = now_ns;
	for (uint32_t i = 0; i < l->n;) {
		struct hn_linger *e = &l->v[i];
		bool done = tcp_state(e->fd) == TCP_CLOSE;
		/* Data for a socket the guest closed: the kernel would reset. */
		bool reset = !done && has_unread(e->fd);
		if (!done && !reset && now_ns < e->deadline_ns) {
			i++;
			continue;
		}
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->fd, NULL);
		if (done)
			close(e->fd);
		else
			reset_close(e->fd);
		hn_handles_unreserve(l->handles, 1);
		*e = l->v[--l->n];
	}
}

void hn_linger_tick(struct hn_linger_set *l, uint64_t now_ns)
{
	if (l->n && now_ns - l->checked_ns >= HN_LINGER_POLL_MS * 1000000ull)
		hn_linger_poll(l, now_ns);
}
