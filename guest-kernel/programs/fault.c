/* fault [KIND]: raise an exception on purpose, to check the reporter (and the vmm's
 * VS_EXIT_GUEST_EXCEPTION path).  The default touches an address the vmm does not map. */
#include <kernel.h>
#include <stdio.h>
#include <string.h>

#define UNMAPPED_ADDRESS 0x00000dead0000000ull /* canonical, far above RAM and ring */

static int fault_main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "pf";

	printf("fault: raising %s\n", kind);
	if (strcmp(kind, "pf") == 0) {
		(void)*(volatile uint64_t *)UNMAPPED_ADDRESS;
	} else if (strcmp(kind, "ud") == 0) {
		__asm__ volatile("ud2");
	} else if (strcmp(kind, "de") == 0) {
		__asm__ volatile("xorl %%ecx, %%ecx; divl %%ecx" : : : "eax", "ecx", "edx");
	} else if (strcmp(kind, "gp") == 0) { /* non-canonical address */
		(void)*(volatile uint64_t *)0x8000000000000000ull;
	} else if (strcmp(kind, "df") == 0) { /* a #PF that cannot push its frame */
		__asm__ volatile("movq %0, %%rsp; pushq $0" : : "r"(UNMAPPED_ADDRESS));
	} else {
		printf("fault: unknown kind '%s' (pf ud de gp df)\n", kind);
		return VS_EXIT_USAGE;
	}
	printf("fault: %s did not fault\n", kind);
	return 1;
}
GUEST_PROGRAM("fault", fault_main, "[pf|ud|de|gp|df]",
	      "raise an exception (default: #PF at 0xdead0000000); exits 70");

/* fault-ap: the same #PF, raised on the last vCPU (checks the APs' IDT and TSS). */
static int touch_unmapped(void *arg)
{
	(void)arg;
	return (int)*(volatile uint64_t *)UNMAPPED_ADDRESS;
}

static int fault_ap_main(int argc, char **argv)
{
	unsigned cpu = smp_nr_cpus() - 1;
	int err;

	(void)argc;
	(void)argv;
	if (cpu == 0) {
		printf("fault-ap: needs at least 2 vCPUs (vmm -c 2)\n");
		return VS_EXIT_USAGE;
	}
	printf("fault-ap: raising pf on cpu %u\n", cpu);
	err = smp_run_on(cpu, touch_unmapped, NULL);
	if (err == 0)
		err = smp_wait_timeout(cpu, 5 * NSEC_PER_SEC, NULL);
	printf("fault-ap: cpu %u did not fault (%s)\n", cpu, strerror(err));
	return 1;
}
GUEST_PROGRAM_SMP("fault-ap", fault_ap_main, "", "raise the #PF on the last vCPU; exits 70");
