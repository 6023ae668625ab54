/* sigkey.c - ECDSA keys on k256 (libsecp256k1) and p256 (OpenSSL 3 EVP), sign and verify
 * over 64-byte r ‖ s, did:key and multikey text. */
#include "crypto/sigkey.h"

#include "crypto/ready.h"

#include "core/hex.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <secp256k1.h>
#include <sodium.h>

#include "core/base.h"
#include "core/sha256.h"
#include "core/varint.h"

#define SIGKEY_HALF_BYTES     32  /* r and s are each this long in a signature */
#define SIGKEY_TEXT_MAX       128 /* longer multikey/did:key text is refused before decoding */
#define SIGKEY_DID_KEY_PREFIX "did:key:"
#define P256_DER_SIG_MAX      72 /* SEQUENCE of two INTEGERs of up to 33 bytes */

/* ---- process-wide library state, created once ---- */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static secp256k1_context *k256_ctx;    /* randomized; only read after creation */
static EC_GROUP *p256_group;           /* only read after creation */
static BIGNUM *p256_order, *p256_half; /* n and floor(n/2) */

static void lib_init(void)
{
    ready_sodium();
    k256_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t seed[32];
    randombytes_buf(seed, sizeof(seed));
    /* blinding against side channels in signing; fails only on a broken library */
    if (!k256_ctx || !secp256k1_context_randomize(k256_ctx, seed)) {
        abort();
    }
    sodium_memzero(seed, sizeof(seed));
    p256_group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    p256_order = BN_new();
    p256_half = BN_new();
    if (!p256_group || !p256_order || !p256_half ||
        !BN_copy(p256_order, EC_GROUP_get0_order(p256_group)) ||
        !BN_rshift1(p256_half, p256_order)) {
        abort();
    }
}

static void lib_ready(void)
{
    if (pthread_once(&lib_once, lib_init) != 0) {
        abort();
    }
}

/* ---- k256 internals ---- */

static bool k256_public_from_private(const uint8_t priv[SIGKEY_PRIVATE_BYTES],
                                     uint8_t pub[SIGKEY_PUBLIC_BYTES])
{
    secp256k1_pubkey pk;
    if (!secp256k1_ec_seckey_verify(k256_ctx, priv) ||
        !secp256k1_ec_pubkey_create(k256_ctx, &pk, priv)) {
        return false;
    }
    size_t len = SIGKEY_PUBLIC_BYTES;
    return secp256k1_ec_pubkey_serialize(k256_ctx, pub, &len, &pk, SECP256K1_EC_COMPRESSED) &&
           len == SIGKEY_PUBLIC_BYTES;
}

static bool k256_parse_public(struct bytes in, uint8_t pub[SIGKEY_PUBLIC_BYTES])
{
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_parse(k256_ctx, &pk, in.ptr, in.len)) {
        return false;
    }
    size_t len = SIGKEY_PUBLIC_BYTES;
    return secp256k1_ec_pubkey_serialize(k256_ctx, pub, &len, &pk, SECP256K1_EC_COMPRESSED) &&
           len == SIGKEY_PUBLIC_BYTES;
}

