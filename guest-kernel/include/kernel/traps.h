/* Exceptions: every one of the 32 vectors prints a report and ends the VM with
 * VS_EXIT_GUEST_EXCEPTION. */
#ifndef KERNEL_TRAPS_H
#define KERNEL_TRAPS_H

#include <stdint.h>

/* What the stubs in arch/traps.S push, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;  /* pushed by the CPU */
};

void traps_init(void);  /* boot CPU: build the IDT, load it, let the APs load it */
void traps_load(void);  /* AP: wait for the IDT, load it */

#endif
