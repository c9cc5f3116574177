/* Checking the boot info page, and names for the values in it. */
#include <kernel.h>
#include <stdio.h>

const char *host_kind_name(uint32_t kind)
{
	switch (kind) {
	case VS_HOST_KVM: return "kvm";
	case VS_HOST_PVM: return "pvm";
	default:          return "unknown";
	}
}

const char *doorbell_name(uint32_t doorbell)
{
	switch (doorbell) {
	case VS_DOORBELL_NONE:      return "none";
	case VS_DOORBELL_HYPERCALL: return "hypercall";
	case VS_DOORBELL_PIO:       return "pio";
	default:                    return "unknown";
	}
}

const char *notify_mode_name(uint32_t notify)
{
	switch (notify) {
	case VS_NOTIFY_ADAPTIVE: return "adaptive";
	case VS_NOTIFY_BATCH:    return "batch";
	case VS_NOTIFY_EVERY:    return "every";
	default:                 return "unknown";
	}
}

const char *copy_mode_name(uint32_t copy)
{
	switch (copy) {
	case VS_COPY_ZERO:   return "zero";
	case VS_COPY_BOUNCE: return "bounce";
	default:             return "unknown";
	}
}

static _Noreturn void bad_boot_info(const char *what)
{
	printf("guest kernel: bad boot info: %s (vmm and guest.img out of step? rebuild "
	       "both)\n", what);
	vm_exit(VS_EXIT_USAGE);
}

void boot_info_check(const struct vs_boot_info *bi)
{
	if (bi->magic != VS_ABI_MAGIC)
		bad_boot_info("wrong magic");
	if (bi->version != VS_ABI_VERSION)
		bad_boot_info("unsupported ABI version");
	if (bi->nr_cpus == 0)
		bad_boot_info("nr_cpus is 0");
	if (bi->kernel_end >= bi->ram_bytes)
		bad_boot_info("no RAM above the kernel");
	if (bi->cmdline_len > VS_CMDLINE_MAX ||
	    (bi->cmdline_len && bi->cmdline[bi->cmdline_len - 1] != '\0'))
		bad_boot_info("guest arguments not NUL terminated");
	if (bi->nr_cpus > MAX_CPUS)
		printf("warning: %u vCPUs, but the guest kernel supports %u: the rest stay "
		       "parked\n", bi->nr_cpus, MAX_CPUS);
}
