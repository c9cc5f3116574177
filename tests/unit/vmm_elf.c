/* SPDX-License-Identifier: MIT */
/*
 * The ELF loader against ELF files this test builds itself (in a temp dir):
 * a valid minimal kernel, and every way an image can be wrong.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_loader.h"
#include "layout.h"

#define RAM_BYTES (4ull << 20)
#define KBASE 0x100000ull
#define MAX_SEGS 4

/* An image under construction: header, program headers, then payload. */
struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_SEGS];
	uint8_t payload[8192];
};

static uint8_t *ram;
static char dir[64];
static char msg[512];
static const uint8_t code[16] = { 0xbf, 0x2a, 0, 0, 0, 0xe6, 0xf4, 0xf4,
				  0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4 };

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path);
}

static void setup(void)
{
	ram = malloc(RAM_BYTES);
	cr_assert_not_null(ram);
	memset(ram, 0xaa, RAM_BYTES);
	strcpy(dir, "/tmp/vmm-elf-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	free(ram);
	cr_assert_eq(nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

TestSuite(vmm_elf, .init = setup, .fini = teardown, .timeout = 10);

static size_t payload_offset(void)
{
	return offsetof(struct image, payload);
}

/* A valid kernel: one R+X segment at 1 MiB, 16 bytes of code + 0x1ff0 of bss. */
static void valid_image(struct image *im)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->eh.e_ident, ELFMAG, SELFMAG);
	im->eh.e_ident[EI_CLASS] = ELFCLASS64;
	im->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh.e_ident[EI_VERSION] = EV_CURRENT;
	im->eh.e_type = ET_EXEC;
	im->eh.e_machine = EM_X86_64;
	im->eh.e_version = EV_CURRENT;
	im->eh.e_entry = KBASE;
	im->eh.e_phoff = offsetof(struct image, ph);
	im->eh.e_ehsize = sizeof(Elf64_Ehdr);
	im->eh.e_phentsize = sizeof(Elf64_Phdr);
	im->eh.e_phnum = 1;
	im->ph[0] = (Elf64_Phdr){
		.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = payload_offset(),
		.p_vaddr = KBASE, .p_paddr = KBASE, .p_filesz = sizeof(code),
		.p_memsz = 0x2000, .p_align = 0x1000,
	};
	memcpy(im->payload, code, sizeof(code));
}

static const char *write_file(const void *data, size_t len)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/image", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* Load through a real file, the way vmm does. */
static int load_len(const struct image *im, size_t len, struct elf_image *out)
{
	msg[0] = '\0';
	return elf_load(write_file(im, len), ram, RAM_BYTES, out, msg, sizeof(msg));
}

static int load(const struct image *im, struct elf_image *out)
{
	return load_len(im, sizeof(*im), out);
}

static void assert_rejected(int r, int err, const char *needle)
{
	cr_assert_eq(r, err, "got %d (%s), want %d", r, msg, err);
	cr_assert(strncmp(msg, "vmm: ", 5) == 0, "%s", msg);
	cr_assert_null(strchr(msg, '\n'), "%s", msg);
	cr_assert_not_null(strstr(msg, needle), "'%s' not in: %s", needle, msg);
}

static void assert_ram_untouched(void)
{
	for (uint64_t i = 0; i < RAM_BYTES; i += 4096)
		cr_assert_eq(ram[i], 0xaa, "RAM written at %#llx by a rejected image",
			     (unsigned long long)i);
}

Test(vmm_elf, valid_minimal_kernel)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	cr_assert_eq(load(&im, &out), 0, "%s", msg);
	cr_assert_eq(out.entry, KBASE);
	cr_assert_eq(out.load_start, KBASE);
	cr_assert_eq(out.kernel_end, KBASE + 0x2000);
	cr_assert_eq(out.segments, 1);
	cr_assert_arr_eq(ram + KBASE, code, sizeof(code));
	for (uint64_t i = KBASE + sizeof(code); i < KBASE + 0x2000; i++)
		cr_assert_eq(ram[i], 0, "bss not zeroed at %#llx", (unsigned long long)i);
	cr_assert_eq(ram[KBASE + 0x2000], 0xaa, "wrote past memsz");
	cr_assert_eq(ram[KBASE - 1], 0xaa, "wrote before the segment");
}

