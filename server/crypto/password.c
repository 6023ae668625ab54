/* password.c - argon2id password hashes and random tokens, all on libsodium. */
#include "crypto/password.h"

#include "crypto/ready.h"

#include <pthread.h>
#include <stdlib.h>

#include <sodium.h>

/* Cost: libsodium's INTERACTIVE preset for argon2id (opslimit 2 passes, memlimit 64 MiB),
 * above OWASP's argon2id minimum (2 passes over 19 MiB). It keeps a login near 50-100 ms;
 * MODERATE (3 passes over 256 MiB) would cost ~0.5 s and a quarter GiB per concurrent
 * login, too much for a small PDS. Stored strings carry their own parameters, so raising
 * these later only needs password_needs_rehash at login. */
#define PASSWORD_OPSLIMIT crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE
#define PASSWORD_MEMLIMIT crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE

#define APP_GROUP_CHARS 4 /* xxxx-xxxx-xxxx-xxxx */

_Static_assert(PASSWORD_HASH_MAX >= crypto_pwhash_argon2id_STRBYTES, "hash buffer size");
_Static_assert(PASSWORD_APP_MAX ==
                   PASSWORD_APP_CHARS + PASSWORD_APP_CHARS / APP_GROUP_CHARS - 1 + 1,
               "app password buffer size");

static const char BASE32_LOWER[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char HEX_LOWER[] = "0123456789abcdef";

enum err password_hash(struct bytes pw, char out[PASSWORD_HASH_MAX])
{
    out[0] = '\0';
    if (pw.len > PASSWORD_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    ready_sodium();
    if (crypto_pwhash_argon2id_str(out, (const char *)pw.ptr, pw.len, PASSWORD_OPSLIMIT,
                                   PASSWORD_MEMLIMIT) != 0) {
        out[0] = '\0';
        return ERR_INTERNAL; /* libsodium fails only when it cannot allocate */
    }
    return ERR_OK;
}

/* Copies a stored hash into a STRBYTES buffer, refusing one too long to be ours. */
static bool load_hash(const char *hash, char buf[crypto_pwhash_argon2id_STRBYTES])
{
    if (!hash) {
        return false;
    }
    size_t n = strnlen(hash, crypto_pwhash_argon2id_STRBYTES);
    if (n == 0 || n >= crypto_pwhash_argon2id_STRBYTES) {
        return false;
    }
    memset(buf, 0, crypto_pwhash_argon2id_STRBYTES);
    memcpy(buf, hash, n);
    return true;
}

bool password_verify(const char *hash, struct bytes pw)
{
    char buf[crypto_pwhash_argon2id_STRBYTES];
    if (pw.len > PASSWORD_MAX_BYTES || !load_hash(hash, buf)) {
        return false;
    }
    ready_sodium();
    /* the argon2id-specific verifier refuses argon2i strings */
    return crypto_pwhash_argon2id_str_verify(buf, (const char *)pw.ptr, pw.len) == 0;
}

bool password_needs_rehash(const char *hash)
{
    char buf[crypto_pwhash_argon2id_STRBYTES];
    if (!load_hash(hash, buf)) {
        return true;
    }
    ready_sodium();
    return crypto_pwhash_argon2id_str_needs_rehash(buf, PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT) != 0;
}

/* chars random picks from an alphabet of 16 or 32 symbols: both divide 256, so masking a
 * random byte is uniform. */
static void random_chars(char *out, size_t chars, const char *alphabet, uint8_t mask)
{
    ready_sodium();
    uint8_t rnd[64];
    size_t i = 0;
    while (i < chars) {
        size_t n = chars - i < sizeof(rnd) ? chars - i : sizeof(rnd);
        randombytes_buf(rnd, n);
        for (size_t k = 0; k < n; k++) {
            out[i++] = alphabet[rnd[k] & mask];
        }
    }
    out[chars] = '\0';
    sodium_memzero(rnd, sizeof(rnd));
}

void password_app_generate(char out[PASSWORD_APP_MAX])
{
    char raw[PASSWORD_APP_CHARS + 1];
    random_chars(raw, PASSWORD_APP_CHARS, BASE32_LOWER, 31);
    size_t o = 0;
    for (size_t i = 0; i < PASSWORD_APP_CHARS; i++) {
        if (i > 0 && i % APP_GROUP_CHARS == 0) {
            out[o++] = '-';
        }
        out[o++] = raw[i];
    }
    out[o] = '\0';
    sodium_memzero(raw, sizeof(raw));
}

bool password_is_app_format(struct bytes text)
{
    if (text.len != PASSWORD_APP_MAX - 1) {
        return false;
    }
    for (size_t i = 0; i < text.len; i++) {
        uint8_t c = text.ptr[i];
        bool dash_here = (i + 1) % (APP_GROUP_CHARS + 1) == 0;
        bool ok = dash_here ? c == '-' : (c != 0 && memchr(BASE32_LOWER, c, 32) != NULL);
        if (!ok) {
            return false;
        }
    }
    return true;
}

void password_token_hex(char *out, size_t chars)
{
    random_chars(out, chars, HEX_LOWER, 15);
}

void password_token_base32(char *out, size_t chars)
{
    random_chars(out, chars, BASE32_LOWER, 31);
}
