/*
 * Built-in programs.  A program is `int fn(int argc, char **argv)` (argv[0] is its name,
 * like main); its return value is the VM's exit status (keep it within 0..63: abi.h
 * reserves higher values for the vmm).  Register one from any .c file, no central list:
 *
 *     static int echo_main(int argc, char **argv) { ... return 0; }
 *     GUEST_PROGRAM("echo", echo_main, "[WORDS...]", "print the arguments");
 *
 * GUEST_PROGRAM_SMP registers a program that uses other vCPUs (smp_run_on): the APs
 * stay awake for it.  With plain GUEST_PROGRAM the APs park (HLT) before it starts.
 * The first guest argument picks the program (programs/registry.c is guest.img's
 * main()); no argument runs "hello".
 */
#ifndef KERNEL_PROGRAM_H
#define KERNEL_PROGRAM_H

#include <stdbool.h>
#include <stdint.h>
#include <virtsocket/abi.h>

#define PROGRAM_SMP 0x1u /* keep the APs serving smp_run_on() */

struct guest_program {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *usage;  /* argument synopsis, "" if none */
	const char *help;   /* one line */
	uint32_t flags;     /* PROGRAM_* */
};

#define GUEST_PROGRAM_FLAGS(name_, fn_, usage_, help_, flags_)                      \
	static const struct guest_program __guest_program_##fn_                         \
		__attribute__((used, section(".guest_programs"), aligned(8))) = {        \
			.name = (name_), .main = (fn_), .usage = (usage_), .help = (help_), \
			.flags = (flags_) }

#define GUEST_PROGRAM(name, fn, usage, help) GUEST_PROGRAM_FLAGS(name, fn, usage, help, 0)
#define GUEST_PROGRAM_SMP(name, fn, usage, help) \
	GUEST_PROGRAM_FLAGS(name, fn, usage, help, PROGRAM_SMP)

const struct guest_program *program_find(const char *name);   /* NULL if unknown */
void program_print_list(void);                                 /* name, usage, help */

/* guest.img's answer to the kernel's question (kernel/main.c): does the program that
 * argv names want the other vCPUs? */
bool main_wants_aps(int argc, char **argv);

#endif
