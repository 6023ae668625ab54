/* dagcbor.c - strict DAG-CBOR decoding and canonical encoding.
 * libcbor is not used here: its decoder accepts non-canonical input (long integer forms,
 * unsorted maps) that DAG-CBOR must refuse, so checking after it would mean re-reading
 * every header; a direct reader enforces each rule where the byte is seen. */
#include "core/dagcbor.h"

#include "core/utf8.h"

#include <stdlib.h>

enum {
    MT_UINT = 0,
    MT_NINT = 1,
    MT_BYTES = 2,
    MT_TEXT = 3,
    MT_ARRAY = 4,
    MT_MAP = 5,
    MT_TAG = 6,
    MT_SIMPLE = 7,
};

#define SIMPLE_FALSE 20
#define SIMPLE_TRUE  21
#define SIMPLE_NULL  22

#define DAGCBOR_PREALLOC_ITEMS 256 /* slots reserved up front; more grow by doubling */

int dagcbor_key_cmp(struct bytes a, struct bytes b)
{
    if (a.len != b.len) {
        return a.len < b.len ? -1 : 1;
    }
    return a.len ? memcmp(a.ptr, b.ptr, a.len) : 0;
}

/* ---- decoding ---- */

struct reader {
    const uint8_t *p, *end;
    struct arena *a;
};

/* Reads a head; *info_out is the argument. Enforces the shortest form. */
static enum err read_head(struct reader *r, int *major, uint64_t *arg)
{
    if (r->p >= r->end) {
        return ERR_TRUNCATED;
    }
    uint8_t ib = *r->p++;
    *major = ib >> 5;
    uint8_t info = ib & 0x1f;
    if (info < 24) {
        *arg = info;
        return ERR_OK;
    }
    if (info > 27) {
        return ERR_INVALID; /* 28-30 reserved, 31 indefinite length / break */
    }
    size_t n = (size_t)1 << (info - 24);
    if ((size_t)(r->end - r->p) < n) {
        return ERR_TRUNCATED;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | r->p[i];
    }
    r->p += n;
    if (*major == MT_SIMPLE) {
        /* floats (25-27) and two-byte simple values are not in the data model */
        return ERR_INVALID;
    }
    /* spec(data-model): integers and lengths use the shortest form */
    static const uint64_t mins[] = {24, 0x100, 0x10000, 0x100000000ull};
    if (v < mins[info - 24]) {
        return ERR_INVALID;
    }
    *arg = v;
    return ERR_OK;
}

static enum err read_value(struct reader *r, int depth, struct dm_value **out);

static enum err read_span(struct reader *r, uint64_t len, struct bytes *out)
{
    if ((uint64_t)(r->end - r->p) < len) {
        return ERR_TRUNCATED;
    }
    out->ptr = r->p;
    out->len = (size_t)len;
    r->p += len;
    return ERR_OK;
}

static enum err read_link(struct reader *r, struct dm_value **out)
{
    int major;
    uint64_t len;
    enum err e = read_head(r, &major, &len);
    if (e) {
        return e;
    }
    if (major != MT_BYTES) {
        return ERR_INVALID;
    }
    struct bytes raw;
    if ((e = read_span(r, len, &raw))) {
        return e;
    }
    /* spec(data-model): tag 42 wraps 0x00 (identity multibase) + binary CID */
    if (raw.len < 2 || raw.ptr[0] != 0x00) {
        return ERR_INVALID;
    }
    struct cid c;
    if (cid_from_bytes(bytes_of(raw.ptr + 1, raw.len - 1), &c)) {
        return ERR_INVALID;
    }
    *out = dm_link(r->a, &c);
    return ERR_OK;
}

