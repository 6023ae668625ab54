/* totp.h - time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) as authenticator
 * apps make them: HMAC-SHA1, 30-second steps, 6 digits; and the base32 text such apps read
 * secrets in. Pure (the time is an argument); thread-safe. */
#ifndef PDS_CRYPTO_TOTP_H
#define PDS_CRYPTO_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

#define TOTP_SECRET_BYTES 20 /* RFC 4226 §4: 160 bits, the HMAC-SHA1 block's natural size */
#define TOTP_STEP_S       30 /* RFC 6238 §4.1: the default time step X */
#define TOTP_DIGITS       6
#define TOTP_WINDOW_STEPS 1 /* RFC 6238 §5.2: one step either side for clock drift */
/* base32 of TOTP_SECRET_BYTES: 32 characters, no padding (20 bytes = 160 bits = 32 × 5) */
#define TOTP_SECRET_B32_CHARS 32

/* The time step of Unix time now (seconds). */
uint64_t totp_step(int64_t now);

/* spec(RFC 4226 §5.3): the HOTP value of counter as TOTP_DIGITS decimal digits and a NUL. */
void totp_code(struct bytes secret, uint64_t counter, char out[TOTP_DIGITS + 1]);

/* Whether code (exactly TOTP_DIGITS digits; spaces allowed between them) is the code of a
 * step within TOTP_WINDOW_STEPS of now's and later than after (the last step already used,
 * 0 for none: a code works once). The comparison is constant-time. *step gets the matching
 * step. */
bool totp_check(struct bytes secret, const char *code, int64_t now, uint64_t after, uint64_t *step);

/* RFC 4648 base32, upper case, unpadded: the form otpauth:// URIs carry. out must hold
 * (secret.len * 8 + 4) / 5 + 1 bytes. */
void totp_base32(struct bytes secret, char *out);

#endif
