/* subject.c - com.atproto.admin.{getSubjectStatus,updateSubjectStatus}: takedowns of
 * accounts (#repoRef), records (com.atproto.repo.strongRef) and blobs (#repoBlobRef), and
 * the admin's deactivation of accounts. The read paths honour the takedown columns:
 * account.takedown_ref (api_repo_available, the stream's #account), record.takedown_ref
 * (getRecord, listRecords) and blob.takedown_ref (getBlob). */
#include "api/account/account_ops.h"
#include "api/admin/admin_common.h"
#include "api/admin/admin.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "api/common/repo_common.h"
#include "core/syntax.h"

#define TYPE_REPO_REF          "com.atproto.admin.defs#repoRef"
#define TYPE_STRONG            "com.atproto.repo.strongRef"
#define TYPE_BLOB_REF          "com.atproto.admin.defs#repoBlobRef"
#define TAKEDOWN_REF_MAX_BYTES 1024 /* our bound on the free-text ref */

enum subject_kind {
    SUBJECT_REPO,
    SUBJECT_RECORD,
    SUBJECT_BLOB,
};

/* A record's place, from an at:// URI: at://<did or handle>/<collection>/<rkey>. */
struct record_ref {
    const char *did; /* resolved to the account's DID */
    const char *collection;
    const char *rkey;
};

/* Splits uri and finds its account. 400 InvalidRequest for a malformed URI; *found false
 * (0 returned) when the account is unknown. */
static int record_ref_parse(struct xrpc_req *rq, const char *uri, struct record_ref *out,
                            bool *found)
{
    *found = false;
    const char *prefix = "at://";
    if (!syntax_aturi_valid(bytes_str(uri)) || strncmp(uri, prefix, strlen(prefix)) != 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid uri: %s", uri);
    }
    const char *auth = uri + strlen(prefix);
    const char *s1 = strchr(auth, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s2 || strchr(s2 + 1, '/') || strpbrk(uri, "?#")) {
        return xrpc_fail(rq, 400, "InvalidRequest", "uri must name a record: %s", uri);
    }
    char *authority = arena_strndup(rq->arena, auth, (size_t)(s1 - auth));
    out->collection = arena_strndup(rq->arena, s1 + 1, (size_t)(s2 - s1 - 1));
    out->rkey = arena_strndup(rq->arena, s2 + 1, strlen(s2 + 1));
    if (!syntax_nsid_valid(bytes_str(out->collection)) ||
        !syntax_rkey_valid(bytes_str(out->rkey))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "uri must name a record: %s", uri);
    }
    struct api_account acct;
    int st = api_account_find(rq, authority, found, &acct);
    out->did = *found ? acct.did : authority;
    return st;
}

/* {applied, ref?} */
static json_t *status_attr(const char *ref)
{
    json_t *o = json_pack("{s:b}", "applied", ref != NULL);
    if (ref) {
        json_object_set_new(o, "ref", json_string(ref));
    }
    return o;
}

/* The account's status: 0 with *found, or 500 set. */
static int account_status(struct xrpc_req *rq, const char *did, bool *found, json_t **out)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT takedown_ref, deactivated_at IS NOT NULL FROM account WHERE did = $1",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *found = PQntuples(r) > 0;
    if (*found) {
        *out = json_pack("{s:{s:s,s:s},s:o,s:{s:b}}", "subject", "$type", TYPE_REPO_REF, "did", did,
                         "takedown", status_attr(db_col_text(r, 0, 0)), "deactivated", "applied",
                         db_col_bool(r, 0, 1));
    }
    return 0;
}

static int record_status(struct xrpc_req *rq, const char *uri, bool *found, json_t **out)
{
    struct record_ref ref;
    int st = record_ref_parse(rq, uri, &ref, found);
    if (st || !*found) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, ref.did);
    db_param_text(&p, ref.collection);
    db_param_text(&p, ref.rkey);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT cid, takedown_ref FROM record"
                    " WHERE did = $1 AND collection = $2 AND rkey = $3",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    struct cid c;
    *found = PQntuples(r) > 0 && cid_from_bytes(db_col_bytes(r, 0, 0), &c) == ERR_OK;
    if (*found) {
        char cs[CID_STR_MAX];
        cid_format(&c, cs);
        char *norm = arena_alloc(rq->arena, strlen(uri) + strlen(ref.did) + 8);
        snprintf(norm, strlen(uri) + strlen(ref.did) + 8, "at://%s/%s/%s", ref.did, ref.collection,
                 ref.rkey);
        *out = json_pack("{s:{s:s,s:s,s:s},s:o}", "subject", "$type", TYPE_STRONG, "uri", norm,
                         "cid", cs, "takedown", status_attr(db_col_text(r, 0, 1)));
    }
    return 0;
}

