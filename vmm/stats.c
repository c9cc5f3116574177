/* SPDX-License-Identifier: MIT */
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <string.h>

/* hostnet's scalar counters, in the order both outputs list them. */
static const struct {
	const char *json;
	const char *label;
	size_t offset;
	bool is_ns;
} hn_fields[] = {
#define HN(field, label, ns) { #field, label, offsetof(struct hostnet_stats, field), ns }
	HN(doorbells, "doorbells", false),
	HN(doorbells_bad, "doorbells rejected", false),
	HN(requests, "requests", false),
	HN(requests_bad, "requests bad", false),
	HN(batches, "batches", false),
	HN(completions, "completions", false),
	HN(bytes_sent, "bytes sent", false),
	HN(send_calls, "send syscalls", false),
	HN(syscalls_skipped, "syscalls skipped (not ready)", false),
	HN(bytes_received, "bytes received", false),
	HN(bytes_copied, "bytes copied", false),
	HN(wait_ns, "vcpu wait time", true),
	HN(sockets_open, "sockets open", false),
	HN(cq_overflows, "cq overflows", false),
	HN(sq_stalls, "sq stalls", false),
	HN(queues_broken, "queues broken", false),
	HN(denied, "egress denied", false),
	HN(worker_wakeups, "worker wakeups", false),
	HN(worker_busy_ns, "worker busy", true),
	HN(worker_poll_ns, "worker polling", true),
	HN(worker_sleep_ns, "worker asleep", true),
	HN(poll_loops, "worker idle loops", false),
	HN(kick_wakes, "kicks that woke a worker", false),
	HN(kick_wake_ns, "kick to worker running", true),
	HN(wait_wakes, "completions that woke a WAIT", false),
	HN(wait_wake_ns, "completion to WAIT returning", true),
	HN(wake_calls, "futex wakes for WAITs", false),
	HN(kicks, "doorbells that kicked a worker", false),
	HN(t_take_ns, "timed: take SQEs", true),
	HN(t_validate_ns, "timed: validate", true),
	HN(t_run_ns, "timed: run (syscalls)", true),
	HN(t_events_ns, "timed: readiness", true),
	HN(t_post_ns, "timed: post CQEs", true),
	HN(t_posts, "timed: CQEs posted", false),
#undef HN
};
#define HN_FIELDS (sizeof(hn_fields) / sizeof(hn_fields[0]))

static uint64_t hn_value(const struct hostnet_stats *h, size_t i)
{
	uint64_t v;
	memcpy(&v, (const char *)h + hn_fields[i].offset, sizeof(v));
	return v;
}

void stats_add(struct vcpu_counters *sum, const struct vcpu_counters *c)
{
	for (unsigned i = 0; i < VMM_EXIT_REASONS; i++)
		sum->exits[i] += c->exits[i];
	sum->exits_other += c->exits_other;
	sum->hypercalls += c->hypercalls;
	sum->pio_doorbells += c->pio_doorbells;
	sum->serial_bytes += c->serial_bytes;
	sum->kicks += c->kicks;
}

uint64_t stats_total_exits(const struct vcpu_counters *c)
{
	uint64_t t = c->exits_other;
	for (unsigned i = 0; i < VMM_EXIT_REASONS; i++)
		t += c->exits[i];
	return t;
}

const char *kvm_exit_reason_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN: return "UNKNOWN";
	case KVM_EXIT_EXCEPTION: return "EXCEPTION";
	case KVM_EXIT_IO: return "IO";
	case KVM_EXIT_HYPERCALL: return "HYPERCALL";
	case KVM_EXIT_DEBUG: return "DEBUG";
	case KVM_EXIT_HLT: return "HLT";
	case KVM_EXIT_MMIO: return "MMIO";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "IRQ_WINDOW_OPEN";
	case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
	case KVM_EXIT_INTR: return "INTR";
	case KVM_EXIT_SET_TPR: return "SET_TPR";
	case KVM_EXIT_TPR_ACCESS: return "TPR_ACCESS";
	case KVM_EXIT_NMI: return "NMI";
	case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	case KVM_EXIT_SYSTEM_EVENT: return "SYSTEM_EVENT";
	case KVM_EXIT_IOAPIC_EOI: return "IOAPIC_EOI";
	case KVM_EXIT_HYPERV: return "HYPERV";
	case KVM_EXIT_X86_RDMSR: return "X86_RDMSR";
	case KVM_EXIT_X86_WRMSR: return "X86_WRMSR";
	case KVM_EXIT_DIRTY_RING_FULL: return "DIRTY_RING_FULL";
	case KVM_EXIT_X86_BUS_LOCK: return "X86_BUS_LOCK";
	case KVM_EXIT_XEN: return "XEN";
	case KVM_EXIT_NOTIFY: return "NOTIFY";
	}
	return NULL;
}

