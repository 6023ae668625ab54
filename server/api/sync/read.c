/* read.c - com.atproto.sync.* reads: whole repositories and record proofs as CAR files,
 * blocks, the latest commit, and repository listings. */
#include <stdlib.h>

#include "api/sync/sync.h"
#include "api/common/app.h"
#include "api/common/repo_common.h"
#include "core/syntax.h"
#include "db/repo_store.h"
#include "db/spare.h"
#include "repo/car.h"
#include "repo/mst.h"

#define CAR_TYPE           "application/vnd.ipld.car"
#define GETREPO_FETCH_ROWS "500" /* blocks per FETCH while streaming */
#define GETBLOCKS_MAX      1000  /* cids per getBlocks request */
#define LIST_REPOS_DEFAULT 500
#define LIST_REPOS_MAX     1000

/* ---- getRepo: a consistent snapshot streamed from its own connection ---- */

/* The snapshot lives in a REPEATABLE READ transaction on a dedicated connection, so
 * writes that commit meanwhile (and their garbage collection) cannot tear the CAR, and
 * the worker's own connection stays free for the requests it interleaves with ours. */
struct repo_stream {
    struct db db;       /* a spare connection (db/spare.h), given back when the stream ends */
    bool open;          /* the snapshot's transaction is still open */
    struct buf pending; /* encoded CAR bytes not yet handed to the server */
    size_t sent;        /* of pending */
    bool finished;      /* no more rows */
    bool failed;
};

/* Ends the read-only snapshot (closing its cursor), so the connection can serve again. */
static void end_snapshot(struct repo_stream *s)
{
    if (s->open) {
        s->open = false;
        /* a failure is logged, and db_spare_give closes a connection left in a transaction */
        enum err e = db_exec(&s->db, "COMMIT", NULL, NULL);
        (void)e;
    }
}

static enum err stream_rows(struct repo_stream *s)
{
    PGresult *r;
    enum err e = db_query(&s->db, "FETCH " GETREPO_FETCH_ROWS " FROM blocks", NULL, &r);
    if (e) {
        return e;
    }
    int rows = PQntuples(r);
    struct car_writer w;
    car_writer_continue(&w, car_sink_buf, &s->pending);
    for (int i = 0; i < rows && !e; i++) {
        struct cid c;
        if (cid_from_bytes(db_col_bytes(r, i, 0), &c)) {
            e = ERR_INTERNAL;
            break;
        }
        e = car_writer_block(&w, &c, db_col_bytes(r, i, 1));
    }
    PQclear(r);
    if (rows == 0) {
        s->finished = true;
        end_snapshot(s);
    }
    return e;
}

static ssize_t repo_stream_read(void *ctx, uint64_t pos, uint8_t *out, size_t max)
{
    struct repo_stream *s = ctx;
    while (s->sent == s->pending.len) {
        if (s->finished) {
            return XRPC_STREAM_END;
        }
        buf_reset(&s->pending);
        s->sent = 0;
        if (stream_rows(s)) {
            s->failed = true;
            return XRPC_STREAM_ERROR;
        }
    }
    size_t n = s->pending.len - s->sent;
    n = n < max ? n : max;
    memcpy(out, s->pending.ptr + s->sent, n);
    s->sent += n;
    return (ssize_t)n;
}

static void repo_stream_free(void *ctx)
{
    struct repo_stream *s = ctx;
    end_snapshot(s);
    db_spare_give(&s->db);
    buf_clear(&s->pending);
    free(s);
}

