/* SPDX-License-Identifier: MIT */
#include "hypercall.h"

#include <errno.h>
#include <stddef.h>

int hypercall_register(struct hypercall_table *t, uint64_t nr, const char *name,
		       hypercall_fn fn, void *opaque)
{
	if (!fn)
		return -EINVAL;
	if (hypercall_find(t, nr))
		return -EEXIST;
	if (t->count == HYPERCALL_MAX)
		return -ENOSPC;
	t->h[t->count++] = (struct hypercall_handler){
		.nr = nr, .name = name, .fn = fn, .opaque = opaque,
	};
	return 0;
}

const struct hypercall_handler *hypercall_find(const struct hypercall_table *t, uint64_t nr)
{
	for (unsigned i = 0; i < t->count; i++)
		if (t->h[i].nr == nr)
			return &t->h[i];
	return NULL;
}
