/*
 * hcloop N [user|kernel|pio]: exit to the hypervisor N times in a tight loop and check
 * that every register the guest owns comes back intact and execution goes on right
 * after the instruction.  Nothing else runs: no ring, no sockets, no console output
 * between the first and the last line.  It isolates the exit path itself from the
 * network code, e.g. to tell a guest or VMM bug from a hypervisor one
 * (docs/nested-sandbox.md).
 *
 *   user    the doorbell hypercall (nr VS_HC_NR, SUBMIT on queue 0 with an empty SQ):
 *           KVM skips the vmcall/vmmcall, the vmm answers (default when the vmm
 *           gave the hypercall doorbell)
 *   kernel  an nr KVM answers itself (-KVM_ENOSYS = -1000) without leaving the kernel
 *   pio     the port-I/O doorbell (outl), the vmm answers (default otherwise)
 *
 * Exit 0 when all N came back right, 1 at the first wrong one (what was wrong printed).
 */
#include <kernel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KVM_ENOSYS_RESULT (-1000)  /* include/uapi/linux/kvm_para.h: KVM_ENOSYS */
#define UNKNOWN_NR 0x7ffeu         /* no hypercall KVM knows */

enum hc_kind { HC_USER, HC_KERNEL, HC_PIO };

/* Registers the exit must not change; each holds its own canary going in. */
struct hc_regs {
	uint64_t rbx, rcx, rdx, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
};

#define HC_CANARY(i) (0x5a5a000000000000ull | ((uint64_t)(i) << 32) | 0x1234u)

static const char *const reg_names[] = {
	"rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* One exit through INSN with rax = *rax, the others from *in; what the registers hold
 * afterwards lands in *out and the new rax in *rax. */
#define HC_EXIT(INSN, rax, in, out)                                                   \
	do {                                                                          \
		register uint64_t r8_ __asm__("r8") = (in)->r8;                       \
		register uint64_t r9_ __asm__("r9") = (in)->r9;                       \
		register uint64_t r10_ __asm__("r10") = (in)->r10;                    \
		register uint64_t r11_ __asm__("r11") = (in)->r11;                    \
		register uint64_t r12_ __asm__("r12") = (in)->r12;                    \
		register uint64_t r13_ __asm__("r13") = (in)->r13;                    \
		register uint64_t r14_ __asm__("r14") = (in)->r14;                    \
		register uint64_t r15_ __asm__("r15") = (in)->r15;                    \
		uint64_t b_ = (in)->rbx, c_ = (in)->rcx, d_ = (in)->rdx;              \
		uint64_t si_ = (in)->rsi, di_ = (in)->rdi;                            \
		__asm__ __volatile__(INSN                                             \
				     : "+a"(*(rax)), "+b"(b_), "+c"(c_), "+d"(d_),    \
				       "+S"(si_), "+D"(di_), "+r"(r8_), "+r"(r9_),    \
				       "+r"(r10_), "+r"(r11_), "+r"(r12_), "+r"(r13_), \
				       "+r"(r14_), "+r"(r15_)                         \
				     :                                                \
				     : "memory", "cc");                               \
		*(out) = (struct hc_regs){ b_, c_, d_, si_, di_, r8_, r9_, r10_,     \
					   r11_, r12_, r13_, r14_, r15_ };           \
	} while (0)

static void hc_once(enum hc_kind kind, uint64_t *rax, const struct hc_regs *in,
		    struct hc_regs *out)
{
	if (kind == HC_PIO)
		HC_EXIT("outl %%eax, %%dx", rax, in, out);
	else if (boot_info->hypercall_insn == VS_INSN_VMMCALL)
		HC_EXIT("vmmcall", rax, in, out);
	else
		HC_EXIT("vmcall", rax, in, out);
}

static void hc_setup(enum hc_kind kind, uint64_t *rax, struct hc_regs *in)
{
	uint64_t *r = &in->rbx;
	for (unsigned i = 0; i < sizeof(*in) / sizeof(*r); i++)
		r[i] = HC_CANARY(i);
	switch (kind) {
	case HC_USER:
		*rax = VS_HC_NR;
		in->rbx = boot_info->ring_gpa;
		in->rcx = boot_info->ring_bytes / 4096;
		in->rdx = VS_DB_ARG(0, VS_DB_SUBMIT, 0);
		break;
	case HC_KERNEL:
		*rax = UNKNOWN_NR;
		break;
	case HC_PIO:
		*rax = (uint32_t)VS_DB_ARG(0, VS_DB_SUBMIT, 0);
		in->rdx = VS_PORT_DOORBELL;
		break;
	}
}

static bool hc_result_ok(enum hc_kind kind, int64_t rax)
{
	return kind == HC_KERNEL ? rax == KVM_ENOSYS_RESULT : rax >= 0;
}

static int hcloop_main(int argc, char **argv)
{
	static const char *const kind_names[] = { "user", "kernel", "pio" };
	bool hypercall = boot_info->doorbell == VS_DOORBELL_HYPERCALL;
	enum hc_kind kind = hypercall ? HC_USER : HC_PIO;
	char *end = NULL;
	long n = argc > 1 ? strtol(argv[1], &end, 0) : 0;

	if (argc > 2) {
		for (kind = HC_USER; kind <= HC_PIO; kind++)
			if (strcmp(argv[2], kind_names[kind]) == 0)
				break;
	}
	if (argc < 2 || argc > 3 || !end || *end || n < 1 || kind > HC_PIO) {
		printf("usage: hcloop N [user|kernel|pio]  (N >= 1)\n");
		return VS_EXIT_USAGE;
	}
	if (kind != HC_PIO && !hypercall) {
		printf("hcloop: the vmm gave the %s doorbell, not the hypercall: run it with "
		       "--doorbell=hypercall, or use 'pio'\n", doorbell_name(boot_info->doorbell));
		return VS_EXIT_USAGE;
	}
	if (boot_info->ring_gpa == 0 && kind != HC_KERNEL) {
		printf("hcloop: this VM has no ring (and so no doorbell)\n");
		return VS_EXIT_USAGE;
	}

	printf("hcloop: %ld %s exits through %s\n", n, kind_names[kind],
	       kind == HC_PIO ? "outl" :
	       boot_info->hypercall_insn == VS_INSN_VMMCALL ? "vmmcall" : "vmcall");
	uint64_t start = now_ns();
	for (long i = 0; i < n; i++) {
		struct hc_regs in, out;
		uint64_t rax;
		hc_setup(kind, &rax, &in);
		hc_once(kind, &rax, &in, &out);
		if (!hc_result_ok(kind, (int64_t)rax)) {
			printf("hcloop: exit %ld of %ld: rax %#lx is not the expected result\n",
			       i + 1, n, rax);
			return 1;
		}
		const uint64_t *a = &in.rbx, *b = &out.rbx;
		for (unsigned r = 0; r < sizeof(in) / sizeof(*a); r++) {
			if (a[r] != b[r]) {
				printf("hcloop: exit %ld of %ld changed %s: %#lx -> %#lx\n", i + 1,
				       n, reg_names[r], a[r], b[r]);
				return 1;
			}
		}
	}
	uint64_t ns = now_ns() - start;
	printf("hcloop: %ld exits ok in %lu ms (%lu ns each)\n", n, ns / NSEC_PER_MSEC,
	       ns / (uint64_t)n);
	return 0;
}
GUEST_PROGRAM("hcloop", hcloop_main, "N [user|kernel|pio]",
	      "exit to the hypervisor N times, checking every register comes back");
