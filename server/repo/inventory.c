/* inventory.c - counting and checking a repository export (inventory.h). The CAR is read
 * whole into a block map (every CID recomputed), then the commit, the tree and each record
 * are checked from the map alone: a migration trusts none of the old host's claims. */
#include "repo/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dagcbor.h"
#include "repo/blockmap.h"
#include "repo/car.h"
#include "repo/commit.h"
#include "repo/mst.h"

void inventory_init(struct inventory *inv)
{
    memset(inv, 0, sizeof *inv);
}

void inventory_clear(struct inventory *inv)
{
    free(inv->blobs);
    memset(inv, 0, sizeof *inv);
}

struct reader {
    struct inventory *inv;
    struct blockmap blocks;
    struct blockmap seen_blobs; /* the distinct blobs: CID -> index in inv->blobs */
    struct cid root;
    int nroots;
    struct arena tmp; /* one record's decoded value at a time */
    enum err walk_err;
};

static enum err on_header(void *ctx, const struct cid *roots, size_t n)
{
    struct reader *r = ctx;
    r->nroots = (int)n;
    if (n == 1) {
        r->root = roots[0];
    }
    return ERR_OK;
}

static enum err on_block(void *ctx, const struct cid *cid, struct bytes data)
{
    struct reader *r = ctx;
    blockmap_put(&r->blocks, cid, data);
    return ERR_OK;
}

static enum err add_blob(struct reader *r, const struct cid *cid, int64_t size)
{
    struct inventory *inv = r->inv;
    size = size < 0 ? 0 : size;
    const struct blockmap_entry *seen = blockmap_get(&r->seen_blobs, cid);
    if (seen) {
        /* the same blob again: a legacy ref states no size, a typed one does */
        size_t at;
        memcpy(&at, seen->data, sizeof at);
        if (size > inv->blobs[at].size) {
            inv->blob_bytes += size - inv->blobs[at].size;
            inv->blobs[at].size = size;
            inv->largest_blob = size > inv->largest_blob ? size : inv->largest_blob;
        }
        return ERR_OK;
    }
    if (inv->nblobs >= INVENTORY_BLOBS_MAX) {
        return ERR_TOO_LARGE;
    }
    size_t at = inv->nblobs;
    blockmap_put(&r->seen_blobs, cid, bytes_of(&at, sizeof at));
    if (inv->nblobs == inv->_cap) {
        inv->_cap = inv->_cap ? inv->_cap * 2 : 64;
        inv->blobs = xrealloc(inv->blobs, inv->_cap * sizeof *inv->blobs);
    }
    inv->blobs[inv->nblobs++] = (struct inventory_blob){*cid, size};
    inv->blob_bytes += size;
    if (size > inv->largest_blob) {
        inv->largest_blob = size;
    }
    return ERR_OK;
}

/* spec(data-model): a blob is {$type:"blob", ref:<link>, mimeType, size}; legacy refs are
 * {cid:<string>, mimeType} with no size. Anywhere in a record. */
static enum err collect_blobs(struct reader *r, const struct dm_value *v, int depth)
{
    if (depth > DAGCBOR_MAX_DEPTH) {
        return ERR_INVALID;
    }
    enum err e = ERR_OK;
    if (v->kind == DM_ARRAY) {
        for (size_t i = 0; !e && i < v->u.array.len; i++) {
            e = collect_blobs(r, v->u.array.items[i], depth + 1);
        }
        return e;
    }
    if (v->kind != DM_MAP) {
        return ERR_OK;
    }
    struct bytes type = dm_map_str(v, "$type");
    const struct dm_value *ref = dm_map_get(v, "ref");
    if (type.ptr && bytes_eq(type, BYTES_LIT("blob")) && ref && ref->kind == DM_LINK) {
        const struct dm_value *size = dm_map_get(v, "size");
        return add_blob(r, &ref->u.link, size && size->kind == DM_INT ? size->u.integer : 0);
    }
    struct bytes legacy = dm_map_str(v, "cid");
    if (legacy.ptr && dm_map_str(v, "mimeType").ptr && !type.ptr) {
        struct cid c;
        if (cid_parse(legacy, &c) == ERR_OK) {
            return add_blob(r, &c, 0);
        }
    }
    for (size_t i = 0; !e && i < v->u.map.len; i++) {
        e = collect_blobs(r, v->u.map.entries[i].value, depth + 1);
    }
    return e;
}

