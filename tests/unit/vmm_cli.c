/* SPDX-License-Identifier: MIT */
/* vmm command line: good and bad command lines, sizes, bounds. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "layout.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char msg[512];

static int parse(int argc, char *const argv[], struct vmm_config *cfg)
{
	memset(msg, 0x55, sizeof(msg));
	return vmm_cli_parse(argc, argv, NULL, cfg, msg, sizeof(msg));
}

/* Every error is exactly one line that starts with "vmm: ". */
static void assert_one_line_error(int r)
{
	cr_assert_eq(r, -EINVAL);
	cr_assert(strncmp(msg, "vmm: ", 5) == 0, "message: %s", msg);
	cr_assert_null(strchr(msg, '\n'), "message: %s", msg);
	cr_assert_gt(strlen(msg), 20);
}

Test(vmm_cli, defaults, .timeout = 10)
{
	char *argv[] = { "vmm", "guest.img" };
	struct vmm_config c;
	cr_assert_eq(parse(ARGC(argv), argv, &c), 0);
	cr_assert_eq(c.action, VMM_ACTION_RUN);
	cr_assert_str_eq(c.image, "guest.img");
	cr_assert_eq(c.ram_bytes, 256ull << 20);
	cr_assert_eq(c.cpus, 1);
	cr_assert_eq(c.timeout_s, 0);
	cr_assert_eq(c.doorbell, VMM_DOORBELL_AUTO);
	cr_assert_eq(c.notify, VS_NOTIFY_ADAPTIVE);
	cr_assert_eq(c.copy, VS_COPY_ZERO);
	cr_assert_eq(c.batch, VS_DEFAULT_BATCH);
	cr_assert_eq(c.workers, 0);
	cr_assert_eq(c.poll_us, VMM_DEFAULT_POLL_US);
	cr_assert_eq(c.spin_us, VS_DEFAULT_SPIN_US);
	cr_assert(!c.stats && !c.verbose);
	cr_assert_null(c.stats_json);
	cr_assert_str_eq(c.kvm_device, "/dev/kvm");
	cr_assert_eq(c.guest_argc, 0);
}

Test(vmm_cli, every_option_long_and_short, .timeout = 10)
{
	char *argv[] = { "vmm", "-m", "1G", "-c", "4", "--timeout", "30", "--doorbell=pio",
			 "--workers", "2", "--poll-us=100", "--spin-us", "700", "--notify", "batch", "--copy=bounce",
			 "--batch", "64", "--stats", "--stats-json", "/tmp/s.json", "-v",
			 "--kvm-device=/dev/null", "img", "--", "ticks", "3", "100" };
	struct vmm_config c;
	cr_assert_eq(parse(ARGC(argv), argv, &c), 0, "%s", msg);
	cr_assert_eq(c.ram_bytes, 1ull << 30);
	cr_assert_eq(c.cpus, 4);
	cr_assert_eq(c.timeout_s, 30);
	cr_assert_eq(c.doorbell, VMM_DOORBELL_PIO);
	cr_assert_eq(c.workers, 2);
	cr_assert_eq(c.poll_us, 100);
	cr_assert_eq(c.spin_us, 700);
	cr_assert_eq(c.notify, VS_NOTIFY_BATCH);
	cr_assert_eq(c.copy, VS_COPY_BOUNCE);
	cr_assert_eq(c.batch, 64);
	cr_assert(c.stats && c.verbose);
	cr_assert_str_eq(c.stats_json, "/tmp/s.json");
	cr_assert_str_eq(c.kvm_device, "/dev/null");
	cr_assert_str_eq(c.image, "img");
	cr_assert_eq(c.guest_argc, 3);
	cr_assert_str_eq(c.guest_argv[0], "ticks");
	cr_assert_str_eq(c.guest_argv[2], "100");
}

Test(vmm_cli, attached_short_values_and_options_after_image, .timeout = 10)
{
	char *argv[] = { "vmm", "img", "-m512M", "-c2", "--mem=64M", "--notify=every" };
	struct vmm_config c;
	cr_assert_eq(parse(ARGC(argv), argv, &c), 0, "%s", msg);
	cr_assert_eq(c.ram_bytes, 64ull << 20); /* the last one wins */
	cr_assert_eq(c.cpus, 2);
	cr_assert_eq(c.notify, VS_NOTIFY_EVERY);
}

