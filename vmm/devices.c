/* SPDX-License-Identifier: MIT */
/*
 * The guest's devices, all port I/O (abi.h): the COM1 serial console, the
 * exit port and the port-I/O doorbell; and the hypercall doorbell, which is
 * the same doorbell reached through KVM_EXIT_HYPERCALL.
 */
#include "vm.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- serial console (an 8250 that is always ready to send) ---- */

#define COM1_BASE   VS_PORT_COM1
#define COM1_PORTS  8
#define UART_RBR_THR 0  /* receive / transmit data (divisor low when DLAB) */
#define UART_IER     1  /* (divisor high when DLAB) */
#define UART_IIR     2
#define UART_LCR     3
#define UART_LSR     5
#define UART_LCR_DLAB 0x80
#define UART_IIR_NO_INT 0x01
#define UART_LSR_THRE_TEMT 0x60  /* transmitter holding register and shifter empty */

/* A reader that stops reading must not hold the VM up: a kick (EINTR) while
 * the VM ends drops the rest of the line. */
static void write_all(const struct vm *vm, int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR && !vm_is_ending(vm))
			continue;
		if (w <= 0)
			return; /* stdout gone: the guest's output is lost, the VM goes on */
		p += w;
		n -= (size_t)w;
	}
}

/* Write this vCPU's buffered line as one write, under the output lock, so two
 * vCPUs' lines never mix. */
void serial_flush(struct vcpu *vcpu)
{
	if (!vcpu->line_len)
		return;
	pthread_mutex_lock(&vcpu->vm->out_lock);
	write_all(vcpu->vm, STDOUT_FILENO, vcpu->line, vcpu->line_len);
	pthread_mutex_unlock(&vcpu->vm->out_lock);
	vcpu->line_len = 0;
}

static int serial_io(struct vcpu *vcpu, void *opaque, uint16_t port, bool is_write,
		     uint8_t *data, uint32_t size)
{
	/* The line control register's divisor latch bit: while the guest sets
	 * the baud rate, writes to the data port are divisor bytes, not text. */
	uint8_t *lcr = opaque;
	unsigned reg = port - COM1_BASE;
	bool dlab = __atomic_load_n(lcr, __ATOMIC_RELAXED) & UART_LCR_DLAB;

	if (!is_write) {
		uint8_t v = 0;
		if (reg == UART_LSR)
			v = UART_LSR_THRE_TEMT;
		else if (reg == UART_IIR)
			v = UART_IIR_NO_INT;
		else if (reg == UART_LCR)
			v = __atomic_load_n(lcr, __ATOMIC_RELAXED);
		memset(data, 0, size);
		data[0] = v;
		return 0;
	}
	if (reg == UART_LCR) {
		__atomic_store_n(lcr, data[0], __ATOMIC_RELAXED);
		return 0;
	}
	if (reg != UART_RBR_THR || dlab)
		return 0; /* line setup, interrupts, modem control: nothing to emulate */

	vcpu->counters.serial_bytes++;
	vcpu->line[vcpu->line_len++] = (char)data[0];
	if (data[0] == '\n' || vcpu->line_len == VMM_SERIAL_LINE_MAX)
		serial_flush(vcpu);
	return 0;
}

/* ---- exit port: outl STATUS ends the VM, vmm exits STATUS & 0xff ---- */

static int exit_port_io(struct vcpu *vcpu, void *opaque, uint16_t port, bool is_write,
			uint8_t *data, uint32_t size)
{
	(void)opaque;
	(void)port;
	(void)size;
	if (!is_write)
		return -EINVAL; /* nothing to read here */
	vm_end(vcpu->vm, data[0], VM_END_GUEST);
	return 0;
}

/* ---- doorbells ---- */

static int64_t ring_doorbell(struct vm *vm, uint64_t a0, uint64_t a1, uint64_t a2)
{
	if (!vm->hn)
		return -ENOSYS; /* a VM without transport */
	return hostnet_doorbell(vm->hn, a0, a1, a2);
}

static int doorbell_pio_io(struct vcpu *vcpu, void *opaque, uint16_t port, bool is_write,
			   uint8_t *data, uint32_t size)
{
	(void)opaque;
	(void)port;
	if (!is_write || size != 4)
		return -EINVAL; /* the doorbell is outl only */
	struct vm *vm = vcpu->vm;
	uint32_t value;
	memcpy(&value, data, sizeof(value));
	vcpu->counters.pio_doorbells++;

	/* The port form carries only a2's low half; the rest is implied. */
	int64_t result = ring_doorbell(vm, vm->mem.ring_gpa, vm->mem.ring_bytes / 4096,
				       (uint64_t)VS_ABI_MAGIC << 32 | value);

	/* The result goes to rax: KVM completes the out instruction on the next
	 * KVM_RUN and keeps the registers we set now.  With sync regs they are
	 * in kvm_run already (two ioctls less per doorbell). */
	if (vm->kvm->cap_sync_regs) {
		vcpu->run->s.regs.regs.rax = (uint64_t)result;
		vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		return 0;
	}
	struct kvm_regs regs;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	regs.rax = (uint64_t)result;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int doorbell_hypercall(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	vcpu->counters.hypercalls++;
	/* KVM forwards only the nr we enabled; check anyway, the rest is for
	 * hostnet to validate (the guest chooses every argument). */
	if (run->hypercall.nr != VS_HC_NR)
		run->hypercall.ret = (uint64_t)(int64_t)-ENOSYS;
	else
		run->hypercall.ret = (uint64_t)ring_doorbell(vcpu->vm, run->hypercall.args[0],
							     run->hypercall.args[1],
							     run->hypercall.args[2]);
	return 0;
}

int devices_register(struct vm *vm)
{
	int r = pio_register(&vm->pio, COM1_BASE, COM1_PORTS, "serial console", serial_io,
			     &vm->serial_lcr);
	if (r == 0)
		r = pio_register(&vm->pio, VS_PORT_EXIT, 4, "exit port", exit_port_io, NULL);
	if (r == 0 && vm->mem.ring)
		r = pio_register(&vm->pio, VS_PORT_DOORBELL, 4, "doorbell port", doorbell_pio_io,
				 NULL);
	return r;
}
