/* SPDX-License-Identifier: MIT */
#include "kvm_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virtsocket/abi.h"

static int cap(int fd, long which)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, which);
	return r < 0 ? 0 : r;
}

int kvm_sys_open(const char *dev_path, struct kvm_sys *kvm, char *msg, size_t msglen)
{
	*kvm = (struct kvm_sys){ .fd = -1 };
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		snprintf(msg, msglen, "vmm: cannot open KVM device %s: %s; %s", dev_path,
			 strerror(-err), VMM_SANDBOX_HINT);
		return err;
	}
	int api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		snprintf(msg, msglen, "vmm: %s is not a usable KVM device (API version %d, need "
			 "%d); %s", dev_path, api, KVM_API_VERSION, VMM_SANDBOX_HINT);
		close(fd);
		return -ENODEV;
	}

	static const struct { long cap; const char *name; } needed[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (!cap(fd, needed[i].cap)) {
			snprintf(msg, msglen, "vmm: KVM on %s lacks %s, which the VMM needs; %s",
				 dev_path, needed[i].name, VMM_SANDBOX_HINT);
			close(fd);
			return -ENOTSUP;
		}
	}
	if (cap(fd, KVM_CAP_NR_MEMSLOTS) < 2) {
		snprintf(msg, msglen, "vmm: KVM on %s offers fewer than 2 memory slots (RAM and "
			 "the ring slot); %s", dev_path, VMM_SANDBOX_HINT);
		close(fd);
		return -ENOTSUP;
	}
	int run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0) {
		snprintf(msg, msglen, "vmm: KVM_GET_VCPU_MMAP_SIZE failed on %s: %s; %s", dev_path,
			 strerror(errno), VMM_SANDBOX_HINT);
		close(fd);
		return -ENODEV;
	}

	kvm->fd = fd;
	kvm->run_size = (size_t)run_size;
	int max = cap(fd, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = cap(fd, KVM_CAP_NR_VCPUS);
	kvm->max_vcpus = max > 0 ? (unsigned)max : 1;
	/* The cap answers a bitmask of the hypercalls KVM can forward. */
	kvm->cap_exit_hypercall = (cap(fd, KVM_CAP_EXIT_HYPERCALL) & (1 << VS_HC_NR)) != 0;
	kvm->cap_tss_addr = cap(fd, KVM_CAP_SET_TSS_ADDR) > 0;
	kvm->cap_sync_regs = (cap(fd, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS) != 0;
	return 0;
}

void kvm_sys_close(struct kvm_sys *kvm)
{
	if (kvm->fd >= 0)
		close(kvm->fd);
	kvm->fd = -1;
}

int kvm_sys_supported_cpuid(const struct kvm_sys *kvm, struct kvm_cpuid2 **out)
{
	/* Grow until KVM stops answering E2BIG. */
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		int err = errno;
		free(c);
		if (err != E2BIG)
			return -err;
	}
	return -E2BIG;
}
