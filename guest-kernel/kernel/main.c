/*
 * Boot.  Every vCPU arrives in kentry() on its own stack (arch/entry.S).  The boot CPU
 * sets up the machine and calls the image's main(argc, argv); the others bring up their
 * own CPU state and then wait for work or park (kernel/smp.c).
 */
#include <kernel.h>
#include <kernel/traps.h>
#include <stdio.h>
#include <stdlib.h>

const struct vs_boot_info *boot_info;
extern char __kernel_end[]; /* kernel.ld */

/* The vmm says where the image ends; never trust it below our own end. */
static uintptr_t heap_start(void)
{
	uintptr_t ours = (uintptr_t)__kernel_end;

	return boot_info->kernel_end > ours ? boot_info->kernel_end : ours;
}

int main(int argc, char **argv);

/* Whether main() will use the other vCPUs (smp_run_on): they wait for work instead of
 * parking.  An ordinary program does not; guest.img's main() decides per built-in
 * program (programs/registry.c overrides this). */
__attribute__((weak)) bool main_wants_aps(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return false;
}

static _Noreturn void kmain(void)
{
	cpu_init(0);
	traps_init();
	boot_info_check(boot_info);
	clock_init(boot_info->tsc_khz);
	heap_init(heap_start(), boot_info->ram_bytes);
	cmdline_parse(boot_info->cmdline, boot_info->cmdline_len);

	smp_release_aps(main_wants_aps(kernel_argc, kernel_argv));
	exit(main(kernel_argc, kernel_argv));
}

static _Noreturn void ap_main(unsigned index)
{
	cpu_init(index);
	traps_load();
	smp_ap_main();
}

_Noreturn void kentry(const struct vs_boot_info *bi, uint64_t index);

_Noreturn void kentry(const struct vs_boot_info *bi, uint64_t index)
{
	if (index == 0) {
		boot_info = bi;
		kmain();
	}
	ap_main((unsigned)index);
}
