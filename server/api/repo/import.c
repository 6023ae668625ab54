/* import.c - com.atproto.repo.importRepo: replaces the caller's repository with the one
 * in the CAR body (account migration, digest §9).
 *
 * The body streams through the incremental CAR reader, which checks every block's CID, into
 * an in-memory block map capped at PDS_MAX_REPO_IMPORT_SIZE (or IMPORT_MEMORY_MAX_BYTES).
 * Then, before anything is written: the root must be a v3 commit for this account's DID
 * signed by its key (the #atproto key of its DID document, or the key this server holds for
 * it, which is what a migrating-in account has once its PLC update lands); every MST node
 * and record block must be present (in the CAR, or already stored here: an incremental CAR
 * exported with `since` is completed by our blocks), and every record must decode.
 * Only then one transaction swaps the repository: blocks the new tree does not reach are
 * deleted and the CAR's blocks inserted, the record index and record→blob links are
 * rebuilt, blob permanence and byte counters follow, repo_root points at the imported commit
 * (kept as signed, as the reference does), and one #sync event goes to the outbox. A corrupt
 * or truncated CAR therefore changes nothing, and importing the same CAR again is
 * harmless. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "api/repo/repo.h"
#include "api/common/app.h"
#include "api/common/auth.h"
#include "api/repo/blob.h"
#include "core/blobref.h"
#include "core/dagcbor.h"
#include "db/repo_store.h"
#include "http/hostbudget.h"
#include "identity/resolver.h"
#include "config/config.h"
#include "repo/car.h"
#include "repo/commit.h"
#include "repo/events.h"
#include "repo/mst.h"

#define IMPORT_MEMORY_MAX_BYTES ((uint64_t)512 << 20) /* blocks held while checking a CAR */
#define IMPORT_CONCURRENT_MAX   2 /* imports holding CARs in memory at once, per process */
#define IMPORT_BATCH_ROWS       5000
#define IMPORT_BATCH_BYTES      ((size_t)16 << 20)
#define IMPORT_RETRIES          3     /* the repository moved while we checked (incremental CAR) */
#define IMPORT_BUDGET_WAIT_MS   10000 /* an import waits this long for its event's budget */

static atomic_int imports_running;

struct import_sink {
    const struct auth *auth;
    struct car_reader reader;
    struct blockmap blocks;
    uint64_t cap;
    struct cid root;
    bool has_root;
    bool counted; /* holds one of IMPORT_CONCURRENT_MAX */
    char why[160];
};

static void import_sink_free(void *p)
{
    struct import_sink *s = p;
    car_reader_clear(&s->reader);
    blockmap_clear(&s->blocks);
    if (s->counted) {
        atomic_fetch_sub(&imports_running, 1);
    }
}

static enum err on_header(void *ctx, const struct cid *roots, size_t n)
{
    struct import_sink *s = ctx;
    if (n != 1) {
        snprintf(s->why, sizeof s->why, "expected one root");
        return ERR_INVALID;
    }
    s->root = roots[0];
    s->has_root = true;
    return ERR_OK;
}

static enum err on_block(void *ctx, const struct cid *cid, struct bytes data)
{
    struct import_sink *s = ctx;
    if (s->blocks.bytes + data.len > s->cap) {
        return ERR_TOO_LARGE;
    }
    blockmap_put(&s->blocks, cid, data);
    return ERR_OK;
}

