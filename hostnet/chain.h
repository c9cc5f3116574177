/* SPDX-License-Identifier: MIT */
/*
 * Chains of linked requests (abi.h, VS_SQE_LINK): the state that keeps
 * their links in order, one link running at a time.
 *
 * Each worker has one chain set for the queues it consumes.  The worker
 * hands every SQE it copies out to hn_chain_take() first: an SQE that is not
 * part of a chain comes back to be run as usual; a link either comes back to
 * run at once (its chain is idle: the common case for a whole chain in one
 * batch whose links complete at once), or waits in its chain.  When a link
 * completes (ops.c's finish(), on whatever worker thread ran it), its chain
 * notes the result in hn_chain_link_done() and, if a link waits, goes on the
 * set's ready list and kicks the owner worker, which takes the next link with
 * hn_chain_next().  Links after a failure complete -VS_ECHAINBROKEN there.
 *
 * Bounds: one open (not yet terminated) chain per queue; every link the set
 * holds was consumed from the SQ and counts in the queue's inflight until
 * its completion, so a guest that never ends a chain holds at most
 * HOSTNET_MAX_INFLIGHT links, and hn_chains_release() frees whatever is left.
 *
 * Lock order: hn_sock.lock -> hn_chain_set.lock -> hn_queue.lock.
 */
#ifndef VS_HOSTNET_CHAIN_H
#define VS_HOSTNET_CHAIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "req.h"
#include "virtsocket/abi.h"

struct hn_queue;
struct hn_chain;

struct hn_chain_set {
	pthread_mutex_t lock;
	int kick_fd;                       /* the owner worker's eventfd */
	struct hn_chain *open[VS_MAX_QUEUES]; /* per queue: the chain still taking links */
	struct hn_chain *ready_head, *ready_tail; /* chains with a link to run or finish */
	struct hn_chain *all;              /* every live chain (release frees them) */
	atomic_uint live;                  /* how many (hostnet_stats.chains_live) */
};

enum hn_chain_verdict {
	HN_CHAIN_NONE,   /* not part of a chain: run it as usual */
	HN_CHAIN_RUN,    /* a link whose turn it is: run it now as a link of *chain */
	HN_CHAIN_HELD,   /* a link the chain keeps until its turn (or completes) */
};

void hn_chains_init(struct hn_chain_set *cs, int kick_fd);
/* Free every chain and its waiting links, posting nothing (the workers are
 * gone, as at hostnet_destroy()). */
void hn_chains_release(struct hn_chain_set *cs);

/* A private SQE copy just taken from q's SQ, in SQ order.  On HN_CHAIN_RUN,
 * *sqe has had VS_HANDLE_CHAIN replaced and *chain is the link's chain. */
enum hn_chain_verdict hn_chain_take(struct hn_chain_set *cs, struct hn_queue *q,
				    struct vs_sqe *sqe, struct hn_chain **chain);

/* The next link to run, from a chain whose previous link completed: copied
 * to *sqe (VS_HANDLE_CHAIN replaced), its queue in *q.  Completes broken
 * links and frees finished chains on the way.  NULL: nothing to run. */
struct hn_chain *hn_chain_next(struct hn_chain_set *cs, struct vs_sqe *sqe,
			       struct hn_queue **q);

/* A link of c completed with res (r: the request as it ran, or as far as
 * validation decoded it).  Any thread; its CQE is already posted. */
void hn_chain_link_done(struct hn_chain *c, const struct hn_req *r, int32_t res);

#endif
