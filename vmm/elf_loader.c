/* SPDX-License-Identifier: MIT */
/*
 * ELF loading with libelf.  The file is read into memory whole (guest
 * kernels are small) so that every range check is against one known size,
 * then checked completely, then copied.
 */
#include "elf_loader.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "layout.h"

#define ELF_FILE_MAX (1ull << 30) /* nothing bigger can fit in guest RAM anyway */

static const char *type_hint(unsigned type)
{
	switch (type) {
	case ET_REL: return "a relocatable object (ET_REL): link it into an executable";
	case ET_DYN: return "a shared object or PIE (ET_DYN): link with -static -no-pie";
	case ET_CORE: return "a core dump (ET_CORE)";
	default: return "not an executable";
	}
}

/* The identification bytes, before libelf sees anything. */
static int check_ident(const unsigned char *id, size_t file_size, const char *name, char *msg,
		       size_t msglen)
{
	if (file_size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) != 0)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s' is not an ELF file: give an "
				 "ELF64 x86-64 kernel such as build/guest.img", name);
	if (id[EI_CLASS] != ELFCLASS64)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s' is %s, not ELF64: build the "
				 "kernel for x86-64 (64-bit)", name,
				 id[EI_CLASS] == ELFCLASS32 ? "ELF32" : "of an unknown ELF class");
	if (id[EI_DATA] != ELFDATA2LSB)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s' is not little-endian: build "
				 "the kernel for x86-64", name);
	return 0;
}

/* The ELF header: an x86-64 executable whose program headers lie inside the file. */
static int check_ehdr(Elf *e, size_t file_size, const char *name, GElf_Ehdr *eh,
		      size_t *phnum, char *msg, size_t msglen)
{
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, eh))
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s': truncated or corrupt ELF "
				 "header", name);
	if (eh->e_machine != EM_X86_64)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s' is built for ELF machine %u, "
				 "not x86-64 (%u)", name, (unsigned)eh->e_machine,
				 (unsigned)EM_X86_64);
	if (eh->e_type != ET_EXEC)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s' is %s", name,
				 type_hint(eh->e_type));
	if (elf_getphdrnum(e, phnum) != 0 || *phnum == 0 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > file_size ||
	    *phnum > (file_size - eh->e_phoff) / sizeof(Elf64_Phdr))
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s': program headers missing or "
				 "beyond the end of the file (truncated?)", name);
	return 0;
}

/* Where one PT_LOAD segment's bytes come from and go to. */
static int check_placement(const GElf_Phdr *ph, size_t i, size_t file_size, const char *name,
			   char *msg, size_t msglen)
{
	if (ph->p_filesz > ph->p_memsz)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s': segment %zu has file size "
				 "%#" PRIx64 " larger than its memory size %#" PRIx64, name, i,
				 (uint64_t)ph->p_filesz, (uint64_t)ph->p_memsz);
	if (ph->p_offset > file_size || ph->p_filesz > file_size - ph->p_offset)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s': segment %zu's data (offset "
				 "%#" PRIx64 ", %#" PRIx64 " bytes) is beyond the end of the file "
				 "(%zu bytes): truncated image?", name, i, (uint64_t)ph->p_offset,
				 (uint64_t)ph->p_filesz, file_size);
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr)
		return vs_errmsg(-ERANGE, msg, msglen, "vmm: '%s': segment %zu at %#" PRIx64
				 " + %#" PRIx64 " wraps around the address space", name, i,
				 (uint64_t)ph->p_paddr, (uint64_t)ph->p_memsz);
	if (ph->p_vaddr != ph->p_paddr)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s': segment %zu has virtual "
				 "address %#" PRIx64 " != physical %#" PRIx64 ": the VMM maps "
				 "guest memory identity only, link the kernel at its load address",
				 name, i, (uint64_t)ph->p_vaddr, (uint64_t)ph->p_paddr);
	return 0;
}

/* One PT_LOAD segment (non-empty): placed right, and inside the kernel's part of RAM. */
static int check_segment(const GElf_Phdr *ph, size_t i, size_t file_size, uint64_t ram_bytes,
			 const char *name, char *msg, size_t msglen)
{
	int err = check_placement(ph, i, file_size, name, msg, msglen);
	if (err)
		return err;
	if (ph->p_paddr < VMM_KERNEL_MIN_GPA)
		return vs_errmsg(-ERANGE, msg, msglen, "vmm: '%s': segment %zu at %#" PRIx64
				 " overlaps the VMM's boot structures below %#llx: link the "
				 "kernel at 1 MiB or above", name, i, (uint64_t)ph->p_paddr,
				 VMM_KERNEL_MIN_GPA);
	if (ph->p_paddr + ph->p_memsz > ram_bytes)
		return vs_errmsg(-ERANGE, msg, msglen, "vmm: '%s': segment %zu [%#" PRIx64 ", %#"
				 PRIx64 ") is outside guest RAM (%" PRIu64 " MiB): give more "
				 "memory with -m or link the kernel lower", name, i,
				 (uint64_t)ph->p_paddr, (uint64_t)(ph->p_paddr + ph->p_memsz),
				 ram_bytes >> 20);
	return 0;
}

