/* SPDX-License-Identifier: MIT */
/*
 * The one-line error message of every "returns 0 or -errno, with one line in
 * msg" function in hostnet and the VMM (the VMM links hostnet).  Only main()
 * prints it.
 */
#ifndef VS_ERRMSG_H
#define VS_ERRMSG_H

#include <stddef.h>

/* Format one line into msg (nothing if msg is NULL or msglen 0); returns err. */
int vs_errmsg(int err, char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
