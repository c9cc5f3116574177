/* Constants shared by the C code and the assembly in arch/. */
#ifndef KERNEL_LAYOUT_H
#define KERNEL_LAYOUT_H

#define MAX_CPUS        64   /* == VS_MAX_QUEUES: one queue per vCPU (checked in cpu.h) */
#define CPU_STACK_SHIFT 15   /* 32 KiB stack per vCPU */

/* Selectors in every CPU's GDT (the values the vmm uses too, so nothing moves). */
#define GDT_KERNEL_CS   0x08
#define GDT_KERNEL_DS   0x10
#define GDT_TSS         0x18

#endif
