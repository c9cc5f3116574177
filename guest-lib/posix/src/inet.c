/* SPDX-License-Identifier: MIT */
/*
 * inet_pton / inet_ntop / inet_addr for guest programs.  Text forms as
 * RFC 4291 reads them and RFC 5952 writes them: dotted quad with no
 * leading zeros; IPv6 in hex groups with one "::" and an optional
 * dotted-quad tail; output lower case with the longest run (>= 2) of zero
 * groups shortened to "::", and ::ffff:a.b.c.d / ::a.b.c.d for IPv4-mapped
 * and -compatible addresses (the text glibc produces, checked against it
 * in tests/unit/guestlib_inet.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <arpa/inet.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* [s, end) is exactly "a.b.c.d" -> 4 bytes. */
static bool pton4(const char *s, const char *end, uint8_t out[4])
{
	int parts = 0;
	while (parts < 4) {
		if (s == end || *s < '0' || *s > '9')
			return false;
		unsigned v = 0;
		const char *start = s;
		while (s != end && *s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s - '0');
			if (v > 255 || s - start >= 3)
				return false;
			s++;
		}
		if (s - start > 1 && *start == '0')
			return false; /* no leading zeros: "010" is ambiguous (octal?) */
		out[parts++] = (uint8_t)v;
		if (parts < 4) {
			if (s == end || *s != '.')
				return false;
			s++;
		}
	}
	return s == end;
}

/* The n bytes parsed into buf, with "::" (at byte gap, -1: none) widened to zeros:
 * 16 bytes into out, or false if they do not make an address. */
static bool expand_gap(uint8_t buf[16], int n, int gap, uint8_t out[16])
{
	if (gap >= 0) {
		if (n == 16)
			return false; /* "::" must stand for at least one group */
		memmove(buf + 16 - (n - gap), buf + gap, (size_t)(n - gap));
		memset(buf + gap, 0, (size_t)(16 - n));
	} else if (n != 16) {
		return false;
	}
	memcpy(out, buf, 16);
	return true;
}

static bool pton6(const char *s, uint8_t out[16])
{
	uint8_t buf[16];
	int n = 0;          /* bytes filled */
	int gap = -1;       /* where "::" was, in bytes */
	const char *end = s + strlen(s);

	memset(buf, 0, sizeof(buf));
	if (s[0] == ':') {
		if (s[1] != ':')
			return false;
		gap = 0;
		s += 2;
		if (s == end)
			goto done;
	}
	for (;;) {
		const char *start = s;
		unsigned v = 0;
		int digits = 0;
		while (s != end && hexval(*s) >= 0) {
			if (++digits > 4)
				return false;
			v = v << 4 | (unsigned)hexval(*s);
			s++;
		}
		if (s != end && *s == '.') {
			/* dotted-quad tail: the last 4 bytes */
			if (n > 12 || !pton4(start, end, buf + n))
				return false;
			n += 4;
			break;
		}
		if (digits == 0 || n > 14)
			return false;
		buf[n++] = (uint8_t)(v >> 8);
		buf[n++] = (uint8_t)v;
		if (s == end)
			break;
		if (*s != ':')
			return false;
		s++;
		if (*s == ':') {
			if (gap >= 0)
				return false; /* a second "::" */
			gap = n;
			s++;
			if (s == end)
				break;
		} else if (s == end) {
			return false; /* trailing single ':' */
		}
	}
done:
	return expand_gap(buf, n, gap, out);
}

int inet_pton(int af, const char *restrict src, void *restrict dst)
{
	if (af == AF_INET) {
		uint8_t b[4];
		if (!pton4(src, src + strlen(src), b))
			return 0;
		memcpy(dst, b, 4);
		return 1;
	}
	if (af == AF_INET6)
		return pton6(src, dst) ? 1 : 0;
	errno = EAFNOSUPPORT;
	return -1;
}

in_addr_t inet_addr(const char *cp)
{
	in_addr_t a;
	return inet_pton(AF_INET, cp, &a) == 1 ? a : INADDR_NONE;
}

/* Append the decimal form of v (0..255). */
static char *put_dec(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *ntop4(const uint8_t a[4], char *p)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = put_dec(p, a[i]);
	}
	return p;
}

static char *ntop6(const uint8_t a[16], char *p)
{
	unsigned g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];

	/* the longest run of >= 2 zero groups, the first one on a tie */
	int best = -1, best_len = 1;
	for (int i = 0; i < 8;) {
		if (g[i]) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	/* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible) end in dotted
	 * form, as glibc prints them */
	bool mapped = best == 0 && (best_len == 6 || (best_len == 5 && g[5] == 0xffff));

	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (i == 0)
				*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (mapped && i == 6)
			return ntop4(a + 12, p);
		static const char hex[] = "0123456789abcdef";
		bool lead = true;
		for (int shift = 12; shift >= 0; shift -= 4) {
			unsigned d = (g[i] >> shift) & 0xf;
			if (d == 0 && lead && shift)
				continue;
			lead = false;
			*p++ = hex[d];
		}
		if (i < 7)
			*p++ = ':';
	}
	return p;
}

const char *inet_ntop(int af, const void *restrict src, char *restrict dst, socklen_t size)
{
	char buf[INET6_ADDRSTRLEN];
	char *end;
	if (af == AF_INET) {
		end = ntop4(src, buf);
	} else if (af == AF_INET6) {
		end = ntop6(src, buf);
	} else {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	*end = '\0';
	size_t n = (size_t)(end - buf) + 1;
	if (n > size) {
		errno = ENOSPC;
		return NULL;
	}
	memcpy(dst, buf, n);
	return dst;
}

int inet_aton(const char *cp, struct in_addr *inp)
{
	struct in_addr a;

	if (inet_pton(AF_INET, cp, &a) != 1)
		return 0;
	if (inp)
		*inp = a;
	return 1;
}

/* One static buffer, as POSIX allows (not per vCPU: copy the text before the next call). */
char *inet_ntoa(struct in_addr in)
{
	static char text[INET_ADDRSTRLEN];

	return (char *)inet_ntop(AF_INET, &in, text, sizeof(text));
}
