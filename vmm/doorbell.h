/* SPDX-License-Identifier: MIT */
/*
 * The doorbell device: the guest's "look at queue q" (abi.h), reached as an
 * outl to VS_PORT_DOORBELL or as hypercall VS_HC_NR, handed to hostnet's
 * link (the workers run in their own process: worker_proc.h).  It
 * registers its own port and hypercall (the shape of Solo5's tender
 * modules), so nothing else in the VMM knows about it.
 */
#ifndef VMM_DOORBELL_H
#define VMM_DOORBELL_H

#include <stdbool.h>
#include <stdint.h>

#include "virtsocket/abi.h"

struct hostnet_link;
struct pio_bus;
struct hypercall_table;

struct doorbell {
	struct hostnet_link *link; /* hostnet's doorbell side; NULL: no transport (-ENOSYS) */
	uint64_t ring_gpa;      /* what the port form implies for a0 ... */
	uint64_t ring_bytes;    /* ... and a1 (ring_bytes / 4096) */
	bool sync_regs;         /* KVM_CAP_SYNC_REGS: rax travels in kvm_run */
};

/* The port when there is a ring slot (ring_bytes != 0); hypercall VS_HC_NR
 * when kind is VS_DOORBELL_HYPERCALL.  0 or -errno. */
int doorbell_register(struct doorbell *db, enum vs_doorbell_kind kind, struct pio_bus *pio,
		      struct hypercall_table *hypercalls);

#endif /* VMM_DOORBELL_H */
