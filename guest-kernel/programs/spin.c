/* spin: never finish (for the vmm's --timeout). */
#include <kernel.h>
#include <stdio.h>

static _Noreturn int spin_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("spin: looping forever\n");
	for (;;)
		cpu_relax();
}
GUEST_PROGRAM("spin", spin_main, "", "loop forever (for the vmm's --timeout)");
