/* SPDX-License-Identifier: MIT */
/*
 * Run statistics: each vCPU thread counts into its own struct vcpu_counters
 * (no sharing, no atomics on the hot path); at the end they are summed with
 * hostnet's figures into one struct vmm_stats, printed as a table (--stats)
 * and/or written as JSON (--stats-json).
 */
#ifndef VMM_STATS_H
#define VMM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hostnet.h"

#define VMM_EXIT_REASONS 64 /* KVM_EXIT_* values below this are counted by name */

struct vcpu_counters {
	uint64_t exits[VMM_EXIT_REASONS]; /* by KVM_EXIT_* reason */
	uint64_t exits_other;             /* reasons >= VMM_EXIT_REASONS */
	uint64_t hypercalls;              /* KVM_EXIT_HYPERCALL doorbells */
	uint64_t pio_doorbells;           /* outl to VS_PORT_DOORBELL */
	uint64_t serial_bytes;            /* bytes written to COM1's data port */
	uint64_t kicks;                   /* KVM_RUN interrupted by a signal */
};

struct vmm_stats {
	const char *host_kind;   /* "kvm", "pvm" */
	const char *doorbell;    /* "hypercall", "pio", "none" */
	uint32_t cpus;
	uint64_t ram_bytes;
	double wall_seconds;     /* first KVM_RUN to the last vCPU joined */
	int exit_status;
	struct vcpu_counters total;
	const struct vcpu_counters *per_vcpu; /* cpus entries, or NULL: vCPU i's own */
	bool have_hostnet;
	struct hostnet_stats hostnet;
};

void stats_add(struct vcpu_counters *sum, const struct vcpu_counters *c);
uint64_t stats_total_exits(const struct vcpu_counters *c);

/* "IO", "HLT", ... or NULL for a reason without a name here. */
const char *kvm_exit_reason_name(uint32_t reason);

void stats_print(FILE *f, const struct vmm_stats *s);
void stats_print_json(FILE *f, const struct vmm_stats *s);
/* Write the JSON to path: 0 or -errno. */
int stats_write_json(const char *path, const struct vmm_stats *s);

#endif /* VMM_STATS_H */
