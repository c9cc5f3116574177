/* SPDX-License-Identifier: MIT */
/* sha256-selftest: the guest's SHA-256 against the FIPS 180-4 / NIST vectors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/program.h>

#include "netprog.h"
#include "sha256.h"

struct vector {
	const char *name;
	const char *msg;
	const char *digest;
};

static const struct vector vectors[] = {
	{ "empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "448-bit", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "896-bit",
	  "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
	  "klmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

static bool check(const char *name, const char *got, const char *want)
{
	if (!strcmp(got, want)) {
		printf("sha256-selftest: %s: ok\n", name);
		return true;
	}
	printf("sha256-selftest: %s: FAILED: got %s, expected %s\n", name, got, want);
	return false;
}

static int sha256_selftest_main(int argc, char **argv)
{
	bool million = argc == 2 && !strcmp(argv[1], "--million");
	char hex[SHA256_HEX_BYTES];
	struct sha256 s;
	unsigned failed = 0, total = 0;

	if (argc > 2 || (argc == 2 && !million))
		return net_usage(argv[0], "[--million]\n  --million adds the one million 'a' "
					  "vector (slow on a PVM host)");
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		sha256_init(&s);
		sha256_update(&s, v->msg, strlen(v->msg));
		sha256_final_hex(&s, hex);
		failed += !check(v->name, hex, v->digest);
		total++;

		/* The same message fed in pieces of every size 1..7: the block
		 * buffering must not change the digest. */
		for (size_t piece = 1; piece < 8; piece++) {
			char name[48];
			size_t len = strlen(v->msg);
			sha256_init(&s);
			for (size_t off = 0; off < len; off += piece)
				sha256_update(&s, v->msg + off, len - off < piece ? len - off : piece);
			sha256_final_hex(&s, hex);
			snprintf(name, sizeof(name), "%s in %zu-byte pieces", v->name, piece);
			if (strcmp(hex, v->digest))
				failed += !check(name, hex, v->digest);
			total++;
		}
	}
	if (million) {
		static char a[1000];
		memset(a, 'a', sizeof(a));
		sha256_init(&s);
		for (int i = 0; i < 1000; i++)
			sha256_update(&s, a, sizeof(a));
		sha256_final_hex(&s, hex);
		failed += !check("million-a", hex,
				 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
		total++;
	}
	printf("sha256-selftest: %u of %u checks passed\n", total - failed, total);
	return failed ? NET_EXIT_FAIL : 0;
}
GUEST_PROGRAM("sha256-selftest", sha256_selftest_main, "[--million]",
	      "check the guest's SHA-256 against the FIPS 180-4 vectors");
