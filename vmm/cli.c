/* SPDX-License-Identifier: MIT */
/*
 * Command line parsing: kvmtool/QEMU habits (-m 256M, -c 2, --opt=value or
 * --opt value, "--" ends the options and starts the guest's arguments).
 * Hand-written rather than getopt_long so it has no global state, never
 * prints, never permutes argv, and every error names the option.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "hostnet.h"
#include "layout.h"

static const char usage_text[] =
	"usage: vmm [options] IMAGE [-- GUEST-ARGS...]\n"
	"Boot the ELF64 kernel IMAGE in a KVM virtual machine; GUEST-ARGS become its\n"
	"command line. The exit status is the guest's (0..63), or one of\n"
	"  2 bad usage/image, 3 no usable KVM, 70 guest exception, 71 VM error,\n"
	"  72 --timeout expired, 73 VMM failure, 130/143 SIGINT/SIGTERM.\n"
	"\n"
	"options:\n"
	"  -m, --mem SIZE          guest RAM, e.g. 256M or 1G (K, M, G suffixes; a bare\n"
	"                          number is MiB), 16M..3G, rounded up to 2M (default 256M)\n"
	"  -c, --cpus N            vCPUs, 1..64, one ring queue each (default 1)\n"
	"      --timeout SECONDS   stop the VM after SECONDS of wall clock time, exit 72\n"
	"                          (0 = never, the default)\n"
	"      --doorbell=KIND     auto | hypercall | pio (default auto: hypercall on\n"
	"                          full KVM, port I/O on PVM hosts)\n"
	"      --workers N         host worker threads (default 0: one per queue)\n"
	"      --poll-us N         worker poll window before sleeping: spins 5 us, then\n"
	"                          yields the CPU on each look (default 1000)\n"
	"      --spin-us N         adaptive: the guest polls its completions up to N us\n"
	"                          before it rings WAIT (default 2000; 0 also means the\n"
	"                          default, 1 spins least)\n"
	"      --notify=MODE       every | batch | adaptive (default adaptive)\n"
	"      --copy=MODE         zero | bounce (default zero)\n"
	"      --batch N           largest guest batch, 1..1024 (default 32)\n"
	"      --stats             print statistics to stderr at exit\n"
	"      --stats-json FILE   write statistics as JSON to FILE\n"
	"      --timings           time each phase of the host's request path (the t_*\n"
	"                          statistics: take, validate, run, post; costs clock reads)\n"
	"  -v, --verbose           one line about the host, doorbell, RAM and vCPUs\n"
	"      --kvm-device PATH   KVM device (default /dev/kvm, or $VS_KVM_DEVICE)\n"
	"  -h, --help              this text\n"
	"      --version           the version\n"
	"\n"
	"guest network limits (the guest is untrusted; see README \"Threat model\"):\n"
	"      --allow ADDR[/PREFIX][:PORT[-PORT]]\n"
	"                          let guest sockets connect/send there, e.g. 10.0.0.0/8:443,\n"
	"                          [fd00::]/8:53 (repeatable; without any --allow: loopback\n"
	"                          only, 127.0.0.0/8 and ::1); others fail with EACCES\n"
	"      --listen-any        let guest sockets bind/listen on non-loopback addresses\n"
	"      --bind-ports PORT[-PORT]\n"
	"                          local ports guest sockets may bind/listen on (repeatable;\n"
	"                          without any: 1024..65535); a bind to port 0 (any free)\n"
	"                          always, but a listen only on a port the rules allow\n"
	"      --max-sockets N     kernel sockets a guest causes (open ones, listen backlogs,\n"
	"                          closed ones still sending), 1..65535 (default 1024);\n"
	"                          more: EMFILE\n"
	"      --max-backlog N     listen backlog cap, 1..65535 (default 128)\n"
	"      --sock-memory SIZE  what a guest's autotuned sockets may queue together\n"
	"                          (default 1G, 0: none): its first sockets, as many as\n"
	"                          this covers at the host's tcp_wmem + tcp_rmem maxima\n"
	"                          each, keep Linux's buffer autotuning; the others get\n"
	"      --sock-buffer SIZE  as SO_SNDBUF/SO_RCVBUF, also the most a guest may set,\n"
	"                          4K..64M (default 256K; Linux doubles it and clamps it\n"
	"                          to net.core.wmem_max/rmem_max), or auto: every socket\n"
	"                          autotunes, no budget\n"
	"      --no-seccomp        run the host network workers without their seccomp\n"
	"                          filter (debugging only: by default a worker may make\n"
	"                          only the system calls it needs, and a forbidden one\n"
	"                          ends the VMM with status 73 and a one-line report)\n"
	"\n"
	"No /dev/kvm here (or a PVM one and you need hypercalls)? Run it in the KVM\n"
	"sandbox: scripts/kvm-sandbox -- build/vmm ...\n";

const char *vmm_cli_usage(void)
{
	return usage_text;
}

int vmm_parse_size(const char *s, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	unsigned shift;
	switch (*s) {
	case '\0': shift = 20; break;          /* QEMU habit: a bare number is MiB */
	case 'k': case 'K': shift = 10; s++; break;
	case 'm': case 'M': shift = 20; s++; break;
	case 'g': case 'G': shift = 30; s++; break;
	default: return -EINVAL;
	}
	if (*s != '\0')
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

