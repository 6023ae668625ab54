/* varint.c - unsigned LEB128. */
#include "core/varint.h"

enum err varint_read(struct bytes *in, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < VARINT_MAX_BYTES; i++) {
        if (i >= in->len) {
            return ERR_TRUNCATED;
        }
        uint8_t c = in->ptr[i];
        if (i == 9 && c > 1) {
            return ERR_INVALID; /* would overflow 64 bits */
        }
        v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            if (c == 0 && i > 0) {
                return ERR_INVALID; /* spec(multiformats): varints are minimally encoded */
            }
            in->ptr += i + 1;
            in->len -= i + 1;
            *out = v;
            return ERR_OK;
        }
    }
    return ERR_INVALID;
}

size_t varint_write(uint64_t v, uint8_t dst[VARINT_MAX_BYTES])
{
    size_t n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        dst[n++] = v ? (c | 0x80) : c;
    } while (v);
    return n;
}

size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >>= 7) {
        n++;
    }
    return n;
}
