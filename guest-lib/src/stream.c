/* SPDX-License-Identifier: MIT */
/*
 * Stream descriptors served without a round trip per call (guest-lib/README.md,
 * "Readiness that arrives with the data"):
 *
 *   read-ahead  a descriptor watched for input (an interest set's EPOLLIN) keeps one
 *               RECV armed on the host into a buffer of the library's (one chunk).
 *               Its completion (data, end of file or an error) is the ready event,
 *               and recv() is served from that buffer with no request; once it is
 *               drained the RECV is armed again without waiting for it.
 *   async send  a non-blocking send copies the bytes into chunks, prepares the SENDs
 *               and returns at once; their completions are taken whenever the CQ is
 *               drained.  A failed one is the socket's pending error, reported by the
 *               next call (as a real socket's asynchronous error).  Bounded per socket
 *               and overall; beyond the bound the send waits for room.
 *
 * Like an interest set's POLLs these requests need no record (a server holds
 * thousands): their user_data is a tag of their own,
 *
 *   tag = VS_TAG_STREAM | send << 55 | gen << 24 | slot
 *
 * slot names the stream record (stable: a record keeps its slot for life), gen its
 * current use, so a completion for a record used again since is refused.  A record
 * outlives its descriptor until the host answered every request it made: the
 * buffers stay the library's until then.
 *
 * Memory comes from the allocator the platform gave (vs_set_allocator: it must be
 * guest-addressable), in slabs, and is kept for reuse, never given back.  Without an
 * allocator, in bounce mode (the host may only touch the bounce area) or for a
 * descriptor not marked VS_FD_STREAM, every call takes the ordinary request path.
 */
#include <string.h>

#include "internal.h"
#include "virtsocket/vs_epoll.h"

#define CHUNK_BYTES     2048u
#define CHUNK_DATA      (CHUNK_BYTES - 16u)
#define CHUNKS_PER_SLAB 32u
#define STREAMS_PER_SLAB 64u
#define SOCK_SEND_MAX   (64u * 1024u)   /* async bytes on the host per socket */
#define ALL_SEND_CHUNKS 2048u           /* ... and overall (4 MiB) */

#define TAG_SEND        (1ull << 55)
#define TAG_GEN(t)      ((uint32_t)((t) >> 24) & 0x7fffffffu)
#define TAG_SLOT(t)     ((uint32_t)(t) & 0xffffffu)

struct vs_chunk {
	struct vs_chunk *next;  /* free list / a stream's SEND FIFO */
	uint32_t len;           /* SEND: its bytes */
	uint32_t pad;
	uint8_t data[CHUNK_DATA];
};
_Static_assert(sizeof(struct vs_chunk) == CHUNK_BYTES, "chunk layout");

struct vs_stream {
	int32_t fd;              /* its descriptor, -1 once released */
	int32_t handle;          /* the host socket */
	uint32_t gen;            /* this use's generation (31 bits, never 0) */
	uint32_t slot;           /* index in by_slot, for life */
	struct vs_chunk *rbuf;   /* read-ahead buffer, NULL if none */
	uint32_t rhead, rlen;    /* unread bytes: rbuf->data[rhead .. rhead + rlen) */
	int32_t rerr;            /* error the read-ahead met, reported after the data */
	int32_t serr;            /* an async SEND's failure, reported by the next call */
	uint32_t sends, send_bytes; /* async SENDs on the host */
	struct vs_chunk *shead, *stail; /* their chunks, oldest first */
	uint64_t sets;           /* interest sets watching it for input (bit per set) */
	struct vs_stream *next_free;
	uint8_t rarmed;          /* a RECV into rbuf is on the host (then rlen == 0) */
	uint8_t eof;
	uint8_t live;            /* in use (not on the free list) */
};

static struct {
	void *(*alloc)(void *ctx, size_t bytes);
	void *ctx;
	struct vs_chunk *free_chunks;
	struct vs_stream *free_streams;
	uint32_t send_chunks;    /* chunks in async SENDs, all sockets */
	uint32_t nr_slots;
	uint32_t next_gen;
	struct vs_stream *by_slot[VS_FD_MAX];
	struct vs_stream *by_fd[VS_FD_MAX];
} st_lib;

void vs_set_allocator(void *(*alloc)(void *ctx, size_t bytes), void *ctx)
{
	st_lib.alloc = alloc;
	st_lib.ctx = ctx;
}

/* ---- memory ------------------------------------------------------------- */

static uint64_t chunk_gpa(const struct vs_chunk *c)
{
	return vs_lib.t.virt_to_gpa(vs_lib.t.ctx, c->data);
}

