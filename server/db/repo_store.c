/* repo_store.c - repositories in PostgreSQL. */
#include "db/repo_store.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "db/metrics.h"
#include "db/sequencer.h"

static const struct db_stmt apply_stmt = {
    "repo_apply",
    "SELECT pds_apply_commit($1, $2, $3, $4, $5, $6::bytea[], $7::bytea[], $8::text[],"
    " $9::text[], $10::bytea[], $11::bytea[], $12::bytea[], $13, $14, $15::bytea[], $16::text[])"};
static const struct db_stmt head_stmt = {
    "repo_head", "SELECT commit_cid, data_cid, rev FROM repo_root WHERE did = $1"};
static const struct db_stmt block_stmt = {
    "repo_block_get", "SELECT data FROM repo_block WHERE did = $1 AND cid = $2"};

static enum err source_get(void *ctx, const struct cid *cid, struct arena *a, struct bytes *out)
{
    struct repo_source *s = ctx;
    if (s->cache && blockcache_get(s->cache, cid, a, out)) {
        return ERR_OK;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, s->did);
    db_param_bytes(&p, cid_bytes(cid));
    PGresult *r;
    enum err e = db_query_stmt(s->db, &block_stmt, &p, &r);
    if (e) {
        return e;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ERR_NOT_FOUND;
    }
    struct bytes data = db_col_bytes(r, 0, 0);
    *out = bytes_of(arena_memdup(a, data.ptr, data.len), data.len);
    PQclear(r);
    if (s->cache) {
        blockcache_put(s->cache, cid, *out);
    }
    return ERR_OK;
}

struct blocksource repo_source(struct repo_source *s)
{
    return (struct blocksource){source_get, s};
}

enum err repo_store_head(struct db *db, const char *did, struct repo_head *out)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    enum err e = db_query_stmt(db, &head_stmt, &p, &r);
    if (e) {
        return e;
    }
    memset(out, 0, sizeof(*out));
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ERR_NOT_FOUND;
    }
    const char *rev = db_col_text(r, 0, 2);
    if (cid_from_bytes(db_col_bytes(r, 0, 0), &out->commit) ||
        cid_from_bytes(db_col_bytes(r, 0, 1), &out->data) || !rev || strlen(rev) != TID_STR_LEN) {
        PQclear(r);
        return ERR_INTERNAL; /* a corrupt root row: never guess */
    }
    memcpy(out->rev, rev, TID_STR_LEN + 1);
    out->exists = true;
    PQclear(r);
    return ERR_OK;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

enum err db_array_binary(struct buf *out, uint32_t elem_oid, const struct bytes *items, size_t n)
{
    uint8_t h[20];
    bool nulls = false;
    for (size_t i = 0; i < n; i++) {
        nulls = nulls || items[i].ptr == NULL;
    }
    /* ndim, has-null flag, element type; then (size, lower bound) per dimension */
    put_be32(h, n ? 1 : 0);
    put_be32(h + 4, nulls ? 1 : 0);
    put_be32(h + 8, elem_oid);
    put_be32(h + 12, (uint32_t)n);
    put_be32(h + 16, 1);
    enum err e = buf_append(out, h, n ? 20 : 12);
    for (size_t i = 0; i < n && !e; i++) {
        uint8_t len[4];
        if (items[i].len > INT32_MAX) {
            return ERR_TOO_LARGE;
        }
        put_be32(len, items[i].ptr ? (uint32_t)items[i].len : 0xffffffffu); /* -1: NULL */
        e = buf_append(out, len, 4);
        if (!e && items[i].ptr) {
            e = buf_append(out, items[i].ptr, items[i].len);
        }
    }
    return e;
}

static enum err cid_array(struct buf *out, const struct cid *cids, size_t n)
{
    struct bytes *items = xmalloc((n ? n : 1) * sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        items[i] = cid_bytes(&cids[i]);
    }
    enum err e = db_array_binary(out, DB_OID_BYTEA, items, n);
    free(items);
    return e;
}

