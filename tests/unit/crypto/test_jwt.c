/* test_jwt.c - compact JWS: HS256 known answer and round trips, ES256K/ES256 with sigkey,
 * alg confusion and "none", high-S and DER signatures, and a malformed-token table. */
#include "crypto/jwt.h"

#include "core/base.h"
#include "unit/test.h"

/* The widely published jwt.io example, also checked with `openssl dgst -hmac`. */
#define KAT_SECRET "your-256-bit-secret"
#define KAT_TOKEN                                                                                  \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."                                                        \
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."                  \
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

static json_t *kat_claims(void)
{
    json_t *c = json_object();
    json_object_set_new(c, "sub", json_string("1234567890"));
    json_object_set_new(c, "name", json_string("John Doe"));
    json_object_set_new(c, "iat", json_integer(1516239022));
    return c;
}

/* Appends base64url(text) to b. */
static void b64(struct buf *b, const char *text)
{
    CHECK_EQ(base64url_encode(bytes_str(text), b), ERR_OK);
}

/* A token from raw JSON texts and a raw signature segment (already base64url). */
static char *raw_token(const char *header, const char *claims, const char *sig_b64)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    b64(&b, header);
    CHECK_EQ(buf_append_byte(&b, '.'), ERR_OK);
    b64(&b, claims);
    CHECK_EQ(buf_append_byte(&b, '.'), ERR_OK);
    CHECK_EQ(buf_append_str(&b, sig_b64), ERR_OK);
    size_t len;
    return (char *)buf_take(&b, &len);
}

static void test_jwt_hs256_known_answer(void)
{
    json_t *claims = kat_claims();
    char *tok = NULL;
    CHECK_EQ(jwt_sign_hs256(NULL, claims, BYTES_LIT(KAT_SECRET), &tok), ERR_OK);
    CHECK_STR(tok, KAT_TOKEN);
    free(tok);
    json_decref(claims);

    struct jwt j;
    CHECK_EQ(jwt_decode_hs256(BYTES_LIT(KAT_TOKEN), BYTES_LIT(KAT_SECRET), &j), ERR_OK);
    CHECK_EQ(j.alg, JWT_ALG_HS256);
    CHECK_STR(jwt_alg(&j), "HS256");
    CHECK_STR(jwt_typ(&j), "JWT");
    CHECK_STR(jwt_claim_str(&j, "sub"), "1234567890");
    int64_t iat = 0;
    CHECK(jwt_claim_int(&j, "iat", &iat));
    CHECK_EQ(iat, 1516239022);
    CHECK(!jwt_claim_int(&j, "sub", &iat)); /* a string is not an integer */
    CHECK(jwt_claim_str(&j, "iat") == NULL);
    CHECK(jwt_claim_str(&j, "missing") == NULL);
    jwt_clear(&j);
    jwt_clear(&j); /* twice is fine */
}

static void test_jwt_hs256_rejects_wrong_secret_and_tampering(void)
{
    struct jwt j;
    CHECK_EQ(jwt_decode_hs256(BYTES_LIT(KAT_TOKEN), BYTES_LIT("your-256-bit-secreT"), &j),
             ERR_AUTH);
    CHECK(j.header == NULL && j.claims == NULL);
    CHECK_EQ(jwt_decode_hs256(BYTES_LIT(KAT_TOKEN), (struct bytes){NULL, 0}, &j), ERR_AUTH);

    /* same header and signature, other claims */
    char *forged = raw_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"sub\":\"admin\"}",
                             "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
    CHECK_EQ(jwt_decode_hs256(bytes_str(forged), BYTES_LIT(KAT_SECRET), &j), ERR_AUTH);
    free(forged);

    /* one signature bit flipped ('c' -> 'd' changes the last 6-bit group) */
    char tok[] = KAT_TOKEN;
    tok[sizeof(tok) - 2] = 'd';
    CHECK_EQ(jwt_decode_hs256(bytes_str(tok), BYTES_LIT(KAT_SECRET), &j), ERR_INVALID);
    /* ... that one had non-zero leftover bits; flip a full-symbol character instead */
    memcpy(tok, KAT_TOKEN, sizeof(tok));
    tok[sizeof(tok) - 10] = tok[sizeof(tok) - 10] == 'A' ? 'B' : 'A';
    CHECK_EQ(jwt_decode_hs256(bytes_str(tok), BYTES_LIT(KAT_SECRET), &j), ERR_AUTH);
}

