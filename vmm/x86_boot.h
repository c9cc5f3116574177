/* SPDX-License-Identifier: MIT */
/*
 * Direct 64-bit boot: the GDT, identity page tables, control registers and
 * the boot info page the guest starts with (see layout.h and abi.h).
 *
 * The builders write into plain buffers and structs, so unit tests check
 * them without KVM; vcpu.c hands the results to KVM.
 */
#ifndef VMM_X86_BOOT_H
#define VMM_X86_BOOT_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include "virtsocket/abi.h"

/* x86 architectural bits the builders use. */
#define X86_CR0_PE   (1ull << 0)
#define X86_CR0_MP   (1ull << 1)
#define X86_CR0_ET   (1ull << 4)
#define X86_CR0_NE   (1ull << 5)
#define X86_CR0_WP   (1ull << 16)
#define X86_CR0_AM   (1ull << 18)
#define X86_CR0_PG   (1ull << 31)
#define X86_CR4_PAE  (1ull << 5)
#define X86_CR4_OSFXSR     (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_PTE_P    (1ull << 0)
#define X86_PTE_RW   (1ull << 1)
#define X86_PTE_PS   (1ull << 7)   /* in a PD entry: a 2 MiB page */
#define X86_RFLAGS_RESERVED1 (1ull << 1)

/* A GDT descriptor from (flags, base, limit), as the Linux kernel's
 * GDT_ENTRY(): flags holds access byte (bits 0..7) and G/DB/L/AVL (12..15). */
uint64_t x86_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);

/* The KVM segment register a (non-system or TSS) descriptor describes. */
struct kvm_segment x86_segment_from_gdt(uint64_t desc, uint16_t selector);

/*
 * Write the boot GDT, the (zeroed) boot TSS and the identity page tables into
 * ram (which must hold at least VMM_RESERVED_END bytes).  Maps [0, ram_bytes)
 * rounded up to 2 MiB and, if ring_slot_bytes != 0, [ring_gpa, +ring_slot_bytes)
 * rounded up to 2 MiB; nothing else.  Returns 0 or -EINVAL (sizes the fixed
 * page-table pages cannot hold).
 */
int x86_boot_write_tables(uint8_t *ram, uint64_t ram_bytes, uint64_t ring_gpa,
			  uint64_t ring_slot_bytes);

/* Long mode, CPL 0, paging on with the tables above: changes the segment,
 * descriptor-table, control and EFER fields of sregs (start from KVM_GET_SREGS). */
void x86_boot_sregs(struct kvm_sregs *sregs);

/* Registers at the entry: rip = entry, rdi = boot info GPA, rsi = index,
 * rsp = 0, rflags = 2, everything else 0. */
void x86_boot_regs(struct kvm_regs *regs, uint64_t entry, uint32_t vcpu_index);

struct boot_params {
	uint64_t ram_bytes;
	uint64_t kernel_end;
	uint64_t tsc_khz;
	uint32_t nr_cpus;
	uint32_t host_kind;              /* enum vs_host_kind */
	uint64_t ring_gpa;               /* 0: no transport */
	uint64_t ring_bytes;
	uint32_t nr_queues;
	enum vs_doorbell_kind doorbell;
	enum vs_hypercall_insn hypercall_insn;
	enum vs_notify_mode notify;
	enum vs_copy_mode copy;
	uint32_t batch;
	uint32_t spin_us;
	int argc;                        /* guest arguments, each NUL terminated in cmdline */
	char *const *argv;
};

/* Fill the boot info page.  Returns 0, or -E2BIG with one line in msg when
 * the guest arguments, each with its NUL, do not fit VS_CMDLINE_MAX bytes. */
int x86_boot_fill_info(struct vs_boot_info *bi, const struct boot_params *p,
		       char *msg, size_t msglen);

/* Which hypercall instruction a CPU of this CPUID vendor executes natively:
 * vmmcall for AuthenticAMD / HygonGenuine, vmcall otherwise (GenuineIntel). */
enum vs_hypercall_insn x86_hypercall_insn_for_vendor(const char vendor[12]);
/* The same for the CPU this process runs on. */
enum vs_hypercall_insn x86_host_hypercall_insn(void);

/* Adjust a copy of KVM_GET_SUPPORTED_CPUID for one vCPU: its APIC ID in
 * leaf 1 (EBX[31:24]) and leaves 0xb/0x1f (EDX). */
void x86_cpuid_for_vcpu(struct kvm_cpuid2 *cpuid, uint32_t vcpu_index);

#endif /* VMM_X86_BOOT_H */