/* getRepo and getCheckout: the whole repository (since a rev) as a CAR. */
static int whole_repo(struct xrpc_req *rq, enum api_read how)
{
    const char *did, *since;
    int st;
    if ((st = xrpc_param_str(rq, "did", true, &did)) ||
        (st = xrpc_param_str(rq, "since", false, &since))) {
        return st;
    }
    if (!syntax_did_valid(bytes_str(did))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid did: %s", did);
    }
    if (since && !syntax_tid_valid(bytes_str(since))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid since: %s", since);
    }
    struct api_account acct;
    if ((st = api_repo_available(rq, did, how, &acct))) {
        return st;
    }
    struct repo_stream *s = xcalloc(1, sizeof(*s));
    bool from_spare;
    db_spare_take(&s->db, db_url(rq->db), &from_spare);
    buf_init(&s->pending, BUF_MAX_HUGE);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, acct.did);
    db_param_text(&p, since);
    PGresult *r = NULL;
    struct cid root;
    /* The cursor is read to its end, so it is planned for all its rows: planned for the first
     * tenth (the default cursor_tuple_fraction) it became a sequential scan of every
     * account's blocks once a repository held a few percent of them (5% of 262,585 blocks:
     * 50-57 ms instead of 12-15). Nor is a sequential scan right when a repository is a large
     * share of the table: the repository's own pages, by the bitmap of its index entries,
     * took 5.3 ms against the scan's 13.2 with 40% of the rows (all cached). */
    static const char begin[] =
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
        " SET LOCAL cursor_tuple_fraction = 1; SET LOCAL enable_seqscan = off";
    enum err e = db_exec_script(&s->db, begin);
    if (e && from_spare) { /* the kept connection was closed meanwhile: a new one */
        db_clear(&s->db);
        db_init(&s->db, db_url(rq->db));
        e = db_exec_script(&s->db, begin);
    }
    s->open = !e;
    if (!e) {
        struct db_params p1;
        db_params_init(&p1);
        db_param_text(&p1, acct.did);
        e = db_query(&s->db, "SELECT commit_cid FROM repo_root WHERE did = $1", &p1, &r);
    }
    if (!e && (PQntuples(r) != 1 || cid_from_bytes(db_col_bytes(r, 0, 0), &root))) {
        e = ERR_NOT_FOUND;
    }
    PQclear(r);
    if (!e) {
        e = db_exec(&s->db,
                    "DECLARE blocks NO SCROLL CURSOR FOR SELECT cid, data FROM repo_block"
                    " WHERE did = $1 AND ($2::text IS NULL OR rev > $2)",
                    &p, NULL);
    }
    struct car_writer w;
    if (!e) {
        e = car_writer_begin(&w, car_sink_buf, &s->pending, &root, 1);
    }
    if (e) {
        repo_stream_free(s);
        if (e == ERR_NOT_FOUND) {
            return xrpc_fail(rq, 400, "RepoNotFound", "Could not find repo for DID: %s", did);
        }
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_stream(rq, 200, CAR_TYPE, -1, repo_stream_read, s, repo_stream_free);
}

/* com.atproto.sync.getRepo: a taken-down account's own session may export (migration) */
int api_sync_get_repo(struct xrpc_req *rq)
{
    return whole_repo(rq, API_READ_OWNER_TAKENDOWN);
}

/* ---- the rest read through the worker's connection ---- */

static int head_of(struct xrpc_req *rq, const char *did, struct repo_head *head)
{
    enum err e = repo_store_head(rq->db, did, head);
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 400, "RepoNotFound", "Could not find repo for DID: %s", did);
    }
    return e ? xrpc_fail(rq, 500, NULL, NULL) : 0;
}

