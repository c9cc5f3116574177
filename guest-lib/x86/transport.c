/* SPDX-License-Identifier: MIT */
/*
 * x86-64 guest platform: doorbells and identity address translation.
 *
 * Hypercall doorbell (KVM_HC_MAP_GPA_RANGE, the one nr KVM forwards to user
 * space): rax = 12, rbx = ring GPA, rcx = ring pages, rdx = a2; the VMM
 * answers in rax.  Port-I/O doorbell: outl (uint32_t)a2 to
 * VS_PORT_DOORBELL; the VMM writes the answer into rax before resuming, so
 * rax is an output of the outl as far as the compiler is concerned.
 */
#include "virtsocket/vsock_x86.h"

struct vs_x86_platform {
	uint64_t ram_bytes;
	uint64_t ring_gpa;
	uint64_t ring_bytes;
	uint64_t ring_pages;
	uint64_t (*now_ns)(void *ctx);
	uint32_t (*cpu_id)(void *ctx);
};

/* One VM, one transport: the boot CPU fills it once in vs_x86_transport(). */
static struct vs_x86_platform platform;

int64_t vs_x86_doorbell_vmcall(void *ctx, uint64_t a2)
{
	const struct vs_x86_platform *p = ctx;
	int64_t rax = VS_HC_NR;
	__asm__ __volatile__("vmcall"
			     : "+a"(rax)
			     : "b"(p->ring_gpa), "c"(p->ring_pages), "d"(a2)
			     : "memory");
	return rax;
}

int64_t vs_x86_doorbell_vmmcall(void *ctx, uint64_t a2)
{
	const struct vs_x86_platform *p = ctx;
	int64_t rax = VS_HC_NR;
	__asm__ __volatile__("vmmcall"
			     : "+a"(rax)
			     : "b"(p->ring_gpa), "c"(p->ring_pages), "d"(a2)
			     : "memory");
	return rax;
}

int64_t vs_x86_doorbell_pio(void *ctx, uint64_t a2)
{
	(void)ctx;
	/* outl writes eax; zero-extended, so rax's upper half starts clean and
	 * holds whatever the VMM stores as the result. */
	int64_t rax = (uint32_t)a2;
	__asm__ __volatile__("outl %%eax, %%dx"
			     : "+a"(rax)
			     : "d"((uint16_t)VS_PORT_DOORBELL)
			     : "memory");
	return rax;
}

/* Guest RAM and the ring slot are identity mapped; nothing else is. */
static uint64_t identity_gpa(void *ctx, const void *ptr)
{
	const struct vs_x86_platform *p = ctx;
	uint64_t a = (uint64_t)(uintptr_t)ptr;
	if (a < p->ram_bytes)
		return a;
	if (a >= p->ring_gpa && a - p->ring_gpa < p->ring_bytes)
		return a;
	return VS_GPA_INVALID;
}

static uint64_t now_ns(void *ctx)
{
	const struct vs_x86_platform *p = ctx;
	return p->now_ns(ctx);
}

static uint32_t cpu_id(void *ctx)
{
	const struct vs_x86_platform *p = ctx;
	return p->cpu_id ? p->cpu_id(ctx) : 0;
}

int vs_x86_transport(struct vs_transport *t, const struct vs_boot_info *bi,
		     uint64_t (*now)(void *ctx), uint32_t (*cpu)(void *ctx))
{
	if (!t || !bi || !now || bi->magic != VS_ABI_MAGIC || bi->version != VS_ABI_VERSION)
		return -VS_EINVAL;
	if (bi->ring_gpa == 0 || bi->doorbell == VS_DOORBELL_NONE)
		return -VS_ENODEV;
	if (bi->ring_gpa % 4096 || bi->ring_bytes % 4096 || bi->nr_queues == 0 ||
	    bi->nr_queues > VS_MAX_QUEUES ||
	    bi->ring_bytes < (uint64_t)bi->nr_queues * VS_QUEUE_BYTES)
		return -VS_EINVAL;

	platform.ram_bytes = bi->ram_bytes;
	platform.ring_gpa = bi->ring_gpa;
	platform.ring_bytes = bi->ring_bytes;
	platform.ring_pages = bi->ring_bytes / 4096;
	platform.now_ns = now;
	platform.cpu_id = cpu;

	t->ring = (void *)(uintptr_t)bi->ring_gpa;
	t->ring_gpa = bi->ring_gpa;
	t->ring_bytes = bi->ring_bytes;
	t->nr_queues = bi->nr_queues;
	t->notify = bi->notify;
	t->copy = bi->copy;
	t->batch = bi->batch;
	/* boot info's cap is in us (0: the library's default); in ns it must
	 * fit 32 bits */
	t->spin_ns = bi->spin_us > UINT32_MAX / 1000u ? UINT32_MAX : bi->spin_us * 1000u;
	t->reserved = 0;
	t->ctx = &platform;
	switch (bi->doorbell) {
	case VS_DOORBELL_HYPERCALL:
		t->doorbell = bi->hypercall_insn == VS_INSN_VMMCALL ? vs_x86_doorbell_vmmcall
								     : vs_x86_doorbell_vmcall;
		break;
	case VS_DOORBELL_PIO:
		t->doorbell = vs_x86_doorbell_pio;
		break;
	default:
		return -VS_EINVAL;
	}
	t->virt_to_gpa = identity_gpa;
	t->now_ns = now_ns;
	t->cpu_id = cpu_id;
	return 0;
}
