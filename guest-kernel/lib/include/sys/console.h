/*
 * The one device the libc writes to: the serial console.  The libc declares what it
 * needs here and the kernel below it implements it (guest-kernel/kernel/console.c), the
 * way a hosted libc calls write(2).  Output is unbuffered; each printf() call is written
 * whole (under the lock), so lines from different vCPUs do not interleave.
 */
#ifndef _SYS_CONSOLE_H
#define _SYS_CONSOLE_H

#include <stddef.h>

void console_write(const char *s, size_t n);    /* takes the console lock */

/* For code that writes several pieces as one unit (printf does).  Recursive per vCPU. */
void console_lock(void);
void console_unlock(void);
void console_write_locked(const char *s, size_t n);

#endif
