/* test_qrcode.c - the QR encoder: Reed-Solomon against the standard's worked example
 * (thonky.com's "HELLO WORLD" 1-M, the ISO 18004 annex I method), version choice at the
 * capacity limits, the function patterns and the format information read back out of the
 * symbol. (A full decode by an independent reader, jsQR, is in tests/e2e/oauth-browser.) */
#include "unit/test.h"

#include "core/qrcode.h"

static void test_qrcode_reed_solomon_known_answer(void)
{
    static const uint8_t data[16] = {0x20, 0x5b, 0x0b, 0x78, 0xd1, 0x72, 0xdc, 0x4d,
                                     0x43, 0x40, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11};
    static const uint8_t want[10] = {0xc4, 0x23, 0x27, 0x77, 0xeb, 0xd7, 0xe7, 0xe2, 0x5d, 0x17};
    uint8_t ecc[10];
    qrcode_rs_remainder(data, 16, 10, ecc);
    CHECK(memcmp(ecc, want, sizeof want) == 0);
}

static struct qrcode q;

static void test_qrcode_version_by_capacity(void)
{
    static const struct {
        size_t len;
        int version;
    } rows[] = {{1, 1}, {14, 1}, {15, 2}, {26, 2}, {27, 3}, {152, 8}, {153, 9}, {213, 10}};
    char text[QRCODE_BYTES_MAX + 1];
    memset(text, 'a', sizeof text);
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        CHECK_EQ(qrcode_encode(bytes_of(text, rows[i].len), &q), ERR_OK);
        CHECK_EQ(q.version, rows[i].version);
        CHECK_EQ(q.size, rows[i].version * 4 + 17);
    }
    CHECK_EQ(qrcode_encode(bytes_of(text, QRCODE_BYTES_MAX + 1), &q), ERR_TOO_LARGE);
}

/* The 15 format bits around the top-left finder, as a reader takes them. */
static int format_read(const struct qrcode *c)
{
    int bits = 0;
    for (int i = 0; i <= 5; i++) {
        bits |= c->dark[i][8] << i;
    }
    bits |= c->dark[7][8] << 6 | c->dark[8][8] << 7 | c->dark[8][7] << 8;
    for (int i = 9; i < 15; i++) {
        bits |= c->dark[8][14 - i] << i;
    }
    return bits;
}

static void test_qrcode_patterns_and_format(void)
{
    const char *uri = "otpauth://totp/example.com:alice.example.com?secret="
                      "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=example.com";
    CHECK_EQ(qrcode_encode(bytes_str(uri), &q), ERR_OK);
    int n = q.size;
    /* finder patterns: dark corners, a light ring, a dark 3x3 centre */
    const int corners[3][2] = {{0, 0}, {n - 7, 0}, {0, n - 7}};
    for (int c = 0; c < 3; c++) {
        int x0 = corners[c][0], y0 = corners[c][1];
        CHECK(q.dark[y0][x0] && q.dark[y0 + 6][x0 + 6] && q.dark[y0 + 3][x0 + 3]);
        CHECK(!q.dark[y0 + 1][x0 + 1] && !q.dark[y0 + 5][x0 + 1]);
    }
    for (int i = 8; i < n - 8; i++) { /* timing patterns alternate */
        CHECK_EQ(q.dark[6][i], i % 2 == 0);
        CHECK_EQ(q.dark[i][6], i % 2 == 0);
    }
    CHECK(q.dark[n - 8][8]); /* the dark module */
    /* format: BCH-checked level M (00) and the chosen mask, under the 0x5412 mask */
    int f = format_read(&q) ^ 0x5412;
    int data = f >> 10;
    CHECK_EQ(data >> 3, 0);
    CHECK_EQ(data & 7, q.mask);
    int rem = data;
    for (int i = 0; i < 10; i++) {
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    }
    CHECK_EQ(f & 0x3ff, rem & 0x3ff);
    struct buf svg;
    buf_init(&svg, 1 << 20);
    CHECK_EQ(qrcode_svg(&q, &svg), ERR_OK);
    CHECK(strstr((const char *)svg.ptr, "<svg") != NULL);
    buf_clear(&svg);
}

int main(void)
{
    RUN(test_qrcode_reed_solomon_known_answer);
    RUN(test_qrcode_version_by_capacity);
    RUN(test_qrcode_patterns_and_format);
    return test_report();
}
