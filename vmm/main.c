/* SPDX-License-Identifier: MIT */
/*
 * vmm: boot a guest kernel in a KVM virtual machine.
 *
 * main() is the list of steps; each step is a library call that returns
 * 0 or -errno with a one-line message, and only main() decides the exit
 * status (abi.h's VS_EXIT_*).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli.h"
#include "elf_loader.h"
#include "host_kind.h"
#include "host_tcp.h"
#include "worker_proc.h"
#include "kvm_sys.h"
#include "layout.h"
#include "stats.h"
#include "vm.h"
#include "x86_boot.h"

#ifndef VMM_VERSION
#define VMM_VERSION "unknown"
#endif

#define MSG_MAX 1024

static int fail(const char *msg, int status)
{
	fprintf(stderr, "%s\n", msg);
	return status;
}

static void say_verbose(const struct vmm_config *cfg, enum vmm_host_kind host,
			enum vs_doorbell_kind doorbell)
{
	fprintf(stderr, "vmm: host %s, doorbell %s, RAM %" PRIu64 " MiB, %" PRIu32 " vCPU%s\n",
		host == VMM_HOST_PVM ? "pvm (kvm_pvm)" : "kvm (hardware)",
		vmm_doorbell_name(doorbell), cfg->ram_bytes >> 20, cfg->cpus,
		cfg->cpus == 1 ? "" : "s");
	if (host == VMM_HOST_PVM)
		fprintf(stderr, "vmm: note: this host's KVM is PVM: guest code is emulated "
			"(~1000x slower) and the port-I/O doorbell is used; use "
			"scripts/kvm-sandbox for full KVM\n");
}

/* Write the GDT, page tables and boot info page into guest RAM. */
static int write_boot_memory(struct vm *vm, const struct vmm_config *cfg,
			     const struct elf_image *img, enum vmm_host_kind host,
			     char *msg, size_t msglen)
{
	int r = x86_boot_write_tables(vm->mem.ram, vm->mem.ram_bytes, vm->mem.ring_gpa,
				      vm->mem.ring_slot_bytes);
	if (r < 0) {
		snprintf(msg, msglen, "vmm: cannot build page tables for this memory layout");
		return r;
	}
	struct boot_params p = {
		.ram_bytes = vm->mem.ram_bytes,
		.kernel_end = img->kernel_end,
		.tsc_khz = vm_tsc_khz(vm),
		.nr_cpus = cfg->cpus,
		.host_kind = (uint32_t)host,
		.ring_gpa = vm->mem.ring_gpa,
		.ring_bytes = vm->mem.ring_bytes,
		.nr_queues = vm->mem.nr_queues,
		.doorbell = vm->doorbell_kind,
		.hypercall_insn = x86_host_hypercall_insn(),
		.notify = cfg->notify,
		.copy = cfg->copy,
		.batch = cfg->batch,
		.spin_us = cfg->spin_us,
		.argc = cfg->guest_argc,
		.argv = cfg->guest_argv,
	};
	struct vs_boot_info *bi = vm_mem_ptr(&vm->mem, VMM_BOOT_INFO_GPA, sizeof(*bi));
	return x86_boot_fill_info(bi, &p, msg, msglen);
}

static int create_hostnet(struct vm *vm, const struct vmm_config *cfg, char *msg,
			  size_t msglen)
{
	struct hostnet_config hc = {
		.ram = vm->mem.ram,
		.ram_bytes = vm->mem.ram_bytes,
		.ring = vm->mem.ring,
		.ring_gpa = vm->mem.ring_gpa,
		.ring_bytes = vm->mem.ring_bytes,
		.nr_queues = vm->mem.nr_queues,
		.workers = cfg->workers,
		.poll_us = cfg->poll_us,
		.copy = cfg->copy,
		.max_sockets = cfg->max_sockets,
		.max_backlog = cfg->max_backlog,
		.policy = cfg->policy,
		.seccomp = cfg->seccomp,
		.sock_buffer = cfg->sock_buffer,
		.sock_memory = cfg->sock_memory,
		.sock_autotune_bytes = host_tcp_autotune_bytes("/proc/sys/net/ipv4"),
		.timings = cfg->timings,
	};
	vm->worker = calloc(1, sizeof(*vm->worker));
	if (!vm->worker) {
		snprintf(msg, msglen, "vmm: out of memory");
		return -ENOMEM;
	}
	int r = worker_proc_start(vm->worker, &hc, msg, msglen);
	if (r < 0) {
		free(vm->worker);
		vm->worker = NULL;
	}
	return r;
}

