/* SPDX-License-Identifier: MIT */
/*
 * Glue between the guest kernel and libvirtsocket (guest-lib/): the first
 * socket call on any vCPU builds the transport from the boot info (doorbell
 * kind, ring slot, notify/copy modes), allocates the library's state from
 * the heap and calls vs_init().  Queue = vCPU index; clock = the TSC clock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include <kernel/boot.h>
#include <kernel/clock.h>
#include <kernel/cpu.h>
#include <virtsocket/vsock.h>
#include <virtsocket/vsock_x86.h>

enum { INIT_NONE, INIT_RUNNING, INIT_DONE };

static _Atomic int init_state = INIT_NONE;
static int init_result;

static uint64_t platform_now_ns(void *ctx)
{
	(void)ctx;
	return now_ns();
}

static uint32_t platform_cpu_id(void *ctx)
{
	(void)ctx;
	return cpu_index();
}

static int platform_setup(void)
{
	struct vs_transport t;
	int err = vs_x86_transport(&t, boot_info, platform_now_ns, platform_cpu_id);
	if (err == -ENODEV)
		return -ENETDOWN; /* the vmm gave this VM no transport */
	if (err)
		return err;
	size_t bytes = VS_STATE_BYTES(t.nr_queues);
	uint8_t *mem = malloc(bytes + 64); /* never freed: the library lives as long as the VM */
	if (!mem)
		return -ENOMEM;
	uint8_t *aligned = (uint8_t *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
	return vs_init(&t, aligned, bytes);
}

/* Called by the POSIX layer while vs_ready() is false; any vCPU, any number
 * of times, concurrently: the first one does the work, the others wait. */
int vs_platform_init(void)
{
	int expected = INIT_NONE;
	if (atomic_compare_exchange_strong(&init_state, &expected, INIT_RUNNING)) {
		init_result = platform_setup();
		atomic_store_explicit(&init_state, INIT_DONE, memory_order_release);
		return init_result;
	}
	while (atomic_load_explicit(&init_state, memory_order_acquire) != INIT_DONE)
		cpu_relax();
	return init_result;
}
