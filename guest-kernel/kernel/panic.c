/* Ending the VM: vm_exit(), panic(), abort(), failed asserts; and the per-CPU errno. */
#include <kernel.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

_Noreturn void vm_exit(int status)
{
	outl(VS_PORT_EXIT, (uint32_t)status);
	cpu_park(); /* not reached: the vmm ends the VM at the port write */
}

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	console_lock_for_panic();
	printf("panic on cpu %u: ", cpu_index());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	vm_exit(KERNEL_EXIT_PANIC);
}

_Noreturn void abort(void)
{
	panic("abort() called");
}

_Noreturn void __assert_fail(const char *expr, const char *file, int line,
			     const char *func);

_Noreturn void __assert_fail(const char *expr, const char *file, int line, const char *func)
{
	panic("%s:%d: %s: assertion '%s' failed", file, line, func, expr);
}

int *__errno_location(void)
{
	return &this_cpu()->errno_value;
}
