/* SPDX-License-Identifier: MIT */
/* Host detection against a fake sysfs and a fake device; the doorbell choice. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_kind.h"
#include "kvm_sys.h"

static char root[64];
static char sysfs[128];
static char device[128];

static void make_dir(const char *path)
{
	cr_assert_eq(mkdir(path, 0755), 0, "mkdir %s: %s", path, strerror(errno));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path);
}

static void setup(void)
{
	strcpy(root, "/tmp/vmm-host-kind-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	snprintf(sysfs, sizeof(sysfs), "%s/sys", root);
	snprintf(device, sizeof(device), "%s/kvm", root);
	make_dir(sysfs);
	char module[192];
	snprintf(module, sizeof(module), "%s/module", sysfs);
	make_dir(module);
	snprintf(module, sizeof(module), "%s/module/kvm", sysfs);
	make_dir(module);
}

static void teardown(void)
{
	cr_assert_eq(nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void make_device(void)
{
	int fd = open(device, O_CREAT | O_RDWR, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void make_pvm_module(void)
{
	char path[192];
	snprintf(path, sizeof(path), "%s/module/kvm_pvm", sysfs);
	make_dir(path);
}

TestSuite(vmm_host_kind, .init = setup, .fini = teardown, .timeout = 10);

Test(vmm_host_kind, full_kvm)
{
	make_device();
	int err = -1;
	cr_assert_eq(vmm_host_detect(sysfs, device, &err), VMM_HOST_KVM);
	cr_assert_eq(err, 0);
	cr_assert_str_eq(vmm_host_kind_name(VMM_HOST_KVM), "kvm");
}

Test(vmm_host_kind, pvm_by_module_directory)
{
	make_device();
	make_pvm_module();
	cr_assert_eq(vmm_host_detect(sysfs, device, NULL), VMM_HOST_PVM);
	cr_assert_str_eq(vmm_host_kind_name(VMM_HOST_PVM), "pvm");
}

Test(vmm_host_kind, missing_device)
{
	make_pvm_module(); /* a PVM module without a device is still no KVM */
	int err = 0;
	cr_assert_eq(vmm_host_detect(sysfs, device, &err), VMM_HOST_MISSING);
	cr_assert_eq(err, ENOENT);
}

Test(vmm_host_kind, unusable_device)
{
	make_dir(device); /* a directory cannot be opened read-write, even by root */
	int err = 0;
	cr_assert_eq(vmm_host_detect(sysfs, device, &err), VMM_HOST_MISSING);
	cr_assert_eq(err, EISDIR);
}

Test(vmm_host_kind, missing_sysfs_means_plain_kvm)
{
	make_device();
	char nowhere[192];
	snprintf(nowhere, sizeof(nowhere), "%s/no-sysfs", root);
	cr_assert_eq(vmm_host_detect(nowhere, device, NULL), VMM_HOST_KVM);
}

/* ---- kvm_amd without next-RIP save: the emulated SVM of the sandbox ---- */

/* <sysfs>/module/kvm_amd/parameters/nrips holding value ("" writes no file). */
static void make_nrips(const char *value)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/module/kvm_amd", sysfs);
	make_dir(path);
	snprintf(path, sizeof(path), "%s/module/kvm_amd/parameters", sysfs);
	make_dir(path);
	if (!*value)
		return;
	snprintf(path, sizeof(path), "%s/module/kvm_amd/parameters/nrips", sysfs);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(value, f);
	fclose(f);
}

Test(vmm_host_kind, svm_without_nrips_as_in_the_sandbox)
{
	make_nrips("0\n"); /* what Linux 6.1's kvm_amd shows under QEMU TCG -cpu max */
	cr_assert(vmm_host_svm_without_nrips(sysfs));
}

Test(vmm_host_kind, svm_without_nrips_older_bool_parameter)
{
	make_nrips("N\n");
	cr_assert(vmm_host_svm_without_nrips(sysfs));
}

Test(vmm_host_kind, svm_with_nrips_is_real_hardware)
{
	make_nrips("1\n");
	cr_assert_not(vmm_host_svm_without_nrips(sysfs));
}

Test(vmm_host_kind, svm_with_nrips_older_bool_parameter)
{
	make_nrips("Y\n");
	cr_assert_not(vmm_host_svm_without_nrips(sysfs));
}

Test(vmm_host_kind, no_kvm_amd_says_nothing_about_nrips)
{
	cr_assert_not(vmm_host_svm_without_nrips(sysfs)); /* kvm_intel, PVM, no sysfs */
	make_nrips("");
	cr_assert_not(vmm_host_svm_without_nrips(sysfs)); /* no such parameter */
}

