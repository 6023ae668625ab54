/* test_bytes.c - byte views (compare, equality) and growable buffers: NUL after len,
 * the max ceiling, appendf, take, reset and clear. */
#include "unit/test.h"

#include "core/bytes.h"

static void test_bytes_compare(void)
{
    CHECK(bytes_eq(BYTES_LIT("abc"), bytes_str("abc")));
    CHECK(!bytes_eq(BYTES_LIT("abc"), BYTES_LIT("abd")));
    CHECK(bytes_eq(bytes_of(NULL, 0), BYTES_LIT("")));
    CHECK(bytes_cmp(BYTES_LIT("a"), BYTES_LIT("b")) < 0);
    CHECK(bytes_cmp(BYTES_LIT("ab"), BYTES_LIT("a")) > 0); /* shorter first on a tie */
    CHECK(bytes_cmp(BYTES_LIT("a"), BYTES_LIT("ab")) < 0);
    CHECK(bytes_cmp(BYTES_LIT("b"), BYTES_LIT("ab")) > 0); /* bytewise, not length-first */
    CHECK(bytes_cmp(bytes_of(NULL, 0), bytes_of(NULL, 0)) == 0);
    CHECK(bytes_cmp(bytes_of("\x00", 1), bytes_of("\xff", 1)) < 0); /* unsigned */
    CHECK_EQ(bytes_str(NULL).len, 0);
}

static void test_buf_append_and_ceiling(void)
{
    struct buf b;
    buf_init(&b, 10);
    CHECK_EQ(buf_append_str(&b, "hello"), ERR_OK);
    CHECK_EQ(buf_append_byte(&b, ' '), ERR_OK);
    CHECK_STR((char *)b.ptr, "hello ");
    CHECK_EQ(buf_append_str(&b, "world"), ERR_TOO_LARGE); /* 11 > 10 */
    CHECK_STR((char *)b.ptr, "hello ");                   /* unchanged */
    CHECK_EQ(buf_appendf(&b, "%d%s", 42, "xy"), ERR_OK);
    CHECK_STR((char *)b.ptr, "hello 42xy");
    CHECK_EQ(b.len, 10);
    CHECK_EQ(buf_append(&b, "", 0), ERR_OK);
    CHECK_EQ(buf_append_byte(&b, 'x'), ERR_TOO_LARGE);
    CHECK_EQ(buf_appendf(&b, "%s", "x"), ERR_TOO_LARGE);
    CHECK_EQ(buf_reserve(&b, SIZE_MAX), ERR_TOO_LARGE);
    buf_reset(&b);
    CHECK_EQ(b.len, 0);
    CHECK_STR((char *)b.ptr, "");
    buf_clear(&b);
    CHECK(b.ptr == NULL);
    buf_clear(&b); /* twice is fine */
}

static void test_buf_take_moves_ownership(void)
{
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    size_t len = 99;
    uint8_t *p = buf_take(&b, &len); /* empty buffer: still a NUL-terminated allocation */
    CHECK(p && p[0] == 0 && len == 0);
    free(p);
    CHECK_EQ(buf_append(&b, "abc", 3), ERR_OK);
    p = buf_take(&b, &len);
    CHECK(len == 3 && memcmp(p, "abc", 4) == 0);
    CHECK(b.ptr == NULL && b.len == 0);
    free(p);
    /* growth across many doublings keeps contents */
    for (int i = 0; i < 5000; i++) {
        CHECK_EQ(buf_append_byte(&b, (uint8_t)i), ERR_OK);
    }
    int bad = 0;
    for (int i = 0; i < 5000; i++) {
        bad += b.ptr[i] != (uint8_t)i;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(b.ptr[b.len], 0);
    buf_clear(&b);
}

static void test_xalloc_helpers(void)
{
    char *s = xstrndup("abcdef", 3);
    CHECK_STR(s, "abc");
    free(s);
    uint8_t *m = xmemdup("\x00\x01", 2);
    CHECK(m[0] == 0 && m[1] == 1);
    free(m);
    free(xmemdup(NULL, 0));
    uint8_t *z = xcalloc(4, 4);
    CHECK(z[15] == 0);
    free(z);
}

int main(void)
{
    RUN(test_bytes_compare);
    RUN(test_buf_append_and_ceiling);
    RUN(test_buf_take_moves_ownership);
    RUN(test_xalloc_helpers);
    return test_report();
}
