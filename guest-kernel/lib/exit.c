/* exit() and atexit(): the handlers run last registered first, then _Exit() (the kernel)
 * ends the VM with the status.  Output is unbuffered, so there is nothing to flush. */
#include <stdlib.h>

#define ATEXIT_MAX 32 /* POSIX asks for at least 32 */

static void (*handlers[ATEXIT_MAX])(void);
static int nr_handlers;

int atexit(void (*fn)(void))
{
	if (!fn || nr_handlers == ATEXIT_MAX)
		return -1;
	handlers[nr_handlers++] = fn;
	return 0;
}

_Noreturn void exit(int status)
{
	while (nr_handlers > 0)
		handlers[--nr_handlers]();  /* a handler that calls exit() continues the list */
	_Exit(status);
}
