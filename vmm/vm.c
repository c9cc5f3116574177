/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "vm.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "worker_proc.h"
#include "layout.h"
#include "x86_boot.h"

/* How long vm_wait() keeps kicking a vCPU that does not stop before it
 * gives up on it (it then must not free what that thread may still use). */
#define VMM_STOP_GIVE_UP_S 10.0

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The signals that stop the VM (130 / 143). */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

int vm_create(struct vm *vm, const struct kvm_sys *kvm, enum vs_doorbell_kind doorbell,
	      char *msg, size_t msglen)
{
	*vm = (struct vm){ .kvm = kvm, .fd = -1, .stop_signal_fd = -1,
			   .doorbell_kind = doorbell };
	vm->mem.ring_fd = vm->mem.ram_fd = -1;
	int err = vm_end_state_init(&vm->end);
	if (err) {
		snprintf(msg, msglen, "vmm: eventfd: %s", strerror(-err));
		return err;
	}
	/* Made here, not in vm_wait(): every file the VMM keeps open exists
	 * before the guest runs, so a guest (or a test counting the VMM's fds
	 * once the guest says it started) never sees the count change. */
	sigset_t stop;
	stop_signals(&stop);
	vm->stop_signal_fd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (vm->stop_signal_fd < 0) {
		int err = -errno;
		snprintf(msg, msglen, "vmm: signalfd: %s", strerror(-err));
		return err;
	}
	vm->fd = ioctl(kvm->fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		int err = -errno;
		snprintf(msg, msglen, "vmm: KVM_CREATE_VM failed: %s; %s", strerror(-err),
			 VMM_SANDBOX_HINT);
		return err;
	}
	if (kvm->cap_tss_addr)
		(void)ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)VMM_VMX_TSS_GPA); /* AMD: unused */

	if (doorbell == VS_DOORBELL_HYPERCALL) {
		/* Forward KVM_HC_MAP_GPA_RANGE (nr 12) to us as KVM_EXIT_HYPERCALL. */
		struct kvm_enable_cap c = { .cap = KVM_CAP_EXIT_HYPERCALL };
		c.args[0] = 1ull << VS_HC_NR;
		if (ioctl(vm->fd, KVM_ENABLE_CAP, &c) < 0) {
			int err = -errno;
			snprintf(msg, msglen, "vmm: enabling KVM_CAP_EXIT_HYPERCALL failed: %s; use "
				 "--doorbell=pio, or %s", strerror(-err), VMM_SANDBOX_HINT);
			return err;
		}
	}
	return 0;
}

int vm_setup_memory(struct vm *vm, uint64_t ram_bytes, uint32_t nr_queues, char *msg,
		    size_t msglen)
{
	int r = vm_mem_create(&vm->mem, ram_bytes, nr_queues);
	if (r < 0) {
		snprintf(msg, msglen, "vmm: cannot allocate %" PRIu64 " MiB of guest RAM and a "
			 "ring slot for %" PRIu32 " queues: %s", ram_bytes >> 20, nr_queues,
			 strerror(-r));
		return r;
	}
	r = vm_mem_register(&vm->mem, vm->fd);
	if (r < 0)
		snprintf(msg, msglen, "vmm: KVM_SET_USER_MEMORY_REGION failed: %s", strerror(-r));
	return r;
}

int vm_create_vcpus(struct vm *vm, uint32_t nr, char *msg, size_t msglen)
{
	vm->vcpus = calloc(nr, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		snprintf(msg, msglen, "vmm: out of memory for %" PRIu32 " vCPUs", nr);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nr; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->index = i;
		v->fd = -1;
		v->end = &vm->end;
		v->pio = &vm->pio;
		v->hypercalls = &vm->hypercalls;
	}
	vm->nr_vcpus = nr;
	vm->end.nr_vcpus = nr;
	for (uint32_t i = 0; i < nr; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			int err = -errno;
			snprintf(msg, msglen, "vmm: KVM_CREATE_VCPU %" PRIu32 " failed: %s", i,
				 strerror(-err));
			return err;
		}
		void *run = mmap(NULL, vm->kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				 v->fd, 0);
		if (run == MAP_FAILED) {
			int err = -errno;
			snprintf(msg, msglen, "vmm: mapping vCPU %" PRIu32 "'s kvm_run failed: %s", i,
				 strerror(-err));
			return err;
		}
		v->run = run;
		/* Not into hostnet's worker process (a fork, worker_proc.h): a
		 * shared kvm_run there would let it rewrite this vCPU's exits. */
		if (madvise(run, vm->kvm->run_size, MADV_DONTFORK) < 0) {
			int err = -errno;
			snprintf(msg, msglen, "vmm: madvise(MADV_DONTFORK) on kvm_run: %s",
				 strerror(-err));
			return err;
		}
		/* Have KVM put the general registers into kvm_run at every exit. */
		if (vm->kvm->cap_sync_regs)
			v->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	}
	return 0;
}

