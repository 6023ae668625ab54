/* qrcode.h - QR codes (ISO/IEC 18004) for short texts such as an otpauth:// URI: byte mode,
 * error correction level M, versions 1 to 10 (up to 213 bytes), the mask chosen by the
 * standard's penalty rules 1, 2 and 4; and an SVG picture of the result.
 * Pure; no allocation except into the caller's buffer; thread-safe. */
#ifndef PDS_CORE_QRCODE_H
#define PDS_CORE_QRCODE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/err.h"

#define QRCODE_VERSION_MAX 10
#define QRCODE_SIZE_MAX    (QRCODE_VERSION_MAX * 4 + 17) /* modules per side */
#define QRCODE_BYTES_MAX   213                           /* version 10-M in byte mode */

struct qrcode {
    int version;                                    /* 1..QRCODE_VERSION_MAX */
    int size;                                       /* version * 4 + 17 */
    int mask;                                       /* 0..7 */
    uint8_t dark[QRCODE_SIZE_MAX][QRCODE_SIZE_MAX]; /* [y][x], 1 = dark */
};

/* Encodes text in the smallest version that holds it. ERR_TOO_LARGE past
 * QRCODE_BYTES_MAX. */
enum err qrcode_encode(struct bytes text, struct qrcode *out) MUST_CHECK;

/* Appends an SVG image of q (a 4-module quiet zone, one square path) to out. */
enum err qrcode_svg(const struct qrcode *q, struct buf *out) MUST_CHECK;

/* The Reed-Solomon remainder (error correction codewords) of data over GF(2^8) with the
 * QR generator polynomial of degree ecc_len (at most 30): exposed for known-answer tests. */
void qrcode_rs_remainder(const uint8_t *data, int len, int ecc_len, uint8_t *ecc);

#endif
