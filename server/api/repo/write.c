/* write.c - com.atproto.repo.{createRecord,putRecord,deleteRecord,applyWrites}.
 * Each request computes its commit against the repository's current root (reading only
 * the MST nodes it touches, mostly from the block cache) and writes it with one statement
 * that swaps the root only if no one else moved it; a lost race recomputes. So a write is
 * two round trips and one transaction, and nothing is visible until it commits. */
#include <sodium.h>
#include <stdlib.h>
#include <time.h>

#include "api/repo/repo.h"
#include "api/common/app.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "api/repo/blob.h"
#include "api/common/repo_common.h"
#include "core/blobref.h"
#include "core/dagcbor.h"
#include "core/ipldjson.h"
#include "core/syntax.h"
#include "db/repo_store.h"
#include "http/hostbudget.h"
#include "http/ratelimit.h"

#define WRITE_RETRIES_MAX 16 /* lost races before giving up: only a hot repository loses many */

/* The account row and repository head, read without a lock (see repo_store_apply). */
static int load_head(struct xrpc_req *rq, const char *did, struct repo_head *head,
                     struct sigkey *key)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    static const struct db_stmt head_stmt = {
        "repo_write_head",
        "SELECT a.signing_key, a.deactivated_at IS NOT NULL, a.takedown_ref IS NOT NULL,"
        " r.commit_cid, r.data_cid, r.rev"
        " FROM account a LEFT JOIN repo_root r ON r.did = a.did WHERE a.did = $1"};
    PGresult *r;
    if (db_query_stmt(rq->db, &head_stmt, &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    arena_defer(rq->arena, (void (*)(void *))PQclear, r);
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 403, "AccountNotFound", "Account not found");
    }
    if (db_col_bool(r, 0, 2)) {
        return xrpc_fail(rq, 401, "AccountTakedown", "Account has been taken down");
    }
    if (db_col_bool(r, 0, 1)) {
        return xrpc_fail(rq, 401, "AccountDeactivated", "Account is deactivated");
    }
    memset(head, 0, sizeof(*head));
    head->did = bytes_str(did);
    if (!db_col_null(r, 0, 3)) {
        const char *rev = db_col_text(r, 0, 5);
        if (cid_from_bytes(db_col_bytes(r, 0, 3), &head->commit) ||
            cid_from_bytes(db_col_bytes(r, 0, 4), &head->data) || !rev ||
            strlen(rev) != TID_STR_LEN) {
            log_error(&rq->log, "repository root of %s is corrupt", did);
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        memcpy(head->rev, rev, sizeof(head->rev));
        head->exists = true;
    }
    if (app_unseal_signing_key(db_col_bytes(r, 0, 0), key)) {
        log_error(&rq->log, "signing key of %s cannot be unsealed", did);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return 0;
}

static const char *uri_of(struct xrpc_req *rq, const char *did, const struct repo_write *w)
{
    size_t n = 5 + strlen(did) + 1 + w->collection.len + 1 + w->rkey.len + 1;
    char *s = arena_alloc(rq->arena, n);
    snprintf(s, n, "at://%s/%.*s/%.*s", did, (int)w->collection.len,
             (const char *)w->collection.ptr, (int)w->rkey.len, (const char *)w->rkey.ptr);
    return s;
}

static const char *cid_str(struct xrpc_req *rq, const struct cid *c)
{
    char *s = arena_alloc(rq->arena, CID_STR_MAX);
    cid_format(c, s);
    return s;
}

/* After a lost race, wait a random 0 to 2^attempt ms (at most 64): writers that lost to each
 * other would otherwise start again together and a slow one could lose every round. */
static void race_backoff(int attempt)
{
    uint32_t cap_us = 1000u << (attempt < 6 ? attempt : 6);
    uint32_t us = randombytes_uniform(cap_us);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000};
    nanosleep(&ts, NULL);
}

