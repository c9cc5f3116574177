/* SPDX-License-Identifier: MIT */
/*
 * The per-VM table of guest socket handles.  The guest never sees a host fd:
 * it sees a handle = generation << 16 | slot, with slot < max and generation
 * 1 .. 0x7fff, so a handle is a positive int32 and never 0.  A slot's
 * generation changes every time it is freed, and freed slots are reused
 * oldest-first, so a stale handle (closed, or from before a reuse) is
 * rejected with -EBADF instead of reaching someone else's socket.
 *
 * Thread-safe (one mutex, never held while taking a socket's lock).
 */
#ifndef VS_HOSTNET_HANDLE_TABLE_H
#define VS_HOSTNET_HANDLE_TABLE_H

#include <stdint.h>

struct hn_sock;
struct hn_handle_table;

/* max: 1 .. 65535 slots.  Returns 0, -EINVAL or -ENOMEM. */
int hn_handles_create(uint32_t max, struct hn_handle_table **out);
/* Frees the table only; the sockets still in it are the caller's business
 * (take them out with hn_handles_snapshot() + hn_handles_remove() first). */
void hn_handles_destroy(struct hn_handle_table *t);

/* Give s a handle.  The table takes over the caller's reference to s.
 * Returns 0 or -EMFILE (table full: the caller keeps its reference). */
int hn_handles_add(struct hn_handle_table *t, struct hn_sock *s, uint32_t *handle);

/* The socket behind handle with a new reference, or NULL (-EBADF). */
struct hn_sock *hn_handles_get(struct hn_handle_table *t, uint32_t handle);

/* Free handle's slot and return the table's reference to its socket, or NULL
 * if handle is not open (or, with expect != NULL, names another socket). */
struct hn_sock *hn_handles_remove(struct hn_handle_table *t, uint32_t handle,
				  const struct hn_sock *expect);

uint32_t hn_handles_count(struct hn_handle_table *t);

/* Up to max open sockets, each with a new reference; returns how many. */
uint32_t hn_handles_snapshot(struct hn_handle_table *t, struct hn_sock **out, uint32_t max);

#endif
