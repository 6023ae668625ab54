/* blobref.c - finding blob references in records. */
#include "core/blobref.h"

struct collector {
    struct arena *a;
    struct cid *cids;
    size_t n, cap;
};

static enum err add(struct collector *c, const struct cid *cid)
{
    for (size_t i = 0; i < c->n; i++) {
        if (cid_equal(&c->cids[i], cid)) {
            return ERR_OK;
        }
    }
    if (c->n == BLOBREF_MAX) {
        return ERR_TOO_LARGE;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct cid *grown = arena_alloc(c->a, cap * sizeof(*grown));
        if (c->n) {
            memcpy(grown, c->cids, c->n * sizeof(*grown));
        }
        c->cids = grown;
        c->cap = cap;
    }
    c->cids[c->n++] = *cid;
    return ERR_OK;
}

static enum err walk(struct collector *c, const struct dm_value *v, int depth)
{
    if (depth > 64) {
        return ERR_TOO_LARGE;
    }
    if (v->kind == DM_ARRAY) {
        for (size_t i = 0; i < v->u.array.len; i++) {
            enum err e = walk(c, v->u.array.items[i], depth + 1);
            if (e) {
                return e;
            }
        }
        return ERR_OK;
    }
    if (v->kind != DM_MAP) {
        return ERR_OK;
    }
    struct bytes type = dm_map_str(v, "$type");
    const struct dm_value *ref = dm_map_get(v, "ref");
    if (bytes_eq(type, BYTES_LIT("blob")) && ref && ref->kind == DM_LINK) {
        return add(c, &ref->u.link);
    }
    /* spec(data-model): legacy blobs {cid, mimeType} are read, never written */
    struct bytes legacy = dm_map_str(v, "cid");
    if (!type.ptr && legacy.ptr && dm_map_str(v, "mimeType").ptr && v->u.map.len == 2) {
        struct cid cid;
        if (cid_parse(legacy, &cid)) {
            return ERR_INVALID;
        }
        return add(c, &cid);
    }
    for (size_t i = 0; i < v->u.map.len; i++) {
        enum err e = walk(c, v->u.map.entries[i].value, depth + 1);
        if (e) {
            return e;
        }
    }
    return ERR_OK;
}

enum err blobref_collect(const struct dm_value *v, struct arena *a, struct cid **out, size_t *n)
{
    struct collector c = {a, NULL, 0, 0};
    enum err e = walk(&c, v, 0);
    *out = c.cids;
    *n = e ? 0 : c.n;
    return e;
}