/* Applies writes for did; on success c holds the commit (c->empty when nothing changed). */
static int run_writes(struct xrpc_req *rq, const char *did, struct repo_write *writes, size_t n,
                      const char *swap_commit, struct repo_commit *c)
{
    struct cid swap;
    if (swap_commit && cid_parse_str(swap_commit, &swap)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid swapCommit: %s", swap_commit);
    }
    struct app *app = app_get();
    struct repo_source src = {rq->db, did, app->blocks};
    for (int attempt = 0; attempt < WRITE_RETRIES_MAX; attempt++) {
        struct repo_head head;
        struct sigkey key;
        int st = load_head(rq, did, &head, &key);
        if (st) {
            return st;
        }
        if (swap_commit && (!head.exists || !cid_equal(&head.commit, &swap))) {
            sigkey_clear(&key);
            return xrpc_fail(rq, 400, "InvalidSwap", "Commit was at %s",
                             head.exists ? cid_str(rq, &head.commit) : "null");
        }
        for (size_t i = 0; i < n; i++) {
            writes[i].had_prev = writes[i].noop = false;
        }
        repo_commit_clear(c);
        repo_commit_init(c);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        size_t failed = 0;
        enum err e = repo_apply_writes(repo_source(&src), &head, writes, n, &key, &app->tids,
                                       now_ms, c, &failed);
        sigkey_clear(&key);
        if (e == ERR_MISSING) {
            race_backoff(attempt); /* a concurrent commit collected a node we read */
            continue;
        }
        if (e) {
            struct repo_write *w = &writes[failed < n ? failed : 0];
            const char *uri = uri_of(rq, did, w);
            switch (e) {
            case ERR_CONFLICT:
                if (w->has_swap) {
                    return xrpc_fail(rq, 400, "InvalidSwap", "Record was at %s",
                                     w->had_prev ? cid_str(rq, &w->prev) : "null");
                }
                return xrpc_fail(rq, 400, "InvalidRequest", "Record already exists: %s", uri);
            case ERR_NOT_FOUND:
                return xrpc_fail(rq, 400, "InvalidRequest", "Could not find record: %s", uri);
            case ERR_INVALID:
                return xrpc_fail(rq, 400, "InvalidRequest", "Invalid write to %s", uri);
            case ERR_TOO_LARGE:
                return xrpc_fail(rq, 400, "InvalidRequest", "Write too large: %s", uri);
            default:
                log_error(&rq->log, "applying writes failed: %s", err_str(e));
                return xrpc_fail(rq, 500, NULL, NULL);
            }
        }
        if (c->empty) {
            return 0;
        }
        bool raced = false;
        if (repo_store_apply(rq->db, &head, c, writes, n, app->blocks, &raced)) {
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        if (!raced) {
            hostbudget_done(rq); /* the commit's event was emitted: keep it counted */
            return 0;
        }
        race_backoff(attempt);
    }
    log_warn(&rq->log, "write to %s lost %d races in a row", did, WRITE_RETRIES_MAX);
    return xrpc_fail(rq, 409, "InvalidRequest", "The repository is busy: try again");
}

/* The authenticated caller and the `repo` input, which must name the caller. */
static int writer(struct xrpc_req *rq, const char **did, const struct auth **out)
{
    *did = NULL; /* set on every path: gcc cannot see that xrpc_fail never returns 0 */
    const struct auth *a = NULL;
    int st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH, &a);
    const char *repo;
    if (st || (st = input_require_object(rq)) || (st = input_str(rq, "repo", true, &repo))) {
        return st;
    }
    if (strcmp(repo, a->did) != 0) {
        bool found;
        struct api_account acct;
        if ((st = api_account_find(rq, repo, &found, &acct))) {
            return st;
        }
        if (!found || strcmp(acct.did, a->did) != 0) {
            return xrpc_fail(rq, 401, "AuthenticationRequired", "Authentication Required");
        }
    }
    *did = a->did;
    *out = a;
    return 0;
}

/* The write limits, checked before any work as the reference does: the account's write
 * points (repo-write-hour and -day) and one event of the host's budget, given back when
 * the request ends without a commit (http/hostbudget.h). */
static int write_limits(struct xrpc_req *rq, const char *did, int64_t points)
{
    int st = ratelimit_consume(rq, RL_GROUP_REPO_WRITE, did, points);
    return st ? st : hostbudget_admit(rq, did);
}

/* -1: absent, 0: false, 1: true */
static int validate_flag(struct xrpc_req *rq, json_t *obj, int *out)
{
    json_t *v = json_object_get(obj, "validate");
    *out = -1;
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_boolean(v)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/validate must be a boolean");
    }
    *out = json_is_true(v) ? 1 : 0;
    return 0;
}

