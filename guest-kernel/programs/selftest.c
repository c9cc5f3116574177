/* selftest: guest-side checks of the minimal libc, the heap, the clock and errno.
 * Prints each failure and a summary; exits 0 if all passed, 1 otherwise. */
#include <kernel.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;

static void check(int ok, const char *what, int line)
{
	checks++;
	if (!ok) {
		failures++;
		printf("selftest: FAIL line %d: %s\n", line, what);
	}
}
#define CHECK(e) check(!!(e), #e, __LINE__)

static void check_fmt(const char *want, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check_fmt(const char *want, int line, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	checks++;
	if (strcmp(buf, want) != 0 || n != (int)strlen(want)) {
		failures++;
		printf("selftest: FAIL line %d: \"%s\" gave \"%s\" (%d), want \"%s\"\n", line,
		       fmt, buf, n, want);
	}
}
#define FMT(want, ...) check_fmt(want, __LINE__, __VA_ARGS__)

static void test_format(void)
{
	const char *volatile null_string = NULL; /* volatile: gcc would warn at compile time */
	char small[8];

	FMT("-42", "%d", -42);
	FMT("   42|42   |00042", "%5d|%-5d|%05d", 42, 42, 42);
	FMT("+7  7|-7", "%+d % d|% d", 7, 7, -7);
	FMT("ff FF 0xff 0XFF 17 017", "%x %X %#x %#X %o %#o", 255, 255, 255, 255, 15, 15);
	FMT("ffffffffffffffff", "%lx", ~0ul);
	FMT("18446744073709551615", "%llu", ~0ull);
	FMT("-9223372036854775808", "%ld", LONG_MIN);
	FMT("123456789012", "%zu", (size_t)123456789012ull);
	FMT("0x1000", "%p", (void *)0x1000);
	FMT("(null) abc|ab  |  ab", "%s %.3s|%-4.2s|%4.2s", null_string, "abcdef", "abc",
	    "abc");
	FMT("x|  y|z  |%", "%c|%3c|%-3c|%%", 'x', 'y', 'z');
	FMT("  007|7   ", "%5.3d|%-*d", 7, 4, 7);
	FMT("0|", "%d|%.0d", 0, 0);
	FMT("00000000deadbeef", "%016lx", 0xdeadbeeful);
	FMT("-0042", "%05d", -42);
	CHECK(snprintf(small, sizeof(small), "%s", "0123456789") == 10);
	CHECK(strcmp(small, "0123456") == 0);
	CHECK(snprintf(NULL, 0, "%d", 12345) == 5);
}

/* memcpy/memmove/memset/memcmp over lengths and offsets that exercise both the
 * 8-byte steps and the byte tails. */
static void test_bulk(void)
{
	static uint8_t src[80], dst[80], ref[80];
	int ok = 1;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + 1);
	for (size_t off = 0; off < 9 && ok; off++) {
		for (size_t n = 0; n + off <= 40 && ok; n++) {
			memset(dst, 0xee, sizeof(dst));
			memcpy(dst + off, src, n);
			ok &= memcmp(dst + off, src, n) == 0 && dst[off + n] == 0xee &&
			      (off == 0 || dst[off - 1] == 0xee);
			memset(dst + off, 0x5a, n);
			for (size_t k = 0; k < n; k++)
				ok &= dst[off + k] == 0x5a;
			ok &= dst[off + n] == 0x5a || dst[off + n] == 0xee;
			/* overlapping moves both ways, checked against a byte-wise copy */
			memcpy(dst, src, sizeof(dst));
			memcpy(ref, src, sizeof(ref));
			memmove(dst + off, dst, n);
			for (size_t k = n; k-- > 0;)
				ref[off + k] = ref[k];
			ok &= memcmp(dst, ref, sizeof(dst)) == 0;
			memcpy(dst, src, sizeof(dst));
			memcpy(ref, src, sizeof(ref));
			memmove(dst, dst + off, n);
			for (size_t k = 0; k < n; k++)
				ref[k] = ref[off + k];
			ok &= memcmp(dst, ref, sizeof(dst)) == 0;
		}
	}
	CHECK(ok);
	memcpy(dst, src, 40);
	dst[37] ^= 1;
	CHECK(memcmp(dst, src, 40) != 0 && memcmp(dst, src, 37) == 0);
	dst[37] ^= 1;
	dst[3] = 0xff;
	src[3] = 0x01;
	CHECK(memcmp(dst, src, 40) > 0 && memcmp(src, dst, 40) < 0);
}

