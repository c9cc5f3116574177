/* SPDX-License-Identifier: MIT */
/*
 * guestlib_epoll.c's tests of the interest sets again, with every connection a
 * stream descriptor (VS_FD_STREAM) and an allocator given: input readiness then comes
 * from the RECV each stream keeps armed into its read-ahead buffer (stream.c), not
 * from a POLL, and every semantic those tests check must stay the same.
 */
#define EPOLL_CONN_FLAGS VS_FD_STREAM
#include "guestlib_epoll.c"
