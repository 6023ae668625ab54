/* sha256.h - SHA-256, the only hash atproto blesses (CIDs, MST depth, signatures).
 * Pure; thread-safe. Backed by OpenSSL, which uses the CPU's SHA extensions. */
#ifndef PDS_CORE_SHA256_H
#define PDS_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32

void sha256(const void *data, size_t len, uint8_t out[SHA256_BYTES]);

/* Incremental form for streamed input (blob uploads, CAR sections). */
struct sha256_ctx {
    void *_md; /* EVP_MD_CTX */
};
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_BYTES]); /* also frees */

#endif