/* com.atproto.sync.getRecord */
int api_sync_get_record(struct xrpc_req *rq)
{
    const char *did, *collection, *rkey;
    int st;
    if ((st = xrpc_param_str(rq, "did", true, &did)) ||
        (st = xrpc_param_str(rq, "collection", true, &collection)) ||
        (st = xrpc_param_str(rq, "rkey", true, &rkey))) {
        return st;
    }
    if (!syntax_nsid_valid(bytes_str(collection)) || !syntax_rkey_valid(bytes_str(rkey))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid collection or record key");
    }
    struct api_account acct;
    struct repo_head head;
    if ((st = api_repo_available(rq, did, API_READ_OWNER, &acct)) ||
        (st = head_of(rq, acct.did, &head))) {
        return st;
    }
    struct repo_source src = {rq->db, acct.did, app_get()->blocks};
    struct mst *m = mst_load(repo_source(&src), &head.data);
    struct blockmap proof;
    blockmap_init(&proof);
    size_t klen = strlen(collection) + 1 + strlen(rkey);
    char *key = arena_alloc(rq->arena, klen + 1);
    snprintf(key, klen + 1, "%s/%s", collection, rkey);
    struct cid value;
    enum err e = mst_covering_proof(m, bytes_of(key, klen), &proof);
    bool present = !e && mst_get(m, bytes_of(key, klen), &value) == ERR_OK;
    if (present) {
        /* a taken-down record keeps its place in the tree (the proof), not its content */
        struct db_params p;
        db_params_init(&p);
        db_param_text(&p, acct.did);
        db_param_text(&p, collection);
        db_param_text(&p, rkey);
        PGresult *r;
        if (db_query_in(rq->db, rq->arena,
                        "SELECT 1 FROM record WHERE did = $1 AND collection = $2 AND rkey = $3"
                        " AND takedown_ref IS NOT NULL",
                        &p, &r) == ERR_OK &&
            PQntuples(r) > 0) {
            present = false;
        }
    }
    struct buf car;
    buf_init(&car, BUF_MAX_DEFAULT);
    struct car_writer w;
    struct arena a;
    arena_init(&a);
    struct bytes block;
    if (!e && !(e = car_writer_begin(&w, car_sink_buf, &car, &head.commit, 1))) {
        struct blocksource bs = repo_source(&src);
        if (!(e = bs.get(bs.ctx, &head.commit, &a, &block))) {
            e = car_writer_block(&w, &head.commit, block);
        }
        for (size_t i = 0; i < proof.len && !e; i++) {
            e = car_writer_block(&w, &proof.entries[i].cid,
                                 bytes_of(proof.entries[i].data, proof.entries[i].len));
        }
        /* the record itself when present; its absence is proven by the nodes */
        if (!e && present && !(e = bs.get(bs.ctx, &value, &a, &block))) {
            e = car_writer_block(&w, &value, block);
        }
    }
    arena_clear(&a);
    blockmap_clear(&proof);
    mst_free(m);
    if (e) {
        buf_clear(&car);
        log_error(&rq->log, "record proof for %s failed: %s", did, err_str(e));
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_buf(rq, 200, CAR_TYPE, &car);
}

/* com.atproto.sync.getBlocks */
int api_sync_get_blocks(struct xrpc_req *rq)
{
    const char *did;
    const char **cids;
    size_t n;
    int st;
    if ((st = xrpc_param_str(rq, "did", true, &did))) {
        return st;
    }
    xrpc_param_all(rq, "cids", &cids, &n);
    if (n == 0 || n > GETBLOCKS_MAX) {
        return xrpc_fail(rq, 400, "InvalidRequest", "cids must hold 1 to %d CIDs", GETBLOCKS_MAX);
    }
    struct api_account acct;
    if ((st = api_repo_available(rq, did, API_READ_OWNER, &acct))) {
        return st;
    }
    struct buf car;
    buf_init(&car, BUF_MAX_HUGE);
    struct car_writer w;
    enum err e = car_writer_begin(&w, car_sink_buf, &car, NULL, 0);
    for (size_t i = 0; i < n && !e; i++) {
        struct cid c;
        if (cid_parse_str(cids[i], &c)) {
            buf_clear(&car);
            return xrpc_fail(rq, 400, "InvalidRequest", "Invalid cid: %s", cids[i]);
        }
        struct db_params p;
        db_params_init(&p);
        db_param_text(&p, acct.did);
        db_param_bytes(&p, cid_bytes(&c));
        PGresult *r;
        if ((e = db_query_in(rq->db, rq->arena,
                             "SELECT data FROM repo_block WHERE did = $1 AND cid = $2", &p, &r))) {
            break;
        }
        if (PQntuples(r) == 0) {
            buf_clear(&car);
            return xrpc_fail(rq, 400, "BlockNotFound", "Could not find block: %s", cids[i]);
        }
        e = car_writer_block(&w, &c, db_col_bytes(r, 0, 0));
    }
    if (e) {
        buf_clear(&car);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_buf(rq, 200, CAR_TYPE, &car);
}

/* com.atproto.sync.getLatestCommit */
int api_sync_get_latest_commit(struct xrpc_req *rq)
{
    const char *did;
    int st;
    struct api_account acct;
    struct repo_head head;
    if ((st = xrpc_param_str(rq, "did", true, &did)) ||
        (st = api_repo_available(rq, did, API_READ_OWNER, &acct)) ||
        (st = head_of(rq, acct.did, &head))) {
        return st;
    }
    char cs[CID_STR_MAX];
    cid_format(&head.commit, cs);
    return xrpc_reply_json(rq, 200, json_pack("{s:s,s:s}", "cid", cs, "rev", head.rev));
}

/* com.atproto.sync.getRepoStatus */
int api_sync_get_repo_status(struct xrpc_req *rq)
{
    const char *did;
    int st;
    if ((st = xrpc_param_str(rq, "did", true, &did))) {
        return st;
    }
    struct api_account acct;
    if (strncmp(did, "did:", 4) != 0) {
        return xrpc_fail(rq, 400, "RepoNotFound", "Could not find repo for DID: %s", did);
    }
    if ((st = api_repo_available(rq, did, API_READ_STATUS, &acct))) {
        return st;
    }
    const char *status = api_account_status(&acct);
    json_t *out = json_pack("{s:s,s:b}", "did", acct.did, "active", status == NULL);
    if (status) {
        json_object_set_new(out, "status", json_string(status));
    } else {
        struct repo_head head;
        if (repo_store_head(rq->db, acct.did, &head) == ERR_OK) {
            json_object_set_new(out, "rev", json_string(head.rev));
        }
    }
    return xrpc_reply_json(rq, 200, out);
}

/* com.atproto.sync.listRepos */
int api_sync_list_repos(struct xrpc_req *rq)
{
    const char *cursor;
    int64_t limit;
    int st;
    if ((st = xrpc_param_int(rq, "limit", 1, LIST_REPOS_MAX, LIST_REPOS_DEFAULT, &limit)) ||
        (st = xrpc_param_str(rq, "cursor", false, &cursor))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, cursor);
    db_param_i64(&p, limit);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT a.did, r.commit_cid, r.rev, a.deactivated_at IS NOT NULL,"
                    " a.takedown_ref IS NOT NULL FROM account a JOIN repo_root r ON r.did = a.did"
                    " WHERE $1::text IS NULL OR a.did > $1 ORDER BY a.did LIMIT $2",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *repos = json_array();
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
        struct api_account acct = {db_col_text(r, i, 0), NULL, db_col_bool(r, i, 3),
                                   db_col_bool(r, i, 4)};
        struct cid c;
        char cs[CID_STR_MAX] = "";
        if (cid_from_bytes(db_col_bytes(r, i, 1), &c) == ERR_OK) {
            cid_format(&c, cs);
        }
        const char *status = api_account_status(&acct);
        json_t *item = json_pack("{s:s,s:s,s:s,s:b}", "did", acct.did, "head", cs, "rev",
                                 db_col_text(r, i, 2), "active", status == NULL);
        if (status) {
            json_object_set_new(item, "status", json_string(status));
        }
        json_array_append_new(repos, item);
    }
    json_t *out = json_pack("{s:o}", "repos", repos);
    if (rows == limit && rows > 0) {
        json_object_set_new(out, "cursor", json_string(db_col_text(r, rows - 1, 0)));
    }
    return xrpc_reply_json(rq, 200, out);
}

/* com.atproto.sync.getHead (deprecated; the reference still serves it) */
int api_sync_get_head(struct xrpc_req *rq)
{
    const char *did;
    int st;
    struct api_account acct;
    struct repo_head head;
    if ((st = xrpc_param_str(rq, "did", true, &did)) ||
        (st = api_repo_available(rq, did, API_READ_OWNER, &acct))) {
        return st;
    }
    enum err e = repo_store_head(rq->db, acct.did, &head);
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 400, "HeadNotFound", "Could not find root for DID: %s", did);
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    char cs[CID_STR_MAX];
    cid_format(&head.commit, cs);
    return xrpc_reply_json(rq, 200, json_pack("{s:s}", "root", cs));
}

/* com.atproto.sync.getCheckout (deprecated): the whole repository, as getRepo, but not for
 * a takendown-scope session (its auth has no `additional` scope, deprecated/getCheckout.ts) */
int api_sync_get_checkout(struct xrpc_req *rq)
{
    return whole_repo(rq, API_READ_OWNER);
}