static void report_stats(const struct vm *vm, const struct vmm_config *cfg,
			 enum vmm_host_kind host, int status)
{
	if (!cfg->stats && !cfg->stats_json)
		return;
	struct vmm_stats s = {
		.host_kind = vmm_host_kind_name(host),
		.doorbell = vmm_doorbell_name(vm->doorbell_kind),
		.cpus = cfg->cpus,
		.ram_bytes = vm->mem.ram_bytes,
		.wall_seconds = vm->ended_at - vm->started_at,
		.exit_status = status,
		.have_hostnet = vm->worker != NULL,
	};
	vm_counters(vm, &s.total);
	struct vcpu_counters per_vcpu[VS_MAX_QUEUES];
	if (vm->nr_vcpus <= VS_MAX_QUEUES) {
		for (uint32_t i = 0; i < vm->nr_vcpus; i++)
			per_vcpu[i] = vm->vcpus[i].counters;
		s.per_vcpu = per_vcpu;
	}
	if (vm->worker)
		worker_proc_get_stats(vm->worker, &s.hostnet);
	if (cfg->stats)
		stats_print(stderr, &s);
	if (cfg->stats_json) {
		int r = stats_write_json(cfg->stats_json, &s);
		if (r < 0)
			fprintf(stderr, "vmm: cannot write --stats-json %s: %s\n", cfg->stats_json,
				strerror(-r));
	}
}

/* Steps 2 and 3: what kind of KVM this is (once; everything below follows
 * from it), open it, check its capabilities, choose the doorbell.  Returns
 * 0 or the exit status, with the message in msg. */
static int open_kvm(const struct vmm_config *cfg, struct kvm_sys *kvm,
		    enum vmm_host_kind *host, enum vs_doorbell_kind *doorbell, char *msg,
		    size_t msglen)
{
	int dev_err = 0;
	*host = vmm_host_detect("/sys", cfg->kvm_device, &dev_err);
	if (*host == VMM_HOST_MISSING) {
		snprintf(msg, msglen, "vmm: no usable KVM device at %s (%s); %s",
			 cfg->kvm_device, strerror(dev_err), VMM_SANDBOX_HINT);
		return VS_EXIT_NO_KVM;
	}
	if (kvm_sys_open(cfg->kvm_device, kvm, msg, msglen) < 0)
		return VS_EXIT_NO_KVM;
	if (cfg->cpus > kvm->max_vcpus) {
		snprintf(msg, msglen, "vmm: bad --cpus %" PRIu32 ": this KVM allows at most "
			 "%u vCPUs per VM", cfg->cpus, kvm->max_vcpus);
		return VS_EXIT_USAGE;
	}
	int r = vmm_choose_doorbell(*host, cfg->doorbell, kvm->cap_exit_hypercall, doorbell,
				    msg, msglen);
	if (r < 0)
		return r == -EINVAL ? VS_EXIT_USAGE : VS_EXIT_NO_KVM;
	if (cfg->verbose)
		say_verbose(cfg, *host, *doorbell);
	return 0;
}

/* Steps 4 to 8: the VM, its memory, the kernel, the vCPUs and boot memory,
 * then hostnet.  Returns 0 or the exit status, with the message in msg. */
