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
