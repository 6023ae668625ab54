/* blob.c - com.atproto.repo.uploadBlob and listMissingBlobs, the blob store handle
 * and the storage quota.
 *
 * An upload streams into a temporary file while it is hashed (never held in memory); then
 * one transaction records the blob, temporary unless a record already references it (an
 * imported repository), and only after that commits are the bytes moved into the store
 * (see blob/sweep.c for why that order). A temporary blob becomes permanent when a commit
 * references it (pds_apply_commit); the sweeper removes it after PDS_BLOB_TEMP_GRACE if
 * nothing does. */
#include "api/repo/blob.h"

#include <stdlib.h>
#include <sys/random.h>

#include "api/repo/repo.h"
#include "api/common/auth.h"
#include "blob/blobsvc.h"
#include "blob/sigv4.h"
#include "blob/upload.h"
#include "config/config.h"

#define MISSING_BLOBS_DEFAULT 500
#define MISSING_BLOBS_MAX     1000
#define TEMP_KEY_BYTES        16
#define UPLOAD_DB_TRIES       2 /* a concurrent upload of the same blob wins the insert once */

struct blobstore *api_blobstore(struct xrpc_req *rq)
{
    struct blobstore *s = blobsvc_store();
    if (s) {
        return s;
    }
    if (blobsvc_start(rq->cfg) != ERR_OK) {
        xrpc_fail(rq, 500, NULL, NULL);
        return NULL;
    }
    return blobsvc_store();
}