/* Pass 1: check every segment, copy nothing; fill out's extent and entry. */
static int check_segments(Elf *e, const GElf_Ehdr *eh, size_t phnum, size_t file_size,
			  uint64_t ram_bytes, const char *name, struct elf_image *out,
			  char *msg, size_t msglen)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	unsigned loads = 0;
	bool entry_ok = false;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s': program header %zu "
					 "unreadable: %s", name, i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		int err = check_segment(&ph, i, file_size, ram_bytes, name, msg, msglen);
		if (err)
			return err;
		if ((ph.p_flags & PF_X) && eh->e_entry >= ph.p_paddr &&
		    eh->e_entry - ph.p_paddr < ph.p_memsz)
			entry_ok = true;
		lo = ph.p_paddr < lo ? ph.p_paddr : lo;
		hi = ph.p_paddr + ph.p_memsz > hi ? ph.p_paddr + ph.p_memsz : hi;
		loads++;
	}
	if (loads == 0)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s' has no non-empty PT_LOAD "
				 "segment: nothing to load", name);
	if (!entry_ok)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s': entry point %#" PRIx64 " is "
				 "not inside a loaded executable segment", name,
				 (uint64_t)eh->e_entry);
	*out = (struct elf_image){
		.entry = eh->e_entry,
		.load_start = lo,
		.kernel_end = (hi + VMM_PAGE_SIZE - 1) & ~(VMM_PAGE_SIZE - 1),
		.segments = loads,
	};
	return 0;
}

/* Pass 2 (everything checked): copy file bytes, zero the rest (.bss). */
static void copy_segments(Elf *e, size_t phnum, const uint8_t *file, uint8_t *ram)
{
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		gelf_getphdr(e, (int)i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		memcpy(ram + ph.p_paddr, file + ph.p_offset, ph.p_filesz);
		memset(ram + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
}

int elf_load_buffer(const void *file, size_t file_size, const char *name, uint8_t *ram,
		    uint64_t ram_bytes, struct elf_image *out, char *msg, size_t msglen)
{
	int err = check_ident(file, file_size, name, msg, msglen);
	if (err)
		return err;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: libelf is unusable: %s",
				 elf_errmsg(-1));
	/* libelf wants a char *; with ELF_C_READ semantics it does not write
	 * to a native-endian image. */
	Elf *e = elf_memory((char *)file, file_size);
	if (!e)
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: '%s': libelf cannot read it: %s",
				 name, elf_errmsg(-1));
	GElf_Ehdr eh;
	size_t phnum = 0;
	struct elf_image img;
	err = check_ehdr(e, file_size, name, &eh, &phnum, msg, msglen);
	if (!err)
		err = check_segments(e, &eh, phnum, file_size, ram_bytes, name, &img, msg, msglen);
	if (!err) {
		copy_segments(e, phnum, file, ram);
		*out = img;
	}
	elf_end(e);
	return err;
}

int elf_load(const char *path, uint8_t *ram, uint64_t ram_bytes, struct elf_image *out,
	     char *msg, size_t msglen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		return vs_errmsg(err, msg, msglen, "vmm: cannot open image '%s': %s", path,
			    strerror(-err));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return vs_errmsg(-ENOEXEC, msg, msglen, "vmm: image '%s' is not a regular file", path);
	}
	if ((uint64_t)st.st_size > ELF_FILE_MAX) {
		close(fd);
		return vs_errmsg(-EFBIG, msg, msglen, "vmm: image '%s' is %lld bytes, too large for a "
			    "guest kernel", path, (long long)st.st_size);
	}
	size_t size = (size_t)st.st_size;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf) {
		close(fd);
		return vs_errmsg(-ENOMEM, msg, msglen, "vmm: out of memory reading '%s'", path);
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return vs_errmsg(err, msg, msglen, "vmm: cannot read image '%s': %s", path,
				    strerror(-err));
		}
		got += (size_t)n;
	}
	close(fd);
	int r = elf_load_buffer(buf, size, path, ram, ram_bytes, out, msg, msglen);
	free(buf);
	return r;
}