static void test_strings(void)
{
	char buf[32];
	char *end;

	strcpy(buf, "abcdefgh");
	memmove(buf + 2, buf, 6); /* overlapping, forwards */
	CHECK(memcmp(buf, "ababcdef", 8) == 0);
	strcpy(buf, "abcdefgh");
	memmove(buf, buf + 2, 6); /* overlapping, backwards */
	CHECK(memcmp(buf, "cdefghgh", 8) == 0);
	memset(buf, 'z', 4);
	CHECK(memcmp(buf, "zzzzghgh", 8) == 0);
	test_bulk();
	CHECK(strlen("hello") == 5 && strnlen("hello", 3) == 3);
	CHECK(strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0 && strcmp("x", "x") == 0);
	CHECK(strncmp("abcx", "abcy", 3) == 0 && strncmp("ab", "abc", 3) < 0);
	CHECK(strchr("hello", 'l') == &"hello"[2] || *strchr("hello", 'l') == 'l');
	CHECK(strchr("hello", 'q') == NULL && strrchr("hello", 'l')[1] == 'o');
	CHECK(strstr("needle in haystack", "hay") != NULL && !strstr("abc", "abd"));
	CHECK(strspn("aab", "a") == 2 && strcspn("abc:d", ":") == 3);
	CHECK(strtol("0x1f", &end, 0) == 31 && *end == '\0');
	CHECK(strtol("-17xyz", &end, 10) == -17 && strcmp(end, "xyz") == 0);
	CHECK(strtol("077", NULL, 0) == 63 && strtoul("  42", NULL, 10) == 42);
	errno = 0;
	CHECK(strtol("99999999999999999999", NULL, 10) == LONG_MAX && errno == ERANGE);
	CHECK(strtoull("18446744073709551615", NULL, 10) == ~0ull);
	CHECK(strtol("abc", &end, 10) == 0 && strcmp(end, "abc") == 0);
	CHECK(atoi("123") == 123 && abs(-5) == 5);
	CHECK(strcmp(strerror(EAGAIN), "EAGAIN") == 0 && strcmp(strerror(-ETIMEDOUT),
								"ETIMEDOUT") == 0);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static void test_qsort(void)
{
	int v[] = { 5, -1, 9, 3, 3, 0, 12, -7, 8 };
	int sorted = 1;

	qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), cmp_int);
	for (size_t i = 1; i < sizeof(v) / sizeof(v[0]); i++)
		sorted &= v[i - 1] <= v[i];
	CHECK(sorted && v[0] == -7 && v[8] == 12);
}

static void test_heap(void)
{
	size_t before = heap_free_bytes();
	void *p[16];
	char *s;

	for (int i = 0; i < 16; i++) {
		p[i] = malloc((size_t)(i + 1) * 100);
		CHECK(p[i] != NULL && ((uintptr_t)p[i] & 15) == 0);
		memset(p[i], i, (size_t)(i + 1) * 100);
	}
	for (int i = 0; i < 16; i += 2) /* free every other one, then the rest */
		free(p[i]);
	for (int i = 1; i < 16; i += 2) {
		CHECK(((unsigned char *)p[i])[0] == i);
		free(p[i]);
	}
	CHECK(heap_free_bytes() == before); /* all merged back */
	s = calloc(10, 10);
	CHECK(s && s[0] == 0 && s[99] == 0);
	s = realloc(s, 1000);
	CHECK(s != NULL);
	free(s);
	s = strdup("dup");
	CHECK(s && strcmp(s, "dup") == 0);
	free(s);
	CHECK(heap_free_bytes() == before);
	CHECK(malloc(boot_info->ram_bytes) == NULL); /* more than there is */
}

static void test_clock_errno(void)
{
	uint64_t t0 = now_ns(), t1;

	udelay(2000);
	t1 = now_ns();
	CHECK(t1 - t0 >= 2 * NSEC_PER_MSEC && t1 - t0 < 500 * NSEC_PER_MSEC);
	errno = EINVAL;
	CHECK(errno == EINVAL && this_cpu()->errno_value == EINVAL);
}

static int selftest_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	test_format();
	test_strings();
	test_qsort();
	test_heap();
	test_clock_errno();
	printf("selftest: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
GUEST_PROGRAM("selftest", selftest_main, "", "check the guest libc, heap and clock");
