/* SPDX-License-Identifier: MIT */
/*
 * The direct-boot builders, checked in plain buffers: page tables map RAM
 * and the ring slot and nothing else, the GDT and segment registers, the
 * entry registers, and the boot info page.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "x86_boot.h"

static uint8_t *ram;
#define LOW_BYTES VMM_KERNEL_MIN_GPA /* the builders only touch what is below 1 MiB */

static void setup(void)
{
	ram = malloc(LOW_BYTES);
	cr_assert_not_null(ram);
	memset(ram, 0xcc, LOW_BYTES); /* garbage: the builders must clear what they use */
}

static void teardown(void)
{
	free(ram);
}

TestSuite(vmm_boot, .init = setup, .fini = teardown, .timeout = 10);

static uint64_t entry_at(uint64_t table_gpa, unsigned index)
{
	cr_assert_lt(table_gpa + 8 * index, LOW_BYTES, "table outside the low area");
	uint64_t e;
	memcpy(&e, ram + table_gpa + 8 * index, 8);
	return e;
}

/*
 * Walk the 4-level tables for a virtual address as the CPU would.  Returns
 * true and the physical address if mapped by a present 2 MiB page.
 */
static bool translate(uint64_t va, uint64_t *pa)
{
	uint64_t e = entry_at(VMM_PML4_GPA, (va >> 39) & 511);
	if (!(e & X86_PTE_P))
		return false;
	e = entry_at(e & 0x000ffffffffff000ull, (va >> 30) & 511);
	if (!(e & X86_PTE_P))
		return false;
	cr_assert_eq(e & X86_PTE_PS, 0, "no 1 GiB pages expected");
	e = entry_at(e & 0x000ffffffffff000ull, (va >> 21) & 511);
	if (!(e & X86_PTE_P))
		return false;
	cr_assert_neq(e & X86_PTE_PS, 0, "2 MiB pages expected");
	cr_assert_neq(e & X86_PTE_RW, 0, "mapped memory is writable");
	*pa = (e & 0x000fffffffe00000ull) | (va & 0x1fffff);
	return true;
}

/* Count present 2 MiB pages over the whole 48-bit space by walking the
 * tables (not by probing addresses), checking each is identity. */
static uint64_t count_pages(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e4 = entry_at(VMM_PML4_GPA, i);
		if (!(e4 & X86_PTE_P))
			continue;
		for (unsigned j = 0; j < 512; j++) {
			uint64_t e3 = entry_at(e4 & ~0xfffull, j);
			if (!(e3 & X86_PTE_P))
				continue;
			for (unsigned k = 0; k < 512; k++) {
				uint64_t e2 = entry_at(e3 & ~0xfffull, k);
				if (!(e2 & X86_PTE_P))
					continue;
				uint64_t va = ((uint64_t)i << 39) | ((uint64_t)j << 30) |
					      ((uint64_t)k << 21);
				cr_assert_eq(e2 & 0x000fffffffe00000ull, va, "not identity at %#llx",
					     (unsigned long long)va);
				n++;
			}
		}
	}
	return n;
}

Test(vmm_boot, page_tables_map_exactly_ram_and_ring)
{
	const uint64_t ram_bytes = 256ull << 20, ring_slot = 4ull << 20;
	cr_assert_eq(x86_boot_write_tables(ram, ram_bytes, VMM_RING_GPA, ring_slot), 0);

	uint64_t pa;
	cr_assert(translate(0, &pa) && pa == 0);
	cr_assert(translate(VMM_BOOT_INFO_GPA, &pa) && pa == VMM_BOOT_INFO_GPA);
	cr_assert(translate(ram_bytes - 1, &pa) && pa == ram_bytes - 1);
	cr_assert(!translate(ram_bytes, &pa), "first byte past RAM must fault");
	cr_assert(!translate(VMM_RING_GPA - 1, &pa));
	cr_assert(translate(VMM_RING_GPA, &pa) && pa == VMM_RING_GPA);
	cr_assert(translate(VMM_RING_GPA + ring_slot - 1, &pa));
	cr_assert(!translate(VMM_RING_GPA + ring_slot, &pa), "first byte past the ring");
	cr_assert(!translate(0xdead0000000ull, &pa), "the guest's fault address");
	cr_assert(!translate(0xffffffff80000000ull, &pa), "no higher half");
	cr_assert_eq(count_pages(), (ram_bytes + ring_slot) / VMM_HUGE_PAGE_SIZE);
}

