/* SPDX-License-Identifier: MIT */
/*
 * Readiness over the ring for many sockets: an epoll-like interest set.
 *
 * Register interest once (vs_epoll_ctl ADD); the library then keeps one
 * VS_OP_POLL "armed" per registered socket on the host.  A POLL completes
 * when its socket is ready, and that completion IS the ready event: the
 * library files it in the set's ready list as the CQE is drained (whatever
 * call drains it).  vs_epoll_wait() hands out ready events oldest first and
 * re-arms each returned socket at the start of the next wait, after the
 * program has read or written it.  So a wait costs O(events it returns),
 * never a walk over every registered socket, and the host holds one parked
 * request per idle socket (hostnet keeps room for one per --max-sockets).
 *
 * Input on a stream descriptor (VS_FD_STREAM, zero copy, vs_set_allocator given)
 * comes another way: the library keeps a RECV armed into a read-ahead buffer of its
 * own instead of a POLL, its completion is the ready event, and recv() is served from
 * that buffer (vsock.h, guest-lib/README.md).  EPOLL_CTL_DEL/MOD leave that RECV
 * armed (its bytes wait for recv()); closing the descriptor ends it.
 *
 * Semantics (Linux epoll's, with these limits):
 *   - level-triggered: a socket still ready when re-armed is reported
 *     again.  VS_EPOLLET is accepted and treated as level-triggered (a
 *     program that reads until EAGAIN works the same; it may see an extra
 *     wakeup).  VS_EPOLLONESHOT: reported once, then disabled until MOD.
 *   - VS_EPOLLERR and VS_EPOLLHUP are always reported.
 *   - closing a descriptor (vs_fd_release, hence POSIX close()) removes it
 *     from every set, as Linux does for the last reference.
 *   - descriptors only (VS_FD_FIRST <= fd < VS_FD_MAX), not raw handles.
 *   - a set is used from one CPU at a time (its POLLs go to that CPU's queue).
 *   - a 0 timeout reports what has completed already: a socket re-armed by
 *     this very call shows up from the next call on.
 *
 * Errors: -errno (VS_E* values, Linux's).
 */
#ifndef VIRTSOCKET_VS_EPOLL_H
#define VIRTSOCKET_VS_EPOLL_H

#include <stddef.h>
#include <stdint.h>

/* Linux's values, so the POSIX layer passes them through. */
#define VS_EPOLLIN      0x001u
#define VS_EPOLLOUT     0x004u
#define VS_EPOLLERR     0x008u
#define VS_EPOLLHUP     0x010u
#define VS_EPOLLRDHUP   0x2000u     /* accepted; reported as VS_EPOLLHUP|VS_EPOLLIN */
#define VS_EPOLLONESHOT (1u << 30)
#define VS_EPOLLET      (1u << 31)

#define VS_EPOLL_CTL_ADD 1
#define VS_EPOLL_CTL_DEL 2
#define VS_EPOLL_CTL_MOD 3

#define VS_EPOLL_MAX_SETS 63u       /* sets open at once (id 63 tags the streams' requests) */

struct vs_epoll_event {
	uint32_t events;
	uint64_t data;
};

/* Memory a set needs (one record per possible descriptor); any alignment
 * of 8, need not be guest-addressable. */
size_t vs_epoll_bytes(void);

/* A new set in mem (vs_epoll_bytes() of it, kept until vs_epoll_close):
 * its id (>= 0), -EINVAL (mem too small) or -EMFILE (VS_EPOLL_MAX_SETS open). */
int vs_epoll_create(void *mem, size_t bytes);

/* ADD (-EEXIST if there), MOD / DEL (-ENOENT if not there) fd; ev is ignored
 * by DEL.  -EBADF: ep or fd is not open; -EINVAL: bad op or ev NULL. */
int vs_epoll_ctl(int ep, int op, int fd, const struct vs_epoll_event *ev);

/* Up to max ready events into out; waits up to timeout_ms (< 0: forever,
 * 0: not at all).  Returns how many (0 on timeout) or -errno. */
int vs_epoll_wait(int ep, struct vs_epoll_event *out, int max, int timeout_ms);

/* Forget the set (its armed POLLs are cancelled); its memory is free after. */
int vs_epoll_close(int ep);

/* fd is closing: drop it from every set (fd.c calls this). */
void vs_epoll_forget_fd(int fd);

#endif /* VIRTSOCKET_VS_EPOLL_H */
