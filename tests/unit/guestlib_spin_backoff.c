/* SPDX-License-Identifier: MIT */
/*
 * The adaptive wait's spin backoff (guest-lib/src/spin_backoff.h): misses
 * in a row make the next waits go straight to WAIT, 0 after the first, then
 * 1, 2, 4 ... up to VS_SPIN_BACKOFF_MAX of them; a spin that pays starts
 * over.  The policy
 * alone here; guestlib_sched.c has a guest under it against a slow peer.
 */
#include <criterion/criterion.h>

#include "../../guest-lib/src/spin_backoff.h"

/* Waits that skip their spin before the next one may spin. */
static unsigned skipped_before_next_spin(struct vs_spin_backoff *b)
{
	unsigned n = 0;
	while (!vs_spin_backoff_allows(b))
		n++;
	return n;
}

Test(guestlib_spin_backoff, a_calm_host_never_skips)
{
	struct vs_spin_backoff b = { 0 };
	for (int i = 0; i < 1000; i++) {
		cr_assert(vs_spin_backoff_allows(&b), "wait %d skipped its spin", i);
		vs_spin_backoff_note(&b, VS_SPIN_PAID);
	}
}

Test(guestlib_spin_backoff, misses_double_the_skips_up_to_the_max)
{
	struct vs_spin_backoff b = { 0 };
	unsigned expect = 0;
	for (int i = 0; i < 14; i++) {
		cr_assert(vs_spin_backoff_allows(&b));
		vs_spin_backoff_note(&b, VS_SPIN_MISSED);
		cr_assert_eq(skipped_before_next_spin(&b), expect, "miss %d", i + 1);
		expect = expect == 0 ? 1
			: expect * 2 > VS_SPIN_BACKOFF_MAX ? VS_SPIN_BACKOFF_MAX : expect * 2;
	}
}

Test(guestlib_spin_backoff, a_paying_spin_starts_over)
{
	struct vs_spin_backoff b = { 0 };
	for (int i = 0; i < 5; i++) { /* skips 0, 1, 2, 4, 8 */
		vs_spin_backoff_note(&b, VS_SPIN_MISSED);
		skipped_before_next_spin(&b);
	}
	vs_spin_backoff_note(&b, VS_SPIN_PAID);
	cr_assert(vs_spin_backoff_allows(&b), "a paying spin left skips behind");
	vs_spin_backoff_note(&b, VS_SPIN_MISSED);
	cr_assert_eq(skipped_before_next_spin(&b), 0, "the count did not start over");
	vs_spin_backoff_note(&b, VS_SPIN_MISSED);
	cr_assert_eq(skipped_before_next_spin(&b), 1, "the count did not start over");
}

/* A calm host's rare long round trip: one miss between paying spins. */
Test(guestlib_spin_backoff, a_lone_miss_skips_nothing)
{
	struct vs_spin_backoff b = { 0 };
	for (int i = 0; i < 100; i++) {
		vs_spin_backoff_note(&b, i % 10 == 5 ? VS_SPIN_MISSED : VS_SPIN_PAID);
		cr_assert(vs_spin_backoff_allows(&b), "wait %d skipped its spin", i + 1);
	}
}

Test(guestlib_spin_backoff, neutral_ends_change_nothing)
{
	struct vs_spin_backoff b = { 0 };
	vs_spin_backoff_note(&b, VS_SPIN_NEUTRAL);
	cr_assert(vs_spin_backoff_allows(&b));
	vs_spin_backoff_note(&b, VS_SPIN_MISSED); /* skips 0, 1, then 2 */
	vs_spin_backoff_note(&b, VS_SPIN_MISSED);
	cr_assert_eq(skipped_before_next_spin(&b), 1);
	vs_spin_backoff_note(&b, VS_SPIN_NEUTRAL); /* a deadline: neither way */
	cr_assert(vs_spin_backoff_allows(&b));
	vs_spin_backoff_note(&b, VS_SPIN_MISSED);
	cr_assert_eq(skipped_before_next_spin(&b), 2, "a neutral end reset the count");
}