/* Decimal unsigned number that fits in 32 bits, nothing else. */
static int parse_u32(const char *s, uint32_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	if (*s != '\0')
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* An option that takes a value: "--name=value", "--name value", "-x value",
 * "-xvalue".  Returns the value, advancing *i past a separate value word. */
struct opt_ctx {
	int argc;
	char *const *argv;
	int i;
	const char *word;  /* the option word as written, for messages */
	const char *value; /* attached value ("=..." or "-xVALUE"), or NULL */
};

static const char *take_value(struct opt_ctx *o)
{
	if (o->value)
		return o->value;
	if (o->i + 1 >= o->argc)
		return NULL;
	o->i++;
	return o->argv[o->i];
}

enum opt_id {
	OPT_MEM, OPT_CPUS, OPT_TIMEOUT, OPT_DOORBELL, OPT_WORKERS, OPT_POLL_US,
	OPT_SPIN_US, OPT_NOTIFY, OPT_COPY, OPT_BATCH, OPT_STATS, OPT_STATS_JSON, OPT_VERBOSE,
	OPT_KVM_DEVICE, OPT_HELP, OPT_VERSION, OPT_ALLOW, OPT_LISTEN_ANY, OPT_BIND_PORTS,
	OPT_MAX_SOCKETS, OPT_MAX_BACKLOG, OPT_NO_SECCOMP, OPT_SOCK_BUFFER, OPT_TIMINGS,
	OPT_SOCK_MEMORY,
};

struct opt_def {
	const char *long_name;
	char short_name;
	bool has_value;
	enum opt_id id;
};

static const struct opt_def opts[] = {
	{ "mem", 'm', true, OPT_MEM },
	{ "cpus", 'c', true, OPT_CPUS },
	{ "timeout", 0, true, OPT_TIMEOUT },
	{ "doorbell", 0, true, OPT_DOORBELL },
	{ "workers", 0, true, OPT_WORKERS },
	{ "poll-us", 0, true, OPT_POLL_US },
	{ "spin-us", 0, true, OPT_SPIN_US },
	{ "notify", 0, true, OPT_NOTIFY },
	{ "copy", 0, true, OPT_COPY },
	{ "batch", 0, true, OPT_BATCH },
	{ "stats", 0, false, OPT_STATS },
	{ "stats-json", 0, true, OPT_STATS_JSON },
	{ "verbose", 'v', false, OPT_VERBOSE },
	{ "kvm-device", 0, true, OPT_KVM_DEVICE },
	{ "help", 'h', false, OPT_HELP },
	{ "version", 0, false, OPT_VERSION },
	{ "allow", 0, true, OPT_ALLOW },
	{ "listen-any", 0, false, OPT_LISTEN_ANY },
	{ "bind-ports", 0, true, OPT_BIND_PORTS },
	{ "max-sockets", 0, true, OPT_MAX_SOCKETS },
	{ "max-backlog", 0, true, OPT_MAX_BACKLOG },
	{ "no-seccomp", 0, false, OPT_NO_SECCOMP },
	{ "sock-buffer", 0, true, OPT_SOCK_BUFFER },
	{ "sock-memory", 0, true, OPT_SOCK_MEMORY },
	{ "timings", 0, false, OPT_TIMINGS },
};

static const struct opt_def *find_long(const char *name, size_t len)
{
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
		if (strlen(opts[k].long_name) == len && !strncmp(opts[k].long_name, name, len))
			return &opts[k];
	return NULL;
}

static const struct opt_def *find_short(char c)
{
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
		if (opts[k].short_name && opts[k].short_name == c)
			return &opts[k];
	return NULL;
}

/* The options that take a bounded whole number, and where it goes. */
static const struct number_opt {
	enum opt_id id;
	uint32_t lo, hi;
	const char *what;
	size_t offset;           /* of a uint32_t in struct vmm_config */
} number_opts[] = {
	{ OPT_CPUS, 1, VS_MAX_QUEUES, "a vCPU count", offsetof(struct vmm_config, cpus) },
	{ OPT_TIMEOUT, 0, VMM_TIMEOUT_MAX, "seconds (0 = no timeout)",
	  offsetof(struct vmm_config, timeout_s) },
	{ OPT_WORKERS, 0, VS_MAX_QUEUES, "a worker thread count (0 = one per queue)",
	  offsetof(struct vmm_config, workers) },
	{ OPT_POLL_US, 0, VMM_POLL_US_MAX, "microseconds", offsetof(struct vmm_config, poll_us) },
	{ OPT_SPIN_US, 0, VMM_POLL_US_MAX, "microseconds", offsetof(struct vmm_config, spin_us) },
	{ OPT_BATCH, 1, VS_SQ_ENTRIES, "a batch size", offsetof(struct vmm_config, batch) },
	{ OPT_MAX_SOCKETS, 1, HOSTNET_MAX_SOCKETS_LIMIT, "a socket count",
	  offsetof(struct vmm_config, max_sockets) },
	{ OPT_MAX_BACKLOG, 1, 65535, "a listen backlog",
	  offsetof(struct vmm_config, max_backlog) },
};

/* A bounded number option: one message shape for all of them. */
static int apply_number(const struct number_opt *n, const char *word, const char *v,
			struct vmm_config *cfg, char *msg, size_t msglen)
{
	uint32_t value;
	if (parse_u32(v, &value) < 0 || value < n->lo || value > n->hi)
		return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad %s '%s': expected %s, a whole "
				 "number between %" PRIu32 " and %" PRIu32, word, v, n->what,
				 n->lo, n->hi);
	memcpy((char *)cfg + n->offset, &value, sizeof(value));
	return 0;
}

