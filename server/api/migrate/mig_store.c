/* mig_store.c - migration jobs in PostgreSQL (mig_store.h). */
#include "api/migrate/mig_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api/common/app.h"
#include "core/sha256.h"
#include "crypto/seal.h"

#define SECRETS_CONTEXT "pds migration credentials v1"

static uint8_t secrets_key[SEAL_KEY_BYTES];
static bool secrets_key_ok;
static pthread_once_t secrets_once = PTHREAD_ONCE_INIT;

/* A key of its own, derived from the signing-key seal key (itself from the PLC rotation key),
 * so a leaked credential blob and a leaked signing-key blob do not share a key. */
static void derive_secrets_key(void)
{
    const struct app *app = app_get();
    if (!app) {
        return;
    }
    uint8_t material[SEAL_KEY_BYTES + sizeof(SECRETS_CONTEXT)];
    memcpy(material, app->seal_key, SEAL_KEY_BYTES);
    memcpy(material + SEAL_KEY_BYTES, SECRETS_CONTEXT, sizeof(SECRETS_CONTEXT));
    secrets_key_ok = seal_derive_key(bytes_of(material, sizeof material), secrets_key) == ERR_OK;
    sodium_memzero(material, sizeof material);
}

static const uint8_t *key(void)
{
    pthread_once(&secrets_once, derive_secrets_key);
    return secrets_key_ok ? secrets_key : NULL;
}

static void put(json_t *o, const char *k, const char *v)
{
    if (v) {
        json_object_set_new(o, k, json_string(v));
    }
}

/* sec as a sealed blob in out. */
static enum err seal_secrets(const struct mig_secrets *sec, struct buf *out)
{
    if (!key()) {
        return ERR_INTERNAL;
    }
    json_t *o = json_object();
    put(o, "remoteAccess", sec->remote_access);
    put(o, "remoteRefresh", sec->remote_refresh);
    put(o, "password", sec->password);
    put(o, "plcToken", sec->plc_token);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o); /* jansson frees without wiping: keep the strings short-lived */
    if (!text) {
        return ERR_INTERNAL;
    }
    size_t n = strlen(text);
    enum err e = seal_box(key(), bytes_of(text, n), out);
    sodium_memzero(text, n);
    free(text);
    return e;
}

static enum err unseal_secrets(struct bytes sealed, struct mig_secrets *sec)
{
    if (!sealed.len) {
        return ERR_OK;
    }
    if (!key()) {
        return ERR_INTERNAL;
    }
    uint8_t plain[SEAL_PLAIN_MAX + 1];
    size_t n = 0;
    enum err e = seal_open(key(), sealed, plain, SEAL_PLAIN_MAX, &n);
    if (e) {
        return e;
    }
    plain[n] = '\0';
    json_t *o = json_loadb((const char *)plain, n, 0, NULL);
    sodium_memzero(plain, sizeof plain);
    if (!json_is_object(o)) {
        json_decref(o);
        return ERR_INVALID;
    }
    mig_secret_set(&sec->remote_access, json_string_value(json_object_get(o, "remoteAccess")));
    mig_secret_set(&sec->remote_refresh, json_string_value(json_object_get(o, "remoteRefresh")));
    mig_secret_set(&sec->password, json_string_value(json_object_get(o, "password")));
    mig_secret_set(&sec->plc_token, json_string_value(json_object_get(o, "plcToken")));
    json_decref(o);
    return ERR_OK;
}

static void hash_token(const char *token, uint8_t out[SHA256_BYTES])
{
    sha256(token, strlen(token), out);
}

enum err mig_store_create(struct db *db, const struct mig_job *j, const char *access_token,
                          int64_t *id)
{
    struct buf sealed;
    buf_init(&sealed, SEAL_PLAIN_MAX + SEAL_OVERHEAD_BYTES);
    enum err e = seal_secrets(&j->sec, &sealed);
    uint8_t h[SHA256_BYTES];
    if (access_token) {
        hash_token(access_token, h);
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, j->dir == MIG_IN ? "in" : "out");
    db_param_text(&p, j->did);
    db_param_text(&p, j->created_by);
    db_param_text(&p, j->old_url);
    db_param_text(&p, j->new_url);
    db_param_text(&p, j->old_handle);
    db_param_text(&p, j->new_handle);
    db_param_text(&p, j->email);
    db_param_text(&p, j->invite_code);
    db_param_bytes(&p, buf_bytes(&sealed));
    if (access_token) {
        db_param_bytes(&p, bytes_of(h, sizeof h));
    } else {
        db_param_text(&p, NULL);
    }
    PGresult *r = NULL;
    if (!e) {
        e = db_query(db,
                     "INSERT INTO migration_job (direction, did, state, created_by, old_url,"
                     " new_url, old_handle, new_handle, email, invite_code, secrets, access_hash)"
                     " VALUES ($1, $2, 'preflight', $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                     " RETURNING id",
                     &p, &r);
    }
    if (!e) {
        *id = db_col_i64(r, 0, 0);
    }
    PQclear(r);
    sodium_memzero(sealed.ptr, sealed.cap);
    buf_clear(&sealed);
    return e;
}