static int blob_status(struct xrpc_req *rq, const char *did, const char *cid_s, bool *found,
                       json_t **out)
{
    struct cid c;
    if (cid_parse_str(cid_s, &c)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid cid: %s", cid_s);
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_bytes(&p, cid_bytes(&c));
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT takedown_ref FROM blob WHERE did = $1 AND cid = $2",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *found = PQntuples(r) > 0;
    if (*found) {
        *out = json_pack("{s:{s:s,s:s,s:s},s:o}", "subject", "$type", TYPE_BLOB_REF, "did", did,
                         "cid", cid_s, "takedown", status_attr(db_col_text(r, 0, 0)));
    }
    return 0;
}

/* com.atproto.admin.getSubjectStatus */
int api_admin_get_subject_status(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *did, *uri, *blob;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = xrpc_param_str(rq, "did", false, &did)) ||
        (st = xrpc_param_str(rq, "uri", false, &uri)) ||
        (st = xrpc_param_str(rq, "blob", false, &blob))) {
        return st;
    }
    bool found = false;
    json_t *out = NULL;
    if (blob) {
        if (!did) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Must provide a did to request blob state");
        }
        st = blob_status(rq, did, blob, &found, &out);
    } else if (uri) {
        st = record_status(rq, uri, &found, &out);
    } else if (did) {
        st = account_status(rq, did, &found, &out);
    } else {
        return xrpc_fail(rq, 400, "InvalidRequest", "No provided subject");
    }
    if (st) {
        return st;
    }
    if (!found) {
        return xrpc_fail(rq, 400, "NotFound", "Subject not found");
    }
    return xrpc_reply_json(rq, 200, out);
}

/* The subject's kind: by $type, or for a subject without one, by its fields. */
static int subject_kind_of(struct xrpc_req *rq, json_t *subject, enum subject_kind *out)
{
    const char *type = json_string_value(json_object_get(subject, "$type"));
    if (type ? strcmp(type, TYPE_STRONG) == 0 : json_object_get(subject, "uri") != NULL) {
        *out = SUBJECT_RECORD;
    } else if (type ? strcmp(type, TYPE_BLOB_REF) == 0 : json_object_get(subject, "cid") != NULL) {
        *out = SUBJECT_BLOB;
    } else if (type ? strcmp(type, TYPE_REPO_REF) == 0 : json_object_get(subject, "did") != NULL) {
        *out = SUBJECT_REPO;
    } else {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid subject (%s)", type ? type : "none");
    }
    return 0;
}

/* A required string field of the subject. */
static int subject_str(struct xrpc_req *rq, json_t *subject, const char *key, const char **out)
{
    *out = NULL; /* set on every path: gcc cannot see that xrpc_fail never returns 0 */
    json_t *v = json_object_get(subject, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/subject/%s must be a string", key);
    }
    *out = json_string_value(v);
    return 0;
}

static int fail_not_found(struct xrpc_req *rq, enum err e, const char *what)
{
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 400, "NotFound", "Subject not found: no such %s", what);
    }
    log_error(&rq->log, "could not update the %s: %s", what, err_str(e));
    return xrpc_fail(rq, 500, NULL, NULL);
}

