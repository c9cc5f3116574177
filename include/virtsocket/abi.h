/* SPDX-License-Identifier: MIT */
/*
 * virtsocket guest <-> host ABI.
 *
 * The one header both sides include: the VMM (vmm/, hostnet/) and the guest
 * (guest-kernel/, guest-lib/).  It depends on nothing but <stdint.h>, so it
 * builds freestanding.  Everything here is little-endian x86-64; sizes and
 * offsets are pinned with _Static_assert at the bottom.
 *
 * Who owns what
 * -------------
 *   - boot info page   : written by the VMM before the first KVM_RUN, read-only
 *                        for the guest afterwards (the VMM never reads it back).
 *   - ring slot        : a second KVM memory slot (memfd backed) at
 *                        boot_info.ring_gpa, shared read/write.  The guest can
 *                        change any byte of it at any time, so the host copies
 *                        every entry out before it looks at it.
 *   - I/O ports        : serial console, exit port, port-I/O doorbell.
 *
 * Ring slot layout (VS_QUEUE_BYTES per queue, one queue per vCPU)
 * ----------------------------------------------------------------
 *
 *   ring_gpa + 0 * VS_QUEUE_BYTES         ring_gpa + q * VS_QUEUE_BYTES
 *   +-------------------------------------+--------- ... ----------------+
 *   | queue 0                             | queue q                      |
 *   +-------------------------------------+--------- ... ----------------+
 *
 *   one queue:
 *   offset 0      struct vs_queue_ctrl  (4 KiB: indices on own cache lines)
 *   offset 4096   struct vs_sqe sq[VS_SQ_ENTRIES]   (64 B each)
 *   offset ...    struct vs_cqe cq[VS_CQ_ENTRIES]   (32 B each)
 *   offset ...    bounce area (VS_BOUNCE_BYTES) for --copy=bounce
 *
 * Indices are free-running uint32_t; an entry is at [index & (ENTRIES - 1)].
 * A ring is empty when head == tail and full when tail - head == ENTRIES.
 * All index loads/stores are C11 atomics: the producer stores its tail with
 * release after filling the entry, the consumer loads it with acquire before
 * reading the entry (and the same for head, in the other direction).
 *
 * The doorbell (hypercall or port I/O) only says "look at queue q"; the rings
 * themselves are the source of truth.
 */
#ifndef VIRTSOCKET_ABI_H
#define VIRTSOCKET_ABI_H

#include <stdint.h>

#define VS_ABI_MAGIC   0x76736f63u /* "vsoc": boot info and doorbell magic */
#define VS_ABI_VERSION 3u /* 2: guest arguments NUL separated; 3: 1,024-entry SQ */

/* ------------------------------------------------------------------------
 * I/O ports (all accessed with 8- or 32-bit out/in from the guest)
 * ------------------------------------------------------------------------ */
#define VS_PORT_COM1          0x3f8  /* 8250 UART data register; COM1+5 = LSR */
#define VS_PORT_COM1_LSR      0x3fd  /* reads 0x60: transmitter always empty  */
#define VS_PORT_EXIT          0x0f4  /* outl STATUS: the VM ends, vmm exits STATUS & 0xff */
#define VS_PORT_DOORBELL      0x510  /* outl (u32)a2: port-I/O doorbell, see below */

/* ------------------------------------------------------------------------
 * Exit statuses (of the vmm process).  0..63 belong to guest programs.
 * ------------------------------------------------------------------------ */
#define VS_EXIT_USAGE            2   /* bad command line, bad image, impossible option */
#define VS_EXIT_NO_KVM           3   /* no usable /dev/kvm or a needed capability   */
#define VS_EXIT_GUEST_EXCEPTION  70  /* guest kernel's IDT handler reported a fault */
#define VS_EXIT_VM_ERROR         71  /* triple fault, entry failure, internal error,
                                        unhandled port/MMIO access                  */
#define VS_EXIT_TIMEOUT          72  /* --timeout expired; vCPUs were kicked out    */
#define VS_EXIT_VMM_ERROR        73  /* the VMM itself failed (ioctl, memory ...)   */
/* SIGINT -> 130, SIGTERM -> 143, as a shell would report them. */