static char *dup_col(const PGresult *r, int col)
{
    const char *s = db_col_text(r, 0, col);
    return s ? xstrndup(s, strlen(s)) : NULL;
}

static json_t *json_col(const PGresult *r, int col)
{
    const char *s = db_col_text(r, 0, col);
    return s ? json_loads(s, 0, NULL) : NULL;
}

enum err mig_store_load(struct db *db, int64_t id, struct mig_job *out)
{
    mig_job_clear(out);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    PGresult *r;
    enum err e = db_query(db,
                          "SELECT direction, did, state, step, created_by, old_url, new_url,"
                          " old_handle, new_handle, email, invite_code, rotation_key, plan,"
                          " progress, attempts, secrets,"
                          " ARRAY(SELECT name FROM migration_step WHERE job_id = $1)::text"
                          " FROM migration_job WHERE id = $1",
                          &p, &r);
    if (e) {
        return e;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ERR_NOT_FOUND;
    }
    out->id = id;
    out->dir = strcmp(db_col_text(r, 0, 0), "in") == 0 ? MIG_IN : MIG_OUT;
    out->did = dup_col(r, 1);
    out->state = dup_col(r, 2);
    out->step = dup_col(r, 3);
    out->created_by = dup_col(r, 4);
    out->old_url = dup_col(r, 5);
    out->new_url = dup_col(r, 6);
    out->old_handle = dup_col(r, 7);
    out->new_handle = dup_col(r, 8);
    out->email = dup_col(r, 9);
    out->invite_code = dup_col(r, 10);
    out->rotation_key = dup_col(r, 11);
    out->plan = json_col(r, 12);
    out->progress = json_col(r, 13);
    if (!out->progress) {
        out->progress = json_object();
    }
    out->attempts = (int)db_col_i64(r, 0, 14);
    /* "{a,b}" from the ::text cast: step names hold only [a-z_] */
    const char *steps = db_col_text(r, 0, 16);
    for (int s = 0; steps && s < MIG_STEP_COUNT; s++) {
        const char *name = mig_step_name((enum mig_step)s);
        size_t n = strlen(name);
        for (const char *q = strstr(steps, name); q; q = strstr(q + 1, name)) {
            if ((q[-1] == '{' || q[-1] == ',') && (q[n] == ',' || q[n] == '}')) {
                out->done[s] = true;
                break;
            }
        }
    }
    e = unseal_secrets(db_col_bytes(r, 0, 15), &out->sec);
    PQclear(r);
    return e;
}

enum err mig_store_find(struct db *db, const char *did, bool open_only, int64_t *id)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_bool(&p, open_only);
    PGresult *r;
    enum err e = db_query(db,
                          "SELECT id FROM migration_job WHERE did = $1 AND (NOT $2 OR state NOT IN"
                          " ('done', 'cancelled'))"
                          " ORDER BY (state NOT IN ('done', 'cancelled')) DESC, id DESC"
                          " LIMIT 1",
                          &p, &r);
    if (e) {
        return e;
    }
    e = PQntuples(r) ? ERR_OK : ERR_NOT_FOUND;
    *id = e ? 0 : db_col_i64(r, 0, 0);
    PQclear(r);
    return e;
}

