/* SPDX-License-Identifier: MIT */
/*
 * How a VM ends, shared by every thread of it: the vCPU threads and their
 * devices (an exit port write, an error, every vCPU halted), the watchdog
 * and the signal handling in vm_wait().
 *
 * Whoever ends the VM first calls vm_end() with the exit status; later
 * calls are ignored.  vm_end() only records and wakes vm_wait() (an
 * eventfd), which then kicks every vCPU out of KVM_RUN and joins them.
 */
#ifndef VMM_VM_END_H
#define VMM_VM_END_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Why the VM ended, for the report main prints. */
enum vm_end_cause {
	VM_END_NONE = 0,
	VM_END_GUEST,     /* exit port */
	VM_END_ERROR,     /* a vCPU reported an error (already printed) */
	VM_END_TIMEOUT,   /* --timeout */
	VM_END_SIGNAL,    /* SIGINT / SIGTERM */
};

struct vm_end_state {
	pthread_mutex_t out_lock;  /* one writer at a time on stdout/stderr, so serial
	                              lines and reports never interleave */
	pthread_mutex_t lock;      /* guards the fields below; never held across
	                              I/O, so vm_end() cannot block */
	bool ending;
	int exit_status;
	enum vm_end_cause cause;
	uint32_t nr_vcpus;
	uint32_t nr_halted;
	int event;                 /* eventfd: vm_end() wakes vm_wait() */
	const char *lost_state_hint; /* set once before the vCPUs start: a sentence for
	                                a guest death with no reason of its own on this
	                                host (VMM_EMULATED_SVM_HINT), else NULL */
};

/* Locks and the eventfd.  0 or -errno.  vm_end_state_destroy() undoes it. */
int vm_end_state_init(struct vm_end_state *e);
void vm_end_state_destroy(struct vm_end_state *e);

/* End the VM with this status (first caller wins); returns true for the first. */
bool vm_end(struct vm_end_state *e, int status, enum vm_end_cause cause);

/* True once vm_end() was called. */
bool vm_is_ending(const struct vm_end_state *e);

/* A vCPU halted for good; true when it was the last one running. */
bool vm_end_note_halt(struct vm_end_state *e);

/* The exit port (VS_PORT_EXIT): outl STATUS ends the VM, the vmm exits
 * STATUS & 0xff.  Registers it on the port bus with e as its state. */
struct pio_bus;
int exit_port_register(struct pio_bus *bus, struct vm_end_state *e);

#endif /* VMM_VM_END_H */
