/*
 * main()'s arguments.  boot_info.cmdline holds the guest arguments exactly as the vmm got
 * them after "--", each followed by a NUL (abi.h): nothing is split again, so spaces,
 * quotes, empty arguments and any byte but NUL arrive as the shell gave them.  argv[0] is
 * the image's name; the strings live in a copy (the boot info page is the vmm's).
 */
#include <kernel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kernel_argc;
char **kernel_argv;

static char cmdline_copy[VS_CMDLINE_MAX];

void cmdline_parse(const char *cmdline, uint32_t len)
{
	uint32_t nr_args = 0;

	/* boot_info_check() saw len <= VS_CMDLINE_MAX and a NUL at the end */
	memcpy(cmdline_copy, cmdline, len);
	for (uint32_t i = 0; i < len; i++)
		nr_args += cmdline_copy[i] == '\0';
	kernel_argv = malloc((1 + nr_args + 1) * sizeof(char *));
	if (!kernel_argv)
		panic("no memory for %u guest arguments", nr_args);
	kernel_argv[kernel_argc++] = (char *)guest_image_name;
	for (uint32_t at = 0; at < len; at += strlen(cmdline_copy + at) + 1)
		kernel_argv[kernel_argc++] = cmdline_copy + at;
	kernel_argv[kernel_argc] = NULL;
}
