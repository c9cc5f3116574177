/* Serial console on COM1: the libc's console (<sys/console.h>) plus what only the
 * kernel's fault path needs. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <sys/console.h>

/* Fault reporter: console_lock(), but after ~50 ms of waiting take the console over
 * (the holder may be dead).  Release with console_unlock(). */
void console_lock_for_panic(void);

#endif
