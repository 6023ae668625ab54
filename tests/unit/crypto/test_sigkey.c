/* test_sigkey.c - k256 and p256 keys: round trips, low-S output, strict verification
 * (high-S, DER, wrong message), did:key / multikey text and its bad-input table. */
#include "crypto/sigkey.h"

#include "core/base.h"
#include "core/sha256.h"
#include "unit/test.h"

static const enum sigkey_curve CURVES[] = {SIGKEY_K256, SIGKEY_P256};

/* Curve orders n, big-endian (SEC 2 §2.4.1 and FIPS 186-4 D.1.2.3). */
static const uint8_t K256_N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                   0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
static const uint8_t P256_N[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                                   0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
/* Generator x coordinates; y is even for k256 (prefix 02), odd for p256 (prefix 03). */
static const uint8_t K256_GX[32] = {
    0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62, 0x95, 0xce, 0x87, 0x0b, 0x07,
    0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce, 0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17, 0x98};
static const uint8_t K256_GY[32] = {
    0x48, 0x3a, 0xda, 0x77, 0x26, 0xa3, 0xc4, 0x65, 0x5d, 0xa4, 0xfb, 0xfc, 0x0e, 0x11, 0x08, 0xa8,
    0xfd, 0x17, 0xb4, 0x48, 0xa6, 0x85, 0x54, 0x19, 0x9c, 0x47, 0xd0, 0x8f, 0xfb, 0x10, 0xd4, 0xb8};
static const uint8_t P256_GX[32] = {
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
    0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96};

static const uint8_t *order(enum sigkey_curve c)
{
    return c == SIGKEY_K256 ? K256_N : P256_N;
}

/* out = a - b over 32-byte big-endian numbers (a >= b). */
static void sub256(const uint8_t *a, const uint8_t *b, uint8_t *out)
{
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = a[i] - b[i] - borrow;
        borrow = d < 0;
        out[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

/* s <= floor(n/2), i.e. 2s <= n - 1 < n, checked as s <= n - s. */
static bool is_low_s(enum sigkey_curve c, const uint8_t *s)
{
    uint8_t other[32];
    sub256(order(c), s, other);
    return memcmp(s, other, 32) <= 0;
}

/* DER SEQUENCE { INTEGER r, INTEGER s } of a 64-byte signature; returns its length. */
static size_t to_der(const uint8_t sig[64], uint8_t der[72])
{
    uint8_t body[70];
    size_t n = 0;
    for (int half = 0; half < 2; half++) {
        const uint8_t *v = sig + 32 * half;
        size_t skip = 0;
        while (skip < 31 && v[skip] == 0) {
            skip++;
        }
        bool pad = v[skip] & 0x80;
        body[n++] = 0x02;
        body[n++] = (uint8_t)(32 - skip + pad);
        if (pad) {
            body[n++] = 0;
        }
        memcpy(body + n, v + skip, 32 - skip);
        n += 32 - skip;
    }
    der[0] = 0x30;
    der[1] = (uint8_t)n;
    memcpy(der + 2, body, n);
    return n + 2;
}

static void test_sigkey_sign_verify_round_trip(void)
{
    for (size_t c = 0; c < ARRAY_LEN(CURVES); c++) {
        struct sigkey k, pub;
        CHECK_EQ(sigkey_generate(CURVES[c], &k), ERR_OK);
        CHECK(k.has_private);
        CHECK_EQ(sigkey_from_public(CURVES[c], bytes_of(k.public_key, 33), &pub), ERR_OK);
        CHECK(!pub.has_private);
        CHECK(sigkey_equal(&k, &pub));
        uint8_t sig[SIGKEY_SIG_BYTES];
        struct bytes msg = BYTES_LIT("hello world");
        CHECK_EQ(sigkey_sign(&k, msg, sig), ERR_OK);
        CHECK(sigkey_verify(&pub, msg, bytes_of(sig, sizeof(sig))));
        CHECK(sigkey_verify_lenient(&pub, msg, bytes_of(sig, sizeof(sig))));
        /* sign_digest over sha256(msg) verifies the same way */
        uint8_t digest[32], sig2[64];
        sha256(msg.ptr, msg.len, digest);
        CHECK_EQ(sigkey_sign_digest(&k, digest, sig2), ERR_OK);
        CHECK(sigkey_verify(&pub, msg, bytes_of(sig2, sizeof(sig2))));
        CHECK(sigkey_verify_digest(&pub, digest, bytes_of(sig, sizeof(sig))));
        /* an empty message is a message too */
        CHECK_EQ(sigkey_sign(&k, (struct bytes){NULL, 0}, sig), ERR_OK);
        CHECK(sigkey_verify(&pub, (struct bytes){NULL, 0}, bytes_of(sig, sizeof(sig))));
        sigkey_clear(&k);
    }
}

static void test_sigkey_public_key_cannot_sign(void)
{
    for (size_t c = 0; c < ARRAY_LEN(CURVES); c++) {
        struct sigkey k, pub;
        CHECK_EQ(sigkey_generate(CURVES[c], &k), ERR_OK);
        CHECK_EQ(sigkey_from_public(CURVES[c], bytes_of(k.public_key, 33), &pub), ERR_OK);
        uint8_t sig[64];
        CHECK_EQ(sigkey_sign(&pub, BYTES_LIT("x"), sig), ERR_INVALID);
    }
}

static void test_sigkey_k256_signatures_are_deterministic(void)
{
    /* libsecp256k1 uses RFC 6979 nonces: same key and message, same signature */
    struct sigkey k;
    CHECK_EQ(sigkey_generate(SIGKEY_K256, &k), ERR_OK);
    uint8_t a[64], b[64];
    CHECK_EQ(sigkey_sign(&k, BYTES_LIT("m"), a), ERR_OK);
    CHECK_EQ(sigkey_sign(&k, BYTES_LIT("m"), b), ERR_OK);
    CHECK(memcmp(a, b, 64) == 0);
}

static void test_sigkey_always_emits_low_s(void)
{
    for (size_t c = 0; c < ARRAY_LEN(CURVES); c++) {
        struct sigkey k;
        CHECK_EQ(sigkey_generate(CURVES[c], &k), ERR_OK);
        int high = 0;
        /* half of raw ECDSA signatures are high-S, so 300 tries would surely show one */
        for (int i = 0; i < 300; i++) {
            char msg[32];
            int n = snprintf(msg, sizeof(msg), "message %d", i);
            uint8_t sig[64];
            CHECK_EQ(sigkey_sign(&k, bytes_of(msg, (size_t)n), sig), ERR_OK);
            high += !is_low_s(CURVES[c], sig + 32);
        }
        CHECK_EQ(high, 0);
    }
}

static void test_sigkey_verify_rejects_high_s(void)
{
    for (size_t c = 0; c < ARRAY_LEN(CURVES); c++) {
        struct sigkey k;
        CHECK_EQ(sigkey_generate(CURVES[c], &k), ERR_OK);
        struct bytes msg = BYTES_LIT("malleable");
        uint8_t sig[64], high[64];
        CHECK_EQ(sigkey_sign(&k, msg, sig), ERR_OK);
        memcpy(high, sig, 32);
        sub256(order(CURVES[c]), sig + 32, high + 32); /* (r, n - s): the twin signature */
        CHECK(!is_low_s(CURVES[c], high + 32));
        CHECK(!sigkey_verify(&k, msg, bytes_of(high, 64)));
        CHECK(sigkey_verify_lenient(&k, msg, bytes_of(high, 64)));
        /* leniency is about S only: a wrong message still fails */
        CHECK(!sigkey_verify_lenient(&k, BYTES_LIT("other"), bytes_of(high, 64)));
    }
}

static void test_sigkey_verify_rejects_der(void)
{
    for (size_t c = 0; c < ARRAY_LEN(CURVES); c++) {
        struct sigkey k;
        CHECK_EQ(sigkey_generate(CURVES[c], &k), ERR_OK);
        struct bytes msg = BYTES_LIT("der");
        uint8_t sig[64], der[72];
        CHECK_EQ(sigkey_sign(&k, msg, sig), ERR_OK);
        size_t n = to_der(sig, der);
        CHECK(n >= 8 && n <= 72);
        CHECK(!sigkey_verify(&k, msg, bytes_of(der, n)));
        CHECK(!sigkey_verify_lenient(&k, msg, bytes_of(der, n)));
    }
}

static void test_sigkey_verify_rejects_wrong_inputs(void)
{
    for (size_t c = 0; c < ARRAY_LEN(CURVES); c++) {
        struct sigkey k, other;
        CHECK_EQ(sigkey_generate(CURVES[c], &k), ERR_OK);
        CHECK_EQ(sigkey_generate(CURVES[c], &other), ERR_OK);
        struct bytes msg = BYTES_LIT("the message");
        uint8_t sig[64], bad[65];
        CHECK_EQ(sigkey_sign(&k, msg, sig), ERR_OK);
        CHECK(!sigkey_verify(&k, BYTES_LIT("the messagE"), bytes_of(sig, 64)));
        CHECK(!sigkey_verify(&other, msg, bytes_of(sig, 64)));
        memcpy(bad, sig, 64);
        bad[10] ^= 1;
        CHECK(!sigkey_verify(&k, msg, bytes_of(bad, 64)));
        memcpy(bad, sig, 64);
        bad[64] = 0;
        CHECK(!sigkey_verify(&k, msg, bytes_of(bad, 65))); /* too long */
        CHECK(!sigkey_verify(&k, msg, bytes_of(sig, 63))); /* too short */
        CHECK(!sigkey_verify(&k, msg, BYTES_LIT("\x01\x02\x03")));
        CHECK(!sigkey_verify(&k, msg, (struct bytes){NULL, 0}));
        uint8_t zero[64] = {0};
        CHECK(!sigkey_verify(&k, msg, bytes_of(zero, 64)));
        CHECK(!sigkey_verify_lenient(&k, msg, bytes_of(zero, 64)));
        /* r or s equal to n is out of range */
        memcpy(bad, sig, 64);
        memcpy(bad + 32, order(CURVES[c]), 32);
        CHECK(!sigkey_verify_lenient(&k, msg, bytes_of(bad, 64)));
        /* a signature made on one curve does not verify on the other */
        struct sigkey cross;
        CHECK_EQ(sigkey_generate(CURVES[1 - c], &cross), ERR_OK);
        CHECK(!sigkey_verify(&cross, msg, bytes_of(sig, 64)));
    }
}

static void test_sigkey_private_key_of_one_is_the_generator(void)
{
    uint8_t one[32] = {0};
    one[31] = 1;
    struct sigkey k;
    CHECK_EQ(sigkey_from_private(SIGKEY_K256, one, &k), ERR_OK);
    CHECK_EQ(k.public_key[0], 0x02);
    CHECK(memcmp(k.public_key + 1, K256_GX, 32) == 0);
    CHECK_EQ(sigkey_from_private(SIGKEY_P256, one, &k), ERR_OK);
    CHECK_EQ(k.public_key[0], 0x03);
    CHECK(memcmp(k.public_key + 1, P256_GX, 32) == 0);
}

static void test_sigkey_private_range_is_checked(void)
{
    for (size_t c = 0; c < ARRAY_LEN(CURVES); c++) {
        uint8_t zero[32] = {0}, n[32], n_minus_1[32];
        struct sigkey k;
        memcpy(n, order(CURVES[c]), 32);
        memcpy(n_minus_1, n, 32);
        n_minus_1[31]--;
        CHECK_EQ(sigkey_from_private(CURVES[c], zero, &k), ERR_INVALID);
        CHECK_EQ(sigkey_from_private(CURVES[c], n, &k), ERR_INVALID);
        uint8_t ff[32];
        memset(ff, 0xff, 32);
        CHECK_EQ(sigkey_from_private(CURVES[c], ff, &k), ERR_INVALID);
        CHECK_EQ(sigkey_from_private(CURVES[c], n_minus_1, &k), ERR_OK);
    }
}

static void test_sigkey_private_hex_round_trip(void)
{
    for (size_t c = 0; c < ARRAY_LEN(CURVES); c++) {
        struct sigkey k, back;
        CHECK_EQ(sigkey_generate(CURVES[c], &k), ERR_OK);
        char hex[SIGKEY_PRIVATE_HEX_MAX];
        sigkey_private_hex(&k, hex);
        CHECK_EQ(strlen(hex), 64);
        CHECK_EQ(sigkey_from_private_hex(CURVES[c], bytes_str(hex), &back), ERR_OK);
        CHECK(memcmp(back.private_key, k.private_key, 32) == 0);
        CHECK(sigkey_equal(&k, &back));
        /* upper case is accepted too */
        for (size_t i = 0; i < 64; i++) {
            if (hex[i] >= 'a') {
                hex[i] = (char)(hex[i] - 'a' + 'A');
            }
        }
        CHECK_EQ(sigkey_from_private_hex(CURVES[c], bytes_str(hex), &back), ERR_OK);
        CHECK(sigkey_equal(&k, &back));
    }
    static const char *bad[] = {
        "",
        "00",
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0",   /* 63 */
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c0", /* 65 */
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0g",  /* not hex */
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e 0",  /* space */
        "0000000000000000000000000000000000000000000000000000000000000000",  /* zero */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct sigkey k;
        CHECK_EQ(sigkey_from_private_hex(SIGKEY_K256, bytes_str(bad[i]), &k), ERR_INVALID);
    }
}

static void test_sigkey_public_forms(void)
{
    /* k256 generator: uncompressed and compressed decode to the same key */
    uint8_t unc[65], comp[33];
    unc[0] = 0x04;
    memcpy(unc + 1, K256_GX, 32);
    memcpy(unc + 33, K256_GY, 32);
    comp[0] = 0x02;
    memcpy(comp + 1, K256_GX, 32);
    struct sigkey a, b;
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, bytes_of(unc, 65), &a), ERR_OK);
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, bytes_of(comp, 33), &b), ERR_OK);
    CHECK(sigkey_equal(&a, &b));
    CHECK(memcmp(a.public_key, comp, 33) == 0);

    /* the "hybrid" 06/07 encoding is refused */
    uint8_t hybrid[65];
    memcpy(hybrid, unc, 65);
    hybrid[0] = 0x06; /* y even */
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, bytes_of(hybrid, 65), &a), ERR_INVALID);
    /* a point off the curve */
    uint8_t off[65];
    memcpy(off, unc, 65);
    off[64] ^= 1;
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, bytes_of(off, 65), &a), ERR_INVALID);
    /* x >= p has no point */
    uint8_t big[33];
    memset(big, 0xff, 33);
    big[0] = 0x02;
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, bytes_of(big, 33), &a), ERR_INVALID);
    CHECK_EQ(sigkey_from_public(SIGKEY_P256, bytes_of(big, 33), &a), ERR_INVALID);
    /* wrong lengths and prefixes */
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, bytes_of(comp, 32), &a), ERR_INVALID);
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, bytes_of(unc, 64), &a), ERR_INVALID);
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, (struct bytes){NULL, 0}, &a), ERR_INVALID);
    comp[0] = 0x04;
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, bytes_of(comp, 33), &a), ERR_INVALID);
    CHECK_EQ(sigkey_from_public(SIGKEY_K256, BYTES_LIT("\x00"), &a), ERR_INVALID);
    /* uncompressed p256 round trip through a generated key */
    struct sigkey p;
    CHECK_EQ(sigkey_generate(SIGKEY_P256, &p), ERR_OK);
    CHECK_EQ(sigkey_from_public(SIGKEY_P256, bytes_of(p.public_key, 33), &a), ERR_OK);
    CHECK(sigkey_equal(&p, &a));
}

