/* test_base.c - base32/base58btc/base64/base64url and multibase: RFC 4648 and base58
 * known answers, the loose base64 atproto needs, and a bad-input table. */
#include "unit/test.h"

#include "core/base.h"

typedef enum err (*encode_fn)(struct bytes in, struct buf *out);
typedef enum err (*decode_fn)(struct bytes in, struct buf *out);

static enum err b64_pad(struct bytes in, struct buf *out)
{
    return base64_encode(in, true, out);
}

static enum err b64_nopad(struct bytes in, struct buf *out)
{
    return base64_encode(in, false, out);
}

/* encode(raw) == text, decode(text) == raw */
static void check_pair(encode_fn enc, decode_fn dec, struct bytes raw, const char *text)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    CHECK_EQ(enc(raw, &b), ERR_OK);
    CHECK_STR((const char *)(b.ptr ? (char *)b.ptr : ""), text);
    CHECK_EQ(b.len, strlen(text));
    buf_reset(&b);
    CHECK_EQ(dec(bytes_str(text), &b), ERR_OK);
    CHECK(bytes_eq(buf_bytes(&b), raw));
    buf_clear(&b);
}

static const char *const RFC4648_IN[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};

static void test_base64_rfc4648_vectors(void)
{
    static const char *const padded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                         "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *const bare[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < ARRAY_LEN(RFC4648_IN); i++) {
        check_pair(b64_pad, base64_decode, bytes_str(RFC4648_IN[i]), padded[i]);
        check_pair(b64_nopad, base64_decode, bytes_str(RFC4648_IN[i]), bare[i]);
        check_pair(base64url_encode, base64url_decode, bytes_str(RFC4648_IN[i]), bare[i]);
        check_pair(base64url_encode, base64url_decode_strict, bytes_str(RFC4648_IN[i]), bare[i]);
    }
    /* the two alphabets differ only in 62 and 63 */
    static const uint8_t hi[] = {0xfb, 0xff};
    check_pair(b64_nopad, base64_decode, bytes_of(hi, 2), "+/8");
    check_pair(base64url_encode, base64url_decode, bytes_of(hi, 2), "-_8");
}

static void test_base32_rfc4648_vectors(void)
{
    /* RFC 4648 section 10, lower-cased and unpadded as multibase 'b' uses it */
    static const char *const out[] = {"",        "my",       "mzxq",      "mzxw6",
                                      "mzxw6yq", "mzxw6ytb", "mzxw6ytboi"};
    for (size_t i = 0; i < ARRAY_LEN(RFC4648_IN); i++) {
        check_pair(base32_encode, base32_decode, bytes_str(RFC4648_IN[i]), out[i]);
    }
}

static void test_base58btc_vectors(void)
{
    static const struct {
        const char *raw;
        size_t len;
        const char *text;
    } v[] = {
        {"", 0, ""},
        {"\x00", 1, "1"},
        {"\x00\x00\x00", 3, "111"},
        {"\x61", 1, "2g"},
        {"\x62\x62\x62", 3, "a3gV"},
        {"\x51\x6b\x6f\xcd\x0f", 5, "ABnLTmg"},
        {"\xff\xff\xff\xff", 4, "7YXq9G"},
        {"Hello World!", 12, "2NEpo7TZRRrLZSi2U"},
        {"\x00\x00\x28\x7f\xb4\xcd", 6, "11233QC4"}, /* leading zeros become '1's */
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        check_pair(base58btc_encode, base58btc_decode, bytes_of(v[i].raw, v[i].len), v[i].text);
    }
}

static void test_base64_loose_accepts_leftover_bits(void)
{
    /* lexicon/record-data-valid.json carries {"$bytes":"123"} */
    struct buf b;
    buf_init(&b, 64);
    CHECK_EQ(base64_decode(BYTES_LIT("123"), &b), ERR_OK);
    CHECK_EQ(b.len, 2);
    CHECK(b.len == 2 && b.ptr[0] == 0xd7 && b.ptr[1] == 0x6d);
    buf_reset(&b);
    CHECK_EQ(base64_decode(BYTES_LIT("123="), &b), ERR_OK); /* padded form too */
    CHECK_EQ(b.len, 2);
    buf_reset(&b);
    /* the strict decoder used for signatures refuses both */
    CHECK_EQ(base64url_decode_strict(BYTES_LIT("123"), &b), ERR_INVALID);
    CHECK_EQ(base64url_decode_strict(BYTES_LIT("Zg=="), &b), ERR_INVALID);
    CHECK_EQ(b.len, 0);
    buf_clear(&b);
}

