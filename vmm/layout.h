/* SPDX-License-Identifier: MIT */
/*
 * Every guest-physical address the VMM itself decides, in one place.
 *
 *   GPA
 *   0x0000_0000 +--------------------------------------+ -.
 *               | (unused page)                        |  |
 *   0x0000_1000 | boot GDT: null, code64 0x08,         |  |
 *               | data 0x10, TSS 0x18 (16 bytes)       |  |
 *   0x0000_1800 | boot TSS (104 bytes; never used, but |  |  reserved for the VMM:
 *               | Intel VMX wants a usable 64-bit TR)  |  |  the ELF loader refuses
 *   0x0000_2000 | struct vs_boot_info (one page)       |  |  any segment below
 *   0x0000_3000 | PML4                                 |  |  VMM_KERNEL_MIN_GPA
 *   0x0000_4000 | PDPT (covers 0 .. 512 GiB)           |  |
 *   0x0000_5000 | PD x4: RAM, one per GiB (0..4 GiB)   |  |
 *   0x0000_9000 | PD: the ring slot's GiB (4..5 GiB)   |  |
 *   0x0000_a000 | (free)                               |  |
 *   0x0010_0000 +--------------------------------------+ -'
 *               | kernel image (PT_LOAD segments)      |
 *               | ... kernel_end (4 KiB aligned)       |
 *               | free RAM for the guest's allocator   |
 *     ram_bytes +--------------------------------------+  <= VMM_RAM_MAX (3 GiB)
 *               | not mapped: a guest access #PFs      |
 *   0xfffb_d000 | VMX TSS (3 pages, KVM_SET_TSS_ADDR)  |  Intel only, never mapped
 *   0x1_0000_0000 +------------------------------------+
 *               | ring slot: nr_queues * VS_QUEUE_BYTES|  KVM slot 1, memfd backed
 *               | (slot rounded up to 2 MiB)           |
 *               +--------------------------------------+
 *               | not mapped                           |
 *
 * The page tables map guest RAM (rounded up to 2 MiB, which the VMM also
 * allocates) and the ring slot with 2 MiB pages, identity (VA == GPA), and
 * nothing else: a wild guest pointer faults instead of reaching MMIO.
 * Guest RAM must end below the ring slot, hence VMM_RAM_MAX.
 */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

#include <stdint.h>

#include "virtsocket/abi.h" /* the ring slot's size */

#define VMM_PAGE_SIZE        0x1000ull
#define VMM_HUGE_PAGE_SIZE   0x200000ull    /* 2 MiB: the page tables' page size */
#define VMM_GIB              0x40000000ull

#define VMM_GDT_GPA          0x1000ull
#define VMM_TSS_GPA          0x1800ull
#define VMM_TSS_LIMIT        0x67u          /* 104-byte 64-bit TSS, no I/O bitmap */
#define VMM_BOOT_INFO_GPA    0x2000ull
#define VMM_PML4_GPA         0x3000ull
#define VMM_PDPT_GPA         0x4000ull
#define VMM_PD_RAM_GPA       0x5000ull      /* VMM_PD_RAM_COUNT consecutive pages */
#define VMM_PD_RAM_COUNT     4u             /* one PD per GiB: covers 0..4 GiB */
#define VMM_PD_RING_GPA      0x9000ull
#define VMM_RESERVED_END     0xa000ull      /* first byte past the VMM's structures */

/* Boot GDT selectors (the guest kernel loads its own GDT first thing). */
#define VMM_SEL_CODE64       0x08u
#define VMM_SEL_DATA         0x10u
#define VMM_SEL_TSS          0x18u
#define VMM_GDT_ENTRIES      5u             /* null, code, data, TSS (2 slots) */

/* The ELF loader accepts segments only in [VMM_KERNEL_MIN_GPA, ram_bytes). */
#define VMM_KERNEL_MIN_GPA   0x100000ull    /* 1 MiB */

/* Guest RAM bounds: enough for the kernel, and below the ring slot. */
#define VMM_RAM_MIN          (16ull << 20)
#define VMM_RAM_MAX          (3ull << 30)
#define VMM_RAM_DEFAULT      (256ull << 20)

/* Intel VMX keeps a 3-page TSS for real-mode emulation somewhere in guest
 * physical space (KVM_SET_TSS_ADDR); it goes in the hole between the largest
 * RAM (3 GiB) and the ring slot (4 GiB), where kvmtool and Firecracker put
 * theirs too.  Never mapped by the page tables; AMD does not use it. */
#define VMM_VMX_TSS_GPA      0xfffbd000ull
#define VMM_VMX_TSS_PAGES    3u

/* The shared ring slot (KVM memory slot 1). */
#define VMM_RING_GPA         0x100000000ull /* 4 GiB */
#define VMM_SLOT_RAM         0u
#define VMM_SLOT_RING        1u

_Static_assert(VMM_RESERVED_END <= VMM_KERNEL_MIN_GPA, "VMM structures below the kernel");
_Static_assert(VMM_RAM_MAX <= VMM_PD_RAM_COUNT * VMM_GIB, "RAM PDs cover all RAM");
_Static_assert(VMM_RAM_MAX < VMM_RING_GPA, "RAM ends below the ring slot");
_Static_assert(VMM_RING_GPA % VMM_GIB == 0, "ring slot starts its own PD");
_Static_assert((uint64_t)VS_MAX_QUEUES * VS_QUEUE_BYTES <= VMM_GIB,
	       "the largest ring slot fits the one PD that maps it");
_Static_assert(VMM_RAM_MAX <= VMM_VMX_TSS_GPA &&
	       VMM_VMX_TSS_GPA + VMM_VMX_TSS_PAGES * VMM_PAGE_SIZE <= VMM_RING_GPA,
	       "the VMX TSS lies between RAM and the ring slot");

#endif /* VMM_LAYOUT_H */
