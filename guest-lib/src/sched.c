/* SPDX-License-Identifier: MIT */
/*
 * The scheduler: when the guest rings the doorbell.
 *
 * Requests are published to the SQ in groups; a group is "handed over"
 * when it is full, when the caller must wait for a result, or on
 * vs_flush().  A hand-over is a SUBMIT doorbell, except in adaptive mode
 * while the host worker is polling the SQ (NEED_WAKEUP clear): then the
 * doorbell is skipped and the worker finds the requests on its own.
 *
 *   every     group = 1 request: one SUBMIT per request
 *   batch     group = transport.batch requests: one SUBMIT per group
 *   adaptive  as batch, but skip SUBMIT while the host polls; before
 *             blocking, spin on the CQ for up to transport.spin_ns
 *
 * Waiting: drain the CQ; if what we wait for is not there, ring WAIT
 * (plus SUBMIT when there are requests not handed over yet, so that a
 * blocking call costs one exit, not two) with the remaining timeout.  The
 * vCPU then blocks inside the VMM until a completion arrives; no interrupt
 * is needed.
 *
 * Invariant at rest (between library calls): q->unrung < group size.
 */
#include "internal.h"

static uint32_t group_size(void)
{
	return vs_lib.t.notify == VS_NOTIFY_EVERY ? 1 : vs_lib.t.batch;
}

static int64_t ring(struct vs_queue_state *q, uint32_t flags, uint32_t wait_ms)
{
	q->stats.doorbells++;
	if (flags & VS_DB_SUBMIT) {
		q->stats.doorbells_submit++;
		if (q->unrung)
			q->stats.batches++;
		q->unrung = 0;
	}
	if (flags & VS_DB_WAIT)
		q->stats.doorbells_wait++;
	return vs_lib.t.doorbell(vs_lib.t.ctx, VS_DB_ARG(q->index, flags, wait_ms));
}

/* Is the host worker polling this queue's SQ right now? */
static bool host_polling(struct vs_queue_state *q)
{
	/* seq_cst fence: our sq_tail store must be globally visible before we
	 * read flags.  Pairs with the host's fence between setting NEED_WAKEUP
	 * and re-reading sq_tail: either it sees our tail, or we see the flag. */
	atomic_thread_fence(memory_order_seq_cst);
	/* acquire pairs with the host's release store of flags */
	uint32_t flags = vs_load_acquire(&q->ring->ctrl.flags);
	if (flags & VS_QF_BROKEN)
		q->broken = 1;
	return !(flags & VS_QF_NEED_WAKEUP);
}

/* Make sure the host will look at every published request. */
static int hand_over(struct vs_queue_state *q)
{
	if (q->unrung == 0)
		return 0;
	if (vs_lib.t.notify == VS_NOTIFY_ADAPTIVE && host_polling(q)) {
		q->stats.doorbells_skipped++;
		q->stats.batches++;
		q->unrung = 0;
		return 0;
	}
	int64_t r = ring(q, VS_DB_SUBMIT, 0);
	return r < 0 ? (int)r : 0;
}

/*
 * Publish every prepared request, group by group, handing over each full
 * group.  caller_waits: the caller is about to wait, so the last full group
 * is left for the WAIT doorbell to carry.  Returns the number published.
 */
int vs_sched_submit(struct vs_queue_state *q, bool caller_waits)
{
	uint32_t limit = group_size();
	int published = (int)(q->sq_prepared - q->sq_published);

	for (;;) {
		bool all_out = q->sq_published == q->sq_prepared;
		if (q->unrung >= limit && !(caller_waits && all_out)) {
			int err = hand_over(q);
			if (err)
				return err;
		}
		if (all_out)
			return published;
		uint32_t n = q->sq_prepared - q->sq_published;
		if (n > limit - q->unrung)
			n = limit - q->unrung;
		vs_sq_publish(q, q->sq_published + n);
	}
}

int vs_sched_flush(struct vs_queue_state *q)
{
	int n = vs_sched_submit(q, false);
	if (n < 0)
		return n;
	return hand_over(q);
}

