/*
 * The guest arguments: boot_info.cmdline is what followed "--" on the vmm command line,
 * joined by single spaces.  Split it into argc/argv (in a copy: the boot info page is
 * the vmm's and stays untouched), after argv[0] = the image's name.
 */
#include <kernel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64

int kernel_argc;
char **kernel_argv;

static char cmdline_copy[VS_CMDLINE_MAX];
static char *argv_storage[1 + MAX_ARGS + 1];

void cmdline_parse(const char *cmdline, uint32_t len)
{
	char *p = cmdline_copy;

	if (len >= VS_CMDLINE_MAX)
		len = VS_CMDLINE_MAX - 1;
	memcpy(cmdline_copy, cmdline, len);
	cmdline_copy[len] = '\0';
	kernel_argv = argv_storage;
	kernel_argv[kernel_argc++] = (char *)guest_image_name;
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (kernel_argc == 1 + MAX_ARGS) {
			printf("too many guest arguments (at most %d)\n", MAX_ARGS);
			exit(VS_EXIT_USAGE);
		}
		kernel_argv[kernel_argc++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
	}
	kernel_argv[kernel_argc] = NULL;
}
