/* SPDX-License-Identifier: MIT */
/*
 * Interest sets (vs_epoll.h): one armed VS_OP_POLL per registered socket,
 * whose completion is the ready event.
 *
 * Why armed POLLs and not a request table entry each: a set may hold tens of
 * thousands of sockets, far more than the VS_MAX_INFLIGHT request records a
 * queue has.  So a set's POLLs live outside the record table: their SQE
 * user_data is a tag of its own (VS_EPOLL_TAG set, which no record tag has),
 * and vs_complete() hands those CQEs here.  The tag names the set, the
 * descriptor and the arming's generation (a global counter, so a tag is never
 * reused while an older POLL with it may still be on the host): a completion
 * whose generation is not the item's current one is stale (the socket was
 * removed, modified or closed meanwhile) and dropped, so nothing is reported
 * twice and a re-registered descriptor never sees its predecessor's event.
 *
 *   tag = VS_EPOLL_TAG | cancel << 62 | set << 56 | gen << 24 | fd
 *
 * Item states: registered -> armed (gen != 0, a POLL on the host) -> ready
 * (in the ready list) -> returned by a wait (in the rearm list) -> armed
 * again at the next wait.  Both lists are FIFO, linked through the items.
 *
 * Input on a stream descriptor (VS_FD_STREAM, zero copy, an allocator given) is
 * not a POLL: its stream keeps a RECV armed into a read-ahead buffer (stream.c),
 * and that RECV's completion makes the item ready (vs_epoll_stream_event), with
 * the data already in the guest for the program's recv().  Such an item
 * ("via_stream") POLLs only for what else it asks (EPOLLOUT), if anything.
 */
#include <string.h>

#include "internal.h"
#include "virtsocket/vs_epoll.h"

#define TAG_CANCEL   (1ull << 62)
#define TAG_SET(t)   ((uint32_t)((t) >> 56) & 0x3fu)
#define TAG_GEN(t)   ((uint32_t)((t) >> 24))
#define TAG_FD(t)    ((uint32_t)(t) & 0xffffffu)
#define NO_ITEM      (-1)

_Static_assert(VS_FD_MAX <= (1u << 24), "a descriptor fits its 24 tag bits");
_Static_assert(VS_EPOLL_MAX_SETS <= 64u, "a set id fits its 6 tag bits");

struct ep_item {
	uint64_t data;       /* the caller's, returned with each event */
	uint32_t events;     /* the caller's mask */
	uint32_t gen;        /* generation of the armed POLL, 0: none armed */
	uint32_t revents;    /* what the last POLL reported */
	int32_t handle;      /* the socket the descriptor stood for at ADD */
	int32_t next_ready, next_rearm;
	uint8_t registered, ready, in_ready, in_rearm, disabled;
	uint8_t via_stream;  /* input readiness comes from the fd's stream */
};

struct ep_list {
	int32_t head, tail;
};

struct vs_epoll_set {
	struct ep_list ready, rearm;
	uint32_t nready;     /* items with ready set (each sits in the ready list once) */
	struct ep_item item[VS_FD_MAX];
};

static struct vs_epoll_set *sets[VS_EPOLL_MAX_SETS];
static uint32_t next_gen = 1;

size_t vs_epoll_bytes(void)
{
	return sizeof(struct vs_epoll_set);
}

static struct vs_epoll_set *set_of(int ep)
{
	return ep >= 0 && (unsigned)ep < VS_EPOLL_MAX_SETS ? sets[ep] : NULL;
}

static void list_push(struct vs_epoll_set *s, struct ep_list *l, int32_t fd, bool rearm)
{
	struct ep_item *it = &s->item[fd];
	if (rearm)
		it->next_rearm = NO_ITEM;
	else
		it->next_ready = NO_ITEM;
	if (l->tail == NO_ITEM) {
		l->head = fd;
	} else if (rearm) {
		s->item[l->tail].next_rearm = fd;
	} else {
		s->item[l->tail].next_ready = fd;
	}
	l->tail = fd;
}

static int32_t list_pop(struct vs_epoll_set *s, struct ep_list *l, bool rearm)
{
	int32_t fd = l->head;
	if (fd == NO_ITEM)
		return NO_ITEM;
	struct ep_item *it = &s->item[fd];
	l->head = rearm ? it->next_rearm : it->next_ready;
	if (l->head == NO_ITEM)
		l->tail = NO_ITEM;
	return fd;
}

