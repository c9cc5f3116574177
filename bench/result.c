/* SPDX-License-Identifier: MIT */
/*
 * The RESULT line: one JSON object on one line, built into a fixed buffer
 * and printed with one call (in the guest every console write is a VM
 * exit per byte on some hosts; one line is the least we can do).
 * Integers and fixed-point numbers only (the guest has no floating point).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "platform.h"

__attribute__((format(printf, 2, 3)))
static void put(struct bench_out *b, const char *fmt, ...)
{
	if (b->len >= sizeof(b->buf))
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->buf + b->len, sizeof(b->buf) - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
	if (b->len > sizeof(b->buf) - 1)
		b->len = sizeof(b->buf) - 1; /* truncated: the driver will reject it */
}

/* k == NULL: an element of an array (out_arr_begin). */
static void key(struct bench_out *b, const char *k)
{
	if (k)
		put(b, "%s\"%s\":", b->first ? "" : ",", k);
	else if (!b->first)
		put(b, ",");
	b->first = false;
}

void out_str(struct bench_out *b, const char *k, const char *val)
{
	key(b, k);
	put(b, "\"");
	for (const char *p = val; *p; p++) {
		if (*p == '"' || *p == '\\')
			put(b, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			put(b, "\\u%04x", (unsigned)(unsigned char)*p);
		else
			put(b, "%c", *p);
	}
	put(b, "\"");
}

void out_u64(struct bench_out *b, const char *k, uint64_t val)
{
	key(b, k);
	put(b, "%llu", (unsigned long long)val);
}

void out_ratio(struct bench_out *b, const char *k, uint64_t num, uint64_t den)
{
	key(b, k);
	if (!den) {
		put(b, "0");
		return;
	}
	/* num * 1000 / den without overflow for any num we produce: split
	 * into the integer part and the remainder. */
	uint64_t whole = num / den, rem = num % den;
	uint64_t milli;
	if (rem > UINT64_MAX / 1000) /* den is huge: scale both down first */
		milli = (rem >> 20) * 1000 / ((den >> 20) ? (den >> 20) : 1);
	else
		milli = rem * 1000 / den;
	if (milli > 999)
		milli = 999;
	put(b, "%llu.%03llu", (unsigned long long)whole, (unsigned long long)milli);
}

void out_obj_begin(struct bench_out *b, const char *k)
{
	key(b, k);
	put(b, "{");
	b->first = true;
}

void out_obj_end(struct bench_out *b)
{
	put(b, "}");
	b->first = false;
}

void out_arr_begin(struct bench_out *b, const char *k)
{
	key(b, k);
	put(b, "[");
	b->first = true;
}

void out_arr_end(struct bench_out *b)
{
	put(b, "]");
	b->first = false;
}

void out_begin(struct bench_out *b, const struct bench_opts *o)
{
	b->len = 0;
	b->buf[0] = '\0';
	b->first = true;
	put(b, "RESULT {");
	out_str(b, "bench", o->name);
	plat_describe(b);
	out_u64(b, "size", o->size);
}

void out_end(struct bench_out *b)
{
	put(b, "}\n");
	fputs(b->buf, stdout);
	fflush(stdout);
}
