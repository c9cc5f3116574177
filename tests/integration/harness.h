/* SPDX-License-Identifier: MIT */
/*
 * Integration-test harness: run build/vmm as a child (fork + exec, never a
 * shell), capture its stdout and stderr, and make sure it cannot hang a test:
 * the vmm always gets --timeout, and the harness SIGKILLs it at a hard
 * deadline past that.
 */
#ifndef VS_TEST_HARNESS_H
#define VS_TEST_HARNESS_H

#include <stdbool.h>

struct vs_result {
	int status;       /* exit status; 128 + signal if a signal ended it */
	bool signaled;    /* ended by a signal (a crash, or our kill) */
	bool killed;      /* the harness killed it at the deadline */
	double seconds;   /* wall clock from fork to reap */
	char *out;        /* captured stdout, NUL terminated (never NULL after a run) */
	char *err;        /* captured stderr */
};

struct vs_run_opts {
	unsigned timeout_s;     /* --timeout for the vmm, added unless args have one (0: 20) */
	double deadline_s;      /* SIGKILL after this (0: timeout_s + VS_HARNESS_GRACE_S) */
	double signal_after_s;  /* > 0: send `signal` to the vmm after this long */
	int signal;
};

#define VS_HARNESS_DEFAULT_TIMEOUT_S 20u
#define VS_HARNESS_GRACE_S 15.0

/* Run the vmm with args (NULL terminated, not including argv[0]).
 * Returns 0, or -errno if the child could not be started (the test fails). */
int vs_run_vmm(struct vs_result *r, const struct vs_run_opts *opts, const char *const args[]);

/* Shorthand: vs_vmm(&r, timeout_s, "arg", ..., NULL). */
int vs_vmm(struct vs_result *r, unsigned timeout_s, ...) __attribute__((sentinel));

void vs_result_free(struct vs_result *r);

/* Paths compiled in by tests/CMakeLists.txt. */
const char *vs_vmm_path(void);
const char *vs_guest_img(void);

/* True if this host's /dev/kvm is PVM (/sys/module/kvm_pvm exists). */
bool vs_host_is_pvm(void);

/* A figure from the vmm's --stats report in r->err: the number after LABEL
 * ("pio doorbells", "vcpu wait time" (seconds), "run time"...), or -1 if the
 * report has no such line. */
double vs_stat(const struct vs_result *r, const char *label);

/* Print what the vmm said, for a failing assertion's context. */
void vs_result_dump(const struct vs_result *r, const char *what);

#endif /* VS_TEST_HARNESS_H */