static void test_jwt_hs256_round_trip_with_header(void)
{
    json_t *h = json_pack("{s:s, s:s}", "typ", "at+jwt", "alg", "none");
    json_t *c = json_pack("{s:s, s:s, s:I}", "scope", "com.atproto.access", "sub", "did:plc:abc",
                          "exp", (json_int_t)2000000000);
    char *tok = NULL;
    CHECK_EQ(jwt_sign_hs256(h, c, BYTES_LIT("s3cret"), &tok), ERR_OK);
    struct jwt j;
    CHECK_EQ(jwt_decode_hs256(bytes_str(tok), BYTES_LIT("s3cret"), &j), ERR_OK);
    CHECK_STR(jwt_alg(&j), "HS256"); /* the caller's alg is replaced by the real one */
    CHECK_STR(jwt_typ(&j), "at+jwt");
    CHECK_STR(jwt_claim_str(&j, "scope"), "com.atproto.access");
    CHECK(!jwt_is_expired(&j, 1999999999));
    CHECK(jwt_is_expired(&j, 2000000000));
    /* "alg" is the first header member */
    CHECK(strncmp(tok, "eyJhbGciOiJIUzI1NiIs", 20) == 0);
    jwt_clear(&j);
    free(tok);
    json_decref(h);
    json_decref(c);
}

static void test_jwt_sign_refuses_bad_arguments(void)
{
    json_t *c = json_object(), *arr = json_array();
    char *tok = (char *)"sentinel";
    CHECK_EQ(jwt_sign_hs256(NULL, c, (struct bytes){NULL, 0}, &tok), ERR_INVALID);
    CHECK(tok == NULL);
    CHECK_EQ(jwt_sign_hs256(NULL, arr, BYTES_LIT("k"), &tok), ERR_INVALID);
    CHECK_EQ(jwt_sign_hs256(arr, c, BYTES_LIT("k"), &tok), ERR_INVALID);
    struct sigkey k, pub;
    CHECK_EQ(sigkey_generate(SIGKEY_K256, &k), ERR_OK);
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, bytes_of(k.public_key, 33), &pub), ERR_OK);
    CHECK_EQ(jwt_sign_sigkey(NULL, c, &pub, &tok), ERR_INVALID);
    /* a claim set too big for JWT_MAX_BYTES */
    char big[JWT_MAX_BYTES];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_object_set_new(c, "pad", json_string(big));
    CHECK_EQ(jwt_sign_hs256(NULL, c, BYTES_LIT("k"), &tok), ERR_TOO_LARGE);
    CHECK_EQ(jwt_sign_sigkey(NULL, c, &k, &tok), ERR_TOO_LARGE);
    json_decref(c);
    json_decref(arr);
}

