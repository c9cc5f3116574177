/* SPDX-License-Identifier: MIT */
/*
 * net-chain: chains of linked requests (abi.h VS_SQE_LINK, guest-lib's
 * vs_prep_link()) through the real VMM, for tests/integration/kvm_net_chain.c.
 *
 *   net-chain HOST GATE_PORT REFUSED_PORT ECHO_PORT ROUNDS
 *
 * 1. Connects to the test's gate (HOST:GATE_PORT), says "ready", waits for
 *    one byte: the test counts the vmm's open files meanwhile.
 * 2. ROUNDS times, SOCKET -> CONNECT (REFUSED_PORT, nobody listens) -> SEND
 *    -> RECV -> CLOSE as one chain: CONNECT must complete -ECONNREFUSED and
 *    the three after it -VS_ECHAINBROKEN, in order; then it closes the
 *    SOCKET's handle itself (the chain's CLOSE did not run).
 * 3. ROUNDS times, the same chain against an echo server (ECHO_PORT): every
 *    link succeeds and the echo is byte-exact.
 * 4. Says "done" on the gate and waits for one byte (the test counts again),
 *    then closes the gate and exits.
 * Prints "net-chain: refused: SOCKET ok, CONNECT ECONNREFUSED, SEND chain
 * broken, RECV chain broken, CLOSE chain broken" once, then
 * "net-chain: N refused chains, N echo chains, all ok".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <kernel/program.h>
#include <virtsocket/vsock.h>

#include "netprog.h"

#define PROG "net-chain"
#define MSG_LEN 100

enum { L_SOCKET, L_CONNECT, L_SEND, L_RECV, L_CLOSE, L__COUNT };
static const char *const link_name[L__COUNT] = { "SOCKET", "CONNECT", "SEND", "RECV", "CLOSE" };

static const char *result_name(int32_t res)
{
	if (res == -VS_ECHAINBROKEN)
		return "chain broken";
	return res < 0 ? strerror(-res) : "ok";
}

/* One chain to 127.0.0.1:port; its completions, in arrival order, into c. */
static int run_chain(uint16_t port, const uint8_t *out, uint8_t *in, struct vs_completion *c)
{
	struct vs_sockaddr sa;
	vs_sockaddr_in(&sa, (const uint8_t[4]){ 127, 0, 0, 1 }, port);
	int err = vs_prep_socket(VS_AF_INET, VS_SOCK_STREAM, L_SOCKET);
	if (!err)
		err = vs_prep_link();
	if (!err)
		err = vs_prep_connect(VS_CHAIN_SOCKET, &sa, L_CONNECT);
	if (!err)
		err = vs_prep_link();
	if (!err)
		err = vs_prep_send(VS_CHAIN_SOCKET, out, MSG_LEN, 0, L_SEND);
	if (!err)
		err = vs_prep_link();
	if (!err)
		err = vs_prep_recv(VS_CHAIN_SOCKET, in, MSG_LEN, VS_MSG_WAITALL, L_RECV);
	if (!err)
		err = vs_prep_link();
	if (!err)
		err = vs_prep_close(VS_CHAIN_SOCKET, L_CLOSE);
	if (!err)
		err = vs_wait(L__COUNT, 10000);
	if (err < 0) {
		printf("%s: preparing or waiting for a chain: %s\n", PROG, strerror(-err));
		return -1;
	}
	int n = vs_reap(c, L__COUNT);
	if (n != L__COUNT) {
		printf("%s: %d completions for a chain of %d\n", PROG, n, L__COUNT);
		return -1;
	}
	for (unsigned i = 0; i < L__COUNT; i++)
		if (c[i].user_data != i) {
			printf("%s: completion %u is link %llu: out of order\n", PROG, i,
			       (unsigned long long)c[i].user_data);
			return -1;
		}
	return 0;
}

