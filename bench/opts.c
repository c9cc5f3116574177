/* SPDX-License-Identifier: MIT */
/* Command line of the workloads, the same in the guest and natively:
 *     WORKLOAD [--option=VALUE | --option VALUE]... HOST PORT
 * Hand-written: the guest kernel has no getopt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void bench_usage(const char *name)
{
	printf("usage: %s [options] HOST PORT\n"
	       "  HOST: an IPv4 address, or vsock:CID for AF_VSOCK (native-bench only;\n"
	       "        CID 2 = the host seen from a VM, 1 = vsock_loopback)\n"
	       "  --size=BYTES      message size, K/M suffixes (default 64)\n"
	       "  --seconds=S       run for S seconds (default 2; 0 with --count)\n"
	       "  --ms=MS           run for MS milliseconds instead\n"
	       "  --count=N         stream: stop after N bytes; rr/crr: after N operations\n"
	       "                    (with --seconds too: whichever comes first)\n"
	       "  --conns=N         stream: connections, served round robin (default 1)\n"
	       "  --depth=D         stream: sends in flight, guest async API (default 0 =\n"
	       "                    twice the VM's --batch; 1 = blocking send(); natively 1)\n"
	       "  --flows=N         stream, rr: N flows at once, one per vCPU (the vmm's -c N)\n"
	       "                    or natively one per thread; one RESULT for all (default 1)\n"
	       "  --warmup=N        rr/crr: unmeasured operations first (default 10)\n"
	       "  --no-verify       rr/crr: do not compare replies with requests\n"
	       "  --no-nodelay      leave Nagle on\n"
	       "peers: stream -> a sink (reads until EOF, then closes);\n"
	       "       rr, crr -> an echo server (bench-peer echo, or socat ... PIPE)\n",
	       name);
}

/* "--name=value" or "--name value": the value, advancing *i if separate. */
static const char *value_of(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static int bad(const char *name, const char *what, const char *val)
{
	printf("%s: bad %s '%s' (see %s --help)\n", name, what, val ? val : "", name);
	return BENCH_EXIT_USAGE;
}

int bench_parse(int argc, char **argv, struct bench_opts *o)
{
	const char *name = argc > 0 ? argv[0] : "bench";
	memset(o, 0, sizeof(*o));
	o->name = name;
	if (!strcmp(name, "stream"))
		o->kind = BENCH_STREAM;
	else if (!strcmp(name, "rr"))
		o->kind = BENCH_RR;
	else if (!strcmp(name, "crr"))
		o->kind = BENCH_CRR;
	else {
		printf("bench: unknown workload '%s' (stream, rr or crr)\n", name);
		return BENCH_EXIT_USAGE;
	}
	o->size = 64;
	o->duration_ns = 2000000000ull;
	o->conns = 1;
	o->depth = 0; /* the platform's default */
	o->warmup = 10;
	o->verify = true;
	o->nodelay = true;
	o->flows = 1;

	const char *pos[2];
	int npos = 0;
	bool duration_given = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		uint64_t x;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			bench_usage(name);
			return BENCH_EXIT_USAGE;
		} else if ((v = value_of(argc, argv, &i, "--size"))) {
			if (bench_parse_size(v, &x) || x < 1 || x > BENCH_MAX_SIZE)
				return bad(name, "--size (1..16M)", v);
			o->size = (uint32_t)x;
		} else if ((v = value_of(argc, argv, &i, "--seconds"))) {
			if (bench_parse_size(v, &x) || x > 3600)
				return bad(name, "--seconds (0..3600)", v);
			o->duration_ns = x * 1000000000ull;
			duration_given = true;
		} else if ((v = value_of(argc, argv, &i, "--ms"))) {
			if (bench_parse_size(v, &x) || x > 3600000)
				return bad(name, "--ms", v);
			o->duration_ns = x * 1000000ull;
			duration_given = true;
		} else if ((v = value_of(argc, argv, &i, "--count"))) {
			if (bench_parse_size(v, &x) || x < 1)
				return bad(name, "--count", v);
			o->count = x;
		} else if ((v = value_of(argc, argv, &i, "--conns"))) {
			if (bench_parse_size(v, &x) || x < 1 || x > BENCH_MAX_CONNS)
				return bad(name, "--conns (1..64)", v);
			o->conns = (uint32_t)x;
		} else if ((v = value_of(argc, argv, &i, "--depth"))) {
			if (bench_parse_size(v, &x) || x > BENCH_MAX_DEPTH)
				return bad(name, "--depth (0..256)", v);
			o->depth = (uint32_t)x;
		} else if ((v = value_of(argc, argv, &i, "--flows"))) {
			if (bench_parse_size(v, &x) || x < 1 || x > BENCH_MAX_FLOWS)
				return bad(name, "--flows (1..16)", v);
			o->flows = (uint32_t)x;
		} else if ((v = value_of(argc, argv, &i, "--warmup"))) {
			if (bench_parse_size(v, &x) || x > 1000000)
				return bad(name, "--warmup", v);
			o->warmup = (uint32_t)x;
		} else if (!strcmp(a, "--no-verify")) {
			o->verify = false;
		} else if (!strcmp(a, "--no-nodelay")) {
			o->nodelay = false;
		} else if (a[0] == '-' && a[1] == '-') {
			return bad(name, "option", a);
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			return bad(name, "extra argument", a);
		}
	}
	if (npos != 2) {
		bench_usage(name);
		return BENCH_EXIT_USAGE;
	}
	o->host = pos[0];
	uint64_t port;
	if (bench_parse_size(pos[1], &port) || port < 1 || port > 65535)
		return bad(name, "PORT", pos[1]);
	o->port = (uint16_t)port;
	if (o->count && !duration_given)
		o->duration_ns = 0; /* a count replaces the default duration */
	if (!o->count && !o->duration_ns)
		return bad(name, "--seconds/--count: one must be > 0", "0");
	if (o->flows > 1 && o->kind == BENCH_CRR) {
		printf("%s: --flows is for stream and rr only\n", name);
		return BENCH_EXIT_USAGE;
	}
	return 0;
}

int bench_run(const struct bench_opts *o)
{
	if (o->flows > 1 && !o->flow)
		return bench_flows(o);
	switch (o->kind) {
	case BENCH_STREAM: return bench_stream(o);
	case BENCH_RR: return bench_rr(o);
	case BENCH_CRR: return bench_crr(o);
	}
	return BENCH_EXIT_USAGE;
}