static int import_start(struct xrpc_req *rq, struct import_sink **out)
{
    if (!rq->db) {
        rq->db = db_thread(); /* body chunks arrive before the handler sets it */
    }
    struct import_sink *s = arena_zalloc(rq->arena, sizeof *s);
    int st = auth_access(rq, AUTH_FULL | AUTH_OAUTH | AUTH_CHECK_TAKEDOWN, &s->auth);
    if (st || (st = auth_permit_account(rq, s->auth, SCOPE_ACCOUNT_REPO, SCOPE_ACCOUNT_MANAGE))) {
        return st;
    }
    const struct config *cfg = rq->cfg;
    if (!cfg->accepting_repo_imports) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Service is not accepting repo imports");
    }
    s->cap = IMPORT_MEMORY_MAX_BYTES;
    if (cfg->max_repo_import_size > 0 && (uint64_t)cfg->max_repo_import_size < s->cap) {
        s->cap = (uint64_t)cfg->max_repo_import_size;
    }
    const char *cl = xrpc_header(rq, "content-length");
    if (cl && strtoull(cl, NULL, 10) > s->cap) {
        return xrpc_fail(rq, 413, "PayloadTooLarge", "request entity too large");
    }
    if (atomic_fetch_add(&imports_running, 1) >= IMPORT_CONCURRENT_MAX) {
        atomic_fetch_sub(&imports_running, 1);
        return xrpc_fail(rq, 503, "NotEnoughResources",
                         "Too many repository imports in progress; try again shortly");
    }
    s->counted = true;
    car_reader_init(&s->reader, CAR_VERIFY, on_header, on_block, s);
    blockmap_init(&s->blocks);
    arena_defer(rq->arena, import_sink_free, s);
    rq->body_sink = s;
    *out = s;
    return 0;
}

static int car_error(struct xrpc_req *rq, struct import_sink *s, enum err e)
{
    if (e == ERR_TOO_LARGE && s->blocks.bytes + CAR_SECTION_MAX_BYTES > s->cap) {
        return xrpc_fail(rq, 413, "PayloadTooLarge", "request entity too large");
    }
    if (e == ERR_TRUNCATED) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid CAR file: it ends early");
    }
    return xrpc_fail(rq, 400, "InvalidRequest", "Invalid CAR file: %s",
                     s->why[0]          ? s->why
                     : e == ERR_INVALID ? "a block does not match its CID, or bad framing"
                                        : err_str(e));
}

int api_repo_import_repo_body(struct xrpc_req *rq, const uint8_t *chunk, size_t len)
{
    struct import_sink *s = rq->body_sink;
    int st;
    if (!s && (st = import_start(rq, &s))) {
        return st;
    }
    enum err e = car_reader_feed(&s->reader, bytes_of(chunk, len));
    return e ? car_error(rq, s, e) : 0;
}

/* ---- checking the repository ---- */

/* Blocks from the CAR, else from the repository already stored (incremental CARs). */
struct overlay {
    const struct blockmap *car;
    struct blocksource store;
    bool used_store;
};

static enum err overlay_get(void *ctx, const struct cid *cid, struct arena *a, struct bytes *out)
{
    struct overlay *o = ctx;
    const struct blockmap_entry *en = blockmap_get(o->car, cid);
    if (en) {
        *out = bytes_of(en->data, en->len);
        return ERR_OK;
    }
    enum err e = o->store.get(o->store.ctx, cid, a, out);
    if (e == ERR_OK) {
        o->used_store = true;
    }
    return e;
}

struct record_ref {
    char *collection, *rkey; /* arena */
    struct cid cid;
};

/* What the walk found: every reachable block, the records, their blob links. */
struct walk {
    struct xrpc_req *rq;
    struct overlay *src;
    struct blockmap reach; /* CIDs only (empty data): the blocks the new repository keeps */
    struct record_ref *recs;
    size_t nrecs, cap_recs;
    struct cid *blob_cids;
    const char **blob_uris;
    size_t nblobs, cap_blobs;
    const char *did;
    bool bad_key;
    char why[256];
};

static enum err walk_node(void *ctx, const struct cid *cid, struct bytes block)
{
    struct walk *w = ctx;
    blockmap_put(&w->reach, cid, bytes_of(NULL, 0));
    return ERR_OK;
}

