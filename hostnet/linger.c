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
#include "tcpinfo.h"

/* The connection's TCP_INFO; state TCP_CLOSE if the kernel would not say. */
static struct hn_tcp_look tcp_look(int fd)
{
	struct hn_tcp_look t;
	if (hn_tcp_info(fd, &t) < 0)
		t.state = TCP_CLOSE;
	return t;
}

/* Data the guest never read is waiting: a close then resets the connection
 * (RFC 2525's rule, which Linux follows), and so must a lingering close. */
static bool has_unread(int fd)
{
	char b;
	return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Do the counts settle that nothing is left unread: all the connection
 * received (less its FIN, counted as a byte) was consumed?  More received than
 * consumed is only a "maybe": urgent data counts as received and a read skips
 * it (then only a peek tells, and close() would count it as unread). */
static bool all_read(const struct hn_tcp_look *t, uint64_t consumed)
{
	bool fin = t->state == TCP_CLOSE_WAIT || t->state == TCP_LAST_ACK ||
		   t->state == TCP_CLOSING;
	return t->received != HN_TCP_UNKNOWN && consumed != HN_TCP_UNKNOWN &&
	       t->received - fin <= consumed;
}

/* No connection the kernel would keep: closed, reset, a listener, a connect
 * still going. */
static bool no_connection(const struct hn_tcp_look *t)
{
	return t->state == TCP_CLOSE || t->state == TCP_LISTEN || t->state == TCP_SYN_SENT;
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
	*l = (struct hn_linger_set){ .handles = handles, .epfd = epfd, .cap = cap,
				     .free_head = HN_LINGER_NONE, .oldest = HN_LINGER_NONE,
				     .newest = HN_LINGER_NONE };
	l->v = calloc(cap, sizeof(*l->v));
	if (!l->v)
		return -ENOMEM;
	for (uint32_t i = cap; i-- > 0;) {
		l->v[i].fd = -1;
		l->v[i].next = l->free_head;
		l->free_head = i;
	}
	return 0;
}

/* The VM is going away: the guest can make no more sockets, so what a
 * lingering connection still owes its peer no longer needs counting against
 * --max-sockets.  A plain close() leaves it to the kernel, as any host program
 * that closes and exits does: the data already queued (the guest was told it
 * was sent) and then the FIN still go out, bounded by the kernel's own orphan
 * limits.  A reset here would cut off a peer still reading a response that
 * the guest finished before it exited. */
void hn_linger_release(struct hn_linger_set *l)
{
	for (uint32_t i = 0; l->v && i < l->cap; i++)
		if (l->v[i].fd >= 0)
			close(l->v[i].fd);
	l->n = 0;
	free(l->v);
	l->v = NULL;
}

/* Watch fd for its lingering close in l's epoll set: one MOD when the set already
 * watches it (the worker that made the socket closes it), else out of the other
 * worker's set and into this one. */
static int watch(struct hn_linger_set *l, int fd, int watched_by, uint32_t slot)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET,
				  .data.u64 = HN_LINGER_TAG + slot };
	if (watched_by == l->epfd)
		return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
	if (watched_by >= 0)
		epoll_ctl(watched_by, EPOLL_CTL_DEL, fd, NULL);
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void hn_linger_close(struct hn_linger_set *l, int fd, int type, int watched_by, bool place,
		     uint64_t consumed)
{
	struct hn_tcp_look t = { .state = TCP_CLOSE, .received = HN_TCP_UNKNOWN };
	if (type == SOCK_STREAM)
		t = tcp_look(fd);
	bool read_all = all_read(&t, consumed);
	/* close() takes fd out of every epoll set (nothing else holds the socket).
	 * At once: nothing the kernel would keep; data left unread (close()
	 * resets); or every byte read and every byte the guest sent acknowledged
	 * by the peer (owes_nothing): the orphan close() leaves holds no payload,
	 * only its FIN, which goes at once (a FIN of ours not yet acknowledged
	 * counts as unacked: such a connection lingers).  Only a connection that
	 * still owes the peer data lingers, so that data stays counted. */
	if (no_connection(&t) || (!read_all && has_unread(fd)) || (read_all && t.owes_nothing)) {
		close(fd);
		if (place)
			hn_handles_unreserve(l->handles, 1);
		return;
	}
	uint32_t slot = l->free_head;
	if (slot == HN_LINGER_NONE || !place || watch(l, fd, watched_by, slot) < 0) {
		if (place)
			hn_handles_unreserve(l->handles, 1);
		reset_close(fd);
		return;
	}
	shutdown(fd, SHUT_WR); /* the FIN goes after the data */
	struct hn_linger *e = &l->v[slot];
	l->free_head = e->next;
	/* every deadline is now + the same span: appending keeps them in order */
	*e = (struct hn_linger){ .fd = fd, .prev = l->newest, .next = HN_LINGER_NONE,
				 .deadline_ns = hn_now_ns() + HN_LINGER_MS * 1000000ull };
	if (l->newest == HN_LINGER_NONE)
		l->oldest = slot;
	else
		l->v[l->newest].next = slot;
	l->newest = slot;
	l->n++;
}

/* Out of the deadline order into the free list; gives its place back. */
static void release_slot(struct hn_linger_set *l, uint32_t slot)
{
	struct hn_linger *e = &l->v[slot];
	if (e->prev == HN_LINGER_NONE)
		l->oldest = e->next;
	else
		l->v[e->prev].next = e->next;
	if (e->next == HN_LINGER_NONE)
		l->newest = e->prev;
	else
		l->v[e->next].prev = e->prev;
	e->fd = -1;
	e->next = l->free_head;
	l->free_head = slot;
	l->n--;
	hn_handles_unreserve(l->handles, 1);
}

/* Finish slot's socket if it is done (or due): close it quietly once closed both
 * ways, reset it when data came for it or its time is up. */
static void check(struct hn_linger_set *l, uint32_t slot, uint64_t now_ns)
{
	struct hn_linger *e = &l->v[slot];
	if (e->fd < 0)
		return;
	bool done = tcp_look(e->fd).state == TCP_CLOSE;
	/* Data for a socket the guest closed: the kernel would reset. */
	bool reset = !done && has_unread(e->fd);
	if (!done && !reset && now_ns < e->deadline_ns)
		return;
	/* close() takes it out of the epoll set: no EPOLL_CTL_DEL first */
	if (done)
		close(e->fd);
	else
		reset_close(e->fd);
	release_slot(l, slot);
}

void hn_linger_event(struct hn_linger_set *l, uint64_t tag, uint64_t now_ns)
{
	uint64_t slot = tag - HN_LINGER_TAG;
	if (slot < l->cap)
		check(l, (uint32_t)slot, now_ns);
}

void hn_linger_tick(struct hn_linger_set *l, uint64_t now_ns)
{
	if (!l->n || now_ns - l->checked_ns < HN_LINGER_POLL_MS * 1000000ull)
		return;
	l->checked_ns = now_ns;
	while (l->oldest != HN_LINGER_NONE && l->v[l->oldest].deadline_ns <= now_ns)
		check(l, l->oldest, now_ns);
	for (uint32_t k = 0, seen = 0; k < l->cap && k < 32 * HN_LINGER_SWEEP &&
					  seen < HN_LINGER_SWEEP && l->n; k++) {
		uint32_t slot = l->sweep;
		l->sweep = slot + 1 < l->cap ? slot + 1 : 0;
		if (l->v[slot].fd >= 0) {
			seen++;
			check(l, slot, now_ns);
		}
	}
}