/* ------------------------------------------------------------------------
 * Boot: registers at the ELF entry point (64-bit mode, CPL 0, paging on,
 * identity mapped RAM and ring slot, interrupts off):
 *   rdi = guest-physical address of struct vs_boot_info (== virtual address)
 *   rsi = this vCPU's index (0 = boot CPU)
 *   rsp = 0: the guest kernel sets up its own per-vCPU stack first thing,
 *        then loads its own GDT and IDT before anything else.
 * All vCPUs start at the entry at the same time.
 * ------------------------------------------------------------------------ */

enum vs_doorbell_kind {
	VS_DOORBELL_NONE      = 0, /* no transport (ring_gpa == 0) */
	VS_DOORBELL_HYPERCALL = 1, /* vmcall/vmmcall, KVM_EXIT_HYPERCALL */
	VS_DOORBELL_PIO       = 2, /* outl to VS_PORT_DOORBELL, KVM_EXIT_IO */
};

enum vs_hypercall_insn {
	VS_INSN_VMCALL  = 0, /* Intel: 0f 01 c1 */
	VS_INSN_VMMCALL = 1, /* AMD:   0f 01 d9 */
};

enum vs_notify_mode {       /* when guest-lib rings (guest-lib/src/sched.c) */
	VS_NOTIFY_ADAPTIVE = 0, /* batch + host polls; ring only on NEED_WAKEUP */
	VS_NOTIFY_BATCH    = 1, /* one doorbell per batch */
	VS_NOTIFY_EVERY    = 2, /* one doorbell per request */
};

enum vs_copy_mode {
	VS_COPY_ZERO   = 0, /* host uses guest buffers in place */
	VS_COPY_BOUNCE = 1, /* payload staged through the queue's bounce area */
};

enum vs_host_kind {
	VS_HOST_KVM = 1, /* hardware-assisted KVM (kvm_intel / kvm_amd) */
	VS_HOST_PVM = 2, /* kvm_pvm: guest instructions are emulated */
};

#define VS_CMDLINE_MAX 2048

/* Defaults both sides need: the VMM writes them into the boot info unless
 * told otherwise, and guest-lib uses them when the boot info says 0. */
#define VS_DEFAULT_BATCH   32u   /* boot_info.batch: requests per doorbell at most */
#define VS_DEFAULT_SPIN_US 2000u /* boot_info.spin_us: covers a batch of 32 sends and
                                    a round trip even where one host send() takes
                                    10-50 us (the nested sandbox); a longer wait is
                                    worth the WAIT exit it costs */

/* Written by the VMM at boot; the guest treats it as read-only. */
struct vs_boot_info {
	uint32_t magic;          /* VS_ABI_MAGIC */
	uint32_t version;        /* VS_ABI_VERSION */
	uint64_t ram_bytes;      /* guest RAM is [0, ram_bytes), identity mapped */
	uint64_t kernel_end;     /* first byte after the highest loaded segment, 4 KiB aligned:
	                            the guest's allocator may use [kernel_end, ram_bytes) */
	uint64_t tsc_khz;        /* guest TSC frequency (0: unknown, guest calibrates) */
	uint32_t nr_cpus;        /* vCPUs started, each with its index in rsi */
	uint32_t host_kind;      /* enum vs_host_kind */
	/* transport (ring_gpa == 0 when there is none) */
	uint64_t ring_gpa;       /* ring slot base, page aligned, identity mapped */
	uint64_t ring_bytes;     /* ring slot size = nr_queues * VS_QUEUE_BYTES */
	uint32_t nr_queues;      /* one per vCPU */
	uint32_t doorbell;       /* enum vs_doorbell_kind */
	uint32_t hypercall_insn; /* enum vs_hypercall_insn */
	uint32_t notify;         /* enum vs_notify_mode */
	uint32_t copy;           /* enum vs_copy_mode */
	uint32_t batch;          /* guest-lib's largest batch, 1..VS_SQ_ENTRIES */
	uint32_t cmdline_len;    /* bytes in cmdline: every argument with its NUL */
	uint32_t spin_us;        /* adaptive: longest the guest library polls its CQ
	                            before it rings WAIT; 0: the library's default */
	/* the guest arguments after "--", exactly as the vmm got them, each followed by a
	   NUL, back to back (argc = the number of NULs; "" is a lone NUL) */
	char cmdline[VS_CMDLINE_MAX];
};

