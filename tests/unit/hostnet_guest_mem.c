/* SPDX-License-Identifier: MIT */
/* Guest-physical address translation: every edge of every range. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "guest_mem.h"

static uint8_t ram[8192];
static uint8_t ring[2 * VS_QUEUE_BYTES];

static struct hn_guest_mem mem(void)
{
	return (struct hn_guest_mem){
		.ram = ram, .ram_bytes = sizeof(ram),
		.ring = ring, .ring_gpa = 1ull << 32, .ring_bytes = 2ull * VS_QUEUE_BYTES,
		.nr_queues = 2,
	};
}

Test(guest_mem, range_inside_edges, .timeout = 10)
{
	cr_assert(hn_range_inside(0, 100, 0, 100));      /* all of it */
	cr_assert(hn_range_inside(0, 100, 99, 1));       /* last byte */
	cr_assert_not(hn_range_inside(0, 100, 100, 1));  /* one past */
	cr_assert_not(hn_range_inside(0, 100, 99, 2));   /* straddles the end */
	cr_assert(hn_range_inside(0, 100, 100, 0));      /* empty, at the end */
	cr_assert_not(hn_range_inside(0, 100, 101, 0));  /* empty, beyond */
	cr_assert(hn_range_inside(0, 100, 0, 0));
	cr_assert_not(hn_range_inside(0, 100, 0, 101));  /* longer than the region */
	cr_assert_not(hn_range_inside(50, 10, 49, 1));   /* before the base */
	cr_assert(hn_range_inside(50, 10, 50, 10));
	cr_assert_not(hn_range_inside(50, 10, 51, 10));
	/* Wrapping: addr + len overflows 2^64 and would look small. */
	cr_assert_not(hn_range_inside(0, 100, UINT64_MAX, 2));
	cr_assert_not(hn_range_inside(0, 100, UINT64_MAX - 10, 20));
	cr_assert_not(hn_range_inside(0, 100, 50, UINT64_MAX));
	cr_assert_not(hn_range_inside(UINT64_MAX - 100, 100, UINT64_MAX - 50, 51)); /* past 2^64 */
	cr_assert(hn_range_inside(UINT64_MAX - 100, 100, UINT64_MAX - 50, 50));
	cr_assert(hn_range_inside(0, UINT64_MAX, 0, UINT64_MAX));
	cr_assert_not(hn_range_inside(0, UINT64_MAX, 1, UINT64_MAX));
}

Test(guest_mem, ram_translation, .timeout = 10)
{
	struct hn_guest_mem m = mem();
	cr_assert_eq(hn_gpa_ram(&m, 0, 1), ram);
	cr_assert_eq(hn_gpa_ram(&m, 0, 0), ram);
	cr_assert_eq(hn_gpa_ram(&m, sizeof(ram) - 1, 1), ram + sizeof(ram) - 1);
	cr_assert_eq(hn_gpa_ram(&m, 100, sizeof(ram) - 100), ram + 100);
	cr_assert_null(hn_gpa_ram(&m, sizeof(ram), 1));
	cr_assert_eq(hn_gpa_ram(&m, sizeof(ram), 0), ram + sizeof(ram)); /* len 0 at the end */
	cr_assert_null(hn_gpa_ram(&m, sizeof(ram) + 1, 0));
	cr_assert_null(hn_gpa_ram(&m, 1, sizeof(ram)));
	cr_assert_null(hn_gpa_ram(&m, UINT64_MAX, 1));
	cr_assert_null(hn_gpa_ram(&m, UINT64_MAX - 4095, 8192)); /* wraps to 4096 */
	cr_assert_null(hn_gpa_ram(&m, 4096, UINT64_MAX));
	cr_assert_null(hn_gpa_ram(&m, m.ring_gpa, 16)); /* the ring slot is not RAM */
	m.ram = NULL;
	cr_assert_null(hn_gpa_ram(&m, 0, 1));
}

Test(guest_mem, bounce_translation, .timeout = 10)
{
	struct hn_guest_mem m = mem();
	uint64_t b0 = hn_bounce_gpa(&m, 0), b1 = hn_bounce_gpa(&m, 1);
	cr_assert_eq(b0, m.ring_gpa + VS_QUEUE_BOUNCE_OFFSET);
	cr_assert_eq(b1, m.ring_gpa + VS_QUEUE_BYTES + VS_QUEUE_BOUNCE_OFFSET);
	cr_assert_eq(hn_gpa_bounce(&m, 0, b0, VS_BOUNCE_BYTES), ring + VS_QUEUE_BOUNCE_OFFSET);
	cr_assert_eq(hn_gpa_bounce(&m, 0, b0 + VS_BOUNCE_BYTES - 1, 1),
		     ring + VS_QUEUE_BOUNCE_OFFSET + VS_BOUNCE_BYTES - 1);
	cr_assert_null(hn_gpa_bounce(&m, 0, b0 - 1, 1));            /* the CQ, just before */
	cr_assert_null(hn_gpa_bounce(&m, 0, b0, VS_BOUNCE_BYTES + 1));
	cr_assert_null(hn_gpa_bounce(&m, 0, b0 + VS_BOUNCE_BYTES, 1)); /* next queue's ctrl */
	cr_assert_null(hn_gpa_bounce(&m, 0, b1, 1));                /* another queue's area */
	cr_assert_not_null(hn_gpa_bounce(&m, 1, b1, 1));
	cr_assert_null(hn_gpa_bounce(&m, 2, b1, 1));                /* no queue 2 */
	cr_assert_null(hn_gpa_bounce(&m, 0, 100, 1));               /* guest RAM */
	cr_assert_null(hn_gpa_bounce(&m, 0, UINT64_MAX, 2));
	cr_assert_eq(hn_ring_queue(&m, 1), (struct vs_queue *)(ring + VS_QUEUE_BYTES));
}
