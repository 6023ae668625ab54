/* cid.c - CIDv1 parsing, formatting and hashing. */
#include "core/cid.h"

#include "core/base.h"
#include "core/sha256.h"
#include "core/varint.h"

#define CID_CODEC_MAX 0xffffffffu /* codecs are small; larger ones are garbage */

enum err cid_read(struct bytes *in, struct cid *out)
{
    struct bytes cur = *in;
    uint64_t version, codec, mh, dlen;
    enum err e;
    if ((e = varint_read(&cur, &version))) {
        return e;
    }
    if (version != CID_VERSION_1) {
        return ERR_UNSUPPORTED; /* 0x12 here would be a CIDv0 multihash */
    }
    if ((e = varint_read(&cur, &codec)) || (e = varint_read(&cur, &mh)) ||
        (e = varint_read(&cur, &dlen))) {
        return e;
    }
    if (codec > CID_CODEC_MAX || mh > CID_CODEC_MAX) {
        return ERR_UNSUPPORTED;
    }
    if (dlen > CID_DIGEST_MAX) {
        return ERR_UNSUPPORTED;
    }
    if (mh == CID_MH_SHA256 && dlen != SHA256_BYTES) {
        return ERR_INVALID;
    }
    if (cur.len < dlen) {
        return ERR_TRUNCATED;
    }
    size_t total = (size_t)(cur.ptr - in->ptr) + (size_t)dlen;
    if (total > CID_BYTES_MAX) {
        return ERR_UNSUPPORTED;
    }
    memcpy(out->bytes, in->ptr, total);
    out->len = (uint8_t)total;
    in->ptr += total;
    in->len -= total;
    return ERR_OK;
}

enum err cid_from_bytes(struct bytes in, struct cid *out)
{
    enum err e = cid_read(&in, out);
    if (e == ERR_TRUNCATED) {
        return ERR_INVALID;
    }
    if (e) {
        return e;
    }
    return in.len == 0 ? ERR_OK : ERR_INVALID;
}

enum err cid_parse(struct bytes text, struct cid *out)
{
    /* bound before decoding: base32 of CID_BYTES_MAX is 128 characters */
    if (text.len < 2 || text.len > CID_STR_MAX - 1) {
        return ERR_INVALID;
    }
    if (text.ptr[0] != 'b' && text.ptr[0] != 'z') {
        return ERR_INVALID; /* CIDv0 ("Qm...") and other bases are not atproto CIDs */
    }
    struct buf raw;
    buf_init(&raw, CID_BYTES_MAX + 8);
    enum err e = multibase_decode(text, &raw);
    if (!e) {
        e = cid_from_bytes(buf_bytes(&raw), out);
        if (e) {
            e = ERR_INVALID;
        }
    } else {
        e = ERR_INVALID;
    }
    buf_clear(&raw);
    return e;
}

enum err cid_parse_str(const char *text, struct cid *out)
{
    return cid_parse(bytes_str(text), out);
}

size_t cid_format(const struct cid *c, char dst[CID_STR_MAX])
{
    static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t n = 0;
    dst[n++] = 'b';
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < c->len; i++) {
        acc = (acc << 8) | c->bytes[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            dst[n++] = B32[(acc >> bits) & 31];
        }
    }
    if (bits > 0) {
        dst[n++] = B32[(acc << (5 - bits)) & 31];
    }
    dst[n] = '\0';
    return n;
}

void cid_compute(uint64_t codec, struct bytes data, struct cid *out)
{
    size_t n = varint_write(CID_VERSION_1, out->bytes);
    n += varint_write(codec, out->bytes + n);
    out->bytes[n++] = CID_MH_SHA256;
    out->bytes[n++] = SHA256_BYTES;
    sha256(data.ptr, data.len, out->bytes + n);
    out->len = (uint8_t)(n + SHA256_BYTES);
}

uint64_t cid_codec(const struct cid *c)
{
    struct bytes cur = cid_bytes(c);
    uint64_t v = 0;
    if (varint_read(&cur, &v) || varint_read(&cur, &v)) {
        return 0;
    }
    return v;
}

bool cid_is_blessed(const struct cid *c)
{
    return c->len == CID_BLESSED_BYTES && c->bytes[0] == CID_VERSION_1 &&
           (c->bytes[1] == CID_CODEC_DAGCBOR || c->bytes[1] == CID_CODEC_RAW) &&
           c->bytes[2] == CID_MH_SHA256 && c->bytes[3] == SHA256_BYTES;
}

struct bytes cid_digest(const struct cid *c)
{
    struct bytes cur = cid_bytes(c);
    uint64_t v;
    if (varint_read(&cur, &v) || varint_read(&cur, &v) || varint_read(&cur, &v) ||
        varint_read(&cur, &v)) {
        return (struct bytes){NULL, 0};
    }
    return cur;
}
