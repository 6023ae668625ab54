/* session.c - the oauth_session table. */
#include "oauth/session.h"

#include <stdlib.h>
#include <string.h>

#include "oauth/oauth.h"

static void json_free(void *p)
{
    json_decref(p);
}

static void pq_free(void *r)
{
    PQclear(r);
}

static json_t *json_in(struct arena *a, const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    if (j) {
        arena_defer(a, json_free, j);
    }
    return j;
}

#define SESSION_COLUMNS                                                                            \
    "id, did, client_id, client_auth::text, parameters::text, scope, dpop_jkt, device_hash,"       \
    " extract(epoch from created_at)::int8, extract(epoch from updated_at)::int8,"                 \
    " expires_at < now(), session_expires_at < now()"

static void fill(struct arena *a, PGresult *r, struct oauth_session *out)
{
    out->id = db_col_i64(r, 0, 0);
    out->did = db_col_text(r, 0, 1);
    out->client_id = db_col_text(r, 0, 2);
    out->client_auth = json_in(a, db_col_text(r, 0, 3));
    out->params = json_in(a, db_col_text(r, 0, 4));
    out->scope = db_col_text(r, 0, 5);
    out->dpop_jkt = db_col_text(r, 0, 6);
    out->device_hash = db_col_null(r, 0, 7) ? NULL : db_col_text(r, 0, 7);
    out->created_at = db_col_i64(r, 0, 8);
    out->updated_at = db_col_i64(r, 0, 9);
    out->access_expired = db_col_bool(r, 0, 10);
    out->session_expired = db_col_bool(r, 0, 11);
}

enum err session_create(struct db *db, const struct session_new *n,
                        char token_id[TOKEN_ID_CHARS + 1], char refresh[REFRESH_CHARS + 1],
                        int64_t *id)
{
    oauth_random_id(TOKEN_ID_PREFIX, TOKEN_ID_BYTES, token_id);
    char refresh_hash[65], code_hash[65];
    refresh[0] = '\0';
    if (n->refresh) {
        oauth_random_id(REFRESH_PREFIX, REFRESH_BYTES, refresh);
        oauth_hash_hex(refresh, refresh_hash);
    }
    if (n->code) {
        oauth_hash_hex(n->code, code_hash);
    }
    char *auth = json_dumps(n->client_auth, JSON_COMPACT);
    char *par = json_dumps(n->params, JSON_COMPACT);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, n->did);
    db_param_text(&p, n->client_id);
    db_param_text(&p, auth);
    db_param_text(&p, n->device_hash);
    db_param_text(&p, par);
    db_param_text(&p, n->scope);
    db_param_text(&p, n->dpop_jkt);
    db_param_text(&p, n->code ? code_hash : NULL);
    db_param_text(&p, token_id);
    db_param_text(&p, n->refresh ? refresh_hash : NULL);
    db_param_i64(&p, n->access_ttl_s);
    db_param_i64(&p, n->session_ttl_s);
    PGresult *r = NULL;
    enum err e = auth && par ? db_query(db,
                                        "INSERT INTO oauth_session (did, client_id, client_auth,"
                                        " device_hash, parameters, scope, dpop_jkt, code_hash,"
                                        " token_id, refresh_hash, expires_at, session_expires_at)"
                                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                                        " now() + make_interval(secs => $11::bigint),"
                                        " now() + make_interval(secs => $12::bigint))"
                                        " RETURNING id",
                                        &p, &r)
                             : ERR_INTERNAL;
    if (e == ERR_OK) {
        *id = db_col_i64(r, 0, 0);
        PQclear(r);
    }
    free(auth);
    free(par);
    return e;
}

enum err session_by_code(struct db *db, const char *code, int64_t *id)
{
    *id = 0;
    char hash[65];
    oauth_hash_hex(code, hash);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, hash);
    PGresult *r;
    enum err e = db_query(db, "SELECT id FROM oauth_session WHERE code_hash = $1", &p, &r);
    if (e == ERR_OK) {
        if (PQntuples(r) == 1) {
            *id = db_col_i64(r, 0, 0);
        }
        PQclear(r);
    }
    return e;
}

enum err session_by_refresh(struct db *db, struct arena *a, const char *refresh,
                            struct oauth_session *out, bool *found, bool *reused)
{
    memset(out, 0, sizeof *out);
    *found = *reused = false;
    char hash[65];
    oauth_hash_hex(refresh, hash);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, hash);
    PGresult *r;
    enum err e = db_query_in(
        db, a, "SELECT " SESSION_COLUMNS " FROM oauth_session WHERE refresh_hash = $1", &p, &r);
    if (e == ERR_OK && PQntuples(r) == 1) {
        fill(a, r, out);
        *found = out->params && out->client_auth;
        return ERR_OK;
    }
    if (e) {
        return e;
    }
    e = db_query_in(db, a, "SELECT session_id FROM oauth_used_refresh WHERE refresh_hash = $1", &p,
                    &r);
    if (e == ERR_OK && PQntuples(r) == 1) {
        out->id = db_col_i64(r, 0, 0);
        *reused = true;
    }
    return e;
}

enum err session_by_token(struct db *db, struct arena *a, const char *token_id,
                          struct oauth_session *out, bool *found)
{
    static const struct db_stmt by_token = {"oauth_session_by_token",
                                            "SELECT " SESSION_COLUMNS
                                            " FROM oauth_session WHERE token_id = $1"};
    memset(out, 0, sizeof *out);
    *found = false;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, token_id);
    PGresult *r;
    enum err e = db_query_stmt(db, &by_token, &p, &r);
    if (e == ERR_OK) {
        if (PQntuples(r) == 1) {
            fill(a, r, out);
            /* the strings point into r: keep it as long as the request */
            arena_defer(a, pq_free, r);
            *found = out->params && out->client_auth;
        } else {
            PQclear(r);
        }
    }
    return e;
}

enum err session_rotate(struct db *db, int64_t id, const char *old_refresh, const char *scope,
                        int64_t access_ttl_s, char token_id[TOKEN_ID_CHARS + 1],
                        char refresh[REFRESH_CHARS + 1], bool *ok)
{
    *ok = false;
    oauth_random_id(TOKEN_ID_PREFIX, TOKEN_ID_BYTES, token_id);
    oauth_random_id(REFRESH_PREFIX, REFRESH_BYTES, refresh);
    char old_hash[65], new_hash[65];
    oauth_hash_hex(old_refresh, old_hash);
    oauth_hash_hex(refresh, new_hash);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, old_hash);
    db_param_text(&p, token_id);
    db_param_text(&p, new_hash);
    db_param_text(&p, scope);
    db_param_i64(&p, access_ttl_s);
    int64_t n = 0;
    enum err e = db_exec(db,
                         "WITH u AS (UPDATE oauth_session SET token_id = $3, refresh_hash = $4,"
                         "   scope = $5, updated_at = now(),"
                         "   expires_at = now() + make_interval(secs => $6::bigint)"
                         "   WHERE id = $1 AND refresh_hash = $2 RETURNING id)"
                         " INSERT INTO oauth_used_refresh (refresh_hash, session_id)"
                         " SELECT $2, id FROM u",
                         &p, &n);
    *ok = e == ERR_OK && n == 1;
    return e;
}

enum err session_delete(struct db *db, int64_t id)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    return db_exec(db, "DELETE FROM oauth_session WHERE id = $1", &p, NULL);
}
