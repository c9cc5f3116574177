/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the VMM's side of hostnet's link page (hostnet/link.h)
 * against a hostile worker process.  The page is MAP_SHARED with the jailed
 * worker process (vmm/worker_proc.h), so everything in it is that process's
 * word: per queue cq_tail, the broken flag, the futex word seq and the
 * waiters count; the start state and start_err; the final statistics.  The
 * fuzzer's bytes play that process (and the guest's ring words beside it),
 * interleaved with the VMM's calls that read the page:
 *   - hostnet_link_doorbell(): SUBMIT, WAIT (any wait_ms), bad arguments;
 *   - hostnet_link_stop(), as the VMM's main thread does when the VM ends;
 *   - worker_proc_start_state(), the start check before any vCPU runs;
 *   - hostnet_link_get_stats() and the vmm's --stats table and --stats-json.
 * Nothing else crosses from the worker process to the VMM: the eventfds
 * carry kicks and the quit word the other way, and the exit status comes
 * from waitid(), not from the page.  The ring's cq_tail is the worker's own
 * store into the ring slot; the VMM never copies it there.
 *
 * A WAIT sleeps in futex(): this target replaces syscall() and
 * clock_gettime() for the VMM's calls (a fake futex, and a clock that stands
 * still unless the input lets time pass), so an input never sleeps.  Each
 * time the VMM would sleep, the next operations of the input run
 * "meanwhile" in the worker process, and the input says how the sleep ends:
 * woken, a signal, or time passes beyond the deadline; the fake futex then
 * answers as the kernel would (EAGAIN if seq moved, ETIMEDOUT once past).
 *
 * Not only crashes (ASan, UBSan): after each call it checks what the VMM
 * promises whatever the worker does (check_doorbell and friends): a count
 * is what cq_tail - cq_head says and within one CQ, -EIO only for a broken
 * queue or a count out of reach, -EINTR only once stopped, fewer than
 * wait_min or -ETIMEDOUT only when the time is up; a WAIT ends within a
 * sleep of its deadline or of a stop; it sleeps only on its queue's word;
 * the VMM writes nothing in the ring but clearing NEED_WAKEUP; its own
 * doorbell counters are its own in the statistics and the JSON; the start
 * check says ready only for READY and fails only with a real -errno.
 *
 * Input: u8 queues-1, u8 workers-1, then operations until the input ends:
 *   0 POKE   u16 word u32 value     any 32-bit word of the page
 *   1 FILL   u8 byte                the whole page
 *   2 TAIL   u8 queue u32 delta     cq_tail = the guest's cq_head + delta
 *   3 BROKEN u8 queue u32 value
 *   4 SEQ    u8 queue u8 n          seq += n (a wake-up, real or not)
 *   5 GUEST  u8 queue u32 cq_head u32 wait_min u8 flags   (the guest's ctrl words)
 *   6 RING   u8 queue u8 kind u16 wait_ms   a doorbell; kind bits 0-1 SUBMIT/WAIT,
 *            bits 2-4: 4 bad magic, 5 bad a0, 6 bad a1, 7 an unknown flag
 *   7 STOP   8 START   9 STATS
 * Inside a sleep, 0-5 and 7 run as the worker's (or main thread's) moves
 * and any other byte ends the sleep: then u8 how (0 time passes, 1 woken,
 * 2 signal).  An input that runs out mid-sleep lets the time pass (a WAIT
 * without a deadline: the VM ends, hostnet_link_stop()).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "stats.h"
#include "worker_proc.h"

#define FUZZ_QUEUES   8u             /* ring slot queues this target maps */
#define FUZZ_RING_GPA (1ull << 32)
/* One doorbell's sleeps: far more than any input's bytes can ask for. */
#define FUZZ_MAX_SLEEPS 100000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void broken(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz_link: invariant broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* ---- the input --------------------------------------------------------- */

