/* The registry of built-in programs: GUEST_PROGRAM descriptors that the linker gathers
 * into the .guest_programs section (kernel.ld). */
#include <kernel/program.h>
#include <stdio.h>
#include <string.h>

extern const struct guest_program __start_guest_programs[];
extern const struct guest_program __stop_guest_programs[];

const struct guest_program *program_find(const char *name)
{
	for (const struct guest_program *p = __start_guest_programs;
	     p < __stop_guest_programs; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

void program_print_list(void)
{
	/* Wide enough for the longest synopsis (network programs have several options). */
	char synopsis[160];

	printf("usage: vmm [OPTIONS] guest.img [-- PROGRAM [ARGS...]]   (default: hello)\n"
	       "programs:\n");
	for (const struct guest_program *p = __start_guest_programs;
	     p < __stop_guest_programs; p++) {
		snprintf(synopsis, sizeof(synopsis), "%s%s%s", p->name, p->usage[0] ? " " : "",
			 p->usage);
		printf("  %-24s %s\n", synopsis, p->help);
	}
}
