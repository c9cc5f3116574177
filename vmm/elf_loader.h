/* SPDX-License-Identifier: MIT */
/*
 * Loads an ELF64 x86-64 executable's PT_LOAD segments into guest RAM.
 * Everything about the file is checked before a byte is copied; a bad image
 * is an error message, never a crash.
 */
#ifndef VMM_ELF_LOADER_H
#define VMM_ELF_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct elf_image {
	uint64_t entry;       /* e_entry, inside a loaded executable segment */
	uint64_t load_start;  /* lowest loaded GPA */
	uint64_t kernel_end;  /* first byte past the highest segment, 4 KiB aligned */
	unsigned segments;    /* PT_LOAD segments loaded */
};

/*
 * Load the file at path into ram[0, ram_bytes) (GPA == offset).  Segments
 * must lie in [VMM_KERNEL_MIN_GPA, ram_bytes) and have p_vaddr == p_paddr
 * (the VMM maps identity only).  Returns 0, or -errno with one line in msg:
 *   -ENOENT/-EACCES/...  the file could not be opened or read
 *   -ENOEXEC             not a loadable ELF64 x86-64 executable (msg says why)
 *   -ERANGE              a segment outside guest RAM or over the VMM's own area
 */
int elf_load(const char *path, uint8_t *ram, uint64_t ram_bytes, struct elf_image *out,
	     char *msg, size_t msglen);

/* Same, from an image already in memory (the file's bytes). */
int elf_load_buffer(const void *file, size_t file_size, const char *name, uint8_t *ram,
		    uint64_t ram_bytes, struct elf_image *out, char *msg, size_t msglen);

#endif /* VMM_ELF_LOADER_H */