Test(vmm_host_kind, nrips_value_must_be_the_whole_word)
{
	make_nrips("01\n");
	cr_assert_not(vmm_host_svm_without_nrips(sysfs));
}

/* ---- doorbell choice: a pure function of (host, request, cap) ---- */

static char msg[512];

static int choose(enum vmm_host_kind h, enum vmm_doorbell_request r, bool cap,
		  enum vs_doorbell_kind *out)
{
	msg[0] = '\0';
	*out = VS_DOORBELL_NONE;
	return vmm_choose_doorbell(h, r, cap, out, msg, sizeof(msg));
}

Test(vmm_host_kind, auto_is_hypercall_on_full_kvm_with_cap)
{
	enum vs_doorbell_kind d;
	cr_assert_eq(choose(VMM_HOST_KVM, VMM_DOORBELL_AUTO, true, &d), 0);
	cr_assert_eq(d, VS_DOORBELL_HYPERCALL);
}

Test(vmm_host_kind, auto_is_pio_without_cap)
{
	enum vs_doorbell_kind d;
	cr_assert_eq(choose(VMM_HOST_KVM, VMM_DOORBELL_AUTO, false, &d), 0);
	cr_assert_eq(d, VS_DOORBELL_PIO);
}

Test(vmm_host_kind, auto_is_pio_on_pvm_even_with_cap)
{
	/* PVM advertises KVM_CAP_EXIT_HYPERCALL, and vmcall still hangs there. */
	enum vs_doorbell_kind d;
	cr_assert_eq(choose(VMM_HOST_PVM, VMM_DOORBELL_AUTO, true, &d), 0);
	cr_assert_eq(d, VS_DOORBELL_PIO);
}

Test(vmm_host_kind, pio_is_always_allowed)
{
	enum vs_doorbell_kind d;
	cr_assert_eq(choose(VMM_HOST_KVM, VMM_DOORBELL_PIO, true, &d), 0);
	cr_assert_eq(d, VS_DOORBELL_PIO);
	cr_assert_eq(choose(VMM_HOST_PVM, VMM_DOORBELL_PIO, true, &d), 0);
	cr_assert_eq(d, VS_DOORBELL_PIO);
}

Test(vmm_host_kind, hypercall_on_pvm_is_refused_with_reason_and_way_out)
{
	enum vs_doorbell_kind d;
	cr_assert_eq(choose(VMM_HOST_PVM, VMM_DOORBELL_HYPERCALL, true, &d), -EINVAL);
	cr_assert_null(strchr(msg, '\n'));
	cr_assert_not_null(strstr(msg, "never returns from KVM_RUN"), "%s", msg);
	cr_assert_not_null(strstr(msg, "scripts/kvm-sandbox"), "%s", msg);
	cr_assert_not_null(strstr(msg, "--doorbell=pio"), "%s", msg);
}

Test(vmm_host_kind, hypercall_without_cap_is_a_missing_capability)
{
	enum vs_doorbell_kind d;
	cr_assert_eq(choose(VMM_HOST_KVM, VMM_DOORBELL_HYPERCALL, false, &d), -ENOTSUP);
	cr_assert_not_null(strstr(msg, "KVM_CAP_EXIT_HYPERCALL"), "%s", msg);
	cr_assert_not_null(strstr(msg, "scripts/kvm-sandbox"), "%s", msg);
}

Test(vmm_host_kind, hypercall_on_full_kvm_with_cap)
{
	enum vs_doorbell_kind d;
	cr_assert_eq(choose(VMM_HOST_KVM, VMM_DOORBELL_HYPERCALL, true, &d), 0);
	cr_assert_eq(d, VS_DOORBELL_HYPERCALL);
	cr_assert_str_eq(vmm_doorbell_name(d), "hypercall");
}

/* A device that opens but is not KVM: the message names the way out. */
Test(vmm_host_kind, device_that_is_not_kvm)
{
	make_device();
	struct kvm_sys kvm;
	char m[512] = "";
	cr_assert_eq(kvm_sys_open(device, &kvm, m, sizeof(m)), -ENODEV);
	cr_assert_not_null(strstr(m, device), "%s", m);
	cr_assert_not_null(strstr(m, "scripts/kvm-sandbox -- build/vmm"), "%s", m);
	cr_assert_eq(kvm.fd, -1);
}

Test(vmm_host_kind, missing_device_open_message)
{
	struct kvm_sys kvm;
	char m[512] = "";
	cr_assert_eq(kvm_sys_open(device, &kvm, m, sizeof(m)), -ENOENT);
	cr_assert_not_null(strstr(m, "scripts/kvm-sandbox -- build/vmm"), "%s", m);
}
