/* jwt.c - compact JWS (RFC 7515) sign and verify for HS256, ES256K and ES256.
 * ECDSA signatures are the raw 64-byte r ‖ s in base64url, never DER (RFC 7518 §3.4). */
#include "crypto/jwt.h"

#include "crypto/ready.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/base.h"

static const struct {
    const char *name;
    enum jwt_alg alg;
} ALGS[] = {
    {"HS256", JWT_ALG_HS256},
    {"ES256K", JWT_ALG_ES256K},
    {"ES256", JWT_ALG_ES256},
};

static const char *alg_name(enum jwt_alg alg)
{
    for (size_t i = 0; i < ARRAY_LEN(ALGS); i++) {
        if (ALGS[i].alg == alg) {
            return ALGS[i].name;
        }
    }
    return NULL;
}

const char *jwt_alg_for_curve(enum sigkey_curve curve)
{
    return alg_name(curve == SIGKEY_P256 ? JWT_ALG_ES256 : JWT_ALG_ES256K);
}

static enum jwt_alg alg_for_curve(enum sigkey_curve curve)
{
    return curve == SIGKEY_P256 ? JWT_ALG_ES256 : JWT_ALG_ES256K;
}

static void hmac_sha256(struct bytes secret, struct bytes msg, uint8_t out[JWT_HS256_BYTES])
{
    ready_sodium();
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret.ptr, secret.len);
    crypto_auth_hmacsha256_update(&st, msg.ptr, msg.len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

/* Appends base64url(compact JSON of v) to b. */
static enum err append_json_segment(struct buf *b, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    if (!text) {
        return ERR_INTERNAL;
    }
    enum err e = base64url_encode(bytes_str(text), b);
    free(text);
    return e;
}

/* Writes "b64(header).b64(claims)" into b: header gets "alg" first, then the caller's
 * members other than alg; NULL means {"typ":"JWT"}. */
static enum err signing_input(const json_t *header, const json_t *claims, enum jwt_alg alg,
                              struct buf *b)
{
    if ((header && !json_is_object(header)) || !json_is_object(claims)) {
        return ERR_INVALID;
    }
    json_t *h = json_object();
    json_object_set_new(h, "alg", json_string(alg_name(alg)));
    if (!header) {
        json_object_set_new(h, "typ", json_string("JWT"));
    } else {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)header, key, val)
        {
            if (strcmp(key, "alg") != 0) {
                json_object_set(h, key, val);
            }
        }
    }
    enum err e = append_json_segment(b, h);
    json_decref(h);
    if (!e) {
        e = buf_append_byte(b, '.');
    }
    if (!e) {
        e = append_json_segment(b, claims);
    }
    return e;
}

/* Appends ".b64url(sig)" and hands the token out. */
static enum err finish(struct buf *b, const uint8_t *sig, size_t sig_len, char **out)
{
    enum err e = buf_append_byte(b, '.');
    if (!e) {
        e = base64url_encode(bytes_of(sig, sig_len), b);
    }
    if (e) {
        return e;
    }
    size_t len;
    *out = (char *)buf_take(b, &len);
    return ERR_OK;
}

enum err jwt_sign_hs256(const json_t *header, const json_t *claims, struct bytes secret, char **out)
{
    *out = NULL;
    if (secret.len == 0) {
        return ERR_INVALID;
    }
    struct buf b;
    buf_init(&b, JWT_MAX_BYTES);
    enum err e = signing_input(header, claims, JWT_ALG_HS256, &b);
    if (!e) {
        uint8_t mac[JWT_HS256_BYTES];
        hmac_sha256(secret, buf_bytes(&b), mac);
        e = finish(&b, mac, sizeof(mac), out);
    }
    buf_clear(&b);
    return e;
}

enum err jwt_sign_sigkey(const json_t *header, const json_t *claims, const struct sigkey *key,
                         char **out)
{
    *out = NULL;
    if (!key->has_private) {
        return ERR_INVALID;
    }
    struct buf b;
    buf_init(&b, JWT_MAX_BYTES);
    enum err e = signing_input(header, claims, alg_for_curve(key->curve), &b);
    if (!e) {
        uint8_t sig[SIGKEY_SIG_BYTES];
        e = sigkey_sign(key, buf_bytes(&b), sig);
        if (!e) {
            e = finish(&b, sig, sizeof(sig), out);
        }
    }
    buf_clear(&b);
    return e;
}

/* Decodes one base64url segment as a JSON object into *out. */
static enum err parse_json_segment(struct bytes seg, json_t **out)
{
    struct buf b;
    buf_init(&b, JWT_MAX_BYTES);
    enum err e = seg.len == 0 ? ERR_INVALID : base64url_decode_strict(seg, &b);
    if (!e) {
        json_error_t jerr;
        /* jansson refuses invalid UTF-8 and \u0000 unless asked; duplicates are ambiguous */
        json_t *v = json_loadb((const char *)b.ptr, b.len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(v)) {
            json_decref(v);
            e = ERR_INVALID;
        } else {
            *out = v;
        }
    }
    buf_clear(&b);
    return e;
}

/* Reads header.alg into j->alg. */
static enum err check_header(struct jwt *j)
{
    const char *name = jwt_alg(j);
    /* RFC 7515 §4.1.11: an extension we cannot honour must make us refuse */
    if (json_object_get(j->header, "crit")) {
        return ERR_UNSUPPORTED;
    }
    if (!name || strcmp(name, "none") == 0) {
        return ERR_INVALID; /* unsigned tokens are never accepted */
    }
    for (size_t i = 0; i < ARRAY_LEN(ALGS); i++) {
        if (strcmp(name, ALGS[i].name) == 0) {
            j->alg = ALGS[i].alg;
            return ERR_OK;
        }
    }
    return ERR_UNSUPPORTED;
}