bool mig_store_check_access(struct db *db, int64_t id, const char *token)
{
    if (!token || strlen(token) != MIG_ACCESS_TOKEN_LEN) {
        return false;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    PGresult *r;
    if (db_query(db, "SELECT access_hash FROM migration_job WHERE id = $1", &p, &r)) {
        return false;
    }
    uint8_t h[SHA256_BYTES];
    hash_token(token, h);
    struct bytes stored = PQntuples(r) ? db_col_bytes(r, 0, 0) : bytes_of(NULL, 0);
    bool ok = stored.len == SHA256_BYTES && sodium_memcmp(stored.ptr, h, SHA256_BYTES) == 0;
    PQclear(r);
    return ok;
}

enum err mig_store_set_access(struct db *db, int64_t id, const char *token)
{
    uint8_t h[SHA256_BYTES];
    hash_token(token, h);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_bytes(&p, bytes_of(h, sizeof h));
    return db_exec(db, "UPDATE migration_job SET access_hash = $2 WHERE id = $1", &p, NULL);
}

enum err mig_store_claim(struct db *db, const char *owner, int64_t *id)
{
    *id = 0;
    enum err e = db_begin(db);
    PGresult *r = NULL;
    if (!e) {
        e = db_query(db,
                     "SELECT id FROM migration_job WHERE state IN ('preflight', 'running')"
                     " AND next_run_at <= now() AND (lease_until IS NULL OR lease_until < now())"
                     " ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                     NULL, &r);
    }
    if (!e && PQntuples(r) == 1) {
        int64_t got = db_col_i64(r, 0, 0);
        struct db_params p;
        db_params_init(&p);
        db_param_i64(&p, got);
        db_param_text(&p, owner);
        db_param_i64(&p, MIG_LEASE_MS);
        e = db_exec(db,
                    "UPDATE migration_job SET lease_owner = $2,"
                    " lease_until = now() + make_interval(secs => $3 / 1000.0) WHERE id = $1",
                    &p, NULL);
        if (!e) {
            *id = got;
        }
    }
    PQclear(r);
    if (!e) {
        e = db_commit(db);
    }
    if (e) {
        db_rollback(db);
        *id = 0;
    }
    return e;
}

enum err mig_store_renew(struct db *db, int64_t id, const char *owner, bool *held)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, owner);
    db_param_i64(&p, MIG_LEASE_MS);
    int64_t n = 0;
    enum err e = db_exec(db,
                         "UPDATE migration_job SET lease_until = now() + make_interval(secs => $3 /"
                         " 1000.0) WHERE id = $1 AND lease_owner = $2"
                         " AND state IN ('preflight', 'running')",
                         &p, &n);
    *held = !e && n == 1;
    return e;
}

enum err mig_store_release(struct db *db, int64_t id, const char *owner)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, owner);
    return db_exec(db,
                   "UPDATE migration_job SET lease_owner = NULL, lease_until = NULL"
                   " WHERE id = $1 AND lease_owner = $2",
                   &p, NULL);
}

enum err mig_store_step_done(struct db *db, int64_t id, enum mig_step s, json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, mig_step_name(s));
    db_param_text(&p, text ? text : "{}");
    enum err e = db_begin(db);
    if (!e) {
        e = db_exec(db,
                    "INSERT INTO migration_step (job_id, name, detail) VALUES ($1, $2, $3::jsonb)"
                    " ON CONFLICT (job_id, name) DO UPDATE SET detail = EXCLUDED.detail,"
                    " done_at = now()",
                    &p, NULL);
    }
    if (!e) {
        struct db_params q;
        db_params_init(&q);
        db_param_i64(&q, id);
        e = db_exec(db,
                    "UPDATE migration_job SET attempts = 0, error = NULL, error_code = NULL,"
                    " updated_at = now() WHERE id = $1",
                    &q, NULL);
    }
    if (!e) {
        e = db_commit(db);
    }
    if (e) {
        db_rollback(db);
    }
    free(text);
    return e;
}

json_t *mig_store_step_detail(struct db *db, int64_t id, enum mig_step s)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, mig_step_name(s));
    PGresult *r;
    if (db_query(db, "SELECT detail FROM migration_step WHERE job_id = $1 AND name = $2", &p, &r)) {
        return NULL;
    }
    json_t *out = PQntuples(r) ? json_col(r, 0) : NULL;
    PQclear(r);
    return out;
}

enum err mig_store_steps_reset(struct db *db, int64_t id, enum mig_step from)
{
    const char *names[MIG_STEP_COUNT];
    size_t n = 0;
    for (int s = from; s < MIG_STEP_COUNT; s++) {
        names[n++] = mig_step_name((enum mig_step)s);
    }
    struct buf arr;
    buf_init(&arr, 4096);
    enum err e = buf_append_str(&arr, "{");
    for (size_t i = 0; !e && i < n; i++) {
        e = buf_appendf(&arr, "%s%s", i ? "," : "", names[i]);
    }
    if (!e) {
        e = buf_append_str(&arr, "}");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, (const char *)arr.ptr);
    if (!e) {
        e = db_exec(db, "DELETE FROM migration_step WHERE job_id = $1 AND name = ANY ($2::text[])",
                    &p, NULL);
    }
    buf_clear(&arr);
    return e;
}

