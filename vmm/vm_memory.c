/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "vm_memory.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layout.h"
#include "virtsocket/abi.h"

static uint64_t round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

int vm_mem_create(struct vm_memory *gm, uint64_t ram_bytes, uint32_t nr_queues)
{
	*gm = (struct vm_memory){ .ring_fd = -1, .ram_fd = -1 };
	if (ram_bytes < VMM_KERNEL_MIN_GPA || ram_bytes > VMM_RAM_MAX ||
	    ram_bytes % VMM_HUGE_PAGE_SIZE || nr_queues > VS_MAX_QUEUES)
		return -EINVAL;

	/* A memfd mapped shared: hostnet's worker process (worker_proc.h), a
	 * fork of ours, sees the same pages.  Sparse: untouched pages cost
	 * nothing. */
	gm->ram_fd = memfd_create("virtsocket-ram", MFD_CLOEXEC);
	if (gm->ram_fd < 0 || ftruncate(gm->ram_fd, (off_t)ram_bytes) < 0)
		goto fail;
	void *ram = mmap(NULL, ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
			 gm->ram_fd, 0);
	if (ram == MAP_FAILED)
		goto fail;
	/* Transparent huge pages may back the 2 MiB guest pages: a hint only,
	 * so its failure does not matter.  A memfd is shmem, so the hint takes
	 * only where /sys/kernel/mm/transparent_hugepage/shmem_enabled says
	 * advise or always; Debian's default is never.  (With advise, http in
	 * the nested sandbox ran no faster: docs/perf/http-cpu.md, session 10.) */
	madvise(ram, ram_bytes, MADV_HUGEPAGE);
	gm->ram = ram;
	gm->ram_bytes = ram_bytes;
	if (nr_queues == 0)
		return 0;

	gm->nr_queues = nr_queues;
	gm->ring_gpa = VMM_RING_GPA;
	gm->ring_bytes = (uint64_t)nr_queues * VS_QUEUE_BYTES;
	/* The page tables map the slot in 2 MiB pages; backing all of the last
	 * one keeps every mapped guest address real memory. */
	gm->ring_slot_bytes = round_up(gm->ring_bytes, VMM_HUGE_PAGE_SIZE);
	int fd = memfd_create("virtsocket-ring", MFD_CLOEXEC);
	if (fd < 0)
		goto fail;
	gm->ring_fd = fd;
	if (ftruncate(fd, (off_t)gm->ring_slot_bytes) < 0)
		goto fail;
	void *ring = mmap(NULL, gm->ring_slot_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED)
		goto fail;
	gm->ring = ring;
	return 0;

fail:;
	int err = -errno;
	vm_mem_destroy(gm);
	return err;
}

void vm_mem_destroy(struct vm_memory *gm)
{
	if (gm->ring)
		munmap(gm->ring, gm->ring_slot_bytes);
	if (gm->ring_fd >= 0)
		close(gm->ring_fd);
	if (gm->ram)
		munmap(gm->ram, gm->ram_bytes);
	if (gm->ram_fd >= 0)
		close(gm->ram_fd);
	*gm = (struct vm_memory){ .ring_fd = -1, .ram_fd = -1 };
}

int vm_mem_register(const struct vm_memory *gm, int vm_fd)
{
	struct kvm_userspace_memory_region r = {
		.slot = VMM_SLOT_RAM,
		.guest_phys_addr = 0,
		.memory_size = gm->ram_bytes,
		.userspace_addr = (uint64_t)(uintptr_t)gm->ram,
	};
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	if (!gm->ring)
		return 0;
	r = (struct kvm_userspace_memory_region){
		.slot = VMM_SLOT_RING,
		.guest_phys_addr = gm->ring_gpa,
		.memory_size = gm->ring_slot_bytes,
		.userspace_addr = (uint64_t)(uintptr_t)gm->ring,
	};
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	return 0;
}

/* [gpa, gpa+len) inside [base, base+size)?  Written so nothing can overflow:
 * len <= size and gpa - base <= size - len. */
static int in_region(uint64_t gpa, uint64_t len, uint64_t base, uint64_t size)
{
	return gpa >= base && len <= size && gpa - base <= size - len;
}

void *vm_mem_ptr(const struct vm_memory *gm, uint64_t gpa, uint64_t len)
{
	if (gm->ram && in_region(gpa, len, 0, gm->ram_bytes))
		return gm->ram + gpa;
	if (gm->ring && in_region(gpa, len, gm->ring_gpa, gm->ring_slot_bytes))
		return gm->ring + (gpa - gm->ring_gpa);
	return NULL;
}
