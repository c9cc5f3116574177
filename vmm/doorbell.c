/* SPDX-License-Identifier: MIT */
#include "doorbell.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "link.h"
#include "hypercall.h"
#include "pio.h"
#include "vcpu.h"

static int64_t ring(struct doorbell *db, uint64_t a0, uint64_t a1, uint64_t a2)
{
	if (!db->link)
		return -ENOSYS; /* a VM without transport */
	return hostnet_link_doorbell(db->link, a0, a1, a2);
}

/* The result goes to rax: KVM completes the out instruction on the next
 * KVM_RUN and keeps the registers we set now.  With sync regs they are in
 * kvm_run already (two ioctls less per doorbell). */
static int set_rax(const struct doorbell *db, struct vcpu *vcpu, uint64_t value)
{
	if (db->sync_regs) {
		vcpu->run->s.regs.regs.rax = value;
		vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		return 0;
	}
	struct kvm_regs regs;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	regs.rax = value;
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

static int doorbell_pio(struct vcpu *vcpu, void *opaque, uint16_t port, bool is_write,
			uint8_t *data, uint32_t size)
{
	(void)port;
	if (!is_write || size != 4)
		return -EINVAL; /* the doorbell is outl only */
	struct doorbell *db = opaque;
	uint32_t value;
	memcpy(&value, data, sizeof(value));
	vcpu->counters.pio_doorbells++;
	/* The port form carries only a2's low half; the rest is implied. */
	int64_t result = ring(db, db->ring_gpa, db->ring_bytes / 4096,
			      (uint64_t)VS_ABI_MAGIC << 32 | value);
	return set_rax(db, vcpu, (uint64_t)result);
}

/* The arguments are the guest's choice: hostnet checks every one. */
static int doorbell_hypercall(struct vcpu *vcpu, void *opaque, const uint64_t args[6],
			      uint64_t *ret)
{
	(void)vcpu;
	*ret = (uint64_t)ring(opaque, args[0], args[1], args[2]);
	return 0;
}

int doorbell_register(struct doorbell *db, enum vs_doorbell_kind kind, struct pio_bus *pio,
		      struct hypercall_table *hypercalls)
{
	int r = 0;
	if (db->ring_bytes)
		r = pio_register(pio, VS_PORT_DOORBELL, 4, "doorbell port", doorbell_pio, db);
	if (r == 0 && kind == VS_DOORBELL_HYPERCALL)
		r = hypercall_register(hypercalls, VS_HC_NR, "hypercall doorbell",
				       doorbell_hypercall, db);
	return r;
}
