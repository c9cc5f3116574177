/* <sys/types.h>: the few POSIX types guest code may name. */
#ifndef _SYS_TYPES_H
#define _SYS_TYPES_H

#include <stddef.h>

typedef long ssize_t;
typedef long off_t;

#endif
