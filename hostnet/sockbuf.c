/* SPDX-License-Identifier: MIT */
/* Guest socket buffers: autotuned within the VM's budget, else capped (sockbuf.h). */
#include "sockbuf.h"

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hostnet.h"

void hn_sockbuf_init(struct hn_sockbuf *b, const struct hostnet_config *cfg)
{
	b->cap = cfg->sock_buffer;
	b->max_autotuned = 0;
	if (cfg->sock_autotune_bytes) {
		uint64_t n = cfg->sock_memory / cfg->sock_autotune_bytes;
		b->max_autotuned = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	}
	atomic_init(&b->autotuned, 0);
}

/* Take a place for one more autotuned socket, if there is one. */
static bool take_place(struct hn_sockbuf *b)
{
	unsigned n = atomic_load(&b->autotuned);
	do {
		if (n >= b->max_autotuned)
			return false;
	} while (!atomic_compare_exchange_weak(&b->autotuned, &n, n + 1));
	return true;
}

int hn_sockbuf_apply(struct hn_sockbuf *b, int fd, bool unlocked, bool *autotuned)
{
	*autotuned = false;
	if (b->cap == HOSTNET_SOCK_BUFFER_AUTO || !unlocked)
		return 0; /* no cap at all, or the listener's came with the socket */
	if (take_place(b)) {
		*autotuned = true;
		return 0;
	}
	int cap = (int)b->cap;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cap, sizeof(cap)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cap, sizeof(cap)))
		return -errno;
	return 0;
}

void hn_sockbuf_release(struct hn_sockbuf *b)
{
	atomic_fetch_sub(&b->autotuned, 1);
}

int hn_sockbuf_limit(const struct hn_sockbuf *b, bool autotuned)
{
	if (b->cap == HOSTNET_SOCK_BUFFER_AUTO || autotuned)
		return INT32_MAX; /* Linux's own net.core.{w,r}mem_max still applies */
	return (int)b->cap;
}
