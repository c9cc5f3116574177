/* SPDX-License-Identifier: MIT */
/* The per-VM socket handle table: allocation, lookup, reuse, limit, EBADF. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/socket.h>

#include "handle_table.h"
#include "sock.h"

static struct hn_sock *new_sock(void)
{
	struct hn_sock *s = hn_sock_new(-1, SOCK_STREAM);
	cr_assert_not_null(s);
	return s;
}

Test(handles, alloc_lookup_remove, .timeout = 10)
{
	struct hn_handle_table *t;
	cr_assert_eq(hn_handles_create(8, &t), 0);
	struct hn_sock *a = new_sock(), *b = new_sock();
	uint32_t ha, hb;
	cr_assert_eq(hn_handles_add(t, a, &ha), 0);
	cr_assert_eq(hn_handles_add(t, b, &hb), 0);
	cr_assert_neq(ha, hb);
	cr_assert(ha != 0 && (int32_t)ha > 0 && (int32_t)hb > 0, "handles are positive ints");
	cr_assert_eq(a->handle, ha);
	cr_assert_eq(hn_handles_count(t), 2);

	struct hn_sock *g = hn_handles_get(t, ha);
	cr_assert_eq(g, a);
	cr_assert_eq(atomic_load(&a->refs), 2);
	hn_sock_put(g);

	cr_assert_null(hn_handles_get(t, 0));
	/* 8 slots: 3 slot bits, the generation above them */
	cr_assert_null(hn_handles_get(t, ha ^ 0x8)); /* right slot, wrong generation */
	cr_assert_null(hn_handles_get(t, 0xffffffffu));
	cr_assert_null(hn_handles_get(t, (ha & ~7u) | 7)); /* free slot */

	cr_assert_null(hn_handles_remove(t, ha, b), "remove checks the expected socket");
	cr_assert_eq(hn_handles_remove(t, ha, a), a);
	cr_assert_null(hn_handles_get(t, ha), "closed handle -> EBADF");
	cr_assert_null(hn_handles_remove(t, ha, NULL), "double close");
	cr_assert_eq(hn_handles_count(t), 1);
	hn_sock_put(a);
	hn_sock_put(hn_handles_remove(t, hb, NULL));
	hn_handles_destroy(t);
}

Test(handles, limit_then_reuse_with_new_generation, .timeout = 10)
{
	struct hn_handle_table *t;
	cr_assert_eq(hn_handles_create(4, &t), 0);
	struct hn_sock *s[5];
	uint32_t h[5];
	for (int i = 0; i < 4; i++) {
		s[i] = new_sock();
		cr_assert_eq(hn_handles_add(t, s[i], &h[i]), 0);
	}
	s[4] = new_sock();
	cr_assert_eq(hn_handles_add(t, s[4], &h[4]), -EMFILE);

	/* Free one: the slot comes back, under a different handle. */
	hn_sock_put(hn_handles_remove(t, h[1], NULL));
	cr_assert_eq(hn_handles_add(t, s[4], &h[4]), 0);
	cr_assert_eq(hn_handles_slot(t, h[4]), hn_handles_slot(t, h[1]), "same slot");
	cr_assert_neq(h[4], h[1], "new generation");
	cr_assert_null(hn_handles_get(t, h[1]), "the stale handle stays invalid");
	struct hn_sock *g = hn_handles_get(t, h[4]);
	cr_assert_eq(g, s[4]);
	hn_sock_put(g);

	uint32_t n = 0;
	struct hn_sock *snap[8];
	n = hn_handles_snapshot(t, snap, 8);
	cr_assert_eq(n, 4);
	for (uint32_t i = 0; i < n; i++) {
		cr_assert_eq(atomic_load(&snap[i]->refs), 2);
		hn_sock_put(snap[i]);
	}
	for (int i = 0; i < 5; i++)
		if (i != 1)
			hn_sock_put(hn_handles_remove(t, h[i], NULL));
	cr_assert_eq(hn_handles_count(t), 0);
	hn_handles_destroy(t);
}

Test(handles, freed_slots_are_reused_oldest_first, .timeout = 10)
{
	struct hn_handle_table *t;
	cr_assert_eq(hn_handles_create(3, &t), 0);
	uint32_t h[3], n;
	for (int i = 0; i < 3; i++)
		cr_assert_eq(hn_handles_add(t, new_sock(), &h[i]), 0);
	hn_sock_put(hn_handles_remove(t, h[2], NULL));
	hn_sock_put(hn_handles_remove(t, h[0], NULL));
	cr_assert_eq(hn_handles_add(t, new_sock(), &n), 0);
	cr_assert_eq(hn_handles_slot(t, n), hn_handles_slot(t, h[2]),
		     "the slot freed first comes back first");
	hn_sock_put(hn_handles_remove(t, n, NULL));
	hn_sock_put(hn_handles_remove(t, h[1], NULL));
	hn_handles_destroy(t);
}

/* Past the old 15-bit generation: one slot gets 31 bits of them (retirement
 * of a used-up slot: hostnet_hostile.c). */
Test(handles, generations_stay_positive_nonzero_and_new, .timeout = 10)
{
	struct hn_handle_table *t;
	cr_assert_eq(hn_handles_create(1, &t), 0);
	uint32_t first = 0, h;
	for (int i = 0; i < 0x8000 + 3; i++) {
		cr_assert_eq(hn_handles_add(t, new_sock(), &h), 0);
		if (i == 0)
			first = h;
		cr_assert(h != 0 && (int32_t)h > 0, "handle %#x", h);
		if (i > 0)
			cr_assert_neq(h, first);
		hn_sock_put(hn_handles_remove(t, h, NULL));
	}
	hn_handles_destroy(t);
}

Test(handles, create_rejects_bad_sizes, .timeout = 10)
{
	struct hn_handle_table *t;
	cr_assert_eq(hn_handles_create(0, &t), -EINVAL);
	cr_assert_eq(hn_handles_create(65536, &t), -EINVAL);
	cr_assert_eq(hn_handles_create(65535, &t), 0);
	hn_handles_destroy(t);
}