uint64_t vm_tsc_khz(const struct vm *vm)
{
	if (vm->nr_vcpus == 0)
		return 0;
	int khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	return khz > 0 ? (uint64_t)khz : 0;
}

int vm_setup_vcpus(struct vm *vm, uint64_t entry, char *msg, size_t msglen)
{
	struct kvm_cpuid2 *supported;
	int r = kvm_sys_supported_cpuid(vm->kvm, &supported);
	if (r < 0) {
		snprintf(msg, msglen, "vmm: KVM_GET_SUPPORTED_CPUID failed: %s", strerror(-r));
		return r;
	}
	size_t cpuid_size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(cpuid_size);
	if (!cpuid) {
		free(supported);
		snprintf(msg, msglen, "vmm: out of memory");
		return -ENOMEM;
	}

	for (uint32_t i = 0; i < vm->nr_vcpus && r == 0; i++) {
		struct vcpu *v = &vm->vcpus[i];
		const char *step = "KVM_SET_CPUID2";
		memcpy(cpuid, supported, cpuid_size);
		x86_cpuid_for_vcpu(cpuid, i);
		if (ioctl(v->fd, KVM_SET_CPUID2, cpuid) == 0) {
			struct kvm_sregs sregs;
			step = "KVM_GET_SREGS";
			if (ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0) {
				x86_boot_sregs(&sregs);
				step = "KVM_SET_SREGS";
				if (ioctl(v->fd, KVM_SET_SREGS, &sregs) == 0) {
					struct kvm_regs regs;
					x86_boot_regs(&regs, entry, i);
					step = "KVM_SET_REGS";
					if (ioctl(v->fd, KVM_SET_REGS, &regs) == 0)
						continue;
				}
			}
		}
		r = -errno;
		snprintf(msg, msglen, "vmm: %s on vCPU %" PRIu32 " failed: %s", step, i,
			 strerror(-r));
	}
	free(cpuid);
	free(supported);
	return r;
}

int vm_add_devices(struct vm *vm, char *msg, size_t msglen)
{
	vm->doorbell = (struct doorbell){
		.link = vm->worker ? vm->worker->link : NULL,
		.ring_gpa = vm->mem.ring_gpa,
		.ring_bytes = vm->mem.ring_bytes,
		.sync_regs = vm->kvm->cap_sync_regs,
	};
	int r = serial_register(&vm->serial, &vm->pio, &vm->end, vm->nr_vcpus);
	if (r == 0)
		r = exit_port_register(&vm->pio, &vm->end);
	if (r == 0)
		r = doorbell_register(&vm->doorbell, vm->doorbell_kind, &vm->pio, &vm->hypercalls);
	if (r < 0)
		snprintf(msg, msglen, "vmm: registering the devices failed: %s",
			 strerror(-r));
	return r;
}

void vm_block_stop_signals(void)
{
	sigset_t set;
	stop_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* The kick only has to interrupt KVM_RUN; there is nothing to do in it. */
static void kick_handler(int sig)
{
	(void)sig;
}

int vm_start(struct vm *vm, char *msg, size_t msglen)
{
	/* No SA_RESTART: a kicked KVM_RUN must return EINTR, not restart. */
	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	if (sigaction(VMM_KICK_SIGNAL, &sa, NULL) < 0) {
		int err = -errno;
		snprintf(msg, msglen, "vmm: sigaction: %s", strerror(-err));
		return err;
	}
	vm->started_at = now_seconds();
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (r != 0) {
			snprintf(msg, msglen, "vmm: cannot start vCPU %" PRIu32 "'s thread: %s", i,
				 strerror(r));
			vm_end(&vm->end, VS_EXIT_VMM_ERROR, VM_END_ERROR);
			return -r;
		}
		v->thread_started = true;
	}
	return 0;
}

/* Kick every vCPU out of KVM_RUN until all threads are joined. */
static bool stop_vcpus(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].run)
			__atomic_store_n(&vm->vcpus[i].run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (vm->worker)
		hostnet_link_stop(vm->worker->link);

	double give_up = now_seconds() + VMM_STOP_GIVE_UP_S;
	for (;;) {
		bool all = true;
		for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
			struct vcpu *v = &vm->vcpus[i];
			if (!v->thread_started || v->thread_joined)
				continue;
			pthread_kill(v->thread, VMM_KICK_SIGNAL);
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(v->thread, NULL, &ts) == 0)
				v->thread_joined = true;
			else
				all = false;
		}
		if (all)
			return true;
		if (now_seconds() > give_up) {
			for (uint32_t i = 0; i < vm->nr_vcpus; i++)
				if (vm->vcpus[i].thread_started && !vm->vcpus[i].thread_joined)
					fprintf(stderr, "vmm: vCPU %" PRIu32 " does not stop; giving up "
						"on it\n", i);
			return false;
		}
	}
}

