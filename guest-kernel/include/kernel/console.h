/* Serial console on COM1.  Output is unbuffered; each printf() call is written whole
 * (under a lock), so lines from different vCPUs do not interleave. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stddef.h>

void console_write(const char *s, size_t n);    /* takes the console lock */

/* For code that writes several pieces as one unit (printf does). */
void console_lock(void);
void console_unlock(void);
void console_write_locked(const char *s, size_t n);

/* Fault reporter: console_lock(), but after ~50 ms of waiting take the console over
 * (the holder may be dead).  Release with console_unlock(). */
void console_lock_for_panic(void);

#endif
