/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the vmm's ELF loader (vmm/elf_loader.c) on arbitrary
 * bytes.  A bad image must be an error message, never a crash, an
 * out-of-bounds access (ASan) or undefined behaviour (UBSan), and must not
 * write guest RAM at all (every check comes before the first copy).  A good one
 * must write only inside the image's range [load_start, kernel_end).
 *
 * How writes are seen, cheaply enough for every input: guest RAM is an
 * anonymous mapping between two inaccessible guard pages (a write past either
 * end faults); before each input the pages the previous one wrote are dropped
 * (MADV_DONTNEED: they read as zero and are no longer resident), and afterwards
 * mincore() says which pages the loader touched.  Within the first page of the
 * image, below load_start, the bytes must still be zero.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "elf_loader.h"
#include "layout.h"

#define FUZZ_RAM_BYTES (16u << 20) /* VMM_RAM_MIN: the smallest RAM a VM can have */
#define PAGE 4096u
#define PAGES (FUZZ_RAM_BYTES / PAGE)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *map_ram(void)
{
	uint8_t *m = mmap(NULL, FUZZ_RAM_BYTES + 2 * PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED || mprotect(m + PAGE, FUZZ_RAM_BYTES, PROT_READ | PROT_WRITE) != 0)
		abort();
	return m + PAGE;
}

/* Abort if a page of [0, FUZZ_RAM_BYTES) outside [lo, hi) was written. */
static void require_written_only(const uint8_t *ram, uint64_t lo, uint64_t hi, const char *what)
{
	static unsigned char resident[PAGES];
	if (mincore((void *)ram, FUZZ_RAM_BYTES, resident) != 0)
		abort();
	for (uint64_t p = 0; p < PAGES; p++) {
		uint64_t a = p * PAGE;
		if ((resident[p] & 1) && !(a + PAGE > lo && a < hi)) {
			fprintf(stderr, "fuzz_elf: the loader wrote guest RAM page %#llx %s "
				"[%#llx, %#llx)\n", (unsigned long long)a, what,
				(unsigned long long)lo, (unsigned long long)hi);
			abort();
		}
	}
	for (uint64_t a = lo & ~(uint64_t)(PAGE - 1); a < lo; a++)
		if (ram[a]) {
			fprintf(stderr, "fuzz_elf: the loader wrote %#llx, below load_start %#llx\n",
				(unsigned long long)a, (unsigned long long)lo);
			abort();
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static uint64_t dirty_lo, dirty_hi; /* what the previous input wrote */
	if (!ram)
		ram = map_ram();
	if (dirty_hi > dirty_lo) {
		uint64_t lo = dirty_lo & ~(uint64_t)(PAGE - 1);
		if (madvise(ram + lo, dirty_hi - lo, MADV_DONTNEED) != 0)
			abort();
	}
	dirty_lo = dirty_hi = 0;

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
		require_written_only(ram, img.load_start, img.kernel_end, "outside the image");
		dirty_lo = img.load_start;
		dirty_hi = img.kernel_end;
	} else {
		if (!memchr(msg, '\0', sizeof(msg)) || msg[0] == '\0')
			abort(); /* every failure says why */
		require_written_only(ram, 0, 0, "for an image it refused, range");
	}
	return 0;
}
