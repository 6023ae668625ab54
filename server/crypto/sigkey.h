/* sigkey.h - ECDSA signing keys on atproto's two curves (k256 = secp256k1 via libsecp256k1,
 * p256 = NIST P-256 via OpenSSL) behind one interface, and their did:key / multikey text.
 * Thread-safe: library contexts are created once per process (pthread_once) and only read. */
#ifndef PDS_CRYPTO_SIGKEY_H
#define PDS_CRYPTO_SIGKEY_H

#include "core/bytes.h"
#include "core/err.h"

enum sigkey_curve {
    SIGKEY_K256, /* secp256k1, JWT alg ES256K; the curve the reference generates */
    SIGKEY_P256, /* NIST P-256 (secp256r1), JWT alg ES256 */
};

#define SIGKEY_PRIVATE_BYTES             32 /* a scalar in [1, n-1], big-endian */
#define SIGKEY_PUBLIC_BYTES              33 /* SEC1 compressed point: 02|03 ‖ x */
#define SIGKEY_PUBLIC_UNCOMPRESSED_BYTES 65 /* SEC1 uncompressed point: 04 ‖ x ‖ y */
#define SIGKEY_SIG_BYTES                 64 /* spec(cryptography): r ‖ s, 32 bytes each */
#define SIGKEY_DIGEST_BYTES              32 /* SHA-256 */
#define SIGKEY_PRIVATE_HEX_MAX           65 /* 64 hex digits + NUL */
/* multicodec varints (multiformats table): secp256k1-pub 0xe7, p256-pub 0x1200 */
#define SIGKEY_CODEC_K256 0xe7
#define SIGKEY_CODEC_P256 0x1200
/* "z" + base58btc of (2-byte codec ‖ 33 bytes) is at most 49 characters; plus NUL, rounded */
#define SIGKEY_MULTIKEY_MAX 56
#define SIGKEY_DID_KEY_MAX  64 /* "did:key:" + multikey */

/* A key by value: no pointers to library objects, so it may be copied and stored.
 * Invariant: public is always the valid compressed point; private is meaningful only when
 * has_private, and is then the scalar whose point is public. Wipe with sigkey_clear. */
struct sigkey {
    enum sigkey_curve curve;
    bool has_private;
    uint8_t private_key[SIGKEY_PRIVATE_BYTES];
    uint8_t public_key[SIGKEY_PUBLIC_BYTES];
};

/* A fresh random key (libsodium randomness). ERR_INTERNAL only if the library fails. */
enum err sigkey_generate(enum sigkey_curve curve, struct sigkey *out) MUST_CHECK;
/* From a raw scalar; ERR_INVALID if zero or not below the curve order. */
enum err sigkey_from_private(enum sigkey_curve curve, const uint8_t priv[SIGKEY_PRIVATE_BYTES],
                             struct sigkey *out) MUST_CHECK;
/* From exactly 64 hex digits (either case); ERR_INVALID otherwise. */
enum err sigkey_from_private_hex(enum sigkey_curve curve, struct bytes hex,
                                 struct sigkey *out) MUST_CHECK;
/* Writes the private scalar as 64 lower-case hex digits and a NUL. Needs has_private.
 * The output is a secret: wipe it with sodium_memzero after use. */
void sigkey_private_hex(const struct sigkey *k, char out[SIGKEY_PRIVATE_HEX_MAX]);
/* From a SEC1 point: 33 bytes compressed or 65 bytes uncompressed (0x04 prefix; the
 * "hybrid" 0x06/0x07 form is refused). ERR_INVALID unless a point on the curve. */
enum err sigkey_from_public(enum sigkey_curve curve, struct bytes pub,
                            struct sigkey *out) MUST_CHECK;
/* Writes the public key as an uncompressed SEC1 point (04 ‖ x ‖ y): JWKs carry x and y.
 * False only if the library fails. */
bool sigkey_public_uncompressed(const struct sigkey *k,
                                uint8_t out[SIGKEY_PUBLIC_UNCOMPRESSED_BYTES]) MUST_CHECK;
/* True when both are the same public key on the same curve (private halves ignored). */
bool sigkey_equal(const struct sigkey *a, const struct sigkey *b);

/* Signs SHA-256(msg), hashed once here. Writes r ‖ s, always low-S (s <= n/2).
 * ERR_INVALID if the key has no private half; ERR_INTERNAL if the library fails. */
enum err sigkey_sign(const struct sigkey *k, struct bytes msg,
                     uint8_t sig[SIGKEY_SIG_BYTES]) MUST_CHECK;
/* Signs a digest the caller computed (not hashed again). Same output and errors. */
enum err sigkey_sign_digest(const struct sigkey *k, const uint8_t digest[SIGKEY_DIGEST_BYTES],
                            uint8_t sig[SIGKEY_SIG_BYTES]) MUST_CHECK;

/* spec(cryptography): true only for exactly 64 bytes r ‖ s with 0 < r, s < n, s <= n/2,
 * valid over SHA-256(msg). DER and high-S are refused; nothing is normalised first. */
bool sigkey_verify(const struct sigkey *k, struct bytes msg, struct bytes sig) MUST_CHECK;
bool sigkey_verify_digest(const struct sigkey *k, const uint8_t digest[SIGKEY_DIGEST_BYTES],
                          struct bytes sig) MUST_CHECK;
/* As sigkey_verify but also accepts high-S: the reference verifies incoming service JWTs
 * with allowMalleableSig. Use only there; still exactly 64 bytes, never DER. */
bool sigkey_verify_lenient(const struct sigkey *k, struct bytes msg, struct bytes sig) MUST_CHECK;

/* spec(cryptography): multikey = "z" + base58btc(varint codec ‖ 33-byte compressed point);
 * did:key = "did:key:" + multikey. Both write a NUL-terminated string. */
void sigkey_multikey(const struct sigkey *k, char out[SIGKEY_MULTIKEY_MAX]);
void sigkey_did_key(const struct sigkey *k, char out[SIGKEY_DID_KEY_MAX]);
/* Parse the forms above; the curve comes from the codec. ERR_INVALID for bad text, a bad
 * point or trailing bytes; ERR_UNSUPPORTED for another codec or multibase. */
enum err sigkey_from_multikey(struct bytes text, struct sigkey *out) MUST_CHECK;
enum err sigkey_from_did_key(struct bytes text, struct sigkey *out) MUST_CHECK;
/* Legacy DID-document publicKeyMultibase (EcdsaSecp256{k,r}1VerificationKey2019):
 * "z" + base58btc of a compressed or uncompressed point with no codec; the caller names
 * the curve from the document's key type. */
enum err sigkey_from_legacy_multibase(enum sigkey_curve curve, struct bytes text,
                                      struct sigkey *out) MUST_CHECK;

/* Wipes the whole struct (sodium_memzero). Safe on a zeroed key. */
void sigkey_clear(struct sigkey *k);

#endif
