/* SPDX-License-Identifier: MIT */
#include "x86_boot.h"

#include <cpuid.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"

uint64_t x86_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0x0000ffffu) | ((uint64_t)(limit & 0x000f0000u) << 32) |
	       ((uint64_t)(flags & 0xf0ffu) << 40);
}

struct kvm_segment x86_segment_from_gdt(uint64_t desc, uint16_t selector)
{
	uint32_t limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));
	bool g = (desc >> 55) & 1;
	return (struct kvm_segment){
		.base = ((desc >> 16) & 0xffffff) | (((desc >> 56) & 0xff) << 24),
		.limit = g ? (limit << 12) | 0xfff : limit,
		.selector = selector,
		.type = (desc >> 40) & 0xf,
		.s = (desc >> 44) & 1,
		.dpl = (desc >> 45) & 3,
		.present = (desc >> 47) & 1,
		.avl = (desc >> 52) & 1,
		.l = (desc >> 53) & 1,
		.db = (desc >> 54) & 1,
		.g = g,
		.unusable = !((desc >> 47) & 1),
	};
}

/* The boot GDT: a 64-bit code segment, a flat data segment and a TSS
 * (a long-mode system descriptor takes two slots).  Types carry the
 * "accessed"/"busy" bits KVM's checks expect of loaded segments. */
static void boot_gdt(uint64_t gdt[VMM_GDT_ENTRIES])
{
	gdt[0] = 0;
	gdt[VMM_SEL_CODE64 / 8] = x86_gdt_entry(0xa09b, 0, 0xfffff); /* L, G, P, code RX A */
	gdt[VMM_SEL_DATA / 8] = x86_gdt_entry(0xc093, 0, 0xfffff);   /* DB, G, P, data RW A */
	gdt[VMM_SEL_TSS / 8] = x86_gdt_entry(0x008b, (uint32_t)VMM_TSS_GPA, VMM_TSS_LIMIT);
	gdt[VMM_SEL_TSS / 8 + 1] = VMM_TSS_GPA >> 32;                /* base[63:32] */
}

