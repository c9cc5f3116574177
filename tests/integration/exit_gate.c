/* SPDX-License-Identifier: MIT */
/*
 * A shared library that kvm_net_errors LD_PRELOADs into the vmm to look at the
 * vmm's own teardown.  Its destructor runs as the process exits, after main()
 * has returned (so after vm_destroy()) and before the kernel closes anything:
 * it writes the vmm's pid into the file named by VS_EXIT_GATE, then waits (at
 * most VS_EXIT_GATE_MAX_S) until the test has removed that file.  Meanwhile
 * the test checks the live process (/proc/PID/fd) and its peers.  Without the
 * wait, "the peers saw EOF" would prove nothing: the kernel closes every fd
 * of an exiting process whether or not the vmm closed them itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define VS_EXIT_GATE_MAX_S 60

__attribute__((destructor)) static void exit_gate(void)
{
	const char *gate = getenv("VS_EXIT_GATE");
	if (!gate || !*gate)
		return;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", gate);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0 || rename(tmp, gate) != 0)
		return;
	for (int i = 0; i < VS_EXIT_GATE_MAX_S * 100 && access(gate, F_OK) == 0; i++)
		usleep(10 * 1000);
}
