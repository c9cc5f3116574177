/*
 * guest.img's main(): the registry of built-in programs (GUEST_PROGRAM descriptors that
 * the linker gathers into the .guest_programs section, kernel.ld), and the choice of one
 * by the first guest argument (none: "hello").
 */
#include <kernel/program.h>
#include <stdbool.h>
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

/* argv[0] is the image's name, argv[1] the program's. */
static const struct guest_program *chosen(int argc, char **argv)
{
	return program_find(argc > 1 ? argv[1] : "hello");
}

bool main_wants_aps(int argc, char **argv)
{
	const struct guest_program *prog = chosen(argc, argv);

	return prog && (prog->flags & PROGRAM_SMP);
}

int main(int argc, char **argv)
{
	static char *default_argv[] = { "hello", NULL };
	const struct guest_program *prog = chosen(argc, argv);

	if (!prog) {
		printf("unknown program '%s'\n", argv[1]);
		program_print_list();
		return VS_EXIT_USAGE;
	}
	if (argc <= 1)
		return prog->main(1, default_argv);
	return prog->main(argc - 1, argv + 1);
}