/* (blob cid, record uri) pairs of the records this commit writes. */
static enum err blob_arrays(const struct repo_head *head, const struct repo_write *writes, size_t n,
                            struct buf *cids_out, struct buf *uris_out)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += writes[i].action == REPO_DELETE || writes[i].noop ? 0 : writes[i].nblobs;
    }
    struct bytes *cids = xmalloc((total + 1) * sizeof(*cids));
    struct bytes *uris = xmalloc((total + 1) * sizeof(*uris));
    struct buf text;
    buf_init(&text, BUF_MAX_HUGE);
    size_t k = 0;
    enum err e = ERR_OK;
    /* the uri strings go into one buffer first: it may move while it grows */
    size_t *offs = xmalloc((total + 1) * sizeof(*offs));
    for (size_t i = 0; i < n && !e; i++) {
        const struct repo_write *w = &writes[i];
        if (w->action == REPO_DELETE || w->noop) {
            continue;
        }
        for (size_t b = 0; b < w->nblobs && !e; b++) {
            offs[k] = text.len;
            e = buf_appendf(&text, "at://%.*s/%.*s/%.*s", (int)head->did.len,
                            (const char *)head->did.ptr, (int)w->collection.len,
                            (const char *)w->collection.ptr, (int)w->rkey.len,
                            (const char *)w->rkey.ptr);
            cids[k] = cid_bytes(&w->blobs[b]);
            uris[k].len = text.len - offs[k];
            k++;
        }
    }
    for (size_t i = 0; i < k; i++) {
        uris[i].ptr = text.ptr + offs[i];
    }
    if (!e) {
        e = db_array_binary(cids_out, DB_OID_BYTEA, cids, k);
    }
    if (!e) {
        e = db_array_binary(uris_out, DB_OID_TEXT, uris, k);
    }
    buf_clear(&text);
    free(offs);
    free(cids);
    free(uris);
    return e;
}

/* After a commit: the cache takes the new MST nodes, which are what the next write on this
 * repository reads first, and forgets the nodes the commit made garbage. Record values and
 * the commit block are left out: the write path never reads them back, and caching them
 * filled the cache with blocks nobody asked for (the nodes replaced by each write, too,
 * stayed until evicted). A block left out is read from the database when it is wanted. */
static void cache_commit(struct blockcache *cache, const struct repo_commit *c,
                         const struct repo_write *writes, size_t n)
{
    size_t nb = c->blocks.len;
    bool *skip = xcalloc(nb + 1, sizeof(*skip));
    const struct blockmap_entry *be = blockmap_get(&c->blocks, &c->commit);
    if (be) {
        skip[be - c->blocks.entries] = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (!writes[i].noop && writes[i].action != REPO_DELETE &&
            (be = blockmap_get(&c->blocks, &writes[i].cid))) {
            skip[be - c->blocks.entries] = true;
        }
    }
    for (size_t i = 0; i < nb; i++) {
        if (!skip[i]) {
            const struct blockmap_entry *b = &c->blocks.entries[i];
            blockcache_put(cache, &b->cid, bytes_of(b->data, b->len));
        }
    }
    free(skip);
    for (size_t i = 0; i < c->nremoved; i++) {
        blockcache_drop(cache, &c->removed[i]);
    }
}

