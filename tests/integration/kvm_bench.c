/* SPDX-License-Identifier: MIT */
/*
 * scripts/bench works end to end: a mini matrix (two workloads, one size,
 * native + one guest mode, three repeats of 0.1 s) must produce every file
 * the full run produces -- raw JSON per run with the vmm's statistics, the
 * CSVs, summary.md with its targets table, and the PNG plots -- and every
 * run must have worked.  Runs where the kvm label runs (full KVM natively,
 * or inside scripts/kvm-sandbox); --host-native keeps scripts/bench from
 * starting a sandbox of its own.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define BENCH_DEADLINE_S 240

static char build_dir[4096];

static void setup(void)
{
	char vmm[4096];
	snprintf(vmm, sizeof(vmm), "%s", vs_vmm_path());
	snprintf(build_dir, sizeof(build_dir), "%s", dirname(vmm));
	static const char *const needed[] = { "vmm", "guest.img", "native-bench", "bench-peer" };
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		char p[4200];
		struct stat st;
		cr_assert_lt((size_t)snprintf(p, sizeof(p), "%s/%s", build_dir, needed[i]), sizeof(p));
		cr_assert_eq(stat(p, &st), 0, "%s is missing: build everything (cmake --build %s)", p,
			     build_dir);
	}
}

TestSuite(kvm_bench, .init = setup, .timeout = BENCH_DEADLINE_S + 60);

static bool nonempty(const char *dir, const char *name)
{
	char p[4200];
	struct stat st;
	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p))
		return false;
	return stat(p, &st) == 0 && st.st_size > 0;
}

static bool is_png(const char *dir, const char *name)
{
	char p[4200];
	unsigned char magic[8] = { 0 };
	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p))
		return false;
	FILE *f = fopen(p, "rb");
	if (!f)
		return false;
	size_t n = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	return n == 8 && !memcmp(magic, "\x89PNG\r\n\x1a\n", 8);
}

static char *slurp(const char *dir, const char *name)
{
	char p[4200];
	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p))
		return NULL;
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	char *s = calloc(1, 1 << 20);
	if (s && fread(s, 1, (1 << 20) - 1, f) == 0)
		s[0] = '\0';
	fclose(f);
	return s;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Run argv with stdout+stderr into log; kill its process group at the deadline. */
static int run_logged(char *const argv[], const char *log, unsigned deadline_s)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setpgid(0, 0);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int in = open("/dev/null", O_RDONLY);
		if (fd < 0 || in < 0)
			_exit(126);
		dup2(in, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	time_t end = time(NULL) + deadline_s;
	for (;;) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (w < 0 && errno != EINTR)
			return -errno;
		if (time(NULL) >= end) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 124;
		}
		usleep(100000);
	}
}

Test(kvm_bench, mini_matrix_writes_every_file)
{
	char out[] = "/tmp/vs-kvm-bench-XXXXXX";
	cr_assert_not_null(mkdtemp(out));
	char res[4200], log[4200], script[4200];
	cr_assert_lt((size_t)snprintf(res, sizeof(res), "%s/results", out), sizeof(res));
	cr_assert_lt((size_t)snprintf(log, sizeof(log), "%s/bench.log", out), sizeof(log));
	cr_assert_lt((size_t)snprintf(script, sizeof(script), "%s/scripts/bench", VS_SOURCE_DIR),
		     sizeof(script));
	char *argv[] = { script, "--no-build", "--build", build_dir, "--host-native",
			 "--out", res, "--sizes", "64", "--seconds", "0.1",
			 "--workloads", "stream,rr", "--configs", "native,batch/zero",
			 "--repeats", "3", NULL };
	int status = run_logged(argv, log, BENCH_DEADLINE_S);
	char *text = slurp(out, "bench.log");
	fprintf(stderr, "---- scripts/bench output:\n%s----\n", text ? text : "(none)");
	free(text);
	cr_assert_eq(status, 0, "scripts/bench exited %d (124: it took longer than %d s)", status,
		     BENCH_DEADLINE_S);

	static const char *const files[] = { "env.json", "results.json", "runs.csv",
					     "summary.csv", "summary.md", "raw/0001.json",
					     "raw/0002.vmm-stats.json", "plots/plots.gp" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		cr_expect(nonempty(res, files[i]), "%s/%s is missing or empty", res, files[i]);
	static const char *const pngs[] = { "stream_throughput.png", "rr_rate.png",
					    "rr_latency.png", "exits_per_request.png" };
	for (size_t i = 0; i < sizeof(pngs) / sizeof(pngs[0]); i++)
		cr_expect(is_png(res, pngs[i]), "%s/%s is not a PNG", res, pngs[i]);

	/* 2 workloads x 1 size x 2 configs x 3 repeats, all good */
	char *runs = slurp(res, "runs.csv");
	cr_assert_not_null(runs);
	cr_expect_eq(count_lines(runs), 1 + 12, "runs.csv:\n%s", runs);
	/* column 7 is "ok" */
	for (const char *line = strchr(runs, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		const char *f = line + 1;
		for (int col = 1; col < 7 && f; col++) {
			f = strchr(f, ',');
			f = f ? f + 1 : NULL;
		}
		cr_expect(f && f[0] == '1' && f[1] == ',', "a run failed: %.200s", line + 1);
	}
	free(runs);
	char *summary = slurp(res, "summary.md");
	cr_assert_not_null(summary);
	cr_expect_not_null(strstr(summary, "## Targets"), "summary.md has no targets table");
	cr_expect_not_null(strstr(summary, "12 runs, 0 failed"), "summary.md:\n%s", summary);
	cr_expect_not_null(strstr(summary, "batch/zero / native"), "no ratio column");
	free(summary);
	char *env = slurp(res, "env.json");
	cr_assert_not_null(env);
	cr_expect_not_null(strstr(env, "\"kind\""), "env.json says nothing about the host");
	free(env);
}