struct reader {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct reader *r, size_t n) /* n <= 8, little endian */
{
	uint64_t v = 0;
	for (size_t i = 0; i < n && r->left; i++, r->left--)
		v |= (uint64_t)*r->p++ << (8 * i);
	return v;
}

/* ---- one input's world -------------------------------------------------- */

static uint8_t *ring;                                 /* FUZZ_QUEUES queues */
static struct vs_queue_ctrl shadow[FUZZ_QUEUES];     /* what the ctrl pages must hold */

static struct {
	struct reader in;
	struct hostnet_link *l;
	uint32_t nr_queues;
	uint64_t doorbells, doorbells_bad;  /* the VMM's calls, as counted here */
	bool stopped;
	/* The doorbell under way (the fake futex's view). */
	uint32_t queue;
	unsigned sleeps, sleeps_after_end;
	bool ended;                         /* its deadline passed, or the link stopped */
	bool timed_out;                     /* its deadline passed */
	bool cleared;                       /* NEED_WAKEUP cleared in the shadow */
	uint64_t now_ns;                    /* CLOCK_MONOTONIC during a call (only a
	                                       sleep's "time passes" moves it) */
} w;

/* A VMM call is under way on this thread: the fakes below answer it
 * (libFuzzer's own threads and clock stay real). */
static _Thread_local bool in_call;

static struct vs_queue_ctrl *ctrl(uint32_t q)
{
	return (struct vs_queue_ctrl *)(ring + (uint64_t)q * VS_QUEUE_BYTES);
}

/* ---- the fake clock and futex (only during the VMM's calls) -------------- */

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static long (*real_syscall)(long, ...);

static void *real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (!f)
		broken("dlsym(%s) found nothing", name);
	return f;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	if (!__atomic_load_n(&real_clock_gettime, __ATOMIC_ACQUIRE))
		__atomic_store_n(&real_clock_gettime, real("clock_gettime"), __ATOMIC_RELEASE);
	if (id != CLOCK_MONOTONIC || !in_call)
		return real_clock_gettime(id, ts);
	/* Frozen: a host too busy to run this input at once must not make a
	 * WAIT time out that the input did not let time out. */
	ts->tv_sec = (time_t)(w.now_ns / 1000000000u);
	ts->tv_nsec = (long)(w.now_ns % 1000000000u);
	return 0;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

static void poke32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_SEQ_CST);
}

static void guest_write(uint32_t q, uint32_t cq_head, uint32_t wait_min, uint32_t flags)
{
	if (q >= FUZZ_QUEUES)
		return;
	struct vs_queue_ctrl *c = ctrl(q);
	poke32(&c->cq_head, cq_head);
	poke32(&c->wait_min, wait_min);
	poke32(&c->flags, flags);
	shadow[q].cq_head = cq_head;
	shadow[q].wait_min = wait_min;
	shadow[q].flags = flags;
}

static void stop(void)
{
	hostnet_link_stop(w.l);
	w.stopped = true;
	if (in_call)
		w.ended = true;
}

/* One move of the worker process (or of the guest, or of the VMM's main
 * thread for STOP).  false: op is none of those. */
static bool worker_move(uint8_t op)
{
	struct hn_link_shared *sh = w.l->sh;
	uint32_t q;
	switch (op) {
	case 0: {
		uint64_t word = take(&w.in, 2) % (sizeof(*sh) / 4);
		poke32((uint32_t *)sh + word, (uint32_t)take(&w.in, 4));
		return true;
	}
	case 1:
		memset(sh, (int)take(&w.in, 1), sizeof(*sh));
		return true;
	case 2:
		q = take(&w.in, 1) % VS_MAX_QUEUES;
		poke32(&sh->q[q].cq_tail, (q < FUZZ_QUEUES ? shadow[q].cq_head : 0) +
						  (uint32_t)take(&w.in, 4));
		return true;
	case 3:
		q = take(&w.in, 1) % VS_MAX_QUEUES;
		poke32(&sh->q[q].broken, (uint32_t)take(&w.in, 4));
		return true;
	case 4:
		q = take(&w.in, 1) % VS_MAX_QUEUES;
		atomic_fetch_add(&sh->q[q].seq, (unsigned)take(&w.in, 1));
		return true;
	case 5: {
		q = (uint32_t)take(&w.in, 1);
		uint32_t head = (uint32_t)take(&w.in, 4), min = (uint32_t)take(&w.in, 4);
		guest_write(q, head, min, (uint32_t)take(&w.in, 1) & 7u);
		return true;
	}
	case 7:
		stop();
		return true;
	}
	return false;
}