static void test_jwt_es_round_trip_both_curves(void)
{
    static const enum sigkey_curve curves[] = {SIGKEY_K256, SIGKEY_P256};
    static const char *algs[] = {"ES256K", "ES256"};
    for (size_t i = 0; i < 2; i++) {
        struct sigkey k, other, wrong_curve;
        CHECK_EQ(sigkey_generate(curves[i], &k), ERR_OK);
        CHECK_EQ(sigkey_generate(curves[i], &other), ERR_OK);
        CHECK_EQ(sigkey_generate(curves[1 - i], &wrong_curve), ERR_OK);
        CHECK_STR(jwt_alg_for_curve(curves[i]), algs[i]);
        json_t *c = json_pack("{s:s, s:s, s:s}", "iss", "did:plc:abc", "aud", "did:web:x", "lxm",
                              "com.atproto.sync.getBlob");
        char *tok = NULL;
        CHECK_EQ(jwt_sign_sigkey(NULL, c, &k, &tok), ERR_OK);
        struct jwt j;
        CHECK_EQ(jwt_parse(bytes_str(tok), &j), ERR_OK);
        CHECK_STR(jwt_alg(&j), algs[i]);
        CHECK_STR(jwt_typ(&j), "JWT");
        CHECK_STR(jwt_claim_str(&j, "lxm"), "com.atproto.sync.getBlob");
        CHECK(jwt_verify_sigkey(&j, &k, false));
        CHECK(jwt_verify_sigkey(&j, &k, true));
        CHECK(!jwt_verify_sigkey(&j, &other, false));
        CHECK(!jwt_verify_sigkey(&j, &wrong_curve, true));
        CHECK(!jwt_verify_hs256(&j, BYTES_LIT("secret"))); /* alg confusion */
        jwt_clear(&j);
        free(tok);
        json_decref(c);
    }
}

static void test_jwt_hs256_token_never_verifies_with_a_key(void)
{
    struct sigkey k;
    CHECK_EQ(sigkey_generate(SIGKEY_K256, &k), ERR_OK);
    struct jwt j;
    CHECK_EQ(jwt_parse(BYTES_LIT(KAT_TOKEN), &j), ERR_OK);
    CHECK(!jwt_verify_sigkey(&j, &k, true));
    jwt_clear(&j);
}