enum err repo_store_apply(struct db *db, const struct repo_head *head, const struct repo_commit *c,
                          const struct repo_write *writes, size_t n, struct blockcache *cache,
                          bool *raced)
{
    enum { A_CIDS, A_DATA, A_COLL, A_RKEY, A_RCID, A_REMOVED, A_RREMOVED, A_COUNT };
    struct buf blob_cids, blob_uris;
    buf_init(&blob_cids, BUF_MAX_HUGE);
    buf_init(&blob_uris, BUF_MAX_HUGE);
    struct buf arr[A_COUNT];
    for (int i = 0; i < A_COUNT; i++) {
        buf_init(&arr[i], BUF_MAX_HUGE);
    }
    size_t nb = c->blocks.len, nw = 0;
    struct bytes *cids = xmalloc((nb + 1) * sizeof(*cids)),
                 *datas = xmalloc((nb + 1) * sizeof(*datas));
    for (size_t i = 0; i < nb; i++) {
        cids[i] = cid_bytes(&c->blocks.entries[i].cid);
        datas[i] = bytes_of(c->blocks.entries[i].data, c->blocks.entries[i].len);
    }
    struct bytes *coll = xmalloc((n + 1) * sizeof(*coll)), *rkey = xmalloc((n + 1) * sizeof(*rkey));
    struct bytes *rcid = xmalloc((n + 1) * sizeof(*rcid));
    for (size_t i = 0; i < n; i++) {
        if (writes[i].noop) {
            continue;
        }
        coll[nw] = writes[i].collection;
        rkey[nw] = writes[i].rkey;
        rcid[nw] =
            writes[i].action == REPO_DELETE ? (struct bytes){NULL, 0} : cid_bytes(&writes[i].cid);
        nw++;
    }
    enum err e;
    if ((e = db_array_binary(&arr[A_CIDS], DB_OID_BYTEA, cids, nb)) ||
        (e = db_array_binary(&arr[A_DATA], DB_OID_BYTEA, datas, nb)) ||
        (e = db_array_binary(&arr[A_COLL], DB_OID_TEXT, coll, nw)) ||
        (e = db_array_binary(&arr[A_RKEY], DB_OID_TEXT, rkey, nw)) ||
        (e = db_array_binary(&arr[A_RCID], DB_OID_BYTEA, rcid, nw)) ||
        (e = cid_array(&arr[A_REMOVED], c->removed, c->nremoved)) ||
        (e = cid_array(&arr[A_RREMOVED], c->removed_records, c->nremoved_records)) ||
        (e = blob_arrays(head, writes, n, &blob_cids, &blob_uris))) {
        goto out;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_textn(&p, (const char *)head->did.ptr, head->did.len);
    if (head->exists) {
        db_param_bytes(&p, cid_bytes(&head->commit));
    } else {
        db_param_text(&p, NULL); /* SQL NULL: the first commit */
    }
    db_param_bytes(&p, cid_bytes(&c->commit));
    db_param_bytes(&p, cid_bytes(&c->data));
    db_param_text(&p, c->rev);
    for (int i = 0; i < A_COUNT; i++) {
        db_param_bytes(&p, buf_bytes(&arr[i]));
    }
    db_param_text(&p, "commit");
    db_param_bytes(&p, buf_bytes(&c->event));
    db_param_bytes(&p, buf_bytes(&blob_cids));
    db_param_bytes(&p, buf_bytes(&blob_uris));
    PGresult *r;
    if ((e = db_query_stmt(db, &apply_stmt, &p, &r))) {
        goto out;
    }
    *raced = !(PQntuples(r) == 1 && db_col_bool(r, 0, 0));
    PQclear(r);
    if (!*raced && !db_in_tx(db)) {
        sequencer_wake(); /* one statement, one transaction: committed now */
    }
    if (!*raced) {
        static struct metrics_series *commits, *bytes;
        static _Atomic int ready; /* set after both: racing first calls find the same series */
        if (!ready) {
            bytes = metrics_counter("pds_repo_write_bytes_total",
                                    "Bytes of repository blocks written by commits");
            commits = metrics_counter("pds_repo_commits_total", "Repository commits written");
            ready = 1;
        }
        uint64_t sum = 0;
        for (size_t i = 0; i < nb; i++) {
            sum += datas[i].len;
        }
        metrics_inc(commits);
        metrics_add(bytes, sum);
    }
    if (!*raced && cache) {
        cache_commit(cache, c, writes, n);
    }
out:
    for (int i = 0; i < A_COUNT; i++) {
        buf_clear(&arr[i]);
    }
    buf_clear(&blob_cids);
    buf_clear(&blob_uris);
    free(cids);
    free(datas);
    free(coll);
    free(rkey);
    free(rcid);
    return e;
}
