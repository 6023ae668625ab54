/* jwt.h - compact JWS tokens: HS256 (legacy session JWTs under PDS_JWT_SECRET) and
 * ES256K / ES256 (service auth, via sigkey). Pure apart from jansson; thread-safe. */
#ifndef PDS_CRYPTO_JWT_H
#define PDS_CRYPTO_JWT_H

#include <jansson.h>

#include "core/bytes.h"
#include "core/err.h"
#include "crypto/sigkey.h"

/* Longest token accepted or produced. Session and service JWTs are a few hundred bytes;
 * 8 KiB leaves room for long scope strings and an embedded JWK while bounding the work a
 * stranger can ask of us before any signature check. */
#define JWT_MAX_BYTES   8192
#define JWT_HS256_BYTES 32 /* HMAC-SHA256 output */

enum jwt_alg {
    JWT_ALG_HS256,  /* HMAC-SHA256 with a shared secret */
    JWT_ALG_ES256K, /* ECDSA secp256k1, 64-byte r ‖ s */
    JWT_ALG_ES256,  /* ECDSA P-256, 64-byte r ‖ s */
};

/* A parsed (not yet verified, unless a function says so) token.
 * Fields are filled by jwt_parse; free them with jwt_clear. */
struct jwt {
    json_t *header;       /* owned JSON object */
    json_t *claims;       /* owned JSON object */
    enum jwt_alg alg;     /* from header.alg */
    char *_signing_input; /* "b64url(header).b64url(claims)", as received */
    size_t _signing_len;
    uint8_t _sig[SIGKEY_SIG_BYTES]; /* the decoded signature */
    size_t _sig_len;
};

/* Builds "b64url(header).b64url(claims).b64url(sig)" with JSON in compact form.
 * header may be NULL (meaning {"typ":"JWT"}); its "alg" is set from the key, first.
 * claims must be an object. On success *out is a NUL-terminated string the caller frees
 * with free(). ERR_INVALID for a non-object, an empty secret or a key without a private
 * half; ERR_TOO_LARGE past JWT_MAX_BYTES. */
enum err jwt_sign_hs256(const json_t *header, const json_t *claims, struct bytes secret,
                        char **out) MUST_CHECK;
enum err jwt_sign_sigkey(const json_t *header, const json_t *claims, const struct sigkey *key,
                         char **out) MUST_CHECK;

/* Splits and decodes a token without checking its signature (service auth must read "iss"
 * to find the key). ERR_TOO_LARGE past JWT_MAX_BYTES; ERR_INVALID for anything but three
 * strict base64url segments holding two JSON objects (duplicate keys refused), for alg
 * "none" or a missing alg, and for a signature of the wrong length; ERR_UNSUPPORTED for
 * another alg or a "crit" header. On failure *out is left cleared. */
enum err jwt_parse(struct bytes token, struct jwt *out) MUST_CHECK;
/* Signature checks on a parsed token; false unless the alg matches (HS256, or the ES
 * alg of the key's curve). The HMAC compare is constant time. lenient allows a high-S
 * ECDSA signature, which the reference accepts on incoming service JWTs. */
bool jwt_verify_hs256(const struct jwt *j, struct bytes secret) MUST_CHECK;
bool jwt_verify_sigkey(const struct jwt *j, const struct sigkey *key, bool lenient) MUST_CHECK;
/* jwt_parse then jwt_verify_hs256: ERR_AUTH if the signature is wrong (then *out is
 * cleared). */
enum err jwt_decode_hs256(struct bytes token, struct bytes secret, struct jwt *out) MUST_CHECK;

/* Header and claim readers: borrowed strings living as long as j, NULL when absent or
 * not a string. */
const char *jwt_typ(const struct jwt *j);
/* Whether header "typ" is the media type want, as RFC 7515 4.1.9 and jose compare them:
 * case-insensitively, "application/" optional on either side. false when typ is absent or
 * not a string. */
bool jwt_typ_is(const struct jwt *j, const char *want);
const char *jwt_alg(const struct jwt *j);
const char *jwt_claim_str(const struct jwt *j, const char *name);
/* True and *out set when the claim is a JSON integer. */
bool jwt_claim_int(const struct jwt *j, const char *name, int64_t *out);
/* True unless claim "exp" is an integer greater than now (seconds since the epoch): a
 * token without a usable exp counts as expired. */
bool jwt_is_expired(const struct jwt *j, int64_t now);
/* The header alg name for a curve: "ES256K" or "ES256". */
const char *jwt_alg_for_curve(enum sigkey_curve curve);

/* Frees header, claims and the copy of the token. Safe on a zeroed or cleared struct. */
void jwt_clear(struct jwt *j);

#endif
