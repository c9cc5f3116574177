/* SPDX-License-Identifier: MIT */
/*
 * Port-I/O device registry: a device claims a port range and gets a callback
 * for every access to it.  Registration happens before the vCPUs start; the
 * lookups afterwards are read-only, so no lock is needed.
 */
#ifndef VMM_PIO_H
#define VMM_PIO_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/*
 * One access of size 1, 2 or 4 bytes.  For a write, data holds the value
 * (little-endian); for a read, the handler fills data.  Returns 0, or -errno
 * to have the access reported as unhandled (the VM ends with VS_EXIT_VM_ERROR).
 * A handler that ends the VM calls vm_end() and returns 0.
 */
typedef int (*pio_handler_fn)(struct vcpu *vcpu, void *opaque, uint16_t port,
			      bool is_write, uint8_t *data, uint32_t size);

struct pio_device {
	uint16_t base;
	uint16_t len;
	const char *name;
	pio_handler_fn fn;
	void *opaque;
};

#define PIO_MAX_DEVICES 16

struct pio_bus {
	struct pio_device devs[PIO_MAX_DEVICES];
	unsigned count;
};

/* Claim [base, base + len).  -EEXIST if it overlaps a device, -ENOSPC if full,
 * -EINVAL for an empty or wrapping range. */
int pio_register(struct pio_bus *bus, uint16_t base, uint16_t len, const char *name,
		 pio_handler_fn fn, void *opaque);

/* The device that owns every byte of [port, port + size), or NULL. */
const struct pio_device *pio_find(const struct pio_bus *bus, uint16_t port, uint32_t size);

#endif /* VMM_PIO_H */
