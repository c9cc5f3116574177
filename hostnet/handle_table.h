/* SPDX-License-Identifier: MIT */
/*
 * The per-VM table of guest socket handles.  The guest never sees a host fd:
 * it sees a handle = generation << slot_bits | slot, with slot < max,
 * slot_bits just wide enough for max - 1 (0 for max 1, 16 for 65535) and the
 * generation in the other 31 - slot_bits bits, from 1: a handle is a positive
 * int32 and never 0.  A slot's generation goes up every time it is freed, and
 * freed slots are reused oldest-first.  A slot whose generation is used up is
 * retired, never reused: so a handle, once closed, never names a socket
 * again (abi.h) and a stale handle is rejected with -EBADF.  The price: a VM
 * can open about 2^31 sockets in its life (2^30 at least, whatever max is);
 * after that SOCKET and ACCEPT fail with -EMFILE.
 *
 * Reservations: besides handles, a caller may reserve room within max for
 * kernel sockets the guest caused that have no handle (connections waiting
 * in a listener's backlog, closed sockets still sending).  count + reserved
 * never exceeds max.
 *
 * Thread-safe: the table's mutex for adding and removing, each slot's own mutex
 * for hn_handles_get() (handle_table.c); neither is held while taking a socket's
 * lock.
 */
#ifndef VS_HOSTNET_HANDLE_TABLE_H
#define VS_HOSTNET_HANDLE_TABLE_H

#include <stdint.h>

struct hn_sock;
struct hn_handle_table;

/* max: 1 .. 65535 slots.  Returns 0, -EINVAL or -ENOMEM. */
int hn_handles_create(uint32_t max, struct hn_handle_table **out);
/* The same with each slot's last generation given (1 .. the most that
 * fits; 0: the most that fits).  For tests of slot retirement. */
int hn_handles_create_gen(uint32_t max, uint32_t gen_max, struct hn_handle_table **out);

/* The slot a handle names (whether or not it is open). */
uint32_t hn_handles_slot(const struct hn_handle_table *t, uint32_t handle);
/* Frees the table only; the sockets still in it are the caller's business
 * (take them out with hn_handles_snapshot() + hn_handles_remove() first). */
void hn_handles_destroy(struct hn_handle_table *t);

/* Give s a handle.  The table takes over the caller's reference to s.
 * Returns 0 or -EMFILE (count + reserved at max, or every free slot
 * retired: the caller keeps its reference). */
int hn_handles_add(struct hn_handle_table *t, struct hn_sock *s, uint32_t *handle);

/* The socket behind handle with a new reference, or NULL (-EBADF). */
struct hn_sock *hn_handles_get(struct hn_handle_table *t, uint32_t handle);

/* Free handle's slot and return the table's reference to its socket, or NULL
 * if handle is not open (or, with expect != NULL, names another socket). */
struct hn_sock *hn_handles_remove(struct hn_handle_table *t, uint32_t handle,
				  const struct hn_sock *expect);

uint32_t hn_handles_count(struct hn_handle_table *t);

/* Reserve up to want places (fewer if count + reserved would pass max);
 * returns how many were reserved.  hn_handles_unreserve() gives n back. */
uint32_t hn_handles_reserve(struct hn_handle_table *t, uint32_t want);
void hn_handles_unreserve(struct hn_handle_table *t, uint32_t n);
uint32_t hn_handles_reserved(struct hn_handle_table *t);

/* Up to max open sockets, each with a new reference; returns how many. */
uint32_t hn_handles_snapshot(struct hn_handle_table *t, struct hn_sock **out, uint32_t max);

#endif