static struct vs_chunk *chunk_get(void)
{
	if (!st_lib.free_chunks) {
		if (!st_lib.alloc)
			return NULL;
		uint8_t *slab = st_lib.alloc(st_lib.ctx, CHUNKS_PER_SLAB * CHUNK_BYTES);
		if (!slab)
			return NULL;
		for (unsigned i = 0; i < CHUNKS_PER_SLAB; i++) {
			struct vs_chunk *c = (struct vs_chunk *)(slab + i * CHUNK_BYTES);
			uint64_t gpa = chunk_gpa(c);
			/* The host must reach all of it in one piece. */
			if (gpa == VS_GPA_INVALID ||
			    vs_lib.t.virt_to_gpa(vs_lib.t.ctx, c->data + CHUNK_DATA - 1) !=
				    gpa + CHUNK_DATA - 1)
				continue;
			c->next = st_lib.free_chunks;
			st_lib.free_chunks = c;
		}
		if (!st_lib.free_chunks)
			return NULL;
	}
	struct vs_chunk *c = st_lib.free_chunks;
	st_lib.free_chunks = c->next;
	c->next = NULL;
	c->len = 0;
	return c;
}

static void chunk_put(struct vs_chunk *c)
{
	c->next = st_lib.free_chunks;
	st_lib.free_chunks = c;
}

/* Give back a list of chunks linked through next. */
static void chunks_put(struct vs_chunk *c)
{
	while (c) {
		struct vs_chunk *next = c->next;
		chunk_put(c);
		c = next;
	}
}

static struct vs_stream *stream_new(void)
{
	if (!st_lib.free_streams) {
		if (st_lib.nr_slots + STREAMS_PER_SLAB > VS_FD_MAX)
			return NULL;
		struct vs_stream *slab = st_lib.alloc(st_lib.ctx,
						      STREAMS_PER_SLAB * sizeof(struct vs_stream));
		if (!slab)
			return NULL;
		for (unsigned i = 0; i < STREAMS_PER_SLAB; i++) {
			memset(&slab[i], 0, sizeof(slab[i]));
			slab[i].slot = st_lib.nr_slots;
			st_lib.by_slot[st_lib.nr_slots++] = &slab[i];
			slab[i].next_free = st_lib.free_streams;
			st_lib.free_streams = &slab[i];
		}
	}
	struct vs_stream *st = st_lib.free_streams;
	st_lib.free_streams = st->next_free;
	uint32_t slot = st->slot;
	memset(st, 0, sizeof(*st));
	st->slot = slot;
	st->gen = ++st_lib.next_gen & 0x7fffffffu;
	if (!st->gen)
		st->gen = st_lib.next_gen = 1;
	st->live = 1;
	return st;
}

/* Released and the host holds nothing of it any more: back to the free list. */
static void stream_maybe_free(struct vs_stream *st)
{
	if (st->fd >= 0 || st->rarmed || st->sends)
		return;
	if (st->rbuf)
		chunk_put(st->rbuf);
	st->rbuf = NULL;
	st->live = 0;
	st->next_free = st_lib.free_streams;
	st_lib.free_streams = st;
}

/* ---- finding a descriptor's stream ---------------------------------------- */

static bool fast_path_possible(int fd)
{
	if (!st_lib.alloc || vs_lib.t.copy != VS_COPY_ZERO)
		return false;
	if (fd < VS_FD_FIRST || fd >= (int)VS_HANDLE_MIN || fd >= VS_FD_MAX)
		return false;
	int flags = vs_fd_flags(fd);
	return flags >= 0 && (flags & VS_FD_STREAM);
}

struct vs_stream *vs_stream_of(int fd)
{
	if (fd < 0 || fd >= VS_FD_MAX)
		return NULL;
	struct vs_stream *st = st_lib.by_fd[fd];
	/* A descriptor released and opened again behind our back (vs_fd_release
	 * always detaches, so only a changed handle can tell). */
	return st && st->handle == vs_fd_handle(fd) ? st : NULL;
}

struct vs_stream *vs_stream_get(int fd)
{
	struct vs_stream *st = vs_stream_of(fd);
	if (st || !fast_path_possible(fd))
		return st;
	st = stream_new();
	if (!st)
		return NULL;
	st->fd = fd;
	st->handle = vs_fd_handle(fd);
	st_lib.by_fd[fd] = st;
	return st;
}

void vs_stream_detach(int fd)
{
	if (fd < 0 || fd >= VS_FD_MAX || !st_lib.by_fd[fd])
		return;
	struct vs_stream *st = st_lib.by_fd[fd];
	st_lib.by_fd[fd] = NULL;
	st->fd = -1;
	st->sets = 0;
	stream_maybe_free(st);
}

/* ---- requests of our own ---------------------------------------------------- */

static uint64_t tag_of(const struct vs_stream *st, bool send)
{
	return VS_TAG_STREAM | (send ? TAG_SEND : 0) | (uint64_t)st->gen << 24 | st->slot;
}