Test(vmm_boot, page_tables_round_up_to_2m)
{
	/* 17 MiB of RAM and a 1.05 MiB ring: mapped as 18 MiB and 2 MiB. */
	cr_assert_eq(x86_boot_write_tables(ram, 17ull << 20, VMM_RING_GPA, 1101824), 0);
	uint64_t pa;
	cr_assert(translate((18ull << 20) - 1, &pa));
	cr_assert(!translate(18ull << 20, &pa));
	cr_assert(translate(VMM_RING_GPA + (2ull << 20) - 1, &pa));
	cr_assert(!translate(VMM_RING_GPA + (2ull << 20), &pa));
	cr_assert_eq(count_pages(), 9 + 1);
}

Test(vmm_boot, page_tables_largest_ram_and_no_ring)
{
	cr_assert_eq(x86_boot_write_tables(ram, VMM_RAM_MAX, 0, 0), 0);
	uint64_t pa;
	cr_assert(translate(VMM_RAM_MAX - 1, &pa) && pa == VMM_RAM_MAX - 1);
	cr_assert(!translate(VMM_RAM_MAX, &pa));
	cr_assert(!translate(VMM_RING_GPA, &pa), "no ring slot, nothing at 4 GiB");
	cr_assert_eq(count_pages(), VMM_RAM_MAX / VMM_HUGE_PAGE_SIZE);
}

Test(vmm_boot, page_tables_reject_impossible_layouts)
{
	cr_assert_eq(x86_boot_write_tables(ram, 0, 0, 0), -EINVAL);
	cr_assert_eq(x86_boot_write_tables(ram, 5ull << 30, 0, 0), -EINVAL);
	cr_assert_eq(x86_boot_write_tables(ram, 256ull << 20, VMM_RING_GPA + 4096, 1 << 21),
		     -EINVAL);
	cr_assert_eq(x86_boot_write_tables(ram, 256ull << 20, VMM_RING_GPA, 2ull << 30),
		     -EINVAL);
}

Test(vmm_boot, page_tables_stay_in_the_reserved_area)
{
	memset(ram, 0xcc, LOW_BYTES);
	cr_assert_eq(x86_boot_write_tables(ram, 256ull << 20, VMM_RING_GPA, 4ull << 20), 0);
	for (uint64_t i = VMM_RESERVED_END; i < LOW_BYTES; i++)
		cr_assert_eq(ram[i], 0xcc, "wrote past the reserved area at %#llx",
			     (unsigned long long)i);
	for (uint64_t i = 0; i < VMM_GDT_GPA; i++)
		cr_assert_eq(ram[i], 0xcc, "wrote into page 0 at %#llx", (unsigned long long)i);
}

Test(vmm_boot, gdt_entries)
{
	cr_assert_eq(x86_boot_write_tables(ram, 64ull << 20, 0, 0), 0);
	uint64_t gdt[VMM_GDT_ENTRIES];
	memcpy(gdt, ram + VMM_GDT_GPA, sizeof(gdt));
	cr_assert_eq(gdt[0], 0);
	/* The classic flat long-mode descriptors (accessed bit set). */
	cr_assert_eq(gdt[VMM_SEL_CODE64 / 8], 0x00af9b000000ffffull);
	cr_assert_eq(gdt[VMM_SEL_DATA / 8], 0x00cf93000000ffffull);
	/* 64-bit busy TSS at VMM_TSS_GPA, limit 0x67, upper half base 0. */
	struct kvm_segment tss = x86_segment_from_gdt(gdt[VMM_SEL_TSS / 8], VMM_SEL_TSS);
	cr_assert_eq(tss.base, VMM_TSS_GPA);
	cr_assert_eq(tss.limit, VMM_TSS_LIMIT);
	cr_assert_eq(tss.type, 11);
	cr_assert_eq(tss.s, 0);
	cr_assert_eq(tss.present, 1);
	cr_assert_eq(gdt[VMM_SEL_TSS / 8 + 1], 0);
	/* The TSS itself is zeroed. */
	for (unsigned i = 0; i <= VMM_TSS_LIMIT; i++)
		cr_assert_eq(ram[VMM_TSS_GPA + i], 0);
}

Test(vmm_boot, gdt_entry_encoding)
{
	cr_assert_eq(x86_gdt_entry(0xa09b, 0, 0xfffff), 0x00af9b000000ffffull);
	cr_assert_eq(x86_gdt_entry(0x808b, 0x12345678, 0x67), 0x12808b3456780067ull);
	struct kvm_segment s = x86_segment_from_gdt(x86_gdt_entry(0xc093, 0xab000000, 0xfffff),
						    0x10);
	cr_assert_eq(s.base, 0xab000000);
	cr_assert_eq(s.limit, 0xffffffff); /* G: 4 KiB granularity */
	cr_assert_eq(s.db, 1);
	cr_assert_eq(s.g, 1);
	cr_assert_eq(s.l, 0);
	cr_assert_eq(s.type, 3);
}

