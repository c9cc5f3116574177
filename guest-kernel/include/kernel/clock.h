/* Time from the TSC, scaled with boot_info.tsc_khz (1 GHz assumed, with a warning, if
 * the vmm did not know it: there is no PIT or HPET to calibrate against).
 * On a PVM host each rdtsc traps (~2.5 us); do not call now_ns() in tight loops. */
#ifndef KERNEL_CLOCK_H
#define KERNEL_CLOCK_H

#include <stdint.h>

#define NSEC_PER_USEC UINT64_C(1000)
#define NSEC_PER_MSEC UINT64_C(1000000)
#define NSEC_PER_SEC  UINT64_C(1000000000)

void clock_init(uint64_t tsc_khz);
uint64_t now_ns(void);          /* nanoseconds since clock_init() */
uint64_t clock_tsc_khz(void);   /* the rate in use */
uint64_t tsc_to_ns(uint64_t tsc_delta);
void udelay(uint64_t us);       /* busy-waits */
void mdelay(uint64_t ms);

#endif
