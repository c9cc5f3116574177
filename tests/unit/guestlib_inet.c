/* SPDX-License-Identifier: MIT */
/*
 * The guest's inet_pton / inet_ntop / inet_addr (guest-lib/posix/src/inet.c),
 * compiled here under other names and checked against glibc's on the same
 * inputs: both must accept and reject the same strings and print the same
 * text.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h> /* glibc's, declared before the renames below */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define inet_pton guest_inet_pton
#define inet_ntop guest_inet_ntop
#define inet_addr guest_inet_addr
#include "../../guest-lib/posix/src/inet.c"
#undef inet_pton
#undef inet_ntop
#undef inet_addr

static const char *const v4_inputs[] = {
	"0.0.0.0", "127.0.0.1", "255.255.255.255", "1.2.3.4", "10.0.0.255",
	"256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..2.3", ".1.2.3",
	"1.2.3.", "", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1234.1.1.1",
	"0x1.2.3.4", "1.2.3.400",
};

static const char *const v6_inputs[] = {
	"::", "::1", "1::", "1::1", "fe80::1", "2001:db8::ff00:42:8329",
	"2001:0db8:0000:0000:0000:ff00:0042:8329", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::",
	"::2:3:4:5:6:7:8", "::ffff:1.2.3.4", "::ffff:127.0.0.1", "::1.2.3.4", "1::2:3.4.5.6",
	"1:2:3:4:5:6:1.2.3.4", "ABCD:EF01::", "0:0:0:0:0:0:0:0", "1:0:0:2:0:0:0:3",
	"1:0:0:2:0:0:3:4", "0:0:1:0:0:0:0:0",
	":::", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
	":1::", "1:", ":1", "1::2:", "g::1", "::ffff:1.2.3", "::ffff:1.2.3.4.5",
	"1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.256", "", "1::2 ", "::01.2.3.4",
};

Test(guestlib_inet, pton_v4_matches_glibc, .timeout = 10)
{
	for (size_t i = 0; i < sizeof(v4_inputs) / sizeof(v4_inputs[0]); i++) {
		uint8_t mine[4] = { 0 }, ref[4] = { 0 };
		int a = guest_inet_pton(AF_INET, v4_inputs[i], mine);
		int b = inet_pton(AF_INET, v4_inputs[i], ref);
		cr_expect_eq(a, b, "inet_pton(AF_INET, \"%s\"): %d, glibc %d", v4_inputs[i], a, b);
		if (a == 1 && b == 1)
			cr_expect(memcmp(mine, ref, 4) == 0, "\"%s\" parsed differently", v4_inputs[i]);
	}
}

Test(guestlib_inet, pton_v6_matches_glibc, .timeout = 10)
{
	for (size_t i = 0; i < sizeof(v6_inputs) / sizeof(v6_inputs[0]); i++) {
		uint8_t mine[16] = { 0 }, ref[16] = { 0 };
		int a = guest_inet_pton(AF_INET6, v6_inputs[i], mine);
		int b = inet_pton(AF_INET6, v6_inputs[i], ref);
		cr_expect_eq(a, b, "inet_pton(AF_INET6, \"%s\"): %d, glibc %d", v6_inputs[i], a, b);
		if (a == 1 && b == 1)
			cr_expect(memcmp(mine, ref, 16) == 0, "\"%s\" parsed differently",
				  v6_inputs[i]);
	}
}

/* Every accepted IPv6 input prints as glibc prints it (RFC 5952 form). */
Test(guestlib_inet, ntop_matches_glibc, .timeout = 10)
{
	for (size_t i = 0; i < sizeof(v6_inputs) / sizeof(v6_inputs[0]); i++) {
		uint8_t a[16];
		if (inet_pton(AF_INET6, v6_inputs[i], a) != 1)
			continue;
		char mine[INET6_ADDRSTRLEN], ref[INET6_ADDRSTRLEN];
		cr_assert_not_null(guest_inet_ntop(AF_INET6, a, mine, sizeof(mine)));
		cr_assert_not_null(inet_ntop(AF_INET6, a, ref, sizeof(ref)));
		cr_expect_str_eq(mine, ref, "\"%s\"", v6_inputs[i]);
	}
	for (size_t i = 0; i < sizeof(v4_inputs) / sizeof(v4_inputs[0]); i++) {
		uint8_t a[4];
		if (inet_pton(AF_INET, v4_inputs[i], a) != 1)
			continue;
		char mine[INET_ADDRSTRLEN];
		cr_assert_not_null(guest_inet_ntop(AF_INET, a, mine, sizeof(mine)));
		cr_expect_str_eq(mine, v4_inputs[i]);
	}
	/* every one-group and two-group zero pattern */
	for (unsigned m = 0; m < 256; m++) {
		uint8_t a[16] = { 0 };
		for (int g = 0; g < 8; g++)
			if (m & (1u << g))
				a[2 * g + 1] = (uint8_t)(g + 1);
		char mine[INET6_ADDRSTRLEN], ref[INET6_ADDRSTRLEN];
		guest_inet_ntop(AF_INET6, a, mine, sizeof(mine));
		inet_ntop(AF_INET6, a, ref, sizeof(ref));
		if (strcmp(mine, ref) != 0)
			cr_expect_fail("mask %#x: \"%s\", glibc \"%s\"", m, mine, ref);
	}
}

Test(guestlib_inet, ntop_errors, .timeout = 10)
{
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	char small[8];
	errno = 0;
	cr_assert_null(guest_inet_ntop(AF_INET6, a, small, sizeof(small)));
	cr_assert_eq(errno, ENOSPC);
	errno = 0;
	cr_assert_null(guest_inet_ntop(12345, a, small, sizeof(small)));
	cr_assert_eq(errno, EAFNOSUPPORT);
	errno = 0;
	cr_assert_eq(guest_inet_pton(12345, "1.2.3.4", a), -1);
	cr_assert_eq(errno, EAFNOSUPPORT);
	char exact[8]; /* "1.2.3.4" + NUL */
	cr_assert_not_null(guest_inet_ntop(AF_INET, (uint8_t[]){ 1, 2, 3, 4 }, exact, 8));
	cr_assert_null(guest_inet_ntop(AF_INET, (uint8_t[]){ 1, 2, 3, 4 }, exact, 7));
}

Test(guestlib_inet, inet_addr, .timeout = 10)
{
	cr_assert_eq(guest_inet_addr("127.0.0.1"), htonl(0x7f000001));
	cr_assert_eq(guest_inet_addr("nonsense"), INADDR_NONE);
}
