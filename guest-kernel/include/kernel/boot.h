/* The boot info page the vmm wrote (read-only) and names for its enums. */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H

#include <virtsocket/abi.h>

extern const struct vs_boot_info *boot_info;

const char *host_kind_name(uint32_t kind);         /* "kvm", "pvm", "unknown" */
const char *doorbell_name(uint32_t doorbell);      /* "none", "hypercall", "pio", ... */
const char *notify_mode_name(uint32_t notify);     /* "adaptive", "batch", "every" */
const char *copy_mode_name(uint32_t copy);         /* "zero", "bounce" */

/* Check magic/version and sanity; prints what is wrong and exits VS_EXIT_USAGE. */
void boot_info_check(const struct vs_boot_info *bi);

/* main()'s arguments: argv[0] is the image's name (guest_image_name, which every image
 * defines: virtsocket_add_guest and scripts/guest-cc generate it), then the guest
 * arguments from the boot info. */
extern const char guest_image_name[];
extern int kernel_argc;
extern char **kernel_argv;
void cmdline_parse(const char *cmdline, uint32_t len);

#endif
