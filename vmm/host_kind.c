/* SPDX-License-Identifier: MIT */
#include "host_kind.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

enum vmm_host_kind vmm_host_detect(const char *sysfs_root, const char *dev_path,
				   int *dev_errno)
{
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (dev_errno)
			*dev_errno = errno;
		return VMM_HOST_MISSING;
	}
	close(fd);
	if (dev_errno)
		*dev_errno = 0;

	/* The module directory is the only reliable PVM signal: capabilities
	 * (even KVM_CAP_EXIT_HYPERCALL) look like any other KVM's. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/module/kvm_pvm", sysfs_root);
	return access(path, F_OK) == 0 ? VMM_HOST_PVM : VMM_HOST_KVM;
}

bool vmm_host_svm_without_nrips(const char *sysfs_root)
{
	char path[4096], value[8] = "";
	snprintf(path, sizeof(path), "%s/module/kvm_amd/parameters/nrips", sysfs_root);
	FILE *f = fopen(path, "re");
	if (!f)
		return false; /* not kvm_amd, or no sysfs: nothing known */
	bool got = fgets(value, sizeof(value), f) != NULL;
	fclose(f);
	/* An int parameter in Linux 6.1 ("0"), a bool in older ones ("N"). */
	return got && (value[0] == '0' || value[0] == 'N') &&
	       (value[1] == '\n' || value[1] == '\0');
}

const char *vmm_host_kind_name(enum vmm_host_kind k)
{
	switch (k) {
	case VMM_HOST_KVM: return "kvm";
	case VMM_HOST_PVM: return "pvm";
	case VMM_HOST_MISSING: return "none";
	}
	return "?";
}

const char *vmm_doorbell_name(enum vs_doorbell_kind d)
{
	switch (d) {
	case VS_DOORBELL_NONE: return "none";
	case VS_DOORBELL_HYPERCALL: return "hypercall";
	case VS_DOORBELL_PIO: return "pio";
	}
	return "?";
}

int vmm_choose_doorbell(enum vmm_host_kind host, enum vmm_doorbell_request req,
			bool cap_exit_hypercall, enum vs_doorbell_kind *out,
			char *msg, size_t msglen)
{
	switch (req) {
	case VMM_DOORBELL_PIO:
		*out = VS_DOORBELL_PIO;
		return 0;
	case VMM_DOORBELL_AUTO:
		*out = (host == VMM_HOST_KVM && cap_exit_hypercall) ? VS_DOORBELL_HYPERCALL
								    : VS_DOORBELL_PIO;
		return 0;
	case VMM_DOORBELL_HYPERCALL:
		if (host == VMM_HOST_PVM) {
			snprintf(msg, msglen,
				 "vmm: --doorbell=hypercall cannot work on this PVM host: a "
				 "vmcall/vmmcall never returns from KVM_RUN here; use "
				 "--doorbell=pio, or run under full KVM with "
				 "scripts/kvm-sandbox -- build/vmm ...");
			return -EINVAL;
		}
		if (!cap_exit_hypercall) {
			snprintf(msg, msglen,
				 "vmm: --doorbell=hypercall needs KVM_CAP_EXIT_HYPERCALL "
				 "(Linux >= 5.19), which this KVM lacks; use --doorbell=pio, or "
				 "scripts/kvm-sandbox -- build/vmm ...");
			return -ENOTSUP;
		}
		*out = VS_DOORBELL_HYPERCALL;
		return 0;
	}
	snprintf(msg, msglen, "vmm: unknown doorbell request %d", (int)req);
	return -EINVAL;
}