static int put_payload(struct vs_queue_state *q, struct vs_stream *st, uint8_t opcode,
		       struct vs_chunk *c, uint32_t len)
{
	struct vs_sqe sqe;
	vs_build_simple(&sqe, opcode, st->handle, 0);
	sqe.addr = chunk_gpa(c);
	sqe.len = len;
	sqe.user_data = tag_of(st, opcode == VS_OP_SEND);
	return vs_sq_put(q, &sqe);
}

/* Arm the read-ahead RECV if nothing is buffered, pending or ended.  Not waited for. */
static int arm_recv(struct vs_queue_state *q, struct vs_stream *st)
{
	if (st->rarmed || st->rlen || st->eof || st->rerr || !st->rbuf)
		return 0;
	int err = put_payload(q, st, VS_OP_RECV, st->rbuf, CHUNK_DATA);
	if (err)
		return err;
	st->rarmed = 1;
	st->rhead = 0;
	int n = vs_sched_submit(q, false);
	return n < 0 ? n : 0;
}

int vs_stream_watch(struct vs_queue_state *q, struct vs_stream *st)
{
	if (!st->rbuf && !(st->rbuf = chunk_get()))
		return -VS_ENOMEM;
	return arm_recv(q, st);
}

int vs_stream_rearm(struct vs_queue_state *q, struct vs_stream *st)
{
	return arm_recv(q, st);
}

void vs_stream_set_watch(struct vs_stream *st, unsigned set, bool on)
{
	if (on)
		st->sets |= 1ull << set;
	else
		st->sets &= ~(1ull << set);
}

uint32_t vs_stream_events(const struct vs_stream *st)
{
	uint32_t ev = 0;
	if (st->rlen || st->eof || st->rerr)
		ev |= VS_EPOLLIN;
	if (st->eof)
		ev |= VS_EPOLLRDHUP;
	if (st->rerr)
		ev |= VS_EPOLLERR;
	return ev;
}

bool vs_stream_reading(const struct vs_stream *st)
{
	return st && st->rbuf;
}

/* ---- completions ------------------------------------------------------------ */

static void recv_done(struct vs_stream *st, int32_t res)
{
	st->rarmed = 0;
	if (res > 0 && (uint32_t)res <= CHUNK_DATA) {
		st->rhead = 0;
		st->rlen = (uint32_t)res;
	} else if (res == 0) {
		st->eof = 1;
	} else if (res == -VS_ECANCELED) {
		return; /* closed or cancelled: nobody reads on */
	} else if (res == -VS_EAGAIN || res == -VS_EINTR) {
		/* nothing read: its sets look again (no events: armed anew) */
	} else {
		st->rerr = res > 0 ? -VS_EIO : res; /* more than asked for: a host bug */
	}
	if (st->sets && st->fd >= 0)
		vs_epoll_stream_event(st->sets, st->fd);
}

static void send_done(struct vs_stream *st, int32_t res)
{
	struct vs_chunk *c = st->shead;
	if (!c)
		return; /* none outstanding: not ours */
	st->shead = c->next;
	if (!st->shead)
		st->stail = NULL;
	st->sends--;
	st->send_bytes -= c->len;
	st_lib.send_chunks--;
	if (!st->serr && res != (int32_t)c->len)
		st->serr = res < 0 ? res : -VS_EPIPE; /* some bytes never went */
	chunk_put(c);
}

void vs_stream_complete(struct vs_queue_state *q, const struct vs_cqe *cqe)
{
	uint64_t tag = cqe->user_data;
	uint32_t slot = TAG_SLOT(tag);
	struct vs_stream *st = slot < st_lib.nr_slots ? st_lib.by_slot[slot] : NULL;
	if (!st || !st->live || st->gen != TAG_GEN(tag)) {
		q->stats.bad_completions++;
		return;
	}
	if (tag & TAG_SEND)
		send_done(st, cqe->result);
	else if (st->rarmed)
		recv_done(st, cqe->result);
	stream_maybe_free(st);
}

/* ---- the calls -------------------------------------------------------------- */

static uint32_t has_news(struct vs_queue_state *q, void *arg)
{
	(void)q;
	const struct vs_stream *st = arg;
	return st->rlen || st->eof || st->rerr || !st->rarmed ? 0 : 1;
}

