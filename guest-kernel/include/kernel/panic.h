/* Ending the VM. */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <virtsocket/abi.h>

/* Exit status for panic(), abort() and failed assert()s: the top of the 0..63 range
 * that abi.h gives to guest programs. */
#define KERNEL_EXIT_PANIC 63

/* outl status to VS_PORT_EXIT: the VM ends and the vmm exits with status & 0xff. */
_Noreturn void vm_exit(int status);

/* Print "panic: ..." and exit KERNEL_EXIT_PANIC. */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
