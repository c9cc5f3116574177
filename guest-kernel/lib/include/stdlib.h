/* Minimal <stdlib.h> for the guest. */
#ifndef _STDLIB_H
#define _STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX     0x7fffffff

/* Heap over [boot_info.kernel_end, ram): first fit, coalescing, 16-byte aligned,
 * thread (vCPU) safe.  malloc() returns NULL when the RAM is used up. */
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);

/* Ends the VM after the atexit() handlers: the vmm exits with status & 0xff (guest
 * programs: 0..63; abi.h gives the higher ones to the vmm).  _Exit skips the handlers. */
_Noreturn void exit(int status);
_Noreturn void _Exit(int status);
int atexit(void (*fn)(void));       /* up to 32; -1 beyond */
char *getenv(const char *name);     /* no environment: always NULL */
_Noreturn void abort(void); /* exits 63 (KERNEL_EXIT_PANIC) */

int atoi(const char *s);
long atol(const char *s);
long strtol(const char *restrict s, char **restrict end, int base);
unsigned long strtoul(const char *restrict s, char **restrict end, int base);
long long strtoll(const char *restrict s, char **restrict end, int base);
unsigned long long strtoull(const char *restrict s, char **restrict end, int base);

int abs(int v);
long labs(long v);
long long llabs(long long v);

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* xorshift; per VM, not per vCPU (unlocked: racy but harmless). */
int rand(void);
void srand(unsigned seed);

#endif