static int takedown_record(struct xrpc_req *rq, json_t *subject, const char *ref)
{
    const char *uri;
    struct record_ref rr;
    bool found;
    int st;
    if ((st = subject_str(rq, subject, "uri", &uri)) ||
        (st = record_ref_parse(rq, uri, &rr, &found))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, rr.did);
    db_param_text(&p, rr.collection);
    db_param_text(&p, rr.rkey);
    db_param_text(&p, ref);
    int64_t n = 0;
    if (found && db_exec(rq->db,
                         "UPDATE record SET takedown_ref = $4"
                         " WHERE did = $1 AND collection = $2 AND rkey = $3",
                         &p, &n)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (n == 0) {
        return fail_not_found(rq, ERR_NOT_FOUND, "record");
    }
    log_info(&rq->log, "record %s %s", uri, ref ? "taken down" : "restored");
    return 0;
}

static int takedown_blob(struct xrpc_req *rq, json_t *subject, const char *ref)
{
    const char *did, *cid_s;
    struct cid c;
    int st;
    if ((st = subject_str(rq, subject, "did", &did)) ||
        (st = subject_str(rq, subject, "cid", &cid_s))) {
        return st;
    }
    if (cid_parse_str(cid_s, &c)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid cid: %s", cid_s);
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_bytes(&p, cid_bytes(&c));
    db_param_text(&p, ref);
    int64_t n;
    if (db_exec(rq->db, "UPDATE blob SET takedown_ref = $3 WHERE did = $1 AND cid = $2", &p, &n)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (n == 0) {
        return fail_not_found(rq, ERR_NOT_FOUND, "blob");
    }
    log_info(&rq->log, "blob %s of %s %s", cid_s, did, ref ? "taken down" : "restored");
    return 0;
}

/* Applies takedown (may be NULL) and deactivated (may be NULL) to an account. Neither:
 * announces the account's current status again (#account), as the reference does. */
static int update_account(struct xrpc_req *rq, const char *did, json_t *takedown,
                          json_t *deactivated)
{
    bool applied;
    const char *ref;
    int st;
    enum err e;
    if (takedown) {
        if ((st = admin_takedown_ref(rq, takedown, &applied, &ref))) {
            return st;
        }
        if ((e = account_set_takedown(rq->db, did, ref))) {
            return fail_not_found(rq, e, "account");
        }
        log_info(&rq->log, "account %s %s", did, ref ? "taken down" : "restored");
    }
    if (deactivated) {
        json_t *a = json_object_get(deactivated, "applied");
        if (!json_is_boolean(a)) {
            return xrpc_fail(rq, 400, "InvalidRequest",
                             "Input/deactivated/applied must be a boolean");
        }
        e = json_is_true(a) ? account_deactivate(rq->db, did, 0) : account_activate(rq->db, did);
        if (e) {
            return fail_not_found(rq, e, "account");
        }
        log_info(&rq->log, "account %s %s", did, json_is_true(a) ? "deactivated" : "activated");
    }
    if (!takedown && !deactivated) {
        /* re-applying the current takedown state emits #account with the current status */
        struct db_params p;
        db_params_init(&p);
        db_param_text(&p, did);
        PGresult *r;
        if (db_query_in(rq->db, rq->arena, "SELECT takedown_ref FROM account WHERE did = $1", &p,
                        &r)) {
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        if (PQntuples(r) == 0) {
            return fail_not_found(rq, ERR_NOT_FOUND, "account");
        }
        if ((e = account_set_takedown(rq->db, did, db_col_text(r, 0, 0)))) {
            return fail_not_found(rq, e, "account");
        }
    }
    return 0;
}

/* com.atproto.admin.updateSubjectStatus */
int api_admin_update_subject_status(struct xrpc_req *rq)
{
    const struct auth *a;
    json_t *subject, *takedown, *deactivated;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = input_object(rq, "subject", true, &subject)) ||
        (st = input_object(rq, "takedown", false, &takedown)) ||
        (st = input_object(rq, "deactivated", false, &deactivated))) {
        return st;
    }
    json_t *ref = takedown ? json_object_get(takedown, "ref") : NULL;
    if (json_is_string(ref) && json_string_length(ref) > TAKEDOWN_REF_MAX_BYTES) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/takedown/ref is too long");
    }
    if (takedown && json_is_true(json_object_get(takedown, "applied")) && deactivated &&
        json_is_false(json_object_get(deactivated, "applied"))) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "Cannot activate and takedown an account at the same time");
    }
    enum subject_kind kind;
    if ((st = subject_kind_of(rq, subject, &kind))) {
        return st;
    }
    bool applied;
    const char *tref = NULL;
    if (takedown && kind != SUBJECT_REPO &&
        (st = admin_takedown_ref(rq, takedown, &applied, &tref))) {
        return st;
    }
    const char *did;
    switch (kind) {
    case SUBJECT_REPO:
        if ((st = subject_str(rq, subject, "did", &did)) ||
            (st = update_account(rq, did, takedown, deactivated))) {
            return st;
        }
        break;
    case SUBJECT_RECORD:
        if (takedown && (st = takedown_record(rq, subject, tref))) {
            return st;
        }
        break;
    case SUBJECT_BLOB:
        if (takedown && (st = takedown_blob(rq, subject, tref))) {
            return st;
        }
        break;
    }
    json_t *out = json_pack("{s:O}", "subject", subject);
    if (takedown) {
        json_object_set(out, "takedown", takedown);
    }
    return xrpc_reply_json(rq, 200, out);
}