static enum err read_value(struct reader *r, int depth, struct dm_value **out)
{
    if (depth > DAGCBOR_MAX_DEPTH) {
        return ERR_TOO_LARGE;
    }
    int major;
    uint64_t arg;
    enum err e = read_head(r, &major, &arg);
    if (e) {
        return e;
    }
    struct bytes s;
    switch (major) {
    case MT_UINT:
        if (arg > INT64_MAX) {
            return ERR_INVALID;
        }
        *out = dm_int(r->a, (int64_t)arg);
        return ERR_OK;
    case MT_NINT:
        if (arg > INT64_MAX) {
            return ERR_INVALID;
        }
        *out = dm_int(r->a, -1 - (int64_t)arg);
        return ERR_OK;
    case MT_BYTES:
        if ((e = read_span(r, arg, &s))) {
            return e;
        }
        *out = dm_bytes(r->a, s);
        return ERR_OK;
    case MT_TEXT:
        if ((e = read_span(r, arg, &s))) {
            return e;
        }
        if (!utf8_valid(s)) {
            return ERR_INVALID;
        }
        *out = dm_string(r->a, s);
        return ERR_OK;
    case MT_ARRAY: {
        if (arg > DAGCBOR_MAX_ITEMS) {
            return ERR_TOO_LARGE;
        }
        if (arg > (uint64_t)(r->end - r->p)) {
            return ERR_TRUNCATED; /* each item takes at least one byte */
        }
        struct dm_value *arr = dm_array(r->a);
        /* reserve only what the header may claim cheaply: nested headers each claiming
         * the rest of the input would otherwise reserve depth x input size */
        arr->u.array.cap = arg < DAGCBOR_PREALLOC_ITEMS ? (size_t)arg : DAGCBOR_PREALLOC_ITEMS;
        arr->u.array.items = arena_alloc(r->a, arr->u.array.cap * sizeof(struct dm_value *));
        for (uint64_t i = 0; i < arg; i++) {
            struct dm_value *item;
            if ((e = read_value(r, depth + 1, &item))) {
                return e;
            }
            dm_array_push(r->a, arr, item);
        }
        *out = arr;
        return ERR_OK;
    }
    case MT_MAP: {
        if (arg > DAGCBOR_MAX_ITEMS) {
            return ERR_TOO_LARGE;
        }
        if (arg > (uint64_t)(r->end - r->p) / 2) {
            return ERR_TRUNCATED;
        }
        struct dm_value *map = dm_map(r->a);
        map->u.map.cap = arg < DAGCBOR_PREALLOC_ITEMS ? (size_t)arg : DAGCBOR_PREALLOC_ITEMS;
        map->u.map.entries = arena_alloc(r->a, map->u.map.cap * sizeof(struct dm_entry));
        for (uint64_t i = 0; i < arg; i++) {
            int kmajor;
            uint64_t klen;
            if ((e = read_head(r, &kmajor, &klen))) {
                return e;
            }
            if (kmajor != MT_TEXT) {
                return ERR_INVALID; /* spec(data-model): map keys are strings */
            }
            struct bytes key;
            if ((e = read_span(r, klen, &key))) {
                return e;
            }
            if (!utf8_valid(key)) {
                return ERR_INVALID;
            }
            /* spec(data-model): keys sorted length-first then bytewise, no duplicates */
            if (i > 0 && dagcbor_key_cmp(map->u.map.entries[i - 1].key, key) >= 0) {
                return ERR_INVALID;
            }
            struct dm_value *value;
            if ((e = read_value(r, depth + 1, &value))) {
                return e;
            }
            dm_map_put_key(r->a, map, key, value);
        }
        *out = map;
        return ERR_OK;
    }
    case MT_TAG:
        if (arg != DAGCBOR_TAG_CID) {
            return ERR_INVALID; /* spec(data-model): tag 42 is the only tag */
        }
        return read_link(r, out);
    case MT_SIMPLE:
        switch (arg) {
        case SIMPLE_FALSE:
            *out = dm_bool(r->a, false);
            return ERR_OK;
        case SIMPLE_TRUE:
            *out = dm_bool(r->a, true);
            return ERR_OK;
        case SIMPLE_NULL:
            *out = dm_null(r->a);
            return ERR_OK;
        default:
            return ERR_INVALID; /* undefined (23) and unassigned simple values */
        }
    }
    return ERR_INVALID;
}

enum err dagcbor_decode_prefix(struct bytes *in, struct arena *a, struct dm_value **out)
{
    struct reader r = {in->ptr, in->ptr + in->len, a};
    enum err e = read_value(&r, 0, out);
    if (e) {
        return e;
    }
    size_t used = (size_t)(r.p - in->ptr);
    in->ptr += used;
    in->len -= used;
    return ERR_OK;
}

enum err dagcbor_decode(struct bytes in, struct arena *a, struct dm_value **out)
{
    enum err e = dagcbor_decode_prefix(&in, a, out);
    if (e) {
        return e;
    }
    return in.len == 0 ? ERR_OK : ERR_INVALID;
}

/* ---- encoding ---- */

static enum err put_head(struct buf *out, int major, uint64_t v)
{
    uint8_t h[9];
    size_t n;
    uint8_t mt = (uint8_t)(major << 5);
    if (v < 24) {
        h[0] = mt | (uint8_t)v;
        n = 1;
    } else if (v <= 0xff) {
        h[0] = mt | 24;
        h[1] = (uint8_t)v;
        n = 2;
    } else if (v <= 0xffff) {
        h[0] = mt | 25;
        h[1] = (uint8_t)(v >> 8);
        h[2] = (uint8_t)v;
        n = 3;
    } else if (v <= 0xffffffffull) {
        h[0] = mt | 26;
        for (int i = 0; i < 4; i++) {
            h[1 + i] = (uint8_t)(v >> (24 - 8 * i));
        }
        n = 5;
    } else {
        h[0] = mt | 27;
        for (int i = 0; i < 8; i++) {
            h[1 + i] = (uint8_t)(v >> (56 - 8 * i));
        }
        n = 9;
    }
    return buf_append(out, h, n);
}