enum err mig_store_set_state(struct db *db, int64_t id, const char *state, const char *step,
                             const char *code, const char *error)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, state);
    db_param_text(&p, step);
    db_param_text(&p, code);
    db_param_text(&p, error);
    return db_exec(db,
                   "UPDATE migration_job SET state = $2, step = coalesce($3, step),"
                   " error_code = $4, error = $5, updated_at = now(),"
                   " next_run_at = now(),"
                   " attempts = CASE WHEN $4::text IS NULL THEN 0 ELSE attempts END,"
                   " lease_owner = CASE WHEN $2 IN ('preflight', 'running') THEN lease_owner END,"
                   " lease_until = CASE WHEN $2 IN ('preflight', 'running') THEN lease_until END,"
                   " finished_at = CASE WHEN $2 IN ('done', 'cancelled') THEN now() END"
                   " WHERE id = $1",
                   &p, NULL);
}

enum err mig_store_retry_later(struct db *db, int64_t id, const char *step, int64_t delay_ms,
                               const char *error)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, step);
    db_param_i64(&p, delay_ms);
    db_param_text(&p, error);
    return db_exec(db,
                   "UPDATE migration_job SET step = $2, attempts = attempts + 1,"
                   " next_run_at = now() + make_interval(secs => $3 / 1000.0),"
                   " error = $4, error_code = 'Retrying', updated_at = now() WHERE id = $1",
                   &p, NULL);
}

static enum err set_json(struct db *db, int64_t id, const char *sql, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, text ? text : "{}");
    enum err e = db_exec(db, sql, &p, NULL);
    free(text);
    return e;
}

enum err mig_store_set_progress(struct db *db, int64_t id, json_t *progress)
{
    return set_json(db, id,
                    "UPDATE migration_job SET progress = $2::jsonb, updated_at = now()"
                    " WHERE id = $1",
                    progress);
}

enum err mig_store_set_plan(struct db *db, int64_t id, json_t *plan, const char *email,
                            const char *old_handle)
{
    char *text = json_dumps(plan, JSON_COMPACT);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, text ? text : "{}");
    db_param_text(&p, email);
    db_param_text(&p, old_handle);
    enum err e = db_exec(db,
                         "UPDATE migration_job SET plan = $2::jsonb, email = coalesce($3, email),"
                         " old_handle = coalesce($4, old_handle), updated_at = now()"
                         " WHERE id = $1",
                         &p, NULL);
    free(text);
    return e;
}

enum err mig_store_confirm(struct db *db, int64_t id, const char *handle, const char *invite_code)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, handle);
    db_param_text(&p, invite_code);
    int64_t n = 0;
    enum err e = db_exec(db,
                         "UPDATE migration_job SET new_handle = $2, invite_code = $3,"
                         " state = 'running', error = NULL, error_code = NULL, attempts = 0,"
                         " next_run_at = now(), updated_at = now()"
                         " WHERE id = $1 AND state = 'confirm'",
                         &p, &n);
    return e ? e : n == 1 ? ERR_OK : ERR_CONFLICT;
}

enum err mig_store_set_rotation_key(struct db *db, int64_t id, const char *did_key)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, did_key);
    return db_exec(db, "UPDATE migration_job SET rotation_key = $2 WHERE id = $1", &p, NULL);
}

enum err mig_store_save_secrets(struct db *db, int64_t id, const struct mig_secrets *sec)
{
    struct buf sealed;
    buf_init(&sealed, SEAL_PLAIN_MAX + SEAL_OVERHEAD_BYTES);
    enum err e = seal_secrets(sec, &sealed);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_bytes(&p, buf_bytes(&sealed));
    if (!e) {
        e = db_exec(db, "UPDATE migration_job SET secrets = $2 WHERE id = $1", &p, NULL);
    }
    buf_clear(&sealed);
    return e;
}

enum err mig_store_erase_secrets(struct db *db, int64_t id)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    return db_exec(db, "UPDATE migration_job SET secrets = NULL WHERE id = $1", &p, NULL);
}

