/*
 * <string.h>.  The bulk operations move 8 bytes per step with `rep movsq` / `rep stosq`
 * / `repe cmpsq` and finish the last 0..7 bytes one at a time.  Fast enough on real
 * CPUs, and what matters on a PVM host, where the guest is emulated: there each
 * iteration of a rep string instruction costs ~1.3 us whatever its width, so
 * movsq copies 8x faster than movsb, and 3x faster than a C loop of 64-bit moves
 * (measured with the memspeed program).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;
	size_t words = n / 8, tail = n % 8;

	__asm__ volatile("rep movsq\n\t"
			 "movq %3, %%rcx\n\t"
			 "rep movsb"
			 : "+D"(d), "+S"(src), "+c"(words) : "r"(tail) : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	size_t words = n / 8, tail = n % 8;
	void *d;
	const void *s;

	if ((uintptr_t)dst - (uintptr_t)src >= n) /* dst below src, or no overlap */
		return memcpy(dst, src, n);
	/* dst overlaps the end of src: copy backwards, the tail bytes first */
	d = (char *)dst + n - 1;
	s = (const char *)src + n - 1;
	__asm__ volatile("std\n\t"
			 "rep movsb\n\t"
			 "subq $7, %%rdi\n\t"
			 "subq $7, %%rsi\n\t"
			 "movq %3, %%rcx\n\t"
			 "rep movsq\n\t"
			 "cld"
			 : "+D"(d), "+S"(s), "+c"(tail) : "r"(words) : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t words = n / 8, tail = n % 8;
	uint64_t pattern = 0x0101010101010101ull * (uint8_t)c;

	__asm__ volatile("rep stosq\n\t"
			 "movq %3, %%rcx\n\t"
			 "rep stosb"
			 : "+D"(d), "+c"(words) : "a"(pattern), "r"(tail) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	size_t i = 0, words = n / 8;

	if (words) { /* find the first 8-byte word that differs */
		const void *p = a, *q = b;
		size_t left = words;
		_Bool differ;

		__asm__ volatile("repe cmpsq"
				 : "+S"(p), "+D"(q), "+c"(left), "=@ccne"(differ)
				 : : "memory");
		i = differ ? (words - left - 1) * 8 : words * 8;
	}
	for (; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (size_t i = 0; i < n; i++)
		if (p[i] == (unsigned char)c)
			return (void *)(p + i);
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++)
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

char *strstr(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (; *haystack; haystack++)
		if (strncmp(haystack, needle, n) == 0)
			return (char *)haystack;
	return n == 0 ? (char *)haystack : NULL;
}

char *strcpy(char *restrict dst, const char *restrict src)
{
	return memcpy(dst, src, strlen(src) + 1);
}

char *strncpy(char *restrict dst, const char *restrict src, size_t n)
{
	size_t len = strnlen(src, n);

	memcpy(dst, src, len);
	memset(dst + len, 0, n - len);
	return dst;
}

char *strcat(char *restrict dst, const char *restrict src)
{
	strcpy(dst + strlen(dst), src);
	return dst;
}

char *strncat(char *restrict dst, const char *restrict src, size_t n)
{
	char *end = dst + strlen(dst);
	size_t len = strnlen(src, n);

	memcpy(end, src, len);
	end[len] = '\0';
	return dst;
}

size_t strspn(const char *s, const char *accept)
{
	size_t n = 0;

	while (s[n] && strchr(accept, s[n]))
		n++;
	return n;
}

size_t strcspn(const char *s, const char *reject)
{
	size_t n = 0;

	while (s[n] && !strchr(reject, s[n]))
		n++;
	return n;
}

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	return p ? memcpy(p, s, n) : NULL;
}

char *strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *strtok_r(char *restrict s, const char *restrict delim, char **restrict save)
{
	if (!s)
		s = *save;
	s += strspn(s, delim);
	if (!*s) {
		*save = s;
		return NULL;
	}
	char *end = s + strcspn(s, delim);
	if (*end)
		*end++ = '\0';
	*save = end;
	return s;
}

/* One saved position for the whole VM, as the C standard's strtok has. */
char *strtok(char *restrict s, const char *restrict delim)
{
	static char *save = "";

	return strtok_r(s, delim, &save);
}
