/* SPDX-License-Identifier: MIT */
#include "handle_table.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "virtsocket/abi.h"

#include "sock.h"

#define NO_SLOT      UINT32_MAX
#define MAX_SLOTS    0xffffu
/* Handles are VS_HANDLE_MIN + ((gen - 1) << slot_bits | slot), at most INT32_MAX:
 * positive as int32, and never below VS_HANDLE_MIN, so the guest's POSIX layer can
 * tell a handle from one of its own small descriptors. */
#define HANDLE_SPACE ((uint32_t)INT32_MAX - VS_HANDLE_MIN + 1)

struct hn_slot {
	struct hn_sock *sock;   /* NULL: free (or retired) */
	uint32_t gen;           /* 1 .. gen_max */
	uint32_t next_free;     /* free list link */
};

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
	t->slots = calloc(max, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return -ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->max = max;
	t->slot_bits = bits;
	t->gen_max = gen_max ? gen_max : most;
	for (uint32_t i = 0; i < max; i++) {
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
	free(t->slots);
	free(t);
}

uint32_t hn_handles_slot(const struct hn_handle_table *t, uint32_t handle)
{
	return (handle - VS_HANDLE_MIN) & ((1u << t->slot_bits) - 1);
}

/* The slot a handle names, or NULL if it names no open socket.  Locked. */
static struct hn_slot *lookup(struct hn_handle_table *t, uint32_t handle)
{
	if (handle < VS_HANDLE_MIN || handle > INT32_MAX)
		return NULL;
	uint32_t slot = hn_handles_slot(t, handle);
	uint32_t gen = ((handle - VS_HANDLE_MIN) >> t->slot_bits) + 1;
	if (slot >= t->max || t->slots[slot].gen != gen || !t->slots[slot].sock)
		return NULL;
	return &t->slots[slot];
}

int hn_handles_add(struct hn_handle_table *t, struct hn_sock *s, uint32_t *handle)
{
	pthread_mutex_lock(&t->lock);
	uint32_t slot = t->free_head;
	if (slot == NO_SLOT || t->count + t->reserved >= t->max) {
		pthread_mutex_unlock(&t->lock);
		return -EMFILE;
	}
	t->free_head = t->slots[slot].next_free;
	if (t->free_head == NO_SLOT)
		t->free_tail = NO_SLOT;
	t->slots[slot].sock = s;
	t->count++;
	*handle = VS_HANDLE_MIN + ((t->slots[slot].gen - 1) << t->slot_bits | slot);
	s->handle = *handle;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

struct hn_sock *hn_handles_get(struct hn_handle_table *t, uint32_t handle)
{
	pthread_mutex_lock(&t->lock);
	struct hn_slot *sl = lookup(t, handle);
	struct hn_sock *s = sl ? sl->sock : NULL;
	if (s)
		hn_sock_get(s); /* under the lock: a concurrent remove cannot free it */
	pthread_mutex_unlock(&t->lock);
	return s;
}

struct hn_sock *hn_handles_remove(struct hn_handle_table *t, uint32_t handle,
				  const struct hn_sock *expect)
{
	pthread_mutex_lock(&t->lock);
	struct hn_slot *sl = lookup(t, handle);
	struct hn_sock *s = NULL;
	if (sl && (!expect || sl->sock == expect)) {
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
	for (uint32_t i = 0; i < t->max && n < max; i++) {
		if (t->slots[i].sock) {
			hn_sock_get(t->slots[i].sock);
			out[n++] = t->slots[i].sock;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}