enum err dagcbor_put_uint(struct buf *out, uint64_t v)
{
    return put_head(out, MT_UINT, v);
}

enum err dagcbor_put_int(struct buf *out, int64_t v)
{
    if (v >= 0) {
        return put_head(out, MT_UINT, (uint64_t)v);
    }
    return put_head(out, MT_NINT, (uint64_t)(-1 - v));
}

enum err dagcbor_put_text(struct buf *out, struct bytes s)
{
    enum err e = put_head(out, MT_TEXT, s.len);
    return e ? e : buf_append(out, s.ptr, s.len);
}

enum err dagcbor_put_cstr(struct buf *out, const char *s)
{
    return dagcbor_put_text(out, bytes_str(s));
}

enum err dagcbor_put_bytes(struct buf *out, struct bytes b)
{
    enum err e = put_head(out, MT_BYTES, b.len);
    return e ? e : buf_append(out, b.ptr, b.len);
}

enum err dagcbor_put_link(struct buf *out, const struct cid *c)
{
    enum err e;
    if ((e = put_head(out, MT_TAG, DAGCBOR_TAG_CID)) ||
        (e = put_head(out, MT_BYTES, (uint64_t)c->len + 1)) || (e = buf_append_byte(out, 0))) {
        return e;
    }
    return buf_append(out, c->bytes, c->len);
}

enum err dagcbor_put_null(struct buf *out)
{
    return buf_append_byte(out, (MT_SIMPLE << 5) | SIMPLE_NULL);
}

enum err dagcbor_put_bool(struct buf *out, bool v)
{
    return buf_append_byte(out, (uint8_t)((MT_SIMPLE << 5) | (v ? SIMPLE_TRUE : SIMPLE_FALSE)));
}

enum err dagcbor_put_array(struct buf *out, size_t len)
{
    return put_head(out, MT_ARRAY, len);
}

enum err dagcbor_put_map(struct buf *out, size_t len)
{
    return put_head(out, MT_MAP, len);
}

static int entry_cmp(const void *a, const void *b)
{
    const struct dm_entry *x = *(const struct dm_entry *const *)a;
    const struct dm_entry *y = *(const struct dm_entry *const *)b;
    return dagcbor_key_cmp(x->key, y->key);
}

static enum err encode_value(const struct dm_value *v, int depth, struct buf *out);

static enum err encode_map(const struct dm_value *v, int depth, struct buf *out)
{
    size_t n = v->u.map.len;
    enum err e = put_head(out, MT_MAP, n);
    if (e || n == 0) {
        return e;
    }
    /* sort pointers, not the caller's entries: encoding must not mutate its input */
    const struct dm_entry *small[16];
    const struct dm_entry **order = n <= ARRAY_LEN(small) ? small : xmalloc(n * sizeof(*order));
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        order[i] = &v->u.map.entries[i];
        if (i > 0 && dagcbor_key_cmp(order[i - 1]->key, order[i]->key) >= 0) {
            sorted = false;
        }
    }
    if (!sorted) {
        qsort(order, n, sizeof(*order), entry_cmp);
    }
    for (size_t i = 0; i < n && !e; i++) {
        if (i > 0 && dagcbor_key_cmp(order[i - 1]->key, order[i]->key) == 0) {
            e = ERR_INVALID; /* duplicate key */
            break;
        }
        if (!utf8_valid(order[i]->key)) {
            e = ERR_INVALID;
            break;
        }
        if ((e = dagcbor_put_text(out, order[i]->key))) {
            break;
        }
        e = encode_value(order[i]->value, depth + 1, out);
    }
    if (order != small) {
        free(order);
    }
    return e;
}

static enum err encode_value(const struct dm_value *v, int depth, struct buf *out)
{
    if (depth > DAGCBOR_MAX_DEPTH) {
        return ERR_TOO_LARGE;
    }
    switch (v->kind) {
    case DM_NULL:
        return dagcbor_put_null(out);
    case DM_BOOL:
        return dagcbor_put_bool(out, v->u.boolean);
    case DM_INT:
        return dagcbor_put_int(out, v->u.integer);
    case DM_STRING:
        if (!utf8_valid(v->u.str)) {
            return ERR_INVALID;
        }
        return dagcbor_put_text(out, v->u.str);
    case DM_BYTES:
        return dagcbor_put_bytes(out, v->u.str);
    case DM_LINK:
        return dagcbor_put_link(out, &v->u.link);
    case DM_ARRAY: {
        enum err e = put_head(out, MT_ARRAY, v->u.array.len);
        for (size_t i = 0; i < v->u.array.len && !e; i++) {
            e = encode_value(v->u.array.items[i], depth + 1, out);
        }
        return e;
    }
    case DM_MAP:
        return encode_map(v, depth, out);
    }
    return ERR_INVALID;
}

enum err dagcbor_encode(const struct dm_value *v, struct buf *out)
{
    return encode_value(v, 0, out);
}
