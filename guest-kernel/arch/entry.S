/*
 * The ELF entry point.  Every vCPU starts here at the same time, in 64-bit mode with
 * paging on and interrupts off (abi.h):
 *     rdi = boot info address, rsi = vCPU index, rsp = 0.
 * Pick this vCPU's stack by index and call kentry(boot_info, index).
 */
#include <kernel/layout.h>

	.section .text.boot, "ax"
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	cmpq $MAX_CPUS, %rsi
	jae 1f                           /* no stack for this vCPU: park it */
	leaq 1(%rsi), %rax
	shlq $CPU_STACK_SHIFT, %rax
	leaq cpu_stacks(%rip), %rsp
	addq %rax, %rsp                  /* top of cpu_stacks[index] */
	xorl %ebp, %ebp                  /* end of frame chain */
	call kentry                      /* (rdi, rsi) pass straight through */
1:	hlt
	jmp 1b
	.size _start, . - _start

/*
 * void gdt_load(const struct gdtr *gdtr, uint16_t tss_selector)
 * Load a GDT, reload every segment register from it (CS through a far return) and
 * load the task register.  GS base is reset by the selector load: set it afterwards.
 */
	.text
	.globl gdt_load
	.type gdt_load, @function
gdt_load:
	lgdt (%rdi)
	movl $GDT_KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	ltr %si
	popq %rax                        /* return address */
	pushq $GDT_KERNEL_CS
	pushq %rax
	lretq
	.size gdt_load, . - gdt_load

	.section .note.GNU-stack, "", @progbits