void stats_print(FILE *f, const struct vmm_stats *s)
{
	const struct vcpu_counters *c = &s->total;
	fprintf(f, "vmm statistics\n");
	fprintf(f, "  %-22s %s\n", "host kind", s->host_kind);
	fprintf(f, "  %-22s %s\n", "doorbell", s->doorbell);
	fprintf(f, "  %-22s %" PRIu32 "\n", "vcpus", s->cpus);
	fprintf(f, "  %-22s %" PRIu64 " MiB\n", "ram", s->ram_bytes >> 20);
	fprintf(f, "  %-22s %.3f s\n", "run time", s->wall_seconds);
	fprintf(f, "  %-22s %d\n", "exit status", s->exit_status);
	fprintf(f, "  %-22s %" PRIu64 "\n", "exits", stats_total_exits(c));
	for (unsigned i = 0; i < VMM_EXIT_REASONS; i++) {
		if (!c->exits[i])
			continue;
		const char *n = kvm_exit_reason_name(i);
		char label[40];
		if (n)
			snprintf(label, sizeof(label), "  %s", n);
		else
			snprintf(label, sizeof(label), "  reason %u", i);
		fprintf(f, "  %-22s %" PRIu64 "\n", label, c->exits[i]);
	}
	if (c->exits_other)
		fprintf(f, "  %-22s %" PRIu64 "\n", "  other", c->exits_other);
	fprintf(f, "  %-22s %" PRIu64 "\n", "hypercall doorbells", c->hypercalls);
	fprintf(f, "  %-22s %" PRIu64 "\n", "pio doorbells", c->pio_doorbells);
	fprintf(f, "  %-22s %" PRIu64 "\n", "serial bytes", c->serial_bytes);
	fprintf(f, "  %-22s %" PRIu64 "\n", "signal kicks", c->kicks);
	for (uint32_t i = 0; s->per_vcpu && s->cpus > 1 && i < s->cpus; i++)
		fprintf(f, "  vcpu %-17" PRIu32 " %" PRIu64 " exits, %" PRIu64 " doorbells\n", i,
			stats_total_exits(&s->per_vcpu[i]),
			s->per_vcpu[i].hypercalls + s->per_vcpu[i].pio_doorbells);
	if (!s->have_hostnet)
		return;
	fprintf(f, "  hostnet\n");
	for (size_t i = 0; i < HN_FIELDS; i++) {
		uint64_t v = hn_value(&s->hostnet, i);
		if (hn_fields[i].is_ns)
			fprintf(f, "    %-20s %.6f s\n", hn_fields[i].label, (double)v / 1e9);
		else
			fprintf(f, "    %-20s %" PRIu64 "\n", hn_fields[i].label, v);
	}
	fprintf(f, "    %-20s", "batch sizes");
	for (unsigned b = 0; b < HOSTNET_BATCH_BUCKETS; b++) {
		unsigned lo = 1u << b, hi = (2u << b) - 1; /* bucket b: lo <= n <= hi */
		if (lo == hi || b == HOSTNET_BATCH_BUCKETS - 1)
			fprintf(f, " %u:%" PRIu64, lo, s->hostnet.batch_hist[b]);
		else
			fprintf(f, " %u-%u:%" PRIu64, lo, hi, s->hostnet.batch_hist[b]);
	}
	fprintf(f, "\n");
	for (uint64_t i = 0; s->hostnet.nr_queues > 1 && i < s->hostnet.nr_queues; i++) {
		const struct hostnet_queue_stats *q = &s->hostnet.queue[i];
		fprintf(f, "    queue %-14" PRIu64 " %" PRIu64 " requests, %" PRIu64
			" completions, %" PRIu64 " doorbells\n", i, q->requests, q->completions,
			q->doorbells);
	}
}

/* "per_vcpu": each vCPU's exits, so that exits per request can be told per vCPU
 * (with hostnet's per-queue requests: queue i is vCPU i's). */