int x86_boot_write_tables(uint8_t *ram, uint64_t ram_bytes, uint64_t ring_gpa,
			  uint64_t ring_slot_bytes)
{
	const uint64_t huge = VMM_HUGE_PAGE_SIZE;
	uint64_t ram_map = (ram_bytes + huge - 1) & ~(huge - 1);
	uint64_t ring_map = (ring_slot_bytes + huge - 1) & ~(huge - 1);

	if (ram_map == 0 || ram_map > (uint64_t)VMM_PD_RAM_COUNT * VMM_GIB ||
	    ram_map > VMM_RING_GPA)
		return -EINVAL;
	if (ring_map && (ring_gpa % VMM_GIB || ring_gpa < ram_map || ring_map > VMM_GIB ||
			 ring_gpa / VMM_GIB >= 512))
		return -EINVAL; /* one PD for the ring, inside the one PDPT */

	uint64_t gdt[VMM_GDT_ENTRIES];
	boot_gdt(gdt);
	memset(ram + VMM_GDT_GPA, 0, VMM_PAGE_SIZE);  /* GDT and TSS share this page */
	memcpy(ram + VMM_GDT_GPA, gdt, sizeof(gdt));

	memset(ram + VMM_PML4_GPA, 0, VMM_RESERVED_END - VMM_PML4_GPA);
	uint64_t *pml4 = (uint64_t *)(ram + VMM_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(ram + VMM_PDPT_GPA);
	pml4[0] = VMM_PDPT_GPA | X86_PTE_P | X86_PTE_RW;

	for (uint64_t gpa = 0; gpa < ram_map; gpa += huge) {
		uint64_t gib = gpa / VMM_GIB;
		uint64_t *pd = (uint64_t *)(ram + VMM_PD_RAM_GPA + gib * VMM_PAGE_SIZE);
		pdpt[gib] = (VMM_PD_RAM_GPA + gib * VMM_PAGE_SIZE) | X86_PTE_P | X86_PTE_RW;
		pd[(gpa % VMM_GIB) / huge] = gpa | X86_PTE_P | X86_PTE_RW | X86_PTE_PS;
	}
	if (ring_map) {
		uint64_t *pd = (uint64_t *)(ram + VMM_PD_RING_GPA);
		pdpt[ring_gpa / VMM_GIB] = VMM_PD_RING_GPA | X86_PTE_P | X86_PTE_RW;
		for (uint64_t off = 0; off < ring_map; off += huge)
			pd[off / huge] = (ring_gpa + off) | X86_PTE_P | X86_PTE_RW | X86_PTE_PS;
	}
	return 0;
}

void x86_boot_sregs(struct kvm_sregs *s)
{
	uint64_t gdt[VMM_GDT_ENTRIES];
	boot_gdt(gdt);

	struct kvm_segment code = x86_segment_from_gdt(gdt[VMM_SEL_CODE64 / 8], VMM_SEL_CODE64);
	struct kvm_segment data = x86_segment_from_gdt(gdt[VMM_SEL_DATA / 8], VMM_SEL_DATA);
	struct kvm_segment tss = x86_segment_from_gdt(gdt[VMM_SEL_TSS / 8], VMM_SEL_TSS);

	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tss;
	s->ldt = (struct kvm_segment){ .type = 2, .present = 1, .unusable = 1 };
	s->gdt.base = VMM_GDT_GPA;
	s->gdt.limit = VMM_GDT_ENTRIES * 8 - 1;
	/* No IDT: the guest kernel installs its own before it can fault
	 * (until then an exception is a triple fault, KVM_EXIT_SHUTDOWN). */
	s->idt.base = 0;
	s->idt.limit = 0;

	s->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM |
		 X86_CR0_PG;
	s->cr3 = VMM_PML4_GPA;
	s->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	s->efer = X86_EFER_LME | X86_EFER_LMA;
}

void x86_boot_regs(struct kvm_regs *r, uint64_t entry, uint32_t vcpu_index)
{
	*r = (struct kvm_regs){
		.rip = entry,
		.rdi = VMM_BOOT_INFO_GPA,
		.rsi = vcpu_index,
		.rsp = 0,
		.rflags = X86_RFLAGS_RESERVED1,
	};
}

int x86_boot_fill_info(struct vs_boot_info *bi, const struct boot_params *p,
		       char *msg, size_t msglen)
{
	size_t len = 0;
	for (int i = 0; i < p->argc; i++)
		len += strlen(p->argv[i]) + 1;
	if (len > VS_CMDLINE_MAX) {
		snprintf(msg, msglen, "vmm: the guest arguments take %zu bytes (each with a "
			 "terminating NUL), more than the %u the boot info holds: shorten them",
			 len, VS_CMDLINE_MAX);
		return -E2BIG;
	}

	memset(bi, 0, sizeof(*bi));
	bi->magic = VS_ABI_MAGIC;
	bi->version = VS_ABI_VERSION;
	bi->ram_bytes = p->ram_bytes;
	bi->kernel_end = p->kernel_end;
	bi->tsc_khz = p->tsc_khz;
	bi->nr_cpus = p->nr_cpus;
	bi->host_kind = p->host_kind;
	bi->ring_gpa = p->ring_gpa;
	bi->ring_bytes = p->ring_gpa ? p->ring_bytes : 0;
	bi->nr_queues = p->ring_gpa ? p->nr_queues : 0;
	bi->doorbell = p->ring_gpa ? p->doorbell : VS_DOORBELL_NONE;
	bi->hypercall_insn = p->hypercall_insn;
	bi->notify = p->notify;
	bi->copy = p->copy;
	bi->batch = p->batch;
	bi->spin_us = p->spin_us;

	char *w = bi->cmdline;
	for (int i = 0; i < p->argc; i++) {
		size_t n = strlen(p->argv[i]) + 1;
		memcpy(w, p->argv[i], n);
		w += n;
	}
	bi->cmdline_len = (uint32_t)len;
	return 0;
}

enum vs_hypercall_insn x86_hypercall_insn_for_vendor(const char vendor[12])
{
	if (!memcmp(vendor, "AuthenticAMD", 12) || !memcmp(vendor, "HygonGenuine", 12))
		return VS_INSN_VMMCALL;
	return VS_INSN_VMCALL;
}

enum vs_hypercall_insn x86_host_hypercall_insn(void)
{
	unsigned eax, ebx, ecx, edx;
	char vendor[12];
	__cpuid(0, eax, ebx, ecx, edx);
	(void)eax; /* highest leaf: not needed */
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &edx, 4);
	memcpy(vendor + 8, &ecx, 4);
	return x86_hypercall_insn_for_vendor(vendor);
}

void x86_cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, uint32_t vcpu_index)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | (vcpu_index << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = vcpu_index;
	}
}