static enum err k256_sign_digest(const struct sigkey *k, const uint8_t digest[32],
                                 uint8_t sig[SIGKEY_SIG_BYTES])
{
    secp256k1_ecdsa_signature s;
    /* RFC 6979 nonces; libsecp256k1 always produces low-S */
    if (!secp256k1_ecdsa_sign(k256_ctx, &s, digest, k->private_key, NULL, NULL) ||
        !secp256k1_ecdsa_signature_serialize_compact(k256_ctx, sig, &s)) {
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

static bool k256_verify_digest(const struct sigkey *k, const uint8_t digest[32],
                               const uint8_t sig[SIGKEY_SIG_BYTES], bool lenient)
{
    secp256k1_pubkey pk;
    secp256k1_ecdsa_signature s;
    if (!secp256k1_ec_pubkey_parse(k256_ctx, &pk, k->public_key, SIGKEY_PUBLIC_BYTES) ||
        !secp256k1_ecdsa_signature_parse_compact(k256_ctx, &s, sig)) {
        return false;
    }
    if (lenient) {
        secp256k1_ecdsa_signature_normalize(k256_ctx, &s, &s);
    }
    /* secp256k1_ecdsa_verify refuses high-S itself */
    return secp256k1_ecdsa_verify(k256_ctx, &s, digest, &pk) == 1;
}

/* ---- p256 internals ---- */

static bool p256_point_compress(const EC_POINT *pt, uint8_t pub[SIGKEY_PUBLIC_BYTES])
{
    return EC_POINT_point2oct(p256_group, pt, POINT_CONVERSION_COMPRESSED, pub, SIGKEY_PUBLIC_BYTES,
                              NULL) == SIGKEY_PUBLIC_BYTES;
}

static bool p256_public_from_private(const uint8_t priv[SIGKEY_PRIVATE_BYTES],
                                     uint8_t pub[SIGKEY_PUBLIC_BYTES])
{
    bool ok = false;
    BIGNUM *d = BN_secure_new();
    EC_POINT *pt = EC_POINT_new(p256_group);
    if (!d || !pt || !BN_bin2bn(priv, SIGKEY_PRIVATE_BYTES, d)) {
        goto out;
    }
    if (BN_is_zero(d) || BN_cmp(d, p256_order) >= 0) {
        goto out;
    }
    ok = EC_POINT_mul(p256_group, pt, d, NULL, NULL, NULL) && p256_point_compress(pt, pub);
out:
    BN_clear_free(d);
    EC_POINT_free(pt);
    ERR_clear_error();
    return ok;
}

static bool p256_parse_public(struct bytes in, uint8_t pub[SIGKEY_PUBLIC_BYTES])
{
    /* oct2point checks that the point is on the curve */
    EC_POINT *pt = EC_POINT_new(p256_group);
    bool ok = pt && EC_POINT_oct2point(p256_group, pt, in.ptr, in.len, NULL) &&
              !EC_POINT_is_at_infinity(p256_group, pt) && p256_point_compress(pt, pub);
    EC_POINT_free(pt);
    ERR_clear_error();
    return ok;
}

/* An EVP_PKEY for k, with its private half when with_private. Caller frees. */
static EVP_PKEY *p256_pkey(const struct sigkey *k, bool with_private)
{
    /* OSSL_PARAM integers are native-endian: reverse the big-endian scalar on LE hosts */
    uint8_t d_native[SIGKEY_PRIVATE_BYTES];
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (size_t i = 0; i < SIGKEY_PRIVATE_BYTES; i++) {
        d_native[i] = k->private_key[SIGKEY_PRIVATE_BYTES - 1 - i];
    }
#else
    memcpy(d_native, k->private_key, SIGKEY_PRIVATE_BYTES);
#endif
    char group[] = SN_X9_62_prime256v1;
    uint8_t pub[SIGKEY_PUBLIC_BYTES];
    memcpy(pub, k->public_key, sizeof(pub));
    OSSL_PARAM params[4];
    size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
    if (with_private) {
        params[n++] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, d_native, sizeof(d_native));
    }
    params[n] = OSSL_PARAM_construct_end();

    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params) <= 0) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    sodium_memzero(d_native, sizeof(d_native));
    return pkey;
}

static enum err p256_sign_digest(const struct sigkey *k, const uint8_t digest[32],
                                 uint8_t sig[SIGKEY_SIG_BYTES])
{
    enum err e = ERR_INTERNAL;
    EVP_PKEY *pkey = p256_pkey(k, true);
    EVP_PKEY_CTX *ctx = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *s_low = BN_new();
    uint8_t der[P256_DER_SIG_MAX];
    size_t der_len = sizeof(der);
    /* no message digest is set on ctx, so the 32 bytes are signed as the digest as given */
    if (!ctx || !s_low || EVP_PKEY_sign_init(ctx) <= 0 ||
        EVP_PKEY_sign(ctx, der, &der_len, digest, SIGKEY_DIGEST_BYTES) <= 0) {
        goto out;
    }
    const uint8_t *p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!es) {
        goto out;
    }
    const BIGNUM *r = ECDSA_SIG_get0_r(es), *s = ECDSA_SIG_get0_s(es);
    /* spec(cryptography): low-S is mandatory; (r, n - s) is the same signature's twin */
    if (BN_cmp(s, p256_half) > 0) {
        if (!BN_sub(s_low, p256_order, s)) {
            goto out;
        }
        s = s_low;
    }
    if (BN_bn2binpad(r, sig, SIGKEY_HALF_BYTES) != SIGKEY_HALF_BYTES ||
        BN_bn2binpad(s, sig + SIGKEY_HALF_BYTES, SIGKEY_HALF_BYTES) != SIGKEY_HALF_BYTES) {
        goto out;
    }
    e = ERR_OK;
