/* SPDX-License-Identifier: MIT */
/*
 * One virtual machine: its KVM fds, memory, devices, vCPUs, and the single
 * place that decides how it ends.
 *
 * Ending: whoever ends the VM first (a vCPU at the exit port or on an error,
 * the watchdog, a signal) calls vm_end() with the exit status; later calls
 * are ignored.  vm_end() only records and wakes vm_wait(), which then kicks
 * every vCPU out of KVM_RUN (immediate_exit + a signal to its thread),
 * wakes doorbell WAITs (hostnet_stop) and joins the threads.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "vm_memory.h"
#include "hostnet.h"
#include "kvm_sys.h"
#include "pio.h"
#include "stats.h"
#include "virtsocket/abi.h"

#define VMM_SERIAL_LINE_MAX 1024 /* longer lines are written in pieces */
#define VMM_KICK_SIGNAL SIGUSR1

struct vm;

struct vcpu {
	struct vm *vm;
	uint32_t index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	bool thread_joined;
	bool halted;                       /* parked on HLT */
	struct vcpu_counters counters;     /* written only by this vCPU's thread */
	char line[VMM_SERIAL_LINE_MAX];    /* this vCPU's unfinished serial line */
	uint32_t line_len;
};

/* Why the VM ended, for the report main prints. */
enum vm_end_cause {
	VM_END_NONE = 0,
	VM_END_GUEST,     /* exit port */
	VM_END_ERROR,     /* a vCPU reported an error (already printed) */
	VM_END_TIMEOUT,   /* --timeout */
	VM_END_SIGNAL,    /* SIGINT / SIGTERM */
};

struct vm {
	const struct kvm_sys *kvm;
	int fd;
	struct vm_memory mem;
	enum vs_doorbell_kind doorbell;
	struct hostnet *hn;              /* NULL without a ring slot */
	struct pio_bus pio;
	uint8_t serial_lcr;              /* COM1 line control register */

	uint32_t nr_vcpus;
	struct vcpu *vcpus;

	pthread_mutex_t out_lock;        /* one writer at a time on stdout/stderr, so
	                                    lines and reports never interleave */
	pthread_mutex_t lock;            /* guards the fields below; never held
	                                    across I/O, so vm_end() cannot block */
	bool ending;
	int exit_status;
	enum vm_end_cause cause;
	uint32_t nr_halted;
	int end_event;                   /* eventfd: vm_end() wakes vm_wait() */
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

/* Register the serial console, the exit port and (with a ring) the PIO doorbell. */
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

/* End the VM with this status (first caller wins); returns true for the first. */
bool vm_end(struct vm *vm, int status, enum vm_end_cause cause);

/*
 * Wait until the VM ends: by itself, by timeout_s (0: never) or by SIGINT /
 * SIGTERM (blocked by vm_block_stop_signals()).  Then stop and join
 * every vCPU.  Returns the exit status.  On timeout, reports where each vCPU was.
 */
int vm_wait(struct vm *vm, unsigned timeout_s);

/* Sum of every vCPU's counters. */
void vm_counters(const struct vm *vm, struct vcpu_counters *sum);

void vm_destroy(struct vm *vm);

/* --- for vcpu.c and the devices --- */

/* Print "vmm: vCPU N at RIP 0x...: <what>" and register state to stderr. */
void vcpu_report(struct vcpu *vcpu, bool dump_regs, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The vCPU thread's body. */
void *vcpu_thread(void *arg);

/* Register the devices (devices.c). */
int devices_register(struct vm *vm);

/* True once vm_end() was called. */
bool vm_is_ending(const struct vm *vm);

/* Write out the vCPU's unfinished serial line (at exit). */
void serial_flush(struct vcpu *vcpu);

/* The hypercall doorbell exit (devices.c): 0 or -errno. */
int doorbell_hypercall(struct vcpu *vcpu);

#endif /* VMM_VM_H */