/* ------------------------------------------------------------------------
 * The doorbell: "queue q has new submissions and/or I want to wait".
 *
 * Hypercall form (KVM_HC_MAP_GPA_RANGE is the only nr KVM forwards to user
 * space; KVM itself checks a0 is page aligned and a1 != 0):
 *     rax = VS_HC_NR  rbx = a0 = ring_gpa  rcx = a1 = ring_bytes / 4096
 *     rdx = a2 = VS_DB_ARG(queue, flags, wait_ms)           -> rax = result
 * Port-I/O form: outl (uint32_t)a2 to VS_PORT_DOORBELL (the magic is
 *     implied); the VMM writes the result into rax before resuming.
 *
 * a2: bits 63..32 magic VS_ABI_MAGIC (hypercall form only)
 *     bits 31..16 wait timeout in ms; VS_DB_WAIT_FOREVER = no timeout
 *     bits 15..8  queue index (< nr_queues)
 *     bits  7..0  VS_DB_* flags
 * result: >= 0: completions ready in the CQ; < 0: -errno (bad magic, queue,
 *     flags or ring arguments -> -EINVAL; hypercall on a VM without transport
 *     -> -ENOSYS).
 *     WAIT: the count once the CQ holds at least queue_ctrl.wait_min
 *     completions (1 if 0); when wait_ms passes first, the count if the CQ is
 *     non-empty, else -ETIMEDOUT (wait_ms = 0: an immediate check); -EINTR
 *     when the VM is stopping; -EIO when the queue is VS_QF_BROKEN.  Without
 *     WAIT: the count right now (>= 0).
 *     Every doorbell (SUBMIT or WAIT) wakes the queue's worker if it sleeps.
 *
 * NEED_WAKEUP protocol (adaptive mode), guest side:
 *     publish sq_tail (release); seq_cst fence; load flags (acquire);
 *     NEED_WAKEUP set -> ring SUBMIT (or SUBMIT|WAIT), else skip the doorbell.
 * The guest also rings when it is about to wait for a completion while
 * NEED_WAKEUP is set (the sleeping host will not look at the rings on its
 * own), in particular after freeing CQ space while its SQ still holds
 * entries the host has not consumed (sq_head != sq_tail) or while
 * VS_QF_CQ_OVERFLOW is set.  In the other modes it rings every batch anyway.
 * ------------------------------------------------------------------------ */
#define VS_HC_NR              12u      /* KVM_HC_MAP_GPA_RANGE */
#define VS_DB_SUBMIT          0x01u    /* wake the queue's worker: SQ has entries */
#define VS_DB_WAIT            0x02u    /* block this vCPU until the CQ holds wait_min
                                          completions or wait_ms passed */
#define VS_DB_FLAGS_MASK      0x03u
#define VS_DB_WAIT_FOREVER    0xffffu
#define VS_DB_ARG(queue, flags, wait_ms)                                   \
	(((uint64_t)VS_ABI_MAGIC << 32) | ((uint64_t)((wait_ms) & 0xffffu) << 16) | \
	 ((uint64_t)((queue) & 0xffu) << 8) | ((uint64_t)(flags) & 0xffu))
#define VS_DB_ARG_MAGIC(a2)   ((uint32_t)((a2) >> 32))
#define VS_DB_ARG_WAIT_MS(a2) ((uint32_t)(((a2) >> 16) & 0xffffu))
#define VS_DB_ARG_QUEUE(a2)   ((uint32_t)(((a2) >> 8) & 0xffu))
#define VS_DB_ARG_FLAGS(a2)   ((uint32_t)((a2) & 0xffu))

/* ------------------------------------------------------------------------
 * Rings
 * ------------------------------------------------------------------------ */
/*
 * A server's batch is a SEND and a RECV per connection: with 256 entries the
 * SQ of an httpd under wrk at 1,000 connections filled after 128 responses,
 * and each time the guest slept in a WAIT for room (an exit) until the
 * worker's pass came round.  1,024 entries cut those exits to a third
 * (guest-lib/README.md, "A full SQ sleeps for room"); the price is 48 KiB
 * more SQ and 96 KiB more CQ per queue, and 56 KiB more guest state.
 */
