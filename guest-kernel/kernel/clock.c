/*
 * TSC clock.  ns = ((tsc - tsc_base) * mult) >> 32 with mult = 10^6 * 2^32 / tsc_khz,
 * so reading the time is one rdtsc, one multiply and one shift (every instruction
 * counts on a PVM host).  The vmm passes the TSC rate; there is no PIT or HPET to
 * calibrate against, so without it we warn and assume 1 GHz.
 */
#include <kernel/clock.h>
#include <kernel/cpu.h>
#include <stdio.h>

#define FALLBACK_TSC_KHZ 1000000ull /* 1 GHz */

static uint64_t tsc_base, ns_mult, tsc_khz_in_use;

void clock_init(uint64_t tsc_khz)
{
	if (tsc_khz == 0) {
		printf("warning: the vmm did not pass the TSC rate (boot_info.tsc_khz = 0); "
		       "assuming 1 GHz, times will be off\n");
		tsc_khz = FALLBACK_TSC_KHZ;
	}
	tsc_khz_in_use = tsc_khz;
	ns_mult = (NSEC_PER_MSEC << 32) / tsc_khz;
	tsc_base = rdtsc();
}

uint64_t clock_tsc_khz(void)
{
	return tsc_khz_in_use;
}

uint64_t tsc_to_ns(uint64_t tsc_delta)
{
	return (uint64_t)(((unsigned __int128)tsc_delta * ns_mult) >> 32);
}

uint64_t now_ns(void)
{
	return tsc_to_ns(rdtsc() - tsc_base);
}

void udelay(uint64_t us)
{
	uint64_t end = now_ns() + us * NSEC_PER_USEC;

	while (now_ns() < end)
		cpu_relax();
}

void mdelay(uint64_t ms)
{
	udelay(ms * 1000);
}
