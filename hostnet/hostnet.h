/* SPDX-License-Identifier: MIT */
/*
 * hostnet: the host side of the virtsocket transport.
 *
 * The VMM hands hostnet a view of guest memory (RAM at GPA 0 and the ring
 * slot) and forwards every doorbell to hostnet_doorbell().  hostnet owns the
 * worker threads that consume the submission rings, perform the socket calls
 * straight from / into guest buffers and post completions.
 *
 * Nothing here knows about KVM: unit tests pass a plain malloc'ed buffer as
 * "guest RAM" and another one as the ring slot, and drive the rings directly.
 *
 * All functions return 0 (or a documented non-negative value) or -errno, and
 * never exit the process.
 */
#ifndef VS_HOSTNET_H
#define VS_HOSTNET_H

#include <stdint.h>
#include "virtsocket/abi.h"

struct hostnet;

struct hostnet_config {
	uint8_t *ram;           /* host mapping of guest RAM, GPA 0 .. ram_bytes */
	uint64_t ram_bytes;
	uint8_t *ring;          /* host mapping of the ring slot */
	uint64_t ring_gpa;      /* its guest-physical base (page aligned) */
	uint64_t ring_bytes;    /* nr_queues * VS_QUEUE_BYTES */
	uint32_t nr_queues;     /* 1 .. VS_MAX_QUEUES */
	uint32_t workers;       /* worker threads, 1 .. nr_queues (0: one per queue) */
	uint32_t poll_us;       /* adaptive mode: spin this long after draining a queue
	                           before setting NEED_WAKEUP and sleeping (0: sleep at once) */
	enum vs_copy_mode copy; /* zero copy or bounce through the queue's bounce area */
};

/* Counters, all monotonically increasing; read with hostnet_get_stats(). */
struct hostnet_stats {
	uint64_t doorbells;          /* hostnet_doorbell() calls */
	uint64_t doorbells_bad;      /* ... rejected with -EINVAL/-ENOSYS */
	uint64_t requests;           /* SQEs consumed */
	uint64_t requests_bad;       /* ... that failed validation */
	uint64_t batches;            /* doorbells with SUBMIT that found >= 1 new SQE */
	uint64_t completions;        /* CQEs posted */
	uint64_t bytes_sent;         /* payload bytes handed to send()/sendto() */
	uint64_t bytes_received;     /* payload bytes received into guest memory */
	uint64_t bytes_copied;       /* payload bytes the VMM copied (bounce mode) */
	uint64_t wait_ns;            /* total time doorbell WAITs blocked a vCPU */
	uint64_t sockets_open;       /* currently open handles */
};

/* Validate the config, create the handle table and start the workers. */
int hostnet_create(const struct hostnet_config *cfg, struct hostnet **out);

/*
 * One doorbell, hypercall or port-I/O form alike (for the port form the VMM
 * passes a0 = ring_gpa, a1 = ring_bytes / 4096, a2 = VS_ABI_MAGIC << 32 | value).
 * Checks every argument (magic, ring GPA and size, queue, flags), then:
 * SUBMIT wakes the queue's worker; WAIT blocks the calling thread until the
 * queue's CQ is non-empty, the wait timeout passes, or hostnet_stop() is called.
 * Returns what the guest sees in rax: completions ready (>= 0) or -errno.
 */
int64_t hostnet_doorbell(struct hostnet *hn, uint64_t a0, uint64_t a1, uint64_t a2);

/* Wake every blocked WAIT (they return -EINTR) and make new ones return at once.
 * Called when the VM is ending. Safe from any thread, idempotent. */
void hostnet_stop(struct hostnet *hn);

/* Stop the workers, close every host socket, free everything. NULL is fine. */
void hostnet_destroy(struct hostnet *hn);

void hostnet_get_stats(const struct hostnet *hn, struct hostnet_stats *out);

#endif /* VS_HOSTNET_H */