static bool walk_leaf(void *ctx, struct bytes key, const struct cid *value)
{
    struct walk *w = ctx;
    const uint8_t *slash = memchr(key.ptr, '/', key.len);
    if (!slash) {
        w->bad_key = true; /* mst_key_valid (verify) already refuses this */
        return false;
    }
    if (w->nrecs == w->cap_recs) {
        w->cap_recs = w->cap_recs ? 2 * w->cap_recs : 256;
        w->recs = xrealloc(w->recs, w->cap_recs * sizeof *w->recs);
    }
    struct record_ref *r = &w->recs[w->nrecs++];
    size_t cl = (size_t)(slash - key.ptr);
    r->collection = arena_strndup(w->rq->arena, (const char *)key.ptr, cl);
    r->rkey = arena_strndup(w->rq->arena, (const char *)slash + 1, key.len - cl - 1);
    r->cid = *value;
    return true;
}

static void add_blob(struct walk *w, const struct cid *cid, const char *uri)
{
    if (w->nblobs == w->cap_blobs) {
        w->cap_blobs = w->cap_blobs ? 2 * w->cap_blobs : 64;
        w->blob_cids = xrealloc(w->blob_cids, w->cap_blobs * sizeof *w->blob_cids);
        w->blob_uris = xrealloc(w->blob_uris, w->cap_blobs * sizeof *w->blob_uris);
    }
    w->blob_cids[w->nblobs] = *cid;
    w->blob_uris[w->nblobs] = uri;
    w->nblobs++;
}

/* Every record present and decodable; collects their blob links. */
static enum err check_records(struct walk *w)
{
    struct arena a;
    arena_init(&a);
    enum err e = ERR_OK;
    for (size_t i = 0; i < w->nrecs && !e; i++) {
        struct record_ref *r = &w->recs[i];
        struct bytes block;
        struct dm_value *v;
        struct cid *cids;
        size_t n;
        arena_reset(&a);
        e = overlay_get(w->src, &r->cid, &a, &block);
        if (e == ERR_NOT_FOUND) {
            snprintf(w->why, sizeof w->why, "missing record block for %s/%s", r->collection,
                     r->rkey);
            e = ERR_INVALID;
            break;
        }
        if (e) {
            break;
        }
        if (dagcbor_decode(block, &a, &v) || v->kind != DM_MAP ||
            blobref_collect(v, &a, &cids, &n)) {
            snprintf(w->why, sizeof w->why, "Could not parse record at '%s/%s'", r->collection,
                     r->rkey);
            e = ERR_INVALID;
            break;
        }
        blockmap_put(&w->reach, &r->cid, bytes_of(NULL, 0));
        size_t ul = strlen(w->did) + strlen(r->collection) + strlen(r->rkey) + 8;
        char *uri = arena_alloc(w->rq->arena, ul);
        snprintf(uri, ul, "at://%s/%s/%s", w->did, r->collection, r->rkey);
        for (size_t k = 0; k < n; k++) {
            add_blob(w, &cids[k], uri);
        }
    }
    arena_clear(&a);
    return e;
}

static void walk_clear(struct walk *w)
{
    blockmap_clear(&w->reach);
    free(w->recs);
    free(w->blob_cids);
    free(w->blob_uris);
}

/* Walks the tree under data. ERR_INVALID with w->why for a bad repository. */
static enum err walk_repo(struct walk *w, const struct cid *data)
{
    struct mst *m = mst_load((struct blocksource){overlay_get, w->src}, data);
    m->verify = true; /* untrusted blocks */
    enum err e = mst_walk_nodes(m, walk_node, w);
    if (!e) {
        e = mst_list(m, bytes_of(NULL, 0), 0, walk_leaf, w);
    }
    mst_free(m);
    if (!e && w->bad_key) {
        e = ERR_INVALID;
    }
    if (e == ERR_MISSING || e == ERR_NOT_FOUND) {
        snprintf(w->why, sizeof w->why, "the repository tree is incomplete (a node is missing)");
        return ERR_INVALID;
    }
    if (e == ERR_INVALID || e == ERR_TOO_LARGE) {
        snprintf(w->why, sizeof w->why, "the repository tree is malformed");
        return ERR_INVALID;
    }
    return e ? e : check_records(w);
}

