/* SPDX-License-Identifier: MIT */
/*
 * struct hostnet: one VM's transport, shared by hostnet.c (create, stop,
 * destroy, statistics) and doorbell.c (the vCPU threads' entry).  Not seen
 * by the VMM, nor by the worker, queue and ops modules below it.
 *
 * Threads
 *   - workers (cfg.workers, worker.h): each consumes its queues' SQs.
 *   - vCPU threads call hostnet_doorbell(): they kick a worker and may block
 *     in WAIT on a queue's condition variable.
 * Any thread may post a completion to any queue (a socket may be used from
 * several queues), so posting is under the queue's mutex.
 *
 * Lock order: hn_sock.lock -> hn_queue.lock; hn_sock.lock -> handle table.
 */
#ifndef VS_HOSTNET_INTERNAL_H
#define VS_HOSTNET_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"
#include "hostnet.h"
#include "link.h"
#include "policy.h"
#include "queue.h"
#include "sockbuf.h"
#include "worker.h"

struct hostnet {
	struct hostnet_config cfg;  /* workers, max_sockets filled in */
	struct hn_guest_mem mem;
	struct hn_handle_table *handles;
	struct hn_queue *queues;
	struct hn_worker *workers;
	struct hn_worker_env env;   /* what the workers share */
	struct hn_deny_log deny_log; /* egress policy denials, rate limited */
	struct hn_sockbuf sockbuf;  /* guest socket buffers: autotuned or capped */
	struct hostnet_link *link;  /* the doorbell's view (link.h): WAIT, counters */
	bool own_link;              /* made by hostnet_create(), destroyed with it */
};

#endif
