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
 * True when KVM here is kvm_amd without next-RIP save
 * (<sysfs_root>/module/kvm_amd/parameters/nrips reads 0 or N).  Every AMD CPU since
 * 2010 has it, so this is an emulated or nested SVM, e.g. scripts/kvm-sandbox's
 * QEMU TCG: there KVM skips each vmmcall with its instruction emulator, and the
 * emulated SVM now and then hands a guest the hypervisor's own state
 * (docs/nested-sandbox.md).  False when the file is missing or says otherwise.
 */
bool vmm_host_svm_without_nrips(const char *sysfs_root);

/* The sentence the vmm adds to a guest death with no reason of its own (a triple
 * fault, a RIP outside guest memory) on such a host. */
#define VMM_EMULATED_SVM_HINT                                                          \
	"this host's KVM runs on an emulated AMD SVM (kvm_amd nrips=0, e.g. "        \
	"scripts/kvm-sandbox's QEMU TCG), which now and then gives a guest the "     \
	"hypervisor's own registers after a VM exit: a sandbox fault, not the "      \
	"guest's (docs/nested-sandbox.md). Run it again; a failure that repeats, "   \
	"or one on real hardware, is a bug to report"

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
