/* SPDX-License-Identifier: MIT */
/*
 * The COM1 serial console (an 8250 that is always ready to send).  Output is
 * line buffered per vCPU, so that two vCPUs' lines never mix: a line goes
 * out as one write, under the VM's output lock, at '\n', when it reaches
 * VMM_SERIAL_LINE_MAX, or at the end (serial_flush()).
 */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H

#include <stdint.h>

#define VMM_SERIAL_LINE_MAX 1024 /* longer lines are written in pieces */

struct pio_bus;
struct vm_end_state;

struct serial_line {
	char buf[VMM_SERIAL_LINE_MAX];
	uint32_t len;
};

struct serial {
	uint8_t lcr;                /* line control register */
	struct vm_end_state *end;   /* output lock; a VM that ends stops a stuck write */
	struct serial_line *lines;  /* one per vCPU: its unfinished line */
	uint32_t nr_lines;
};

/* One line buffer per vCPU, and the ports.  0 or -errno. */
int serial_register(struct serial *s, struct pio_bus *bus, struct vm_end_state *end,
		    uint32_t nr_vcpus);
/* Write out vCPU index's unfinished line (its thread joined or itself). */
void serial_flush(struct serial *s, uint32_t index);
void serial_destroy(struct serial *s);

#endif /* VMM_SERIAL_H */
