/* qrcode.c - a small QR encoder, following the structure of ISO/IEC 18004: encode the data
 * codewords, add Reed-Solomon error correction per block and interleave, draw the function
 * patterns, place the bits in the zig-zag order, then mask. */
#include "core/qrcode.h"

#include <string.h>

/* spec(ISO 18004 table 9), level M only: error correction codewords per block and the number
 * of blocks, by version (index 0 unused). */
static const uint8_t ecc_per_block[QRCODE_VERSION_MAX + 1] = {0,  10, 16, 26, 18, 24,
                                                              16, 18, 22, 22, 26};
static const uint8_t ecc_blocks[QRCODE_VERSION_MAX + 1] = {0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5};
#define FORMAT_BITS_M 0 /* spec(table 12): level M's two format bits */

struct grid {
    struct qrcode *q;
    uint8_t function[QRCODE_SIZE_MAX][QRCODE_SIZE_MAX]; /* not data: patterns, format, version */
};

/* Modules of a version left for data and error correction. */
static int raw_modules(int ver)
{
    int n = (16 * ver + 128) * ver + 64;
    if (ver >= 2) {
        int align = ver / 7 + 2;
        n -= (25 * align - 10) * align - 55;
        if (ver >= 7) {
            n -= 36;
        }
    }
    return n;
}

static int data_codewords(int ver)
{
    return raw_modules(ver) / 8 - ecc_per_block[ver] * ecc_blocks[ver];
}

/* GF(2^8) multiplication modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11d). */
static uint8_t gf_mul(uint8_t x, uint8_t y)
{
    int z = 0;
    for (int i = 7; i >= 0; i--) {
        z = (z << 1) ^ ((z >> 7) * 0x11d);
        z ^= ((y >> i) & 1) * x;
    }
    return (uint8_t)z;
}

void qrcode_rs_remainder(const uint8_t *data, int len, int ecc_len, uint8_t *ecc)
{
    uint8_t div[30];
    memset(div, 0, sizeof div);
    div[ecc_len - 1] = 1;
    uint8_t root = 1;
    for (int i = 0; i < ecc_len; i++) { /* the product of (x - 2^i) */
        for (int j = 0; j < ecc_len; j++) {
            div[j] = gf_mul(div[j], root);
            if (j + 1 < ecc_len) {
                div[j] ^= div[j + 1];
            }
        }
        root = gf_mul(root, 2);
    }
    memset(ecc, 0, (size_t)ecc_len);
    for (int i = 0; i < len; i++) {
        uint8_t factor = data[i] ^ ecc[0];
        memmove(ecc, ecc + 1, (size_t)ecc_len - 1);
        ecc[ecc_len - 1] = 0;
        for (int j = 0; j < ecc_len; j++) {
            ecc[j] ^= gf_mul(div[j], factor);
        }
    }
}

static void set_fn(struct grid *g, int x, int y, bool dark)
{
    g->q->dark[y][x] = dark;
    g->function[y][x] = 1;
}

static void finder(struct grid *g, int cx, int cy)
{
    int size = g->q->size;
    for (int dy = -4; dy <= 4; dy++) {
        for (int dx = -4; dx <= 4; dx++) {
            int x = cx + dx, y = cy + dy, ax = dx < 0 ? -dx : dx, ay = dy < 0 ? -dy : dy;
            int dist = ax > ay ? ax : ay;
            if (x >= 0 && x < size && y >= 0 && y < size) {
                set_fn(g, x, y, dist != 2 && dist != 4);
            }
        }
    }
}

static void alignment(struct grid *g, int cx, int cy)
{
    for (int dy = -2; dy <= 2; dy++) {
        for (int dx = -2; dx <= 2; dx++) {
            int ax = dx < 0 ? -dx : dx, ay = dy < 0 ? -dy : dy;
            set_fn(g, cx + dx, cy + dy, (ax > ay ? ax : ay) != 1);
        }
    }
}

static void format_bits(struct grid *g, int mask)
{
    int size = g->q->size;
    int data = FORMAT_BITS_M << 3 | mask, rem = data;
    for (int i = 0; i < 10; i++) { /* spec(annex C): BCH(15,5) */
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    }
    int bits = (data << 10 | rem) ^ 0x5412;
    for (int i = 0; i <= 5; i++) {
        set_fn(g, 8, i, (bits >> i) & 1);
    }
    set_fn(g, 8, 7, (bits >> 6) & 1);
    set_fn(g, 8, 8, (bits >> 7) & 1);
    set_fn(g, 7, 8, (bits >> 8) & 1);
    for (int i = 9; i < 15; i++) {
        set_fn(g, 14 - i, 8, (bits >> i) & 1);
    }
    for (int i = 0; i < 8; i++) {
        set_fn(g, size - 1 - i, 8, (bits >> i) & 1);
    }
    for (int i = 8; i < 15; i++) {
        set_fn(g, 8, size - 15 + i, (bits >> i) & 1);
    }
    set_fn(g, 8, size - 8, true); /* the dark module */
}