/* spec(blob): a record may reference only blobs this account uploaded or already uses. */
static int check_blobs(struct xrpc_req *rq, const char *did, struct repo_write *w,
                       const struct dm_value *rec)
{
    struct cid *cids;
    size_t n;
    enum err e = blobref_collect(rec, rq->arena, &cids, &n);
    if (e) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid blob reference in record");
    }
    w->blobs = cids;
    w->nblobs = n;
    for (size_t i = 0; i < n; i++) {
        struct db_params p;
        db_params_init(&p);
        db_param_text(&p, did);
        db_param_bytes(&p, cid_bytes(&cids[i]));
        PGresult *r;
        if (db_query_in(rq->db, rq->arena,
                        "SELECT 1 FROM blob WHERE did = $1 AND cid = $2 AND takedown_ref IS NULL",
                        &p, &r)) {
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        if (PQntuples(r) == 0) {
            return xrpc_fail(rq, 400, "BlobNotFound", "Could not find blob: %s",
                             cid_str(rq, &cids[i]));
        }
    }
    return 0;
}

/* Checks and encodes a record for a create/update write. */
static int prepare_record(struct xrpc_req *rq, struct repo_write *w, const char *did,
                          const char *collection, const char *rkey, json_t *value, int validate,
                          const char **status)
{
    struct dm_value *rec;
    if (!json_is_object(value) || ipldjson_from_json(value, rq->arena, &rec)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid record for %s/%s", collection, rkey);
    }
    int st = api_record_check(rq, collection, rkey, rec, validate, status);
    if (st || (st = check_blobs(rq, did, w, rec))) {
        return st;
    }
    struct buf b;
    buf_init(&b, REPO_RECORD_MAX_BYTES);
    enum err e = dagcbor_encode(rec, &b);
    if (e) {
        buf_clear(&b);
        return xrpc_fail(rq, 400, "InvalidRequest",
                         e == ERR_TOO_LARGE ? "Record too large" : "Invalid record");
    }
    w->record = bytes_of(arena_memdup(rq->arena, b.ptr, b.len), b.len);
    buf_clear(&b);
    w->collection = bytes_str(collection);
    w->rkey = bytes_str(rkey);
    /* PDS_ACCOUNT_STORAGE_QUOTA (api/repo_blob.h): creates and updates past the quota fail
     * with 400 StorageQuotaExceeded; deletes never reach here, so space can be freed */
    return api_storage_quota_check(rq, did, (int64_t)w->record.len);
}

static const char *new_rkey(struct xrpc_req *rq)
{
    char *s = arena_alloc(rq->arena, TID_STR_LEN + 1);
    tid_format(tid_gen_next(&app_get()->tids, tid_now_us()), s);
    return s;
}

static json_t *commit_json(const struct repo_commit *c, struct xrpc_req *rq)
{
    return json_pack("{s:s,s:s}", "cid", cid_str(rq, &c->commit), "rev", c->rev);
}

/* Reads swapRecord: absent, null (must not exist) or a CID. */
static int swap_record(struct xrpc_req *rq, json_t *obj, struct repo_write *w)
{
    json_t *v = json_object_get(obj, "swapRecord");
    if (!v) {
        return 0;
    }
    w->has_swap = true;
    if (json_is_null(v)) {
        w->swap_absent = true;
        return 0;
    }
    if (!json_is_string(v) || cid_parse_str(json_string_value(v), &w->swap)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid swapRecord");
    }
    return 0;
}

/* com.atproto.repo.createRecord */
int api_repo_create_record(struct xrpc_req *rq)
{
    const char *did = NULL, *collection, *rkey, *swap_commit, *status;
    json_t *record;
    const struct auth *a = NULL;
    int validate, st;
    if ((st = writer(rq, &did, &a)) || (st = input_str(rq, "collection", true, &collection)) ||
        (st = input_str(rq, "rkey", false, &rkey)) ||
        (st = input_object(rq, "record", true, &record)) ||
        (st = input_str(rq, "swapCommit", false, &swap_commit)) ||
        (st = validate_flag(rq, rq->json, &validate)) ||
        (st = auth_permit_repo(rq, a, collection, SCOPE_REPO_CREATE)) ||
        (st = write_limits(rq, did, RL_POINTS_CREATE))) {
        return st;
    }
    struct repo_write w = {.action = REPO_CREATE};
    if ((st = prepare_record(rq, &w, did, collection, rkey ? rkey : new_rkey(rq), record, validate,
                             &status))) {
        return st;
    }
    struct repo_commit c;
    repo_commit_init(&c);
    if (!(st = run_writes(rq, did, &w, 1, swap_commit, &c))) {
        st = xrpc_reply_json(rq, 200,
                             json_pack("{s:s,s:s,s:o,s:s*}", "uri", uri_of(rq, did, &w), "cid",
                                       cid_str(rq, &w.cid), "commit", commit_json(&c, rq),
                                       "validationStatus", status));
    }
    repo_commit_clear(&c);
    return st;
}

