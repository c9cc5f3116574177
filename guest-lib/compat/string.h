/* SPDX-License-Identifier: MIT */
/*
 * Fallback <string.h> for building vs_guestlib before the guest kernel's
 * minimal libc (guest-kernel/include) provides one.  Only used when that
 * header is missing; the guest kernel must define these functions anyway
 * (GCC emits calls to memcpy/memset even with -ffreestanding).
 */
#ifndef VS_COMPAT_STRING_H
#define VS_COMPAT_STRING_H
#include <stddef.h>
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
#endif