int64_t vs_stream_recv(struct vs_stream *st, void *buf, size_t len, unsigned flags,
		       struct vs_sockaddr *from)
{
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	uint8_t sqe_flags;
	uint32_t op_flags;
	int err = vs_msg_flags(flags, &sqe_flags, &op_flags);
	if (err)
		return err;
	if (len && !buf)
		return -VS_EFAULT;
	if (from)
		memset(from, 0, sizeof(*from)); /* a stream names no sender */
	bool peek = op_flags & VS_MSG_PEEK;
	bool waitall = (op_flags & VS_MSG_WAITALL) && !peek;
	size_t done = 0;
	for (;;) {
		err = vs_cq_drain(q);
		if (err)
			return done ? (int64_t)done : err;
		if (st->rlen && done < len) {
			uint32_t n = len - done < st->rlen ? (uint32_t)(len - done) : st->rlen;
			memcpy((uint8_t *)buf + done, st->rbuf->data + st->rhead, n);
			done += n;
			if (!peek) {
				st->rhead += n;
				st->rlen -= n;
				if (!st->rlen && (err = arm_recv(q, st)) != 0)
					return done ? (int64_t)done : err;
			}
			if (!waitall || done == len)
				return (int64_t)done;
			continue;
		}
		if (done == len)
			return (int64_t)done;
		if (st->rerr) {
			if (done)
				return (int64_t)done;
			err = st->rerr;
			st->rerr = 0;
			st->eof = 1; /* as Linux: after the error, end of file */
			return err;
		}
		if (st->eof)
			return (int64_t)done;
		if ((err = arm_recv(q, st)) != 0)
			return done ? (int64_t)done : err;
		if (sqe_flags & VS_SQE_NONBLOCK)
			return done ? (int64_t)done : -VS_EAGAIN;
		err = vs_sched_wait(q, has_news, st, -1);
		if (err)
			return done ? (int64_t)done : err;
	}
}

int vs_stream_take_error(struct vs_stream *st)
{
	struct vs_queue_state *q = vs_this_queue();
	if (!st || !q || vs_cq_drain(q)) /* (what the host answered so far counts) */
		return 0;
	int err = st->serr;
	st->serr = 0;
	return err;
}

struct send_room {
	struct vs_stream *st;
	uint32_t bytes, chunks;
};

static uint32_t has_room(struct vs_queue_state *q, void *arg)
{
	(void)q;
	const struct send_room *r = arg;
	bool sock = r->st->send_bytes + r->bytes <= SOCK_SEND_MAX || !r->st->sends;
	bool all = st_lib.send_chunks + r->chunks <= ALL_SEND_CHUNKS || !st_lib.send_chunks;
	return sock && all ? 0 : 1;
}

int64_t vs_stream_send(struct vs_stream *st, const void *buf, size_t len, unsigned flags)
{
	int pending = vs_stream_take_error(st);
	if (pending)
		return pending;
	if (len == 0 || len > SOCK_SEND_MAX || (flags & ~(VS_MSG_DONTWAIT | VS_MSG_NOSIGNAL)))
		return VS_STREAM_NOT_MINE;
	struct vs_queue_state *q = vs_this_queue();
	if (!q)
		return -VS_ENODEV;
	struct send_room room = { st, (uint32_t)len, (uint32_t)((len + CHUNK_DATA - 1) / CHUNK_DATA) };
	if (has_room(q, &room)) {
		/* Over the bound: wait for earlier sends to complete. */
		int err = vs_sched_wait(q, has_room, &room, -1);
		if (err)
			return err;
		if (st->serr)
			return vs_stream_take_error(st);
	}
	/* Every chunk first, so a failure leaves nothing half sent. */
	struct vs_chunk *first = NULL, *last = NULL;
	for (uint32_t i = 0; i < room.chunks; i++) {
		struct vs_chunk *c = chunk_get();
		if (!c) {
			chunks_put(first);
			return VS_STREAM_NOT_MINE; /* out of memory: the ordinary path */
		}
		if (last)
			last->next = c;
		else
			first = c;
		last = c;
	}
	size_t at = 0;
	while (first) {
		struct vs_chunk *c = first;
		first = c->next;
		c->next = NULL;
		c->len = len - at < CHUNK_DATA ? (uint32_t)(len - at) : CHUNK_DATA;
		memcpy(c->data, (const uint8_t *)buf + at, c->len);
		int err = put_payload(q, st, VS_OP_SEND, c, c->len);
		if (err) {
			/* Only a broken queue refuses an SQE: nothing more goes anyway. */
			chunk_put(c);
			chunks_put(first);
			return at ? (int64_t)at : err;
		}
		at += c->len;
		if (st->stail)
			st->stail->next = c;
		else
			st->shead = c;
		st->stail = c;
		st->sends++;
		st->send_bytes += c->len;
		st_lib.send_chunks++;
	}
	int n = vs_sched_submit(q, false);
	return n < 0 ? n : (int64_t)len;
}

static uint32_t sends_left(struct vs_queue_state *q, void *arg)
{
	(void)q;
	return ((struct vs_stream *)arg)->sends;
}

int vs_stream_flush(int fd)
{
	struct vs_stream *st = vs_stream_of(fd);
	if (!st || !st->sends)
		return 0;
	struct vs_queue_state *q = vs_this_queue();
	return q ? vs_sched_wait(q, sends_left, st, -1) : -VS_ENODEV;
}
