/*
 * The heap behind malloc(): a first-fit free list kept in address order, so that
 * free() can merge a block with its neighbours (K&R style).  Blocks carry a 16-byte
 * header and are 16-byte aligned.  One lock for all vCPUs: allocation is not on any
 * hot path (the network code allocates its buffers up front).
 */
#include <kernel/heap.h>
#include <kernel/spinlock.h>
#include <stdlib.h>
#include <string.h>

struct block {
	struct block *next; /* free list only */
	size_t units;       /* size in units of sizeof(struct block), header included */
} __attribute__((aligned(16)));

#define UNIT sizeof(struct block)

static struct block freelist = { &freelist, 0 }; /* circular, sentinel of size 0 */
static struct block *rover = &freelist;          /* where the next search starts */
static spinlock_t heap_lock = SPINLOCK_INIT;
static size_t heap_total;

void heap_init(uintptr_t start, uintptr_t end)
{
	struct block *b;

	start = (start + UNIT - 1) & ~(uintptr_t)(UNIT - 1);
	if (end <= start || end - start < 2 * UNIT)
		return; /* no heap: malloc() returns NULL */
	b = (struct block *)start;
	b->units = (end - start) / UNIT;
	b->next = &freelist;
	freelist.next = b;
	heap_total = b->units * UNIT;
}

size_t heap_total_bytes(void)
{
	return heap_total;
}

size_t heap_free_bytes(void)
{
	size_t sum = 0;

	spin_lock(&heap_lock);
	for (struct block *b = freelist.next; b != &freelist; b = b->next)
		sum += b->units * UNIT;
	spin_unlock(&heap_lock);
	return sum;
}

void *malloc(size_t size)
{
	size_t units;
	struct block *prev, *b;

	if (size > SIZE_MAX / 2)
		return NULL;
	units = (size + UNIT - 1) / UNIT + 1;
	spin_lock(&heap_lock);
	prev = rover;
	for (b = prev->next;; prev = b, b = b->next) {
		if (b->units >= units) {
			if (b->units == units) {
				prev->next = b->next;
			} else { /* hand out the tail, keep the head listed */
				b->units -= units;
				b += b->units;
				b->units = units;
			}
			rover = prev;
			spin_unlock(&heap_lock);
			return b + 1;
		}
		if (b == rover) { /* went all the way round */
			spin_unlock(&heap_lock);
			return NULL;
		}
	}
}

void free(void *p)
{
	struct block *b, *at;

	if (!p)
		return;
	b = (struct block *)p - 1;
	spin_lock(&heap_lock);
	/* find `at` with at < b < at->next, in address order (the sentinel wraps) */
	for (at = &freelist; !(b > at && b < at->next); at = at->next)
		if (at >= at->next && (b > at || b < at->next))
			break;
	if (b + b->units == at->next) { /* merge with the block above */
		b->units += at->next->units;
		b->next = at->next->next;
	} else {
		b->next = at->next;
	}
	if (at != &freelist && at + at->units == b) { /* merge with the block below */
		at->units += b->units;
		at->next = b->next;
	} else {
		at->next = b;
	}
	rover = at;
	spin_unlock(&heap_lock);
}

void *calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *realloc(void *p, size_t size)
{
	size_t have;
	void *q;

	if (!p)
		return malloc(size);
	if (size == 0) {
		free(p);
		return NULL;
	}
	have = (((struct block *)p - 1)->units - 1) * UNIT;
	if (size <= have)
		return p;
	q = malloc(size);
	if (q) {
		memcpy(q, p, have);
		free(p);
	}
	return q;
}
