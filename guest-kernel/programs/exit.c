/* exit N: end the VM with status N (tests the exit port and the vmm's status). */
#include <kernel.h>
#include <stdio.h>
#include <stdlib.h>

static int exit_main(int argc, char **argv)
{
	char *end;
	long status;

	if (argc != 2) {
		printf("usage: exit N   (N in 0..255)\n");
		return VS_EXIT_USAGE;
	}
	status = strtol(argv[1], &end, 0);
	if (*end || end == argv[1] || status < 0 || status > 255) {
		printf("exit: '%s' is not a status in 0..255\n", argv[1]);
		return VS_EXIT_USAGE;
	}
	return (int)status;
}
GUEST_PROGRAM("exit", exit_main, "N", "exit with status N (0..255)");
