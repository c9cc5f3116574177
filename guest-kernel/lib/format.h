/* The printf engine behind vsnprintf() and printf(): formats into an output callback. */
#ifndef LIB_FORMAT_H
#define LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*format_emit)(void *ctx, const char *s, size_t n);

/* Returns the number of characters produced. */
int format(format_emit emit, void *ctx, const char *fmt, va_list ap);

#endif
