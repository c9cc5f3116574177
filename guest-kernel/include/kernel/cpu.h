/* CPU helpers: port I/O, TSC, control registers, MSRs and the per-CPU block. */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <virtsocket/abi.h>

#include <kernel/layout.h>

#define CPU_STACK_SIZE     (1u << CPU_STACK_SHIFT)
#define CPU_IST_STACK_SIZE 4096u /* double fault / NMI / #MC stack */

_Static_assert(MAX_CPUS == VS_MAX_QUEUES, "one queue per vCPU, so never more vCPUs");

/* 64-bit task state segment: only the IST stacks are used. */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

#define GDT_ENTRIES 5 /* null, code, data, TSS (two slots) */

/* Per-CPU block, reached through the GS base (cpu_init sets it first thing). */
struct cpu {
	struct cpu *self;          /* %gs:0 */
	uint32_t index;            /* %gs:8 */
	int errno_value;           /* errno is per CPU */
	bool in_trap;              /* a nested fault while reporting one just exits */
	/* smp_run_on() work slot, see kernel/smp.c */
	_Atomic uint32_t work_state;
	int (*work_fn)(void *arg);
	void *work_arg;
	int work_result;
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
} __attribute__((aligned(64)));

extern struct cpu cpus[MAX_CPUS];

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__("movq %%gs:0, %0" : "=r"(c));
	return c;
}

/* This vCPU's index (0 = boot CPU), as the vmm passed it in rsi. */
static inline unsigned cpu_index(void)
{
	unsigned i;
	__asm__("movl %%gs:%c1, %0" : "=r"(i) : "i"(offsetof(struct cpu, index)));
	return i;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Spin-wait hint.  On a PVM host every guest instruction is emulated (~0.75 us), so
 * spinning costs a host CPU however it is done: spin only where a program asked to. */
static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Stop this vCPU for good: with interrupts off and no irqchip, HLT exits to the vmm,
 * which parks the vCPU (it never runs again). */
static inline _Noreturn void cpu_park(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

#define MSR_GS_BASE 0xc0000101u

/* Load this CPU's GDT, TSS and GS base (kernel/cpu.c). */
void cpu_init(unsigned index);

#endif