#define VS_SQ_ENTRIES   1024u          /* power of two */
#define VS_CQ_ENTRIES   4096u          /* power of two, > VS_SQ_ENTRIES */
#define VS_BOUNCE_BYTES (1024u * 1024u) /* per queue, --copy=bounce staging */
#define VS_MAX_IO_BYTES (16u * 1024u * 1024u) /* sqe.len of a payload; more -> -EINVAL */
#define VS_CACHELINE    64u
#define VS_MAX_QUEUES   64u

/* The index atomics both sides use (the pairing is described at the top of
 * this file and at each index in struct vs_queue_ctrl). */
static inline uint32_t vs_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void vs_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* queue_ctrl.flags, set and cleared by the host worker, read by the guest */
#define VS_QF_NEED_WAKEUP 0x1u /* worker is asleep: the guest must ring SUBMIT.
                                  Clear: the worker is polling the SQ, no ring needed. */
#define VS_QF_BROKEN      0x2u /* host stopped this queue: the guest corrupted it
                                  (indices out of range); nothing more is consumed */
#define VS_QF_CQ_OVERFLOW 0x4u /* the CQ was full: the host holds finished
                                  completions and consumes no SQEs until the guest
                                  reaps (then rings if NEED_WAKEUP is set) */

struct vs_queue_ctrl {
	/* SQ producer: the guest stores it (release) after writing sq entries;
	 * the host loads it (acquire) before reading them. */
	uint32_t sq_tail;
	uint8_t pad0[VS_CACHELINE - 4];
	/* SQ consumer: the host stores it (release) after copying entries out;
	 * the guest loads it (acquire) before reusing those slots. */
	uint32_t sq_head;
	uint8_t pad1[VS_CACHELINE - 4];
	/* CQ producer: the host stores it (release) after writing cq entries;
	 * the guest loads it (acquire) before reading them. */
	uint32_t cq_tail;
	uint8_t pad2[VS_CACHELINE - 4];
	/* CQ consumer: the guest stores it (release) after reading entries;
	 * the host loads it (acquire) before overwriting those slots. */
	uint32_t cq_head;
	uint8_t pad3[VS_CACHELINE - 4];
	/* VS_QF_*: host stores (release) / guest loads (acquire).  A guest that
	 * sees NEED_WAKEUP clear after publishing sq_tail may skip the doorbell:
	 * the host re-checks sq_tail after setting NEED_WAKEUP (seq_cst fence on
	 * both sides), so no submission is left unseen. */
	uint32_t flags;
	uint8_t pad4[VS_CACHELINE - 4];
	/* How many completions the guest's next WAIT doorbell waits for: the
	 * guest stores it before ringing WAIT (the exit orders it), the host
	 * loads it once per WAIT and clamps it to 1..VS_CQ_ENTRIES (0 = 1). */
	uint32_t wait_min;
	uint8_t pad5[VS_CACHELINE - 4];
	uint8_t reserved[4096 - 6 * VS_CACHELINE];
};

/* The smallest socket handle the host hands out (see below). */
#define VS_HANDLE_MIN 0x10000u

