/* Test-and-test-and-set spinlock. */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <kernel/cpu.h>

typedef struct {
	atomic_int locked;
} spinlock_t;

#define SPINLOCK_INIT { 0 }

static inline bool spin_trylock(spinlock_t *l)
{
	return !atomic_exchange_explicit(&l->locked, 1, memory_order_acquire);
}

static inline void spin_lock(spinlock_t *l)
{
	while (!spin_trylock(l))
		while (atomic_load_explicit(&l->locked, memory_order_relaxed))
			cpu_relax();
}

static inline void spin_unlock(spinlock_t *l)
{
	atomic_store_explicit(&l->locked, 0, memory_order_release);
}

#endif
