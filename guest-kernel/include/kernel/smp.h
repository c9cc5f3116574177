/*
 * SMP: every vCPU starts at the entry with its index.  Application processors (index
 * != 0) set up their CPU state, count themselves online and then either
 *   - park (HLT: the vmm stops that vCPU for good), when the program is a plain
 *     GUEST_PROGRAM, so idle vCPUs cost the host nothing, or
 *   - serve: poll their work slot (pause loop) for smp_run_on(), when the program is a
 *     GUEST_PROGRAM_SMP.  A serving AP burns a host CPU while it waits, more so on a PVM
 *     host; smp_park() lets a program give back the ones it does not need.
 * Work can be queued before the AP has come online; it runs once it does.
 */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdint.h>

typedef int (*smp_fn)(void *arg);

unsigned smp_nr_cpus(void);         /* vCPUs the vmm started (boot_info.nr_cpus, capped) */
unsigned smp_online(void);          /* vCPUs that came up so far, boot CPU included */
unsigned smp_cpu_id(void);          /* this vCPU's index */

/* Wait until all smp_nr_cpus() are online or timeout_ns passed; returns smp_online(). */
unsigned smp_wait_online(uint64_t timeout_ns);

/* Run fn(arg) on AP `cpu`.  0, or -EINVAL (cpu 0, self, out of range), -ENODEV (parked,
 * or the program is not GUEST_PROGRAM_SMP), -EBUSY (previous work not yet collected
 * with smp_wait*). */
int smp_run_on(unsigned cpu, smp_fn fn, void *arg);

/* Wait for the work queued on `cpu` to finish; *result (may be NULL) gets fn's return
 * value.  0, -EINVAL (nothing queued), -ETIMEDOUT (smp_wait_timeout only; the work
 * stays queued/running and can be waited for again). */
int smp_wait(unsigned cpu, int *result);
int smp_wait_timeout(unsigned cpu, uint64_t timeout_ns, int *result);

/* Park an idle AP for good (it stops costing host CPU).  0 or -errno as smp_run_on. */
int smp_park(unsigned cpu);

/* kernel internals */
void smp_release_aps(int serve);    /* boot CPU: tell APs to park (0) or serve (1) */
_Noreturn void smp_ap_main(void);   /* AP after cpu_init + traps */

#endif
