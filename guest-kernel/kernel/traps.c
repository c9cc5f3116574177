/*
 * The IDT and the fault reporter.  All 32 exception vectors lead to trap_report(),
 * which prints what a person debugging the guest needs (vector, error code, RIP, CR2,
 * all general registers) and ends the VM with VS_EXIT_GUEST_EXCEPTION.  Interrupts are
 * never enabled, so vectors 32..255 have no gates (the IDT limit excludes them: one
 * would become a #GP and be reported as such).
 */
#include <kernel.h>
#include <kernel/traps.h>
#include <stdatomic.h>
#include <stdio.h>

#define NR_EXCEPTIONS 32
#define IST_FAULT_STACK 1 /* tss.ist[0] */

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;      /* 0x8e: present, DPL 0, 64-bit interrupt gate */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

struct idtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t trap_stubs[NR_EXCEPTIONS]; /* arch/traps.S */
static struct idt_gate idt[NR_EXCEPTIONS] __attribute__((aligned(16)));
static atomic_int idt_ready;

static const char *const exception_names[NR_EXCEPTIONS] = {
	[0] = "#DE divide error",         [1] = "#DB debug",
	[2] = "NMI",                      [3] = "#BP breakpoint",
	[4] = "#OF overflow",             [5] = "#BR bound range",
	[6] = "#UD invalid opcode",       [7] = "#NM device not available",
	[8] = "#DF double fault",         [9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",         [11] = "#NP segment not present",
	[12] = "#SS stack fault",         [13] = "#GP general protection",
	[14] = "#PF page fault",          [15] = "reserved",
	[16] = "#MF x87 floating point",  [17] = "#AC alignment check",
	[18] = "#MC machine check",       [19] = "#XM SIMD floating point",
	[20] = "#VE virtualization",      [21] = "#CP control protection",
	[22] = "reserved",                [23] = "reserved",
	[24] = "reserved",                [25] = "reserved",
	[26] = "reserved",                [27] = "reserved",
	[28] = "#HV hypervisor injection", [29] = "#VC VMM communication",
	[30] = "#SX security",            [31] = "reserved",
};

static void idt_load(void)
{
	struct idtr idtr = { .limit = sizeof(idt) - 1, .base = (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void traps_init(void)
{
	for (unsigned v = 0; v < NR_EXCEPTIONS; v++) {
		uint64_t off = trap_stubs[v];
		int own_stack = v == 2 || v == 8 || v == 18; /* NMI, #DF, #MC */

		idt[v] = (struct idt_gate){
			.offset_lo = off & 0xffff,
			.selector = GDT_KERNEL_CS,
			.ist = own_stack ? IST_FAULT_STACK : 0,
			.type = 0x8e,
			.offset_mid = (off >> 16) & 0xffff,
			.offset_hi = off >> 32,
		};
	}
	idt_load();
	atomic_store_explicit(&idt_ready, 1, memory_order_release);
}

void traps_load(void)
{
	while (!atomic_load_explicit(&idt_ready, memory_order_acquire))
		cpu_relax();
	idt_load();
}

/* What a page fault's error code says, e.g. "read, not present". */
static void pf_describe(uint64_t err, char *buf, size_t size)
{
	snprintf(buf, size, "%s, %s%s%s", err & 0x10 ? "instruction fetch" :
		 err & 0x2 ? "write" : "read",
		 err & 0x1 ? "protection violation" : "not present",
		 err & 0x4 ? ", user" : "", err & 0x8 ? ", reserved bit set" : "");
}

_Noreturn void trap_report(struct trap_frame *f);

_Noreturn void trap_report(struct trap_frame *f)
{
	struct cpu *c = this_cpu();
	const char *name = f->vector < NR_EXCEPTIONS ? exception_names[f->vector] : "?";
	uint64_t cr2 = read_cr2();
	char detail[80] = "";

	if (c->in_trap) /* faulted while reporting: say nothing more */
		vm_exit(VS_EXIT_GUEST_EXCEPTION);
	c->in_trap = true;
	if (f->vector == 14)
		pf_describe(f->error, detail, sizeof(detail));

	console_lock_for_panic();
	printf("\n*** guest exception on cpu %u: vector %lu %s, error code %#lx%s%s%s\n",
	       c->index, f->vector, name, f->error, detail[0] ? " (" : "", detail,
	       detail[0] ? ")" : "");
	printf("    rip %016lx  cs  %04lx  rflags %016lx\n", f->rip, f->cs, f->rflags);
	printf("    rsp %016lx  ss  %04lx  cr2    %016lx  cr3 %016lx\n", f->rsp, f->ss, cr2,
	       read_cr3());
	printf("    rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx,
	       f->rcx, f->rdx);
	printf("    rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", f->rsi, f->rdi,
	       f->rbp, f->r8);
	printf("    r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", f->r9, f->r10,
	       f->r11, f->r12);
	printf("    r13 %016lx  r14 %016lx  r15 %016lx\n", f->r13, f->r14, f->r15);
	console_unlock();
	vm_exit(VS_EXIT_GUEST_EXCEPTION);
}