int vs_epoll_create(void *mem, size_t bytes)
{
	if (!mem || bytes < sizeof(struct vs_epoll_set))
		return -VS_EINVAL;
	for (unsigned i = 0; i < VS_EPOLL_MAX_SETS; i++) {
		if (sets[i])
			continue;
		struct vs_epoll_set *s = mem;
		memset(s, 0, sizeof(*s));
		s->ready.head = s->ready.tail = NO_ITEM;
		s->rearm.head = s->rearm.tail = NO_ITEM;
		sets[i] = s;
		return (int)i;
	}
	return -VS_EMFILE;
}

/* ---- SQEs of our own ---------------------------------------------------- */

static uint64_t tag_of(int ep, uint32_t gen, int fd)
{
	return VS_EPOLL_TAG | (uint64_t)ep << 56 | (uint64_t)gen << 24 | (uint32_t)fd;
}

/* What the item's POLL asks for (input too unless its stream reports that). */
static uint32_t poll_events(const struct ep_item *it)
{
	return it->via_stream ? it->events & VS_EPOLLOUT : it->events;
}

static uint32_t poll_mask_of(uint32_t events)
{
	uint32_t m = 0;
	if (events & (VS_EPOLLIN | VS_EPOLLRDHUP))
		m |= VS_POLLIN;
	if (events & VS_EPOLLOUT)
		m |= VS_POLLOUT;
	return vs_poll_mask(m);
}

/* One POLL for fd with its current mask. */
static int arm(struct vs_queue_state *q, int ep, struct vs_epoll_set *s, int fd)
{
	struct ep_item *it = &s->item[fd];
	struct vs_sqe sqe;
	vs_build_simple(&sqe, VS_OP_POLL, it->handle, poll_mask_of(poll_events(it)));
	uint32_t gen = next_gen++;
	if (next_gen == 0)
		next_gen = 1;
	sqe.user_data = tag_of(ep, gen, fd);
	int err = vs_sq_put(q, &sqe);
	if (!err)
		it->gen = gen;
	return err;
}

/* Withdraw fd's armed POLL (its late completion, if any, is stale). */
static int disarm(struct vs_queue_state *q, int ep, struct vs_epoll_set *s, int fd)
{
	struct ep_item *it = &s->item[fd];
	if (!it->gen)
		return 0;
	struct vs_sqe sqe;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = VS_OP_CANCEL;
	sqe.u.out.addr_gpa = tag_of(ep, it->gen, fd);
	sqe.user_data = VS_EPOLL_TAG | TAG_CANCEL;
	it->gen = 0;
	return vs_sq_put(q, &sqe);
}

/* ---- completions -------------------------------------------------------- */

static void unready(struct vs_epoll_set *s, struct ep_item *it)
{
	if (it->ready) {
		it->ready = 0;
		s->nready--;
	}
}

static void make_ready(struct vs_epoll_set *s, int32_t fd)
{
	struct ep_item *it = &s->item[fd];
	if (!it->ready) {
		it->ready = 1;
		s->nready++;
	}
	if (!it->in_ready) {
		it->in_ready = 1;
		list_push(s, &s->ready, fd, false);
	}
}

void vs_epoll_stream_event(uint64_t mask, int fd)
{
	for (unsigned i = 0; mask && i < VS_EPOLL_MAX_SETS; i++, mask >>= 1) {
		struct vs_epoll_set *s = sets[i];
		if (!(mask & 1) || !s)
			continue;
		struct ep_item *it = &s->item[fd];
		if (it->registered && it->via_stream && !it->disabled)
			make_ready(s, fd);
	}
}

static uint32_t events_of(const struct ep_item *it, int32_t res)
{
	uint32_t ev = (uint32_t)res & (VS_POLLIN | VS_POLLOUT | VS_POLLERR | VS_POLLHUP);
	if ((ev & VS_POLLHUP) && (it->events & VS_EPOLLRDHUP))
		ev |= VS_EPOLLRDHUP;
	return ev & (it->events | VS_EPOLLERR | VS_EPOLLHUP);
}

