/* read.c - com.atproto.repo.{getRecord,listRecords}: reads from the record index and
 * the stored record blocks. */
#include <stdlib.h>

#include "api/repo/repo.h"
#include "api/common/app.h"
#include "identity/did_doc.h"
#include "identity/resolver.h"
#include "config/config.h"
#include "api/common/repo_common.h"
#include "api/proxy/proxy.h"
#include "core/syntax.h"

#define LIST_RECORDS_DEFAULT 50
#define LIST_RECORDS_MAX     100

static char *record_uri(struct arena *a, const char *did, const char *collection, const char *rkey)
{
    size_t n = strlen("at:///") + strlen(did) + strlen(collection) + 1 + strlen(rkey) + 1;
    char *s = arena_alloc(a, n);
    snprintf(s, n, "at://%s/%s/%s", did, collection, rkey);
    return s;
}

#define RECORD_SELECT                                                                              \
    "SELECT a.did, a.deactivated_at IS NOT NULL, a.takedown_ref IS NOT NULL, r.cid, b.data"        \
    " FROM account a"                                                                              \
    " LEFT JOIN record r ON r.did = a.did AND r.collection = $2 AND r.rkey = $3"                   \
    " AND r.takedown_ref IS NULL"                                                                  \
    " LEFT JOIN repo_block b ON b.did = r.did AND b.cid = r.cid"
static const struct db_stmt record_by_did = {"get_record_by_did",
                                             RECORD_SELECT " WHERE a.did = $1"};
static const struct db_stmt record_by_handle = {"get_record_by_handle",
                                                RECORD_SELECT " WHERE a.handle = $1"};

/* getRecord of a repo with no active account here (API_READ_ACTIVE in repo_common.h): the
 * reference asks its AppView (pipethrough without credentials), or without one answers plain
 * InvalidRequest (repo/getRecord.ts). */
static int inactive_repo(struct xrpc_req *rq)
{
    if (rq->cfg->bsky_app_view_url && rq->cfg->bsky_app_view_did) {
        return api_proxy_forward(rq, NULL);
    }
    return xrpc_fail(rq, 400, "InvalidRequest", "Could not locate record");
}