/* The commit is signed by the account's key: ours, or its DID document's. */
static int check_signature(struct xrpc_req *rq, const char *did, const struct commit *c)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT signing_key FROM account WHERE did = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    struct sigkey key;
    if (PQntuples(r) && !db_col_null(r, 0, 0) &&
        app_unseal_signing_key(db_col_bytes(r, 0, 0), &key) == ERR_OK) {
        bool ok = commit_verify(c, &key);
        sigkey_clear(&key);
        if (ok) {
            return 0;
        }
    }
    for (int force = 0; force < 2; force++) { /* a key may have just rotated: refresh once */
        struct did_doc doc;
        if (resolver_resolve_atproto(app_get()->resolver, did, force, &doc) == ERR_OK) {
            bool ok = doc.has_signing_key && commit_verify(c, &doc.signing_key);
            did_doc_clear(&doc);
            if (ok) {
                return 0;
            }
        }
    }
    return xrpc_fail(rq, 400, "InvalidRequest",
                     "Invalid repository: the commit is not signed by the account's key");
}

/* ---- writing it ---- */

static enum err exec_arrays(struct db *db, const char *sql, const char *did,
                            struct buf *const *arrays, size_t n)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    for (size_t i = 0; i < n; i++) {
        db_param_bytes(&p, buf_bytes(arrays[i]));
    }
    return db_exec(db, sql, &p, NULL);
}

/* Inserts the CAR's blocks the new repository reaches, in batches. */
static enum err insert_blocks(struct db *db, const char *did, const char *rev,
                              const struct blockmap *car, const struct blockmap *reach)
{
    struct bytes *cids = xmalloc(IMPORT_BATCH_ROWS * sizeof *cids);
    struct bytes *datas = xmalloc(IMPORT_BATCH_ROWS * sizeof *datas);
    enum err e = ERR_OK;
    size_t i = 0;
    while (i < car->len && !e) {
        size_t n = 0, bytes = 0;
        for (; i < car->len && n < IMPORT_BATCH_ROWS && bytes < IMPORT_BATCH_BYTES; i++) {
            const struct blockmap_entry *en = &car->entries[i];
            if (!blockmap_has(reach, &en->cid)) {
                continue; /* in the CAR but not in the repository: dropped */
            }
            cids[n] = cid_bytes(&en->cid);
            datas[n] = bytes_of(en->data, en->len);
            bytes += en->len;
            n++;
        }
        struct buf a, b;
        buf_init(&a, BUF_MAX_HUGE);
        buf_init(&b, BUF_MAX_HUGE);
        e = db_array_binary(&a, DB_OID_BYTEA, cids, n);
        if (!e) {
            e = db_array_binary(&b, DB_OID_BYTEA, datas, n);
        }
        if (!e && n) {
            struct db_params p;
            db_params_init(&p);
            db_param_text(&p, did);
            db_param_text(&p, rev);
            db_param_bytes(&p, buf_bytes(&a));
            db_param_bytes(&p, buf_bytes(&b));
            e = db_exec(db,
                        "INSERT INTO repo_block (did, cid, rev, data)"
                        " SELECT $1, k.cid, $2, k.data FROM unnest($3::bytea[], $4::bytea[])"
                        " AS k (cid, data) ON CONFLICT (did, cid) DO NOTHING",
                        &p, NULL);
        }
        buf_clear(&a);
        buf_clear(&b);
    }
    free(cids);
    free(datas);
    return e;
}

/* Deletes the stored blocks the new repository does not reach. */
static enum err delete_unreached(struct db *db, const char *did, const struct blockmap *reach)
{
    struct bytes *cids = xmalloc((reach->len + 1) * sizeof *cids);
    for (size_t i = 0; i < reach->len; i++) {
        cids[i] = cid_bytes(&reach->entries[i].cid);
    }
    struct buf a;
    buf_init(&a, BUF_MAX_HUGE);
    enum err e = db_array_binary(&a, DB_OID_BYTEA, cids, reach->len);
    free(cids);
    struct buf *arrays[] = {&a};
    if (!e) {
        e = exec_arrays(db,
                        "DELETE FROM repo_block b WHERE b.did = $1 AND NOT EXISTS"
                        " (SELECT 1 FROM unnest($2::bytea[]) AS k (cid) WHERE k.cid = b.cid)",
                        did, arrays, 1);
    }
    buf_clear(&a);
    return e;
}

