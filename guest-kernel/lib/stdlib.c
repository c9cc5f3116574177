/* <stdlib.h>: number parsing, abs, rand, getenv.  (malloc & co: kernel/heap.c; exit,
 * atexit: lib/exit.c; _Exit: kernel/process.c; abort: kernel/panic.c; qsort:
 * lib/qsort.c.) */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

/* Parse an unsigned magnitude with strtol's rules (space, sign, 0x / 0 prefixes).
 * Returns the value clamped to `limit` (ERANGE set), *neg the sign. */
static unsigned long long parse(const char *s, char **end, int base,
				unsigned long long limit, int *neg)
{
	const char *p = s;
	unsigned long long v = 0;
	int any = 0, overflow = 0;

	*neg = 0;
	while (isspace(*p))
		p++;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    isxdigit(p[2])) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	if (base < 2 || base > 36) {
		errno = EINVAL;
		if (end)
			*end = (char *)s;
		return 0;
	}
	for (;; p++) {
		int d;

		if (isdigit(*p))
			d = *p - '0';
		else if (isalpha(*p))
			d = tolower(*p) - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		any = 1;
		if (v > (limit - (unsigned)d) / (unsigned)base)
			overflow = 1;
		else
			v = v * (unsigned)base + (unsigned)d;
	}
	if (end)
		*end = (char *)(any ? p : s);
	if (overflow) {
		errno = ERANGE;
		return limit;
	}
	return v;
}

unsigned long long strtoull(const char *restrict s, char **restrict end, int base)
{
	int neg;
	unsigned long long v = parse(s, end, base, ULLONG_MAX, &neg);

	return neg ? -v : v;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
	return strtoull(s, end, base);
}

long long strtoll(const char *restrict s, char **restrict end, int base)
{
	int neg;
	/* the magnitude of LLONG_MIN is one more than LLONG_MAX */
	unsigned long long v = parse(s, end, base, (unsigned long long)LLONG_MAX + 1, &neg);

	if (!neg && v > (unsigned long long)LLONG_MAX) {
		errno = ERANGE;
		return LLONG_MAX;
	}
	return neg ? (long long)(0 - v) : (long long)v;
}

long strtol(const char *restrict s, char **restrict end, int base)
{
	return strtoll(s, end, base);
}

int atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

long atol(const char *s)
{
	return strtol(s, NULL, 10);
}

int abs(int v)
{
	return v < 0 ? -v : v;
}

long labs(long v)
{
	return v < 0 ? -v : v;
}

long long llabs(long long v)
{
	return v < 0 ? -v : v;
}

static uint64_t rand_state = 0x9e3779b97f4a7c15ull;

void srand(unsigned seed)
{
	rand_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

int rand(void)
{
	uint64_t x = rand_state; /* xorshift64 */

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rand_state = x;
	return (int)(x >> 33);
}

char *getenv(const char *name)
{
	(void)name;
	return NULL; /* the guest has no environment */
}