/* com.atproto.repo.getRecord */
int api_repo_get_record(struct xrpc_req *rq)
{
    const char *repo, *collection, *rkey, *cid_s;
    int st;
    if ((st = xrpc_param_str(rq, "repo", true, &repo)) ||
        (st = xrpc_param_str(rq, "collection", true, &collection)) ||
        (st = xrpc_param_str(rq, "rkey", true, &rkey)) ||
        (st = xrpc_param_str(rq, "cid", false, &cid_s))) {
        return st;
    }
    if (!syntax_atidentifier_valid(bytes_str(repo))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid repo: %s", repo);
    }
    struct cid want;
    if (cid_s && cid_parse_str(cid_s, &want)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid cid: %s", cid_s);
    }
    /* the account and the record in one prepared statement: one round trip, no planning */
    struct db_params p;
    db_params_init(&p);
    bool by_did;
    if (!api_account_param(rq, repo, &p, &by_did)) {
        return inactive_repo(rq);
    }
    db_param_text(&p, collection);
    db_param_text(&p, rkey);
    PGresult *r;
    if (db_query_stmt_in(rq->db, rq->arena, by_did ? &record_by_did : &record_by_handle, &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0 || db_col_bool(r, 0, 1) || db_col_bool(r, 0, 2)) {
        return inactive_repo(rq); /* no such account, or deactivated, taken down, migrating */
    }
    const char *did = db_col_text(r, 0, 0);
    struct cid got;
    if (db_col_null(r, 0, 3) || db_col_null(r, 0, 4) ||
        cid_from_bytes(db_col_bytes(r, 0, 3), &got) || (cid_s && !cid_equal(&got, &want))) {
        return xrpc_fail(rq, 400, "RecordNotFound", "Could not locate record: at://%s/%s/%s", did,
                         collection, rkey);
    }
    json_t *value = api_record_json(rq->arena, db_col_bytes(r, 0, 4));
    if (!value) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    char cs[CID_STR_MAX];
    cid_format(&got, cs);
    const char *uri = record_uri(rq->arena, did, collection, rkey);
    return xrpc_reply_json(rq, 200,
                           json_pack("{s:s,s:s,s:o}", "uri", uri, "cid", cs, "value", value));
}

#define LIST_SELECT                                                                                \
    "SELECT r.rkey, r.cid, b.data FROM record r JOIN repo_block b"                                 \
    " ON b.did = r.did AND b.cid = r.cid"                                                          \
    " WHERE r.did = $1 AND r.collection = $2 AND r.takedown_ref IS NULL"
/* One statement per order, with and without a cursor: a generic plan of "$4 IS NULL OR
 * rkey < $4" could not start its index scan at the cursor. */
static const struct db_stmt list_stmts[2][2] = {
    {{"list_records_desc", LIST_SELECT " ORDER BY r.rkey DESC LIMIT $3"},
     {"list_records_desc_after", LIST_SELECT " AND r.rkey < $4 ORDER BY r.rkey DESC LIMIT $3"}},
    {{"list_records_asc", LIST_SELECT " ORDER BY r.rkey ASC LIMIT $3"},
     {"list_records_asc_after", LIST_SELECT " AND r.rkey > $4 ORDER BY r.rkey ASC LIMIT $3"}},
};

/* com.atproto.repo.listRecords */
int api_repo_list_records(struct xrpc_req *rq)
{
    const char *repo, *collection, *cursor;
    int64_t limit;
    bool reverse;
    int st;
    if ((st = xrpc_param_str(rq, "repo", true, &repo)) ||
        (st = xrpc_param_str(rq, "collection", true, &collection)) ||
        (st = xrpc_param_int(rq, "limit", 1, LIST_RECORDS_MAX, LIST_RECORDS_DEFAULT, &limit)) ||
        (st = xrpc_param_str(rq, "cursor", false, &cursor)) ||
        (st = xrpc_param_bool(rq, "reverse", false, &reverse))) {
        return st;
    }
    if (!syntax_nsid_valid(bytes_str(collection))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid collection: %s", collection);
    }
    struct api_account acct;
    if ((st = api_repo_available(rq, repo, API_READ_ACTIVE, &acct))) {
        return st;
    }
    if (!acct.did) { /* deactivated and taken-down accounts too (repo/listRecords.ts) */
        return xrpc_fail(rq, 400, "InvalidRequest", "Could not find repo: %s", repo);
    }
    /* newest first by default (rkeys are TIDs); reverse lists oldest first */
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, acct.did);
    db_param_text(&p, collection);
    db_param_i64(&p, limit);
    if (cursor) {
        db_param_text(&p, cursor);
    }
    PGresult *r;
    if (db_query_stmt_in(rq->db, rq->arena, &list_stmts[reverse][cursor != NULL], &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *records = json_array();
    int rows = PQntuples(r);
    const char *last = NULL;
    for (int i = 0; i < rows; i++) {
        const char *rkey = db_col_text(r, i, 0);
        struct cid c;
        json_t *value = api_record_json(rq->arena, db_col_bytes(r, i, 2));
        if (!value || cid_from_bytes(db_col_bytes(r, i, 1), &c)) {
            json_decref(value);
            log_error(&rq->log, "record %s/%s of %s is unreadable", collection, rkey, acct.did);
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        char cs[CID_STR_MAX];
        cid_format(&c, cs);
        json_array_append_new(records, json_pack("{s:s,s:s,s:o}", "uri",
                                                 record_uri(rq->arena, acct.did, collection, rkey),
                                                 "cid", cs, "value", value));
        last = rkey;
    }
    json_t *out = json_pack("{s:o}", "records", records);
    if (rows == limit && last) {
        json_object_set_new(out, "cursor", json_string(last));
    }
    return xrpc_reply_json(rq, 200, out);
}

/* The account's DID document: as its directory serves it, else as we would publish it. */
static json_t *did_document(struct xrpc_req *rq, const struct api_account *acct)
{
    json_t *doc = NULL;
    if (resolver_resolve_did(app_get()->resolver, acct->did, false, &doc) == ERR_OK) {
        return doc;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, acct->did);
    PGresult *r;
    struct sigkey key;
    if (db_query_in(rq->db, rq->arena, "SELECT signing_key FROM account WHERE did = $1", &p, &r) ||
        PQntuples(r) == 0 || app_unseal_signing_key(db_col_bytes(r, 0, 0), &key)) {
        return NULL;
    }
    doc = did_doc_build(acct->did, acct->handle, &key, app_get()->cfg->public_url);
    sigkey_clear(&key);
    return doc;
}

/* com.atproto.repo.describeRepo */
int api_repo_describe_repo(struct xrpc_req *rq)
{
    const char *repo;
    int st;
    if ((st = xrpc_param_str(rq, "repo", true, &repo))) {
        return st;
    }
    struct api_account acct;
    /* no exception for the owner or the admin here (repo/describeRepo.ts) */
    if ((st = api_repo_available(rq, repo, API_READ_PUBLIC, &acct))) {
        return st;
    }
    json_t *doc = did_document(rq, &acct);
    if (!doc) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    struct did_doc parsed;
    bool handle_ok = false;
    if (did_doc_parse(doc, acct.did, &parsed) == ERR_OK) {
        handle_ok = parsed.handle && acct.handle && strcmp(parsed.handle, acct.handle) == 0;
        did_doc_clear(&parsed);
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, acct.did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT DISTINCT collection FROM record WHERE did = $1 ORDER BY collection", &p,
                    &r)) {
        json_decref(doc);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *collections = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_array_append_new(collections, json_string(db_col_text(r, i, 0)));
    }
    return xrpc_reply_json(rq, 200,
                           json_pack("{s:s,s:s,s:o,s:o,s:b}", "handle",
                                     handle_ok ? acct.handle : "handle.invalid", "did", acct.did,
                                     "didDoc", doc, "collections", collections, "handleIsCorrect",
                                     handle_ok));
}