static enum err insert_records(struct db *db, const char *did, const char *rev,
                               const struct walk *w)
{
    enum err e = ERR_OK;
    struct bytes *colls = xmalloc(IMPORT_BATCH_ROWS * sizeof *colls);
    struct bytes *rkeys = xmalloc(IMPORT_BATCH_ROWS * sizeof *rkeys);
    struct bytes *cids = xmalloc(IMPORT_BATCH_ROWS * sizeof *cids);
    for (size_t i = 0; i < w->nrecs && !e; i += IMPORT_BATCH_ROWS) {
        size_t n = w->nrecs - i < IMPORT_BATCH_ROWS ? w->nrecs - i : IMPORT_BATCH_ROWS;
        for (size_t k = 0; k < n; k++) {
            colls[k] = bytes_str(w->recs[i + k].collection);
            rkeys[k] = bytes_str(w->recs[i + k].rkey);
            cids[k] = cid_bytes(&w->recs[i + k].cid);
        }
        struct buf a, b, c;
        buf_init(&a, BUF_MAX_HUGE);
        buf_init(&b, BUF_MAX_HUGE);
        buf_init(&c, BUF_MAX_HUGE);
        if (!(e = db_array_binary(&a, DB_OID_TEXT, colls, n)) &&
            !(e = db_array_binary(&b, DB_OID_TEXT, rkeys, n)) &&
            !(e = db_array_binary(&c, DB_OID_BYTEA, cids, n))) {
            struct db_params p;
            db_params_init(&p);
            db_param_text(&p, did);
            db_param_text(&p, rev);
            db_param_bytes(&p, buf_bytes(&a));
            db_param_bytes(&p, buf_bytes(&b));
            db_param_bytes(&p, buf_bytes(&c));
            e = db_exec(db,
                        "INSERT INTO record (did, collection, rkey, cid, rev)"
                        " SELECT $1, k.c, k.r, k.cid, $2"
                        " FROM unnest($3::text[], $4::text[], $5::bytea[]) AS k (c, r, cid)",
                        &p, NULL);
        }
        buf_clear(&a);
        buf_clear(&b);
        buf_clear(&c);
    }
    free(colls);
    free(rkeys);
    free(cids);
    return e;
}

static enum err insert_blob_links(struct db *db, const char *did, const struct walk *w)
{
    enum err e = ERR_OK;
    struct bytes *cids = xmalloc(IMPORT_BATCH_ROWS * sizeof *cids);
    struct bytes *uris = xmalloc(IMPORT_BATCH_ROWS * sizeof *uris);
    for (size_t i = 0; i < w->nblobs && !e; i += IMPORT_BATCH_ROWS) {
        size_t n = w->nblobs - i < IMPORT_BATCH_ROWS ? w->nblobs - i : IMPORT_BATCH_ROWS;
        for (size_t k = 0; k < n; k++) {
            cids[k] = cid_bytes(&w->blob_cids[i + k]);
            uris[k] = bytes_str(w->blob_uris[i + k]);
        }
        struct buf a, b;
        buf_init(&a, BUF_MAX_HUGE);
        buf_init(&b, BUF_MAX_HUGE);
        if (!(e = db_array_binary(&a, DB_OID_BYTEA, cids, n)) &&
            !(e = db_array_binary(&b, DB_OID_TEXT, uris, n))) {
            struct buf *arrays[] = {&a, &b};
            e = exec_arrays(db,
                            "INSERT INTO record_blob (did, blob_cid, record_uri)"
                            " SELECT $1, k.cid, k.uri FROM unnest($2::bytea[], $3::text[])"
                            " AS k (cid, uri) ON CONFLICT DO NOTHING",
                            did, arrays, 2);
        }
        buf_clear(&a);
        buf_clear(&b);
    }
    free(cids);
    free(uris);
    return e;
}

