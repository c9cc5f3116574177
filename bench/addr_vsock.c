/* SPDX-License-Identifier: MIT */
/* AF_VSOCK addresses for the native builds (native-bench, bench-peer): the
 * workloads against a vhost-vsock peer, or over vsock_loopback. */
#include <errno.h>
#include <string.h>
#include <linux/vm_sockets.h>

#include "addr.h"

int bench_addr_vsock(uint32_t cid, uint16_t port, struct bench_addr *a)
{
	struct sockaddr_vm vm;
	memset(&vm, 0, sizeof(vm));
	vm.svm_family = AF_VSOCK;
	vm.svm_cid = cid == UINT32_MAX ? VMADDR_CID_ANY : cid;
	/* Port 0 asks for any free port, as with TCP. */
	vm.svm_port = port ? port : VMADDR_PORT_ANY;
	a->family = AF_VSOCK;
	a->len = sizeof(vm);
	memcpy(a->u.raw, &vm, sizeof(vm));
	return 0;
}

uint16_t bench_addr_vsock_port(const struct bench_addr *a)
{
	struct sockaddr_vm vm;
	memcpy(&vm, a->u.raw, sizeof(vm));
	return (uint16_t)vm.svm_port;
}
