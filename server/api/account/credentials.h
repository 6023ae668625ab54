/* credentials.h - what every credential check and change shares: password hashing under a
 * process-wide concurrency bound (argon2id holds 64 MiB each), app-password digests, random
 * token ids and the wall clock. Thread-safe. */
#ifndef PDS_API_ACCOUNT_CREDENTIALS_H
#define PDS_API_ACCOUNT_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "crypto/password.h"

/* Refresh-token ids (the JWT's jti): 64 hex digits, 256 random bits. */
#define ACCOUNT_TOKEN_ID_CHARS 64
/* Stored app-password digest: "b2:" + 64 hex digits + NUL. */
#define ACCOUNT_APP_DIGEST_MAX 72
/* argon2id hashes running at once: each holds 64 MiB (password.h). Others wait their turn. */
#define ACCOUNT_HASHES_MAX 2
/* reference: new passwords are at most 256 characters; logins accept up to 512 (older
 * accounts may have longer ones) */
#define ACCOUNT_NEW_PASSWORD_MAX_CHARS 256
#define ACCOUNT_OLD_PASSWORD_MAX_CHARS 512

/* Characters (code points) of a UTF-8 string, as the reference's length limits count them
 * (close enough: it counts UTF-16 units). */
size_t account_password_chars(const char *pw);

/* password_hash / password_verify, at most ACCOUNT_HASHES_MAX at a time. */
enum err account_password_hash(const char *pw, char out[PASSWORD_HASH_MAX]) MUST_CHECK;
bool account_password_verify(const char *hash, const char *pw) MUST_CHECK;
/* Spends the time of one failed verify (unknown identifier: no timing oracle). */
void account_password_burn(const char *pw);

/* App passwords carry 80 random bits, so a fast keyed digest stores them safely and lets a
 * login find one with a single indexed lookup: BLAKE2b(did ‖ 0 ‖ password), hex. */
void account_app_password_digest(const char *did, const char *pw, char out[ACCOUNT_APP_DIGEST_MAX]);

/* A new random token id (refresh jti). */
void account_token_id(char out[ACCOUNT_TOKEN_ID_CHARS + 1]);

/* Milliseconds since the epoch. */
int64_t account_now_ms(void);

#endif
