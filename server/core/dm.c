/* dm.c - data-model value constructors and lookups. */
#include "core/dm.h"

static struct dm_value *dm_new(struct arena *a, enum dm_kind kind)
{
    struct dm_value *v = arena_zalloc(a, sizeof(*v));
    v->kind = kind;
    return v;
}

struct dm_value *dm_null(struct arena *a)
{
    return dm_new(a, DM_NULL);
}

struct dm_value *dm_bool(struct arena *a, bool b)
{
    struct dm_value *v = dm_new(a, DM_BOOL);
    v->u.boolean = b;
    return v;
}

struct dm_value *dm_int(struct arena *a, int64_t i)
{
    struct dm_value *v = dm_new(a, DM_INT);
    v->u.integer = i;
    return v;
}

struct dm_value *dm_string(struct arena *a, struct bytes s)
{
    struct dm_value *v = dm_new(a, DM_STRING);
    v->u.str = s;
    return v;
}

struct dm_value *dm_string_copy(struct arena *a, struct bytes s)
{
    return dm_string(a, bytes_of(arena_memdup(a, s.ptr, s.len), s.len));
}

struct dm_value *dm_cstr(struct arena *a, const char *s)
{
    return dm_string_copy(a, bytes_str(s));
}

struct dm_value *dm_bytes(struct arena *a, struct bytes b)
{
    struct dm_value *v = dm_new(a, DM_BYTES);
    v->u.str = b;
    return v;
}

struct dm_value *dm_link(struct arena *a, const struct cid *c)
{
    struct dm_value *v = dm_new(a, DM_LINK);
    v->u.link = *c;
    return v;
}

struct dm_value *dm_array(struct arena *a)
{
    return dm_new(a, DM_ARRAY);
}

struct dm_value *dm_map(struct arena *a)
{
    return dm_new(a, DM_MAP);
}

void dm_array_push(struct arena *a, struct dm_value *arr, struct dm_value *item)
{
    if (arr->u.array.len == arr->u.array.cap) {
        size_t cap = arr->u.array.cap ? arr->u.array.cap * 2 : 4;
        struct dm_value **items = arena_alloc(a, cap * sizeof(*items));
        if (arr->u.array.len) {
            memcpy(items, arr->u.array.items, arr->u.array.len * sizeof(*items));
        }
        arr->u.array.items = items;
        arr->u.array.cap = cap;
    }
    arr->u.array.items[arr->u.array.len++] = item;
}

void dm_map_put_key(struct arena *a, struct dm_value *map, struct bytes key, struct dm_value *value)
{
    if (map->u.map.len == map->u.map.cap) {
        size_t cap = map->u.map.cap ? map->u.map.cap * 2 : 4;
        struct dm_entry *entries = arena_alloc(a, cap * sizeof(*entries));
        if (map->u.map.len) {
            memcpy(entries, map->u.map.entries, map->u.map.len * sizeof(*entries));
        }
        map->u.map.entries = entries;
        map->u.map.cap = cap;
    }
    map->u.map.entries[map->u.map.len].key = key;
    map->u.map.entries[map->u.map.len].value = value;
    map->u.map.len++;
}

void dm_map_put(struct arena *a, struct dm_value *map, const char *key, struct dm_value *value)
{
    dm_map_put_key(a, map, bytes_str(key), value);
}

struct dm_value *dm_map_getb(const struct dm_value *m, struct bytes key)
{
    if (!m || m->kind != DM_MAP) {
        return NULL;
    }
    for (size_t i = 0; i < m->u.map.len; i++) {
        if (bytes_eq(m->u.map.entries[i].key, key)) {
            return m->u.map.entries[i].value;
        }
    }
    return NULL;
}

struct dm_value *dm_map_get(const struct dm_value *m, const char *key)
{
    return dm_map_getb(m, bytes_str(key));
}

struct bytes dm_map_str(const struct dm_value *m, const char *key)
{
    struct dm_value *v = dm_map_get(m, key);
    if (!v || v->kind != DM_STRING) {
        return (struct bytes){NULL, 0};
    }
    return v->u.str;
}

bool dm_equal(const struct dm_value *a, const struct dm_value *b)
{
    if (a->kind != b->kind) {
        return false;
    }
    switch (a->kind) {
    case DM_NULL:
        return true;
    case DM_BOOL:
        return a->u.boolean == b->u.boolean;
    case DM_INT:
        return a->u.integer == b->u.integer;
    case DM_STRING:
    case DM_BYTES:
        return bytes_eq(a->u.str, b->u.str);
    case DM_LINK:
        return cid_equal(&a->u.link, &b->u.link);
    case DM_ARRAY:
        if (a->u.array.len != b->u.array.len) {
            return false;
        }
        for (size_t i = 0; i < a->u.array.len; i++) {
            if (!dm_equal(a->u.array.items[i], b->u.array.items[i])) {
                return false;
            }
        }
        return true;
    case DM_MAP:
        if (a->u.map.len != b->u.map.len) {
            return false;
        }
        for (size_t i = 0; i < a->u.map.len; i++) {
            struct dm_value *o = dm_map_getb(b, a->u.map.entries[i].key);
            if (!o || !dm_equal(a->u.map.entries[i].value, o)) {
                return false;
            }
        }
        return true;
    }
    return false;
}
