/* SPDX-License-Identifier: MIT */
/*
 * The benchmark workloads (stream, rr, crr), written once against POSIX
 * sockets.  They build twice:
 *
 *   - into guest.img as the guest programs `stream`, `rr` and `crr`, where
 *     the socket calls are guest-lib's POSIX wrappers over the virtsocket
 *     rings (platform_guest.c);
 *   - into build/native-bench on the host, over glibc and the host kernel:
 *     the same code path without a VM, i.e. the limit (platform_native.c).
 *
 * Everything that differs between the two lives behind platform.h.  No
 * floating point anywhere: the guest kernel is built -mgeneral-regs-only,
 * so rates are computed and printed in fixed point.
 *
 * Each run prints exactly one machine-readable line on stdout,
 *     RESULT {"bench":"stream",...}
 * (a JSON object on one line) that scripts/bench parses; anything else it
 * prints is for people.  Exit status: 0 ok, 1 the run failed (a socket call
 * failed, the peer misbehaved, a reply was corrupt), 2 bad usage.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_EXIT_OK    0
#define BENCH_EXIT_FAIL  1
#define BENCH_EXIT_USAGE 2

#define BENCH_MAX_SIZE   (16u << 20) /* VS_MAX_IO_BYTES: one request's payload */
#define BENCH_MAX_CONNS  64u
#define BENCH_MAX_DEPTH  256u        /* <= VS_SQ_ENTRIES */
#define BENCH_MAX_FLOWS  16u         /* --flows: one vCPU (or thread) each */

enum bench_kind { BENCH_STREAM, BENCH_RR, BENCH_CRR };

struct bench_opts {
	enum bench_kind kind;
	const char *name;        /* "stream", "rr", "crr" */
	const char *host;        /* dotted IPv4 of the peer */
	uint16_t port;
	uint32_t size;           /* message size in bytes */
	uint64_t duration_ns;    /* stop after this long (0: use count) */
	uint64_t count;          /* stream: bytes; rr/crr: operations (0: use duration) */
	uint32_t conns;          /* stream: connections, served round robin */
	uint32_t depth;          /* stream: sends in flight (guest async API; 1 = send();
	                            0 = the platform's default) */
	uint32_t warmup;         /* rr/crr: operations before measuring starts */
	bool verify;             /* rr/crr: compare every reply with its request */
	bool nodelay;            /* TCP_NODELAY on every connection */
	uint32_t flows;          /* stream, rr: independent flows at once, one per vCPU
	                            (guest) or thread (native); flows.c */
	struct bench_flow *flow; /* set by flows.c for one of them: record, do not print */
};

/* Parse "WORKLOAD [options] HOST PORT" (argv[0] is the workload name).
 * Returns 0, or BENCH_EXIT_USAGE after printing what was wrong. */
int bench_parse(int argc, char **argv, struct bench_opts *o);
void bench_usage(const char *name);

/* Run the workload o->kind; prints the RESULT line.  Returns an exit status. */
int bench_run(const struct bench_opts *o);
int bench_stream(const struct bench_opts *o);
int bench_rr(const struct bench_opts *o);
int bench_crr(const struct bench_opts *o);

/* ---- several flows at once (flows.c) ---------------------------------------- *
 *
 * With --flows N (> 1) the workload runs N times at once, flow i on vCPU i in
 * the guest (so on queue i, served by its own worker) or on thread i natively:
 * the same code both ways, so "N vCPUs against N native threads" compares like
 * with like.  Every flow connects, waits at a common start line
 * (bench_flow_sync), measures, and hands its figures to flows.c
 * (bench_flow_record) instead of printing; flows.c prints one RESULT line with
 * the aggregate and each flow's share. */