/* com.atproto.repo.putRecord */
int api_repo_put_record(struct xrpc_req *rq)
{
    const char *did = NULL, *collection, *rkey, *swap_commit, *status;
    json_t *record;
    const struct auth *a = NULL;
    int validate, st;
    /* putRecord may create or replace: it needs both (reference putRecord.ts) */
    if ((st = writer(rq, &did, &a)) || (st = input_str(rq, "collection", true, &collection)) ||
        (st = input_str(rq, "rkey", true, &rkey)) ||
        (st = input_object(rq, "record", true, &record)) ||
        (st = input_str(rq, "swapCommit", false, &swap_commit)) ||
        (st = validate_flag(rq, rq->json, &validate)) ||
        (st = auth_permit_repo(rq, a, collection, SCOPE_REPO_CREATE | SCOPE_REPO_UPDATE)) ||
        (st = write_limits(rq, did, RL_POINTS_UPDATE))) {
        return st;
    }
    struct repo_write w = {.action = REPO_UPDATE};
    if ((st = prepare_record(rq, &w, did, collection, rkey, record, validate, &status)) ||
        (st = swap_record(rq, rq->json, &w))) {
        return st;
    }
    struct repo_commit c;
    repo_commit_init(&c);
    if (!(st = run_writes(rq, did, &w, 1, swap_commit, &c))) {
        json_t *out = json_pack("{s:s,s:s,s:s*}", "uri", uri_of(rq, did, &w), "cid",
                                cid_str(rq, &w.cid), "validationStatus", status);
        if (!c.empty) {
            json_object_set_new(out, "commit", commit_json(&c, rq));
        }
        st = xrpc_reply_json(rq, 200, out);
    }
    repo_commit_clear(&c);
    return st;
}

/* com.atproto.repo.deleteRecord */
int api_repo_delete_record(struct xrpc_req *rq)
{
    const char *did = NULL, *collection, *rkey, *swap_commit;
    const struct auth *a = NULL;
    int st;
    if ((st = writer(rq, &did, &a)) || (st = input_str(rq, "collection", true, &collection)) ||
        (st = input_str(rq, "rkey", true, &rkey)) ||
        (st = input_str(rq, "swapCommit", false, &swap_commit)) ||
        (st = auth_permit_repo(rq, a, collection, SCOPE_REPO_DELETE)) ||
        (st = write_limits(rq, did, RL_POINTS_DELETE))) {
        return st;
    }
    if (!syntax_nsid_valid(bytes_str(collection)) || !syntax_rkey_valid(bytes_str(rkey))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid collection or record key");
    }
    struct repo_write w = {
        .action = REPO_DELETE, .collection = bytes_str(collection), .rkey = bytes_str(rkey)};
    if ((st = swap_record(rq, rq->json, &w))) {
        return st;
    }
    struct repo_commit c;
    repo_commit_init(&c);
    if (!(st = run_writes(rq, did, &w, 1, swap_commit, &c))) {
        json_t *out = json_object();
        if (!c.empty) {
            json_object_set_new(out, "commit", commit_json(&c, rq));
        }
        st = xrpc_reply_json(rq, 200, out);
    }
    repo_commit_clear(&c);
    return st;
}

#define AW "com.atproto.repo.applyWrites"

/* The reference's points for applyWrites: 3 per create, 2 per update, 1 for anything else. */
static int64_t apply_writes_points(json_t *list)
{
    int64_t points = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *type = json_string_value(json_object_get(json_array_get(list, i), "$type"));
        points += type && strcmp(type, AW "#create") == 0   ? RL_POINTS_CREATE
                  : type && strcmp(type, AW "#update") == 0 ? RL_POINTS_UPDATE
                                                            : RL_POINTS_DELETE;
    }
    return points;
}

