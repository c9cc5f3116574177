/* SPDX-License-Identifier: MIT */
/*
 * The guest's halves of one queue: producer of the submission ring,
 * consumer of the completion ring.
 *
 * Indices are free-running uint32_t, an entry lives at [index & (N - 1)],
 * and unsigned subtraction gives the fill level across wrap-around.  Only
 * this CPU writes sq_tail and cq_head; only the host writes sq_head,
 * cq_tail and flags (abi.h).
 */
#include <string.h>

#include "internal.h"

/* Free SQ slots: entries between the host's head and our local tail
 * (prepared or published, not yet copied out by the host) are taken. */
uint32_t vs_sq_space(struct vs_queue_state *q)
{
	/* acquire pairs with the host's release store of sq_head after it
	 * copied the entries out: only then may we overwrite those slots. */
	uint32_t head = vs_load_acquire(&q->ring->ctrl.sq_head);
	uint32_t used = q->sq_prepared - head;
	if (used > VS_SQ_ENTRIES) {
		/* The host moved its head past our tail: it is confused, and
		 * anything we write could be consumed half-filled. */
		q->broken = 1;
		return 0;
	}
	return VS_SQ_ENTRIES - used;
}

struct vs_sqe *vs_sq_next(struct vs_queue_state *q)
{
	return &q->ring->sq[q->sq_prepared & (VS_SQ_ENTRIES - 1)];
}

/* Make the prepared entries before upto visible to the host. */
void vs_sq_publish(struct vs_queue_state *q, uint32_t upto)
{
	uint32_t n = upto - q->sq_published;
	/* release pairs with the host's acquire load of sq_tail: the SQE bytes
	 * written before this store are visible once the new tail is. */
	vs_store_release(&q->ring->ctrl.sq_tail, upto);
	q->sq_published = upto;
	q->unrung += n;
	q->stats.requests += n;
}

/* Consume every completion the host has posted. */
int vs_cq_drain(struct vs_queue_state *q)
{
	/* acquire pairs with the host's release store of cq_tail after it
	 * wrote the entries: the CQE bytes below are complete. */
	uint32_t tail = vs_load_acquire(&q->ring->ctrl.cq_tail);
	uint32_t head = q->cq_head;
	if (tail == head)
		return q->broken ? -VS_EIO : 0;
	if (tail - head > VS_CQ_ENTRIES) {
		q->broken = 1;
		return -VS_EIO;
	}
	for (; head != tail; head++) {
		struct vs_cqe cqe;
		/* copy out first: the entry is in shared memory */
		memcpy(&cqe, &q->ring->cq[head & (VS_CQ_ENTRIES - 1)], sizeof(cqe));
		vs_complete(q, &cqe);
	}
	q->cq_head = head;
	/* release pairs with the host's acquire load of cq_head before it
	 * reuses those slots: we are done reading them. */
	vs_store_release(&q->ring->ctrl.cq_head, head);
	return 0;
}

/*
 * A full SQ: waiting for the host to take entries.
 *
 * The worker copies out everything the SQ holds in one go (sq_head moves
 * then), runs it, and takes again only after that pass.  So the wait is as
 * long as the rest of the pass: microseconds for a stream's gathered SENDs,
 * milliseconds for a server's batch of a SEND and a RECV per connection
 * (what filled the SQ of 256 entries at 1,000 connections under wrk, nested
 * sandbox; abi.h's VS_SQ_ENTRIES is 1,024 since).  Spinning
 * through the long kind took half the vCPU's guest-mode time there
 * (scripts/guest-profile: spin() in vs_sched_wait, 47-77 %), and 0.6 of the
 * host's two CPUs at 10,000 connections: CPU the worker running that very
 * pass needed (guest-lib/README.md, "A full SQ sleeps for room").
 *
 * So: spin VS_SQ_ROOM_SPIN_NS, enough for the short kind, then sleep in a
 * WAIT.  No completion says "room", but the pass posts one per request that
 * completes as it runs: the WAIT asks for half an SQ's worth of them, or a
 * millisecond, whichever comes first, and looks again.
 */
#define VS_SQ_ROOM_SPIN_NS 20000u

/* As a vs_sched_wait condition: 0 once there is room, else the wait_min
 * of the WAIT (in the other modes the first completion ends it, as before). */
static uint32_t sq_has_room(struct vs_queue_state *q, void *arg)
{
	(void)arg;
	if (vs_sq_space(q))
		return 0;
	return vs_lib.t.notify == VS_NOTIFY_ADAPTIVE ? VS_SQ_ENTRIES / 2 : 1;
}

static bool room_came_while_spinning(struct vs_queue_state *q)
{
	uint64_t until = vs_lib.t.now_ns(vs_lib.t.ctx) + VS_SQ_ROOM_SPIN_NS;
	do {
		for (int i = 0; i < 16; i++)
			vs_cpu_relax();
		if (vs_sq_space(q))
			return true;
	} while (vs_lib.t.now_ns(vs_lib.t.ctx) < until);
	return false;
}

int vs_sq_wait_room(struct vs_queue_state *q)
{
	while (vs_sq_space(q) == 0) {
		if (q->broken)
			return -VS_EIO;
		/* Everything in the SQ is published, or the host would never take it. */
		int err = vs_sched_submit(q, false);
		if (err < 0)
			return err;
		if (vs_lib.t.notify == VS_NOTIFY_ADAPTIVE && room_came_while_spinning(q))
			break;
		q->stats.sq_full_waits++;
		uint16_t no_spin = q->no_spin;
		q->no_spin = 1; /* spun already */
		err = vs_sched_wait(q, sq_has_room, NULL, 1000000);
		q->no_spin = no_spin;
		if (err && err != -VS_ETIMEDOUT)
			return err;
	}
	return q->broken ? -VS_EIO : 0;
}

int vs_sq_put(struct vs_queue_state *q, const struct vs_sqe *sqe)
{
	int err = vs_sq_wait_room(q);
	if (err)
		return err;
	memcpy(vs_sq_next(q), sqe, sizeof(*sqe));
	q->sq_prepared++;
	return 0;
}
