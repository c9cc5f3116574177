/* SPDX-License-Identifier: MIT */
/*
 * The vCPU thread: KVM_RUN in a loop, and one switch on the exit reason whose
 * cases call small handlers (the kvmtool shape).  A handler returns
 * VCPU_CONTINUE to re-enter the guest or VCPU_STOP to end this thread; one
 * that ends the whole VM calls vm_end() first.
 */
#define _GNU_SOURCE
#include "vcpu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hypercall.h"
#include "pio.h"
#include "virtsocket/abi.h"
#include "vm_end.h"

enum vcpu_next { VCPU_CONTINUE, VCPU_STOP };

void vcpu_report(struct vcpu *vcpu, bool dump_regs, const char *fmt, ...)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	bool have_regs = ioctl(vcpu->fd, KVM_GET_REGS, &r) == 0;
	bool have_sregs = dump_regs && ioctl(vcpu->fd, KVM_GET_SREGS, &s) == 0;
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&vcpu->end->out_lock);
	if (have_regs)
		fprintf(stderr, "vmm: vCPU %" PRIu32 " at RIP %#llx: %s\n", vcpu->index, r.rip,
			what);
	else
		fprintf(stderr, "vmm: vCPU %" PRIu32 " (RIP unavailable): %s\n", vcpu->index,
			what);
	if (dump_regs && have_regs) {
		fprintf(stderr,
			"vmm:   rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
			"vmm:   rsi %016llx rdi %016llx rsp %016llx rbp %016llx\n"
			"vmm:   r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n"
			"vmm:   r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n"
			"vmm:   rflags %016llx\n",
			r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, r.r8, r.r9, r.r10,
			r.r11, r.r12, r.r13, r.r14, r.r15, r.rflags);
	}
	if (have_sregs)
		fprintf(stderr,
			"vmm:   cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %llx\n"
			"vmm:   cs %04x ss %04x idt base %#llx limit %#x\n",
			s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.cs.selector, s.ss.selector,
			s.idt.base, s.idt.limit);
	pthread_mutex_unlock(&vcpu->end->out_lock);
}

/* Report, end the VM as a VM error, stop this vCPU. */
#define VCPU_FAIL(vcpu, dump, ...)                                       \
	({                                                                  \
		vcpu_report((vcpu), (dump), __VA_ARGS__);                   \
		vm_end((vcpu)->end, VS_EXIT_VM_ERROR, VM_END_ERROR);         \
		VCPU_STOP;                                                  \
	})

static enum vcpu_next handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint16_t port = run->io.port;
	uint32_t size = run->io.size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	const struct pio_device *dev = pio_find(vcpu->pio, port, size);
	if (!dev)
		return VCPU_FAIL(vcpu, false, "unhandled port I/O: %s of %" PRIu32 " byte(s) %s "
				 "port %#x (no device there)", is_write ? "out" : "in", size,
				 is_write ? "to" : "from", port);
	/* rep ins/outs arrive as one exit with count > 1, packed in data. */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		int r = dev->fn(vcpu, dev->opaque, port, is_write, data, size);
		if (r < 0)
			return VCPU_FAIL(vcpu, false, "%s rejected %s of %" PRIu32 " byte(s) %s "
					 "port %#x: %s", dev->name, is_write ? "out" : "in", size,
					 is_write ? "to" : "from", port, strerror(-r));
		if (vm_is_ending(vcpu->end))
			return VCPU_STOP;
	}
	return VCPU_CONTINUE;
}

static enum vcpu_next handle_hypercall(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	if (vcpu->hypercalls->count == 0)
		return VCPU_FAIL(vcpu, false, "KVM_EXIT_HYPERCALL nr %llu although no device "
				 "uses hypercalls (the doorbell is not the hypercall)",
				 run->hypercall.nr);
	vcpu->counters.hypercalls++;
	/* KVM forwards only the nrs we enabled; an unknown one gets -ENOSYS. */
	const struct hypercall_handler *h = hypercall_find(vcpu->hypercalls, run->hypercall.nr);
	if (!h) {
		run->hypercall.ret = (uint64_t)(int64_t)-ENOSYS;
		return VCPU_CONTINUE;
	}
	uint64_t args[6], ret = 0;
	for (unsigned i = 0; i < 6; i++)
		args[i] = run->hypercall.args[i];
	int r = h->fn(vcpu, h->opaque, args, &ret);
	run->hypercall.ret = ret;
	if (r < 0)
		return VCPU_FAIL(vcpu, false, "%s failed: %s", h->name, strerror(-r));
	return vm_is_ending(vcpu->end) ? VCPU_STOP : VCPU_CONTINUE;
}

/* Without an in-kernel irqchip nothing can wake a halted vCPU: park it. */
static enum vcpu_next handle_hlt(struct vcpu *vcpu)
{
	vcpu->halted = true;
	if (vm_end_note_halt(vcpu->end)) {
		vcpu_report(vcpu, false, "every vCPU has halted (hlt with interrupts off never "
			    "wakes up here); a guest should end through the exit port (outl "
			    "STATUS to %#x)", VS_PORT_EXIT);
		vm_end(vcpu->end, VS_EXIT_VM_ERROR, VM_END_ERROR);
	}
	return VCPU_STOP;
}