/* Options without a value. */
static int apply_flag(enum opt_id id, struct vmm_config *cfg)
{
	switch (id) {
	case OPT_STATS:
		cfg->stats = true;
		return 0;
	case OPT_VERBOSE:
		cfg->verbose = true;
		return 0;
	case OPT_LISTEN_ANY:
		cfg->policy.listen_any = true;
		return 0;
	case OPT_NO_SECCOMP:
		cfg->seccomp = false;
		return 0;
	case OPT_TIMINGS:
		cfg->timings = true;
		return 0;
	case OPT_HELP:
		cfg->action = VMM_ACTION_HELP;
		return 0;
	case OPT_VERSION:
		cfg->action = VMM_ACTION_VERSION;
		return 0;
	default:
		return -ENOENT;
	}
}

/* --doorbell, --notify, --copy: one of a few words. */
static int apply_mode(enum opt_id id, const char *v, struct vmm_config *cfg, char *msg,
		      size_t msglen)
{
	if (id == OPT_DOORBELL) {
		if (!strcmp(v, "auto"))
			cfg->doorbell = VMM_DOORBELL_AUTO;
		else if (!strcmp(v, "hypercall"))
			cfg->doorbell = VMM_DOORBELL_HYPERCALL;
		else if (!strcmp(v, "pio"))
			cfg->doorbell = VMM_DOORBELL_PIO;
		else
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --doorbell '%s': "
					 "expected auto, hypercall or pio", v);
	} else if (id == OPT_NOTIFY) {
		if (!strcmp(v, "every"))
			cfg->notify = VS_NOTIFY_EVERY;
		else if (!strcmp(v, "batch"))
			cfg->notify = VS_NOTIFY_BATCH;
		else if (!strcmp(v, "adaptive"))
			cfg->notify = VS_NOTIFY_ADAPTIVE;
		else
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --notify '%s': expected "
					 "every, batch or adaptive", v);
	} else {
		if (!strcmp(v, "zero"))
			cfg->copy = VS_COPY_ZERO;
		else if (!strcmp(v, "bounce"))
			cfg->copy = VS_COPY_BOUNCE;
		else
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --copy '%s': expected "
					 "zero or bounce", v);
	}
	return 0;
}

