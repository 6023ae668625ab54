/* dagcbor.h - DAG-CBOR (DRISL) as atproto uses it: a strict decoder and a canonical
 * encoder for data-model values, plus low-level writers for hot paths that emit
 * known shapes (MST nodes, commits, frames) in canonical key order themselves.
 * Pure: no I/O, no globals; thread-safe. */
#ifndef PDS_CORE_DAGCBOR_H
#define PDS_CORE_DAGCBOR_H

#include "core/dm.h"

#define DAGCBOR_MAX_DEPTH 64         /* nesting of arrays/maps; records are shallow */
#define DAGCBOR_MAX_ITEMS (1u << 20) /* elements of one array or map */
#define DAGCBOR_TAG_CID   42

/* Decodes exactly one value that must fill all of in. Refuses: indefinite lengths,
 * non-shortest integers and lengths, map keys that are not text, unsorted or duplicate
 * keys, tags other than 42 (whose payload must be 0x00 + a binary CID), floats,
 * undefined and other simple values, invalid UTF-8, integers outside int64, and
 * trailing bytes (ERR_INVALID); input that ends early is ERR_TRUNCATED.
 * Strings and bytes in *out point into in, which must outlive the arena's use. */
enum err dagcbor_decode(struct bytes in, struct arena *a, struct dm_value **out) MUST_CHECK;

/* Encodes v canonically (map keys sorted by length, then bytewise). Refuses duplicate
 * map keys and invalid UTF-8 with ERR_INVALID; on error out may hold partial bytes. */
enum err dagcbor_encode(const struct dm_value *v, struct buf *out) MUST_CHECK;

/* Canonical order of two map keys: length first, then bytes. */
int dagcbor_key_cmp(struct bytes a, struct bytes b);

/* Low-level writers. The caller writes map keys in dagcbor_key_cmp order. */
enum err dagcbor_put_uint(struct buf *out, uint64_t v) MUST_CHECK;
enum err dagcbor_put_int(struct buf *out, int64_t v) MUST_CHECK;
enum err dagcbor_put_text(struct buf *out, struct bytes s) MUST_CHECK;
enum err dagcbor_put_cstr(struct buf *out, const char *s) MUST_CHECK;
enum err dagcbor_put_bytes(struct buf *out, struct bytes b) MUST_CHECK;
enum err dagcbor_put_link(struct buf *out, const struct cid *c) MUST_CHECK;
enum err dagcbor_put_null(struct buf *out) MUST_CHECK;
enum err dagcbor_put_bool(struct buf *out, bool v) MUST_CHECK;
enum err dagcbor_put_array(struct buf *out, size_t len) MUST_CHECK; /* header only */
enum err dagcbor_put_map(struct buf *out, size_t len) MUST_CHECK;   /* header only */

/* Reads the first complete value at *in, advancing past it (firehose frames hold two). */
enum err dagcbor_decode_prefix(struct bytes *in, struct arena *a, struct dm_value **out) MUST_CHECK;

#endif