Test(vmm_elf, two_segments_and_kernel_end_rounding)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.eh.e_phnum = 3;
	im.ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0, .p_filesz = 4,
				 .p_memsz = 4 };  /* ignored: not PT_LOAD */
	im.ph[2] = (Elf64_Phdr){
		.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = payload_offset() + 4096,
		.p_vaddr = 0x200000, .p_paddr = 0x200000, .p_filesz = 8, .p_memsz = 0x1001,
	};
	memcpy(im.payload + 4096, "DATADATA", 8);
	cr_assert_eq(load(&im, &out), 0, "%s", msg);
	cr_assert_eq(out.segments, 2);
	cr_assert_eq(out.load_start, KBASE);
	cr_assert_eq(out.kernel_end, 0x202000); /* 0x201001 rounded up to 4 KiB */
	cr_assert_arr_eq(ram + 0x200000, "DATADATA", 8);
	cr_assert_eq(ram[0x201000], 0);
}

Test(vmm_elf, buffer_interface_matches)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	cr_assert_eq(elf_load_buffer(&im, sizeof(im), "mem", ram, RAM_BYTES, &out, msg,
				     sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(out.entry, KBASE);
}

Test(vmm_elf, not_elf_text_file)
{
	static const char text[] = "#!/bin/sh\necho this is not a kernel\n";
	struct elf_image out;
	int r = elf_load(write_file(text, sizeof(text) - 1), ram, RAM_BYTES, &out, msg,
			 sizeof(msg));
	assert_rejected(r, -ENOEXEC, "not an ELF file");
	assert_ram_untouched();
}

Test(vmm_elf, empty_file)
{
	struct elf_image out;
	int r = elf_load(write_file("", 0), ram, RAM_BYTES, &out, msg, sizeof(msg));
	assert_rejected(r, -ENOEXEC, "not an ELF file");
}

Test(vmm_elf, missing_file_and_directory)
{
	struct elf_image out;
	char path[128];
	snprintf(path, sizeof(path), "%s/nope.img", dir);
	assert_rejected(elf_load(path, ram, RAM_BYTES, &out, msg, sizeof(msg)), -ENOENT,
			"cannot open image");
	assert_rejected(elf_load(dir, ram, RAM_BYTES, &out, msg, sizeof(msg)), -ENOEXEC,
			"not a regular file");
}

Test(vmm_elf, elf32)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.eh.e_ident[EI_CLASS] = ELFCLASS32;
	assert_rejected(load(&im, &out), -ENOEXEC, "ELF32");
	assert_ram_untouched();
}

Test(vmm_elf, big_endian)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	assert_rejected(load(&im, &out), -ENOEXEC, "little-endian");
}

Test(vmm_elf, wrong_machine)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.eh.e_machine = EM_AARCH64;
	assert_rejected(load(&im, &out), -ENOEXEC, "not x86-64");
	assert_ram_untouched();
}

Test(vmm_elf, not_an_executable)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.eh.e_type = ET_DYN;
	assert_rejected(load(&im, &out), -ENOEXEC, "ET_DYN");
	im.eh.e_type = ET_REL;
	assert_rejected(load(&im, &out), -ENOEXEC, "ET_REL");
	assert_ram_untouched();
}

Test(vmm_elf, truncated_segment_data)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	/* The file ends 8 bytes into the segment's 16 bytes of data. */
	assert_rejected(load_len(&im, payload_offset() + 8, &out), -ENOEXEC,
			"beyond the end of the file");
	assert_ram_untouched();
}

Test(vmm_elf, truncated_program_headers)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	int r = load_len(&im, sizeof(Elf64_Ehdr) + 10, &out);
	cr_assert_eq(r, -ENOEXEC, "%s", msg);
	cr_assert(strncmp(msg, "vmm: ", 5) == 0, "%s", msg);
	assert_ram_untouched();
}