static uint32_t wait_ms_until(uint64_t now, uint64_t deadline)
{
	if (deadline == UINT64_MAX)
		return VS_DB_WAIT_FOREVER;
	uint64_t ms = (deadline - now + 999999u) / 1000000u;
	return ms >= VS_DB_WAIT_FOREVER ? VS_DB_WAIT_FOREVER - 1 : (uint32_t)ms;
}

/* Two things need the doorbell at once, however long the spin cap: a broken
 * queue (WAIT says -EIO) and completions the host holds back (CQ_OVERFLOW)
 * while it sleeps: only a doorbell makes it move them into the room our
 * drain just made. */
static bool must_ring(struct vs_queue_state *q)
{
	/* acquire pairs with the host's seq_cst updates of flags */
	uint32_t flags = vs_load_acquire(&q->ring->ctrl.flags);
	const uint32_t held = VS_QF_CQ_OVERFLOW | VS_QF_NEED_WAKEUP;
	return (flags & VS_QF_BROKEN) || (flags & held) == held;
}

/*
 * Adaptive: poll the CQ instead of exiting, at most transport.spin_ns.  Every
 * request is handed over when this runs (q->unrung == 0), so the host will
 * complete what we wait for without a doorbell: a socket event wakes a
 * sleeping worker by itself.  A WAIT doorbell only saves the vCPU's time,
 * at the price of an exit, once the spin cap says the wait is a long one.
 * True if cond became true.
 */
static bool spin(struct vs_queue_state *q, vs_wait_cond cond, void *arg, uint64_t deadline, int *err)
{
	if (q->no_spin)
		return false;
	/* (every request is handed over: published = with the host) */
	bool crowd = vs_spin_crowded(vs_with_host(q));
	/* crowded spins are judged apart from a flow's (spin_backoff.h) */
	struct vs_spin_backoff *backoff = crowd ? &q->crowd_backoff : &q->spin_backoff;
	if (crowd)
		q->stats.spins_crowded++;
	if (!vs_spin_backoff_allows(backoff)) {
		q->stats.spins_skipped++;
		return false;
	}
	uint64_t now = vs_lib.t.now_ns(vs_lib.t.ctx);
	const uint64_t cap = now + (uint64_t)vs_lib.t.spin_ns * (crowd ? VS_SPIN_CROWD_CAP_X : 1u);
	uint64_t until = cap < deadline ? cap : deadline;
	enum vs_spin_outcome outcome = until == cap ? VS_SPIN_MISSED : VS_SPIN_NEUTRAL;
	bool hit = false;
	while (now < until) {
		for (int i = 0; i < 16; i++)
			vs_cpu_relax();
		*err = vs_cq_drain(q);
		if (*err)
			return false;
		if (cond(q, arg) == 0) {
			q->stats.spin_hits++;
			hit = true;
			/* past the cap: the vCPU was off its CPU while it "spun" */
			now = vs_lib.t.now_ns(vs_lib.t.ctx);
			outcome = now <= cap ? VS_SPIN_PAID : VS_SPIN_MISSED;
			if (now > cap)
				q->stats.spins_late++;
			break;
		}
		if (must_ring(q)) {
			outcome = VS_SPIN_NEUTRAL;
			break;
		}
		now = vs_lib.t.now_ns(vs_lib.t.ctx);
	}
	if (!hit && outcome == VS_SPIN_MISSED) {
		q->stats.spins_capped++;
		if (crowd) {
			q->crowd_capped_ns = now; /* judged once its WAIT returns */
			return false;
		}
	}
	vs_spin_backoff_note(backoff, outcome);
	return hit;
}

/*
 * A crowded spin that reached its cap, judged by the WAIT after it.  When
 * the worker that produces the completions loses its CPU a moment longer
 * than the cap, the WAIT returns within a spin cap of it: the spin nearly
 * paid, and skipping the next spins would only turn them into WAITs.  A
 * longer sleep is a miss.
 */
