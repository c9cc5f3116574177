/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 (FIPS 180-4) for the guest's network programs: they print the
 * digest of every byte they sent or received, and the host side compares it
 * with sha256sum.  Incremental: init, update any number of times with any
 * lengths, final.  Integer only (the guest kernel has no FPU/SSE state).
 */
#ifndef NET_SHA256_H
#define NET_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_BYTES 32
#define SHA256_HEX_BYTES    (2 * SHA256_DIGEST_BYTES + 1) /* with the NUL */

struct sha256 {
	uint32_t h[8];
	uint64_t total;        /* bytes hashed so far */
	uint8_t block[64];     /* partial block */
	uint32_t used;         /* bytes in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST_BYTES]);

/* Lower-case hex of a digest, NUL terminated. */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_BYTES], char hex[SHA256_HEX_BYTES]);
/* final + hex in one step. */
void sha256_final_hex(struct sha256 *s, char hex[SHA256_HEX_BYTES]);

#endif
