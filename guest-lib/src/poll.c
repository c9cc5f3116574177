/* SPDX-License-Identifier: MIT */
/*
 * vs_poll(): one VS_OP_POLL per socket, all in one batch; wait until the
 * first completes or the timeout passes; then VS_OP_CANCEL the rest and
 * collect every answer (a poll may complete with a ready mask while its
 * cancel is on the way: that readiness counts too).
 *
 * A zero timeout needs no cancel: the polls go out with VS_SQE_NONBLOCK and
 * answer -EAGAIN when nothing is ready.
 *
 * A stream descriptor with a read-ahead (stream.c) is readable when its buffer
 * holds data, end of file or an error: the host's socket may be empty then, so
 * its POLL does not ask for input, and its RECV's completion ends the wait.
 */
#include "internal.h"

struct poll_set {
	struct vs_req *req[VS_POLL_MAX];
	struct vs_stream *st[VS_POLL_MAX]; /* input from its read-ahead, or NULL */
	unsigned n;
};

static bool stream_readable(const struct poll_set *set, unsigned i)
{
	return set->st[i] && vs_stream_events(set->st[i]);
}

/* Completions still needed (vs_wait_cond): 0 once any poll is done. */
static uint32_t any_done(struct vs_queue_state *q, void *arg)
{
	(void)q;
	const struct poll_set *set = arg;
	for (unsigned i = 0; i < set->n; i++)
		if ((set->req[i] && set->req[i]->state == VS_REQ_DONE) || stream_readable(set, i))
			return 0;
	return 1;
}

/* ... the number of requests of the set not done yet. */
static uint32_t all_done(struct vs_queue_state *q, void *arg)
{
	(void)q;
	const struct poll_set *set = arg;
	uint32_t pending = 0;
	/* (a poll set of cancels has no streams: its st[] is not looked at) */
	for (unsigned i = 0; i < set->n; i++)
		if (set->req[i] && set->req[i]->state != VS_REQ_DONE)
			pending++;
	return pending;
}

static void abandon_all(struct vs_queue_state *q, struct poll_set *set)
{
	for (unsigned i = 0; i < set->n; i++)
		if (set->req[i])
			vs_req_abandon(q, set->req[i]);
}

static short revents_of(int result)
{
	if (result > 0)
		return (short)result;
	if (result == -VS_EBADF || result == -VS_ENOTSOCK)
		return VS_POLLNVAL;
	if (result == 0 || result == -VS_ECANCELED || result == -VS_EAGAIN)
		return 0;
	return VS_POLLERR;
}

/* One POLL request per fd (fd < 0: none, POSIX ignores it). */
static int prep_polls(struct vs_queue_state *q, struct vs_pollfd *fds, unsigned nfds,
		      int timeout_ms, struct poll_set *polls)
{
	polls->n = nfds;
	for (unsigned i = 0; i < nfds; i++) {
		fds[i].revents = 0;
		polls->req[i] = NULL;
		polls->st[i] = NULL;
		if (fds[i].fd < 0)
			continue;
		unsigned events = (uint16_t)fds[i].events;
		struct vs_stream *st = vs_stream_of(fds[i].fd);
		if ((events & VS_POLLIN) && vs_stream_reading(st) && !vs_stream_rearm(q, st)) {
			polls->st[i] = st;
			events &= ~VS_POLLIN; /* (readable already: vs_poll made the timeout 0) */
		}
		struct vs_sqe sqe;
		vs_build_simple(&sqe, VS_OP_POLL, fds[i].fd, vs_poll_mask(events));
		if (timeout_ms == 0)
			sqe.flags = VS_SQE_NONBLOCK;
		int err = vs_prep_sync(q, &sqe, NULL, &polls->req[i]);
		if (err) {
			polls->req[i] = NULL;
			abandon_all(q, polls);
			return err;
		}
	}
	return 0;
}

/* Cancel every poll still pending (the cancels themselves are requests) and wait until
 * all polls and cancels completed. */
static int cancel_rest(struct vs_queue_state *q, struct poll_set *polls,
		       struct poll_set *cancels)
{
	int err;

	cancels->n = polls->n;
	for (unsigned i = 0; i < polls->n; i++) {
		cancels->req[i] = NULL;
		if (!polls->req[i] || polls->req[i]->state == VS_REQ_DONE)
			continue;
		struct vs_sqe sqe;
		vs_build_cancel(&sqe, q, polls->req[i]);
		err = vs_prep_sync(q, &sqe, NULL, &cancels->req[i]);
		if (err) {
			cancels->req[i] = NULL;
			goto fail;
		}
	}
	err = vs_sched_wait(q, all_done, polls, -1);
	if (!err)
		err = vs_sched_wait(q, all_done, cancels, -1);
	if (!err)
		return 0;
fail:
	abandon_all(q, cancels);
	abandon_all(q, polls);
	return err;
}

int vs_poll(struct vs_pollfd *fds, unsigned nfds, int timeout_ms)
{
	if (nfds > VS_POLL_MAX || (nfds && !fds))
		return -VS_EINVAL;
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;

	struct poll_set polls, cancels;
	for (unsigned i = 0; i < nfds; i++) { /* a read-ahead already readable: no wait */
		struct vs_stream *st = fds[i].fd >= 0 && (fds[i].events & VS_POLLIN)
					       ? vs_stream_of(fds[i].fd) : NULL;
		if (vs_stream_reading(st) && vs_stream_events(st))
			timeout_ms = 0;
	}
	int err = prep_polls(q, fds, nfds, timeout_ms, &polls);
	if (err)
		return err;
	int64_t timeout_ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
	err = vs_sched_wait_any(q, timeout_ms == 0 ? all_done : any_done, &polls, timeout_ns);
	if (err && err != -VS_ETIMEDOUT) {
		abandon_all(q, &polls);
		return err;
	}
	err = cancel_rest(q, &polls, &cancels);
	if (err)
		return err;

	int ready = 0;
	for (unsigned i = 0; i < nfds; i++) {
		if (polls.req[i]) {
			fds[i].revents = revents_of(polls.req[i]->result);
			vs_req_free(q, polls.req[i]);
		}
		if (stream_readable(&polls, i))
			fds[i].revents |= VS_POLLIN;
		if (cancels.req[i])
			vs_req_free(q, cancels.req[i]);
		if (fds[i].revents)
			ready++;
	}
	return ready;
}
