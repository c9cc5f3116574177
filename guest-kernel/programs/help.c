/* help: the list of built-in programs. */
#include <kernel.h>

static int help_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	program_print_list();
	return 0;
}
GUEST_PROGRAM("help", help_main, "", "list the built-in programs");