Test(vmm_cli, guest_args_may_look_like_options, .timeout = 10)
{
	char *argv[] = { "vmm", "img", "--", "-m", "--help", "--" };
	struct vmm_config c;
	cr_assert_eq(parse(ARGC(argv), argv, &c), 0, "%s", msg);
	cr_assert_eq(c.ram_bytes, VMM_RAM_DEFAULT);
	cr_assert_eq(c.action, VMM_ACTION_RUN);
	cr_assert_eq(c.guest_argc, 3);
	cr_assert_str_eq(c.guest_argv[1], "--help");
}

Test(vmm_cli, help_and_version_need_no_image, .timeout = 10)
{
	char *h[] = { "vmm", "--help" };
	char *h2[] = { "vmm", "-h", "--bogus-after-help" };
	char *v[] = { "vmm", "--version" };
	struct vmm_config c;
	cr_assert_eq(parse(ARGC(h), h, &c), 0);
	cr_assert_eq(c.action, VMM_ACTION_HELP);
	cr_assert_eq(parse(ARGC(h2), h2, &c), 0);
	cr_assert_eq(c.action, VMM_ACTION_HELP);
	cr_assert_eq(parse(ARGC(v), v, &c), 0);
	cr_assert_eq(c.action, VMM_ACTION_VERSION);
	cr_assert_not_null(strstr(vmm_cli_usage(), "--doorbell"));
	cr_assert_not_null(strstr(vmm_cli_usage(), "scripts/kvm-sandbox"));
}

Test(vmm_cli, kvm_device_from_environment_and_option, .timeout = 10)
{
	char *a[] = { "vmm", "img" };
	char *b[] = { "vmm", "--kvm-device", "/dev/opt", "img" };
	struct vmm_config c;
	cr_assert_eq(vmm_cli_parse(ARGC(a), a, "/dev/env", &c, msg, sizeof(msg)), 0);
	cr_assert_str_eq(c.kvm_device, "/dev/env");
	cr_assert_eq(vmm_cli_parse(ARGC(b), b, "/dev/env", &c, msg, sizeof(msg)), 0);
	cr_assert_str_eq(c.kvm_device, "/dev/opt");
	cr_assert_eq(vmm_cli_parse(ARGC(a), a, "", &c, msg, sizeof(msg)), 0);
	cr_assert_str_eq(c.kvm_device, "/dev/kvm");
}

Test(vmm_cli, missing_image, .timeout = 10)
{
	char *argv[] = { "vmm", "-m", "64M" };
	struct vmm_config c;
	assert_one_line_error(parse(ARGC(argv), argv, &c));
	cr_assert_not_null(strstr(msg, "missing IMAGE"), "%s", msg);
}

Test(vmm_cli, unknown_options, .timeout = 10)
{
	char *a[] = { "vmm", "--frobnicate", "img" };
	char *b[] = { "vmm", "-q", "img" };
	char *d[] = { "vmm", "--mem2=3", "img" };
	struct vmm_config c;
	assert_one_line_error(parse(ARGC(a), a, &c));
	cr_assert_not_null(strstr(msg, "'--frobnicate'"), "%s", msg);
	assert_one_line_error(parse(ARGC(b), b, &c));
	cr_assert_not_null(strstr(msg, "'-q'"), "%s", msg);
	assert_one_line_error(parse(ARGC(d), d, &c));
	cr_assert_not_null(strstr(msg, "--mem2"), "%s", msg);
}

Test(vmm_cli, option_value_missing_or_unwanted, .timeout = 10)
{
	char *a[] = { "vmm", "img", "-m" };
	char *b[] = { "vmm", "--stats=yes", "img" };
	char *d[] = { "vmm", "-vx", "img" };
	struct vmm_config c;
	assert_one_line_error(parse(ARGC(a), a, &c));
	cr_assert_not_null(strstr(msg, "needs a value"), "%s", msg);
	assert_one_line_error(parse(ARGC(b), b, &c));
	cr_assert_not_null(strstr(msg, "takes no value"), "%s", msg);
	assert_one_line_error(parse(ARGC(d), d, &c));
}

Test(vmm_cli, second_image_is_an_error, .timeout = 10)
{
	char *argv[] = { "vmm", "img", "hello" };
	struct vmm_config c;
	assert_one_line_error(parse(ARGC(argv), argv, &c));
	cr_assert_not_null(strstr(msg, "after '--'"), "%s", msg);
}

Test(vmm_cli, bad_mem_message_is_the_documented_one, .timeout = 10)
{
	char *argv[] = { "vmm", "--mem", "12Q", "img" };
	struct vmm_config c;
	assert_one_line_error(parse(ARGC(argv), argv, &c));
	cr_assert_not_null(strstr(msg, "vmm: bad --mem '12Q': expected a size like 256M (K, M, "
				  "G suffixes), between 16M and 3G"), "%s", msg);
}

