/* dm.h - atproto data-model values (null, bool, integer, string, bytes, link, array, map),
 * the common form between DAG-CBOR and JSON. Values live in an arena and die with it.
 * Pure; one thread per arena. */
#ifndef PDS_CORE_DM_H
#define PDS_CORE_DM_H

#include "core/arena.h"
#include "core/bytes.h"
#include "core/cid.h"

enum dm_kind {
    DM_NULL,
    DM_BOOL,
    DM_INT,
    DM_STRING, /* UTF-8 (validated at the edge); may contain NUL */
    DM_BYTES,
    DM_LINK,
    DM_ARRAY,
    DM_MAP,
};

struct dm_value;

struct dm_entry {
    struct bytes key; /* a UTF-8 text key */
    struct dm_value *value;
};

struct dm_value {
    enum dm_kind kind;
    union {
        bool boolean;
        int64_t integer;
        struct bytes str; /* DM_STRING and DM_BYTES */
        struct cid link;  /* DM_LINK */
        struct {
            struct dm_value **items;
            size_t len, cap;
        } array;
        struct {
            struct dm_entry *entries; /* insertion order; encoders sort */
            size_t len, cap;
        } map;
    } u;
};

/* Constructors copy nothing unless they say so: views must outlive the arena's use. */
struct dm_value *dm_null(struct arena *a);
struct dm_value *dm_bool(struct arena *a, bool v);
struct dm_value *dm_int(struct arena *a, int64_t v);
struct dm_value *dm_string(struct arena *a, struct bytes s);      /* borrows s */
struct dm_value *dm_string_copy(struct arena *a, struct bytes s); /* copies s into a */
struct dm_value *dm_cstr(struct arena *a, const char *s);         /* copies */
struct dm_value *dm_bytes(struct arena *a, struct bytes b);       /* borrows b */
struct dm_value *dm_link(struct arena *a, const struct cid *c);
struct dm_value *dm_array(struct arena *a);
struct dm_value *dm_map(struct arena *a);

void dm_array_push(struct arena *a, struct dm_value *arr, struct dm_value *item);
/* Appends key -> value; callers must not add a key twice (dagcbor_encode refuses it). */
void dm_map_put(struct arena *a, struct dm_value *map, const char *key, struct dm_value *value);
void dm_map_put_key(struct arena *a, struct dm_value *map, struct bytes key,
                    struct dm_value *value);

/* Lookup by key; NULL when absent or when m is not a map. */
struct dm_value *dm_map_get(const struct dm_value *m, const char *key);
struct dm_value *dm_map_getb(const struct dm_value *m, struct bytes key);
/* The string at key, or a {NULL,0} view when absent or not a string. */
struct bytes dm_map_str(const struct dm_value *m, const char *key);

/* Deep equality of two values (maps compare as sets of entries). */
bool dm_equal(const struct dm_value *a, const struct dm_value *b);

#endif
