/* <stdio.h> on the serial console.  printf() formats into a small buffer under the
 * console lock: one call's output is never split by another vCPU's, and it usually
 * leaves in a single `rep outsb`. */
#include "format.h"
#include <sys/console.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct guest_file {
	int unused;
};

static struct guest_file console_file;
FILE *const stdout = &console_file;
FILE *const stderr = &console_file;

struct console_buffer {
	size_t used;
	char data[256];
};

static void emit_console(void *ctx, const char *s, size_t n)
{
	struct console_buffer *b = ctx;

	if (b->used + n > sizeof(b->data)) {
		console_write_locked(b->data, b->used);
		b->used = 0;
		if (n > sizeof(b->data)) {
			console_write_locked(s, n);
			return;
		}
	}
	memcpy(b->data + b->used, s, n);
	b->used += n;
}

int vprintf(const char *fmt, va_list ap)
{
	struct console_buffer b;
	int n;

	b.used = 0;
	console_lock();
	n = format(emit_console, &b, fmt, ap);
	console_write_locked(b.data, b.used);
	console_unlock();
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	(void)f;
	return vprintf(fmt, ap);
}

int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

struct buffer {
	char *p;
	size_t size, used; /* used may exceed size: we still count */
};

static void emit_buffer(void *ctx, const char *s, size_t n)
{
	struct buffer *b = ctx;

	if (b->used < b->size) {
		size_t room = b->size - b->used;

		memcpy(b->p + b->used, s, n < room ? n : room);
	}
	b->used += n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buffer b = { buf, size ? size - 1 : 0, 0 };
	int n = format(emit_buffer, &b, fmt, ap);

	if (size)
		buf[b.used < b.size ? b.used : b.size] = '\0';
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int sprintf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, SIZE_MAX, fmt, ap);
	va_end(ap);
	return n;
}

int putchar(int c)
{
	char ch = (char)c;

	console_write(&ch, 1);
	return (unsigned char)c;
}

int fputc(int c, FILE *f)
{
	(void)f;
	return putchar(c);
}

int putc(int c, FILE *f)
{
	return fputc(c, f);
}

int fputs(const char *s, FILE *f)
{
	(void)f;
	console_write(s, strlen(s));
	return 0;
}

int puts(const char *s)
{
	console_lock();
	console_write_locked(s, strlen(s));
	console_write_locked("\n", 1);
	console_unlock();
	return 0;
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	(void)f;
	console_write(p, size * n);
	return n;
}

int fflush(FILE *f)
{
	(void)f;
	return 0;
}

int setvbuf(FILE *restrict f, char *restrict buf, int mode, size_t size)
{
	(void)f;
	(void)buf;
	(void)size;
	return mode == _IOFBF || mode == _IOLBF || mode == _IONBF ? 0 : -1;
}

void setbuf(FILE *restrict f, char *restrict buf)
{
	(void)f;
	(void)buf;
}

void perror(const char *s)
{
	if (s && *s)
		printf("%s: %s\n", s, strerror(errno));
	else
		printf("%s\n", strerror(errno));
}
