/* SPDX-License-Identifier: MIT */
#include "handle_table.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "virtsocket/abi.h"

#include "sock.h"

#define NO_SLOT      UINT32_MAX
#define MAX_SLOTS    0xffffu
/* Handles are VS_HANDLE_MIN + ((gen - 1) << slot_bits | slot), at most INT32_MAX:
 * positive as int32, and never below VS_HANDLE_MIN, so the guest's POSIX layer can
 * tell a handle from one of its own small descriptors. */
#define HANDLE_SPACE ((uint32_t)INT32_MAX - VS_HANDLE_MIN + 1)

/*
 * Two locks.  The table's lock guards the free list and the counts (SOCKET,
 * ACCEPT, CLOSE: a socket's birth and death).  Each slot's own lock guards
 * its sock and gen: hn_handles_get(), which every request naming a handle
 * makes, takes only the slot's lock, and slots have a cache line each, so
 * two queues working on different sockets share no lock and no written
 * cache line here (hostnet/README.md, "Locks on the request path").
 * Order: table -> slot.  sock changes under both (add, remove), so either
 * one is enough to read it.
 */
struct hn_slot {
	pthread_mutex_t lock;
	struct hn_sock *sock;   /* NULL: free (or retired) */
	uint32_t gen;           /* 1 .. gen_max */
	uint32_t next_free;     /* free list link (under the table's lock) */
} __attribute__((aligned(64)));

struct hn_handle_table {
	pthread_mutex_t lock;
	uint32_t max, count, reserved;
	uint32_t slot_bits, gen_max;
	uint32_t free_head, free_tail; /* FIFO: the longest-free slot is reused first */
	struct hn_slot *slots;
};

/* Bits that hold every slot number below max (0 for max 1). */
static uint32_t slot_bits_for(uint32_t max)
{
	return max <= 1 ? 0 : 32u - (uint32_t)__builtin_clz(max - 1);
}

int hn_handles_create(uint32_t max, struct hn_handle_table **out)
{
	return hn_handles_create_gen(max, 0, out);
}

int hn_handles_create_gen(uint32_t max, uint32_t gen_max, struct hn_handle_table **out)
{
	if (max == 0 || max > MAX_SLOTS)
		return -EINVAL;
	uint32_t bits = slot_bits_for(max);
	uint32_t most = HANDLE_SPACE >> bits; /* generations that fit */
	if (gen_max > most)
		return -EINVAL;
	struct hn_handle_table *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->slots = aligned_alloc(64, (size_t)max * sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return -ENOMEM;
	}
	memset(t->slots, 0, (size_t)max * sizeof(*t->slots));
	pthread_mutex_init(&t->lock, NULL);
	t->max = max;
	t->slot_bits = bits;
	t->gen_max = gen_max ? gen_max : most;
	for (uint32_t i = 0; i < max; i++) {
		pthread_mutex_init(&t->slots[i].lock, NULL);
		t->slots[i].gen = 1;
		t->slots[i].next_free = i + 1 < max ? i + 1 : NO_SLOT;
	}
	t->free_head = 0;
	t->free_tail = max - 1;
	*out = t;
	return 0;
}

void hn_handles_destroy(struct hn_handle_table *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	for (uint32_t i = 0; i < t->max; i++)
		pthread_mutex_destroy(&t->slots[i].lock);
	free(t->slots);
	free(t);
}

uint32_t hn_handles_slot(const struct hn_handle_table *t, uint32_t handle)
{
	return (handle - VS_HANDLE_MIN) & ((1u << t->slot_bits) - 1);
}

/* The slot a handle names (open or not), or NULL if it is out of range. */
static struct hn_slot *slot_of(struct hn_handle_table *t, uint32_t handle)
{
	if (handle < VS_HANDLE_MIN || handle > INT32_MAX)
		return NULL;
	uint32_t slot = hn_handles_slot(t, handle);
	return slot < t->max ? &t->slots[slot] : NULL;
}

