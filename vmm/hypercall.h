/* SPDX-License-Identifier: MIT */
/*
 * Hypercall registry: a device claims a hypercall number and gets a callback
 * for every KVM_EXIT_HYPERCALL with it (the port registry's twin, pio.h).
 * Registration happens before the vCPUs start; lookups afterwards are
 * read-only, so no lock is needed.
 */
#ifndef VMM_HYPERCALL_H
#define VMM_HYPERCALL_H

#include <stdint.h>

struct vcpu;

/* One hypercall: args are a0..a5 as KVM reports them; *ret goes back to the
 * guest's rax.  Returns 0, or -errno to end the VM with VS_EXIT_VM_ERROR. */
typedef int (*hypercall_fn)(struct vcpu *vcpu, void *opaque, const uint64_t args[6],
			    uint64_t *ret);

struct hypercall_handler {
	uint64_t nr;
	const char *name;
	hypercall_fn fn;
	void *opaque;
};

#define HYPERCALL_MAX 4

struct hypercall_table {
	struct hypercall_handler h[HYPERCALL_MAX];
	unsigned count;
};

/* Claim nr.  -EEXIST if taken, -ENOSPC if full, -EINVAL without fn. */
int hypercall_register(struct hypercall_table *t, uint64_t nr, const char *name,
		       hypercall_fn fn, void *opaque);

/* The handler of nr, or NULL. */
const struct hypercall_handler *hypercall_find(const struct hypercall_table *t, uint64_t nr);

#endif /* VMM_HYPERCALL_H */
