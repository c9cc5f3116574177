/* SPDX-License-Identifier: MIT */
/*
 * How big a batch a crowded wait asks for (guest-lib/src/crowd_batch.h): k
 * doubles while batches come quickly, a timeout sets it to what came and
 * holds it for 1, 2, 4 ... waits on timeouts in a row, and the ask stays
 * within [need, a quarter of the requests with the host, VS_CROWD_BATCH_MAX].
 * The policy alone here; guestlib_sched.c has a guest under it.
 */
#include <criterion/criterion.h>

#include "../../guest-lib/src/crowd_batch.h"

#define FAST_NS 100000ull                       /* a batch within 0.1 ms */
#define SLOW_NS (VS_CROWD_BATCH_MS * 1000000ull / 2) /* half the limit */

/* One crowded wait for one completion, against a host that always brings
 * `comes` completions within FAST_NS. */
static uint32_t one_wait(struct vs_crowd_batch *b, uint64_t in_flight, uint32_t comes)
{
	uint32_t ask = vs_crowd_batch_ask(b, 1, in_flight);
	uint32_t got = comes < ask ? comes : ask;
	if (ask == 1)
		vs_crowd_batch_note_plain(b, got, FAST_NS);
	else
		vs_crowd_batch_note(b, ask, got, got < ask ? SLOW_NS * 2 : FAST_NS);
	return ask;
}

Test(guestlib_crowd_batch, a_loaded_server_grows_its_batch_to_the_cap)
{
	struct vs_crowd_batch b = { 0 };
	uint32_t ask = 0;
	for (int i = 0; i < 20; i++)
		ask = one_wait(&b, 4000, 100000);
	cr_assert_eq(ask, VS_CROWD_BATCH_MAX, "asked for %u after 20 quick batches", ask);
	for (int i = 0; i < 20; i++)
		ask = one_wait(&b, 100, 100000);
	cr_assert_eq(ask, 25, "100 requests with the host: asked for %u, not a quarter", ask);
}

Test(guestlib_crowd_batch, slow_batches_do_not_grow)
{
	struct vs_crowd_batch b = { .k = 8 };
	for (int i = 0; i < 10; i++)
		vs_crowd_batch_note(&b, 8, 8, SLOW_NS);
	cr_assert_eq(vs_crowd_batch_ask(&b, 1, 1000), 8);
}

Test(guestlib_crowd_batch, a_timeout_takes_what_came)
{
	struct vs_crowd_batch b = { .k = 64 };
	vs_crowd_batch_note(&b, 64, 10, SLOW_NS * 2);
	cr_assert_eq(vs_crowd_batch_ask(&b, 1, 1000), 10);
	vs_crowd_batch_note(&b, 10, 0, SLOW_NS * 2); /* nothing came: a plain WAIT next */
	cr_assert_eq(vs_crowd_batch_ask(&b, 1, 1000), 1);
}

Test(guestlib_crowd_batch, the_ask_is_never_below_the_need)
{
	struct vs_crowd_batch b = { .k = 4 };
	cr_assert_eq(vs_crowd_batch_ask(&b, 9, 1000), 9);
	cr_assert_eq(vs_crowd_batch_ask(&b, 9, 16), 9);
}

/* A lone client among idle connections: each request waits for the response
 * to the one before, so a batch of 2 never comes whole and times out.  The
 * timeouts space out: 1, 2, 4 ... waits held at k = 1 between them, so 1,000
 * requests pay about 9 timeouts, not 500. */
Test(guestlib_crowd_batch, a_lone_client_times_out_ever_more_rarely)
{
	struct vs_crowd_batch b = { 0 };
	unsigned timeouts = 0;
	for (int i = 0; i < 1000; i++)
		if (one_wait(&b, 1000, 1) > 1)
			timeouts++; /* asked for a batch that one completion cannot fill */
	cr_assert_leq(timeouts, 12, "%u timeouts in 1,000 lone requests", timeouts);
	cr_assert_geq(timeouts, 1);
}

/* A batch that came whole ends a run of timeouts: the next timeout holds k
 * for one wait again. */
Test(guestlib_crowd_batch, a_whole_batch_ends_the_run_of_timeouts)
{
	struct vs_crowd_batch b = { .k = 4 };
	for (int i = 0; i < 5; i++) {
		vs_crowd_batch_note(&b, 4, 1, SLOW_NS * 2);
		b.k = 4;
		b.hold = 0;
	}
	vs_crowd_batch_note(&b, 4, 4, SLOW_NS);
	vs_crowd_batch_note(&b, 4, 1, SLOW_NS * 2);
	cr_assert_eq(b.hold, 1);
}
