/* SPDX-License-Identifier: MIT */
/*
 * One queue's parked requests, found by user_data: what CANCEL looks up.
 *
 * Without it a CANCEL walked every open socket's lists (O(max_sockets) per
 * CANCEL, and a snapshot array of max_sockets per worker).  Each request that
 * parks (ops.c: park) joins its queue's index and leaves it when it finishes,
 * so a CANCEL costs a hash lookup plus the matching chain.
 *
 * Intrusive (hn_req.pend_prev/pend_next), chained hash on user_data, grown
 * when it passes two entries per bucket.  Own mutex; lock order: a socket's
 * lock, then this one (finish() removes under the socket lock).
 */
#ifndef VS_HOSTNET_PENDING_H
#define VS_HOSTNET_PENDING_H

#include <pthread.h>
#include <stdint.h>

struct hn_req;
struct hn_sock;

struct hn_pending {
	pthread_mutex_t lock;
	struct hn_req **bucket;  /* NULL until the first request parks */
	uint32_t nbuckets;       /* a power of two */
	uint32_t count;
};

void hn_pending_init(struct hn_pending *p);
void hn_pending_destroy(struct hn_pending *p);

/* r (parked, on the heap) joins / leaves.  Add can only fail to grow the
 * table: it then chains longer, never loses r. */
void hn_pending_add(struct hn_pending *p, struct hn_req *r);
void hn_pending_remove(struct hn_pending *p, struct hn_req *r);

/* The socket of the oldest parked request with user_data (a new reference)
 * and that request's seq, or NULL if none. */
struct hn_sock *hn_pending_oldest(struct hn_pending *p, uint64_t user_data, uint64_t *seq);

#endif