static void version_bits(struct grid *g)
{
    int ver = g->q->version, size = g->q->size;
    if (ver < 7) {
        return;
    }
    int rem = ver;
    for (int i = 0; i < 12; i++) { /* spec(annex D): BCH(18,6) */
        rem = (rem << 1) ^ ((rem >> 11) * 0x1f25);
    }
    long bits = (long)ver << 12 | rem;
    for (int i = 0; i < 18; i++) {
        bool dark = (bits >> i) & 1;
        int a = size - 11 + i % 3, b = i / 3;
        set_fn(g, a, b, dark);
        set_fn(g, b, a, dark);
    }
}

static void function_patterns(struct grid *g)
{
    int size = g->q->size, ver = g->q->version;
    for (int i = 0; i < size; i++) {
        set_fn(g, 6, i, i % 2 == 0);
        set_fn(g, i, 6, i % 2 == 0);
    }
    finder(g, 3, 3);
    finder(g, size - 4, 3);
    finder(g, 3, size - 4);
    if (ver >= 2) {
        int n = ver / 7 + 2, pos[7];
        int step = (ver * 4 + n * 2 + 1) / (n * 2 - 2) * 2;
        pos[0] = 6;
        for (int i = n - 1, p = size - 7; i >= 1; i--, p -= step) {
            pos[i] = p;
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                bool corner =
                    (i == 0 && j == 0) || (i == 0 && j == n - 1) || (i == n - 1 && j == 0);
                if (!corner) {
                    alignment(g, pos[i], pos[j]);
                }
            }
        }
    }
    format_bits(g, 0); /* reserves the area; rewritten once the mask is known */
    version_bits(g);
}

static void place(struct grid *g, const uint8_t *cw, int n)
{
    int size = g->q->size, i = 0;
    for (int right = size - 1; right >= 1; right -= 2) {
        if (right == 6) {
            right = 5; /* the vertical timing column is skipped */
        }
        for (int vert = 0; vert < size; vert++) {
            for (int j = 0; j < 2; j++) {
                int x = right - j;
                bool up = ((right + 1) & 2) == 0;
                int y = up ? size - 1 - vert : vert;
                if (!g->function[y][x] && i < n * 8) {
                    g->q->dark[y][x] = (cw[i >> 3] >> (7 - (i & 7))) & 1;
                    i++;
                }
            }
        }
    }
}

static bool mask_bit(int mask, int x, int y)
{
    switch (mask) {
    case 0:
        return (x + y) % 2 == 0;
    case 1:
        return y % 2 == 0;
    case 2:
        return x % 3 == 0;
    case 3:
        return (x + y) % 3 == 0;
    case 4:
        return (x / 3 + y / 2) % 2 == 0;
    case 5:
        return x * y % 2 + x * y % 3 == 0;
    case 6:
        return (x * y % 2 + x * y % 3) % 2 == 0;
    default:
        return ((x + y) % 2 + x * y % 3) % 2 == 0;
    }
}

static void apply_mask(struct grid *g, int mask)
{
    int size = g->q->size;
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            if (!g->function[y][x] && mask_bit(mask, x, y)) {
                g->q->dark[y][x] ^= 1;
            }
        }
    }
}

/* spec(8.8.2) rules 1 (runs of five or more), 2 (2x2 blocks) and 4 (balance); rule 3
 * (finder look-alikes) is left out: any mask gives a valid symbol, the rules only help
 * readers. */
static long penalty(const struct qrcode *q)
{
    long p = 0;
    int size = q->size, darkn = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int a = 0; a < size; a++) {
            int run = 1;
            for (int b = 1; b <= size; b++) {
                int prev = pass ? q->dark[b - 1][a] : q->dark[a][b - 1];
                int cur = b < size ? (pass ? q->dark[b][a] : q->dark[a][b]) : -1;
                if (cur == prev) {
                    run++;
                } else {
                    if (run >= 5) {
                        p += 3 + (run - 5);
                    }
                    run = 1;
                }
            }
        }
    }
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            darkn += q->dark[y][x];
            if (x + 1 < size && y + 1 < size && q->dark[y][x] == q->dark[y][x + 1] &&
                q->dark[y][x] == q->dark[y + 1][x] && q->dark[y][x] == q->dark[y + 1][x + 1]) {
                p += 3;
            }
        }
    }
    int total = size * size;
    int k = (darkn * 20 - total * 10);
    k = (k < 0 ? -k : k) / total; /* each 5 % away from half: 10 points */
    return p + (long)k * 10;
}