out:
    ECDSA_SIG_free(es);
    BN_free(s_low);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return e;
}

static bool p256_verify_digest(const struct sigkey *k, const uint8_t digest[32],
                               const uint8_t sig[SIGKEY_SIG_BYTES], bool lenient)
{
    bool ok = false;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t *der = NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, SIGKEY_HALF_BYTES, NULL);
    BIGNUM *s = BN_bin2bn(sig + SIGKEY_HALF_BYTES, SIGKEY_HALF_BYTES, NULL);
    if (!es || !r || !s) {
        goto out;
    }
    if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, p256_order) >= 0 ||
        BN_cmp(s, p256_order) >= 0) {
        goto out;
    }
    if (BN_cmp(s, p256_half) > 0) {
        /* spec(cryptography): high-S is refused, except where the caller asks leniency */
        if (!lenient || !BN_sub(s, p256_order, s)) {
            goto out;
        }
    }
    if (!ECDSA_SIG_set0(es, r, s)) {
        goto out;
    }
    r = s = NULL; /* owned by es now */
    int der_len = i2d_ECDSA_SIG(es, &der);
    if (der_len <= 0) {
        goto out;
    }
    pkey = p256_pkey(k, false);
    ctx = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    ok = ctx && EVP_PKEY_verify_init(ctx) > 0 &&
         EVP_PKEY_verify(ctx, der, (size_t)der_len, digest, SIGKEY_DIGEST_BYTES) == 1;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    OPENSSL_free(der);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return ok;
}

/* ---- generic interface ---- */

static bool public_from_private(enum sigkey_curve curve, const uint8_t *priv, uint8_t *pub)
{
    switch (curve) {
    case SIGKEY_K256:
        return k256_public_from_private(priv, pub);
    case SIGKEY_P256:
        return p256_public_from_private(priv, pub);
    }
    return false;
}

enum err sigkey_from_private(enum sigkey_curve curve, const uint8_t priv[SIGKEY_PRIVATE_BYTES],
                             struct sigkey *out)
{
    lib_ready();
    struct sigkey k = {.curve = curve, .has_private = true};
    memcpy(k.private_key, priv, SIGKEY_PRIVATE_BYTES);
    if (!public_from_private(curve, k.private_key, k.public_key)) {
        sigkey_clear(&k);
        return ERR_INVALID;
    }
    *out = k;
    sigkey_clear(&k);
    return ERR_OK;
}

enum err sigkey_generate(enum sigkey_curve curve, struct sigkey *out)
{
    lib_ready();
    uint8_t priv[SIGKEY_PRIVATE_BYTES];
    /* rejection sampling: a uniform 256-bit string is below either order almost always */
    for (int tries = 0; tries < 64; tries++) {
        randombytes_buf(priv, sizeof(priv));
        enum err e = sigkey_from_private(curve, priv, out);
        if (e == ERR_OK) {
            sodium_memzero(priv, sizeof(priv));
            return ERR_OK;
        }
    }
    sodium_memzero(priv, sizeof(priv));
    return ERR_INTERNAL;
}

enum err sigkey_from_private_hex(enum sigkey_curve curve, struct bytes hex, struct sigkey *out)
{
    if (hex.len != 2 * SIGKEY_PRIVATE_BYTES) {
        return ERR_INVALID;
    }
    uint8_t priv[SIGKEY_PRIVATE_BYTES];
    for (size_t i = 0; i < SIGKEY_PRIVATE_BYTES; i++) {
        int hi = hex_digit((uint8_t)hex.ptr[2 * i]), lo = hex_digit((uint8_t)hex.ptr[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            sodium_memzero(priv, sizeof(priv));
            return ERR_INVALID;
        }
        priv[i] = (uint8_t)(hi << 4 | lo);
    }
    enum err e = sigkey_from_private(curve, priv, out);
    sodium_memzero(priv, sizeof(priv));
    return e;
}

void sigkey_private_hex(const struct sigkey *k, char out[SIGKEY_PRIVATE_HEX_MAX])
{
    assert(k->has_private);
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < SIGKEY_PRIVATE_BYTES; i++) {
        out[2 * i] = digits[k->private_key[i] >> 4];
        out[2 * i + 1] = digits[k->private_key[i] & 0xf];
    }
    out[2 * SIGKEY_PRIVATE_BYTES] = '\0';
}