int api_storage_used(struct xrpc_req *rq, const char *did, int64_t *used)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT (a.repo_bytes + a.blob_bytes + coalesce((SELECT sum(b.size) FROM blob b"
                    " WHERE b.did = a.did AND b.temp_key IS NOT NULL), 0))::bigint"
                    " FROM account a WHERE a.did = $1",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *used = PQntuples(r) ? db_col_i64(r, 0, 0) : 0;
    return 0;
}

int api_storage_quota_check(struct xrpc_req *rq, const char *did, int64_t adding)
{
    int64_t quota = rq->cfg->account_storage_quota, used;
    if (quota <= 0) {
        return 0;
    }
    int st = api_storage_used(rq, did, &used);
    if (st) {
        return st;
    }
    if (used + adding > quota) {
        return xrpc_fail(rq, 400, API_QUOTA_ERROR,
                         "Storage quota exceeded: %lld of %lld bytes used, %lld more asked",
                         (long long)used, (long long)quota, (long long)adding);
    }
    return 0;
}

/* ---- uploadBlob ---- */

/* State of one upload, in rq->body_sink; created by the first body chunk (or the handler
 * for an empty body), which also authenticates, so nothing is written for strangers. */
struct upload_sink {
    const struct auth *auth;
    struct blob_upload up;
    int64_t limit;
};

static void upload_sink_free(void *p)
{
    struct upload_sink *s = p;
    blob_upload_clear(&s->up);
}

static int upload_start(struct xrpc_req *rq, struct upload_sink **out)
{
    if (!rq->db) {
        rq->db = db_thread(); /* body chunks arrive before the handler sets it */
    }
    struct upload_sink *s = arena_zalloc(rq->arena, sizeof *s);
    s->up.fd = -1;
    int st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH | AUTH_CHECK_TAKEDOWN, &s->auth);
    /* spec(permission): a blob: scope names the MIME types it may upload */
    if (st || (st = auth_permit_blob(rq, s->auth, rq->content_type))) {
        return st;
    }
    s->limit = rq->cfg->blob_upload_limit;
    const char *cl = xrpc_header(rq, "content-length");
    int64_t declared = cl ? strtoll(cl, NULL, 10) : 0;
    if (declared > s->limit) {
        return xrpc_fail(rq, 413, "PayloadTooLarge", "request entity too large");
    }
    if ((st = api_storage_quota_check(rq, s->auth->did, declared))) {
        return st;
    }
    struct blobstore *store = api_blobstore(rq);
    if (!store) {
        return 500;
    }
    if (blob_upload_begin(&s->up, store)) {
        log_error(&rq->log, "could not create a temporary upload file");
        blob_upload_clear(&s->up);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    arena_defer(rq->arena, upload_sink_free, s);
    rq->body_sink = s;
    *out = s;
    return 0;
}

int api_repo_upload_blob_body(struct xrpc_req *rq, const uint8_t *chunk, size_t len)
{
    struct upload_sink *s = rq->body_sink;
    int st;
    if (!s && (st = upload_start(rq, &s))) {
        return st;
    }
    if (len == 0) {
        return 0; /* the call once the head is in (ROUTE_ON_HEAD): started, nothing to write */
    }
    if ((int64_t)(s->up.size + len) > s->limit) {
        return xrpc_fail(rq, 413, "PayloadTooLarge", "request entity too large");
    }
    if (blob_upload_write(&s->up, chunk, len)) {
        log_error(&rq->log, "could not write an upload to the temporary directory");
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return 0;
}

/* Records the blob (see the file comment). *inserted: the row is new. */
static enum err record_blob_row(struct db *db, const char *did, const struct cid *cid,
                                const char *mime, int64_t size, const char *temp_key,
                                bool *takendown, bool *inserted, bool *made_permanent)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_bytes(&p, cid_bytes(cid));
    PGresult *r = NULL;
    enum err e = db_begin(db);
    if (!e) {
        e = db_exec(db, "DELETE FROM blob_gc WHERE did = $1 AND cid = $2", &p, NULL);
    }
    if (!e) {
        e = db_query(
            db,
            "SELECT (SELECT takedown_ref IS NOT NULL FROM blob WHERE did = $1 AND cid = $2"
            " FOR UPDATE), (SELECT temp_key IS NULL FROM blob WHERE did = $1 AND cid = $2),"
            " EXISTS (SELECT 1 FROM record_blob WHERE did = $1 AND blob_cid = $2)",
            &p, &r);
    }
    if (e) {
        db_rollback(db);
        return e;
    }
    bool exists = !db_col_null(r, 0, 0);
    *takendown = db_col_bool(r, 0, 0);
    bool permanent = db_col_bool(r, 0, 1), referenced = db_col_bool(r, 0, 2);
    PQclear(r);
    *inserted = !exists;
    *made_permanent = referenced && !(exists && permanent);
    if (*takendown) {
        db_rollback(db);
        return ERR_OK;
    }
    struct db_params q;
    db_params_init(&q);
    db_param_text(&q, did);
    db_param_bytes(&q, cid_bytes(cid));
    db_param_text(&q, mime);
    db_param_i64(&q, size);
    db_param_text(&q, referenced ? NULL : temp_key);
    if (!exists) {
        e = db_exec(db,
                    "INSERT INTO blob (did, cid, mime_type, size, temp_key)"
                    " VALUES ($1, $2, $3, $4, $5)",
                    &q, NULL);
    } else if (!permanent) {
        /* uploaded again while temporary: the grace period starts over */
        e = db_exec(db,
                    "UPDATE blob SET mime_type = $3, size = $4, temp_key = $5, created_at = now()"
                    " WHERE did = $1 AND cid = $2",
                    &q, NULL);
    }
    if (!e && *made_permanent) {
        struct db_params a;
        db_params_init(&a);
        db_param_text(&a, did);
        db_param_i64(&a, size);
        e = db_exec(db, "UPDATE account SET blob_bytes = blob_bytes + $2 WHERE did = $1", &a, NULL);
    }
    if (e) {
        db_rollback(db);
        return e;
    }
    return db_commit(db);
}

/* Undoes record_blob_row after the store failed to take the bytes. */
static void forget_blob_row(struct xrpc_req *rq, const char *did, const struct cid *cid,
                            int64_t size, bool made_permanent)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_bytes(&p, cid_bytes(cid));
    db_param_i64(&p, made_permanent ? size : 0);
    if (db_exec(rq->db,
                "WITH gone AS (DELETE FROM blob WHERE did = $1 AND cid = $2 RETURNING 1)"
                " UPDATE account SET blob_bytes = blob_bytes - $3"
                " WHERE did = $1 AND EXISTS (SELECT 1 FROM gone)",
                &p, NULL)) {
        log_error(&rq->log, "could not remove the row of a blob whose bytes were not stored");
    }
}

static json_t *blob_json(const struct cid *cid, const char *mime, int64_t size)
{
    char cs[CID_STR_MAX];
    cid_format(cid, cs);
    return json_pack("{s:s,s:{s:s},s:s,s:I}", "$type", "blob", "ref", "$link", cs, "mimeType", mime,
                     "size", (json_int_t)size);
}

/* com.atproto.repo.uploadBlob */
int api_repo_upload_blob(struct xrpc_req *rq)
{
    struct upload_sink *s = rq->body_sink;
    int st;
    if (!s && (st = upload_start(rq, &s))) {
        return st;
    }
    const char *did = s->auth->did;
    const char *cl = xrpc_header(rq, "content-length");
    if (cl && strtoull(cl, NULL, 10) != s->up.size) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "Request body length did not match "
                         "Content-Length");
    }
    if (blob_upload_finish(&s->up)) {
        log_error(&rq->log, "could not flush an upload to disk");
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    int64_t size = (int64_t)s->up.size;
    if ((st = api_storage_quota_check(rq, did, size))) {
        return st;
    }
    /* spec(blob): the server may sniff; a recognised signature wins, as in the reference */
    const char *sniffed = sniff_mime(s->up.head, s->up.head_len);
    const char *mime = sniffed ? sniffed : rq->content_type;
    if (!mime || strcmp(mime, "*/*") == 0) {
        mime = "application/octet-stream";
    }
    uint8_t rnd[TEMP_KEY_BYTES];
    char temp_key[2 * TEMP_KEY_BYTES + 1];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    sigv4_hex(rnd, sizeof rnd, temp_key);
    bool takendown = false, inserted = false, made_permanent = false;
    enum err e = ERR_CONFLICT;
    for (int i = 0; i < UPLOAD_DB_TRIES && e == ERR_CONFLICT; i++) {
        e = record_blob_row(rq->db, did, &s->up.cid, mime, size, temp_key, &takendown, &inserted,
                            &made_permanent);
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (takendown) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Blob has been takendown, cannot re-upload");
    }
    e = blobstore_put(api_blobstore(rq), did, &s->up.cid, s->up.path, s->up.size);
    s->up.path[0] = '\0'; /* consumed (or removed) by the store */
    if (e) {
        log_error(&rq->log, "blob store refused an upload: %s", err_str(e));
        if (inserted) {
            forget_blob_row(rq, did, &s->up.cid, size, made_permanent);
        }
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:o}", "blob", blob_json(&s->up.cid, mime, size)));
}

