/* test_totp.c - RFC 4226 HOTP and RFC 6238 TOTP known answers (SHA-1, the last six digits
 * of the RFCs' eight), the one-step window, single use, and the base32 text. */
#include "unit/test.h"

#include "crypto/totp.h"

static const char SECRET[] = "12345678901234567890"; /* both RFCs' test key */

static struct bytes key(void)
{
    return bytes_of(SECRET, 20);
}

static void test_totp_hotp_vectors(void)
{
    /* spec(RFC 4226 appendix D) */
    static const char *const want[] = {"755224", "287082", "359152", "969429", "338314",
                                       "254676", "287922", "162583", "399871", "520489"};
    for (uint64_t c = 0; c < 10; c++) {
        char got[TOTP_DIGITS + 1];
        totp_code(key(), c, got);
        CHECK_STR(got, want[c]);
    }
}

static void test_totp_rfc6238_vectors(void)
{
    /* spec(RFC 6238 appendix B), SHA-1 rows: 94287082, 07081804, 14050471, 89005924,
     * 69279037, 65353130 */
    static const struct {
        int64_t t;
        const char *code;
    } rows[] = {{59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
                {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}};
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        char got[TOTP_DIGITS + 1];
        totp_code(key(), totp_step(rows[i].t), got);
        CHECK_STR(got, rows[i].code);
    }
}

static void test_totp_check_window_and_reuse(void)
{
    int64_t now = 1234567890;
    uint64_t step = 0;
    char prev[TOTP_DIGITS + 1], next[TOTP_DIGITS + 1], far[TOTP_DIGITS + 1];
    totp_code(key(), totp_step(now) - 1, prev);
    totp_code(key(), totp_step(now) + 1, next);
    totp_code(key(), totp_step(now) + 2, far);
    CHECK(totp_check(key(), "005924", now, 0, &step));
    CHECK_EQ(step, totp_step(now));
    CHECK(totp_check(key(), "005 924", now, 0, &step)); /* spaces between digits */
    CHECK(totp_check(key(), prev, now, 0, &step));
    CHECK(totp_check(key(), next, now, 0, &step));
    CHECK(!totp_check(key(), far, now, 0, &step));
    /* a code works once: its step must be after the last one used */
    CHECK(!totp_check(key(), "005924", now, totp_step(now), &step));
    CHECK(totp_check(key(), next, now, totp_step(now), &step));
    const char *bad[] = {"", "00592", "0059245", "00592a", "-05924", NULL};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        CHECK(!totp_check(key(), bad[i], now, 0, &step));
    }
}

static void test_totp_base32(void)
{
    char out[TOTP_SECRET_B32_CHARS + 1];
    totp_base32(key(), out);
    CHECK_STR(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    char short_out[8];
    totp_base32(bytes_of("f", 1), short_out); /* RFC 4648 §10: "MY" (unpadded) */
    CHECK_STR(short_out, "MY");
}

int main(void)
{
    RUN(test_totp_hotp_vectors);
    RUN(test_totp_rfc6238_vectors);
    RUN(test_totp_check_window_and_reuse);
    RUN(test_totp_base32);
    return test_report();
}