enum { SLEEP_TIME_PASSES, SLEEP_WOKEN, SLEEP_SIGNAL };

/* A valid doorbell clears its queue's NEED_WAKEUP before it kicks the
 * worker, so before a WAIT's first sleep: what the shadow expects from then on. */
static void expect_need_wakeup_cleared(void)
{
	if (!w.cleared)
		shadow[w.queue].flags &= ~VS_QF_NEED_WAKEUP;
	w.cleared = true;
}

static long fake_futex_wait(uint32_t *word, uint32_t val, const struct timespec *deadline)
{
	if (w.queue >= VS_MAX_QUEUES || word != (uint32_t *)&w.l->sh->q[w.queue].seq)
		broken("a WAIT on queue %u slept on another word (%p)", w.queue, (void *)word);
	if (++w.sleeps > FUZZ_MAX_SLEEPS)
		broken("a WAIT slept %u times in one doorbell", w.sleeps);
	expect_need_wakeup_cleared();
	if (w.ended && ++w.sleeps_after_end > 1)
		broken("a WAIT slept %u more times after its deadline passed or the link "
		       "stopped", w.sleeps_after_end);
	/* Meanwhile, in the worker process... */
	int how = SLEEP_TIME_PASSES;
	while (w.in.left) {
		uint8_t op = (uint8_t)take(&w.in, 1);
		if (!worker_move(op)) {
			how = (int)(take(&w.in, 1) % 3);
			break;
		}
	}
	if (how == SLEEP_TIME_PASSES) {
		if (deadline) {
			if (ts_ns(deadline) >= w.now_ns)
				w.now_ns = ts_ns(deadline) + 1;
			w.ended = w.timed_out = true;
		} else {
			stop(); /* no deadline: the VM ends */
		}
	}
	/* What the kernel would say. */
	if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != val) {
		errno = EAGAIN;
		return -1;
	}
	if (how == SLEEP_TIME_PASSES && deadline) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (how == SLEEP_SIGNAL) {
		errno = EINTR;
		return -1;
	}
	return 0;
}

long syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_futex && in_call) {
		int cmd = (int)a[1] & FUTEX_CMD_MASK;
		if (cmd == FUTEX_WAKE)
			return 0; /* nobody else sleeps here */
		if (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET)
			return fake_futex_wait((uint32_t *)a[0], (uint32_t)a[2],
					       (const struct timespec *)a[3]);
		broken("the VMM's futex op %d is not modelled here", cmd);
	}
	if (!__atomic_load_n(&real_syscall, __ATOMIC_ACQUIRE))
		__atomic_store_n(&real_syscall, real("syscall"), __ATOMIC_RELEASE);
	return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ---- the VMM's calls and what they promise ------------------------------ */

static void check_ring(void)
{
	for (uint32_t q = 0; q < FUZZ_QUEUES; q++)
		if (memcmp(ctrl(q), &shadow[q], sizeof(shadow[q])))
			broken("the VMM changed queue %u's ring words beyond NEED_WAKEUP", q);
}

