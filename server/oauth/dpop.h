/* dpop.h - checking a DPoP proof (RFC 9449 §4.3): the JWT's header (typ dpop+jwt, alg
 * ES256, an embedded public P-256 jwk), its signature, and its claims against the request:
 * htm the method, htu the URL without query, iat within the window, jti present, the
 * server nonce, and at a resource server ath = b64url(SHA-256(access token)). The jti's
 * single use is the caller's (replay.h), once the proof is otherwise good.
 * Pure given the nonce key and the time; thread-safe. */
#ifndef PDS_OAUTH_DPOP_H
#define PDS_OAUTH_DPOP_H

#include <stdint.h>

#include "core/arena.h"
#include "crypto/jwk.h"

/* reference dpop-manager.ts: maxTokenAge 10 s with a clock tolerance of the nonce's life
 * (3 min) either way: a proof is good from 180 s before its iat to 190 s after */
#define DPOP_IAT_MAX_AGE_S 10
#define DPOP_CLOCK_SKEW_S  180
#define DPOP_REPLAY_TTL_S  (DPOP_IAT_MAX_AGE_S + 2 * DPOP_CLOCK_SKEW_S + 30)
#define DPOP_JTI_MAX_BYTES 256

enum dpop_result {
    DPOP_OK = 0,
    DPOP_ABSENT,  /* no DPoP header */
    DPOP_INVALID, /* invalid_dpop_proof (why says what) */
    DPOP_NONCE,   /* use_dpop_nonce: no nonce, or not a current one */
};

struct dpop_proof {
    char jkt[JWK_THUMBPRINT_CHARS + 1]; /* RFC 7638 thumbprint of the proof's key */
    const char *jti;                    /* in the arena */
};

/* Checks header (the DPoP header's value, NULL when absent) for a request of method htm to
 * htu (our public origin + the request path: what the proof must name). access_token is
 * the token of an Authorization: DPoP header at a resource server, or NULL at the
 * authorization server (where an ath claim is refused). *why gets a static reason. */
enum dpop_result dpop_check(struct arena *a, const char *header, const char *htm, const char *htu,
                            const char *access_token, int64_t now, struct dpop_proof *out,
                            const char **why);

/* The htu of a URL as RFC 9449 §4.3 compares it: scheme and host lower-cased, the default
 * port dropped, no query or fragment. NULL for anything but an http(s) URL without
 * credentials. In the arena. */
const char *dpop_normalize_htu(struct arena *a, const char *url);

#endif
