/* <strings.h> */
#include <ctype.h>
#include <string.h>
#include <strings.h>

int strncasecmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		int d = tolower((unsigned char)*a) - tolower((unsigned char)*b);

		if (d || !*a)
			return d;
	}
	return 0;
}

int strcasecmp(const char *a, const char *b)
{
	return strncasecmp(a, b, (size_t)-1);
}

void bzero(void *p, size_t n)
{
	memset(p, 0, n);
}
