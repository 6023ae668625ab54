/* test_cid.c - CIDv1 parse/format round trips, the binary form, known computed CIDs, and
 * a bad-input table (CIDv0, truncation, garbage, whitespace). */
#include "unit/test.h"

#include "core/base.h"
#include "core/cid.h"

/* the data-model fixtures' links and the empty-MST and empty-raw-block CIDs */
static const char *const GOOD[] = {
    "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
    "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a",
    "bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity",
    "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
};

static void test_cid_parse_format_round_trip(void)
{
    for (size_t i = 0; i < ARRAY_LEN(GOOD); i++) {
        struct cid c;
        CHECK_EQ(cid_parse_str(GOOD[i], &c), ERR_OK);
        CHECK_EQ(c.len, CID_BLESSED_BYTES);
        CHECK(cid_is_blessed(&c));
        char s[CID_STR_MAX];
        size_t n = cid_format(&c, s);
        CHECK_EQ(n, strlen(GOOD[i]));
        CHECK_EQ(n, 59);
        CHECK_STR(s, GOOD[i]);
        CHECK_EQ(cid_digest(&c).len, 32);
        CHECK_EQ(cid_codec(&c), GOOD[i][3] == 'y' ? CID_CODEC_DAGCBOR : CID_CODEC_RAW);
    }
}

static void test_cid_binary_form(void)
{
    struct cid c, d;
    CHECK_EQ(cid_parse_str(GOOD[0], &c), ERR_OK);
    CHECK(c.bytes[0] == 0x01 && c.bytes[1] == 0x71 && c.bytes[2] == 0x12 && c.bytes[3] == 0x20);
    CHECK_EQ(cid_from_bytes(cid_bytes(&c), &d), ERR_OK);
    CHECK(cid_equal(&c, &d));
    /* cid_read takes one CID off the front and leaves the rest */
    uint8_t two[CID_BLESSED_BYTES + 3];
    memcpy(two, c.bytes, c.len);
    memcpy(two + c.len, "xyz", 3);
    struct bytes cur = bytes_of(two, sizeof(two));
    CHECK_EQ(cid_read(&cur, &d), ERR_OK);
    CHECK(cid_equal(&c, &d));
    CHECK_EQ(cur.len, 3);
    CHECK(cur.ptr == two + c.len);
    /* ... but the whole-input form refuses the trailing bytes */
    CHECK_EQ(cid_from_bytes(bytes_of(two, sizeof(two)), &d), ERR_INVALID);
    /* base58btc 'z' strings are read too; formatting always gives base32 */
    struct buf z;
    buf_init(&z, 256);
    CHECK_EQ(multibase_encode('z', cid_bytes(&c), &z), ERR_OK);
    CHECK_EQ(cid_parse(buf_bytes(&z), &d), ERR_OK);
    CHECK(cid_equal(&c, &d));
    buf_clear(&z);
}