/* Does handle name the open socket in sl?  sl locked. */
static bool names(const struct hn_handle_table *t, const struct hn_slot *sl, uint32_t handle)
{
	uint32_t gen = ((handle - VS_HANDLE_MIN) >> t->slot_bits) + 1;
	return sl->gen == gen && sl->sock;
}

int hn_handles_add(struct hn_handle_table *t, struct hn_sock *s, uint32_t *handle)
{
	pthread_mutex_lock(&t->lock);
	uint32_t slot = t->free_head;
	if (slot == NO_SLOT || t->count + t->reserved >= t->max) {
		pthread_mutex_unlock(&t->lock);
		return -EMFILE;
	}
	struct hn_slot *sl = &t->slots[slot];
	t->free_head = sl->next_free;
	if (t->free_head == NO_SLOT)
		t->free_tail = NO_SLOT;
	t->count++;
	pthread_mutex_lock(&sl->lock);
	sl->sock = s;
	*handle = VS_HANDLE_MIN + ((sl->gen - 1) << t->slot_bits | slot);
	s->handle = *handle;
	pthread_mutex_unlock(&sl->lock);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

struct hn_sock *hn_handles_get(struct hn_handle_table *t, uint32_t handle)
{
	struct hn_slot *sl = slot_of(t, handle);
	if (!sl)
		return NULL;
	pthread_mutex_lock(&sl->lock); /* the slot's only: see struct hn_slot */
	struct hn_sock *s = names(t, sl, handle) ? sl->sock : NULL;
	if (s)
		hn_sock_get(s); /* under the lock: a concurrent remove cannot free it */
	pthread_mutex_unlock(&sl->lock);
	return s;
}

struct hn_sock *hn_handles_remove(struct hn_handle_table *t, uint32_t handle,
				  const struct hn_sock *expect)
{
	struct hn_slot *sl = slot_of(t, handle);
	if (!sl)
		return NULL;
	pthread_mutex_lock(&t->lock);
	pthread_mutex_lock(&sl->lock);
	struct hn_sock *s = NULL;
	if (names(t, sl, handle) && (!expect || sl->sock == expect)) {
		uint32_t slot = (uint32_t)(sl - t->slots);
		s = sl->sock;
		sl->sock = NULL;
		t->count--;
		/* Its last generation used: retire the slot rather than let an
		 * old handle name a new socket. */
		if (sl->gen < t->gen_max) {
			sl->gen++;
			sl->next_free = NO_SLOT;
			if (t->free_tail == NO_SLOT)
				t->free_head = slot;
			else
				t->slots[t->free_tail].next_free = slot;
			t->free_tail = slot;
		}
	}
	pthread_mutex_unlock(&sl->lock);
	pthread_mutex_unlock(&t->lock);
	return s;
}

uint32_t hn_handles_count(struct hn_handle_table *t)
{
	pthread_mutex_lock(&t->lock);
	uint32_t n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}

uint32_t hn_handles_reserve(struct hn_handle_table *t, uint32_t want)
{
	pthread_mutex_lock(&t->lock);
	uint32_t room = t->max - t->count - t->reserved;
	uint32_t n = want < room ? want : room;
	t->reserved += n;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void hn_handles_unreserve(struct hn_handle_table *t, uint32_t n)
{
	pthread_mutex_lock(&t->lock);
	t->reserved -= n <= t->reserved ? n : t->reserved;
	pthread_mutex_unlock(&t->lock);
}

uint32_t hn_handles_reserved(struct hn_handle_table *t)
{
	pthread_mutex_lock(&t->lock);
	uint32_t n = t->reserved;
	pthread_mutex_unlock(&t->lock);
	return n;
}

uint32_t hn_handles_snapshot(struct hn_handle_table *t, struct hn_sock **out, uint32_t max)
{
	uint32_t n = 0;
	pthread_mutex_lock(&t->lock);
	/* A slot's sock changes only under the table's lock too (add, remove):
	 * holding it is enough to read them all. */
	for (uint32_t i = 0; i < t->max && n < max; i++) {
		if (t->slots[i].sock) {
			hn_sock_get(t->slots[i].sock);
			out[n++] = t->slots[i].sock;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}
