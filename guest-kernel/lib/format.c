/*
 * printf-style formatting: %d %i %u %x %X %o %c %s %p %%, flags "-0+ #", width and
 * precision (digits or *), length modifiers hh h l ll z t j.  No floating point.
 */
#include "format.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/console.h>

struct spec {
	int left, zero, plus, space, alt;
	int width, precision; /* precision -1: none */
	int length;           /* 'H' hh, 'h', 'l', 'L' ll/j, 'z', 't' */
};

/* gcc lets a double reach printf even without SSE (on the stack, where no printf could
 * read it right): say so and stop, rather than print something wrong. */
static _Noreturn void no_floating_point(void)
{
	static const char msg[] = "guest: printf: %f, %e, %g and %a are not supported (the "
				  "guest has no floating point)\n";

	console_write(msg, sizeof(msg) - 1);
	abort();
}

static void pad(format_emit emit, void *ctx, char c, int n)
{
	static const char spaces[16] = "                ";
	static const char zeros[16] = "0000000000000000";
	const char *src = c == '0' ? zeros : spaces;

	while (n > 0) {
		int chunk = n > 16 ? 16 : n;

		emit(ctx, src, (size_t)chunk);
		n -= chunk;
	}
}

/* Emit prefix + digits with the spec's padding; returns characters emitted. */
static int emit_number(format_emit emit, void *ctx, const struct spec *sp,
		       const char *prefix, const char *digits, int ndigits)
{
	int plen = (int)strlen(prefix);
	int zeros = sp->precision > ndigits ? sp->precision - ndigits : 0;
	int body = plen + zeros + ndigits;
	int fill = sp->width > body ? sp->width - body : 0;

	if (sp->zero && !sp->left && sp->precision < 0) {
		zeros += fill;
		fill = 0;
	}
	if (!sp->left)
		pad(emit, ctx, ' ', fill);
	emit(ctx, prefix, (size_t)plen);
	pad(emit, ctx, '0', zeros);
	emit(ctx, digits, (size_t)ndigits);
	if (sp->left)
		pad(emit, ctx, ' ', fill);
	return plen + zeros + ndigits + fill;
}

static int format_integer(format_emit emit, void *ctx, const struct spec *sp, char conv,
			  uint64_t value, int negative)
{
	char buf[24], *end = buf + sizeof(buf), *p = end;
	const char *digits = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned base = conv == 'o' ? 8 : (conv == 'x' || conv == 'X' || conv == 'p') ? 16 : 10;
	const char *prefix = "";

	while (value) {
		*--p = digits[value % base];
		value /= base;
	}
	if (p == end && sp->precision != 0) /* zero prints "0" unless precision is 0 */
		*--p = '0';
	if (negative)
		prefix = "-";
	else if (sp->plus && (conv == 'd' || conv == 'i'))
		prefix = "+";
	else if (sp->space && (conv == 'd' || conv == 'i'))
		prefix = " ";
	else if (conv == 'p' || (sp->alt && conv == 'x' && !(p[0] == '0' && p + 1 == end)))
		prefix = "0x";
	else if (sp->alt && conv == 'X' && !(p[0] == '0' && p + 1 == end))
		prefix = "0X";
	else if (sp->alt && conv == 'o' && p[0] != '0')
		prefix = "0";
	return emit_number(emit, ctx, sp, prefix, p, (int)(end - p));
}

static int format_string(format_emit emit, void *ctx, const struct spec *sp, const char *s)
{
	size_t n;
	int fill;

	if (!s)
		s = "(null)";
	n = sp->precision >= 0 ? strnlen(s, (size_t)sp->precision) : strlen(s);
	fill = sp->width > (int)n ? sp->width - (int)n : 0;
	if (!sp->left)
		pad(emit, ctx, ' ', fill);
	emit(ctx, s, n);
	if (sp->left)
		pad(emit, ctx, ' ', fill);
	return (int)n + fill;
}

static int parse_int(const char **fmt)
{
	int v = 0;

	while (**fmt >= '0' && **fmt <= '9')
		v = v * 10 + (*(*fmt)++ - '0');
	return v;
}

int format(format_emit emit, void *ctx, const char *fmt, va_list ap)
{
	int total = 0;

	while (*fmt) {
		const char *start = fmt;
		struct spec sp = { .precision = -1 };
		char conv;

		while (*fmt && *fmt != '%')
			fmt++;
		if (fmt > start) {
			emit(ctx, start, (size_t)(fmt - start));
			total += (int)(fmt - start);
		}
		if (!*fmt)
			break;
		fmt++; /* '%' */
		for (;; fmt++) {
			if (*fmt == '-') sp.left = 1;
			else if (*fmt == '0') sp.zero = 1;
			else if (*fmt == '+') sp.plus = 1;
			else if (*fmt == ' ') sp.space = 1;
			else if (*fmt == '#') sp.alt = 1;
			else break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = 1;
				sp.width = -sp.width;
			}
			fmt++;
		} else {
			sp.width = parse_int(&fmt);
		}
		if (*fmt == '.') {
			fmt++;
			if (*fmt == '*') {
				sp.precision = va_arg(ap, int);
				if (sp.precision < 0)
					sp.precision = -1;
				fmt++;
			} else {
				sp.precision = parse_int(&fmt);
			}
		}
		switch (*fmt) {
		case 'h':
			sp.length = fmt[1] == 'h' ? 'H' : 'h';
			fmt += fmt[1] == 'h' ? 2 : 1;
			break;
		case 'l':
			sp.length = fmt[1] == 'l' ? 'L' : 'l';
			fmt += fmt[1] == 'l' ? 2 : 1;
			break;
		case 'j': sp.length = 'L'; fmt++; break;
		case 'z': sp.length = 'z'; fmt++; break;
		case 't': sp.length = 't'; fmt++; break;
		}
		conv = *fmt;
		if (!conv)
			break;
		fmt++;
		switch (conv) {
		case 'd':
		case 'i': {
			int64_t v;

			switch (sp.length) {
			case 'H': v = (signed char)va_arg(ap, int); break;
			case 'h': v = (short)va_arg(ap, int); break;
			case 'l': case 'L': case 'z': case 't': v = va_arg(ap, int64_t); break;
			default:  v = va_arg(ap, int); break;
			}
			total += format_integer(emit, ctx, &sp, conv,
						v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			uint64_t v;

			switch (sp.length) {
			case 'H': v = (unsigned char)va_arg(ap, unsigned); break;
			case 'h': v = (unsigned short)va_arg(ap, unsigned); break;
			case 'l': case 'L': case 'z': case 't': v = va_arg(ap, uint64_t); break;
			default:  v = va_arg(ap, unsigned); break;
			}
			total += format_integer(emit, ctx, &sp, conv, v, 0);
			break;
		}
		case 'p':
			total += format_integer(emit, ctx, &sp, 'p',
						(uintptr_t)va_arg(ap, void *), 0);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			int fill = sp.width > 1 ? sp.width - 1 : 0;

			if (!sp.left)
				pad(emit, ctx, ' ', fill);
			emit(ctx, &c, 1);
			if (sp.left)
				pad(emit, ctx, ' ', fill);
			total += 1 + fill;
			break;
		}
		case 's':
			total += format_string(emit, ctx, &sp, va_arg(ap, const char *));
			break;
		case '%':
			emit(ctx, "%", 1);
			total++;
			break;
		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
			no_floating_point();
		default: /* unknown conversion: print it as written */
			emit(ctx, "%", 1);
			emit(ctx, &conv, 1);
			total += 2;
			break;
		}
	}
	return total;
}
