/* blob.c - com.atproto.sync.getBlob and listBlobs: public reads of an account's
 * permanent blobs (those a record references), with the reference's safety headers and
 * HTTP range requests. Bytes stream from the store; a blob is never held in memory. */
#include <stdio.h>
#include <stdlib.h>

#include "api/sync/sync.h"
#include "api/repo/blob.h"
#include "api/common/repo_common.h"
#include "blob/range.h"
#include "core/syntax.h"

#define LIST_BLOBS_DEFAULT 500
#define LIST_BLOBS_MAX     1000

static ssize_t blob_stream_read(void *ctx, uint64_t pos, uint8_t *buf, size_t max)
{
    ssize_t n = blobstore_reader_read(ctx, buf, max);
    if (n == 0) {
        return XRPC_STREAM_END;
    }
    return n < 0 ? XRPC_STREAM_ERROR : n;
}

static void blob_stream_free(void *ctx)
{
    blobstore_reader_free(ctx);
}

/* com.atproto.sync.getBlob */
int api_sync_get_blob(struct xrpc_req *rq)
{
    const char *did, *cid_str;
    int st;
    if ((st = xrpc_param_str(rq, "did", true, &did)) ||
        (st = xrpc_param_str(rq, "cid", true, &cid_str))) {
        return st;
    }
    struct cid cid;
    if (cid_parse_str(cid_str, &cid)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid cid: %s", cid_str);
    }
    struct api_account acct;
    if ((st = api_repo_available(rq, did, API_READ_OWNER_TAKENDOWN, &acct))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, acct.did);
    db_param_bytes(&p, cid_bytes(&cid));
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT mime_type, size FROM blob WHERE did = $1 AND cid = $2"
                    " AND temp_key IS NULL AND takedown_ref IS NULL",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    /* the lexicon's name; the reference answers InvalidRequest "Blob not found" */
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 400, "BlobNotFound", "Blob not found");
    }
    const char *mime = db_col_text(r, 0, 0);
    uint64_t size = (uint64_t)db_col_i64(r, 0, 1);
    if (!mime || !*mime) {
        mime = "application/octet-stream";
    }
    char cs[CID_STR_MAX], hv[CID_STR_MAX + 64];
    cid_format(&cid, cs);
    /* the reference's safety headers: never sniffed, never rendered, never run */
    xrpc_set_header(rq, "X-Content-Type-Options", "nosniff");
    snprintf(hv, sizeof hv, "attachment; filename=\"%s\"", cs);
    xrpc_set_header(rq, "Content-Disposition", hv);
    xrpc_set_header(rq, "Content-Security-Policy", "default-src 'none'; sandbox");
    xrpc_set_header(rq, "Accept-Ranges", "bytes");
    struct range range;
    enum range_result rr = range_parse(xrpc_header(rq, "range"), size, &range);
    if (rr == RANGE_UNSATISFIABLE) {
        snprintf(hv, sizeof hv, "bytes */%llu", (unsigned long long)size);
        xrpc_set_header(rq, "Content-Range", hv);
        return xrpc_fail(rq, 416, "RangeNotSatisfiable", "Requested range not satisfiable");
    }
    struct blobstore *store = api_blobstore(rq);
    if (!store) {
        return 500;
    }
    struct blobstore_reader *rd;
    enum err e = blobstore_reader_open(store, acct.did, &cid, range.start, range.len, &rd);
    if (e == ERR_NOT_FOUND) {
        log_error(&rq->log, "blob %s of %s is recorded but its bytes are missing", cs, acct.did);
        return xrpc_fail(rq, 400, "BlobNotFound", "Blob not found");
    }
    if (e) {
        log_error(&rq->log, "could not read blob %s: %s", cs, err_str(e));
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (rr == RANGE_PARTIAL) {
        snprintf(hv, sizeof hv, "bytes %llu-%llu/%llu", (unsigned long long)range.start,
                 (unsigned long long)(range.start + range.len - 1), (unsigned long long)size);
        xrpc_set_header(rq, "Content-Range", hv);
    }
    return xrpc_reply_stream(rq, rr == RANGE_PARTIAL ? 206 : 200, mime, (int64_t)range.len,
                             blob_stream_read, rd, blob_stream_free);
}

/* com.atproto.sync.listBlobs: the CIDs records reference (as the reference lists them),
 * optionally only those of records written after rev `since`. */
int api_sync_list_blobs(struct xrpc_req *rq)
{
    const char *did, *since, *cursor;
    int64_t limit;
    int st;
    if ((st = xrpc_param_str(rq, "did", true, &did)) ||
        (st = xrpc_param_str(rq, "since", false, &since)) ||
        (st = xrpc_param_int(rq, "limit", 1, LIST_BLOBS_MAX, LIST_BLOBS_DEFAULT, &limit)) ||
        (st = xrpc_param_str(rq, "cursor", false, &cursor))) {
        return st;
    }
    if (since && !syntax_tid_valid(bytes_str(since))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid since: %s", since);
    }
    struct cid after;
    if (cursor && cid_parse_str(cursor, &after)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid cursor");
    }
    struct api_account acct;
    if ((st = api_repo_available(rq, did, API_READ_OWNER_TAKENDOWN, &acct))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, acct.did);
    db_param_text(&p, since);
    if (cursor) {
        db_param_bytes(&p, cid_bytes(&after));
    } else {
        db_param_text(&p, NULL);
    }
    db_param_i64(&p, limit);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT DISTINCT rb.blob_cid FROM record_blob rb"
                    " WHERE rb.did = $1 AND ($3::bytea IS NULL OR rb.blob_cid > $3)"
                    "   AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM record rec"
                    "        WHERE rec.did = rb.did AND rec.rev > $2 AND rb.record_uri ="
                    "              'at://' || rec.did || '/' || rec.collection || '/' || rec.rkey))"
                    " ORDER BY rb.blob_cid LIMIT $4",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *cids = json_array();
    char cs[CID_STR_MAX] = "";
    for (int i = 0; i < PQntuples(r); i++) {
        struct cid c;
        if (cid_from_bytes(db_col_bytes(r, i, 0), &c) == ERR_OK) {
            cid_format(&c, cs);
            json_array_append_new(cids, json_string(cs));
        }
    }
    json_t *out = json_pack("{s:o}", "cids", cids);
    if (json_array_size(cids) > 0) {
        json_object_set_new(out, "cursor", json_string(cs)); /* as the reference: the last */
    }
    return xrpc_reply_json(rq, 200, out);
}
