/* dpop_nonce.h - the server-provided DPoP nonces (RFC 9449 §8, §9): HMAC(nonce key, time
 * slot) for slots of a minute, so nonces rotate every minute, every process of a host hands
 * out the same one, and nothing is stored. A proof may carry the current slot's nonce, the
 * previous one or the next one (which is the one handed out): a nonce lives about three
 * minutes (the reference's DPOP_NONCE_MAX_AGE), within the spec's "rotate within five".
 * Pure given oauth_nonce_key(); thread-safe. */
#ifndef PDS_OAUTH_DPOP_NONCE_H
#define PDS_OAUTH_DPOP_NONCE_H

#include <stdbool.h>
#include <stdint.h>

#define DPOP_NONCE_SLOT_S 60
#define DPOP_NONCE_CHARS  43 /* base64url of an HMAC-SHA256 */

/* The nonce to hand out at time now (seconds): the next slot's. */
void dpop_nonce_next(int64_t now, char out[DPOP_NONCE_CHARS + 1]);

/* Whether nonce is the previous, current or next slot's at time now (constant time). */
bool dpop_nonce_valid(const char *nonce, int64_t now);

#endif
