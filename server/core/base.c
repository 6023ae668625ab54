/* base.c - base32, base58btc, base64 and multibase. */
#include "core/base.h"

#include <stdlib.h>

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define BASE58_MAX_INPUT ((size_t)1 << 16) /* base58 is quadratic; keys are tiny */

enum err base32_encode(struct bytes in, struct buf *out)
{
    enum err e = buf_reserve(out, (in.len * 8 + 4) / 5);
    if (e) {
        return e;
    }
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < in.len; i++) {
        acc = (acc << 8) | in.ptr[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out->ptr[out->len++] = (uint8_t)B32[(acc >> bits) & 31];
        }
    }
    if (bits > 0) {
        out->ptr[out->len++] = (uint8_t)B32[(acc << (5 - bits)) & 31];
    }
    out->ptr[out->len] = 0;
    return ERR_OK;
}

enum err base32_decode(struct bytes in, struct buf *out)
{
    enum err e = buf_reserve(out, in.len * 5 / 8 + 1);
    if (e) {
        return e;
    }
    size_t start = out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        int v;
        if (c >= 'a' && c <= 'z') {
            v = c - 'a';
        } else if (c >= '2' && c <= '7') {
            v = c - '2' + 26;
        } else {
            out->len = start;
            return ERR_INVALID;
        }
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out->ptr[out->len++] = (uint8_t)(acc >> bits);
        }
    }
    /* a leftover of 5+ bits means a character that carried no byte: not canonical */
    if (bits >= 5 || (acc & ((1u << bits) - 1))) {
        out->len = start;
        return ERR_INVALID;
    }
    out->ptr[out->len] = 0;
    return ERR_OK;
}

