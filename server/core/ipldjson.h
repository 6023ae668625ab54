/* ipldjson.h - atproto JSON <-> data-model values: {"$link"} links, {"$bytes"} bytes,
 * blob maps checked, no floats. Wraps jansson (its types appear here on purpose: converting
 * to and from json_t is this module's job). Pure; thread-safe; one thread per arena. */
#ifndef PDS_CORE_IPLDJSON_H
#define PDS_CORE_IPLDJSON_H

#include <jansson.h>

#include "core/dagcbor.h"
#include "core/dm.h"

#define IPLDJSON_MAX_INPUT_BYTES ((size_t)8 << 20) /* JSON text; records are far smaller */
#define IPLDJSON_MAX_DEPTH       DAGCBOR_MAX_DEPTH /* what parses must also encode */
#define IPLDJSON_MAX_ITEMS       DAGCBOR_MAX_ITEMS
/* JavaScript's Number.MAX_SAFE_INTEGER (2^53 - 1): the spec asks integers to stay in the
 * range every JSON reader holds exactly. */
#define IPLDJSON_INT_MAX ((int64_t)9007199254740991)

/* Parses JSON text strictly into a data-model value. The top level must be an object that
 * is a map (not a {"$link"} or {"$bytes"} object).
 * Refused with ERR_INVALID: bad JSON, duplicate keys, invalid UTF-8, fractions (123.0 is
 * the integer 123), integers beyond +-IPLDJSON_INT_MAX, a {"$link"} or {"$bytes"} object
 * with other keys or a bad value, a "$type" that is not a non-empty string, and a map with
 * "$type":"blob" lacking a link "ref", a non-empty string "mimeType" or an integer
 * "size" >= 0. Input over IPLDJSON_MAX_INPUT_BYTES, nesting over IPLDJSON_MAX_DEPTH or
 * containers over IPLDJSON_MAX_ITEMS is ERR_TOO_LARGE. Everything in *out is copied into a. */
enum err ipldjson_parse(struct bytes json, struct arena *a, struct dm_value **out) MUST_CHECK;

/* The same rules for a jansson value of any type (the caller keeps ownership of j). */
enum err ipldjson_from_json(const json_t *j, struct arena *a, struct dm_value **out) MUST_CHECK;

/* Converts v to a new jansson value (caller json_decref's it): links as {"$link":"b..."},
 * bytes as {"$bytes":...} in standard base64 without padding. NULL when v holds invalid
 * UTF-8, a duplicate map key, or nests past IPLDJSON_MAX_DEPTH. */
json_t *ipldjson_to_json(const struct dm_value *v);

/* Appends v as compact JSON text to out (members in map insertion order). ERR_INVALID for
 * what ipldjson_to_json refuses; ERR_TOO_LARGE past out's max. */
enum err ipldjson_write(const struct dm_value *v, struct buf *out) MUST_CHECK;

#endif
