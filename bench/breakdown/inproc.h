/* SPDX-License-Identifier: MIT */
/*
 * breakdown's in-process VM: guest-lib and hostnet in one process over
 * plain memory (no KVM), the way the unit tests run them, plus host-side
 * peers (a sink and an echo server) as threads.  The doorbell is a plain
 * call into hostnet_doorbell(): what is measured is the library and the
 * worker, not a VM exit.
 */
#ifndef BREAKDOWN_INPROC_H
#define BREAKDOWN_INPROC_H

#include <stdint.h>

#include "hostnet.h"
#include "virtsocket/vsock.h"

struct inproc_opts {
	uint32_t notify;    /* enum vs_notify_mode */
	uint32_t batch;     /* guest-lib's group size */
	uint32_t poll_us;   /* hostnet's poll window */
	uint32_t spin_us;   /* guest-lib's CQ spin before a WAIT */
};

/* Start hostnet (timings on, seccomp on as in the VMM) and vs_init() the
 * library on it.  0 or -errno (with a line on stderr). */
int inproc_start(const struct inproc_opts *o);
void inproc_stop(void);
struct hostnet *inproc_hostnet(void);

/* n bytes of "guest RAM" (64-byte aligned); NULL when it is used up. */
void *inproc_alloc(size_t n);

/* A host TCP peer on 127.0.0.1 in a thread: echo (writes back what it
 * reads) or sink (reads and drops).  Returns its port, 0 on failure. */
uint16_t inproc_peer(int echo);

uint64_t inproc_now_ns(void);

#endif