enum err sigkey_from_public(enum sigkey_curve curve, struct bytes pub, struct sigkey *out)
{
    lib_ready();
    /* length and prefix first: both libraries also take the "hybrid" 06/07 form */
    bool shape_ok =
        (pub.len == SIGKEY_PUBLIC_BYTES && (pub.ptr[0] == 0x02 || pub.ptr[0] == 0x03)) ||
        (pub.len == SIGKEY_PUBLIC_UNCOMPRESSED_BYTES && pub.ptr[0] == 0x04);
    if (!shape_ok) {
        return ERR_INVALID;
    }
    struct sigkey k = {.curve = curve, .has_private = false};
    bool ok = false;
    switch (curve) {
    case SIGKEY_K256:
        ok = k256_parse_public(pub, k.public_key);
        break;
    case SIGKEY_P256:
        ok = p256_parse_public(pub, k.public_key);
        break;
    }
    if (!ok) {
        return ERR_INVALID;
    }
    *out = k;
    return ERR_OK;
}

bool sigkey_public_uncompressed(const struct sigkey *k,
                                uint8_t out[SIGKEY_PUBLIC_UNCOMPRESSED_BYTES])
{
    lib_ready();
    if (k->curve == SIGKEY_K256) {
        secp256k1_pubkey pk;
        size_t len = SIGKEY_PUBLIC_UNCOMPRESSED_BYTES;
        return secp256k1_ec_pubkey_parse(k256_ctx, &pk, k->public_key, SIGKEY_PUBLIC_BYTES) &&
               secp256k1_ec_pubkey_serialize(k256_ctx, out, &len, &pk, SECP256K1_EC_UNCOMPRESSED) &&
               len == SIGKEY_PUBLIC_UNCOMPRESSED_BYTES;
    }
    EC_POINT *pt = EC_POINT_new(p256_group);
    bool ok = pt && EC_POINT_oct2point(p256_group, pt, k->public_key, SIGKEY_PUBLIC_BYTES, NULL) &&
              EC_POINT_point2oct(p256_group, pt, POINT_CONVERSION_UNCOMPRESSED, out,
                                 SIGKEY_PUBLIC_UNCOMPRESSED_BYTES,
                                 NULL) == SIGKEY_PUBLIC_UNCOMPRESSED_BYTES;
    EC_POINT_free(pt);
    return ok;
}

bool sigkey_equal(const struct sigkey *a, const struct sigkey *b)
{
    return a->curve == b->curve && memcmp(a->public_key, b->public_key, SIGKEY_PUBLIC_BYTES) == 0;
}

enum err sigkey_sign_digest(const struct sigkey *k, const uint8_t digest[SIGKEY_DIGEST_BYTES],
                            uint8_t sig[SIGKEY_SIG_BYTES])
{
    if (!k->has_private) {
        return ERR_INVALID;
    }
    lib_ready();
    switch (k->curve) {
    case SIGKEY_K256:
        return k256_sign_digest(k, digest, sig);
    case SIGKEY_P256:
        return p256_sign_digest(k, digest, sig);
    }
    return ERR_INVALID;
}

enum err sigkey_sign(const struct sigkey *k, struct bytes msg, uint8_t sig[SIGKEY_SIG_BYTES])
{
    /* spec(cryptography): hash once, then sign the digest without re-hashing */
    uint8_t digest[SIGKEY_DIGEST_BYTES];
    sha256(msg.ptr, msg.len, digest);
    return sigkey_sign_digest(k, digest, sig);
}

static bool verify_digest(const struct sigkey *k, const uint8_t *digest, struct bytes sig,
                          bool lenient)
{
    /* spec(cryptography): the only accepted form is exactly 64 bytes; DER never */
    if (sig.len != SIGKEY_SIG_BYTES) {
        return false;
    }
    lib_ready();
    switch (k->curve) {
    case SIGKEY_K256:
        return k256_verify_digest(k, digest, sig.ptr, lenient);
    case SIGKEY_P256:
        return p256_verify_digest(k, digest, sig.ptr, lenient);
    }
    return false;
}

bool sigkey_verify_digest(const struct sigkey *k, const uint8_t digest[SIGKEY_DIGEST_BYTES],
                          struct bytes sig)
{
    return verify_digest(k, digest, sig, false);
}

bool sigkey_verify(const struct sigkey *k, struct bytes msg, struct bytes sig)
{
    uint8_t digest[SIGKEY_DIGEST_BYTES];
    sha256(msg.ptr, msg.len, digest);
    return verify_digest(k, digest, sig, false);
}