/* The other options with a value. */
static int apply_value(enum opt_id id, const char *v, struct vmm_config *cfg, char *msg,
		       size_t msglen)
{
	char why[200];
	uint64_t b;
	switch (id) {
	case OPT_MEM:
		if (vmm_parse_size(v, &b) < 0 || b < VMM_RAM_MIN || b > VMM_RAM_MAX)
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --mem '%s': expected a "
					 "size like 256M (K, M, G suffixes), between 16M and 3G "
					 "(guest RAM must stay below the ring slot at 4G)", v);
		cfg->ram_bytes = (b + VMM_HUGE_PAGE_SIZE - 1) & ~(VMM_HUGE_PAGE_SIZE - 1);
		return 0;
	case OPT_DOORBELL:
	case OPT_NOTIFY:
	case OPT_COPY:
		return apply_mode(id, v, cfg, msg, msglen);
	case OPT_SOCK_BUFFER:
		if (!strcmp(v, "auto")) {
			cfg->sock_buffer = HOSTNET_SOCK_BUFFER_AUTO;
			return 0;
		}
		if (vmm_parse_size(v, &b) < 0 || b < HOSTNET_SOCK_BUFFER_MIN ||
		    b > HOSTNET_SOCK_BUFFER_MAX)
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --sock-buffer '%s': "
					 "expected a size like 256K (K, M suffixes) between 4K "
					 "and 64M, or auto", v);
		cfg->sock_buffer = (uint32_t)b;
		return 0;
	case OPT_SOCK_MEMORY:
		if (strcmp(v, "0") && (vmm_parse_size(v, &b) < 0 || b > VMM_SOCK_MEMORY_MAX))
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --sock-memory '%s': "
					 "expected a size like 1G (K, M, G suffixes) up to 1024G, "
					 "or 0", v);
		cfg->sock_memory = strcmp(v, "0") ? b : 0;
		return 0;
	case OPT_STATS_JSON:
		if (!*v)
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --stats-json '': expected a "
					 "file name");
		cfg->stats_json = v;
		return 0;
	case OPT_KVM_DEVICE:
		if (!*v)
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --kvm-device '': expected "
					 "a device path such as /dev/kvm");
		cfg->kvm_device = v;
		return 0;
	case OPT_ALLOW:
		if (hostnet_policy_add(&cfg->policy, v, why, sizeof(why)) < 0)
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --allow: %s", why);
		return 0;
	case OPT_BIND_PORTS:
		if (hostnet_policy_add_bind_ports(&cfg->policy, v, why, sizeof(why)) < 0)
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --bind-ports: %s", why);
		return 0;
	default:
		return -ENOENT;
	}
}

static int apply(const struct opt_def *d, struct opt_ctx *o, struct vmm_config *cfg,
		 char *msg, size_t msglen)
{
	char word[64];
	snprintf(word, sizeof(word), "--%s", d->long_name);
	const char *v = NULL;
	if (d->has_value) {
		v = take_value(o);
		if (!v)
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: option %s needs a value (see "
					 "vmm --help)", o->word);
	} else if (o->value) {
		return vs_errmsg(-EINVAL, msg, msglen, "vmm: option %s takes no value (see vmm "
				 "--help)", word);
	}

	for (size_t k = 0; k < sizeof(number_opts) / sizeof(number_opts[0]); k++)
		if (number_opts[k].id == d->id)
			return apply_number(&number_opts[k], word, v, cfg, msg, msglen);
	int r = d->has_value ? apply_value(d->id, v, cfg, msg, msglen) : apply_flag(d->id, cfg);
	if (r == -ENOENT)
		return vs_errmsg(-EINVAL, msg, msglen, "vmm: internal error parsing %s", o->word);
	return r;
}

