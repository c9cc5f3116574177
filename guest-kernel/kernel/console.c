/*
 * Serial console: bytes to the COM1 data port.  The vmm's UART always reads
 * "transmitter empty", so there is no status polling.  A string goes out with one
 * `rep outsb`: KVM still exits to the vmm once per byte (measured: 133 bytes, 134
 * exits), but the guest runs one instruction instead of a loop, which is what costs
 * on a PVM host where every guest instruction is emulated.
 *
 * The lock is recursive per CPU so that printf() can hold it across a whole message
 * and the fault reporter can print while the faulting code held it.
 */
#include <kernel/console.h>
#include <kernel/cpu.h>
#include <kernel/spinlock.h>
#include <limits.h>
#include <stdatomic.h>

#define NO_OWNER UINT_MAX

static spinlock_t console_spin = SPINLOCK_INIT;
static _Atomic unsigned console_owner = NO_OWNER; /* relaxed: see console_lock */
static unsigned console_depth;

void console_write_locked(const char *s, size_t n)
{
	__asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"(VS_PORT_COM1) : "memory");
}

void console_lock(void)
{
	unsigned me = cpu_index();

	if (console_owner == me) { /* only this CPU ever stores its own index */
		console_depth++;
		return;
	}
	spin_lock(&console_spin);
	console_owner = me;
	console_depth = 1;
}

void console_unlock(void)
{
	if (--console_depth > 0)
		return;
	console_owner = NO_OWNER;
	spin_unlock(&console_spin);
}

void console_write(const char *s, size_t n)
{
	console_lock();
	console_write_locked(s, n);
	console_unlock();
}

/* Raw TSC cycles (the clock may not be set up yet): 33-100 ms at 1-3 GHz. */
#define PANIC_LOCK_PATIENCE_CYCLES 100000000ull

void console_lock_for_panic(void)
{
	unsigned me = cpu_index();
	uint64_t start = rdtsc();

	if (console_owner == me) {
		console_depth++;
		return;
	}
	while (!spin_trylock(&console_spin)) {
		if (rdtsc() - start > PANIC_LOCK_PATIENCE_CYCLES)
			break; /* the holder is stuck or dead, and the VM ends after
				  this report anyway: take the console over */
		cpu_relax();
	}
	console_owner = me;
	console_depth = 1;
}
