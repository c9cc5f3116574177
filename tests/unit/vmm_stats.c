/* SPDX-License-Identifier: MIT */
/* Statistics: the human table and the JSON carry the same figures. */
#include <criterion/criterion.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"

static struct vmm_stats sample(bool with_hostnet)
{
	struct vmm_stats s = {
		.host_kind = "kvm", .doorbell = "hypercall", .cpus = 2, .ram_bytes = 256ull << 20,
		.wall_seconds = 1.5, .exit_status = 7, .have_hostnet = with_hostnet,
	};
	s.total.exits[KVM_EXIT_IO] = 40;
	s.total.exits[KVM_EXIT_HYPERCALL] = 2;
	s.total.exits[50] = 1; /* a reason without a name */
	s.total.exits_other = 3;
	s.total.hypercalls = 2;
	s.total.serial_bytes = 39;
	s.hostnet.doorbells = 2;
	s.hostnet.requests = 17;
	s.hostnet.wait_ns = 2500000000ull;
	s.hostnet.batch_hist[0] = 5;
	s.hostnet.batch_hist[HOSTNET_BATCH_BUCKETS - 1] = 9;
	return s;
}

static char *render(void (*fn)(FILE *, const struct vmm_stats *), const struct vmm_stats *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	fn(f, s);
	fclose(f);
	return buf;
}

Test(vmm_stats, totals_and_names, .timeout = 10)
{
	struct vmm_stats s = sample(false);
	cr_assert_eq(stats_total_exits(&s.total), 46);
	cr_assert_str_eq(kvm_exit_reason_name(KVM_EXIT_HLT), "HLT");
	cr_assert_null(kvm_exit_reason_name(50));
	struct vcpu_counters sum = { 0 };
	stats_add(&sum, &s.total);
	stats_add(&sum, &s.total);
	cr_assert_eq(stats_total_exits(&sum), 92);
	cr_assert_eq(sum.serial_bytes, 78);
}

Test(vmm_stats, table, .timeout = 10)
{
	struct vmm_stats s = sample(true);
	char *t = render(stats_print, &s);
	cr_assert_not_null(strstr(t, "host kind              kvm"), "%s", t);
	cr_assert_not_null(strstr(t, "doorbell               hypercall"), "%s", t);
	cr_assert_not_null(strstr(t, "exits                  46"), "%s", t);
	cr_assert_not_null(strstr(t, "IO                   40"), "%s", t);
	cr_assert_not_null(strstr(t, "reason 50"), "%s", t);
	cr_assert_not_null(strstr(t, "requests             17"), "%s", t);
	cr_assert_not_null(strstr(t, "vcpu wait time       2.500000 s"), "%s", t);
	cr_assert_not_null(strstr(t, " 1:5 "), "%s", t);
	cr_assert_not_null(strstr(t, " 256:9"), "%s", t);
	free(t);
}

Test(vmm_stats, json, .timeout = 10)
{
	struct vmm_stats s = sample(true);
	char *j = render(stats_print_json, &s);
	cr_assert_not_null(strstr(j, "\"host_kind\": \"kvm\""), "%s", j);
	cr_assert_not_null(strstr(j, "\"doorbell\": \"hypercall\""), "%s", j);
	cr_assert_not_null(strstr(j, "\"total\": 46"), "%s", j);
	cr_assert_not_null(strstr(j, "\"IO\": 40"), "%s", j);
	cr_assert_not_null(strstr(j, "\"reason_50\": 1"), "%s", j);
	cr_assert_not_null(strstr(j, "\"other\": 3"), "%s", j);
	cr_assert_not_null(strstr(j, "\"exit_status\": 7"), "%s", j);
	cr_assert_not_null(strstr(j, "\"wait_ns\": 2500000000"), "%s", j);
	cr_assert_not_null(strstr(j, "\"batch_hist\": [5, 0, 0, 0, 0, 0, 0, 0, 9]"), "%s", j);
	/* Well formed enough for any parser: balanced, no trailing commas. */
	int depth = 0;
	for (const char *p = j; *p; p++) {
		depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
		cr_assert_geq(depth, 0);
		if (*p == ',') {
			const char *q = p + 1;
			while (*q == ' ' || *q == '\n')
				q++;
			cr_assert(*q != '}' && *q != ']', "trailing comma: %s", j);
		}
	}
	cr_assert_eq(depth, 0);
	free(j);
}

Test(vmm_stats, json_without_hostnet_and_file_output, .timeout = 10)
{
	struct vmm_stats s = sample(false);
	char path[] = "/tmp/vmm-stats-unit-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(stats_write_json(path, &s), 0);
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	unlink(path);
	buf[n] = '\0';
	cr_assert_not_null(strstr(buf, "\"hostnet\": null"), "%s", buf);
	cr_assert_lt(stats_write_json("/nonexistent-dir/x.json", &s), 0);
}
