/* cid.h - content identifiers: CIDv1 parse (string and binary), format, compute.
 * The binary form is kept exactly as found, so links read from imported repos
 * round-trip even when they are not the blessed dag-cbor/raw + sha2-256 kind.
 * Pure: no I/O, no globals; thread-safe. */
#ifndef PDS_CORE_CID_H
#define PDS_CORE_CID_H

#include "core/bytes.h"

#define CID_VERSION_1     0x01
#define CID_CODEC_DAGCBOR 0x71
#define CID_CODEC_RAW     0x55
#define CID_MH_SHA256     0x12
#define CID_BLESSED_BYTES 36  /* 01 codec 12 20 <32-byte sha2-256> */
#define CID_DIGEST_MAX    64  /* largest multihash digest we accept (sha2-512) */
#define CID_BYTES_MAX     80  /* version + codec + hash code + length varints + digest */
#define CID_STR_MAX       136 /* "b" + base32 of CID_BYTES_MAX bytes + NUL */

struct cid {
    uint8_t len;                  /* bytes used in bytes[] */
    uint8_t bytes[CID_BYTES_MAX]; /* the binary CIDv1: version, codec, multihash */
};

/* The whole of in must be one binary CIDv1 (no 0x00 multibase prefix). */
enum err cid_from_bytes(struct bytes in, struct cid *out) MUST_CHECK;
/* Reads one binary CIDv1 at the front of *in and advances past it (CAR sections). */
enum err cid_read(struct bytes *in, struct cid *out) MUST_CHECK;
/* Parses the multibase string form ('b' base32 lower; 'z' base58btc also read).
 * CIDv0 ("Qm...") is refused: atproto uses CIDv1 only. */
enum err cid_parse(struct bytes text, struct cid *out) MUST_CHECK;
enum err cid_parse_str(const char *text, struct cid *out) MUST_CHECK;
/* Writes the base32 string form, NUL-terminated; returns its length. */
size_t cid_format(const struct cid *c, char dst[CID_STR_MAX]);
/* CIDv1 of data with the given codec and sha2-256. */
void cid_compute(uint64_t codec, struct bytes data, struct cid *out);

uint64_t cid_codec(const struct cid *c);
/* CIDv1, codec dag-cbor or raw, sha2-256 with a 32-byte digest. */
bool cid_is_blessed(const struct cid *c);
/* The digest bytes of the multihash (for blessed CIDs, the sha2-256 of the block). */
struct bytes cid_digest(const struct cid *c);

static inline struct bytes cid_bytes(const struct cid *c)
{
    return (struct bytes){c->bytes, c->len};
}

static inline bool cid_equal(const struct cid *a, const struct cid *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static inline int cid_cmp(const struct cid *a, const struct cid *b)
{
    return bytes_cmp(cid_bytes(a), cid_bytes(b));
}

#endif