static int build_vm(struct vm *vm, const struct vmm_config *cfg, struct kvm_sys *kvm,
		    enum vmm_host_kind host, enum vs_doorbell_kind doorbell, char *msg,
		    size_t msglen)
{
	struct elf_image img;
	/* 4. The VM. */
	if (vm_create(vm, kvm, doorbell, msg, msglen) < 0)
		return VS_EXIT_NO_KVM;
	/* 5. Guest RAM at 0 and the ring slot (one queue per vCPU) at 4 GiB. */
	if (vm_setup_memory(vm, cfg->ram_bytes, cfg->cpus, msg, msglen) < 0)
		return VS_EXIT_VMM_ERROR;
	/* 6. The kernel image. */
	if (elf_load(cfg->image, vm->mem.ram, vm->mem.ram_bytes, &img, msg, msglen) < 0)
		return VS_EXIT_USAGE;
	/* 7. vCPUs, boot memory (tables, boot info), long-mode registers. */
	if (vm_create_vcpus(vm, cfg->cpus, msg, msglen) < 0)
		return VS_EXIT_VMM_ERROR;
	int r = write_boot_memory(vm, cfg, &img, host, msg, msglen);
	if (r < 0)
		return r == -E2BIG ? VS_EXIT_USAGE : VS_EXIT_VMM_ERROR;
	if (vm_setup_vcpus(vm, img.entry, msg, msglen) < 0)
		return VS_EXIT_VMM_ERROR;
	/* The VM and its vCPUs exist and CPUID is set: /dev/kvm itself is not
	 * needed any more (what kvm_sys_open() learned stays in kvm).  Closing
	 * it means nothing in this process can create another VM. */
	kvm_sys_close(kvm);
	/* 8. The host side of the transport. */
	if (create_hostnet(vm, cfg, msg, msglen) < 0)
		return VS_EXIT_VMM_ERROR;
	return 0;
}

int main(int argc, char **argv)
{
	char msg[MSG_MAX];
	struct vmm_config cfg;
	struct kvm_sys kvm;
	struct vm vm;
	enum vmm_host_kind host;
	enum vs_doorbell_kind doorbell;

	/* 1. Command line. */
	if (vmm_cli_parse(argc, argv, getenv("VS_KVM_DEVICE"), &cfg, msg, sizeof(msg)) < 0)
		return fail(msg, VS_EXIT_USAGE);
	if (cfg.action == VMM_ACTION_HELP) {
		fputs(vmm_cli_usage(), stdout);
		return 0;
	}
	if (cfg.action == VMM_ACTION_VERSION) {
		printf("vmm (virtsocket) %s, guest ABI version %u\n", VMM_VERSION, VS_ABI_VERSION);
		return 0;
	}

	/* SIGINT/SIGTERM from now on end the VM through vm_wait() (130 / 143). */
	vm_block_stop_signals();

	/* The vmm never executes anything: no exec from any of its threads may
	 * gain privileges (setuid, file capabilities).  Every thread created
	 * later inherits this; it is also what seccomp asks of an unprivileged
	 * process before it accepts a filter (hostnet's workers load theirs). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(msg, sizeof(msg), "vmm: prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return fail(msg, VS_EXIT_VMM_ERROR);
	}

	/* 2-3. KVM and the doorbell;  4-8. the VM, ready to run. */
	int status = open_kvm(&cfg, &kvm, &host, &doorbell, msg, sizeof(msg));
	if (status)
		return fail(msg, status);
	status = build_vm(&vm, &cfg, &kvm, host, doorbell, msg, sizeof(msg));
	if (status) {
		/* Whatever was built goes (a started worker process too). */
		vm_destroy(&vm);
		kvm_sys_close(&kvm);
		return fail(msg, status);
	}

	/* A guest that dies without a reason of its own (triple fault, lost state) is
	 * told apart from a guest bug where the host is known to cause such deaths. */
	if (host == VMM_HOST_KVM && vmm_host_svm_without_nrips("/sys"))
		vm.end.lost_state_hint = VMM_EMULATED_SVM_HINT;

	/* 9. Devices, then one thread per vCPU. */
	if (vm_add_devices(&vm, msg, sizeof(msg)) < 0 || vm_start(&vm, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "%s\n", msg);
		vm_end(&vm.end, VS_EXIT_VMM_ERROR, VM_END_ERROR);
		vm_wait(&vm, 0);
		return VS_EXIT_VMM_ERROR;
	}

	/* 10. Until the guest exits, fails, times out or we are told to stop. */
	status = vm_wait(&vm, cfg.timeout_s);

	/* 11. Statistics, clean up, the guest's status is ours. */
	report_stats(&vm, &cfg, host, status);
	vm_destroy(&vm);
	kvm_sys_close(&kvm);
	return status;
}
