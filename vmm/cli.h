/* SPDX-License-Identifier: MIT */
/*
 * The vmm command line, parsed into a plain struct by a pure function
 * (no exit, no printing, no globals) so unit tests can drive it.
 */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtsocket/abi.h"
#include "policy.h" /* hostnet: struct hostnet_policy */

#define VMM_DEFAULT_KVM_DEVICE "/dev/kvm"
/* How long a worker keeps polling its rings (and sockets) after the last
 * work before it sleeps: long enough to cover a request/response round trip
 * where exits are expensive (the nested sandbox), so that a reply's next
 * request finds the worker still polling instead of costing a doorbell exit.
 * The price is up to this long of one host core per idle phase. */
#define VMM_DEFAULT_POLL_US    1000u
#define VMM_TIMEOUT_MAX        (7u * 24u * 3600u) /* a week: surely a typo beyond */
#define VMM_POLL_US_MAX        1000000u
#define VMM_SOCK_MEMORY_MAX    (1ull << 40)

enum vmm_action {
	VMM_ACTION_RUN = 0,
	VMM_ACTION_HELP,
	VMM_ACTION_VERSION,
};

/* What the user asked for; the doorbell actually used is decided later
 * (host_kind.h) from this and what the host can do. */
enum vmm_doorbell_request {
	VMM_DOORBELL_AUTO = 0,
	VMM_DOORBELL_HYPERCALL,
	VMM_DOORBELL_PIO,
};

struct vmm_config {
	enum vmm_action action;
	const char *image;              /* points into argv */
	uint64_t ram_bytes;             /* a multiple of 2 MiB, VMM_RAM_MIN..VMM_RAM_MAX */
	uint32_t cpus;                  /* 1..VS_MAX_QUEUES */
	uint32_t timeout_s;             /* 0: no watchdog */
	enum vmm_doorbell_request doorbell;
	uint32_t workers;               /* 0: one per queue */
	uint32_t poll_us;
	uint32_t spin_us;               /* guest-lib's adaptive spin cap (boot info) */
	enum vs_notify_mode notify;
	enum vs_copy_mode copy;
	uint32_t batch;                 /* 1..VS_SQ_ENTRIES */
	bool stats;
	const char *stats_json;         /* NULL: none */
	bool verbose;
	const char *kvm_device;
	struct hostnet_policy policy;   /* --allow rules, --listen-any */
	uint32_t max_sockets;           /* 0: hostnet's default */
	uint32_t max_backlog;           /* 0: hostnet's default */
	bool seccomp;                   /* hostnet workers filtered (default); --no-seccomp */
	uint32_t sock_buffer;           /* 0: hostnet's default; HOSTNET_SOCK_BUFFER_AUTO */
	uint64_t sock_memory;           /* --sock-memory: autotuned sockets' budget */
	bool timings;                   /* --timings: hostnet's per-phase times */
	int guest_argc;                 /* words after "--" */
	char *const *guest_argv;        /* points into argv */
};

/*
 * Parse argv (argv[0] is the program name).  env_kvm_device is the value of
 * $VS_KVM_DEVICE or NULL; --kvm-device wins over it.  On error returns
 * -EINVAL and puts one line (no trailing newline) into msg.
 */
int vmm_cli_parse(int argc, char *const argv[], const char *env_kvm_device,
		  struct vmm_config *cfg, char *msg, size_t msglen);

/* Parse "256M", "1G", "4096K", "16777216": bytes, or -EINVAL / -ERANGE. */
int vmm_parse_size(const char *s, uint64_t *out);

/* The --help text. */
const char *vmm_cli_usage(void);

#endif /* VMM_CLI_H */
