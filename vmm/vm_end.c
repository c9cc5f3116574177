/* SPDX-License-Identifier: MIT */
#include "vm_end.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pio.h"
#include "virtsocket/abi.h"

int vm_end_state_init(struct vm_end_state *e)
{
	*e = (struct vm_end_state){ .event = -1 };
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->out_lock, NULL);
	e->event = eventfd(0, EFD_CLOEXEC);
	return e->event < 0 ? -errno : 0;
}

void vm_end_state_destroy(struct vm_end_state *e)
{
	if (e->event >= 0)
		close(e->event);
	e->event = -1;
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->out_lock);
}

bool vm_is_ending(const struct vm_end_state *e)
{
	return __atomic_load_n(&e->ending, __ATOMIC_ACQUIRE);
}

bool vm_end(struct vm_end_state *e, int status, enum vm_end_cause cause)
{
	bool first = false;
	pthread_mutex_lock(&e->lock);
	if (!e->ending) {
		e->exit_status = status;
		e->cause = cause;
		__atomic_store_n(&e->ending, true, __ATOMIC_RELEASE);
		first = true;
	}
	pthread_mutex_unlock(&e->lock);
	if (first) {
		uint64_t one = 1;
		ssize_t n = write(e->event, &one, sizeof(one));
		(void)n; /* an eventfd write of 1 cannot fail short of overflow */
	}
	return first;
}

bool vm_end_note_halt(struct vm_end_state *e)
{
	pthread_mutex_lock(&e->lock);
	bool all = ++e->nr_halted == e->nr_vcpus;
	pthread_mutex_unlock(&e->lock);
	return all;
}

static int exit_port_io(struct vcpu *vcpu, void *opaque, uint16_t port, bool is_write,
			uint8_t *data, uint32_t size)
{
	(void)vcpu;
	(void)port;
	(void)size;
	if (!is_write)
		return -EINVAL; /* nothing to read here */
	vm_end(opaque, data[0], VM_END_GUEST);
	return 0;
}

int exit_port_register(struct pio_bus *bus, struct vm_end_state *e)
{
	return pio_register(bus, VS_PORT_EXIT, 4, "exit port", exit_port_io, e);
}
