/* SPDX-License-Identifier: MIT */
#include "serial.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pio.h"
#include "vcpu.h"
#include "virtsocket/abi.h"
#include "vm_end.h"

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
static void write_all(const struct vm_end_state *end, int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR && !vm_is_ending(end))
			continue;
		if (w <= 0)
			return; /* stdout gone: the guest's output is lost, the VM goes on */
		p += w;
		n -= (size_t)w;
	}
}

void serial_flush(struct serial *s, uint32_t index)
{
	struct serial_line *l = &s->lines[index];
	if (!l->len)
		return;
	pthread_mutex_lock(&s->end->out_lock);
	write_all(s->end, STDOUT_FILENO, l->buf, l->len);
	pthread_mutex_unlock(&s->end->out_lock);
	l->len = 0;
}

static void serial_read(const struct serial *s, unsigned reg, uint8_t *data, uint32_t size)
{
	uint8_t v = 0;
	if (reg == UART_LSR)
		v = UART_LSR_THRE_TEMT;
	else if (reg == UART_IIR)
		v = UART_IIR_NO_INT;
	else if (reg == UART_LCR)
		v = __atomic_load_n(&s->lcr, __ATOMIC_RELAXED);
	memset(data, 0, size);
	data[0] = v;
}

static int serial_io(struct vcpu *vcpu, void *opaque, uint16_t port, bool is_write,
		     uint8_t *data, uint32_t size)
{
	struct serial *s = opaque;
	unsigned reg = port - COM1_BASE;
	if (!is_write) {
		serial_read(s, reg, data, size);
		return 0;
	}
	if (reg == UART_LCR) {
		__atomic_store_n(&s->lcr, data[0], __ATOMIC_RELAXED);
		return 0;
	}
	/* The line control register's divisor latch bit: while the guest sets
	 * the baud rate, writes to the data port are divisor bytes, not text. */
	bool dlab = __atomic_load_n(&s->lcr, __ATOMIC_RELAXED) & UART_LCR_DLAB;
	if (reg != UART_RBR_THR || dlab)
		return 0; /* line setup, interrupts, modem control: nothing to emulate */

	struct serial_line *l = &s->lines[vcpu->index];
	vcpu->counters.serial_bytes++;
	l->buf[l->len++] = (char)data[0];
	if (data[0] == '\n' || l->len == VMM_SERIAL_LINE_MAX)
		serial_flush(s, vcpu->index);
	return 0;
}

int serial_register(struct serial *s, struct pio_bus *bus, struct vm_end_state *end,
		    uint32_t nr_vcpus)
{
	*s = (struct serial){ .end = end, .nr_lines = nr_vcpus };
	s->lines = calloc(nr_vcpus ? nr_vcpus : 1, sizeof(*s->lines));
	if (!s->lines)
		return -ENOMEM;
	return pio_register(bus, COM1_BASE, COM1_PORTS, "serial console", serial_io, s);
}

void serial_destroy(struct serial *s)
{
	free(s->lines);
	s->lines = NULL;
	s->nr_lines = 0;
}