/* ---- blobs ---- */

enum err mig_store_blobs_set(struct db *db, int64_t id, const struct inventory *inv)
{
    struct buf cids, sizes;
    buf_init(&cids, (size_t)1 << 30);
    buf_init(&sizes, (size_t)1 << 30);
    enum err e = buf_append_str(&cids, "{");
    if (!e) {
        e = buf_append_str(&sizes, "{");
    }
    for (size_t i = 0; !e && i < inv->nblobs; i++) {
        char c[CID_STR_MAX];
        cid_format(&inv->blobs[i].cid, c);
        e = buf_appendf(&cids, "%s%s", i ? "," : "", c);
        if (!e) {
            e = buf_appendf(&sizes, "%s%lld", i ? "," : "", (long long)inv->blobs[i].size);
        }
    }
    if (!e) {
        e = buf_append_str(&cids, "}");
    }
    if (!e) {
        e = buf_append_str(&sizes, "}");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, (const char *)cids.ptr);
    db_param_text(&p, (const char *)sizes.ptr);
    if (!e) {
        e = db_begin(db);
    }
    if (!e) {
        struct db_params d;
        db_params_init(&d);
        db_param_i64(&d, id);
        db_param_text(&d, (const char *)cids.ptr);
        e = db_exec(db,
                    "DELETE FROM migration_blob WHERE job_id = $1 AND NOT (cid = ANY ($2::text[]))",
                    &d, NULL);
    }
    if (!e) {
        e = db_exec(db,
                    "INSERT INTO migration_blob (job_id, cid, size)"
                    " SELECT $1, c, s FROM unnest($2::text[], $3::bigint[]) AS u(c, s)"
                    " ON CONFLICT (job_id, cid) DO UPDATE SET size = EXCLUDED.size",
                    &p, NULL);
    }
    if (!e) {
        e = db_commit(db);
    }
    if (e) {
        db_rollback(db);
    }
    buf_clear(&cids);
    buf_clear(&sizes);
    return e;
}

enum err mig_store_blobs_pending(struct db *db, int64_t id, size_t max, struct mig_blob **out,
                                 size_t *n)
{
    *out = NULL;
    *n = 0;
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_i64(&p, (int64_t)max);
    PGresult *r;
    enum err e = db_query(db,
                          "SELECT cid, size FROM migration_blob WHERE job_id = $1 AND NOT done"
                          " ORDER BY cid LIMIT $2",
                          &p, &r);
    if (e) {
        return e;
    }
    int rows = PQntuples(r);
    *out = xcalloc(rows ? (size_t)rows : 1, sizeof **out);
    for (int i = 0; i < rows; i++) {
        snprintf((*out)[i].cid, sizeof(*out)[i].cid, "%s", db_col_text(r, i, 0));
        (*out)[i].size = db_col_i64(r, i, 1);
    }
    *n = (size_t)rows;
    PQclear(r);
    return ERR_OK;
}

enum err mig_store_blob_result(struct db *db, int64_t id, const char *cid, bool ok,
                               const char *error)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    db_param_text(&p, cid);
    db_param_bool(&p, ok);
    db_param_text(&p, error);
    return db_exec(db,
                   "UPDATE migration_blob SET done = $3, error = $4,"
                   " attempts = attempts + CASE WHEN $3 THEN 0 ELSE 1 END"
                   " WHERE job_id = $1 AND cid = $2",
                   &p, NULL);
}

enum err mig_store_blob_counts(struct db *db, int64_t id, struct mig_blob_counts *out)
{
    memset(out, 0, sizeof *out);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    PGresult *r;
    enum err e = db_query(db,
                          "SELECT count(*), count(*) FILTER (WHERE done),"
                          " coalesce(sum(size), 0)::bigint,"
                          " coalesce(sum(size) FILTER (WHERE done), 0)::bigint,"
                          " count(*) FILTER (WHERE NOT done AND error IS NOT NULL)"
                          " FROM migration_blob WHERE job_id = $1",
                          &p, &r);
    if (e) {
        return e;
    }
    out->total = db_col_i64(r, 0, 0);
    out->done = db_col_i64(r, 0, 1);
    out->total_bytes = db_col_i64(r, 0, 2);
    out->done_bytes = db_col_i64(r, 0, 3);
    out->failed = db_col_i64(r, 0, 4);
    PQclear(r);
    return ERR_OK;
}
