/* SPDX-License-Identifier: MIT */
/*
 * crr in the guest: one connection's whole life as one chain of linked
 * requests (abi.h, VS_SQE_LINK; guest-lib's vs_prep_link()):
 *
 *   SOCKET -> CONNECT -> [SETSOCKOPT TCP_NODELAY] -> SEND -> RECV -> CLOSE
 *
 * prepared back to back and handed over with one vs_wait(): the host worker
 * runs each link when the one before it is done, so the guest pays one
 * hand-over and one wait per connection instead of a round trip per call.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <kernel.h>
#include <virtsocket/vsock.h>

#include "addr.h"
#include "bench.h"
#include "platform.h"

enum link { L_SOCKET, L_CONNECT, L_NODELAY, L_SEND, L_RECV, L_CLOSE, L__COUNT };

static const char *const link_what[L__COUNT] = {
	[L_SOCKET] = "socket", [L_CONNECT] = "connect", [L_NODELAY] = "setsockopt TCP_NODELAY",
	[L_SEND] = "send", [L_RECV] = "receive the echo", [L_CLOSE] = "close",
};

/* The peer as the host takes it; 0 or -1 after saying why. */
static int peer_addr(const struct bench_opts *o, struct vs_sockaddr *sa)
{
	struct bench_addr a;
	if (bench_addr_parse(o->host, o->port, &a) || a.family != AF_INET) {
		printf("%s: '%s' is not an IPv4 address\n", o->name, o->host);
		return -1;
	}
	const struct sockaddr_in *in = (const struct sockaddr_in *)&a.u.sa;
	vs_sockaddr_in(sa, (const uint8_t *)&in->sin_addr, o->port);
	return 0;
}

/* Prepare one link (user_data = its enum link), linked to the next unless last. */
static int prep_link(int err, bool last)
{
	if (err)
		return err;
	return last ? 0 : vs_prep_link();
}

static int prepare(const struct bench_opts *o, const struct vs_sockaddr *peer,
		   const void *req, void *rep)
{
	int err = prep_link(vs_prep_socket(VS_AF_INET, VS_SOCK_STREAM, L_SOCKET), false);
	if (!err)
		err = prep_link(vs_prep_connect(VS_CHAIN_SOCKET, peer, L_CONNECT), false);
	if (!err && o->nodelay)
		err = prep_link(vs_prep_setsockopt(VS_CHAIN_SOCKET, VS_SOL_TCP, VS_TCP_NODELAY, 1,
						   L_NODELAY), false);
	if (!err)
		err = prep_link(vs_prep_send(VS_CHAIN_SOCKET, req, o->size, 0, L_SEND), false);
	if (!err)
		err = prep_link(vs_prep_recv(VS_CHAIN_SOCKET, rep, o->size, VS_MSG_WAITALL, L_RECV),
				false);
	if (!err)
		err = prep_link(vs_prep_close(VS_CHAIN_SOCKET, L_CLOSE), true);
	return err;
}

int crr_chain_exchange(const struct bench_opts *o, const void *req, void *rep)
{
	static struct vs_sockaddr peer;
	static bool have_peer;
	if (!vs_ready() && vs_platform_init() < 0)
		return CRR_CHAIN_UNFIT; /* the plain calls say why */
	/* A bounce-mode request carries at most VS_BOUNCE_MAX_REQUEST bytes: a
	 * longer message would be cut, which breaks the chain. */
	if (boot_info->copy == VS_COPY_BOUNCE && o->size > VS_BOUNCE_MAX_REQUEST)
		return CRR_CHAIN_UNFIT;
	if (!have_peer) {
		if (peer_addr(o, &peer) < 0)
			return -1;
		have_peer = true;
	}
	if (vs_inflight()) {
		printf("%s: requests in flight before a chain (%u)\n", o->name, vs_inflight());
		return -1;
	}

	int err = prepare(o, &peer, req, rep);
	if (err) {
		printf("%s: preparing the connection's chain: %s\n", o->name, strerror(-err));
		return -1;
	}
	unsigned n = o->nodelay ? L__COUNT : L__COUNT - 1;
	/* Long: a connect and a round trip at least.  Spinning on the CQ would
	 * take the CPU the host's worker and the peer need meanwhile: tried with
	 * vs_wait() (2 ms cap, nested sandbox, 2026-12-06): 64 B at 0.55x
	 * native (703 and 652 against 1,285 and 1,151/s; the WAIT build 0.58x
	 * in the same boot), still 1.12 exits per connection (spins missed,
	 * then WAIT), and the sandbox wedged in both boots that ran it.  So one
	 * WAIT exit (~85 us there) per connection. */
	int r = vs_wait_long(n, -1);
	if (r < 0) {
		printf("%s: waiting for the connection's chain: %s\n", o->name, strerror(-r));
		return -1;
	}
	struct vs_completion c[L__COUNT];
	int got = vs_reap(c, n);
	if (got != (int)n) {
		printf("%s: %d completions for a chain of %u\n", o->name, got, n);
		return -1;
	}

	/* Completions come in link order; the first failure says why. */
	int handle = -1;
	int status = 0;
	for (unsigned i = 0; i < n; i++) {
		enum link l = (enum link)c[i].user_data;
		int32_t res = c[i].result;
		if (l == L_SOCKET && res >= 0)
			handle = res;
		if (res == -VS_ECHAINBROKEN || status)
			continue;
		if (l >= L__COUNT) {
			printf("%s: a completion for no link (%llu)\n", o->name,
			       (unsigned long long)c[i].user_data);
			status = -1;
		} else if (res < 0 && l == L_CONNECT) {
			printf("%s: connect to %s:%u: %s (is the peer running?)\n", o->name, o->host,
			       (unsigned)o->port, strerror(-res));
			status = -1;
		} else if (res < 0) {
			printf("%s: %s: %s\n", o->name, link_what[l], strerror(-res));
			status = -1;
		} else if ((l == L_SEND || l == L_RECV) && (uint32_t)res != o->size) {
			printf("%s: %s: %d of %u bytes (the peer closed early?)\n", o->name,
			       link_what[l], res, o->size);
			status = -1;
		} else if (l == L_CLOSE) {
			handle = -1; /* closed by the chain */
		}
	}
	if (handle >= 0)
		vs_close(handle); /* the chain broke before its CLOSE */
	return status;
}
