/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 guest platform for libvirtsocket (freestanding build only):
 * builds a struct vs_transport from the VMM's boot info, with the doorbell
 * the boot info names (vmcall / vmmcall hypercall or port I/O) and
 * identity virt_to_gpa.  The kernel adds its clock and CPU index.
 *
 *   struct vs_transport t;
 *   int err = vs_x86_transport(&t, boot_info, my_now_ns, my_cpu_id);
 *   if (!err)
 *           err = vs_init(&t, state, VS_STATE_BYTES(t.nr_queues));
 */
#ifndef VIRTSOCKET_VSOCK_X86_H
#define VIRTSOCKET_VSOCK_X86_H

#include "virtsocket/abi.h"
#include "virtsocket/vsock.h"

/* Fill *t from bi (read once; later changes to bi are not seen).  Returns
 * 0, -ENODEV (the VM has no transport: ring_gpa == 0 or doorbell NONE) or
 * -EINVAL (boot info malformed: magic, version, sizes, doorbell kind).
 * now_ns and cpu_id receive t->ctx, which they may ignore. */
int vs_x86_transport(struct vs_transport *t, const struct vs_boot_info *bi,
		     uint64_t (*now_ns)(void *ctx), uint32_t (*cpu_id)(void *ctx));

/* The doorbells themselves, for kernels that build their own transport;
 * ctx must be the one vs_x86_transport() put in t->ctx. */
int64_t vs_x86_doorbell_vmcall(void *ctx, uint64_t a2);
int64_t vs_x86_doorbell_vmmcall(void *ctx, uint64_t a2);
int64_t vs_x86_doorbell_pio(void *ctx, uint64_t a2);

#endif /* VIRTSOCKET_VSOCK_X86_H */
