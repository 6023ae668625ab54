/* jwk.h - JSON Web Keys (RFC 7517) for the curve OAuth uses here: P-256 public keys (DPoP
 * proofs, client assertions), their RFC 7638 thumbprints (the "jkt" a token is bound to),
 * and the reverse for tests and our own clients. Pure apart from jansson; thread-safe. */
#ifndef PDS_CRYPTO_JWK_H
#define PDS_CRYPTO_JWK_H

#include <jansson.h>

#include "core/err.h"
#include "crypto/sigkey.h"

#define JWK_COORD_BYTES      32 /* P-256 x and y */
#define JWK_THUMBPRINT_CHARS 43 /* base64url of a SHA-256 digest, unpadded */

/* A public EC key object: kty "EC", crv "P-256", x and y the 32-byte coordinates in strict
 * base64url, and no private "d" (a JWK that leaks a private key is refused, as RFC 9449
 * asks of DPoP). Other members (kid, alg, use) are allowed and ignored here.
 * ERR_UNSUPPORTED for another kty or crv; ERR_INVALID otherwise (not a point on the
 * curve, bad encoding, missing members). */
enum err jwk_p256_parse(const json_t *jwk, struct sigkey *out) MUST_CHECK;

/* spec(RFC 7638): base64url(SHA-256 of {"crv":"P-256","kty":"EC","x":..,"y":..}) with the
 * members in that order and no white space. */
void jwk_p256_thumbprint(const struct sigkey *k, char out[JWK_THUMBPRINT_CHARS + 1]);

/* The public JWK of a P-256 key ({kty, crv, x, y}); NULL for another curve. Caller
 * json_decref's. */
json_t *jwk_p256_public(const struct sigkey *k);

#endif
