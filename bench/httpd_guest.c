/* SPDX-License-Identifier: MIT */
/* The guest program `httpd`: bench/httpd.c over guest-lib's epoll (httpd.h). */
#include <kernel/program.h>

#include "httpd.h"

static int httpd_main(int argc, char **argv)
{
	struct httpd_opts o;
	int err = httpd_parse(argv[0], argc, argv, &o);
	return err ? err : httpd_run(argv[0], &o);
}
GUEST_PROGRAM("httpd", httpd_main, "[--size BYTES] [--keep-alive] PORT [TEXT [MAX_REQUESTS]]",
	      "serve a text page on 127.0.0.1:PORT (epoll, any number of connections)");