/* (r, n - s) for secp256k1. */
static void k256_flip_s(uint8_t sig[64])
{
    static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = n[i] - sig[32 + i] - borrow;
        borrow = d < 0;
        sig[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

static void test_jwt_high_s_only_passes_leniently(void)
{
    struct sigkey k;
    CHECK_EQ(sigkey_generate(SIGKEY_K256, &k), ERR_OK);
    json_t *c = json_pack("{s:s}", "iss", "did:plc:abc");
    char *tok = NULL;
    CHECK_EQ(jwt_sign_sigkey(NULL, c, &k, &tok), ERR_OK);
    char *dot = strrchr(tok, '.');
    struct buf sig;
    buf_init(&sig, 128);
    CHECK_EQ(base64url_decode(bytes_str(dot + 1), &sig), ERR_OK);
    CHECK_EQ(sig.len, 64);
    k256_flip_s(sig.ptr);
    struct buf t;
    buf_init(&t, 1 << 16);
    CHECK_EQ(buf_append(&t, tok, (size_t)(dot + 1 - tok)), ERR_OK);
    CHECK_EQ(base64url_encode(buf_bytes(&sig), &t), ERR_OK);
    struct jwt j;
    CHECK_EQ(jwt_parse(buf_bytes(&t), &j), ERR_OK);
    CHECK(!jwt_verify_sigkey(&j, &k, false));
    CHECK(jwt_verify_sigkey(&j, &k, true));
    jwt_clear(&j);
    buf_clear(&t);
    buf_clear(&sig);
    free(tok);
    json_decref(c);
}

static void test_jwt_parse_bad_input_table(void)
{
    /* a valid-looking 64-byte ES256K signature segment and a 70-byte "DER" one */
    char sig64[100], sig70[100];
    {
        uint8_t raw[70];
        memset(raw, 0x11, sizeof(raw));
        struct buf b;
        buf_init(&b, 200);
        CHECK_EQ(base64url_encode(bytes_of(raw, 64), &b), ERR_OK);
        snprintf(sig64, sizeof(sig64), "%s", (char *)b.ptr);
        buf_reset(&b);
        raw[0] = 0x30;
        CHECK_EQ(base64url_encode(bytes_of(raw, 70), &b), ERR_OK);
        snprintf(sig70, sizeof(sig70), "%s", (char *)b.ptr);
        buf_clear(&b);
    }
    static const char *C = "{\"iss\":\"did:plc:abc\"}";
    struct {
        char *token;
        enum err want;
        const char *what;
    } table[] = {
        {raw_token("{\"alg\":\"none\"}", C, ""), ERR_INVALID, "alg none, no signature"},
        {raw_token("{\"alg\":\"none\"}", C, sig64), ERR_INVALID, "alg none"},
        {raw_token("{\"typ\":\"JWT\"}", C, sig64), ERR_INVALID, "no alg"},
        {raw_token("{\"alg\":7}", C, sig64), ERR_INVALID, "alg not a string"},
        {raw_token("{\"alg\":\"RS256\"}", C, sig64), ERR_UNSUPPORTED, "RS256"},
        {raw_token("{\"alg\":\"es256k\"}", C, sig64), ERR_UNSUPPORTED, "alg case"},
        {raw_token("{\"alg\":\"ES256K\",\"crit\":[\"b64\"]}", C, sig64), ERR_UNSUPPORTED, "crit"},
        {raw_token("{\"alg\":\"ES256K\"}", C, sig70), ERR_INVALID, "DER-sized signature"},
        {raw_token("{\"alg\":\"ES256K\"}", C, ""), ERR_INVALID, "empty signature"},
        {raw_token("{\"alg\":\"ES256K\"}", C, "AQID"), ERR_INVALID, "3-byte signature"},
        {raw_token("{\"alg\":\"HS256\"}", C, sig64), ERR_INVALID, "HS256 with 64 bytes"},
        {raw_token("[\"alg\",\"ES256K\"]", C, sig64), ERR_INVALID, "header not an object"},
        {raw_token("{\"alg\":\"ES256K\"}", "[1]", sig64), ERR_INVALID, "claims an array"},
        {raw_token("{\"alg\":\"ES256K\"}", "not json", sig64), ERR_INVALID, "claims not JSON"},
        {raw_token("{\"alg\":\"ES256K\"}", "", sig64), ERR_INVALID, "empty claims"},
        {raw_token("{\"alg\":\"ES256K\",\"alg\":\"HS256\"}", C, sig64), ERR_INVALID,
         "duplicate alg"},
        {raw_token("{\"alg\":\"ES256K\"}", "{\"a\":1,\"a\":2}", sig64), ERR_INVALID,
         "duplicate claim"},
        {raw_token("{\"alg\":\"ES256K\"}", "{\"a\":\"\\u0000\"}", sig64), ERR_INVALID,
         "NUL in a string"},
        {raw_token("{\"alg\":\"ES256K\"}", "{\"a\":\"\xff\"}", sig64), ERR_INVALID,
         "invalid UTF-8"},
        {xstrndup("", 0), ERR_INVALID, "empty"},
        {xstrndup("abc", 3), ERR_INVALID, "one segment"},
        {xstrndup("a.b", 3), ERR_INVALID, "two segments"},
        {xstrndup("..", 2), ERR_INVALID, "empty segments"},
        {xstrndup("a.b.c.d.e", 9), ERR_INVALID, "JWE-shaped"},
    };
    for (size_t i = 0; i < ARRAY_LEN(table); i++) {
        struct jwt j;
        enum err e = jwt_parse(bytes_str(table[i].token), &j);
        if (e != table[i].want) {
            fprintf(stderr, "case \"%s\": got %s\n", table[i].what, err_str(e));
        }
        CHECK_EQ(e, table[i].want);
        CHECK(j.header == NULL && j.claims == NULL);
        free(table[i].token);
    }

    /* segment-level damage to a good token */
    char *good = raw_token("{\"alg\":\"ES256K\"}", C, sig64);
    struct jwt j;
    CHECK_EQ(jwt_parse(bytes_str(good), &j), ERR_OK);
    jwt_clear(&j);
    size_t n = strlen(good);
    char *extra_dot = xmalloc(n + 2);
    memcpy(extra_dot, good, n);
    memcpy(extra_dot + n, ".", 2);
    CHECK_EQ(jwt_parse(bytes_str(extra_dot), &j), ERR_INVALID);
    free(extra_dot);
    char *padded = xmalloc(n + 3);
    memcpy(padded, good, n);
    memcpy(padded + n, "==", 3);
    CHECK_EQ(jwt_parse(bytes_str(padded), &j), ERR_INVALID);
    free(padded);
    char *bad_char = xstrndup(good, n);
    bad_char[2] = '+'; /* base64, not base64url */
    CHECK_EQ(jwt_parse(bytes_str(bad_char), &j), ERR_INVALID);
    free(bad_char);
    free(good);

    /* oversize, even when otherwise well formed */
    char *pad = xmalloc(JWT_MAX_BYTES + 2);
    memset(pad, 'a', JWT_MAX_BYTES + 1);
    pad[JWT_MAX_BYTES + 1] = '\0';
    char claims[JWT_MAX_BYTES + 64];
    snprintf(claims, sizeof(claims), "{\"p\":\"%s\"}", pad);
    char *huge = raw_token("{\"alg\":\"ES256K\"}", claims, sig64);
    CHECK_EQ(jwt_parse(bytes_str(huge), &j), ERR_TOO_LARGE);
    free(huge);
    free(pad);
}

static void test_jwt_is_expired_without_exp(void)
{
    struct jwt j;
    CHECK_EQ(jwt_parse(BYTES_LIT(KAT_TOKEN), &j), ERR_OK);
    CHECK(jwt_is_expired(&j, 0)); /* no exp claim: treated as expired */
    jwt_clear(&j);
}

/* Header typ as the reference's jose compares it: case-insensitive, "application/" optional;
 * absent or not a string never matches. */
static void test_jwt_typ_is_compares_media_types(void)
{
    /* 32 zero bytes: an HS256-sized signature, never checked here */
    static const char sig64[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    static const struct {
        const char *header;
        bool at_jwt;
    } cases[] = {
        {"{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", true},
        {"{\"alg\":\"HS256\",\"typ\":\"AT+JWT\"}", true},
        {"{\"alg\":\"HS256\",\"typ\":\"application/at+jwt\"}", true},
        {"{\"alg\":\"HS256\",\"typ\":\"Application/At+Jwt\"}", true},
        {"{\"alg\":\"HS256\"}", false}, /* no typ: refused, the point of the check */
        {"{\"alg\":\"HS256\",\"typ\":\"refresh+jwt\"}", false},
        {"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", false},
        {"{\"alg\":\"HS256\",\"typ\":\"\"}", false},
        {"{\"alg\":\"HS256\",\"typ\":\"application/\"}", false},
        {"{\"alg\":\"HS256\",\"typ\":\"at+jwt \"}", false},
        {"{\"alg\":\"HS256\",\"typ\":\"xapplication/at+jwt\"}", false},
        {"{\"alg\":\"HS256\",\"typ\":7}", false},
        {"{\"alg\":\"HS256\",\"typ\":null}", false},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *tok = raw_token(cases[i].header, "{}", sig64);
        struct jwt j;
        CHECK_EQ(jwt_parse(bytes_str(tok), &j), ERR_OK);
        if (jwt_typ_is(&j, "at+jwt") != cases[i].at_jwt) {
            CHECK(!"typ comparison");
            fprintf(stderr, "  header %s\n", cases[i].header);
        }
        /* the wanted type may carry the prefix too */
        CHECK_EQ(jwt_typ_is(&j, "application/at+jwt"), cases[i].at_jwt);
        jwt_clear(&j);
        free(tok);
    }
}

int main(void)
{
    RUN(test_jwt_hs256_known_answer);
    RUN(test_jwt_hs256_rejects_wrong_secret_and_tampering);
    RUN(test_jwt_hs256_round_trip_with_header);
    RUN(test_jwt_sign_refuses_bad_arguments);
    RUN(test_jwt_es_round_trip_both_curves);
    RUN(test_jwt_hs256_token_never_verifies_with_a_key);
    RUN(test_jwt_high_s_only_passes_leniently);
    RUN(test_jwt_parse_bad_input_table);
    RUN(test_jwt_is_expired_without_exp);
    RUN(test_jwt_typ_is_compares_media_types);
    return test_report();
}
