/* repo_common.c - account lookup, availability, record JSON and checks. */
#include "api/common/repo_common.h"

#include "api/common/app.h"
#include "api/common/auth.h"
#include "core/dagcbor.h"
#include "core/ipldjson.h"
#include "core/lexicon.h"
#include "core/syntax.h"

int api_account_find(struct xrpc_req *rq, const char *ident, bool *found, struct api_account *out)
{
    *found = false;
    memset(out, 0, sizeof(*out));
    struct db_params p;
    db_params_init(&p);
    const char *sql;
    if (strncmp(ident, "did:", 4) == 0) {
        sql = "SELECT did, handle, deactivated_at IS NOT NULL, takedown_ref IS NOT NULL"
              " FROM account WHERE did = $1";
        db_param_text(&p, ident);
    } else {
        char norm[SYNTAX_HANDLE_BUF];
        if (syntax_handle_normalize(bytes_str(ident), norm, sizeof(norm))) {
            return 0; /* not a handle: not found */
        }
        sql = "SELECT did, handle, deactivated_at IS NOT NULL, takedown_ref IS NOT NULL"
              " FROM account WHERE handle = $1";
        db_param_text(&p, arena_strndup(rq->arena, norm, strlen(norm)));
    }
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, sql, &p, &r)) {
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

int api_repo_available(struct xrpc_req *rq, const char *ident, struct api_account *out)
{
    bool found;
    int st = api_account_find(rq, ident, &found, out);
    if (st) {
        return st;
    }
    if (!found) {
        return xrpc_fail(rq, 400, "RepoNotFound", "Could not find repo for DID: %s", ident);
    }
    /* the admin and the account itself may read an inactive repository (migration) */
    const struct auth *a = NULL;
    if (xrpc_header(rq, "authorization")) {
        st = auth_optional(rq, AUTH_STANDARD | AUTH_OAUTH | AUTH_TAKENDOWN, &a);
        if (st) {
            return st;
        }
    }
    if (a && (a->kind == AUTH_KIND_ADMIN || (a->did && strcmp(a->did, out->did) == 0))) {
        return 0;
    }
    if (out->takendown) {
        return xrpc_fail(rq, 400, "RepoTakendown", "Repo has been takendown: %s", out->did);
    }
    if (out->deactivated) {
        return xrpc_fail(rq, 400, "RepoDeactivated", "Repo has been deactivated: %s", out->did);
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

int api_record_check(struct xrpc_req *rq, const char *collection, const char *rkey,
                     struct dm_value *record, int validate, const char **status)
{
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
        if (validate != 0) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Invalid $type: expected %s, got %.*s",
                             collection, type->kind == DM_STRING ? (int)type->u.str.len : 0,
                             type->kind == DM_STRING ? (const char *)type->u.str.ptr : "");
        }
    }
    *status = "unknown";
    const struct lexicon_catalog *lex = app_get()->lexicons;
    if (validate == 0) {
        return 0;
    }
    const struct lexicon_def *def = lex ? lexicon_catalog_lookup(lex, bytes_str(collection)) : NULL;
    if (!def) {
        if (validate == 1) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Lexicon not found: lex:%s", collection);
        }
        return 0;
    }
    if (def->schema->type == LEXICON_RECORD &&
        !lexicon_record_key_allows(def->schema->u.record.key, bytes_str(rkey))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid record key for %s: %s", collection,
                         rkey);
    }
    char msg[LEXICON_MSG_MAX];
    enum err e = lexicon_validate_record(lex, bytes_str(collection), record, msg);
    if (e == ERR_INVALID) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid %s record: %s", collection, msg);
    }
    if (e == ERR_NOT_FOUND) {
        if (validate == 1) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Lexicon not found: %s", msg);
        }
        return 0;
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *status = "valid";
    return 0;
}
