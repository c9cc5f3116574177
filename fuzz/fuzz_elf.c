/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the vmm's ELF loader (vmm/elf_loader.c) on arbitrary
 * bytes.  A bad image must be an error message, never a crash, an
 * out-of-bounds access (ASan) or undefined behaviour (UBSan), and a good one
 * must only write inside guest RAM (a buffer ASan guards on both sides).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf_loader.h"
#include "layout.h"

#define FUZZ_RAM_BYTES (16u << 20) /* VMM_RAM_MIN: the smallest RAM a VM can have */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	if (!ram) {
		ram = malloc(FUZZ_RAM_BYTES);
		if (!ram)
			abort();
	}
	struct elf_image img;
	char msg[512];
	int r = elf_load_buffer(data, size, "fuzz.elf", ram, FUZZ_RAM_BYTES, &img, msg,
				sizeof(msg));
	if (r == 0) {
		/* What the loader promises about a loaded image. */
		if (img.kernel_end > FUZZ_RAM_BYTES || img.load_start < VMM_KERNEL_MIN_GPA ||
		    img.entry < img.load_start || img.entry >= img.kernel_end ||
		    img.kernel_end % 4096 || img.segments == 0)
			abort();
	} else if (!memchr(msg, '\0', sizeof(msg)) || msg[0] == '\0') {
		abort(); /* every failure says why */
	}
	return 0;
}