static void test_cid_compute_known_values(void)
{
    /* the empty MST node {"e":[],"l":null}; its CID checked with an independent sha256 */
    static const uint8_t empty_mst[] = {0xa2, 0x61, 0x65, 0x80, 0x61, 0x6c, 0xf6};
    struct cid c, p;
    char s[CID_STR_MAX];
    cid_compute(CID_CODEC_DAGCBOR, bytes_of(empty_mst, sizeof(empty_mst)), &c);
    cid_format(&c, s);
    CHECK_STR(s, "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm");
    CHECK_EQ(cid_parse_str(s, &p), ERR_OK);
    CHECK(cid_equal(&c, &p));
    /* the empty raw block: the well-known sha2-256 of nothing, e3b0c442... */
    cid_compute(CID_CODEC_RAW, bytes_of("", 0), &c);
    cid_format(&c, s);
    CHECK_STR(s, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    CHECK(cid_digest(&c).len == 32 && cid_digest(&c).ptr[0] == 0xe3 &&
          cid_digest(&c).ptr[31] == 0x55);
}

static void test_cid_non_blessed_kept_as_found(void)
{
    /* sha2-512 (0x13, 64 bytes) and identity (0x00) multihashes round-trip unchanged */
    uint8_t big[4 + 64];
    big[0] = 0x01, big[1] = 0x71, big[2] = 0x13, big[3] = 0x40;
    for (int i = 0; i < 64; i++) {
        big[4 + i] = (uint8_t)i;
    }
    struct cid c, d;
    CHECK_EQ(cid_from_bytes(bytes_of(big, sizeof(big)), &c), ERR_OK);
    CHECK(!cid_is_blessed(&c));
    CHECK_EQ(cid_digest(&c).len, 64);
    char s[CID_STR_MAX];
    size_t n = cid_format(&c, s);
    CHECK(n < CID_STR_MAX);
    CHECK_EQ(cid_parse(bytes_of(s, n), &d), ERR_OK);
    CHECK(cid_equal(&c, &d));
    static const uint8_t ident[] = {0x01, 0x55, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
    CHECK_EQ(cid_from_bytes(bytes_of(ident, sizeof(ident)), &c), ERR_OK);
    CHECK(!cid_is_blessed(&c));
    CHECK_EQ(cid_codec(&c), CID_CODEC_RAW);
}

static void test_cid_string_bad_inputs(void)
{
    static const char *const bad[] = {
        "",
        "b",
        ".",
        "bafy",
        "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n", /* CIDv0 */
        "BAFYREIE5737GDXLW5I64VZICHCALBA3Z2V5N6ICIFVX5XYTVSKE7MR3HPM",
        "Bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
        " bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
        "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm ",
        "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hp",    /* one short */
        "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpmaa", /* extra byte */
        "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hp1",   /* '1' not base32 */
        "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm=",
        "fafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
        "zQmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n", /* base58 of a CIDv0 */
        "b!!!!!!!!!!!!!!!!!",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct cid c;
        if (cid_parse_str(bad[i], &c) != ERR_INVALID) {
            CHECK(!"bad CID string accepted");
            fprintf(stderr, "  \"%s\"\n", bad[i]);
        }
    }
    /* longer than any CID we hold, and an embedded NUL */
    char longs[300];
    memset(longs, 'a', sizeof(longs) - 1);
    longs[0] = 'b';
    longs[sizeof(longs) - 1] = 0;
    struct cid c;
    CHECK_EQ(cid_parse_str(longs, &c), ERR_INVALID);
    const char *g = GOOD[0];
    char nul[80];
    memcpy(nul, g, 59);
    nul[20] = 0;
    CHECK_EQ(cid_parse(bytes_of(nul, 59), &c), ERR_INVALID);
}

static void test_cid_binary_bad_inputs(void)
{
    struct {
        uint8_t b[96];
        size_t len;
        enum err want;
    } bad[] = {
        {{0}, 0, ERR_INVALID},                               /* empty */
        {{0x12, 0x20}, 34, ERR_UNSUPPORTED},                 /* CIDv0 multihash */
        {{0x02, 0x71, 0x12, 0x20}, 36, ERR_UNSUPPORTED},     /* version 2 */
        {{0x00, 0x71, 0x12, 0x20}, 36, ERR_UNSUPPORTED},     /* version 0 */
        {{0x01, 0x71, 0x12, 0x1f}, 35, ERR_INVALID},         /* sha2-256 not 32 bytes */
        {{0x01, 0x71, 0x12, 0x20}, 35, ERR_INVALID},         /* digest cut short */
        {{0x01, 0x71, 0x12}, 3, ERR_INVALID},                /* no length */
        {{0x01, 0x71, 0x13, 0x41}, 4 + 65, ERR_UNSUPPORTED}, /* digest over 64 bytes */
        {{0x01, 0x80, 0x00, 0x12, 0x20}, 37, ERR_INVALID},   /* non-minimal codec varint */
        {{0x01, 0x71, 0x12, 0x20}, 37, ERR_INVALID},         /* trailing byte */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct cid c;
        enum err e = cid_from_bytes(bytes_of(bad[i].b, bad[i].len), &c);
        if (e != bad[i].want) {
            fprintf(stderr, "  case %zu: got %s\n", i, err_str(e));
        }
        CHECK_EQ(e, bad[i].want);
    }
    /* every strict prefix of a good CID is truncated for cid_read */
    struct cid g;
    CHECK_EQ(cid_parse_str(GOOD[1], &g), ERR_OK);
    for (size_t p = 0; p < g.len; p++) {
        struct bytes cur = bytes_of(g.bytes, p);
        struct cid c;
        CHECK_EQ(cid_read(&cur, &c), ERR_TRUNCATED);
        CHECK_EQ(cur.len, p);
    }
}

int main(void)
{
    RUN(test_cid_parse_format_round_trip);
    RUN(test_cid_binary_form);
    RUN(test_cid_compute_known_values);
    RUN(test_cid_non_blessed_kept_as_found);
    RUN(test_cid_string_bad_inputs);
    RUN(test_cid_binary_bad_inputs);
    return test_report();
}
