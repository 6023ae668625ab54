/* seal.h - encrypting secrets at rest (account signing keys) under a key derived from a
 * server secret: XSalsa20-Poly1305 (crypto_secretbox) with a random nonce prepended.
 * Pure apart from randomness; thread-safe. */
#ifndef PDS_CRYPTO_SEAL_H
#define PDS_CRYPTO_SEAL_H

#include "core/bytes.h"
#include "core/err.h"

#define SEAL_KEY_BYTES      32 /* crypto_secretbox_KEYBYTES */
#define SEAL_NONCE_BYTES    24 /* crypto_secretbox_NONCEBYTES */
#define SEAL_MAC_BYTES      16 /* crypto_secretbox_MACBYTES */
#define SEAL_OVERHEAD_BYTES (SEAL_NONCE_BYTES + SEAL_MAC_BYTES)
#define SEAL_PLAIN_MAX      4096 /* sealed secrets are keys, not documents */

/* Derives the sealing key from server secret bytes (e.g. PDS_JWT_SECRET or a dedicated
 * key-encryption secret) with keyed BLAKE2b under a fixed context label, so the same
 * secret used elsewhere (HS256) yields an unrelated key. ERR_INVALID for an empty secret.
 * The output is a secret: wipe it with sodium_memzero. */
enum err seal_derive_key(struct bytes secret, uint8_t key[SEAL_KEY_BYTES]) MUST_CHECK;

/* Appends nonce ‖ secretbox(plain) (plain.len + SEAL_OVERHEAD_BYTES bytes) to out.
 * ERR_TOO_LARGE past SEAL_PLAIN_MAX or the buffer's max. */
enum err seal_box(const uint8_t key[SEAL_KEY_BYTES], struct bytes plain,
                  struct buf *out) MUST_CHECK;

/* Opens what seal_box wrote into plain (capacity plain_cap), setting *plain_len. A fixed
 * caller buffer, not a struct buf, so the secret is never left behind by a realloc.
 * ERR_INVALID if sealed is shorter than the overhead; ERR_TOO_LARGE if the plaintext
 * would not fit; ERR_AUTH if the key is wrong or the bytes were altered (plain then holds
 * nothing). */
enum err seal_open(const uint8_t key[SEAL_KEY_BYTES], struct bytes sealed, uint8_t *plain,
                   size_t plain_cap, size_t *plain_len) MUST_CHECK;

#endif
