/* test_varint.c - unsigned LEB128: known encodings, minimal form enforced, truncation and
 * 64-bit overflow refused, the cursor advanced only on success. */
#include "unit/test.h"

#include "core/varint.h"

static void test_varint_known_encodings(void)
{
    static const struct {
        uint64_t v;
        size_t len;
        const char *enc;
    } k[] = {
        {0, 1, "\x00"},
        {1, 1, "\x01"},
        {127, 1, "\x7f"},
        {128, 2, "\x80\x01"},
        {300, 2, "\xac\x02"},
        {0x71, 1, "\x71"},
        {16383, 2, "\xff\x7f"},
        {16384, 3, "\x80\x80\x01"},
        {UINT64_MAX, 10, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"},
    };
    for (size_t i = 0; i < ARRAY_LEN(k); i++) {
        uint8_t dst[VARINT_MAX_BYTES];
        size_t n = varint_write(k[i].v, dst);
        CHECK_EQ(n, k[i].len);
        CHECK_EQ(varint_len(k[i].v), k[i].len);
        CHECK(memcmp(dst, k[i].enc, k[i].len) == 0);
        struct bytes in = bytes_of(k[i].enc, k[i].len);
        uint64_t got = 1;
        CHECK_EQ(varint_read(&in, &got), ERR_OK);
        CHECK(got == k[i].v);
        CHECK_EQ(in.len, 0);
    }
}

static void test_varint_read_advances_past_one_value(void)
{
    struct bytes in = BYTES_LIT("\xac\x02\x05");
    uint64_t v;
    CHECK_EQ(varint_read(&in, &v), ERR_OK);
    CHECK_EQ(v, 300);
    CHECK_EQ(in.len, 1);
    CHECK_EQ(varint_read(&in, &v), ERR_OK);
    CHECK_EQ(v, 5);
    CHECK_EQ(in.len, 0);
    CHECK_EQ(varint_read(&in, &v), ERR_TRUNCATED); /* empty */
}

static void test_varint_bad_inputs(void)
{
    static const struct {
        const char *enc;
        size_t len;
        enum err want;
    } bad[] = {
        {"\x80", 1, ERR_TRUNCATED},
        {"\xff\xff", 2, ERR_TRUNCATED},
        {"\x80\x00", 2, ERR_INVALID},     /* 0 in two bytes */
        {"\x81\x00", 2, ERR_INVALID},     /* 1 with a trailing zero group */
        {"\xff\x80\x00", 3, ERR_INVALID}, /* same, longer */
        {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10, ERR_INVALID}, /* 2^64 */
        {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10, ERR_INVALID},
        {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x01", 11, ERR_INVALID}, /* 11 bytes */
        {"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11, ERR_INVALID},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct bytes in = bytes_of(bad[i].enc, bad[i].len);
        uint64_t v = 77;
        enum err e = varint_read(&in, &v);
        if (e != bad[i].want) {
            fprintf(stderr, "  case %zu: got %s\n", i, err_str(e));
        }
        CHECK_EQ(e, bad[i].want);
        CHECK_EQ(in.len, bad[i].len); /* cursor untouched on failure */
        CHECK_EQ(v, 77);
    }
}

static void test_varint_round_trip_powers(void)
{
    for (int s = 0; s < 64; s++) {
        uint64_t vals[] = {(uint64_t)1 << s, ((uint64_t)1 << s) - 1, ((uint64_t)1 << s) + 1};
        for (size_t k = 0; k < ARRAY_LEN(vals); k++) {
            uint8_t dst[VARINT_MAX_BYTES];
            size_t n = varint_write(vals[k], dst);
            CHECK_EQ(n, varint_len(vals[k]));
            struct bytes in = bytes_of(dst, n);
            uint64_t got;
            CHECK_EQ(varint_read(&in, &got), ERR_OK);
            CHECK(got == vals[k]);
            /* every strict prefix is truncated */
            for (size_t p = 0; p < n; p++) {
                struct bytes part = bytes_of(dst, p);
                CHECK_EQ(varint_read(&part, &got), ERR_TRUNCATED);
            }
        }
    }
}

int main(void)
{
    RUN(test_varint_known_encodings);
    RUN(test_varint_read_advances_past_one_value);
    RUN(test_varint_bad_inputs);
    RUN(test_varint_round_trip_powers);
    return test_report();
}
