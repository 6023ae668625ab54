/* ipldjson.c - atproto JSON <-> data model, strict as the data-model interop vectors ask
 * (the reference's lenient mode, which keeps malformed $link/$bytes objects as maps, is not
 * offered: a PDS writes what it accepts, so it accepts only what it could write). */
#include "core/ipldjson.h"

#include "core/base.h"
#include "core/utf8.h"

#define KEY_LINK  "$link"
#define KEY_BYTES "$bytes"
#define KEY_TYPE  "$type"
#define TYPE_BLOB "blob"

static enum err from_json(const json_t *j, int depth, struct arena *a, struct dm_value **out);

static struct bytes bytes_lit_of(const char *s, size_t n)
{
    return (struct bytes){(const uint8_t *)s, n};
}

/* {"$link":"<cid>"}: the caller saw the key; it must be the only one. */
static enum err link_from_json(const json_t *obj, struct arena *a, struct dm_value **out)
{
    const json_t *s = json_object_get(obj, KEY_LINK);
    if (json_object_size(obj) != 1 || !json_is_string(s)) {
        return ERR_INVALID;
    }
    struct cid c;
    if (cid_parse(bytes_lit_of(json_string_value(s), json_string_length(s)), &c)) {
        return ERR_INVALID;
    }
    *out = dm_link(a, &c);
    return ERR_OK;
}

/* {"$bytes":"<base64>"}: standard alphabet, padding optional, loose trailing bits. */
static enum err bytes_from_json(const json_t *obj, struct arena *a, struct dm_value **out)
{
    const json_t *s = json_object_get(obj, KEY_BYTES);
    if (json_object_size(obj) != 1 || !json_is_string(s)) {
        return ERR_INVALID;
    }
    size_t n = json_string_length(s);
    struct buf raw;
    buf_init(&raw, n / 4 * 3 + 3);
    enum err e = base64_decode(bytes_lit_of(json_string_value(s), n), &raw);
    if (!e) {
        *out = dm_bytes(a, bytes_of(arena_memdup(a, raw.ptr, raw.len), raw.len));
    } else {
        e = ERR_INVALID;
    }
    buf_clear(&raw);
    return e;
}

/* spec(data-model): a blob is {"$type":"blob","ref":link,"mimeType":string,"size":int} */
static bool blob_valid(const struct dm_value *m)
{
    const struct dm_value *ref = dm_map_get(m, "ref");
    const struct dm_value *mime = dm_map_get(m, "mimeType");
    const struct dm_value *size = dm_map_get(m, "size");
    return ref && ref->kind == DM_LINK && mime && mime->kind == DM_STRING && mime->u.str.len > 0 &&
           size && size->kind == DM_INT && size->u.integer >= 0;
}

static enum err map_from_json(const json_t *obj, int depth, struct arena *a, struct dm_value **out)
{
    size_t n = json_object_size(obj);
    if (n > IPLDJSON_MAX_ITEMS) {
        return ERR_TOO_LARGE;
    }
    if (json_object_get(obj, KEY_LINK)) {
        return link_from_json(obj, a, out);
    }
    if (json_object_get(obj, KEY_BYTES)) {
        return bytes_from_json(obj, a, out);
    }
    const json_t *type = json_object_get(obj, KEY_TYPE);
    if (type && (!json_is_string(type) || json_string_length(type) == 0)) {
        return ERR_INVALID; /* spec(data-model): $type, when present, is a non-empty string */
    }
    struct dm_value *map = dm_map(a);
    map->u.map.entries = arena_alloc(a, (n ? n : 1) * sizeof(struct dm_entry));
    map->u.map.cap = n;
    const char *key;
    size_t key_len;
    json_t *val;
    /* jansson's iteration macros take a non-const object; nothing here writes to it */
    json_t *o = (json_t *)obj;
    json_object_keylen_foreach(o, key, key_len, val)
    {
        struct bytes k = bytes_lit_of(key, key_len);
        if (!utf8_valid(k)) {
            return ERR_INVALID; /* a json_t built with the _nocheck setters */
        }
        struct dm_value *v;
        enum err e = from_json(val, depth + 1, a, &v);
        if (e) {
            return e;
        }
        dm_map_put_key(a, map, bytes_of(arena_memdup(a, key, key_len), key_len), v);
    }
    if (type && json_string_length(type) == strlen(TYPE_BLOB) &&
        memcmp(json_string_value(type), TYPE_BLOB, strlen(TYPE_BLOB)) == 0 && !blob_valid(map)) {
        return ERR_INVALID;
    }
    *out = map;
    return ERR_OK;
}

/* spec(data-model): no floats; a JSON number with an integral value (123.0) is an integer */
static enum err number_from_json(const json_t *j, struct arena *a, struct dm_value **out)
{
    int64_t i;
    if (json_is_integer(j)) {
        i = (int64_t)json_integer_value(j);
    } else {
        double d = json_real_value(j);
        /* the comparisons are false for NaN, so it is refused here too */
        if (!(d >= -(double)IPLDJSON_INT_MAX && d <= (double)IPLDJSON_INT_MAX)) {
            return ERR_INVALID;
        }
        i = (int64_t)d;
        if ((double)i != d) {
            return ERR_INVALID; /* a real fraction */
        }
    }
    if (i > IPLDJSON_INT_MAX || i < -IPLDJSON_INT_MAX) {
        return ERR_INVALID;
    }
    *out = dm_int(a, i);
    return ERR_OK;
}