/* ---- listMissingBlobs ---- */

/* com.atproto.repo.listMissingBlobs */
int api_repo_list_missing_blobs(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *cursor;
    int64_t limit;
    int st;
    if ((st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH, &a)) ||
        (st = xrpc_param_int(rq, "limit", 1, MISSING_BLOBS_MAX, MISSING_BLOBS_DEFAULT, &limit)) ||
        (st = xrpc_param_str(rq, "cursor", false, &cursor))) {
        return st;
    }
    struct cid after;
    if (cursor && cid_parse_str(cursor, &after)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid cursor");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->did);
    if (cursor) {
        db_param_bytes(&p, cid_bytes(&after));
    } else {
        db_param_text(&p, NULL);
    }
    db_param_i64(&p, limit);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT rb.blob_cid, min(rb.record_uri) FROM record_blob rb"
                    " WHERE rb.did = $1 AND ($2::bytea IS NULL OR rb.blob_cid > $2)"
                    "   AND NOT EXISTS (SELECT 1 FROM blob b"
                    "                    WHERE b.did = rb.did AND b.cid = rb.blob_cid)"
                    " GROUP BY rb.blob_cid ORDER BY rb.blob_cid LIMIT $3",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *blobs = json_array();
    char cs[CID_STR_MAX] = "";
    for (int i = 0; i < PQntuples(r); i++) {
        struct cid c;
        if (cid_from_bytes(db_col_bytes(r, i, 0), &c)) {
            continue;
        }
        cid_format(&c, cs);
        json_array_append_new(blobs,
                              json_pack("{s:s,s:s}", "cid", cs, "recordUri", db_col_text(r, i, 1)));
    }
    json_t *out = json_pack("{s:o}", "blobs", blobs);
    if (json_array_size(blobs) > 0) {
        json_object_set_new(out, "cursor", json_string(cs)); /* as the reference: the last */
    }
    return xrpc_reply_json(rq, 200, out);
}
