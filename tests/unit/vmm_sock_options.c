/* SPDX-License-Identifier: MIT */
/* The socket-buffer options (--sock-buffer, --sock-memory), --timings, and
 * what the vmm reads of the host's TCP autotuning (host_tcp.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "hostnet.h"
#include "host_tcp.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char msg[512];

static int parse(int argc, char *const argv[], struct vmm_config *cfg)
{
	return vmm_cli_parse(argc, argv, NULL, cfg, msg, sizeof(msg));
}

Test(vmm_sock_options, defaults_and_values, .timeout = 10)
{
	char *d[] = { "vmm", "img" };
	char *a[] = { "vmm", "--sock-buffer", "1M", "--sock-memory=2G", "--timings", "img" };
	char *b[] = { "vmm", "--sock-buffer=auto", "--sock-memory", "0", "img" };
	struct vmm_config c;
	cr_assert_eq(parse(ARGC(d), d, &c), 0, "%s", msg);
	cr_assert_eq(c.sock_buffer, 0, "hostnet's default cap");
	cr_assert_eq(c.sock_memory, HOSTNET_DEFAULT_SOCK_MEMORY);
	cr_assert_not(c.timings);
	cr_assert_eq(parse(ARGC(a), a, &c), 0, "%s", msg);
	cr_assert_eq(c.sock_buffer, 1u << 20);
	cr_assert_eq(c.sock_memory, 2ull << 30);
	cr_assert(c.timings);
	cr_assert_eq(parse(ARGC(b), b, &c), 0, "%s", msg);
	cr_assert_eq(c.sock_buffer, HOSTNET_SOCK_BUFFER_AUTO);
	cr_assert_eq(c.sock_memory, 0);
}

Test(vmm_sock_options, bad_values_say_what_is_expected, .timeout = 10)
{
	const char *bad[][2] = {
		{ "--sock-buffer", "1K" }, { "--sock-buffer", "65M" }, { "--sock-buffer", "big" },
		{ "--sock-memory", "2048G" }, { "--sock-memory", "-1" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *a[] = { "vmm", (char *)bad[i][0], (char *)bad[i][1], "img" };
		struct vmm_config c;
		cr_assert_eq(parse(ARGC(a), a, &c), -EINVAL, "%s %s", bad[i][0], bad[i][1]);
		cr_assert(strstr(msg, bad[i][0]) && strstr(msg, "expected"), "%s", msg);
	}
}

static char *fake_proc(const char *wmem, const char *rmem)
{
	static char dir[] = "/tmp/vs-host-tcp-XXXXXX";
	strcpy(dir, "/tmp/vs-host-tcp-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	const char *names[] = { "tcp_wmem", "tcp_rmem" }, *text[] = { wmem, rmem };
	for (int i = 0; i < 2; i++) {
		if (!text[i])
			continue;
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "w");
		cr_assert_not_null(f);
		fputs(text[i], f);
		fclose(f);
	}
	return dir;
}

/* host_tcp_autotune_bytes() of a fake /proc/sys/net/ipv4, then remove it. */
static uint64_t autotune_of(const char *wmem, const char *rmem)
{
	char *dir = fake_proc(wmem, rmem);
	uint64_t v = host_tcp_autotune_bytes(dir);
	char path[128];
	snprintf(path, sizeof(path), "%s/tcp_wmem", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/tcp_rmem", dir);
	unlink(path);
	rmdir(dir);
	return v;
}

Test(vmm_sock_options, autotune_bytes_are_the_two_maxima, .timeout = 10)
{
	cr_assert_eq(autotune_of("4096\t16384\t4194304\n", "4096\t131072\t6291456\n"),
		     4194304ull + 6291456ull);
	cr_assert_eq(autotune_of("4096 16384\n", "1 2 3\n"), 0, "a short file: nothing autotunes");
	cr_assert_eq(autotune_of("1 2 3\n", NULL), 0, "no tcp_rmem");
	cr_assert_eq(host_tcp_autotune_bytes("/nonexistent"), 0);
}
