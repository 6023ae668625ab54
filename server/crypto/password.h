/* password.h - account passwords (argon2id via libsodium), app-password generation and
 * random tokens for invite codes and email codes. Thread-safe; hashing is deliberately slow. */
#ifndef PDS_CRYPTO_PASSWORD_H
#define PDS_CRYPTO_PASSWORD_H

#include "core/bytes.h"
#include "core/err.h"

/* A stored hash: libsodium's "$argon2id$v=19$m=65536,t=2,p=1$salt$hash" string, NUL
 * included (crypto_pwhash_STRBYTES). */
#define PASSWORD_HASH_MAX 128
/* Longest password accepted. argon2id's cost barely depends on length, but a bound keeps
 * request bodies from feeding megabytes into the hash. */
#define PASSWORD_MAX_BYTES 1024
/* App passwords: 16 characters from [a-z2-7] shown as xxxx-xxxx-xxxx-xxxx (the
 * reference's base32 form), 19 characters + NUL. */
#define PASSWORD_APP_CHARS 16
#define PASSWORD_APP_MAX   20

/* Hashes pw with argon2id, a random salt, and the cost in password.c (2 passes over
 * 64 MiB: about 50-100 ms on a server core). Each call holds 64 MiB while it runs, so
 * the caller bounds how many run at once. ERR_TOO_LARGE past PASSWORD_MAX_BYTES;
 * ERR_INTERNAL when the memory cannot be had. Writes a NUL-terminated string. */
enum err password_hash(struct bytes pw, char out[PASSWORD_HASH_MAX]) MUST_CHECK;
/* True when pw matches a stored argon2id string (constant time in the password by
 * construction: the whole hash is recomputed and compared in constant time). False for a
 * malformed or non-argon2id hash, or pw past PASSWORD_MAX_BYTES. */
bool password_verify(const char *hash, struct bytes pw) MUST_CHECK;
/* True when a stored hash uses other parameters than today's (rehash after a login). */
bool password_needs_rehash(const char *hash);

/* A new app password "xxxx-xxxx-xxxx-xxxx" with 80 bits of libsodium randomness. */
void password_app_generate(char out[PASSWORD_APP_MAX]);
/* True when text has the app-password shape (lets login try app passwords first). */
bool password_is_app_format(struct bytes text);

/* Random tokens, NUL-terminated, out holding chars + 1 bytes: hex is [0-9a-f] (4 bits a
 * character), base32 is [a-z2-7] (5 bits a character). For invite and email codes. */
void password_token_hex(char *out, size_t chars);
void password_token_base32(char *out, size_t chars);

#endif