static void test_sigkey_did_key_round_trip(void)
{
    for (size_t c = 0; c < ARRAY_LEN(CURVES); c++) {
        for (int i = 0; i < 20; i++) {
            struct sigkey k, back;
            CHECK_EQ(sigkey_generate(CURVES[c], &k), ERR_OK);
            char did[SIGKEY_DID_KEY_MAX], mk[SIGKEY_MULTIKEY_MAX];
            sigkey_did_key(&k, did);
            sigkey_multikey(&k, mk);
            CHECK(strncmp(did, "did:key:", 8) == 0);
            CHECK_STR(did + 8, mk);
            /* spec(cryptography): the codec prefixes give these well-known starts */
            CHECK(strncmp(mk, CURVES[c] == SIGKEY_K256 ? "zQ3s" : "zDna", 4) == 0);
            CHECK_EQ(sigkey_from_did_key(bytes_str(did), &back), ERR_OK);
            CHECK(sigkey_equal(&k, &back));
            CHECK(!back.has_private);
            CHECK_EQ(sigkey_from_multikey(bytes_str(mk), &back), ERR_OK);
            CHECK(sigkey_equal(&k, &back));
        }
    }
}

/* "did:key:z" + base58btc(prefix ‖ key) built by hand for the bad-input table. */
static void make_did_key(const uint8_t *raw, size_t n, char *out, size_t cap)
{
    struct buf b;
    buf_init(&b, 256);
    CHECK_EQ(buf_append_str(&b, "did:key:z"), ERR_OK);
    CHECK_EQ(base58btc_encode(bytes_of(raw, n), &b), ERR_OK);
    snprintf(out, cap, "%s", (const char *)b.ptr);
    buf_clear(&b);
}