static void report_positions(struct vm *vm)
{
	bool lost = false;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct kvm_regs regs;
		if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0) {
			fprintf(stderr, "vmm:   vCPU %" PRIu32 ": registers unavailable: %s\n", i,
				strerror(errno));
			continue;
		}
		/* A RIP that the guest's own page tables do not map to guest memory
		 * cannot be where the guest runs (fetching there faults, and the
		 * fault would run the guest's handler): the vCPU holds some other
		 * machine's state and spins there without a word. */
		struct kvm_translation t = { .linear_address = regs.rip };
		bool outside = ioctl(v->fd, KVM_TRANSLATE, &t) == 0 &&
			       (!t.valid || !vm_mem_ptr(&vm->mem, t.physical_address, 1));
		lost |= outside;
		fprintf(stderr, "vmm:   vCPU %" PRIu32 " at RIP %#llx%s%s\n", i, regs.rip,
			v->halted ? " (halted)" : "",
			outside ? ", which the guest's page tables do not map to guest "
				  "memory: not guest code, the vCPU lost the guest's state" : "");
	}
	if (lost && vm->end.lost_state_hint)
		fprintf(stderr, "vmm: %s.\n", vm->end.lost_state_hint);
}

int vm_wait(struct vm *vm, unsigned timeout_s)
{
	int sfd = vm->stop_signal_fd;

	double deadline = vm->started_at + timeout_s;
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = vm->end.event, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = vm->worker ? vm->worker->pidfd : -1, .events = POLLIN },
		};
		int wait_ms = -1;
		if (timeout_s) {
			double left = deadline - now_seconds();
			wait_ms = left <= 0 ? 0 : (int)(left * 1000.0) + 1;
		}
		int n = poll(p, 3, wait_ms); /* negative fds are ignored */
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "vmm: waiting for the VM failed: %s\n", strerror(errno));
			vm_end(&vm->end, VS_EXIT_VMM_ERROR, VM_END_ERROR);
			break;
		}
		if (p[0].revents & POLLIN)
			break;
		char why[256];
		if ((p[2].revents & POLLIN) && worker_proc_ended(vm->worker, why, sizeof(why))) {
			if (vm_end(&vm->end, VS_EXIT_VMM_ERROR, VM_END_ERROR))
				fprintf(stderr, "%s\n", why);
			break;
		}
		if (sfd >= 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				vm->stop_signal = (int)si.ssi_signo;
				vm_end(&vm->end, 128 + (int)si.ssi_signo, VM_END_SIGNAL);
			}
			break;
		}
		if (n == 0 && timeout_s && now_seconds() >= deadline) {
			vm_end(&vm->end, VS_EXIT_TIMEOUT, VM_END_TIMEOUT);
			break;
		}
	}
	bool stopped = stop_vcpus(vm);
	vm->ended_at = now_seconds();
	if (vm->worker && stopped)
		worker_proc_finish(vm->worker); /* its statistics are final now */
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].thread_joined)
			serial_flush(&vm->serial, i);

	if (vm->end.cause == VM_END_TIMEOUT) {
		fprintf(stderr, "vmm: --timeout %u s expired before the guest finished; vCPUs "
			"were stopped here:\n", timeout_s);
		report_positions(vm);
	} else if (vm->end.cause == VM_END_SIGNAL) {
		fprintf(stderr, "vmm: stopped by %s\n", strsignal(vm->stop_signal));
		report_positions(vm);
	}
	return stopped ? vm->end.exit_status : VS_EXIT_VMM_ERROR;
}

void vm_counters(const struct vm *vm, struct vcpu_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		stats_add(sum, &vm->vcpus[i].counters);
}

void vm_destroy(struct vm *vm)
{
	/* The guest's host sockets are closed whatever became of the vCPUs: the
	 * peers must see the VM end.  They all live in the worker process, and
	 * ending it closes them.  A vCPU that did not stop is stuck in KVM_RUN
	 * (stop_vcpus() woke every WAIT through the link and kicked it for
	 * VMM_STOP_GIVE_UP_S); the process exits right after this. */
	if (vm->worker)
		worker_proc_finish(vm->worker);
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->thread_started && !v->thread_joined)
			return; /* it may still touch the rest: leave that to exit() */
	}
	if (vm->worker) {
		worker_proc_destroy(vm->worker);
		free(vm->worker);
		vm->worker = NULL;
	}
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->run)
			munmap(v->run, vm->kvm->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	vm_mem_destroy(&vm->mem);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->stop_signal_fd >= 0)
		close(vm->stop_signal_fd);
	vm->fd = vm->stop_signal_fd = -1;
	serial_destroy(&vm->serial);
	vm_end_state_destroy(&vm->end);
}