bool sigkey_verify_lenient(const struct sigkey *k, struct bytes msg, struct bytes sig)
{
    uint8_t digest[SIGKEY_DIGEST_BYTES];
    sha256(msg.ptr, msg.len, digest);
    return verify_digest(k, digest, sig, true);
}

/* ---- text forms ---- */

static uint64_t curve_codec(enum sigkey_curve curve)
{
    return curve == SIGKEY_P256 ? SIGKEY_CODEC_P256 : SIGKEY_CODEC_K256;
}

void sigkey_multikey(const struct sigkey *k, char out[SIGKEY_MULTIKEY_MAX])
{
    uint8_t raw[VARINT_MAX_BYTES + SIGKEY_PUBLIC_BYTES];
    size_t n = varint_write(curve_codec(k->curve), raw);
    memcpy(raw + n, k->public_key, SIGKEY_PUBLIC_BYTES);
    n += SIGKEY_PUBLIC_BYTES;

    struct buf b;
    buf_init(&b, SIGKEY_MULTIKEY_MAX - 1);
    enum err e = multibase_encode('z', bytes_of(raw, n), &b);
    /* a 35-byte input always fits: 1 + ceil(35 * log 256 / log 58) = 49 characters */
    assert(e == ERR_OK && b.len < SIGKEY_MULTIKEY_MAX);
    (void)e;
    memcpy(out, b.ptr, b.len);
    out[b.len] = '\0';
    buf_clear(&b);
}

void sigkey_did_key(const struct sigkey *k, char out[SIGKEY_DID_KEY_MAX])
{
    const size_t plen = sizeof(SIGKEY_DID_KEY_PREFIX) - 1;
    memcpy(out, SIGKEY_DID_KEY_PREFIX, plen);
    _Static_assert(SIGKEY_DID_KEY_MAX - (sizeof(SIGKEY_DID_KEY_PREFIX) - 1) >= SIGKEY_MULTIKEY_MAX,
                   "did:key buffer holds a multikey");
    sigkey_multikey(k, out + plen);
}

/* Decodes "z" + base58btc text into b; ERR_UNSUPPORTED for another multibase. */
static enum err decode_z(struct bytes text, struct buf *b)
{
    if (text.len == 0 || text.len > SIGKEY_TEXT_MAX) {
        return ERR_INVALID;
    }
    if (text.ptr[0] != 'z') {
        return ERR_UNSUPPORTED;
    }
    return base58btc_decode((struct bytes){text.ptr + 1, text.len - 1}, b);
}

enum err sigkey_from_multikey(struct bytes text, struct sigkey *out)
{
    struct buf b;
    buf_init(&b, SIGKEY_TEXT_MAX);
    enum err e = decode_z(text, &b);
    if (e) {
        goto out;
    }
    struct bytes rest = buf_bytes(&b);
    uint64_t codec;
    if (varint_read(&rest, &codec) != ERR_OK) {
        e = ERR_INVALID;
        goto out;
    }
    enum sigkey_curve curve;
    if (codec == SIGKEY_CODEC_K256) {
        curve = SIGKEY_K256;
    } else if (codec == SIGKEY_CODEC_P256) {
        curve = SIGKEY_P256;
    } else {
        e = ERR_UNSUPPORTED;
        goto out;
    }
    /* spec(cryptography): multikeys carry the compressed point only */
    if (rest.len != SIGKEY_PUBLIC_BYTES) {
        e = ERR_INVALID;
        goto out;
    }
    e = sigkey_from_public(curve, rest, out);
out:
    buf_clear(&b);
    return e;
}

enum err sigkey_from_did_key(struct bytes text, struct sigkey *out)
{
    struct bytes prefix = BYTES_LIT(SIGKEY_DID_KEY_PREFIX);
    if (text.len < prefix.len || memcmp(text.ptr, prefix.ptr, prefix.len) != 0) {
        return ERR_INVALID;
    }
    return sigkey_from_multikey((struct bytes){text.ptr + prefix.len, text.len - prefix.len}, out);
}

enum err sigkey_from_legacy_multibase(enum sigkey_curve curve, struct bytes text,
                                      struct sigkey *out)
{
    struct buf b;
    buf_init(&b, SIGKEY_TEXT_MAX);
    enum err e = decode_z(text, &b);
    if (!e) {
        e = sigkey_from_public(curve, buf_bytes(&b), out);
    }
    buf_clear(&b);
    return e;
}

void sigkey_clear(struct sigkey *k)
{
    sodium_memzero(k, sizeof(*k));
}
