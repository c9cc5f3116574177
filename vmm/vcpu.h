/* SPDX-License-Identifier: MIT */
/*
 * One vCPU and its thread (vcpu.c): KVM_RUN in a loop, one switch on the
 * exit reason whose cases call small handlers (the kvmtool shape).  Port
 * I/O and hypercalls go to whatever device registered them (pio.h,
 * hypercall.h); the VM ends through vm_end.h.
 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "stats.h"

#define VMM_KICK_SIGNAL SIGUSR1

struct vm_end_state;
struct pio_bus;
struct hypercall_table;

struct vcpu {
	uint32_t index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	bool thread_joined;
	bool halted;                       /* parked on HLT */
	struct vcpu_counters counters;     /* written only by this vCPU's thread */
	/* The VM's, for the exit handlers. */
	struct vm_end_state *end;
	const struct pio_bus *pio;
	const struct hypercall_table *hypercalls;
};

/* The vCPU thread's body (arg: the struct vcpu).  Expects VMM_KICK_SIGNAL
 * to have a handler without SA_RESTART: a kick makes KVM_RUN return EINTR. */
void *vcpu_thread(void *arg);

/* Print "vmm: vCPU N at RIP 0x...: <what>" (and with dump_regs the register
 * state) to stderr, under the VM's output lock. */
void vcpu_report(struct vcpu *vcpu, bool dump_regs, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* VMM_VCPU_H */
