/* totp.h - TOTP two-factor sign-in for an account (RFC 6238 codes from an authenticator
 * app, crypto/totp.h): enrolment (a secret shown once as an otpauth:// URI and QR code,
 * enabled by a first good code, with ten single-use recovery codes), the check at sign-in
 * (a code works once: its time step is remembered), and turning it off. The secret is
 * stored sealed (crypto/seal.h, under a key derived from the server's seal key); recovery
 * codes as SHA-256 digests. Runs on the caller's connection; thread-safe. */
#ifndef PDS_API_ACCOUNT_TOTP_H
#define PDS_API_ACCOUNT_TOTP_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/err.h"
#include "crypto/totp.h"
#include "db/db.h"

#define TOTP_RECOVERY_CODES      10
#define TOTP_RECOVERY_CODE_CHARS 11 /* "xxxxx-xxxxx": 50 random bits each */

/* Whether did has TOTP turned on. */
enum err account_totp_enabled(struct db *db, const char *did, bool *on) MUST_CHECK;

/* Starts (or restarts) an enrolment: a new secret, stored sealed and not yet enabled;
 * secret_b32 gets its base32 text. ERR_CONFLICT when TOTP is already on. */
enum err account_totp_begin(struct db *db, const char *did,
                            char secret_b32[TOTP_SECRET_B32_CHARS + 1]) MUST_CHECK;

/* The pending (or enabled) secret's base32 text, for the QR code; ERR_NOT_FOUND if none. */
enum err account_totp_secret(struct db *db, struct arena *a, const char *did,
                             const char **secret_b32) MUST_CHECK;

/* Finishes an enrolment with a first code from the app: *ok false for a wrong code (or no
 * pending enrolment). On success the recovery codes are made, stored as digests and
 * written to codes (each TOTP_RECOVERY_CODE_CHARS + NUL); one transaction. */
enum err account_totp_enable(struct db *db, const char *did, const char *code,
                             char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_CODE_CHARS + 1],
                             bool *ok) MUST_CHECK;

/* Checks a sign-in code: a current TOTP code not used before, or an unused recovery code
 * (which is then deleted). *ok false otherwise. */
enum err account_totp_check(struct db *db, const char *did, const char *code, bool *ok) MUST_CHECK;

/* Turns TOTP off (secret and recovery codes deleted) after a good code. */
enum err account_totp_disable(struct db *db, const char *did, const char *code,
                              bool *ok) MUST_CHECK;

#endif
