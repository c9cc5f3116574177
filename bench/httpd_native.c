/* SPDX-License-Identifier: MIT */
/*
 * native-httpd: the guest's httpd (httpd.h) on the host itself, over glibc and
 * the host kernel: what the guest server is compared with.  Raises its soft
 * RLIMIT_NOFILE to the hard one, so 10,000 connections fit where the host allows.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>

#include "httpd.h"

int main(int argc, char **argv)
{
	struct httpd_opts o;
	int err = httpd_parse("native-httpd", argc, argv, &o);
	if (err)
		return err;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r))
			perror("native-httpd: setrlimit(RLIMIT_NOFILE)");
	}
	return httpd_run("native-httpd", &o);
}