static enum err parse_signature(struct jwt *j, struct bytes seg)
{
    size_t want = j->alg == JWT_ALG_HS256 ? JWT_HS256_BYTES : SIGKEY_SIG_BYTES;
    struct buf b;
    buf_init(&b, JWT_MAX_BYTES);
    enum err e = base64url_decode_strict(seg, &b);
    /* DER-encoded ECDSA signatures (70-72 bytes) fail here: only r ‖ s is allowed */
    if (!e && b.len != want) {
        e = ERR_INVALID;
    }
    if (!e) {
        memcpy(j->_sig, b.ptr, b.len);
        j->_sig_len = b.len;
    }
    buf_clear(&b);
    return e;
}

enum err jwt_parse(struct bytes token, struct jwt *out)
{
    memset(out, 0, sizeof(*out));
    if (token.len > JWT_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    const uint8_t *dot1 = memchr(token.ptr, '.', token.len);
    if (!dot1) {
        return ERR_INVALID;
    }
    size_t rest = token.len - (size_t)(dot1 + 1 - token.ptr);
    const uint8_t *dot2 = memchr(dot1 + 1, '.', rest);
    if (!dot2 || memchr(dot2 + 1, '.', token.len - (size_t)(dot2 + 1 - token.ptr))) {
        return ERR_INVALID; /* compact JWS has exactly three segments (five for JWE) */
    }
    struct bytes h = {token.ptr, (size_t)(dot1 - token.ptr)};
    struct bytes c = {dot1 + 1, (size_t)(dot2 - dot1 - 1)};
    struct bytes s = {dot2 + 1, token.len - (size_t)(dot2 + 1 - token.ptr)};

    enum err e = parse_json_segment(h, &out->header);
    if (!e) {
        e = check_header(out);
    }
    if (!e) {
        e = parse_json_segment(c, &out->claims);
    }
    if (!e) {
        e = s.len == 0 ? ERR_INVALID : parse_signature(out, s);
    }
    if (e) {
        jwt_clear(out);
        return e;
    }
    out->_signing_len = (size_t)(dot2 - token.ptr);
    out->_signing_input = xstrndup((const char *)token.ptr, out->_signing_len);
    return ERR_OK;
}

bool jwt_verify_hs256(const struct jwt *j, struct bytes secret)
{
    if (j->alg != JWT_ALG_HS256 || j->_sig_len != JWT_HS256_BYTES || secret.len == 0 ||
        !j->_signing_input) {
        return false;
    }
    uint8_t mac[JWT_HS256_BYTES];
    hmac_sha256(secret, bytes_of(j->_signing_input, j->_signing_len), mac);
    bool ok = sodium_memcmp(mac, j->_sig, JWT_HS256_BYTES) == 0;
    sodium_memzero(mac, sizeof(mac));
    return ok;
}

bool jwt_verify_sigkey(const struct jwt *j, const struct sigkey *key, bool lenient)
{
    if (j->alg != alg_for_curve(key->curve) || !j->_signing_input) {
        return false;
    }
    struct bytes msg = bytes_of(j->_signing_input, j->_signing_len);
    struct bytes sig = bytes_of(j->_sig, j->_sig_len);
    return lenient ? sigkey_verify_lenient(key, msg, sig) : sigkey_verify(key, msg, sig);
}

enum err jwt_decode_hs256(struct bytes token, struct bytes secret, struct jwt *out)
{
    enum err e = jwt_parse(token, out);
    if (e) {
        return e;
    }
    if (!jwt_verify_hs256(out, secret)) {
        jwt_clear(out);
        return ERR_AUTH;
    }
    return ERR_OK;
}

const char *jwt_typ(const struct jwt *j)
{
    return json_string_value(json_object_get(j->header, "typ"));
}

/* The media type without its optional "application/" prefix (RFC 7515 4.1.9), compared
 * case-insensitively, as jose's jwtVerify compares it for the reference. */
static const char *typ_core(const char *t)
{
    static const char prefix[] = "application/";
    return strncasecmp(t, prefix, sizeof prefix - 1) == 0 ? t + sizeof prefix - 1 : t;
}

bool jwt_typ_is(const struct jwt *j, const char *want)
{
    const char *typ = jwt_typ(j);
    return typ && strcasecmp(typ_core(typ), typ_core(want)) == 0;
}

const char *jwt_alg(const struct jwt *j)
{
    return json_string_value(json_object_get(j->header, "alg"));
}

const char *jwt_claim_str(const struct jwt *j, const char *name)
{
    return json_string_value(json_object_get(j->claims, name));
}

bool jwt_claim_int(const struct jwt *j, const char *name, int64_t *out)
{
    json_t *v = json_object_get(j->claims, name);
    if (!json_is_integer(v)) {
        return false;
    }
    *out = (int64_t)json_integer_value(v);
    return true;
}

bool jwt_is_expired(const struct jwt *j, int64_t now)
{
    int64_t exp;
    return !jwt_claim_int(j, "exp", &exp) || exp <= now;
}

void jwt_clear(struct jwt *j)
{
    json_decref(j->header);
    json_decref(j->claims);
    free(j->_signing_input);
    memset(j, 0, sizeof(*j));
}