static void check_doorbell(uint32_t q, uint32_t flags, uint32_t wait_ms, uint32_t min,
			   bool was_stopped, int64_t r)
{
	const struct hn_link_queue *lq = &w.l->sh->q[q];
	uint32_t used = atomic_load(&lq->cq_tail) - shadow[q].cq_head;
	bool wait = flags & VS_DB_WAIT, time_up = wait_ms == 0 || w.ended;
	if (r >= 0) {
		if (r > VS_CQ_ENTRIES || (uint64_t)r != used || atomic_load(&lq->broken))
			broken("doorbell on queue %u returned %" PRId64 " with cq_tail - "
			       "cq_head = %u, broken %u", q, r, used, atomic_load(&lq->broken));
		if (wait && r < min && !time_up)
			broken("WAIT returned %" PRId64 " < wait_min %u before its time", r, min);
		return;
	}
	if (r == -EIO) {
		if (!atomic_load(&lq->broken) && used <= VS_CQ_ENTRIES)
			broken("-EIO on queue %u, neither broken nor out of reach (%u)", q, used);
	} else if (r == -EINTR) {
		if (!wait || !w.stopped)
			broken("-EINTR on queue %u but the link was not stopped", q);
	} else if (r == -ETIMEDOUT) {
		if (!wait || !time_up)
			broken("-ETIMEDOUT on queue %u before its %u ms", q, wait_ms);
	} else {
		broken("doorbell on queue %u returned %" PRId64, q, r);
	}
	if (wait && was_stopped && r != -EINTR)
		broken("a WAIT after the stop returned %" PRId64 ", not -EINTR", r);
}

/* The VMM's own count of time its WAITs slept, all queues. */
static uint64_t link_wait_ns(struct hostnet_link *l)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < l->nr_queues; i++)
		sum += atomic_load(&l->qc[i].wait_ns);
	return sum;
}

static void op_ring(void)
{
	uint32_t q = (uint32_t)take(&w.in, 1), kind = (uint32_t)take(&w.in, 1);
	uint32_t wait_ms = (uint32_t)take(&w.in, 2), flags = kind & VS_DB_FLAGS_MASK;
	uint32_t bad = (kind >> 2) & 7u;
	uint64_t a0 = FUZZ_RING_GPA, a1 = (uint64_t)w.nr_queues * VS_QUEUE_BYTES / 4096;
	uint64_t a2 = VS_DB_ARG(q, flags, wait_ms);
	if (bad == 4)
		a2 ^= 1ull << 40;
	if (bad == 5)
		a0 += 4096;
	if (bad == 6)
		a1++;
	if (bad == 7)
		a2 |= 0x80;
	bool valid = bad < 4 && q < w.nr_queues;
	uint32_t min = 0;
	if (valid) {
		min = shadow[q].wait_min ? shadow[q].wait_min : 1;
		min = min > VS_CQ_ENTRIES ? VS_CQ_ENTRIES : min;
	}
	bool was_stopped = w.stopped;
	w.doorbells++;
	w.doorbells_bad += !valid;
	w.queue = q;
	w.sleeps = w.sleeps_after_end = 0;
	w.ended = w.timed_out = w.cleared = false;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t); /* the real one: not in a call yet */
	w.now_ns = ts_ns(&t);
	in_call = true;
	uint64_t waited = link_wait_ns(w.l);
	int64_t r = hostnet_link_doorbell(w.l, a0, a1, a2);
	in_call = false;
	/* The VMM's own clock says how long this vCPU waited (this also shows
	 * that the stand-in clock is the one the library reads). */
	waited = link_wait_ns(w.l) - waited;
	if (w.timed_out && waited < (uint64_t)wait_ms * 1000000u)
		broken("a WAIT of %u ms that timed out counted %" PRIu64 " ns", wait_ms, waited);
	if (!valid) {
		if (r != -EINVAL)
			broken("bad doorbell arguments (%u) returned %" PRId64, bad, r);
	} else {
		expect_need_wakeup_cleared();
		check_doorbell(q, flags, wait_ms, min, was_stopped, r);
	}
	check_ring();
}