static void test_base_bad_inputs_refused(void)
{
    static const struct {
        decode_fn fn;
        const char *in;
    } bad[] = {
        {base64_decode, "Z"},        /* 6 bits make no byte */
        {base64_decode, "Zm9vY"},    /* same after a full quantum */
        {base64_decode, "Zg="},      /* padding that does not complete a quantum */
        {base64_decode, "Zg==="},    /* too much padding */
        {base64_decode, "="},        /* padding alone */
        {base64_decode, "Z=g="},     /* padding in the middle */
        {base64_decode, "Zm9v!"},    /* not in the alphabet */
        {base64_decode, "Zm 9v"},    /* whitespace */
        {base64_decode, "-_8"},      /* url alphabet in standard base64 */
        {base64url_decode, "+/8"},   /* standard alphabet in base64url */
        {base32_decode, "MY"},       /* upper case */
        {base32_decode, "m1"},       /* '1' is not base32 */
        {base32_decode, "m"},        /* 5 bits make no byte */
        {base32_decode, "mz"},       /* non-zero leftover bits */
        {base32_decode, "my======"}, /* padding */
        {base58btc_decode, "0"},     /* excluded: 0 O I l */
        {base58btc_decode, "O"},     {base58btc_decode, "I"},
        {base58btc_decode, "l"},     {base58btc_decode, "2g+"},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct buf b;
        buf_init(&b, 64);
        if (bad[i].fn(bytes_str(bad[i].in), &b) != ERR_INVALID) {
            CHECK(!"bad input accepted");
            fprintf(stderr, "  input %zu: \"%s\"\n", i, bad[i].in);
        }
        CHECK_EQ(b.len, 0); /* nothing half-written */
        buf_clear(&b);
    }
    /* a NUL byte inside base58 input is not a digit */
    struct buf b;
    buf_init(&b, 64);
    CHECK_EQ(base58btc_decode(bytes_of("2\0g", 3), &b), ERR_INVALID);
    buf_clear(&b);
}

static void test_multibase_prefixes(void)
{
    struct buf b;
    buf_init(&b, 256);
    CHECK_EQ(multibase_decode(BYTES_LIT("bmzxw6"), &b), ERR_OK);
    CHECK_STR((char *)b.ptr, "foo");
    buf_reset(&b);
    CHECK_EQ(multibase_decode(BYTES_LIT("z2NEpo7TZRRrLZSi2U"), &b), ERR_OK);
    CHECK_STR((char *)b.ptr, "Hello World!");
    buf_reset(&b);
    CHECK_EQ(multibase_decode(BYTES_LIT("mZm9vYg"), &b), ERR_OK);
    CHECK_STR((char *)b.ptr, "foob");
    buf_reset(&b);
    CHECK_EQ(multibase_decode(BYTES_LIT("u-_8"), &b), ERR_OK);
    CHECK(b.len == 2 && b.ptr[0] == 0xfb && b.ptr[1] == 0xff);
    buf_reset(&b);
    CHECK_EQ(multibase_decode(BYTES_LIT("f666f6f"), &b), ERR_UNSUPPORTED); /* base16 */
    CHECK_EQ(multibase_decode(BYTES_LIT("Bmzxw6"), &b), ERR_UNSUPPORTED);  /* base32 upper */
    CHECK_EQ(multibase_decode(BYTES_LIT(""), &b), ERR_INVALID);
    CHECK_EQ(multibase_encode('z', BYTES_LIT("Hello World!"), &b), ERR_OK);
    CHECK_STR((char *)b.ptr, "z2NEpo7TZRRrLZSi2U");
    buf_reset(&b);
    CHECK_EQ(multibase_encode('b', BYTES_LIT("foob"), &b), ERR_OK);
    CHECK_STR((char *)b.ptr, "bmzxw6yq");
    buf_reset(&b);
    CHECK_EQ(multibase_encode('m', BYTES_LIT("f"), &b), ERR_OK);
    CHECK_STR((char *)b.ptr, "mZg");
    buf_reset(&b);
    CHECK_EQ(multibase_encode('q', BYTES_LIT("f"), &b), ERR_UNSUPPORTED);
    CHECK_EQ(b.len, 0);
    buf_clear(&b);
}

static void test_encoders_respect_buf_max(void)
{
    struct buf b;
    buf_init(&b, 4);
    CHECK_EQ(base64_encode(BYTES_LIT("foobar"), false, &b), ERR_TOO_LARGE);
    CHECK_EQ(base32_encode(BYTES_LIT("foobar"), &b), ERR_TOO_LARGE);
    CHECK_EQ(base58btc_encode(BYTES_LIT("Hello World!"), &b), ERR_TOO_LARGE);
    CHECK_EQ(b.len, 0);
    buf_clear(&b);
}

static void test_random_round_trips(void)
{
    uint8_t raw[200];
    uint32_t x = 12345;
    for (size_t n = 0; n < sizeof(raw); n++) {
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            raw[i] = (uint8_t)(x >> 16);
        }
        if (n % 7 == 0 && n) {
            raw[0] = 0; /* exercise base58 leading zeros */
        }
        encode_fn enc[] = {base32_encode, base58btc_encode, b64_nopad, b64_pad, base64url_encode};
        decode_fn dec[] = {base32_decode, base58btc_decode, base64_decode, base64_decode,
                           base64url_decode};
        for (size_t k = 0; k < ARRAY_LEN(enc); k++) {
            struct buf t, r;
            buf_init(&t, 1024);
            buf_init(&r, 1024);
            CHECK_EQ(enc[k](bytes_of(raw, n), &t), ERR_OK);
            CHECK_EQ(dec[k](buf_bytes(&t), &r), ERR_OK);
            CHECK(bytes_eq(buf_bytes(&r), bytes_of(raw, n)));
            buf_clear(&t);
            buf_clear(&r);
        }
    }
}

int main(void)
{
    RUN(test_base64_rfc4648_vectors);
    RUN(test_base32_rfc4648_vectors);
    RUN(test_base58btc_vectors);
    RUN(test_base64_loose_accepts_leftover_bits);
    RUN(test_base_bad_inputs_refused);
    RUN(test_multibase_prefixes);
    RUN(test_encoders_respect_buf_max);
    RUN(test_random_round_trips);
    return test_report();
}
