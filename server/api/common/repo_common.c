/* repo_common.c - account lookup, availability, record JSON and checks. */
#include "api/common/repo_common.h"

#include "api/common/app.h"
#include "api/common/auth.h"
#include "core/dagcbor.h"
#include "core/ipldjson.h"
#include "core/lexicon.h"
#include "core/syntax.h"

/* Prepared: every public read starts here. */
static const struct db_stmt account_by_did = {
    "account_by_did", "SELECT did, handle, deactivated_at IS NOT NULL, takedown_ref IS NOT NULL"
                      " FROM account WHERE did = $1"};
static const struct db_stmt account_by_handle = {
    "account_by_handle", "SELECT did, handle, deactivated_at IS NOT NULL, takedown_ref IS NOT NULL"
                         " FROM account WHERE handle = $1"};

int api_account_param(struct xrpc_req *rq, const char *ident, struct db_params *p, bool *by_did)
{
    *by_did = strncmp(ident, "did:", 4) == 0;
    if (*by_did) {
        db_param_text(p, ident);
        return 1;
    }
    char norm[SYNTAX_HANDLE_BUF];
    if (syntax_handle_normalize(bytes_str(ident), norm, sizeof(norm))) {
        return 0; /* not a handle: not found */
    }
    db_param_text(p, arena_strndup(rq->arena, norm, strlen(norm)));
    return 1;
}

int api_account_find(struct xrpc_req *rq, const char *ident, bool *found, struct api_account *out)
{
    *found = false;
    memset(out, 0, sizeof(*out));
    struct db_params p;
    db_params_init(&p);
    bool by_did;
    if (!api_account_param(rq, ident, &p, &by_did)) {
        return 0;
    }
    PGresult *r;
    if (db_query_stmt_in(rq->db, rq->arena, by_did ? &account_by_did : &account_by_handle, &p,
                         &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return 0;
    }
    *found = true;
    out->did = db_col_text(r, 0, 0);
    out->handle = db_col_text(r, 0, 1);
    out->deactivated = db_col_bool(r, 0, 2);
    out->takendown = db_col_bool(r, 0, 3);
    return 0;
}

/* The caller as the reference's isUserOrAdmin(auth, did) sees it, for the OWNER reads. */
static int caller_of(struct xrpc_req *rq, enum api_read how, const struct auth **a)
{
    *a = NULL;
    if (how != API_READ_OWNER && how != API_READ_OWNER_TAKENDOWN) {
        return 0; /* the reference's ACTIVE, PUBLIC and STATUS reads take no credentials */
    }
    if (!xrpc_header(rq, "authorization")) {
        return 0;
    }
    unsigned scopes =
        AUTH_STANDARD | AUTH_OAUTH | (how == API_READ_OWNER_TAKENDOWN ? AUTH_TAKENDOWN : 0);
    return auth_optional(rq, scopes, a);
}

int api_repo_available(struct xrpc_req *rq, const char *ident, enum api_read how,
                       struct api_account *out)
{
    const struct auth *a;
    int st = caller_of(rq, how, &a);
    if (st) {
        return st;
    }
    bool found;
    if ((st = api_account_find(rq, ident, &found, out))) {
        return st;
    }
    if (how == API_READ_ACTIVE) {
        if (!found || out->takendown || out->deactivated) {
            memset(out, 0, sizeof(*out));
        }
        return 0;
    }
    /* messages name what the caller asked for, a handle too, as the reference's do */
    if (!found) {
        return xrpc_fail(rq, 400, "RepoNotFound", "Could not find repo for DID: %s", ident);
    }
    if (how == API_READ_STATUS) {
        return 0;
    }
    if (a && (a->kind == AUTH_KIND_ADMIN || (a->did && strcmp(a->did, out->did) == 0))) {
        return 0;
    }
    if (out->takendown) {
        return xrpc_fail(rq, 400, "RepoTakendown", "Repo has been takendown: %s", ident);
    }
    if (out->deactivated) {
        return xrpc_fail(rq, 400, "RepoDeactivated", "Repo has been deactivated: %s", ident);
    }
    return 0;
}

json_t *api_record_json(struct arena *a, struct bytes cbor)
{
    struct dm_value *v;
    if (dagcbor_decode(cbor, a, &v)) {
        return NULL;
    }
    return ipldjson_to_json(v);
}

const char *api_account_status(const struct api_account *acct)
{
    if (acct->takendown) {
        return "takendown";
    }
    if (acct->deactivated) {
        return "deactivated";
    }
    return NULL;
}

/* The reference's prepareWrite and validateRecord (packages/pds/src/repo/prepare.ts): its
 * "known" schemas are every record schema it bundles, which is what the catalog holds
 * (lexicons/ plus PDS_LEXICON_DIR). Every failure is 400 InvalidRequest with its message. */
int api_record_check(struct xrpc_req *rq, const char *collection, const char *rkey,
                     struct dm_value *record, int validate, const char **status)
{
    *status = NULL;
    if (!syntax_nsid_valid(bytes_str(collection))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid collection: %s", collection);
    }
    if (!syntax_rkey_valid(bytes_str(rkey))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid record key: %s", rkey);
    }
    if (record->kind != DM_MAP) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Record must be an object");
    }
    struct dm_value *type = dm_map_get(record, "$type");
    if (!type) {
        /* the reference fills in a missing $type from the collection */
        dm_map_put(rq->arena, record, "$type", dm_cstr(rq->arena, collection));
    } else if (type->kind != DM_STRING || !bytes_eq(type->u.str, bytes_str(collection))) {
        /* refused whatever `validate` says, as the reference does */
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid $type: expected %s, got %.*s",
                         collection, type->kind == DM_STRING ? (int)type->u.str.len : 0,
                         type->kind == DM_STRING ? (const char *)type->u.str.ptr : "");
    }
    if (validate == 0) {
        return 0; /* no validationStatus at all in the answer, as the reference */
    }
    const struct lexicon_catalog *lex = app_get()->lexicons;
    const struct lexicon_def *def = lex ? lexicon_catalog_lookup(lex, bytes_str(collection)) : NULL;
    if (!def || def->schema->type != LEXICON_RECORD) {
        if (validate == 1) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Unknown lexicon type: %s", collection);
        }
        *status = "unknown";
        return 0;
    }
    if (!lexicon_record_key_allows(def->schema->u.record.key, bytes_str(rkey))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid record key for %s: %s", collection,
                         rkey);
    }
    char msg[LEXICON_MSG_MAX];
    enum err e = lexicon_validate_record(lex, bytes_str(collection), record, msg);
    if (e == ERR_INVALID) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid %s record: %s", collection, msg);
    }
    if (e == ERR_NOT_FOUND) {
        /* a ref the catalog cannot resolve (an operator's schema naming one not loaded) */
        if (validate == 1) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Unknown lexicon type: %s", msg);
        }
        *status = "unknown";
        return 0;
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *status = "valid";
    return 0;
}
