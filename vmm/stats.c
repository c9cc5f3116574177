/* SPDX-License-Identifier: MIT */
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>

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
	if (!s->have_hostnet)
		return;
	const struct hostnet_stats *h = &s->hostnet;
	fprintf(f, "  hostnet\n");
	fprintf(f, "  %-22s %" PRIu64 " (%" PRIu64 " rejected)\n", "  doorbells", h->doorbells,
		h->doorbells_bad);
	fprintf(f, "  %-22s %" PRIu64 " (%" PRIu64 " bad)\n", "  requests", h->requests,
		h->requests_bad);
	fprintf(f, "  %-22s %" PRIu64 "\n", "  batches", h->batches);
	fprintf(f, "  %-22s %" PRIu64 "\n", "  completions", h->completions);
	fprintf(f, "  %-22s %" PRIu64 "\n", "  bytes sent", h->bytes_sent);
	fprintf(f, "  %-22s %" PRIu64 "\n", "  bytes received", h->bytes_received);
	fprintf(f, "  %-22s %" PRIu64 "\n", "  bytes copied", h->bytes_copied);
	fprintf(f, "  %-22s %.6f s\n", "  vcpu wait time", (double)h->wait_ns / 1e9);
	fprintf(f, "  %-22s %" PRIu64 "\n", "  sockets open", h->sockets_open);
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
	if (!s->have_hostnet) {
		fprintf(f, "  \"hostnet\": null\n}\n");
		return;
	}
	const struct hostnet_stats *h = &s->hostnet;
	fprintf(f, "  \"hostnet\": {\n");
	fprintf(f, "    \"doorbells\": %" PRIu64 ",\n", h->doorbells);
	fprintf(f, "    \"doorbells_bad\": %" PRIu64 ",\n", h->doorbells_bad);
	fprintf(f, "    \"requests\": %" PRIu64 ",\n", h->requests);
	fprintf(f, "    \"requests_bad\": %" PRIu64 ",\n", h->requests_bad);
	fprintf(f, "    \"batches\": %" PRIu64 ",\n", h->batches);
	fprintf(f, "    \"completions\": %" PRIu64 ",\n", h->completions);
	fprintf(f, "    \"bytes_sent\": %" PRIu64 ",\n", h->bytes_sent);
	fprintf(f, "    \"bytes_received\": %" PRIu64 ",\n", h->bytes_received);
	fprintf(f, "    \"bytes_copied\": %" PRIu64 ",\n", h->bytes_copied);
	fprintf(f, "    \"wait_ns\": %" PRIu64 ",\n", h->wait_ns);
	fprintf(f, "    \"sockets_open\": %" PRIu64 "\n", h->sockets_open);
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