void vs_epoll_complete(struct vs_queue_state *q, const struct vs_cqe *cqe)
{
	(void)q;
	uint64_t tag = cqe->user_data;
	if (tag & TAG_CANCEL)
		return; /* found or not: the POLL it aimed at is stale either way */
	struct vs_epoll_set *s = sets[TAG_SET(tag)];
	uint32_t fd = TAG_FD(tag);
	if (!s || fd >= VS_FD_MAX)
		return;
	struct ep_item *it = &s->item[fd];
	if (!it->registered || it->gen != TAG_GEN(tag) || !it->gen)
		return; /* stale: removed, modified or closed since it was armed */
	it->gen = 0;
	int32_t res = cqe->result;
	if (res == -VS_ECANCELED || res == -VS_EBADF || res == -VS_ENOTSOCK) {
		/* The socket was closed under the set: gone from it, as in Linux. */
		unready(s, it);
		it->registered = 0;
		return;
	}
	uint32_t ev = res >= 0 ? events_of(it, res) : VS_EPOLLERR;
	if (!ev) {
		if (!it->in_rearm) { /* nothing we asked for: look again next wait */
			it->in_rearm = 1;
			list_push(s, &s->rearm, (int32_t)fd, true);
		}
		return;
	}
	it->revents = ev;
	make_ready(s, (int32_t)fd);
}

/* ---- input through a stream's read-ahead ---------------------------------- */

static bool needs_poll(const struct ep_item *it)
{
	return !it->via_stream || (it->events & VS_EPOLLOUT);
}

/* What fd's stream reports now, of what the item asks for. */
static uint32_t stream_events_for(const struct ep_item *it, int fd)
{
	struct vs_stream *st = it->via_stream ? vs_stream_of(fd) : NULL;
	uint32_t ev = st ? vs_stream_events(st) : 0;
	return ev & (it->events | VS_EPOLLERR | VS_EPOLLHUP);
}

/* Take input readiness from fd's stream if it can have one (else the POLL asks). */
static void watch_stream(struct vs_queue_state *q, int ep, struct vs_epoll_set *s, int fd)
{
	struct ep_item *it = &s->item[fd];
	struct vs_stream *st = vs_stream_of(fd);
	if (st)
		vs_stream_set_watch(st, (unsigned)ep, false);
	it->via_stream = 0;
	if (!(it->events & VS_EPOLLIN) || !(st = vs_stream_get(fd)) || vs_stream_watch(q, st))
		return; /* no stream for it: the POLL asks for input as well */
	it->via_stream = 1;
	vs_stream_set_watch(st, (unsigned)ep, true);
	if (stream_events_for(it, fd))
		make_ready(s, fd);
}

static void unwatch_stream(int ep, struct ep_item *it, int fd)
{
	struct vs_stream *st = it->via_stream ? vs_stream_of(fd) : NULL;
	if (st)
		vs_stream_set_watch(st, (unsigned)ep, false);
	it->via_stream = 0;
}

/* ---- the calls ---------------------------------------------------------- */

int vs_epoll_ctl(int ep, int op, int fd, const struct vs_epoll_event *ev)
{
	struct vs_epoll_set *s = set_of(ep);
	if (!s)
		return -VS_EBADF;
	if (op != VS_EPOLL_CTL_ADD && op != VS_EPOLL_CTL_MOD && op != VS_EPOLL_CTL_DEL)
		return -VS_EINVAL;
	if (op != VS_EPOLL_CTL_DEL && !ev)
		return -VS_EFAULT;
	int handle = vs_fd_handle(fd);
	if (handle < 0)
		return -VS_EBADF;
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	struct ep_item *it = &s->item[fd];
	int err;

	if (op == VS_EPOLL_CTL_ADD) {
		if (it->registered)
			return -VS_EEXIST;
		it->handle = handle;
		it->gen = 0;
	} else if (!it->registered) {
		return -VS_ENOENT;
	} else {
		err = disarm(q, ep, s, fd);
		unready(s, it);
		if (err)
			return err;
		if (op == VS_EPOLL_CTL_DEL) {
			/* The stream's RECV stays: what it reads waits for recv(). */
			unwatch_stream(ep, it, fd);
			it->registered = 0;
			return vs_sched_submit(q, false) < 0 ? -VS_EIO : 0;
		}
	}
	it->events = ev->events;
	it->data = ev->data;
	it->disabled = 0;
	it->registered = 1;
	it->revents = 0;
	watch_stream(q, ep, s, fd);
	err = needs_poll(it) ? arm(q, ep, s, fd) : 0;
	if (err) {
		unwatch_stream(ep, it, fd);
		unready(s, it);
		it->registered = 0;
		return err;
	}
	err = vs_sched_submit(q, false);
	return err < 0 ? err : 0;
}