static const char *const finish_sql[] = {
    /* uploads a record now references become permanent */
    "UPDATE blob SET temp_key = NULL WHERE did = $1 AND temp_key IS NOT NULL AND EXISTS"
    " (SELECT 1 FROM record_blob rb WHERE rb.did = blob.did AND rb.blob_cid = blob.cid)",
    /* permanent blobs no record references any more: their bytes go to the sweeper */
    "WITH dead AS (DELETE FROM blob b WHERE b.did = $1 AND b.temp_key IS NULL AND NOT EXISTS"
    " (SELECT 1 FROM record_blob rb WHERE rb.did = b.did AND rb.blob_cid = b.cid)"
    " RETURNING b.did, b.cid) INSERT INTO blob_gc (did, cid) SELECT did, cid FROM dead",
    "UPDATE account SET"
    " repo_bytes = (SELECT coalesce(sum(length(data)), 0) FROM repo_block WHERE did = $1),"
    " blob_bytes = (SELECT coalesce(sum(size), 0) FROM blob WHERE did = $1 AND temp_key IS NULL)"
    " WHERE did = $1",
};

struct import_result {
    const char *did, *rev;
    struct cid commit, data;
    struct bytes commit_block;
};

/* The transaction. *raced: the root moved after we read blocks from the store. */
static enum err apply_import(struct xrpc_req *rq, const struct import_result *ir,
                             const struct blockmap *car, const struct walk *w,
                             const struct repo_head *seen, bool used_store, bool *raced)
{
    struct db *db = rq->db;
    *raced = false;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, ir->did);
    PGresult *r = NULL;
    enum err e = db_begin(db);
    if (!e) {
        e = db_query(db, "SELECT commit_cid FROM repo_root WHERE did = $1 FOR UPDATE", &p, &r);
    }
    if (!e && used_store) {
        struct cid now;
        bool had = PQntuples(r) == 1 && cid_from_bytes(db_col_bytes(r, 0, 0), &now) == ERR_OK;
        *raced = had != seen->exists || (had && !cid_equal(&now, &seen->commit));
    }
    PQclear(r);
    if (e || *raced) {
        db_rollback(db);
        return e;
    }
    if (!(e = delete_unreached(db, ir->did, &w->reach)) &&
        !(e = insert_blocks(db, ir->did, ir->rev, car, &w->reach)) &&
        !(e = db_exec(db, "DELETE FROM record WHERE did = $1", &p, NULL)) &&
        !(e = insert_records(db, ir->did, ir->rev, w)) &&
        !(e = db_exec(db, "DELETE FROM record_blob WHERE did = $1", &p, NULL))) {
        e = insert_blob_links(db, ir->did, w);
    }
    for (size_t i = 0; i < ARRAY_LEN(finish_sql) && !e; i++) {
        e = db_exec(db, finish_sql[i], &p, NULL);
    }
    struct buf ev;
    buf_init(&ev, BUF_MAX_DEFAULT);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (!e) {
        e = events_sync(ir->did, ir->rev, &ir->commit, ir->commit_block,
                        (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, &ev);
    }
    if (!e) {
        struct db_params q;
        db_params_init(&q);
        db_param_text(&q, ir->did);
        db_param_bytes(&q, cid_bytes(&ir->commit));
        db_param_bytes(&q, cid_bytes(&ir->data));
        db_param_text(&q, ir->rev);
        db_param_bytes(&q, buf_bytes(&ev));
        e = db_exec(db,
                    "WITH root AS (INSERT INTO repo_root (did, commit_cid, data_cid, rev)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT (did) DO UPDATE SET commit_cid = $2,"
                    " data_cid = $3, rev = $4, updated_at = now())"
                    " INSERT INTO repo_seq (did, event_type, event) VALUES ($1, 'sync', $5)",
                    &q, NULL);
    }
    buf_clear(&ev);
    if (e) {
        db_rollback(db);
        return e;
    }
    return db_commit(db);
}