static void put_bits(uint8_t *out, long *bit, long v, int n)
{
    for (int i = n - 1; i >= 0; i--, (*bit)++) {
        if ((v >> i) & 1) {
            out[*bit >> 3] |= (uint8_t)(0x80 >> (*bit & 7));
        }
    }
}

/* The data codewords: byte mode, the count, the text, the terminator, then pad bytes. */
static void data_stream(struct bytes text, int ver, uint8_t *out, int cap)
{
    memset(out, 0, (size_t)cap);
    long bit = 0;
    put_bits(out, &bit, 4, 4); /* mode indicator 0100: byte */
    put_bits(out, &bit, (long)text.len, ver <= 9 ? 8 : 16);
    for (size_t i = 0; i < text.len; i++) {
        put_bits(out, &bit, text.ptr[i], 8);
    }
    long cap_bits = (long)cap * 8;
    bit += cap_bits - bit < 4 ? cap_bits - bit : 4; /* terminator */
    bit = (bit + 7) / 8 * 8;
    for (uint8_t pad = 0xec; bit < cap_bits; pad ^= 0xec ^ 0x11, bit += 8) {
        out[bit >> 3] = pad;
    }
}

enum err qrcode_encode(struct bytes text, struct qrcode *out)
{
    int ver = 1;
    while (ver <= QRCODE_VERSION_MAX &&
           (long)data_codewords(ver) * 8 < 4 + (ver <= 9 ? 8 : 16) + (long)text.len * 8) {
        ver++;
    }
    if (ver > QRCODE_VERSION_MAX) {
        return ERR_TOO_LARGE;
    }
    memset(out, 0, sizeof *out);
    out->version = ver;
    out->size = ver * 4 + 17;
    uint8_t data[256], all[400];
    int ndata = data_codewords(ver);
    data_stream(text, ver, data, ndata);

    /* split into blocks (the short ones first), append each block's ECC, interleave */
    int nblocks = ecc_blocks[ver], ecc_len = ecc_per_block[ver];
    int raw = raw_modules(ver) / 8, nshort = nblocks - raw % nblocks, short_len = raw / nblocks;
    uint8_t blocks[8][160];
    for (int i = 0, k = 0; i < nblocks; i++) {
        int dlen = short_len - ecc_len + (i < nshort ? 0 : 1);
        uint8_t ecc[30];
        memcpy(blocks[i], data + k, (size_t)dlen);
        k += dlen;
        qrcode_rs_remainder(blocks[i], dlen, ecc_len, ecc);
        if (i < nshort) {
            blocks[i][dlen] = 0; /* a gap, so every block's ECC starts in the same column */
        }
        memcpy(blocks[i] + short_len - ecc_len + 1, ecc, (size_t)ecc_len);
    }
    int n = 0;
    for (int i = 0; i <= short_len; i++) {
        for (int j = 0; j < nblocks; j++) {
            if (i != short_len - ecc_len || j >= nshort) {
                all[n++] = blocks[j][i];
            }
        }
    }

    struct grid g;
    memset(g.function, 0, sizeof g.function);
    g.q = out;
    function_patterns(&g);
    place(&g, all, n);
    long best = -1;
    int best_mask = 0;
    for (int m = 0; m < 8; m++) {
        apply_mask(&g, m);
        format_bits(&g, m);
        long p = penalty(out);
        if (best < 0 || p < best) {
            best = p;
            best_mask = m;
        }
        apply_mask(&g, m); /* XOR again: undone */
    }
    apply_mask(&g, best_mask);
    format_bits(&g, best_mask);
    out->mask = best_mask;
    return ERR_OK;
}

enum err qrcode_svg(const struct qrcode *q, struct buf *out)
{
    const int quiet = 4, side = q->size + 2 * quiet;
    enum err e = buf_appendf(out,
                             "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                             "shape-rendering=\"crispEdges\"><rect width=\"100%%\" "
                             "height=\"100%%\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                             side, side);
    for (int y = 0; y < q->size && !e; y++) {
        for (int x = 0; x < q->size && !e; x++) {
            if (q->dark[y][x]) {
                e = buf_appendf(out, "M%d %dh1v1h-1z", x + quiet, y + quiet);
            }
        }
    }
    return e ? e : buf_append_str(out, "\"/></svg>");
}