static void test_sigkey_did_key_bad_inputs(void)
{
    struct sigkey k;
    CHECK_EQ(sigkey_generate(SIGKEY_K256, &k), ERR_OK);
    uint8_t raw[80];
    char did[256];

    static const struct {
        const char *text;
        enum err want;
    } table[] = {
        {"", ERR_INVALID},
        {"did:key:", ERR_INVALID},
        {"did:key:z", ERR_INVALID},
        {"did:web:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", ERR_INVALID},
        {"DID:KEY:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", ERR_INVALID},
        /* one character fewer or more shifts every byte: some codec we do not know */
        {"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBm", ERR_UNSUPPORTED},
        {"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBmeA", ERR_UNSUPPORTED},
        {"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYB0e", ERR_INVALID}, /* '0' */
        {"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme ", ERR_INVALID},
        {"did:key:uQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", ERR_UNSUPPORTED},
        /* ed25519 (0xed): a real did:key, but not an atproto curve */
        {"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < ARRAY_LEN(table); i++) {
        enum err e = sigkey_from_did_key(bytes_str(table[i].text), &k);
        if (e != table[i].want) {
            fprintf(stderr, "case %zu: %s\n", i, table[i].text);
        }
        CHECK_EQ(e, table[i].want);
    }
    /* the valid starting point of the table really is valid */
    CHECK_EQ(sigkey_from_did_key(
                 BYTES_LIT("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"), &k),
             ERR_OK);

    /* hand-built payloads around a good key */
    struct sigkey g;
    CHECK_EQ(sigkey_generate(SIGKEY_K256, &g), ERR_OK);
    raw[0] = 0xe7;
    raw[1] = 0x01;
    memcpy(raw + 2, g.public_key, 33);
    make_did_key(raw, 35, did, sizeof(did));
    CHECK_EQ(sigkey_from_did_key(bytes_str(did), &k), ERR_OK);
    make_did_key(raw, 34, did, sizeof(did)); /* truncated key */
    CHECK_EQ(sigkey_from_did_key(bytes_str(did), &k), ERR_INVALID);
    raw[35] = 0;
    make_did_key(raw, 36, did, sizeof(did)); /* trailing byte */
    CHECK_EQ(sigkey_from_did_key(bytes_str(did), &k), ERR_INVALID);
    make_did_key(raw, 1, did, sizeof(did)); /* truncated varint */
    CHECK_EQ(sigkey_from_did_key(bytes_str(did), &k), ERR_INVALID);
    uint8_t nonminimal[] = {0xe7, 0x81, 0x00};
    make_did_key(nonminimal, sizeof(nonminimal), did, sizeof(did));
    CHECK_EQ(sigkey_from_did_key(bytes_str(did), &k), ERR_INVALID);
    /* right codec, wrong curve: the p256 codec on a k256 point is not a point or not this key */
    raw[0] = 0x80;
    raw[1] = 0x24;
    make_did_key(raw, 35, did, sizeof(did));
    enum err e = sigkey_from_did_key(bytes_str(did), &k);
    CHECK(e == ERR_INVALID || (e == ERR_OK && k.curve == SIGKEY_P256));
    /* an uncompressed point after the codec is not a multikey */
    uint8_t unc[67] = {0xe7, 0x01, 0x04};
    memcpy(unc + 3, K256_GX, 32);
    memcpy(unc + 35, K256_GY, 32);
    make_did_key(unc, sizeof(unc), did, sizeof(did));
    CHECK_EQ(sigkey_from_did_key(bytes_str(did), &k), ERR_INVALID);
    /* a point not on the curve */
    raw[0] = 0xe7;
    raw[1] = 0x01;
    raw[2] = 0x02;
    memset(raw + 3, 0xff, 32);
    make_did_key(raw, 35, did, sizeof(did));
    CHECK_EQ(sigkey_from_did_key(bytes_str(did), &k), ERR_INVALID);
    /* oversize text is refused before decoding */
    char huge[400];
    memset(huge, 'z', sizeof(huge));
    memcpy(huge, "did:key:z", 9);
    CHECK_EQ(sigkey_from_did_key(bytes_of(huge, sizeof(huge)), &k), ERR_INVALID);
}

static void test_sigkey_legacy_multibase(void)
{
    /* z + base58btc(uncompressed generator), no codec */
    uint8_t unc[65] = {0x04};
    memcpy(unc + 1, K256_GX, 32);
    memcpy(unc + 33, K256_GY, 32);
    struct buf b;
    buf_init(&b, 256);
    CHECK_EQ(multibase_encode('z', bytes_of(unc, 65), &b), ERR_OK);
    struct sigkey k;
    CHECK_EQ(sigkey_from_legacy_multibase(SIGKEY_K256, buf_bytes(&b), &k), ERR_OK);
    CHECK_EQ(k.public_key[0], 0x02);
    CHECK(memcmp(k.public_key + 1, K256_GX, 32) == 0);
    /* not a P-256 point */
    CHECK_EQ(sigkey_from_legacy_multibase(SIGKEY_P256, buf_bytes(&b), &k), ERR_INVALID);
    buf_clear(&b);
    CHECK_EQ(sigkey_from_legacy_multibase(SIGKEY_K256, BYTES_LIT("z"), &k), ERR_INVALID);
    CHECK_EQ(sigkey_from_legacy_multibase(SIGKEY_K256, BYTES_LIT(""), &k), ERR_INVALID);
    CHECK_EQ(sigkey_from_legacy_multibase(SIGKEY_K256, BYTES_LIT("mAAAA"), &k), ERR_UNSUPPORTED);
}

static void test_sigkey_clear_wipes(void)
{
    struct sigkey k;
    CHECK_EQ(sigkey_generate(SIGKEY_K256, &k), ERR_OK);
    sigkey_clear(&k);
    uint8_t zero[sizeof(k)] = {0};
    CHECK(memcmp(&k, zero, sizeof(k)) == 0);
}

int main(void)
{
    RUN(test_sigkey_sign_verify_round_trip);
    RUN(test_sigkey_public_key_cannot_sign);
    RUN(test_sigkey_k256_signatures_are_deterministic);
    RUN(test_sigkey_always_emits_low_s);
    RUN(test_sigkey_verify_rejects_high_s);
    RUN(test_sigkey_verify_rejects_der);
    RUN(test_sigkey_verify_rejects_wrong_inputs);
    RUN(test_sigkey_private_key_of_one_is_the_generator);
    RUN(test_sigkey_private_range_is_checked);
    RUN(test_sigkey_private_hex_round_trip);
    RUN(test_sigkey_public_forms);
    RUN(test_sigkey_did_key_round_trip);
    RUN(test_sigkey_did_key_bad_inputs);
    RUN(test_sigkey_legacy_multibase);
    RUN(test_sigkey_clear_wipes);
    return test_report();
}