enum err base58btc_encode(struct bytes in, struct buf *out)
{
    if (in.len > BASE58_MAX_INPUT) {
        return ERR_TOO_LARGE;
    }
    size_t zeros = 0;
    while (zeros < in.len && in.ptr[zeros] == 0) {
        zeros++;
    }
    size_t size = (in.len - zeros) * 138 / 100 + 1; /* log(256)/log(58) */
    uint8_t *tmp = xcalloc(size, 1);
    size_t high = size;
    for (size_t i = zeros; i < in.len; i++) {
        uint32_t carry = in.ptr[i];
        size_t j = size;
        while (j > 0 && (j > high || carry)) {
            j--;
            carry += 256u * tmp[j];
            tmp[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        high = j;
    }
    size_t k = 0;
    while (k < size && tmp[k] == 0) {
        k++;
    }
    enum err e = buf_reserve(out, zeros + size - k);
    if (!e) {
        for (size_t i = 0; i < zeros; i++) {
            out->ptr[out->len++] = '1';
        }
        for (; k < size; k++) {
            out->ptr[out->len++] = (uint8_t)B58[tmp[k]];
        }
        out->ptr[out->len] = 0;
    }
    free(tmp);
    return e;
}

static int b58_value(uint8_t c)
{
    const char *p = memchr(B58, c, sizeof(B58) - 1);
    return (p && c) ? (int)(p - B58) : -1;
}

enum err base58btc_decode(struct bytes in, struct buf *out)
{
    if (in.len > BASE58_MAX_INPUT) {
        return ERR_TOO_LARGE;
    }
    size_t zeros = 0;
    while (zeros < in.len && in.ptr[zeros] == '1') {
        zeros++;
    }
    size_t size = (in.len - zeros) * 733 / 1000 + 1; /* log(58)/log(256) */
    uint8_t *tmp = xcalloc(size, 1);
    size_t high = size;
    for (size_t i = zeros; i < in.len; i++) {
        int v = b58_value(in.ptr[i]);
        if (v < 0) {
            free(tmp);
            return ERR_INVALID;
        }
        uint32_t carry = (uint32_t)v;
        size_t j = size;
        while (j > 0 && (j > high || carry)) {
            j--;
            carry += 58u * tmp[j];
            tmp[j] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        high = j;
    }
    size_t k = 0;
    while (k < size && tmp[k] == 0) {
        k++;
    }
    enum err e = buf_reserve(out, zeros + size - k);
    if (!e) {
        memset(out->ptr + out->len, 0, zeros);
        out->len += zeros;
        memcpy(out->ptr + out->len, tmp + k, size - k);
        out->len += size - k;
        out->ptr[out->len] = 0;
    }
    free(tmp);
    return e;
}

static enum err b64_encode(struct bytes in, const char *alpha, bool pad, struct buf *out)
{
    enum err e = buf_reserve(out, (in.len + 2) / 3 * 4);
    if (e) {
        return e;
    }
    size_t i = 0;
    uint8_t *o = out->ptr + out->len;
    for (; i + 3 <= in.len; i += 3) {
        uint32_t v = (uint32_t)in.ptr[i] << 16 | (uint32_t)in.ptr[i + 1] << 8 | in.ptr[i + 2];
        *o++ = (uint8_t)alpha[v >> 18];
        *o++ = (uint8_t)alpha[(v >> 12) & 63];
        *o++ = (uint8_t)alpha[(v >> 6) & 63];
        *o++ = (uint8_t)alpha[v & 63];
    }
    size_t rest = in.len - i;
    if (rest) {
        uint32_t v = (uint32_t)in.ptr[i] << 16 | (rest == 2 ? (uint32_t)in.ptr[i + 1] << 8 : 0);
        *o++ = (uint8_t)alpha[v >> 18];
        *o++ = (uint8_t)alpha[(v >> 12) & 63];
        if (rest == 2) {
            *o++ = (uint8_t)alpha[(v >> 6) & 63];
        } else if (pad) {
            *o++ = '=';
        }
        if (pad) {
            *o++ = '=';
        }
    }
    out->len = (size_t)(o - out->ptr);
    out->ptr[out->len] = 0;
    return ERR_OK;
}

enum err base64_encode(struct bytes in, bool pad, struct buf *out)
{
    return b64_encode(in, B64, pad, out);
}

enum err base64url_encode(struct bytes in, struct buf *out)
{
    return b64_encode(in, B64URL, false, out);
}

static int b64_value(uint8_t c, bool url)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == (url ? '-' : '+')) {
        return 62;
    }
    if (c == (url ? '_' : '/')) {
        return 63;
    }
    return -1;
}

/* strict: no '=' at all and zero leftover bits */
static enum err b64_decode(struct bytes in, bool url, bool strict, struct buf *out)
{
    size_t n = in.len;
    if (!strict) {
        /* padding is optional, but when present it must complete a quantum */
        size_t pads = 0;
        while (n > 0 && in.ptr[n - 1] == '=' && pads < 2) {
            n--;
            pads++;
        }
        if (pads && (n + pads) % 4 != 0) {
            return ERR_INVALID;
        }
    }
    if (n % 4 == 1) {
        return ERR_INVALID; /* 6 bits cannot make a byte */
    }
    enum err e = buf_reserve(out, n / 4 * 3 + 3);
    if (e) {
        return e;
    }
    size_t start = out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(in.ptr[i], url);
        if (v < 0) {
            out->len = start;
            return ERR_INVALID;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->ptr[out->len++] = (uint8_t)(acc >> bits);
        }
    }
    if (strict && (acc & ((1u << bits) - 1))) {
        out->len = start;
        return ERR_INVALID;
    }
    out->ptr[out->len] = 0;
    return ERR_OK;
}

enum err base64_decode(struct bytes in, struct buf *out)
{
    return b64_decode(in, false, false, out);
}

enum err base64url_decode(struct bytes in, struct buf *out)
{
    return b64_decode(in, true, false, out);
}

enum err base64url_decode_strict(struct bytes in, struct buf *out)
{
    return b64_decode(in, true, true, out);
}

enum err multibase_decode(struct bytes in, struct buf *out)
{
    if (in.len < 1) {
        return ERR_INVALID;
    }
    struct bytes body = {in.ptr + 1, in.len - 1};
    switch (in.ptr[0]) {
    case 'b':
        return base32_decode(body, out);
    case 'z':
        return base58btc_decode(body, out);
    case 'm':
        return base64_decode(body, out);
    case 'u':
        return base64url_decode(body, out);
    default:
        return ERR_UNSUPPORTED;
    }
}

enum err multibase_encode(char prefix, struct bytes in, struct buf *out)
{
    enum err e = buf_append_byte(out, (uint8_t)prefix);
    if (e) {
        return e;
    }
    switch (prefix) {
    case 'b':
        return base32_encode(in, out);
    case 'z':
        return base58btc_encode(in, out);
    case 'm':
        return base64_encode(in, false, out);
    case 'u':
        return base64url_encode(in, out);
    default:
        out->len--;
        return ERR_UNSUPPORTED;
    }
}