Test(vmm_cli, mem_bounds, .timeout = 10)
{
	const char *bad[] = { "15M", "0", "3073M", "4G", "16383K", "", "M", "-1G", "1.5G", "1GB",
			      "99999999999999999999G" };
	const char *good[] = { "16M", "3G", "3072M", "16384K", "1g", "64" };
	struct vmm_config c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "vmm", "-m", (char *)bad[i], "img" };
		assert_one_line_error(parse(ARGC(argv), argv, &c));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *argv[] = { "vmm", "-m", (char *)good[i], "img" };
		cr_assert_eq(parse(ARGC(argv), argv, &c), 0, "%s: %s", good[i], msg);
	}
}

Test(vmm_cli, mem_is_rounded_up_to_2m, .timeout = 10)
{
	char *argv[] = { "vmm", "-m", "17M", "img" };
	struct vmm_config c;
	cr_assert_eq(parse(ARGC(argv), argv, &c), 0);
	cr_assert_eq(c.ram_bytes, 18ull << 20);
}

Test(vmm_cli, parse_size, .timeout = 10)
{
	uint64_t v;
	cr_assert_eq(vmm_parse_size("256M", &v), 0);
	cr_assert_eq(v, 256ull << 20);
	cr_assert_eq(vmm_parse_size("4096K", &v), 0);
	cr_assert_eq(v, 4ull << 20);
	cr_assert_eq(vmm_parse_size("2G", &v), 0);
	cr_assert_eq(v, 2ull << 30);
	cr_assert_eq(vmm_parse_size("2", &v), 0); /* bare number: MiB, as QEMU */
	cr_assert_eq(v, 2ull << 20);
	cr_assert_eq(vmm_parse_size("0K", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(vmm_parse_size("12Q", &v), -EINVAL);
	cr_assert_eq(vmm_parse_size("", &v), -EINVAL);
	cr_assert_eq(vmm_parse_size(" 1M", &v), -EINVAL);
	cr_assert_eq(vmm_parse_size("1M ", &v), -EINVAL);
	cr_assert_eq(vmm_parse_size("+1M", &v), -EINVAL);
	cr_assert_eq(vmm_parse_size("1MM", &v), -EINVAL);
	cr_assert_eq(vmm_parse_size(NULL, &v), -EINVAL);
	/* Overflow: of the digits, and of the shift. */
	cr_assert_eq(vmm_parse_size("18446744073709551616K", &v), -ERANGE);
	cr_assert_eq(vmm_parse_size("17179869184G", &v), -ERANGE); /* 2^34 G = 2^64 */
	cr_assert_eq(vmm_parse_size("17179869183G", &v), 0);
	cr_assert_eq(v, 17179869183ull << 30);
	cr_assert_eq(vmm_parse_size("18014398509481984K", &v), -ERANGE); /* 2^54 K */
}

Test(vmm_cli, cpus_bounds, .timeout = 10)
{
	const char *bad[] = { "0", "65", "-1", "x", "2x", "", "4294967297" };
	struct vmm_config c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "vmm", "--cpus", (char *)bad[i], "img" };
		assert_one_line_error(parse(ARGC(argv), argv, &c));
		cr_assert_not_null(strstr(msg, "--cpus"), "%s", msg);
	}
	char *ok[] = { "vmm", "-c", "64", "img" };
	cr_assert_eq(parse(ARGC(ok), ok, &c), 0);
	cr_assert_eq(c.cpus, 64);
}

Test(vmm_cli, numbers_and_enums, .timeout = 10)
{
	struct vmm_config c;
	const char *bad[][2] = {
		{ "--timeout", "-5" }, { "--timeout", "1e3" }, { "--timeout", "999999999" },
		{ "--batch", "0" }, { "--batch", "1025" }, { "--poll-us", "abc" },
		{ "--spin-us", "-1" }, { "--spin-us", "1000001" },
		{ "--workers", "65" }, { "--doorbell", "mmio" }, { "--notify", "sometimes" },
		{ "--copy", "triple" }, { "--stats-json", "" }, { "--kvm-device", "" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "vmm", (char *)bad[i][0], (char *)bad[i][1], "img" };
		assert_one_line_error(parse(ARGC(argv), argv, &c));
		cr_assert_not_null(strstr(msg, bad[i][0]), "%s: %s", bad[i][0], msg);
	}
	char *ok[] = { "vmm", "--timeout", "0", "--doorbell", "hypercall", "--batch", "1024",
		       "img" };
	cr_assert_eq(parse(ARGC(ok), ok, &c), 0, "%s", msg);
	cr_assert_eq(c.doorbell, VMM_DOORBELL_HYPERCALL);
	cr_assert_eq(c.batch, VS_SQ_ENTRIES);
}