/* Quota: the new repository's blocks replace the old ones. */
static int import_quota(struct xrpc_req *rq, const char *did, uint64_t new_bytes)
{
    if (rq->cfg->account_storage_quota <= 0) {
        return 0;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT repo_bytes FROM account WHERE did = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    int64_t old = PQntuples(r) ? db_col_i64(r, 0, 0) : 0;
    return api_storage_quota_check(rq, did, (int64_t)new_bytes - old);
}

/* com.atproto.repo.importRepo */
int api_repo_import_repo(struct xrpc_req *rq)
{
    struct import_sink *s = rq->body_sink;
    int st;
    if (!s && (st = import_start(rq, &s))) {
        return st;
    }
    enum err e = car_reader_finish(&s->reader);
    if (e) {
        return car_error(rq, s, e);
    }
    const char *did = s->auth->did;
    const struct blockmap_entry *root = s->has_root ? blockmap_get(&s->blocks, &s->root) : NULL;
    struct commit c;
    if (!root) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid CAR file: its root block is missing");
    }
    if (commit_decode(bytes_of(root->data, root->len), rq->arena, &c)) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "Invalid repository: the root is not a v3 repository commit");
    }
    if (!bytes_eq(c.did, bytes_str(did))) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "Invalid repository: the commit is for %.*s, not %s", (int)c.did.len,
                         (const char *)c.did.ptr, did);
    }
    if ((st = check_signature(rq, did, &c)) || (st = import_quota(rq, did, s->blocks.bytes))) {
        return st;
    }
    /* its #sync event is paced into the host's event budget: an import waits for room
     * rather than failing (http/hostbudget.h) */
    if (hostbudget_acquire(rq->db, did, IMPORT_BUDGET_WAIT_MS)) {
        xrpc_set_header(rq, "Retry-After", "60");
        return xrpc_fail(rq, 429, "RateLimitExceeded",
                         "The host's event budget has no room for an import now");
    }
    struct import_result ir = {
        .did = did,
        .rev = arena_strndup(rq->arena, (const char *)c.rev.ptr, c.rev.len),
        .commit = s->root,
        .data = c.data,
        .commit_block = bytes_of(root->data, root->len),
    };
    /* no block cache here: it may still hold blocks the write path has collected, and a
     * block we count on must be in repo_block (the root check in apply_import keeps it so) */
    struct repo_source store = {rq->db, did, NULL};
    for (int attempt = 0; attempt < IMPORT_RETRIES; attempt++) {
        struct repo_head seen;
        e = repo_store_head(rq->db, did, &seen);
        if (e && e != ERR_NOT_FOUND) {
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        struct overlay ov = {&s->blocks, repo_source(&store), false};
        struct walk w = {.rq = rq, .src = &ov, .did = did};
        blockmap_init(&w.reach);
        blockmap_put(&w.reach, &s->root, bytes_of(NULL, 0));
        e = walk_repo(&w, &c.data);
        bool raced = false;
        if (!e) {
            e = apply_import(rq, &ir, &s->blocks, &w, &seen, ov.used_store, &raced);
        }
        char why[sizeof w.why];
        memcpy(why, w.why, sizeof why);
        size_t nrecs = w.nrecs;
        walk_clear(&w);
        if (e == ERR_INVALID) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Invalid repository: %s", why);
        }
        if (e) {
            log_error(&rq->log, "repository import failed: %s", err_str(e));
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        if (!raced) {
            log_info(&rq->log, "imported repository of %s at rev %s: %zu records", did, ir.rev,
                     nrecs);
            return xrpc_reply_empty(rq, 200);
        }
    }
    return xrpc_fail(rq, 409, "InvalidRequest", "The repository is busy: try again");
}