static void judge_crowded_cap(struct vs_queue_state *q)
{
	if (q->crowd_capped_ns == 0)
		return;
	uint64_t waited = vs_lib.t.now_ns(vs_lib.t.ctx) - q->crowd_capped_ns;
	q->crowd_capped_ns = 0;
	vs_spin_backoff_note(&q->crowd_backoff,
			     waited <= vs_lib.t.spin_ns ? VS_SPIN_PAID : VS_SPIN_MISSED);
}

/* Ring WAIT (with SUBMIT if requests are not handed over yet), asking the
 * host for `need` completions so it does not return after the first. */
static int64_t ring_wait(struct vs_queue_state *q, uint32_t need, uint32_t wait_ms)
{
	/* The doorbell (an exit, a "memory" clobber) orders this store before
	 * the host's load; release only keeps the compiler honest. */
	vs_store_release(&q->ring->ctrl.wait_min, need);
	return ring(q, VS_DB_WAIT | (q->unrung ? VS_DB_SUBMIT : 0), wait_ms);
}

/*
 * Submit, then wait until cond(q, arg) says nothing more is needed or
 * timeout_ns passes (< 0: forever).  Returns 0, -ETIMEDOUT, -EIO (queue
 * broken) or the doorbell's error (-EINTR: the VM is stopping).
 */
int vs_sched_wait(struct vs_queue_state *q, vs_wait_cond cond, void *arg, int64_t timeout_ns)
{
	int err = vs_sched_submit(q, true);
	if (err < 0)
		return err;
	uint64_t deadline = UINT64_MAX;
	if (timeout_ns >= 0)
		deadline = vs_lib.t.now_ns(vs_lib.t.ctx) + (uint64_t)timeout_ns;

	for (;;) {
		err = vs_cq_drain(q);
		if (err)
			return err;
		uint32_t need = cond(q, arg);
		if (need == 0)
			return q->unrung >= group_size() ? hand_over(q) : 0;
		bool batch = false; /* crowd_batch.h: asleep for a batch, not spinning */

		if (vs_lib.t.notify == VS_NOTIFY_ADAPTIVE) {
			if (q->unrung && host_polling(q)) {
				q->stats.doorbells_skipped++;
				q->stats.batches++;
				q->unrung = 0;
			}
			/* (every request is handed over: published = with the host) */
			batch = q->wait_any &&
				vs_spin_crowded(vs_with_host(q));
			if (q->unrung == 0 && !batch) {
				if (spin(q, cond, arg, deadline, &err))
					return 0;
				if (err)
					return err;
				need = cond(q, arg); /* the spin may have reaped some */
			}
		}

		uint64_t now = vs_lib.t.now_ns(vs_lib.t.ctx);
		if (now >= deadline) {
			q->crowd_capped_ns = 0; /* no WAIT to judge it by */
			err = hand_over(q); /* the caller waited: its requests go out */
			return err ? err : -VS_ETIMEDOUT;
		}
		uint32_t wait_ms = wait_ms_until(now, deadline);
		uint32_t ask = need;
		if (batch) {
			ask = vs_crowd_batch_ask(&q->crowd_batch, need, vs_with_host(q));
			if (ask > need) {
				q->stats.batch_waits++;
				if (wait_ms > VS_CROWD_BATCH_MS)
					wait_ms = VS_CROWD_BATCH_MS;
			}
		}
		int64_t r = ring_wait(q, ask, wait_ms);
		judge_crowded_cap(q);
		if (batch) {
			uint64_t waited = vs_lib.t.now_ns(vs_lib.t.ctx) - now;
			uint32_t got = r > 0 ? (uint32_t)r : 0;
			if (ask == need) {
				vs_crowd_batch_note_plain(&q->crowd_batch, got, waited);
			} else {
				if (got < ask)
					q->stats.batch_timeouts++;
				vs_crowd_batch_note(&q->crowd_batch, ask, got, waited);
			}
		}
		if (r < 0 && r != -VS_ETIMEDOUT && r != -VS_EAGAIN)
			return (int)r;
	}
}

int vs_sched_wait_any(struct vs_queue_state *q, vs_wait_cond cond, void *arg, int64_t timeout_ns)
{
	q->wait_any = 1;
	int err = vs_sched_wait(q, cond, arg, timeout_ns);
	q->wait_any = 0;
	return err;
}
