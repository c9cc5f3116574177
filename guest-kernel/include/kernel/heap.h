/* The heap behind malloc(): [boot_info.kernel_end, ram_bytes). */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <stddef.h>
#include <stdint.h>

void heap_init(uintptr_t start, uintptr_t end);
size_t heap_free_bytes(void);   /* sum of free blocks (walks the free list) */
size_t heap_total_bytes(void);

#endif