static int refused_round(uint16_t port, bool report)
{
	static uint8_t out[MSG_LEN], in[MSG_LEN];
	struct vs_completion c[L__COUNT];
	if (run_chain(port, out, in, c) < 0)
		return -1;
	if (report)
		printf("%s: refused: %s %s, %s %s, %s %s, %s %s, %s %s\n", PROG,
		       link_name[0], result_name(c[0].result), link_name[1], result_name(c[1].result),
		       link_name[2], result_name(c[2].result), link_name[3], result_name(c[3].result),
		       link_name[4], result_name(c[4].result));
	bool ok = c[0].result > 0 && c[1].result == -VS_ECONNREFUSED;
	for (unsigned i = L_SEND; i < L__COUNT; i++)
		ok = ok && c[i].result == -VS_ECHAINBROKEN;
	if (c[0].result > 0 && vs_close(c[0].result) != 0)
		ok = false;
	if (!ok)
		printf("%s: refused chain: FAILED: SOCKET %d CONNECT %d SEND %d RECV %d CLOSE %d\n",
		       PROG, c[0].result, c[1].result, c[2].result, c[3].result, c[4].result);
	return ok ? 0 : -1;
}

static int echo_round(uint16_t port, uint32_t seed)
{
	static uint8_t out[MSG_LEN], in[MSG_LEN];
	for (unsigned i = 0; i < MSG_LEN; i++)
		out[i] = (uint8_t)(seed * 31u + i);
	memset(in, 0, sizeof(in));
	struct vs_completion c[L__COUNT];
	if (run_chain(port, out, in, c) < 0)
		return -1;
	bool ok = c[0].result > 0 && c[1].result == 0 && c[2].result == MSG_LEN &&
		  c[3].result == MSG_LEN && c[4].result == 0 && memcmp(in, out, MSG_LEN) == 0;
	if (!ok)
		printf("%s: echo chain: FAILED: SOCKET %d CONNECT %d SEND %d RECV %d CLOSE %d%s\n",
		       PROG, c[0].result, c[1].result, c[2].result, c[3].result, c[4].result,
		       memcmp(in, out, MSG_LEN) ? ", echo differs" : "");
	return ok ? 0 : -1;
}

/* Tell the gate what, then wait for its one byte. */
static int gate_step(int gate, const char *what)
{
	char b;
	if (net_send_all(gate, what, strlen(what)) < 0 || net_recv_full(gate, &b, 1) != 1) {
		net_perror(PROG, "gate");
		return -1;
	}
	return 0;
}

static int net_chain_main(int argc, char **argv)
{
	uint16_t refused, echo;
	uint64_t rounds;
	if (argc != 6 || !net_parse_port(argv[3], false, &refused) ||
	    !net_parse_port(argv[4], false, &echo) || !net_parse_size(argv[5], &rounds) ||
	    rounds == 0 || rounds > 10000)
		return net_usage(PROG, "HOST GATE_PORT REFUSED_PORT ECHO_PORT ROUNDS");
	int gate = net_connect_tcp(PROG, argv[1], argv[2]);
	if (gate < 0 || gate_step(gate, "ready\n") < 0)
		return NET_EXIT_FAIL;
	for (uint64_t i = 0; i < rounds; i++)
		if (refused_round(refused, i == 0) < 0)
			return NET_EXIT_FAIL;
	for (uint64_t i = 0; i < rounds; i++)
		if (echo_round(echo, (uint32_t)i) < 0)
			return NET_EXIT_FAIL;
	if (gate_step(gate, "done\n") < 0)
		return NET_EXIT_FAIL;
	close(gate);
	printf("%s: %lu refused chains, %lu echo chains, all ok\n", PROG, rounds, rounds);
	return 0;
}
GUEST_PROGRAM("net-chain", net_chain_main, "HOST GATE_PORT REFUSED_PORT ECHO_PORT ROUNDS",
	      "chains of linked requests: a refused CONNECT breaks the rest; echo chains");
