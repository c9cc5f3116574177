/*
 * print_args: each argument on its own line as "INDEX LENGTH:BYTES", so that a test can
 * compare them byte for byte (spaces, quotes, empty strings, any byte but NUL), then
 * "bye" from an atexit() handler.  Exit status: the number of arguments after argv[0],
 * modulo 64 (guest programs keep to 0..63).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bye(void)
{
	puts("bye");
}

int main(int argc, char **argv)
{
	atexit(bye);
	printf("argc %d\n", argc);
	for (int i = 0; i < argc; i++) {
		printf("%d %zu:", i, strlen(argv[i]));
		fwrite(argv[i], 1, strlen(argv[i]), stdout);
		putchar('\n');
	}
	return (argc - 1) % 64;
}
