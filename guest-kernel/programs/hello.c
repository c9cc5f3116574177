/* hello: the default program, a greeting that shows the VM's shape. */
#include <kernel.h>
#include <stdio.h>

static int hello_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("Hello from the virtsocket guest: %u vCPU%s, %lu MiB RAM, host %s, "
	       "doorbell %s\n", boot_info->nr_cpus, boot_info->nr_cpus == 1 ? "" : "s",
	       boot_info->ram_bytes >> 20, host_kind_name(boot_info->host_kind),
	       doorbell_name(boot_info->doorbell));
	return 0;
}
GUEST_PROGRAM("hello", hello_main, "", "print a greeting with the VM's shape (default)");
