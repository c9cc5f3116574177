/* Minimal <stdio.h> for the guest: everything goes to the serial console, unbuffered
 * (stdout and stderr are the same console).  Formats: %d %i %u %x %X %o %c %s %p %%,
 * length modifiers hh h l ll z t j, flags - 0 + space #, width and precision (also *).
 * No floating point (the kernel is built with -mgeneral-regs-only). */
#ifndef _STDIO_H
#define _STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

typedef struct guest_file FILE;
extern FILE *const stdout;
extern FILE *const stderr;

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vfprintf(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int sprintf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

int putchar(int c);
int puts(const char *s);          /* s and a newline */
int fputc(int c, FILE *f);
int putc(int c, FILE *f);
int fputs(const char *s, FILE *f); /* no newline */
size_t fwrite(const void *p, size_t size, size_t n, FILE *f);
int fflush(FILE *f);              /* nothing is buffered: returns 0 */
#define _IOFBF 0
#define _IOLBF 1
#define _IONBF 2
#define BUFSIZ 8192
/* Accepted and change nothing: output is unbuffered whatever the mode.  No input
 * stream exists (no stdin, fgets, scanf: such a program does not compile). */
int setvbuf(FILE *restrict f, char *restrict buf, int mode, size_t size);
void setbuf(FILE *restrict f, char *restrict buf);
void perror(const char *s);       /* "s: EAGAIN" */

#endif