static void set_defaults(struct vmm_config *cfg, const char *env_kvm_device)
{
	*cfg = (struct vmm_config){
		.action = VMM_ACTION_RUN,
		.ram_bytes = VMM_RAM_DEFAULT,
		.cpus = 1,
		.doorbell = VMM_DOORBELL_AUTO,
		.poll_us = VMM_DEFAULT_POLL_US,
		.sock_memory = HOSTNET_DEFAULT_SOCK_MEMORY,
		.spin_us = VS_DEFAULT_SPIN_US,
		.notify = VS_NOTIFY_ADAPTIVE,
		.copy = VS_COPY_ZERO,
		.batch = VS_DEFAULT_BATCH,
		.seccomp = true,
		.kvm_device = (env_kvm_device && *env_kvm_device) ? env_kvm_device
								   : VMM_DEFAULT_KVM_DEVICE,
	};
}

/* The option word a ("--name[=value]", "-x", "-xVALUE"): its definition in
 * *d and any attached value in o->value. */
static int find_option(const char *a, struct opt_ctx *o, const struct opt_def **d, char *msg,
		       size_t msglen)
{
	if (a[1] == '-') {
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		*d = find_long(name, len);
		if (!*d)
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: unknown option '%.*s' (see vmm "
					 "--help)", (int)(len + 2), a);
		o->value = eq ? eq + 1 : NULL;
		return 0;
	}
	*d = find_short(a[1]);
	if (!*d)
		return vs_errmsg(-EINVAL, msg, msglen, "vmm: unknown option '-%c' (see vmm --help)",
				 a[1]);
	if (a[2] != '\0') {
		if (!(*d)->has_value)
			return vs_errmsg(-EINVAL, msg, msglen, "vmm: option -%c takes no value; write "
					 "options separately (see vmm --help)", a[1]);
		o->value = a + 2;
	}
	return 0;
}

static int set_image(const char *a, struct vmm_config *cfg, char *msg, size_t msglen)
{
	if (cfg->image)
		return vs_errmsg(-EINVAL, msg, msglen, "vmm: unexpected argument '%s' after image "
				 "'%s': guest arguments go after '--'", a, cfg->image);
	if (!*a)
		return vs_errmsg(-EINVAL, msg, msglen, "vmm: empty image name: give the path of an "
				 "ELF64 kernel such as build/guest.img");
	cfg->image = a;
	return 0;
}

/* What the words together must say. */
static int check_config(const struct vmm_config *cfg, char *msg, size_t msglen)
{
	if (!cfg->image)
		return vs_errmsg(-EINVAL, msg, msglen, "vmm: missing IMAGE: give the path of an "
				 "ELF64 kernel, e.g. vmm build/guest.img -- hello (see vmm --help)");
	if (cfg->workers > cfg->cpus)
		return vs_errmsg(-EINVAL, msg, msglen, "vmm: bad --workers %" PRIu32 ": at most one "
				 "worker per queue, and there are %" PRIu32 " queues (one per "
				 "vCPU, -c)", cfg->workers, cfg->cpus);
	return 0;
}

int vmm_cli_parse(int argc, char *const argv[], const char *env_kvm_device,
		  struct vmm_config *cfg, char *msg, size_t msglen)
{
	set_defaults(cfg, env_kvm_device);
	if (msg && msglen)
		msg[0] = '\0';

	struct opt_ctx o = { .argc = argc, .argv = argv };
	for (o.i = 1; o.i < argc; o.i++) {
		const char *a = argv[o.i];
		o.word = a;
		o.value = NULL;
		if (!strcmp(a, "--")) {
			cfg->guest_argc = argc - o.i - 1;
			cfg->guest_argv = argv + o.i + 1;
			break;
		}
		int r;
		if (a[0] == '-' && a[1] != '\0') {
			const struct opt_def *d = NULL;
			r = find_option(a, &o, &d, msg, msglen);
			if (r == 0)
				r = apply(d, &o, cfg, msg, msglen);
		} else {
			r = set_image(a, cfg, msg, msglen);
		}
		if (r < 0)
			return r;
		if (cfg->action != VMM_ACTION_RUN)
			return 0; /* --help / --version: nothing else matters */
	}
	return check_config(cfg, msg, msglen);
}