Test(vmm_boot, long_mode_sregs)
{
	struct kvm_sregs s;
	memset(&s, 0xff, sizeof(s)); /* whatever KVM_GET_SREGS had */
	x86_boot_sregs(&s);
	cr_assert_eq(s.cs.selector, VMM_SEL_CODE64);
	cr_assert_eq(s.cs.l, 1);
	cr_assert_eq(s.cs.db, 0); /* L and D together are reserved */
	cr_assert_eq(s.cs.dpl, 0);
	cr_assert_eq(s.cs.present, 1);
	cr_assert_eq(s.cs.s, 1);
	cr_assert_eq(s.cs.type, 11);
	cr_assert_eq(s.cs.unusable, 0);
	cr_assert_eq(s.ss.selector, VMM_SEL_DATA);
	cr_assert_eq(s.ds.selector, VMM_SEL_DATA);
	cr_assert_eq(s.ss.type, 3);
	cr_assert_eq(s.tr.selector, VMM_SEL_TSS);
	cr_assert_eq(s.tr.type, 11);
	cr_assert_eq(s.gdt.base, VMM_GDT_GPA);
	cr_assert_eq(s.gdt.limit, VMM_GDT_ENTRIES * 8 - 1);
	cr_assert_eq(s.cr3, VMM_PML4_GPA);
	cr_assert_eq(s.cr0 & (X86_CR0_PE | X86_CR0_PG), X86_CR0_PE | X86_CR0_PG);
	cr_assert_neq(s.cr4 & X86_CR4_PAE, 0);
	cr_assert_eq(s.efer & (X86_EFER_LME | X86_EFER_LMA), X86_EFER_LME | X86_EFER_LMA);
}

Test(vmm_boot, entry_registers)
{
	struct kvm_regs r;
	memset(&r, 0xff, sizeof(r));
	x86_boot_regs(&r, 0x101234, 3);
	cr_assert_eq(r.rip, 0x101234);
	cr_assert_eq(r.rdi, VMM_BOOT_INFO_GPA);
	cr_assert_eq(r.rsi, 3);
	cr_assert_eq(r.rsp, 0);
	cr_assert_eq(r.rflags, 2);
	cr_assert_eq(r.rax | r.rbx | r.rcx | r.rdx | r.rbp | r.r8 | r.r15, 0);
}

static struct boot_params params(int argc, char *const *argv)
{
	return (struct boot_params){
		.ram_bytes = 256ull << 20, .kernel_end = 0x34f000, .tsc_khz = 2500000,
		.nr_cpus = 2, .host_kind = VS_HOST_KVM, .ring_gpa = VMM_RING_GPA,
		.ring_bytes = 2 * VS_QUEUE_BYTES, .nr_queues = 2,
		.doorbell = VS_DOORBELL_HYPERCALL, .hypercall_insn = VS_INSN_VMMCALL,
		.notify = VS_NOTIFY_BATCH, .copy = VS_COPY_BOUNCE, .batch = 16,
		.spin_us = 1234, .argc = argc, .argv = argv,
	};
}

Test(vmm_boot, boot_info_contents)
{
	char *argv[] = { "ticks", "3", "100" };
	struct boot_params p = params(3, argv);
	static struct vs_boot_info bi;
	char msg[256];
	memset(&bi, 0xee, sizeof(bi));
	cr_assert_eq(x86_boot_fill_info(&bi, &p, msg, sizeof(msg)), 0);
	cr_assert_eq(bi.magic, VS_ABI_MAGIC);
	cr_assert_eq(bi.version, VS_ABI_VERSION);
	cr_assert_eq(bi.ram_bytes, 256ull << 20);
	cr_assert_eq(bi.kernel_end, 0x34f000);
	cr_assert_eq(bi.tsc_khz, 2500000);
	cr_assert_eq(bi.nr_cpus, 2);
	cr_assert_eq(bi.host_kind, VS_HOST_KVM);
	cr_assert_eq(bi.ring_gpa, VMM_RING_GPA);
	cr_assert_eq(bi.ring_bytes, 2 * VS_QUEUE_BYTES);
	cr_assert_eq(bi.nr_queues, 2);
	cr_assert_eq(bi.doorbell, VS_DOORBELL_HYPERCALL);
	cr_assert_eq(bi.hypercall_insn, VS_INSN_VMMCALL);
	cr_assert_eq(bi.notify, VS_NOTIFY_BATCH);
	cr_assert_eq(bi.copy, VS_COPY_BOUNCE);
	cr_assert_eq(bi.batch, 16);
	cr_assert_eq(bi.cmdline_len, 12);
	cr_assert_eq(memcmp(bi.cmdline, "ticks\0" "3\0" "100\0", 12), 0);
	cr_assert_eq(bi.spin_us, 1234);
	for (size_t i = bi.cmdline_len; i < VS_CMDLINE_MAX; i++)
		cr_assert_eq(bi.cmdline[i], 0, "cmdline tail not zeroed at %zu", i);
}