/* Opcodes.  "handle" is a per-VM socket handle the host hands out (never a
 * host fd): opaque, VS_HANDLE_MIN <= handle <= INT32_MAX (generation and
 * slot), so a closed handle stays invalid (-EBADF) even once its slot is reused
 * (a slot out of generations is retired: after ~2^31 sockets a VM gets -EMFILE),
 * and never collides with the guest POSIX layer's small descriptors.
 * "in addr" = the inline sockaddr in sqe.u.addr; result >= 0 is
 * success unless said otherwise, < 0 is -errno (Linux values).
 *
 * Host semantics (hostnet) the guest can rely on:
 *   - Operations that wait (RECV/RECVFROM/ACCEPT: readable; SEND/SENDTO/
 *     CONNECT/SHUTDOWN: writable, in order; POLL) never stall other sockets.
 *     Per socket, each direction completes in submission order (in: RECV,
 *     RECVFROM, ACCEPT; out: CONNECT, SEND, SENDTO, SHUTDOWN); a pending
 *     CONNECT also holds back that socket's receives.  POLL, BIND, LISTEN,
 *     *SOCKOPT, GET*NAME complete as soon as they can, unordered.  Order
 *     across queues is not defined.
 *   - SEND of N bytes on a stream completes with N (like a blocking send),
 *     or with the count so far if an error or cancel comes after some bytes
 *     went out, else -errno.  RECV returns what is there (>= 1), 0 at EOF;
 *     with VS_MSG_WAITALL it waits for len bytes (fewer only at EOF/error).
 *   - VS_SQE_NONBLOCK: -EAGAIN instead of waiting (SEND: the count so far if
 *     > 0); CONNECT returns -EINPROGRESS and keeps connecting (POLL for
 *     VS_POLLOUT, then GETSOCKOPT VS_SO_ERROR).
 *   - CLOSE: every pending operation on the handle completes first
 *     (-ECANCELED, or a partial count), then CLOSE completes 0.
 *   - Payload buffers (SEND/RECV/SENDTO/RECVFROM addr+len): in VS_COPY_ZERO
 *     mode inside guest RAM; in VS_COPY_BOUNCE mode inside the submitting
 *     queue's bounce area (ring GPA), else -EFAULT.  A vs_sockaddr the host
 *     fills (ACCEPT, RECVFROM, GET*NAME) is always in guest RAM, 32 bytes.
 *   - A buffer the host writes must stay untouched until the completion. */
enum vs_opcode {
	VS_OP_NOP         = 0,  /* result 0 */
	VS_OP_SOCKET      = 1,  /* op_flags = domain<<16 | type (VS_AF_*, VS_SOCK_*);
	                           result = new handle */
	VS_OP_CONNECT     = 2,  /* handle, in addr; completes when connected */
	VS_OP_BIND        = 3,  /* handle, in addr */
	VS_OP_LISTEN      = 4,  /* handle, op_flags = backlog */
	VS_OP_ACCEPT      = 5,  /* handle; addr = GPA of a struct vs_sockaddr to fill
	                           (0: none), len = its size (0 or >= 32); result = new
	                           handle */
	VS_OP_SEND        = 6,  /* handle, addr/len = buffer GPA; result = bytes sent */
	VS_OP_RECV        = 7,  /* handle, addr/len = buffer GPA; result = bytes, 0 = EOF */
	VS_OP_SENDTO      = 8,  /* as SEND, destination in addr */
	VS_OP_RECVFROM    = 9,  /* as RECV; u.out.addr_gpa = GPA of a vs_sockaddr to fill
	                           (0: none) */
	VS_OP_SHUTDOWN    = 10, /* handle, op_flags = SHUT_RD/WR/RDWR (0/1/2) */
	VS_OP_CLOSE       = 11, /* handle; pending operations on it complete -ECANCELED */
	VS_OP_SETSOCKOPT  = 12, /* handle, u.opt {level, name, value} (VS_SOL_/VS_SO_) */
	VS_OP_GETSOCKOPT  = 13, /* handle, u.opt {level, name}; result = value (>= 0) */
	VS_OP_GETSOCKNAME = 14, /* handle, addr = GPA of a vs_sockaddr to fill */
	VS_OP_GETPEERNAME = 15, /* handle, addr = GPA of a vs_sockaddr to fill */
	VS_OP_POLL        = 16, /* handle, op_flags = VS_POLL* mask (!= 0); completes when
	                           any is ready; result = ready mask (VS_POLLERR and
	                           VS_POLLHUP are reported even if not asked, as poll(2)) */
	VS_OP_CANCEL      = 17, /* u.out.addr_gpa = user_data of the request to cancel
	                           (the oldest pending one of this queue with it);
	                           result 0 if found (it completes -ECANCELED, or with
	                           its partial count, before the CANCEL), -ENOENT */
	VS_OP__COUNT
};

/* sqe.flags (set by the guest, read by the host) */
#define VS_SQE_NONBLOCK 0x1u /* fail with -EAGAIN instead of waiting for readiness */
#define VS_SQE_LINK     0x2u /* the next SQE of this queue is linked to this one */
#define VS_SQE_FLAGS_MASK 0x3u

