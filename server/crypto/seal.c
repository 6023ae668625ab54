/* seal.c - secretbox sealing of secrets at rest under a key derived from a server secret. */
#include "crypto/seal.h"

#include "crypto/ready.h"

#include <pthread.h>
#include <stdlib.h>

#include <sodium.h>

_Static_assert(SEAL_KEY_BYTES == crypto_secretbox_KEYBYTES, "secretbox key size");
_Static_assert(SEAL_NONCE_BYTES == crypto_secretbox_NONCEBYTES, "secretbox nonce size");
_Static_assert(SEAL_MAC_BYTES == crypto_secretbox_MACBYTES, "secretbox MAC size");

/* Domain separation label: changing it changes every derived key (a format version). */
static const char SEAL_CONTEXT[] = "atproto-pds signing-key seal v1";

enum err seal_derive_key(struct bytes secret, uint8_t key[SEAL_KEY_BYTES])
{
    if (secret.len == 0) {
        return ERR_INVALID;
    }
    ready_sodium();
    /* BLAKE2b(key = the label, message = the secret): a PRF of the secret with a fixed,
     * public label; secrets of any length are fine, unlike crypto_kdf's 32-byte master */
    crypto_generichash_state st;
    if (crypto_generichash_init(&st, (const uint8_t *)SEAL_CONTEXT, sizeof(SEAL_CONTEXT) - 1,
                                SEAL_KEY_BYTES) != 0 ||
        crypto_generichash_update(&st, secret.ptr, secret.len) != 0 ||
        crypto_generichash_final(&st, key, SEAL_KEY_BYTES) != 0) {
        sodium_memzero(&st, sizeof(st));
        return ERR_INTERNAL;
    }
    sodium_memzero(&st, sizeof(st));
    return ERR_OK;
}

enum err seal_box(const uint8_t key[SEAL_KEY_BYTES], struct bytes plain, struct buf *out)
{
    if (plain.len > SEAL_PLAIN_MAX) {
        return ERR_TOO_LARGE;
    }
    enum err e = buf_reserve(out, plain.len + SEAL_OVERHEAD_BYTES);
    if (e) {
        return e;
    }
    ready_sodium();
    uint8_t *nonce = out->ptr + out->len;
    randombytes_buf(nonce, SEAL_NONCE_BYTES); /* 192 bits: random nonces never collide */
    if (crypto_secretbox_easy(nonce + SEAL_NONCE_BYTES, plain.ptr, plain.len, nonce, key) != 0) {
        return ERR_INTERNAL;
    }
    out->len += plain.len + SEAL_OVERHEAD_BYTES;
    out->ptr[out->len] = 0;
    return ERR_OK;
}

enum err seal_open(const uint8_t key[SEAL_KEY_BYTES], struct bytes sealed, uint8_t *plain,
                   size_t plain_cap, size_t *plain_len)
{
    *plain_len = 0;
    if (sealed.len < SEAL_OVERHEAD_BYTES) {
        return ERR_INVALID;
    }
    size_t n = sealed.len - SEAL_OVERHEAD_BYTES;
    if (n > plain_cap) {
        return ERR_TOO_LARGE;
    }
    ready_sodium();
    const uint8_t *nonce = sealed.ptr;
    if (crypto_secretbox_open_easy(plain, sealed.ptr + SEAL_NONCE_BYTES,
                                   sealed.len - SEAL_NONCE_BYTES, nonce, key) != 0) {
        sodium_memzero(plain, n);
        return ERR_AUTH;
    }
    *plain_len = n;
    return ERR_OK;
}
