/*
 * Boot.  Every vCPU arrives in kentry() on its own stack (arch/entry.S).  The boot CPU
 * sets up the machine and runs the program the command line names; the others bring
 * up their own CPU state and then wait for work or park (kernel/smp.c).
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

static _Noreturn void kmain(void)
{
	const struct guest_program *prog;
	const char *name;

	cpu_init(0);
	traps_init();
	boot_info_check(boot_info);
	clock_init(boot_info->tsc_khz);
	heap_init(heap_start(), boot_info->ram_bytes);
	cmdline_parse(boot_info->cmdline, boot_info->cmdline_len);

	name = kernel_argc > 0 ? kernel_argv[0] : "hello";
	prog = program_find(name);
	smp_release_aps(prog && (prog->flags & PROGRAM_SMP));
	if (!prog) {
		printf("unknown program '%s'\n", name);
		program_print_list();
		exit(VS_EXIT_USAGE);
	}
	if (kernel_argc == 0) {
		static char *default_argv[] = { "hello", NULL };
		exit(prog->main(1, default_argv));
	}
	exit(prog->main(kernel_argc, kernel_argv));
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
