/* SPDX-License-Identifier: MIT */
/*
 * The KVM device: open it, check the API version and every capability the
 * VMM relies on, and remember the answers the rest of the VMM asks about.
 */
#ifndef VMM_KVM_SYS_H
#define VMM_KVM_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/kvm.h>

struct kvm_sys {
	int fd;                   /* /dev/kvm */
	size_t run_size;          /* KVM_GET_VCPU_MMAP_SIZE */
	unsigned max_vcpus;       /* KVM_CAP_MAX_VCPUS (or NR_VCPUS on old kernels) */
	bool cap_exit_hypercall;  /* KVM_CAP_EXIT_HYPERCALL allows KVM_HC_MAP_GPA_RANGE */
	bool cap_tss_addr;        /* KVM_CAP_SET_TSS_ADDR (Intel VMX wants it) */
	bool cap_sync_regs;       /* KVM_CAP_SYNC_REGS with KVM_SYNC_X86_REGS: registers
	                             travel in kvm_run, no GET/SET_REGS per doorbell */
};

/*
 * Open dev_path and check it.  Returns 0, or -errno with one line in msg
 * (what is missing and how to run anyway); main exits VS_EXIT_NO_KVM.
 */
int kvm_sys_open(const char *dev_path, struct kvm_sys *kvm, char *msg, size_t msglen);
void kvm_sys_close(struct kvm_sys *kvm);

/* KVM_GET_SUPPORTED_CPUID into a malloc'ed struct (free() it); -errno on failure. */
int kvm_sys_supported_cpuid(const struct kvm_sys *kvm, struct kvm_cpuid2 **out);

/* The way out on a host without (usable) KVM, for every such message. */
#define VMM_SANDBOX_HINT "run it under full KVM in the sandbox: scripts/kvm-sandbox -- build/vmm ..."

#endif /* VMM_KVM_SYS_H */
