/* SPDX-License-Identifier: MIT */
/*
 * What kind of KVM this host has, decided once at start, and which doorbell
 * follows from it.  Both are pure enough to unit test: the sysfs root and
 * the device path are parameters, and the doorbell choice is a function of
 * its three inputs.
 */
#ifndef VMM_HOST_KIND_H
#define VMM_HOST_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include "cli.h"
#include "virtsocket/abi.h"

enum vmm_host_kind {
	VMM_HOST_MISSING = 0,        /* no usable KVM device */
	VMM_HOST_KVM = VS_HOST_KVM,  /* hardware-assisted (kvm_intel / kvm_amd) */
	VMM_HOST_PVM = VS_HOST_PVM,  /* kvm_pvm: guest code is emulated, vmcall hangs */
};

/*
 * Look at the device and sysfs.  PVM is recognised by <sysfs_root>/module/kvm_pvm
 * (CPUID and capability values do not tell it apart).  Returns the kind;
 * for VMM_HOST_MISSING, *dev_errno says why the device could not be opened
 * (ENOENT: absent, EACCES: no permission ...).  Opens nothing else.
 */
enum vmm_host_kind vmm_host_detect(const char *sysfs_root, const char *dev_path,
				   int *dev_errno);

const char *vmm_host_kind_name(enum vmm_host_kind k);

/*
 * The doorbell the VM will use.  auto: hypercall on full KVM with
 * KVM_CAP_EXIT_HYPERCALL, port I/O on PVM or without the cap.
 * Returns 0, or with one line in msg:
 *   -EINVAL  hypercall asked for on PVM (usage error, vmm exits 2)
 *   -ENOTSUP hypercall asked for, full KVM lacks the cap (vmm exits 3)
 */
int vmm_choose_doorbell(enum vmm_host_kind host, enum vmm_doorbell_request req,
			bool cap_exit_hypercall, enum vs_doorbell_kind *out,
			char *msg, size_t msglen);

const char *vmm_doorbell_name(enum vs_doorbell_kind d);

#endif /* VMM_HOST_KIND_H */
