/* SPDX-License-Identifier: MIT */
/* Guest memory: RAM + ring slot allocation, and GPA -> host pointer checks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "layout.h"
#include "pio.h"
#include "virtsocket/abi.h"
#include "vm_memory.h"

static struct vm_memory gm;

static void setup(void)
{
	cr_assert_eq(vm_mem_create(&gm, 64ull << 20, 2), 0);
}

static void teardown(void)
{
	vm_mem_destroy(&gm);
}

TestSuite(vmm_memory, .init = setup, .fini = teardown, .timeout = 10);

Test(vmm_memory, layout)
{
	cr_assert_not_null(gm.ram);
	cr_assert_eq(gm.ram_bytes, 64ull << 20);
	cr_assert_not_null(gm.ring);
	cr_assert_eq(gm.ring_gpa, VMM_RING_GPA);
	cr_assert_eq(gm.ring_bytes, 2ull * VS_QUEUE_BYTES);
	cr_assert_eq(gm.ring_slot_bytes % VMM_HUGE_PAGE_SIZE, 0);
	cr_assert_geq(gm.ring_slot_bytes, gm.ring_bytes);
	cr_assert_eq(gm.nr_queues, 2);
	/* Both are zero-filled and writable, all the way to their ends. */
	cr_assert_eq(gm.ram[gm.ram_bytes - 1], 0);
	gm.ram[gm.ram_bytes - 1] = 1;
	cr_assert_eq(gm.ring[gm.ring_slot_bytes - 1], 0);
	gm.ring[gm.ring_slot_bytes - 1] = 1;
}

Test(vmm_memory, translate_inside)
{
	void *p;
	cr_assert_not_null(p = vm_mem_ptr(&gm, 0, 1));
	cr_assert_eq(p, gm.ram);
	cr_assert_not_null(p = vm_mem_ptr(&gm, 0x1000, 0x100));
	cr_assert_eq(p, gm.ram + 0x1000);
	cr_assert_not_null(p = vm_mem_ptr(&gm, 0, gm.ram_bytes));
	cr_assert_not_null(p = vm_mem_ptr(&gm, gm.ram_bytes - 8, 8));
	cr_assert_not_null(p = vm_mem_ptr(&gm, VMM_RING_GPA, 4096));
	cr_assert_eq(p, gm.ring);
	cr_assert_not_null(p = vm_mem_ptr(&gm, VMM_RING_GPA + VS_QUEUE_BYTES, 64));
	cr_assert_eq(p, gm.ring + VS_QUEUE_BYTES);
	cr_assert_not_null(p = vm_mem_ptr(&gm, VMM_RING_GPA, gm.ring_slot_bytes));
}

Test(vmm_memory, translate_outside_is_null)
{
	cr_assert_null(vm_mem_ptr(&gm, gm.ram_bytes, 1));
	cr_assert_null(vm_mem_ptr(&gm, gm.ram_bytes - 8, 9));
	cr_assert_null(vm_mem_ptr(&gm, 0, gm.ram_bytes + 1));
	cr_assert_null(vm_mem_ptr(&gm, VMM_RING_GPA - 1, 2));
	cr_assert_null(vm_mem_ptr(&gm, VMM_RING_GPA + gm.ring_slot_bytes, 1));
	cr_assert_null(vm_mem_ptr(&gm, VMM_RING_GPA - 0x1000, 0x2000));
	/* RAM and ring are not one range even though both are memory. */
	cr_assert_null(vm_mem_ptr(&gm, gm.ram_bytes - 8, VMM_RING_GPA));
}

Test(vmm_memory, translate_overflow_is_null)
{
	cr_assert_null(vm_mem_ptr(&gm, UINT64_MAX, 2));
	cr_assert_null(vm_mem_ptr(&gm, 8, UINT64_MAX));
	cr_assert_null(vm_mem_ptr(&gm, UINT64_MAX - 7, 16));
	cr_assert_null(vm_mem_ptr(&gm, VMM_RING_GPA + 16, UINT64_MAX - 8));
	cr_assert_null(vm_mem_ptr(&gm, 0x10, UINT64_MAX - 0x8));
}

Test(vmm_memory, bad_sizes)
{
	struct vm_memory other;
	cr_assert_eq(vm_mem_create(&other, 3ull << 20, 1), -EINVAL); /* not 2 MiB aligned */
	cr_assert_eq(vm_mem_create(&other, 4ull << 30, 1), -EINVAL); /* reaches the ring */
	cr_assert_eq(vm_mem_create(&other, 64ull << 20, VS_MAX_QUEUES + 1), -EINVAL);
	cr_assert_eq(vm_mem_create(&other, 64ull << 20, 0), 0);      /* no transport */
	cr_assert_null(other.ring);
	cr_assert_null(vm_mem_ptr(&other, VMM_RING_GPA, 1));
	vm_mem_destroy(&other);
}

/* ---- the port-I/O registry ---- */

static int nop_io(struct vcpu *v, void *o, uint16_t port, bool w, uint8_t *d, uint32_t s)
{
	(void)v; (void)o; (void)port; (void)w; (void)d; (void)s;
	return 0;
}

Test(vmm_memory, pio_registry)
{
	struct pio_bus bus = { 0 };
	cr_assert_eq(pio_register(&bus, 0x3f8, 8, "com1", nop_io, NULL), 0);
	cr_assert_eq(pio_register(&bus, 0xf4, 4, "exit", nop_io, NULL), 0);
	cr_assert_eq(pio_register(&bus, 0x3ff, 1, "overlap", nop_io, NULL), -EEXIST);
	cr_assert_eq(pio_register(&bus, 0x3f0, 9, "overlap", nop_io, NULL), -EEXIST);
	cr_assert_eq(pio_register(&bus, 0xfffe, 4, "wraps", nop_io, NULL), -EINVAL);
	cr_assert_eq(pio_register(&bus, 0x10, 0, "empty", nop_io, NULL), -EINVAL);

	const struct pio_device *d = pio_find(&bus, 0x3fd, 1);
	cr_assert_not_null(d);
	cr_assert_str_eq(d->name, "com1");
	cr_assert_not_null(pio_find(&bus, 0xf4, 4));
	cr_assert_null(pio_find(&bus, 0xf6, 4), "access straddles the device's end");
	cr_assert_null(pio_find(&bus, 0x3f7, 2), "access straddles the device's start");
	cr_assert_null(pio_find(&bus, 0x80, 1));
	cr_assert_null(pio_find(&bus, 0xffff, 4));

	for (unsigned i = bus.count; i < PIO_MAX_DEVICES; i++)
		cr_assert_eq(pio_register(&bus, (uint16_t)(0x1000 + i * 8), 8, "x", nop_io, NULL), 0);
	cr_assert_eq(pio_register(&bus, 0x2000, 1, "full", nop_io, NULL), -ENOSPC);
}