struct plat_counters;
struct bench_flow {
	unsigned index;
	int status;                  /* the flow's exit status */
	bool arrived;                /* passed the start line (or gave up before it) */
	bool recorded;
	bool counted;                /* requests/doorbells are valid (guest) */
	uint64_t t0, ns;             /* its measured window */
	uint64_t bytes, ops;         /* stream: bytes, messages; rr: bytes, round trips */
	uint64_t busy_ns;            /* rr: time inside round trips */
	uint64_t lat_p50_ns, lat_p99_ns;
	uint64_t requests, doorbells; /* guest: this flow's queue, in the window */
	struct bench_flows *group;
};
int bench_flows(const struct bench_opts *o);
/* Wait until every flow is ready to measure (no-op for a lone run). */
void bench_flow_sync(const struct bench_opts *o);
/* A flow's figures; returns true if o is a flow (then the caller prints
 * nothing), false for a lone run. */
bool bench_flow_record(const struct bench_opts *o, uint64_t t0, uint64_t ns, uint64_t bytes,
		       uint64_t ops, const struct plat_counters *c0,
		       const struct plat_counters *c1);

/* ---- shared helpers (common.c) ------------------------------------------ */

/* A connected TCP socket to the peer (with TCP_NODELAY if asked), or -1
 * after printing why. */
int bench_connect(const struct bench_opts *o);
/* Send / receive exactly len bytes (looping over short counts); 0 or -1
 * (errno set; recv: errno = ECONNRESET at an early EOF). */
int bench_send_all(int fd, const void *buf, size_t len);
int bench_recv_all(int fd, void *buf, size_t len);
/* Fill buf with the pattern of message number seq (cheap, position and
 * sequence dependent, so a stale or shifted reply is caught). */
void bench_pattern(void *buf, size_t len, uint64_t seq);
/* Parse a size with an optional K/M/G suffix (binary); -1 if malformed. */
int bench_parse_size(const char *s, uint64_t *out);
/* Print "<what>: <strerror(errno)>" to stdout (the guest has one console). */
void bench_perror(const struct bench_opts *o, const char *what);

/* Latency samples: a fixed array; once full, reservoir sampling keeps a
 * uniform sample of every operation (so long runs are not biased towards
 * their start). */
#define BENCH_MAX_SAMPLES 65536u
struct bench_lat {
	uint64_t *ns;            /* BENCH_MAX_SAMPLES entries */
	uint64_t seen;           /* operations offered */
	uint32_t kept;           /* entries in ns */
	uint64_t rng;
	uint64_t sum_ns, min_ns, max_ns;
	bool sorted;             /* ns[] is sorted (bench_lat_pct did it) */
};
int bench_lat_init(struct bench_lat *l);   /* 0 or -1 (no memory) */
void bench_lat_add(struct bench_lat *l, uint64_t ns);
/* Sorts the sample; pct_x10 is the percentile times ten (500 = p50, 999 = p99.9). */
uint64_t bench_lat_pct(struct bench_lat *l, unsigned pct_x10);
void bench_lat_free(struct bench_lat *l);

/* ---- the RESULT line (result.c) ------------------------------------------ */

/* Build the line piece by piece into a fixed buffer, then print it at once
 * (one console write in the guest). */
struct bench_out {
	char buf[4096];           /* room for --flows' per-flow figures */
	size_t len;
	bool first;
};
/* "RESULT {", the workload's name, where it ran (plat_describe) and the size. */
void out_begin(struct bench_out *b, const struct bench_opts *o);
void out_str(struct bench_out *b, const char *key, const char *val);
void out_u64(struct bench_out *b, const char *key, uint64_t val);
/* num / den printed with three decimals (0 if den == 0). */
void out_ratio(struct bench_out *b, const char *key, uint64_t num, uint64_t den);
/* A nested object: out_obj_begin(b, "transport") ... out_obj_end(b); key NULL
 * for an element of an array: out_arr_begin(b, "per_flow") ... out_arr_end(b). */
void out_obj_begin(struct bench_out *b, const char *key);
void out_obj_end(struct bench_out *b);
void out_arr_begin(struct bench_out *b, const char *key);
void out_arr_end(struct bench_out *b);
/* The latency fields of rr and crr (lat_*_ns, lat_samples); in rr.c. */
void bench_out_latency(struct bench_out *b, struct bench_lat *lat);
/* Close the object and print the line. */
void out_end(struct bench_out *b);

#endif /* BENCH_H */
