/* SPDX-License-Identifier: MIT */
#include "sock.h"

#include <stdlib.h>
#include <unistd.h>

struct hn_sock *hn_sock_new(int fd, int type)
{
	struct hn_sock *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	atomic_init(&s->refs, 1);
	pthread_mutex_init(&s->lock, NULL);
	s->fd = fd;
	s->type = type;
	s->epfd = -1;
	return s;
}

void hn_sock_get(struct hn_sock *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void hn_sock_put(struct hn_sock *s)
{
	/* acq_rel: the freeing thread must see every other user's writes. */
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (s->fd >= 0)
		close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
