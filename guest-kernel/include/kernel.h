/* Everything a guest program may want from the kernel, in one include. */
#ifndef KERNEL_H
#define KERNEL_H

#include <kernel/boot.h>
#include <kernel/clock.h>
#include <kernel/console.h>
#include <kernel/cpu.h>
#include <kernel/heap.h>
#include <kernel/panic.h>
#include <kernel/program.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>

#endif