/* Chains (VS_SQE_LINK), io_uring's linked requests in spirit.
 *
 * A chain is a run of SQEs of one queue, each but the last with VS_SQE_LINK:
 * the guest sets the flag on an SQE to say "the SQE after this one in the SQ
 * is the next link"; the first SQE without it ends the chain.  The host runs
 * the links one after the other: a link starts only once the one before it
 * has completed (its CQE is in the CQ, or held back in order), so e.g.
 * SOCKET -> CONNECT -> SEND -> RECV -> CLOSE costs the guest one hand-over
 * and one wait instead of five round trips.  A link enters its socket's
 * in/out order when it starts, not when the guest submitted it; a chain never
 * holds back requests that are not in it.
 *
 * A link fails when its result is < 0, when a SEND/SENDTO moved fewer than
 * len bytes, or when a RECV/RECVFROM got 0 bytes (EOF) for len > 0 or, with
 * VS_MSG_WAITALL, fewer than len.  Then every later link of the chain
 * completes, in order, with -VS_ECHAINBROKEN and is not run.  A link that
 * fails validation completes with its -errno (and VS_CQE_BAD_REQUEST) and
 * breaks the chain the same way.  CLOSE or CANCEL of the running link's
 * socket or request makes it complete -ECANCELED (or its partial count):
 * a failure like any other.  CANCEL finds only a link that has started;
 * links that wait for their turn complete with the chain.
 *
 * sqe.handle == VS_HANDLE_CHAIN in a link means "the handle the latest
 * SOCKET or ACCEPT earlier in this chain returned" (never a real handle:
 * handles are <= INT32_MAX).  With no such link before it, or outside a
 * chain, it names no socket: -EBADF.
 *
 * A chain may span several hand-overs (doorbells, passes): links the guest
 * has not published yet are simply waited for; the next SQE the guest
 * publishes on this queue is the chain's next link.  What the host holds for
 * a chain counts as in flight (at most HOSTNET_MAX_INFLIGHT per queue). */
#define VS_HANDLE_CHAIN 0x80000000u
/* A link skipped because an earlier link of its chain failed: completes with
 * -VS_ECHAINBROKEN.  Not a Linux errno (those end at 133), never a host
 * system call's error. */
#define VS_ECHAINBROKEN 1024

/* send/recv op_flags (a subset of MSG_*, same values as Linux) */
#define VS_MSG_PEEK     0x02u
#define VS_MSG_WAITALL  0x100u
#define VS_MSG_MASK     (VS_MSG_PEEK | VS_MSG_WAITALL)

/* socket domains and types (Linux values) */
#define VS_AF_INET    2u
#define VS_AF_INET6   10u
#define VS_SOCK_STREAM 1u
#define VS_SOCK_DGRAM  2u

/* poll events (Linux values) */
#define VS_POLLIN   0x001u
#define VS_POLLOUT  0x004u
#define VS_POLLERR  0x008u
#define VS_POLLHUP  0x010u

/* socket options (Linux values) */
#define VS_SOL_SOCKET     1u
#define VS_SOL_TCP        6u
#define VS_SO_REUSEADDR   2u
#define VS_SO_SNDBUF      7u
#define VS_SO_RCVBUF      8u
#define VS_SO_ERROR       4u
#define VS_TCP_NODELAY    1u

/* A socket address, the same for IPv4 and IPv6 (28 bytes used). */
struct vs_sockaddr {
	uint16_t family;     /* VS_AF_INET or VS_AF_INET6 */
	uint16_t port;       /* network byte order */
	uint32_t flowinfo;   /* IPv6 only, network byte order */
	uint8_t addr[16];    /* IPv4: first 4 bytes; IPv6: all 16 (network order) */
	uint32_t scope_id;   /* IPv6 only */
	uint32_t reserved;   /* must be 0 */
};

/* Submission queue entry: written by the guest, copied out by the host. */
struct vs_sqe {
	uint8_t opcode;      /* enum vs_opcode */
	uint8_t flags;       /* VS_SQE_* */
	uint16_t reserved0;  /* must be 0 */
	uint32_t handle;     /* socket handle (unused by SOCKET, NOP, CANCEL) */
	uint64_t addr;       /* buffer GPA (SEND/RECV/...) or sockaddr out GPA */
	uint32_t len;        /* buffer length in bytes */
	uint32_t op_flags;   /* per opcode, see enum vs_opcode */
	uint64_t user_data;  /* echoed back in the completion, never interpreted */
	union {
		struct vs_sockaddr addr;      /* in: CONNECT, BIND, SENDTO */
		struct {
			uint64_t addr_gpa;     /* out: RECVFROM peer, CANCEL target */
			uint8_t reserved[24];  /* must be 0 */
		} out;
		struct {
			uint32_t level;
			uint32_t name;
			int64_t value;         /* SETSOCKOPT: the int value */
			uint8_t reserved[16];  /* must be 0 */
		} opt;
	} u;
};

