/* jwk.c - P-256 JWKs and thumbprints. */
#include "crypto/jwk.h"

#include <string.h>

#include "core/base.h"
#include "core/sha256.h"

static bool coord(const json_t *jwk, const char *name, uint8_t out[JWK_COORD_BYTES])
{
    const char *s = json_string_value(json_object_get(jwk, name));
    if (!s) {
        return false;
    }
    struct buf b;
    buf_init(&b, 64);
    bool ok = base64url_decode_strict(bytes_str(s), &b) == ERR_OK && b.len == JWK_COORD_BYTES;
    if (ok) {
        memcpy(out, b.ptr, JWK_COORD_BYTES);
    }
    buf_clear(&b);
    return ok;
}

enum err jwk_p256_parse(const json_t *jwk, struct sigkey *out)
{
    if (!json_is_object(jwk)) {
        return ERR_INVALID;
    }
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (!kty || !crv) {
        return ERR_INVALID;
    }
    if (strcmp(kty, "EC") != 0 || strcmp(crv, "P-256") != 0) {
        return ERR_UNSUPPORTED;
    }
    if (json_object_get(jwk, "d")) {
        return ERR_INVALID; /* a private key has no business on the wire */
    }
    uint8_t point[SIGKEY_PUBLIC_UNCOMPRESSED_BYTES];
    point[0] = 0x04;
    if (!coord(jwk, "x", point + 1) || !coord(jwk, "y", point + 1 + JWK_COORD_BYTES)) {
        return ERR_INVALID;
    }
    return sigkey_from_public(SIGKEY_P256, bytes_of(point, sizeof point), out);
}

/* x and y of k as base64url (43 characters each). */
static bool coords_b64(const struct sigkey *k, char x[JWK_THUMBPRINT_CHARS + 1],
                       char y[JWK_THUMBPRINT_CHARS + 1])
{
    uint8_t point[SIGKEY_PUBLIC_UNCOMPRESSED_BYTES];
    if (k->curve != SIGKEY_P256 || !sigkey_public_uncompressed(k, point)) {
        return false;
    }
    char *dst[2] = {x, y};
    for (int i = 0; i < 2; i++) {
        struct buf b;
        buf_init(&b, 64);
        if (base64url_encode(bytes_of(point + 1 + i * JWK_COORD_BYTES, JWK_COORD_BYTES), &b) ||
            b.len != JWK_THUMBPRINT_CHARS) {
            buf_clear(&b);
            return false;
        }
        memcpy(dst[i], b.ptr, b.len + 1);
        buf_clear(&b);
    }
    return true;
}

void jwk_p256_thumbprint(const struct sigkey *k, char out[JWK_THUMBPRINT_CHARS + 1])
{
    char x[JWK_THUMBPRINT_CHARS + 1], y[JWK_THUMBPRINT_CHARS + 1];
    out[0] = '\0';
    if (!coords_b64(k, x, y)) {
        return;
    }
    char canon[160];
    int n = snprintf(canon, sizeof canon,
                     "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    uint8_t d[SHA256_BYTES];
    sha256(canon, (size_t)n, d);
    struct buf b;
    buf_init(&b, 64);
    if (base64url_encode(bytes_of(d, sizeof d), &b) == ERR_OK && b.len == JWK_THUMBPRINT_CHARS) {
        memcpy(out, b.ptr, b.len + 1);
    }
    buf_clear(&b);
}

json_t *jwk_p256_public(const struct sigkey *k)
{
    char x[JWK_THUMBPRINT_CHARS + 1], y[JWK_THUMBPRINT_CHARS + 1];
    if (!coords_b64(k, x, y)) {
        return NULL;
    }
    return json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x", x, "y", y);
}