static enum vcpu_next handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	return VCPU_FAIL(vcpu, false, "unhandled MMIO: %s of %" PRIu32 " byte(s) at guest-"
			 "physical %#llx, where there is neither memory nor a device",
			 run->mmio.is_write ? "write" : "read", run->mmio.len,
			 run->mmio.phys_addr);
}

/* One more line after a guest death that gave no reason of its own, when this host
 * is known to cause such deaths itself. */
static void report_lost_state_hint(struct vcpu *vcpu)
{
	const char *hint = vcpu->end->lost_state_hint;
	if (!hint)
		return;
	pthread_mutex_lock(&vcpu->end->out_lock);
	fprintf(stderr, "vmm: %s.\n", hint);
	pthread_mutex_unlock(&vcpu->end->out_lock);
}

static enum vcpu_next handle_shutdown(struct vcpu *vcpu)
{
	/* KVM on AMD INITs the vCPU before it reports a shutdown, so what it
	 * hands back is the reset state, not the faulting one: say so rather
	 * than let a RIP of 0xfff0 mislead.  What the guest had done until then
	 * (its exits to us) is all that is left to tell how far it got. */
	struct kvm_sregs s;
	bool was_reset = ioctl(vcpu->fd, KVM_GET_SREGS, &s) == 0 && !(s.cr0 & 0x80000000ull);
	const struct vcpu_counters *c = &vcpu->counters;
	vcpu_report(vcpu, true, "the guest stopped with a triple fault (KVM_EXIT_SHUTDOWN) "
		    "after %" PRIu64 " hypercalls, %" PRIu64 " port doorbells and %" PRIu64
		    " console bytes: it took an exception it could not handle (no IDT yet, "
		    "or a fault in its handler)%s", c->hypercalls, c->pio_doorbells,
		    c->serial_bytes, was_reset ? "; KVM reset this vCPU when it shut down "
		    "(AMD), so RIP and the registers below are the reset state, not the "
		    "faulting one" : "");
	report_lost_state_hint(vcpu);
	vm_end(vcpu->end, VS_EXIT_VM_ERROR, VM_END_ERROR);
	return VCPU_STOP;
}

static enum vcpu_next handle_fail_entry(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	return VCPU_FAIL(vcpu, true, "KVM could not enter the guest (KVM_EXIT_FAIL_ENTRY, "
			 "hardware reason %#llx on host CPU %u): invalid guest state",
			 run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu);
}

static const char *internal_suberror_name(uint32_t s)
{
	switch (s) {
	case KVM_INTERNAL_ERROR_EMULATION: return "instruction emulation failed";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception during exception delivery";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "unexpected exit reason";
	}
	return "unknown suberror";
}

static enum vcpu_next handle_internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char data[160] = "";
	size_t off = 0;
	for (uint32_t i = 0; i < run->internal.ndata && i < 4 && off < sizeof(data); i++)
		off += (size_t)snprintf(data + off, sizeof(data) - off, " %#llx",
					run->internal.data[i]);
	return VCPU_FAIL(vcpu, true, "KVM internal error, suberror %" PRIu32 " (%s), data:%s",
			 run->internal.suberror, internal_suberror_name(run->internal.suberror),
			 off ? data : " none");
}

static enum vcpu_next handle_unknown(struct vcpu *vcpu)
{
	uint32_t reason = vcpu->run->exit_reason;
	const char *name = kvm_exit_reason_name(reason);
	return VCPU_FAIL(vcpu, true, "unexpected KVM exit %" PRIu32 " (%s)", reason,
			 name ? name : "no name known");
}

static void count_exit(struct vcpu *vcpu, uint32_t reason)
{
	if (reason < VMM_EXIT_REASONS)
		vcpu->counters.exits[reason]++;
	else
		vcpu->counters.exits_other++;
}

static enum vcpu_next handle_exit(struct vcpu *vcpu, uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO:
		return handle_io(vcpu);
	case KVM_EXIT_HYPERCALL:
		return handle_hypercall(vcpu);
	case KVM_EXIT_HLT:
		return handle_hlt(vcpu);
	case KVM_EXIT_MMIO:
		return handle_mmio(vcpu);
	case KVM_EXIT_SHUTDOWN:
		return handle_shutdown(vcpu);
	case KVM_EXIT_FAIL_ENTRY:
		return handle_fail_entry(vcpu);
	case KVM_EXIT_INTERNAL_ERROR:
		return handle_internal_error(vcpu);
	case KVM_EXIT_INTR:
		return VCPU_CONTINUE; /* a signal; the loop condition decides */
	default:
		return handle_unknown(vcpu);
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;

	/* Only this thread takes the kick signal's interruption of KVM_RUN. */
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, VMM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	enum vcpu_next next = VCPU_CONTINUE;
	while (next == VCPU_CONTINUE && !vm_is_ending(vcpu->end)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->counters.kicks++;
				continue; /* the loop condition decides */
			}
			vcpu_report(vcpu, false, "KVM_RUN failed: %s", strerror(errno));
			vm_end(vcpu->end, VS_EXIT_VMM_ERROR, VM_END_ERROR);
			break;
		}
		uint32_t reason = vcpu->run->exit_reason;
		count_exit(vcpu, reason);
		next = handle_exit(vcpu, reason);
	}
	return NULL;
}
