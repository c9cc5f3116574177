/* SPDX-License-Identifier: MIT */
#include "guest_mem.h"

#include <stddef.h>

bool hn_range_inside(uint64_t base, uint64_t size, uint64_t addr, uint64_t len)
{
	/* addr - base and size - len cannot wrap once the first two tests pass,
	 * and neither can anything else: no sum is ever formed. */
	if (addr < base || len > size)
		return false;
	return addr - base <= size - len;
}

void *hn_gpa_ram(const struct hn_guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m->ram || !hn_range_inside(0, m->ram_bytes, gpa, len))
		return NULL;
	return m->ram + gpa;
}

uint64_t hn_bounce_gpa(const struct hn_guest_mem *m, uint32_t q)
{
	return m->ring_gpa + (uint64_t)q * VS_QUEUE_BYTES + VS_QUEUE_BOUNCE_OFFSET;
}

void *hn_gpa_bounce(const struct hn_guest_mem *m, uint32_t q, uint64_t gpa, uint64_t len)
{
	if (!m->ring || q >= m->nr_queues)
		return NULL;
	uint64_t base = hn_bounce_gpa(m, q);
	if (!hn_range_inside(base, VS_BOUNCE_BYTES, gpa, len))
		return NULL;
	return m->ring + (gpa - m->ring_gpa);
}

struct vs_queue *hn_ring_queue(const struct hn_guest_mem *m, uint32_t q)
{
	return (struct vs_queue *)(m->ring + (uint64_t)q * VS_QUEUE_BYTES);
}