static void op_start(void)
{
	const struct hn_link_shared *sh = w.l->sh;
	unsigned st = atomic_load(&sh->state);
	int r = worker_proc_start_state(sh);
	if (r == 0 ? st != HN_LINK_READY : r == 1 ? st == HN_LINK_READY || st == HN_LINK_FAILED
						  : st != HN_LINK_FAILED || r < -4095 || r > -1)
		broken("start state %u, start_err %d: worker_proc_start_state() said %d", st,
		       atomic_load(&sh->start_err), r);
	if (r < 0 && !strerror(-r)[0]) /* what the VMM then prints */
		broken("no message for %d", r);
}

/* The report must hold the VMM's own doorbell counters, as the key and
 * value this line names, and be whole. */
static void check_report(const char *text, size_t len, const char *line, const char *end)
{
	if (strlen(text) != len || !strstr(text, line))
		broken("the statistics lack \"%s\":\n%s", line, text);
	size_t e = strlen(end);
	if (len < e || memcmp(text + len - e, end, e))
		broken("the statistics do not end as they should:\n%s", text);
}

static void op_stats(void)
{
	const struct hn_link_shared *sh = w.l->sh;
	bool valid = atomic_load(&sh->stats_valid);
	struct hostnet_stats st;
	hostnet_link_get_stats(w.l, &st);
	if (st.doorbells != w.doorbells || st.doorbells_bad != w.doorbells_bad)
		broken("statistics say %" PRIu64 " doorbells, %" PRIu64 " bad; the VMM rang "
		       "%" PRIu64 ", %" PRIu64 " bad", st.doorbells, st.doorbells_bad,
		       w.doorbells, w.doorbells_bad);
	if (st.requests != (valid ? sh->worker_stats.requests : 0))
		broken("statistics: requests %" PRIu64 " is not the worker's word", st.requests);

	struct vmm_stats s = { .host_kind = "kvm", .doorbell = "hypercall", .cpus = 1,
			       .ram_bytes = 1u << 20, .have_hostnet = true, .hostnet = st };
	char *text;
	size_t len;
	char line[64];
	FILE *f = open_memstream(&text, &len);
	if (!f)
		abort();
	stats_print_json(f, &s);
	fclose(f);
	snprintf(line, sizeof(line), "\n    \"doorbells\": %" PRIu64 ",\n", w.doorbells);
	check_report(text, len, line, "]\n  }\n}\n");
	free(text);

	f = open_memstream(&text, &len);
	if (!f)
		abort();
	stats_print(f, &s);
	fclose(f);
	snprintf(line, sizeof(line), "\n    %-20s %" PRIu64 "\n", "doorbells", w.doorbells);
	check_report(text, len, line, "\n");
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ring) {
		ring = mmap(NULL, FUZZ_QUEUES * VS_QUEUE_BYTES, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (ring == MAP_FAILED)
			abort();
	}
	memset(&w, 0, sizeof(w));
	w.in = (struct reader){ data, size };
	w.nr_queues = 1 + (uint32_t)(take(&w.in, 1) % FUZZ_QUEUES);
	uint32_t workers = 1 + (uint32_t)(take(&w.in, 1) % w.nr_queues);
	for (uint32_t q = 0; q < FUZZ_QUEUES; q++)
		memset(ctrl(q), 0, sizeof(struct vs_queue_ctrl));
	memset(shadow, 0, sizeof(shadow));
	if (hostnet_link_create(ring, FUZZ_RING_GPA, (uint64_t)w.nr_queues * VS_QUEUE_BYTES,
				w.nr_queues, workers, &w.l))
		broken("hostnet_link_create(%u queues, %u workers) failed", w.nr_queues, workers);

	while (w.in.left) {
		uint8_t op = (uint8_t)take(&w.in, 1) % 10;
		if (worker_move(op))
			continue;
		if (op == 6)
			op_ring();
		else if (op == 8)
			op_start();
		else
			op_stats();
	}
	op_stats(); /* the report at the VM's end */
	hostnet_link_destroy(w.l);
	return 0;
}