Test(vmm_cli, more_workers_than_queues, .timeout = 10)
{
	char *argv[] = { "vmm", "-c", "2", "--workers", "3", "img" };
	struct vmm_config c;
	assert_one_line_error(parse(ARGC(argv), argv, &c));
	cr_assert_not_null(strstr(msg, "--workers"), "%s", msg);
}

Test(vmm_cli, egress_policy_and_limits, .timeout = 10)
{
	char *d[] = { "vmm", "img" };
	char *a[] = { "vmm", "--allow", "10.0.0.0/8:80-443", "--allow=[::1]:22", "--listen-any",
		      "--max-sockets", "16", "--max-backlog=8", "--bind-ports", "8080",
		      "--bind-ports=5000-5999", "img" };
	struct vmm_config c;
	cr_assert_eq(parse(ARGC(d), d, &c), 0);
	cr_assert_eq(c.policy.nr_rules, 0, "default: loopback only");
	cr_assert_not(c.policy.listen_any);
	cr_assert_eq(c.max_sockets, 0);
	cr_assert_eq(c.max_backlog, 0);
	cr_assert_eq(parse(ARGC(a), a, &c), 0, "%s", msg);
	cr_assert_eq(c.policy.nr_rules, 2);
	cr_assert_eq(c.policy.rules[0].family, 4);
	cr_assert_eq(c.policy.rules[0].prefix, 8);
	cr_assert_eq(c.policy.rules[0].port_lo, 80);
	cr_assert_eq(c.policy.rules[0].port_hi, 443);
	cr_assert_eq(c.policy.rules[1].family, 6);
	cr_assert_eq(c.policy.rules[1].port_lo, 22);
	cr_assert(c.policy.listen_any);
	cr_assert_eq(c.max_sockets, 16);
	cr_assert_eq(c.max_backlog, 8);
	cr_assert_eq(c.policy.nr_bind_ports, 2);
	cr_assert_eq(c.policy.bind_ports[0].lo, 8080);
	cr_assert_eq(c.policy.bind_ports[1].hi, 5999);
}

Test(vmm_cli, bad_egress_policy_and_limits, .timeout = 10)
{
	char *a[] = { "vmm", "--allow", "10.0.0.0/33", "img" };
	char *b[] = { "vmm", "--allow", "fd00::1/8:53", "img" };
	char *d[] = { "vmm", "--max-sockets", "0", "img" };
	char *e[] = { "vmm", "--max-sockets", "65536", "img" };
	char *f[] = { "vmm", "--max-backlog", "0", "img" };
	char *g[] = { "vmm", "--listen-any=yes", "img" };
	char *h[] = { "vmm", "--bind-ports", "9-8", "img" };
	struct vmm_config c;
	assert_one_line_error(parse(ARGC(a), a, &c));
	cr_assert_not_null(strstr(msg, "--allow"), "%s", msg);
	cr_assert_not_null(strstr(msg, "prefix"), "%s", msg);
	assert_one_line_error(parse(ARGC(b), b, &c));
	assert_one_line_error(parse(ARGC(d), d, &c));
	cr_assert_not_null(strstr(msg, "--max-sockets"), "%s", msg);
	assert_one_line_error(parse(ARGC(e), e, &c));
	assert_one_line_error(parse(ARGC(f), f, &c));
	assert_one_line_error(parse(ARGC(g), g, &c));
	assert_one_line_error(parse(ARGC(h), h, &c));
	cr_assert_not_null(strstr(msg, "--bind-ports"), "%s", msg);
}

Test(vmm_cli, seccomp_on_by_default_and_no_seccomp_turns_it_off, .timeout = 10)
{
	char *d[] = { "vmm", "img" };
	char *n[] = { "vmm", "--no-seccomp", "img", "--", "hello" };
	char *bad[] = { "vmm", "--no-seccomp=1", "img" };
	struct vmm_config c;
	cr_assert_eq(parse(ARGC(d), d, &c), 0, "%s", msg);
	cr_assert(c.seccomp, "the workers are filtered unless asked otherwise");
	cr_assert_eq(parse(ARGC(n), n, &c), 0, "%s", msg);
	cr_assert_not(c.seccomp);
	cr_assert_eq(c.guest_argc, 1);
	assert_one_line_error(parse(ARGC(bad), bad, &c));
	cr_assert_not_null(strstr(msg, "takes no value"), "%s", msg);
	cr_assert_not_null(strstr(vmm_cli_usage(), "--no-seccomp"));
}
