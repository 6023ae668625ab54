/* request.c - the oauth_request table. */
#include "oauth/request.h"

#include <stdlib.h>
#include <string.h>

#include "oauth/oauth.h"

static void json_free(void *p)
{
    json_decref(p);
}

static json_t *json_in(struct arena *a, const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    if (j) {
        arena_defer(a, json_free, j);
    }
    return j;
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT);
}

enum err request_create(struct db *db, const char *client_id, const json_t *client_auth,
                        const json_t *params, int64_t ttl_s, char out[REQUEST_ID_CHARS + 1])
{
    oauth_random_id(REQUEST_ID_PREFIX, REQUEST_ID_BYTES, out);
    char *auth = dump(client_auth), *par = dump(params);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, out);
    db_param_text(&p, client_id);
    db_param_text(&p, auth);
    db_param_text(&p, par);
    db_param_i64(&p, ttl_s);
    enum err e = auth && par ? db_exec(db,
                                       "INSERT INTO oauth_request (id, client_id, client_auth,"
                                       " parameters, expires_at) VALUES ($1, $2, $3, $4,"
                                       " now() + make_interval(secs => $5::bigint))",
                                       &p, NULL)
                             : ERR_INTERNAL;
    free(auth);
    free(par);
    return e;
}

const char *request_id_from_uri(struct arena *a, const char *request_uri)
{
    size_t n = strlen(REQUEST_URI_PREFIX);
    if (!request_uri || strncmp(request_uri, REQUEST_URI_PREFIX, n) != 0) {
        return NULL;
    }
    const char *id = request_uri + n;
    if (strlen(id) != REQUEST_ID_CHARS || strncmp(id, REQUEST_ID_PREFIX, 4) != 0) {
        return NULL;
    }
    for (const char *p = id + 4; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
            return NULL;
        }
    }
    return arena_strndup(a, id, strlen(id));
}

#define REQUEST_COLUMNS                                                                            \
    "id, client_id, client_auth::text, parameters::text, device_hash, did, expires_at < now()"

static void fill(struct arena *a, PGresult *r, struct oauth_request *out)
{
    out->id = db_col_text(r, 0, 0);
    out->client_id = db_col_text(r, 0, 1);
    out->client_auth = json_in(a, db_col_text(r, 0, 2));
    out->params = json_in(a, db_col_text(r, 0, 3));
    out->device_hash = db_col_null(r, 0, 4) ? NULL : db_col_text(r, 0, 4);
    out->did = db_col_null(r, 0, 5) ? NULL : db_col_text(r, 0, 5);
    out->expired = db_col_bool(r, 0, 6);
}

enum err request_load(struct db *db, struct arena *a, const char *id, struct oauth_request *out,
                      bool *found)
{
    memset(out, 0, sizeof *out);
    *found = false;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, id);
    PGresult *r;
    enum err e =
        db_query_in(db, a, "SELECT " REQUEST_COLUMNS " FROM oauth_request WHERE id = $1", &p, &r);
    if (e == ERR_OK && PQntuples(r) == 1) {
        fill(a, r, out);
        *found = out->params && out->client_auth;
    }
    return e;
}

enum err request_touch(struct db *db, const char *id, const char *device_hash, int64_t idle_s,
                       bool *ok)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, id);
    db_param_text(&p, device_hash);
    db_param_i64(&p, idle_s);
    int64_t n = 0;
    enum err e = db_exec(db,
                         "UPDATE oauth_request SET device_hash = $2,"
                         " expires_at = now() + make_interval(secs => $3::bigint)"
                         " WHERE id = $1 AND did IS NULL AND expires_at > now()"
                         " AND (device_hash IS NULL OR device_hash = $2)",
                         &p, &n);
    *ok = e == ERR_OK && n == 1;
    return e;
}

enum err request_authorize(struct db *db, const char *id, const char *device_hash, const char *did,
                           const json_t *params, int64_t code_ttl_s, char code[CODE_CHARS + 1],
                           bool *ok)
{
    *ok = false;
    oauth_random_id(CODE_PREFIX, CODE_BYTES, code);
    char hash[65];
    oauth_hash_hex(code, hash);
    char *par = dump(params);
    if (!par) {
        return ERR_INTERNAL;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, id);
    db_param_text(&p, device_hash);
    db_param_text(&p, did);
    db_param_text(&p, par);
    db_param_text(&p, hash);
    db_param_i64(&p, code_ttl_s);
    int64_t n = 0;
    enum err e = db_exec(db,
                         "UPDATE oauth_request SET did = $3, parameters = $4, code_hash = $5,"
                         " expires_at = now() + make_interval(secs => $6::bigint)"
                         " WHERE id = $1 AND device_hash = $2 AND did IS NULL"
                         " AND expires_at > now()",
                         &p, &n);
    free(par);
    *ok = e == ERR_OK && n == 1;
    return e;
}

enum err request_consume_code(struct db *db, struct arena *a, const char *code,
                              struct oauth_request *out, bool *found)
{
    memset(out, 0, sizeof *out);
    *found = false;
    char hash[65];
    oauth_hash_hex(code, hash);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, hash);
    PGresult *r;
    enum err e = db_query_in(db, a,
                             "DELETE FROM oauth_request WHERE code_hash = $1 AND did IS NOT NULL"
                             " RETURNING " REQUEST_COLUMNS,
                             &p, &r);
    if (e == ERR_OK && PQntuples(r) == 1) {
        fill(a, r, out);
        *found = out->params && out->client_auth;
    }
    return e;
}

enum err request_delete(struct db *db, const char *id)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, id);
    return db_exec(db, "DELETE FROM oauth_request WHERE id = $1", &p, NULL);
}