/* com.atproto.repo.applyWrites */
int api_repo_apply_writes(struct xrpc_req *rq)
{
    const char *did = NULL, *swap_commit;
    const struct auth *a = NULL;
    int validate, st;
    if ((st = writer(rq, &did, &a)) || (st = input_str(rq, "swapCommit", false, &swap_commit)) ||
        (st = validate_flag(rq, rq->json, &validate))) {
        return st;
    }
    json_t *list = json_object_get(rq->json, "writes");
    if (!json_is_array(list)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input must have the property \"writes\"");
    }
    size_t n = json_array_size(list);
    if (n > REPO_WRITES_MAX) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Too many writes. Max: %d", REPO_WRITES_MAX);
    }
    if ((st = write_limits(rq, did, apply_writes_points(list)))) {
        return st;
    }
    struct repo_write *writes = arena_zalloc(rq->arena, (n ? n : 1) * sizeof(*writes));
    const char **statuses = arena_zalloc(rq->arena, (n ? n : 1) * sizeof(*statuses));
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        const char *type = json_string_value(json_object_get(item, "$type"));
        const char *collection = json_string_value(json_object_get(item, "collection"));
        const char *rkey = json_string_value(json_object_get(item, "rkey"));
        if (!json_is_object(item) || !type || !collection) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Input/writes/%zu is not a valid write", i);
        }
        /* each write needs its own permission (reference applyWrites.ts) */
        unsigned need = strcmp(type, AW "#create") == 0   ? SCOPE_REPO_CREATE
                        : strcmp(type, AW "#update") == 0 ? SCOPE_REPO_UPDATE
                        : strcmp(type, AW "#delete") == 0 ? SCOPE_REPO_DELETE
                                                          : 0;
        if (need && (st = auth_permit_repo(rq, a, collection, need))) {
            return st;
        }
        struct repo_write *w = &writes[i];
        if (strcmp(type, AW "#create") == 0 || strcmp(type, AW "#update") == 0) {
            bool create = strcmp(type, AW "#create") == 0;
            json_t *value = json_object_get(item, "value");
            if (!create && !rkey) {
                return xrpc_fail(rq, 400, "InvalidRequest",
                                 "Input/writes/%zu must have the property \"rkey\"", i);
            }
            w->action = create ? REPO_CREATE : REPO_UPDATE;
            w->must_exist = !create;
            if ((st = prepare_record(rq, w, did, collection, rkey ? rkey : new_rkey(rq), value,
                                     validate, &statuses[i]))) {
                return st;
            }
        } else if (strcmp(type, AW "#delete") == 0) {
            if (!rkey || !syntax_nsid_valid(bytes_str(collection)) ||
                !syntax_rkey_valid(bytes_str(rkey))) {
                return xrpc_fail(rq, 400, "InvalidRequest",
                                 "Input/writes/%zu is not a valid delete", i);
            }
            *w = (struct repo_write){.action = REPO_DELETE,
                                     .collection = bytes_str(collection),
                                     .rkey = bytes_str(rkey),
                                     .must_exist = true};
        } else {
            return xrpc_fail(rq, 400, "InvalidRequest", "Input/writes/%zu has an unknown $type", i);
        }
    }
    struct repo_commit c;
    repo_commit_init(&c);
    if ((st = run_writes(rq, did, writes, n, swap_commit, &c))) {
        repo_commit_clear(&c);
        return st;
    }
    json_t *results = json_array();
    for (size_t i = 0; i < n; i++) {
        struct repo_write *w = &writes[i];
        if (w->action == REPO_DELETE) {
            json_array_append_new(results, json_pack("{s:s}", "$type", AW "#deleteResult"));
            continue;
        }
        json_array_append_new(
            results, json_pack("{s:s,s:s,s:s,s:s*}", "$type",
                               w->action == REPO_CREATE ? AW "#createResult" : AW "#updateResult",
                               "uri", uri_of(rq, did, w), "cid", cid_str(rq, &w->cid),
                               "validationStatus", statuses[i]));
    }
    json_t *out = json_pack("{s:o}", "results", results);
    if (!c.empty) {
        json_object_set_new(out, "commit", commit_json(&c, rq));
    }
    repo_commit_clear(&c);
    return xrpc_reply_json(rq, 200, out);
}