static enum err from_json(const json_t *j, int depth, struct arena *a, struct dm_value **out)
{
    if (depth > IPLDJSON_MAX_DEPTH) {
        return ERR_TOO_LARGE;
    }
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return map_from_json(j, depth, a, out);
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        if (n > IPLDJSON_MAX_ITEMS) {
            return ERR_TOO_LARGE;
        }
        struct dm_value *arr = dm_array(a);
        arr->u.array.items = arena_alloc(a, (n ? n : 1) * sizeof(struct dm_value *));
        arr->u.array.cap = n;
        for (size_t i = 0; i < n; i++) {
            enum err e = from_json(json_array_get(j, i), depth + 1, a, &arr->u.array.items[i]);
            if (e) {
                return e;
            }
            arr->u.array.len++;
        }
        *out = arr;
        return ERR_OK;
    }
    case JSON_STRING: {
        struct bytes s = bytes_lit_of(json_string_value(j), json_string_length(j));
        if (!utf8_valid(s)) {
            return ERR_INVALID;
        }
        *out = dm_string_copy(a, s);
        return ERR_OK;
    }
    case JSON_INTEGER:
    case JSON_REAL:
        return number_from_json(j, a, out);
    case JSON_TRUE:
        *out = dm_bool(a, true);
        return ERR_OK;
    case JSON_FALSE:
        *out = dm_bool(a, false);
        return ERR_OK;
    case JSON_NULL:
        *out = dm_null(a);
        return ERR_OK;
    }
    return ERR_INVALID;
}

enum err ipldjson_from_json(const json_t *j, struct arena *a, struct dm_value **out)
{
    if (!j) {
        return ERR_INVALID;
    }
    return from_json(j, 0, a, out);
}

enum err ipldjson_parse(struct bytes json, struct arena *a, struct dm_value **out)
{
    if (json.len > IPLDJSON_MAX_INPUT_BYTES) {
        return ERR_TOO_LARGE;
    }
    json_error_t jerr;
    /* jansson keeps the last of duplicate keys unless told to refuse them */
    json_t *j = json_loadb((const char *)(json.ptr ? json.ptr : (const uint8_t *)""), json.len,
                           JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (!j) {
        return ERR_INVALID;
    }
    struct dm_value *v = NULL;
    enum err e = json_is_object(j) ? from_json(j, 0, a, &v) : ERR_INVALID;
    json_decref(j);
    if (!e && v->kind != DM_MAP) {
        e = ERR_INVALID; /* a top-level {"$link"} or {"$bytes"} is not a record */
    }
    if (!e) {
        *out = v;
    }
    return e;
}

/* ---- data model to JSON ---- */

static json_t *to_json(const struct dm_value *v, int depth);

/* jansson refuses a NULL pointer even with length 0 */
static const char *text_ptr(struct bytes b)
{
    return b.len ? (const char *)b.ptr : "";
}

static json_t *wrap1(const char *key, json_t *val)
{
    if (!val) {
        return NULL;
    }
    json_t *o = json_object();
    if (json_object_set_new(o, key, val)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *bytes_to_json(struct bytes b)
{
    struct buf text;
    buf_init(&text, BUF_MAX_HUGE);
    json_t *s = NULL;
    /* the reference writes standard base64 without padding */
    if (!base64_encode(b, false, &text)) {
        s = json_stringn(text_ptr(buf_bytes(&text)), text.len);
    }
    buf_clear(&text);
    return wrap1(KEY_BYTES, s);
}

static json_t *map_to_json(const struct dm_value *v, int depth)
{
    json_t *o = json_object();
    for (size_t i = 0; i < v->u.map.len; i++) {
        struct bytes k = v->u.map.entries[i].key;
        json_t *val;
        /* json_object_setn_new checks UTF-8 itself; a duplicate would silently replace */
        if (json_object_getn(o, text_ptr(k), k.len) ||
            !(val = to_json(v->u.map.entries[i].value, depth + 1)) ||
            json_object_setn_new(o, text_ptr(k), k.len, val)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *to_json(const struct dm_value *v, int depth)
{
    if (depth > IPLDJSON_MAX_DEPTH) {
        return NULL;
    }
    switch (v->kind) {
    case DM_NULL:
        return json_null();
    case DM_BOOL:
        return json_boolean(v->u.boolean);
    case DM_INT:
        return json_integer((json_int_t)v->u.integer);
    case DM_STRING:
        return json_stringn(text_ptr(v->u.str), v->u.str.len); /* checks UTF-8 */
    case DM_BYTES:
        return bytes_to_json(v->u.str);
    case DM_LINK: {
        char s[CID_STR_MAX];
        size_t n = cid_format(&v->u.link, s);
        return wrap1(KEY_LINK, json_stringn(s, n));
    }
    case DM_ARRAY: {
        json_t *arr = json_array();
        for (size_t i = 0; i < v->u.array.len; i++) {
            json_t *item = to_json(v->u.array.items[i], depth + 1);
            if (!item || json_array_append_new(arr, item)) {
                json_decref(arr);
                return NULL;
            }
        }
        return arr;
    }
    case DM_MAP:
        return map_to_json(v, depth);
    }
    return NULL;
}

json_t *ipldjson_to_json(const struct dm_value *v)
{
    return v ? to_json(v, 0) : NULL;
}

enum err ipldjson_write(const struct dm_value *v, struct buf *out)
{
    json_t *j = ipldjson_to_json(v);
    if (!j) {
        return ERR_INVALID;
    }
    const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    size_t n = json_dumpb(j, NULL, 0, flags);
    enum err e = n ? buf_reserve(out, n) : ERR_INTERNAL;
    if (!e) {
        json_dumpb(j, (char *)out->ptr + out->len, n, flags);
        out->len += n;
        out->ptr[out->len] = 0;
    }
    json_decref(j);
    return e;
}
