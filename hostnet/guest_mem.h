/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical address translation.  Every pointer hostnet derives from a
 * guest-supplied address goes through here: the range [gpa, gpa + len) must
 * lie entirely inside one region (guest RAM, or one queue's bounce area),
 * computed without ever forming gpa + len (which could wrap past 2^64).
 */
#ifndef VS_HOSTNET_GUEST_MEM_H
#define VS_HOSTNET_GUEST_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include "virtsocket/abi.h"

struct hn_guest_mem {
	uint8_t *ram;        /* host mapping of GPA [0, ram_bytes) */
	uint64_t ram_bytes;
	uint8_t *ring;       /* host mapping of GPA [ring_gpa, ring_gpa + ring_bytes) */
	uint64_t ring_gpa;
	uint64_t ring_bytes;
	uint32_t nr_queues;
};

/* Is [addr, addr + len) inside [base, base + size)?  Overflow-safe for any
 * inputs; len 0 is inside when base <= addr <= base + size. */
bool hn_range_inside(uint64_t base, uint64_t size, uint64_t addr, uint64_t len);

/* Host pointer for guest RAM [gpa, gpa + len), or NULL if any byte is outside. */
void *hn_gpa_ram(const struct hn_guest_mem *m, uint64_t gpa, uint64_t len);

/* Host pointer for [gpa, gpa + len) inside queue q's bounce area, or NULL. */
void *hn_gpa_bounce(const struct hn_guest_mem *m, uint32_t q, uint64_t gpa, uint64_t len);

/* GPA of queue q's bounce area (q < nr_queues). */
uint64_t hn_bounce_gpa(const struct hn_guest_mem *m, uint32_t q);

/* Host view of queue q in the ring slot (q < nr_queues). */
struct vs_queue *hn_ring_queue(const struct hn_guest_mem *m, uint32_t q);

#endif
