/* session.c - browser sign-in sessions in web_device_account. */
#include "web/session.h"

#include <string.h>

#include <sodium.h>

#include "core/sha256.h"
#include "web/csrf.h"

const char *web_device_hash(struct xrpc_req *rq, bool create)
{
    const char *id = web_device_id(rq, create);
    if (!id) {
        return NULL;
    }
    uint8_t d[SHA256_BYTES];
    sha256(id, strlen(id), d);
    char *hex = arena_alloc(rq->arena, WEB_DEVICE_HASH_CHARS + 1);
    sodium_bin2hex(hex, WEB_DEVICE_HASH_CHARS + 1, d, sizeof d);
    return hex;
}

enum err web_session_list(struct xrpc_req *rq, struct web_account **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const char *dev = web_device_hash(rq, false);
    if (!dev) {
        return ERR_OK;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, dev);
    db_param_i64(&p, WEB_SESSIONS_MAX);
    PGresult *r;
    enum err e = db_query_in(rq->db, rq->arena,
                             "SELECT d.did, a.handle, extract(epoch from d.authenticated_at)::int8,"
                             " a.deactivated_at IS NOT NULL"
                             " FROM web_device_account d JOIN account a ON a.did = d.did"
                             " WHERE d.device_hash = $1 AND a.takedown_ref IS NULL"
                             " ORDER BY d.authenticated_at DESC LIMIT $2",
                             &p, &r);
    if (e) {
        return e;
    }
    int rows = PQntuples(r);
    struct web_account *list = arena_zalloc(rq->arena, (size_t)(rows ? rows : 1) * sizeof *list);
    for (int i = 0; i < rows; i++) {
        list[i].did = db_col_text(r, i, 0);
        list[i].handle = db_col_null(r, i, 1) ? NULL : db_col_text(r, i, 1);
        list[i].authenticated_at = db_col_i64(r, i, 2);
        list[i].deactivated = db_col_bool(r, i, 3);
    }
    *out = list;
    *n = (size_t)rows;
    return ERR_OK;
}

enum err web_session_check(struct xrpc_req *rq, const char *did, int64_t max_age_s, bool *ok)
{
    *ok = false;
    const char *dev = web_device_hash(rq, false);
    if (!dev || !did) {
        return ERR_OK;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, dev);
    db_param_text(&p, did);
    db_param_i64(&p, max_age_s);
    int64_t n = 0;
    enum err e = db_exec(rq->db,
                         "UPDATE web_device_account SET last_used_at = now()"
                         " WHERE device_hash = $1 AND did = $2 AND ($3::bigint = 0 OR"
                         " authenticated_at > now() - make_interval(secs => $3::bigint))",
                         &p, &n);
    *ok = e == ERR_OK && n == 1;
    return e;
}

enum err web_session_add(struct xrpc_req *rq, const char *did)
{
    const char *dev = web_device_hash(rq, true);
    const char *ua = xrpc_header(rq, "user-agent");
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, dev);
    db_param_text(&p, did);
    db_param_textn(&p, ua ? ua : "", ua ? strnlen(ua, 512) : 0);
    db_param_text(&p, rq->client_ip);
    db_param_i64(&p, WEB_SESSIONS_MAX);
    /* one statement: record the sign-in, then keep only the newest sessions of the browser */
    return db_exec(rq->db,
                   "WITH up AS (INSERT INTO web_device_account (device_hash, did, user_agent,"
                   "   ip_address) VALUES ($1, $2, nullif($3, ''), $4)"
                   "   ON CONFLICT (device_hash, did) DO UPDATE SET authenticated_at = now(),"
                   "   last_used_at = now(), user_agent = EXCLUDED.user_agent,"
                   "   ip_address = EXCLUDED.ip_address RETURNING did)"
                   " DELETE FROM web_device_account WHERE device_hash = $1 AND did NOT IN"
                   " (SELECT did FROM up) AND did NOT IN (SELECT did FROM web_device_account"
                   "   WHERE device_hash = $1 ORDER BY authenticated_at DESC LIMIT $5::int - 1)",
                   &p, NULL);
}

enum err web_session_remove(struct xrpc_req *rq, const char *did)
{
    const char *dev = web_device_hash(rq, false);
    if (!dev) {
        return ERR_OK;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, dev);
    db_param_text(&p, did);
    return db_exec(rq->db, "DELETE FROM web_device_account WHERE device_hash = $1 AND did = $2", &p,
                   NULL);
}
