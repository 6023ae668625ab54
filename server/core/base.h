/* base.h - base32 (RFC 4648 lower-case, unpadded), base58btc, base64 and base64url, and
 * the multibase prefixes that select them. Pure; thread-safe. */
#ifndef PDS_CORE_BASE_H
#define PDS_CORE_BASE_H

#include "core/bytes.h"

/* Encoders append to out (no NUL counted in len; buf keeps one after it). */
enum err base32_encode(struct bytes in, struct buf *out) MUST_CHECK;
enum err base58btc_encode(struct bytes in, struct buf *out) MUST_CHECK;
/* base64 standard alphabet; pad=true adds '=' padding. */
enum err base64_encode(struct bytes in, bool pad, struct buf *out) MUST_CHECK;
enum err base64url_encode(struct bytes in, struct buf *out) MUST_CHECK; /* never padded */

/* Decoders append to out. base32 accepts lower-case only (atproto's form).
 * base64 decoders are loose as atproto requires: padding optional, and non-zero
 * leftover bits accepted (interop: {"$bytes":"123"}). base64url_decode_strict refuses
 * padding and non-zero leftover bits (did:plc signatures). */
enum err base32_decode(struct bytes in, struct buf *out) MUST_CHECK;
enum err base58btc_decode(struct bytes in, struct buf *out) MUST_CHECK;
enum err base64_decode(struct bytes in, struct buf *out) MUST_CHECK;
enum err base64url_decode(struct bytes in, struct buf *out) MUST_CHECK;
enum err base64url_decode_strict(struct bytes in, struct buf *out) MUST_CHECK;

/* Multibase: 'b' base32 lower, 'z' base58btc, 'm' base64, 'u' base64url.
 * Decoding refuses any other prefix with ERR_UNSUPPORTED. */
enum err multibase_decode(struct bytes in, struct buf *out) MUST_CHECK;
enum err multibase_encode(char prefix, struct bytes in, struct buf *out) MUST_CHECK;

#endif