/* Arm again what the last wait returned (level-triggered: still ready, it
 * completes at once; input still buffered by its stream is ready at once). */
static int rearm_returned(struct vs_queue_state *q, int ep, struct vs_epoll_set *s)
{
	int32_t fd;
	while ((fd = list_pop(s, &s->rearm, true)) != NO_ITEM) {
		struct ep_item *it = &s->item[fd];
		it->in_rearm = 0;
		if (!it->registered || it->disabled)
			continue;
		if (it->via_stream) {
			struct vs_stream *st = vs_stream_of(fd);
			if (stream_events_for(it, fd))
				make_ready(s, fd);
			else if (st && vs_stream_rearm(q, st))
				return -VS_EIO;
		}
		if (!needs_poll(it) || it->gen || it->ready)
			continue;
		int err = arm(q, ep, s, fd);
		if (err)
			return err;
	}
	return 0;
}

/* Hand out up to max ready events, oldest first. */
static int take_ready(struct vs_epoll_set *s, struct vs_epoll_event *out, int max)
{
	int n = 0;
	int32_t fd;
	while (n < max && (fd = list_pop(s, &s->ready, false)) != NO_ITEM) {
		struct ep_item *it = &s->item[fd];
		it->in_ready = 0;
		if (!it->ready || !it->registered)
			continue; /* removed or modified since it became ready */
		unready(s, it);
		uint32_t ev = it->revents | stream_events_for(it, fd);
		it->revents = 0;
		if (ev) {
			out[n].events = ev;
			out[n].data = it->data;
			n++;
		}
		if (ev && (it->events & VS_EPOLLONESHOT)) {
			it->disabled = 1;
		} else if (!it->in_rearm) {
			/* (no events: read meanwhile, so watch it again) */
			it->in_rearm = 1;
			list_push(s, &s->rearm, fd, true);
		}
	}
	return n;
}

static uint32_t set_has_events(struct vs_queue_state *q, void *arg)
{
	(void)q;
	return ((struct vs_epoll_set *)arg)->nready ? 0 : 1;
}

int vs_epoll_wait(int ep, struct vs_epoll_event *out, int max, int timeout_ms)
{
	struct vs_epoll_set *s = set_of(ep);
	if (!s)
		return -VS_EBADF;
	if (max <= 0 || !out)
		return -VS_EINVAL;
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX
				: vs_lib.t.now_ns(vs_lib.t.ctx) + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		int err = rearm_returned(q, ep, s);
		if (err)
			return err;
		int64_t timeout_ns = -1;
		if (deadline != UINT64_MAX) {
			uint64_t now = vs_lib.t.now_ns(vs_lib.t.ctx);
			timeout_ns = now < deadline ? (int64_t)(deadline - now) : 0;
		}
		err = vs_sched_wait_any(q, set_has_events, s, timeout_ns);
		if (err && err != -VS_ETIMEDOUT)
			return err;
		int n = take_ready(s, out, max);
		/* Nothing left of what was ready (the program read it meanwhile):
		 * wait on, unless the time is up. */
		if (n || err || timeout_ns == 0)
			return n;
	}
}

int vs_epoll_close(int ep)
{
	struct vs_epoll_set *s = set_of(ep);
	if (!s)
		return -VS_EBADF;
	struct vs_queue_state *q = vs_this_queue();
	int err = 0;
	for (int fd = 0; q && fd < (int)VS_FD_MAX; fd++) {
		if (s->item[fd].registered)
			unwatch_stream(ep, &s->item[fd], fd);
		if (s->item[fd].registered && s->item[fd].gen && !err)
			err = disarm(q, ep, s, fd);
	}
	sets[ep] = NULL;
	if (q && !err && vs_sched_submit(q, false) < 0)
		err = -VS_EIO;
	return err;
}

void vs_epoll_forget_fd(int fd)
{
	if (fd < 0 || fd >= (int)VS_FD_MAX)
		return;
	for (unsigned i = 0; i < VS_EPOLL_MAX_SETS; i++) {
		struct vs_epoll_set *s = sets[i];
		if (!s || !s->item[fd].registered)
			continue;
		/* No CANCEL: the socket's CLOSE completes its POLL on the host. */
		unready(s, &s->item[fd]);
		s->item[fd].registered = 0;
		s->item[fd].gen = 0;
		s->item[fd].via_stream = 0; /* (the stream is detached from fd as well) */
	}
}
