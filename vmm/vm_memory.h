/* SPDX-License-Identifier: MIT */
/*
 * Guest memory: RAM at GPA 0 and the ring slot at VMM_RING_GPA, each a
 * memfd mapped MAP_SHARED (hostnet's worker process shares both).  vm_mem_ptr() is how the VMM reaches what it
 * places there itself (the boot info page); addresses the guest supplies are
 * hostnet's to check (hostnet/guest_mem.c: RAM or one queue's bounce area).
 */
#ifndef VMM_VM_MEMORY_H
#define VMM_VM_MEMORY_H

#include <stdint.h>

struct vm_memory {
	uint8_t *ram;            /* host mapping of [0, ram_bytes) */
	uint64_t ram_bytes;
	uint8_t *ring;           /* host mapping of the ring slot, NULL if none */
	uint64_t ring_gpa;
	uint64_t ring_bytes;     /* what the guest is told: nr_queues * VS_QUEUE_BYTES */
	uint64_t ring_slot_bytes;/* ring_bytes rounded up to 2 MiB: mapped and backed */
	uint32_t nr_queues;
	int ring_fd;             /* memfd, -1 if none */
	int ram_fd;              /* memfd of RAM */
};

/* Map RAM (MAP_NORESERVE: untouched pages cost nothing) and, if nr_queues > 0,
 * the ring slot.  Returns 0 or -errno. */
int vm_mem_create(struct vm_memory *gm, uint64_t ram_bytes, uint32_t nr_queues);
void vm_mem_destroy(struct vm_memory *gm);

/* Register both regions with KVM as slots VMM_SLOT_RAM and VMM_SLOT_RING. */
int vm_mem_register(const struct vm_memory *gm, int vm_fd);

/* Host pointer for [gpa, gpa + len) if the whole range lies in RAM or in the
 * ring slot; NULL otherwise (also on overflow). */
void *vm_mem_ptr(const struct vm_memory *gm, uint64_t gpa, uint64_t len);

#endif /* VMM_VM_MEMORY_H */