Test(vmm_boot, boot_info_without_transport)
{
	struct boot_params p = params(0, NULL);
	p.ring_gpa = 0;
	static struct vs_boot_info bi;
	char msg[256];
	cr_assert_eq(x86_boot_fill_info(&bi, &p, msg, sizeof(msg)), 0);
	cr_assert_eq(bi.ring_gpa, 0);
	cr_assert_eq(bi.ring_bytes, 0);
	cr_assert_eq(bi.nr_queues, 0);
	cr_assert_eq(bi.doorbell, VS_DOORBELL_NONE);
	cr_assert_eq(bi.cmdline_len, 0);
	cr_assert_str_eq(bi.cmdline, "");
}

/* Each argument as it came, NUL terminated: spaces stay inside their argument and an
 * empty argument is a lone NUL (no splitting in the guest can change them). */
Test(vmm_boot, cmdline_keeps_each_argument_exactly)
{
	char *argv[] = { "echo", "", "a b", "x\xff" };
	struct boot_params p = params(4, argv);
	static struct vs_boot_info bi;
	char msg[256];
	cr_assert_eq(x86_boot_fill_info(&bi, &p, msg, sizeof(msg)), 0);
	cr_assert_eq(bi.cmdline_len, 13);
	cr_assert_eq(memcmp(bi.cmdline, "echo\0" "\0" "a b\0" "x\xff\0", 13), 0);
}

Test(vmm_boot, cmdline_longest_fits_and_one_more_is_rejected)
{
	static char word[VS_CMDLINE_MAX + 1];
	static struct vs_boot_info bi;
	char msg[256];
	memset(word, 'a', VS_CMDLINE_MAX - 1);
	word[VS_CMDLINE_MAX - 1] = '\0';
	char *one[] = { word };
	struct boot_params p = params(1, one);
	cr_assert_eq(x86_boot_fill_info(&bi, &p, msg, sizeof(msg)), 0);
	cr_assert_eq(bi.cmdline_len, VS_CMDLINE_MAX);
	cr_assert_eq(bi.cmdline[VS_CMDLINE_MAX - 1], 0);

	/* Same length plus one more argument, even an empty one (its NUL): too long. */
	char *two[] = { word, "" };
	p = params(2, two);
	msg[0] = '\0';
	cr_assert_eq(x86_boot_fill_info(&bi, &p, msg, sizeof(msg)), -E2BIG);
	cr_assert_not_null(strstr(msg, "guest arguments"), "%s", msg);
	cr_assert_null(strchr(msg, '\n'));
}

Test(vmm_boot, hypercall_insn_by_vendor)
{
	cr_assert_eq(x86_hypercall_insn_for_vendor("GenuineIntel"), VS_INSN_VMCALL);
	cr_assert_eq(x86_hypercall_insn_for_vendor("AuthenticAMD"), VS_INSN_VMMCALL);
	cr_assert_eq(x86_hypercall_insn_for_vendor("HygonGenuine"), VS_INSN_VMMCALL);
	cr_assert_eq(x86_hypercall_insn_for_vendor("SomethingNew"), VS_INSN_VMCALL);
}

Test(vmm_boot, cpuid_apic_ids_per_vcpu)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 3 * sizeof(c->entries[0]));
	cr_assert_not_null(c);
	c->nent = 3;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0xff123456 };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0, .edx = 9 };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 0, .ebx = 0x68747541 };
	x86_cpuid_for_vcpu(c, 5);
	cr_assert_eq(c->entries[0].ebx, 0x05123456);
	cr_assert_eq(c->entries[1].edx, 5);
	cr_assert_eq(c->entries[2].ebx, 0x68747541);
	free(c);
}
