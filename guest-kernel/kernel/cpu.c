/*
 * Per-CPU state: stacks, GDT, TSS and the GS base that points at struct cpu.
 *
 * Each vCPU gets its own GDT so that its TSS descriptor (which the CPU marks busy) is
 * its own, and nothing here is shared between vCPUs.  The TSS only provides an IST
 * stack, so a fault with a broken stack pointer still reaches the reporter (as a
 * double fault) instead of becoming a silent triple fault.
 */
#include <kernel/cpu.h>

uint8_t cpu_stacks[MAX_CPUS][CPU_STACK_SIZE] __attribute__((aligned(4096)));
static uint8_t ist_stacks[MAX_CPUS][CPU_IST_STACK_SIZE] __attribute__((aligned(4096)));
struct cpu cpus[MAX_CPUS];

struct gdtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void gdt_load(const struct gdtr *gdtr, uint16_t tss_selector); /* arch/entry.S */

#define GDT_CODE64 0x00af9a000000ffffull /* present, DPL 0, execute/read, L=1 */
#define GDT_DATA   0x00cf92000000ffffull /* present, DPL 0, read/write */

/* A 64-bit available TSS descriptor takes two GDT slots. */
static void gdt_set_tss(uint64_t *slot, const struct tss *tss)
{
	uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;

	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		  (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	slot[1] = base >> 32;
}

void cpu_init(unsigned index)
{
	struct cpu *c = &cpus[index];
	struct gdtr gdtr;

	c->self = c;
	c->index = index;
	c->tss.ist[0] = (uint64_t)&ist_stacks[index][CPU_IST_STACK_SIZE];
	c->tss.iomap_base = sizeof(c->tss); /* no I/O bitmap */
	c->gdt[0] = 0;
	c->gdt[GDT_KERNEL_CS / 8] = GDT_CODE64;
	c->gdt[GDT_KERNEL_DS / 8] = GDT_DATA;
	gdt_set_tss(&c->gdt[GDT_TSS / 8], &c->tss);

	gdtr.limit = sizeof(c->gdt) - 1;
	gdtr.base = (uint64_t)c->gdt;
	gdt_load(&gdtr, GDT_TSS);
	wrmsr(MSR_GS_BASE, (uint64_t)c);
}