static bool on_leaf(void *ctx, struct bytes key, const struct cid *value)
{
    struct reader *r = ctx;
    const struct blockmap_entry *b = blockmap_get(&r->blocks, value);
    if (!b) {
        snprintf(r->inv->why, sizeof r->inv->why, "the record block of %.*s is missing",
                 (int)(key.len > 80 ? 80 : key.len), (const char *)key.ptr);
        r->walk_err = ERR_INVALID;
        return false;
    }
    struct dm_value *v;
    arena_reset(&r->tmp);
    if (dagcbor_decode(bytes_of(b->data, b->len), &r->tmp, &v) != ERR_OK) {
        snprintf(r->inv->why, sizeof r->inv->why, "the record %.*s is not valid DAG-CBOR",
                 (int)(key.len > 80 ? 80 : key.len), (const char *)key.ptr);
        r->walk_err = ERR_INVALID;
        return false;
    }
    enum err e = collect_blobs(r, v, 0);
    if (e) {
        snprintf(r->inv->why, sizeof r->inv->why, "the record %.*s has bad blob references",
                 (int)(key.len > 80 ? 80 : key.len), (const char *)key.ptr);
        r->walk_err = e;
        return false;
    }
    r->inv->records++;
    return true;
}

static enum err nop_node(void *ctx, const struct cid *cid, struct bytes block)
{
    return ERR_OK;
}

/* The commit at the root: shape, DID, signature. */
static enum err check_commit(struct reader *r, const char *did, const struct sigkey *key,
                             struct cid *data)
{
    struct inventory *inv = r->inv;
    const struct blockmap_entry *b = blockmap_get(&r->blocks, &r->root);
    struct commit c;
    if (!b || commit_decode(bytes_of(b->data, b->len), &r->tmp, &c) != ERR_OK) {
        snprintf(inv->why, sizeof inv->why, "the root is not a repository commit");
        return ERR_INVALID;
    }
    if (!bytes_eq(c.did, bytes_str(did))) {
        snprintf(inv->why, sizeof inv->why, "the commit is for another account");
        return ERR_INVALID;
    }
    if (key && !commit_verify(&c, key)) {
        snprintf(inv->why, sizeof inv->why,
                 "the commit's signature does not verify with the account's key");
        return ERR_INVALID;
    }
    inv->sig_valid = key != NULL;
    inv->commit = r->root;
    size_t n = c.rev.len < sizeof inv->rev - 1 ? c.rev.len : sizeof inv->rev - 1;
    memcpy(inv->rev, c.rev.ptr, n);
    inv->rev[n] = '\0';
    *data = c.data;
    return ERR_OK;
}

enum err inventory_read(struct inventory *inv, struct bytes car, const char *did,
                        const struct sigkey *key)
{
    inventory_clear(inv);
    struct reader r = {.inv = inv};
    blockmap_init(&r.blocks);
    blockmap_init(&r.seen_blobs);
    arena_init(&r.tmp);
    enum err e = car_read_all(car, CAR_VERIFY, on_header, on_block, &r);
    if (e == ERR_INVALID) {
        snprintf(inv->why, sizeof inv->why,
                 "the repository file is malformed or a block does not match its CID");
    } else if (e == ERR_TRUNCATED) {
        snprintf(inv->why, sizeof inv->why, "the repository file ends early");
    } else if (!e && r.nroots != 1) {
        snprintf(inv->why, sizeof inv->why, "the repository file has %d roots, not one", r.nroots);
        e = ERR_INVALID;
    }
    inv->blocks = r.blocks.len;
    inv->car_bytes = car.len;
    struct cid data;
    if (!e) {
        e = check_commit(&r, did, key, &data);
    }
    if (!e) {
        struct mst *m = mst_load(blockmap_source(&r.blocks), &data);
        m->verify = true; /* untrusted blocks */
        e = mst_walk_nodes(m, nop_node, NULL);
        if (!e) {
            e = mst_list(m, bytes_of(NULL, 0), 0, on_leaf, &r);
        }
        mst_free(m);
        if (!e && r.walk_err) {
            e = r.walk_err;
        } else if (e == ERR_MISSING || e == ERR_NOT_FOUND) {
            snprintf(inv->why, sizeof inv->why, "the repository tree is incomplete");
            e = ERR_INVALID;
        } else if (e) {
            snprintf(inv->why, sizeof inv->why, "the repository tree is malformed");
            e = ERR_INVALID;
        }
    }
    arena_clear(&r.tmp);
    blockmap_clear(&r.blocks);
    blockmap_clear(&r.seen_blobs);
    if (e) {
        char why[INVENTORY_WHY_MAX];
        memcpy(why, inv->why, sizeof why);
        inventory_clear(inv);
        memcpy(inv->why, why, sizeof why);
    }
    return e;
}