Test(vmm_elf, truncated_header)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	cr_assert_eq(load_len(&im, 40, &out), -ENOEXEC, "%s", msg);
	cr_assert(strncmp(msg, "vmm: ", 5) == 0, "%s", msg);
	cr_assert_eq(load_len(&im, 10, &out), -ENOEXEC, "%s", msg);
}

Test(vmm_elf, segment_outside_ram)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.ph[0].p_paddr = im.ph[0].p_vaddr = RAM_BYTES - 0x1000;
	im.eh.e_entry = RAM_BYTES - 0x1000;
	assert_rejected(load(&im, &out), -ERANGE, "outside guest RAM");
	im.ph[0].p_paddr = im.ph[0].p_vaddr = 0x100000000ull; /* the ring slot's GPA */
	im.eh.e_entry = 0x100000000ull;
	assert_rejected(load(&im, &out), -ERANGE, "outside guest RAM");
	assert_ram_untouched();
}

Test(vmm_elf, segment_below_1m_overlaps_vmm_structures)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.ph[0].p_paddr = im.ph[0].p_vaddr = VMM_PML4_GPA;
	im.eh.e_entry = VMM_PML4_GPA;
	assert_rejected(load(&im, &out), -ERANGE, "below");
	/* Starting just below 1 MiB and reaching over it is as bad. */
	im.ph[0].p_paddr = im.ph[0].p_vaddr = VMM_KERNEL_MIN_GPA - 0x1000;
	im.eh.e_entry = VMM_KERNEL_MIN_GPA - 0x1000;
	assert_rejected(load(&im, &out), -ERANGE, "below");
	assert_ram_untouched();
}

Test(vmm_elf, memsz_smaller_than_filesz)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.ph[0].p_memsz = 8;
	assert_rejected(load(&im, &out), -ENOEXEC, "larger than its memory size");
	assert_ram_untouched();
}

Test(vmm_elf, only_zero_size_segments)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.ph[0].p_filesz = 0;
	im.ph[0].p_memsz = 0;
	assert_rejected(load(&im, &out), -ENOEXEC, "no non-empty PT_LOAD");
}

Test(vmm_elf, no_pt_load_at_all)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.ph[0].p_type = PT_NOTE;
	assert_rejected(load(&im, &out), -ENOEXEC, "no non-empty PT_LOAD");
}

Test(vmm_elf, no_program_headers)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.eh.e_phnum = 0;
	assert_rejected(load(&im, &out), -ENOEXEC, "program headers");
}

Test(vmm_elf, address_plus_size_overflows)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.ph[0].p_paddr = im.ph[0].p_vaddr = 0xfffffffffffff000ull;
	im.eh.e_entry = 0xfffffffffffff000ull;
	assert_rejected(load(&im, &out), -ERANGE, "wraps");
	assert_ram_untouched();
}

Test(vmm_elf, offset_plus_filesz_overflows)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.ph[0].p_offset = 0xfffffffffffffff8ull;
	assert_rejected(load(&im, &out), -ENOEXEC, "beyond the end of the file");
	valid_image(&im);
	im.ph[0].p_filesz = im.ph[0].p_memsz = 0xffffffffffffff00ull;
	cr_assert_eq(load(&im, &out), -ENOEXEC, "%s", msg);
	assert_ram_untouched();
}

Test(vmm_elf, virtual_differs_from_physical)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.ph[0].p_vaddr = 0xffffffff80100000ull;
	assert_rejected(load(&im, &out), -ENOEXEC, "identity");
}

Test(vmm_elf, entry_outside_any_segment)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.eh.e_entry = KBASE + 0x2000; /* one past memsz */
	assert_rejected(load(&im, &out), -ENOEXEC, "entry point");
	im.eh.e_entry = 0;
	assert_rejected(load(&im, &out), -ENOEXEC, "entry point");
	assert_ram_untouched();
}

Test(vmm_elf, entry_in_non_executable_segment)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.ph[0].p_flags = PF_R | PF_W;
	assert_rejected(load(&im, &out), -ENOEXEC, "executable");
}

Test(vmm_elf, bad_phentsize)
{
	struct image im;
	struct elf_image out;
	valid_image(&im);
	im.eh.e_phentsize = 32;
	cr_assert_eq(load(&im, &out), -ENOEXEC, "%s", msg);
}