static void print_json_per_vcpu(FILE *f, const struct vmm_stats *s)
{
	if (!s->per_vcpu)
		return;
	fprintf(f, "  \"per_vcpu\": [");
	for (uint32_t i = 0; i < s->cpus; i++) {
		const struct vcpu_counters *v = &s->per_vcpu[i];
		fprintf(f, "%s\n    {\"exits\": %" PRIu64 ", \"hypercalls\": %" PRIu64
			", \"pio_doorbells\": %" PRIu64 ", \"serial_bytes\": %" PRIu64
			", \"hlt\": %" PRIu64 "}", i ? "," : "", stats_total_exits(v), v->hypercalls,
			v->pio_doorbells, v->serial_bytes, v->exits[KVM_EXIT_HLT]);
	}
	fprintf(f, "\n  ],\n");
}

static void print_json_queues(FILE *f, const struct hostnet_stats *h)
{
	fprintf(f, "    \"queues\": [");
	for (uint64_t i = 0; i < h->nr_queues && i < VS_MAX_QUEUES; i++) {
		const struct hostnet_queue_stats *q = &h->queue[i];
		fprintf(f, "%s\n      {\"doorbells\": %" PRIu64 ", \"wait_ns\": %" PRIu64
			", \"requests\": %" PRIu64 ", \"batches\": %" PRIu64
			", \"completions\": %" PRIu64 "}", i ? "," : "", q->doorbells, q->wait_ns,
			q->requests, q->batches, q->completions);
	}
	fprintf(f, "\n    ],\n");
}

void stats_print_json(FILE *f, const struct vmm_stats *s)
{
	const struct vcpu_counters *c = &s->total;
	fprintf(f, "{\n");
	fprintf(f, "  \"host_kind\": \"%s\",\n", s->host_kind);
	fprintf(f, "  \"doorbell\": \"%s\",\n", s->doorbell);
	fprintf(f, "  \"vcpus\": %" PRIu32 ",\n", s->cpus);
	fprintf(f, "  \"ram_bytes\": %" PRIu64 ",\n", s->ram_bytes);
	fprintf(f, "  \"wall_seconds\": %.6f,\n", s->wall_seconds);
	fprintf(f, "  \"exit_status\": %d,\n", s->exit_status);
	fprintf(f, "  \"exits\": {\n    \"total\": %" PRIu64, stats_total_exits(c));
	for (unsigned i = 0; i < VMM_EXIT_REASONS; i++) {
		if (!c->exits[i])
			continue;
		const char *n = kvm_exit_reason_name(i);
		if (n)
			fprintf(f, ",\n    \"%s\": %" PRIu64, n, c->exits[i]);
		else
			fprintf(f, ",\n    \"reason_%u\": %" PRIu64, i, c->exits[i]);
	}
	if (c->exits_other)
		fprintf(f, ",\n    \"other\": %" PRIu64, c->exits_other);
	fprintf(f, "\n  },\n");
	fprintf(f, "  \"hypercall_doorbells\": %" PRIu64 ",\n", c->hypercalls);
	fprintf(f, "  \"pio_doorbells\": %" PRIu64 ",\n", c->pio_doorbells);
	fprintf(f, "  \"serial_bytes\": %" PRIu64 ",\n", c->serial_bytes);
	fprintf(f, "  \"signal_kicks\": %" PRIu64 ",\n", c->kicks);
	print_json_per_vcpu(f, s);
	if (!s->have_hostnet) {
		fprintf(f, "  \"hostnet\": null\n}\n");
		return;
	}
	fprintf(f, "  \"hostnet\": {\n");
	for (size_t i = 0; i < HN_FIELDS; i++)
		fprintf(f, "    \"%s\": %" PRIu64 ",\n", hn_fields[i].json,
			hn_value(&s->hostnet, i));
	print_json_queues(f, &s->hostnet);
	fprintf(f, "    \"batch_hist\": [");
	for (unsigned b = 0; b < HOSTNET_BATCH_BUCKETS; b++)
		fprintf(f, "%s%" PRIu64, b ? ", " : "", s->hostnet.batch_hist[b]);
	fprintf(f, "]\n");
	fprintf(f, "  }\n}\n");
}

int stats_write_json(const char *path, const struct vmm_stats *s)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	stats_print_json(f, s);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}
