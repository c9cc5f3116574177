/* bootinfo: print every field of the boot info page, for checking the vmm's side. */
#include <kernel.h>
#include <stdio.h>

static int bootinfo_main(int argc, char **argv)
{
	const struct vs_boot_info *bi = boot_info;

	(void)argc;
	(void)argv;
	printf("boot_info at %p: magic %#x version %u\n", (const void *)bi, bi->magic,
	       bi->version);
	printf("  ram_bytes   %#lx (%lu MiB)\n", bi->ram_bytes, bi->ram_bytes >> 20);
	printf("  kernel_end  %#lx\n", bi->kernel_end);
	printf("  tsc_khz     %lu\n", bi->tsc_khz);
	printf("  nr_cpus     %u (online now: %u)\n", bi->nr_cpus, smp_online());
	printf("  host_kind   %u (%s)\n", bi->host_kind, host_kind_name(bi->host_kind));
	printf("  ring_gpa    %#lx  ring_bytes %#lx  nr_queues %u\n", bi->ring_gpa,
	       bi->ring_bytes, bi->nr_queues);
	printf("  doorbell    %u (%s)  hypercall_insn %u (%s)\n", bi->doorbell,
	       doorbell_name(bi->doorbell), bi->hypercall_insn,
	       bi->hypercall_insn == VS_INSN_VMMCALL ? "vmmcall" : "vmcall");
	printf("  notify      %u (%s)  copy %u (%s)  batch %u\n", bi->notify,
	       notify_mode_name(bi->notify), bi->copy, copy_mode_name(bi->copy), bi->batch);
	printf("  cmdline     [%u] \"%s\"\n", bi->cmdline_len, bi->cmdline);
	printf("  heap        %lu MiB free of %lu MiB\n", heap_free_bytes() >> 20,
	       heap_total_bytes() >> 20);
	return 0;
}
GUEST_PROGRAM("bootinfo", bootinfo_main, "", "print the boot info the vmm passed");
