/* SPDX-License-Identifier: MIT */
#include "pio.h"

#include <errno.h>
#include <stddef.h>

int pio_register(struct pio_bus *bus, uint16_t base, uint16_t len, const char *name,
		 pio_handler_fn fn, void *opaque)
{
	uint32_t end = (uint32_t)base + len;
	if (len == 0 || end > 0x10000 || !fn)
		return -EINVAL;
	for (unsigned i = 0; i < bus->count; i++) {
		const struct pio_device *d = &bus->devs[i];
		if (base < (uint32_t)d->base + d->len && d->base < end)
			return -EEXIST;
	}
	if (bus->count == PIO_MAX_DEVICES)
		return -ENOSPC;
	bus->devs[bus->count++] = (struct pio_device){
		.base = base, .len = len, .name = name, .fn = fn, .opaque = opaque,
	};
	return 0;
}

const struct pio_device *pio_find(const struct pio_bus *bus, uint16_t port, uint32_t size)
{
	for (unsigned i = 0; i < bus->count; i++) {
		const struct pio_device *d = &bus->devs[i];
		if (port >= d->base && (uint32_t)port + size <= (uint32_t)d->base + d->len)
			return d;
	}
	return NULL;
}
