/* SPDX-License-Identifier: MIT */
/*
 * One virtual machine: its KVM fds, memory, devices and vCPUs, from creation
 * to the end (vm_end.h says how it ends; vm_wait() carries it out).
 *
 * Ending: vm_wait() waits for vm_end() (a vCPU at the exit port or on an
 * error), the watchdog or a signal, then kicks every vCPU out of KVM_RUN
 * (immediate_exit + a signal to its thread), wakes doorbell WAITs
 * (hostnet_link_stop), joins the threads, then ends hostnet's worker
 * process (worker_proc_finish: its statistics are final after that).  The
 * worker process ending by itself ends the VM too (VS_EXIT_VMM_ERROR).
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doorbell.h"
#include "hypercall.h"
#include "kvm_sys.h"
#include "pio.h"
#include "serial.h"
#include "stats.h"
#include "vcpu.h"
#include "virtsocket/abi.h"
#include "vm_end.h"
#include "vm_memory.h"

struct worker_proc;

struct vm {
	const struct kvm_sys *kvm;
	int fd;
	struct vm_memory mem;
	enum vs_doorbell_kind doorbell_kind;
	struct worker_proc *worker;      /* hostnet's process; NULL without a ring slot */

	/* Devices: each registers its ports and hypercalls. */
	struct pio_bus pio;
	struct hypercall_table hypercalls;
	struct serial serial;
	struct doorbell doorbell;

	uint32_t nr_vcpus;
	struct vcpu *vcpus;

	struct vm_end_state end;
	int stop_signal_fd;              /* signalfd: SIGINT/SIGTERM for vm_wait() */
	int stop_signal;                 /* SIGINT/SIGTERM that ended it, else 0 */
	double started_at, ended_at;     /* CLOCK_MONOTONIC seconds */
};

/* KVM_CREATE_VM, plus KVM_CAP_EXIT_HYPERCALL when doorbell is hypercall.
 * Returns 0 or -errno with one line in msg; a failure means this KVM cannot
 * run the VM (main exits VS_EXIT_NO_KVM). */
int vm_create(struct vm *vm, const struct kvm_sys *kvm, enum vs_doorbell_kind doorbell,
	      char *msg, size_t msglen);

/* Allocate and register RAM and (nr_queues > 0) the ring slot. */
int vm_setup_memory(struct vm *vm, uint64_t ram_bytes, uint32_t nr_queues, char *msg,
		    size_t msglen);

/* Create nr vCPUs (KVM_CREATE_VCPU, map kvm_run). */
int vm_create_vcpus(struct vm *vm, uint32_t nr, char *msg, size_t msglen);

/* Registers, special registers and CPUID for every vCPU: long mode at entry. */
int vm_setup_vcpus(struct vm *vm, uint64_t entry, char *msg, size_t msglen);

/* The guest TSC rate in kHz (0 if KVM cannot say). */
uint64_t vm_tsc_khz(const struct vm *vm);

/* The devices: the serial console, the exit port, the doorbell (its port
 * with a ring, its hypercall with that doorbell).  After hostnet exists. */
int vm_add_devices(struct vm *vm, char *msg, size_t msglen);

/*
 * Block SIGINT and SIGTERM in the calling thread, first thing in main():
 * every thread created later inherits the mask, and a stop signal that comes
 * early stays pending until vm_wait() picks it up from its signalfd (so the
 * vmm always ends through vm_wait() with 130 / 143, never killed mid-setup).
 */
void vm_block_stop_signals(void);

/* Start one thread per vCPU (after vm_block_stop_signals()). */
int vm_start(struct vm *vm, char *msg, size_t msglen);

/*
 * Wait until the VM ends: by itself, by timeout_s (0: never) or by SIGINT /
 * SIGTERM (blocked by vm_block_stop_signals()).  Then stop and join
 * every vCPU.  Returns the exit status.  On timeout, reports where each vCPU was.
 */
int vm_wait(struct vm *vm, unsigned timeout_s);

/* Sum of every vCPU's counters. */
void vm_counters(const struct vm *vm, struct vcpu_counters *sum);

void vm_destroy(struct vm *vm);

#endif /* VMM_VM_H */