/* vs_cqe.flags, set by the host */
#define VS_CQE_BAD_REQUEST 0x1u /* the request failed validation (result says why) */

/* Completion queue entry: written by the host, read by the guest. */
struct vs_cqe {
	uint64_t user_data;  /* from the request */
	int32_t result;      /* >= 0 per opcode, or -errno */
	uint32_t flags;      /* VS_CQE_* */
	uint64_t reserved[2];
};

#define VS_QUEUE_SQ_OFFSET     4096u
#define VS_QUEUE_CQ_OFFSET     (VS_QUEUE_SQ_OFFSET + VS_SQ_ENTRIES * 64u)
#define VS_QUEUE_BOUNCE_OFFSET (VS_QUEUE_CQ_OFFSET + VS_CQ_ENTRIES * 32u)
#define VS_QUEUE_BYTES         (VS_QUEUE_BOUNCE_OFFSET + VS_BOUNCE_BYTES)

/* A queue as a C struct, for code that maps the slot directly. */
struct vs_queue {
	struct vs_queue_ctrl ctrl;
	struct vs_sqe sq[VS_SQ_ENTRIES];
	struct vs_cqe cq[VS_CQ_ENTRIES];
	uint8_t bounce[VS_BOUNCE_BYTES];
};

_Static_assert(sizeof(struct vs_sockaddr) == 32, "vs_sockaddr is 32 bytes");
_Static_assert(sizeof(struct vs_sqe) == 64, "vs_sqe is 64 bytes");
_Static_assert(sizeof(struct vs_cqe) == 32, "vs_cqe is 32 bytes");
_Static_assert(sizeof(struct vs_queue_ctrl) == 4096, "queue ctrl is one page");
_Static_assert(__builtin_offsetof(struct vs_queue_ctrl, sq_head) == 64, "own cache line");
_Static_assert(__builtin_offsetof(struct vs_queue_ctrl, cq_tail) == 128, "own cache line");
_Static_assert(__builtin_offsetof(struct vs_queue_ctrl, cq_head) == 192, "own cache line");
_Static_assert(__builtin_offsetof(struct vs_queue_ctrl, flags) == 256, "own cache line");
_Static_assert(__builtin_offsetof(struct vs_queue_ctrl, wait_min) == 320, "own cache line");
_Static_assert(__builtin_offsetof(struct vs_sqe, user_data) == 24, "sqe layout");
_Static_assert(__builtin_offsetof(struct vs_sqe, u) == 32, "sqe layout");
_Static_assert(__builtin_offsetof(struct vs_queue, sq) == VS_QUEUE_SQ_OFFSET, "queue layout");
_Static_assert(__builtin_offsetof(struct vs_queue, cq) == VS_QUEUE_CQ_OFFSET, "queue layout");
_Static_assert(__builtin_offsetof(struct vs_queue, bounce) == VS_QUEUE_BOUNCE_OFFSET,
	       "queue layout");
_Static_assert(sizeof(struct vs_queue) == VS_QUEUE_BYTES, "queue size");
_Static_assert(VS_QUEUE_BYTES % 4096 == 0, "queues are page aligned");
_Static_assert((VS_SQ_ENTRIES & (VS_SQ_ENTRIES - 1)) == 0, "power of two");
_Static_assert((VS_CQ_ENTRIES & (VS_CQ_ENTRIES - 1)) == 0, "power of two");
_Static_assert(VS_CQ_ENTRIES > VS_SQ_ENTRIES, "CQ larger than SQ");
_Static_assert(sizeof(struct vs_boot_info) == 88 + VS_CMDLINE_MAX, "boot info layout");
_Static_assert(sizeof(struct vs_boot_info) <= 4096, "boot info fits one page");

#endif /* VIRTSOCKET_ABI_H */
