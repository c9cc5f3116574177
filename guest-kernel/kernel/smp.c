/*
 * Application processors and the "run this function there" slot.
 *
 * Each AP comes up on its own, counts itself online and waits for the boot CPU to say
 * whether the program wants it: if not, it parks (HLT, and the vmm stops running it);
 * if so, it polls its work slot.  The slot is a small state machine in struct cpu:
 *
 *   IDLE --smp_run_on (CAS)--> CLAIMED --fn/arg written--> QUEUED --AP--> RUNNING
 *   RUNNING --fn returned--> DONE --smp_wait collects the result--> IDLE
 *   any AP may end in PARKED (smp_park, or the program is single-CPU).
 *
 * Every handoff is a release store matched by an acquire load of work_state.
 */
#include <kernel.h>
#include <errno.h>
#include <stdatomic.h>

enum work_state { WORK_IDLE, WORK_CLAIMED, WORK_QUEUED, WORK_RUNNING, WORK_DONE,
		  WORK_PARKED };
enum ap_policy { AP_UNDECIDED, AP_PARK, AP_SERVE };

static atomic_uint nr_online = 1; /* the boot CPU */
static atomic_int ap_policy = AP_UNDECIDED;

unsigned smp_nr_cpus(void)
{
	uint32_t n = boot_info->nr_cpus;

	return n == 0 ? 1 : n > MAX_CPUS ? MAX_CPUS : n;
}

unsigned smp_online(void)
{
	return atomic_load_explicit(&nr_online, memory_order_acquire);
}

unsigned smp_cpu_id(void)
{
	return cpu_index();
}

unsigned smp_wait_online(uint64_t timeout_ns)
{
	uint64_t deadline = now_ns() + timeout_ns;
	unsigned n;

	while ((n = smp_online()) < smp_nr_cpus() && now_ns() < deadline)
		cpu_relax();
	return n;
}

void smp_release_aps(int serve)
{
	atomic_store_explicit(&ap_policy, serve ? AP_SERVE : AP_PARK, memory_order_release);
}

static uint32_t load_state(struct cpu *c)
{
	return atomic_load_explicit(&c->work_state, memory_order_acquire);
}

static void store_state(struct cpu *c, uint32_t s)
{
	atomic_store_explicit(&c->work_state, s, memory_order_release);
}

_Noreturn void smp_ap_main(void)
{
	struct cpu *c = this_cpu();
	int policy;

	atomic_fetch_add_explicit(&nr_online, 1, memory_order_release);
	while ((policy = atomic_load_explicit(&ap_policy, memory_order_acquire)) ==
	       AP_UNDECIDED)
		cpu_relax();
	if (policy == AP_PARK) {
		store_state(c, WORK_PARKED);
		cpu_park();
	}
	for (;;) {
		while (load_state(c) != WORK_QUEUED)
			cpu_relax();
		store_state(c, WORK_RUNNING);
		c->work_result = c->work_fn(c->work_arg);
		store_state(c, WORK_DONE);
	}
}

int smp_run_on(unsigned cpu, smp_fn fn, void *arg)
{
	struct cpu *c;
	uint32_t expected = WORK_IDLE;

	if (cpu == 0 || cpu >= smp_nr_cpus() || cpu == cpu_index() || !fn)
		return -EINVAL;
	if (atomic_load_explicit(&ap_policy, memory_order_acquire) != AP_SERVE)
		return -ENODEV;
	c = &cpus[cpu];
	if (!atomic_compare_exchange_strong_explicit(&c->work_state, &expected,
						     WORK_CLAIMED, memory_order_acquire,
						     memory_order_acquire))
		return expected == WORK_PARKED ? -ENODEV : -EBUSY;
	c->work_fn = fn;
	c->work_arg = arg;
	store_state(c, WORK_QUEUED);
	return 0;
}

static int wait_done(unsigned cpu, uint64_t deadline, int *result)
{
	struct cpu *c;
	uint32_t s;

	if (cpu >= smp_nr_cpus())
		return -EINVAL;
	c = &cpus[cpu];
	while ((s = load_state(c)) != WORK_DONE) {
		if (s == WORK_IDLE)
			return -EINVAL;
		if (s == WORK_PARKED)
			return -ENODEV;
		if (deadline && now_ns() >= deadline)
			return -ETIMEDOUT;
		cpu_relax();
	}
	if (result)
		*result = c->work_result;
	store_state(c, WORK_IDLE);
	return 0;
}

int smp_wait(unsigned cpu, int *result)
{
	return wait_done(cpu, 0, result);
}

int smp_wait_timeout(unsigned cpu, uint64_t timeout_ns, int *result)
{
	return wait_done(cpu, now_ns() + timeout_ns + 1, result);
}

static int park_self(void *unused)
{
	(void)unused;
	store_state(this_cpu(), WORK_PARKED);
	cpu_park();
}

int smp_park(unsigned cpu)
{
	return smp_run_on(cpu, park_self, NULL);
}
