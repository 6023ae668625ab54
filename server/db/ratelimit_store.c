/* ratelimit_store.c - the rate limits' shared state in PostgreSQL. */
#include "db/ratelimit_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/repo_store.h"

#define I64_LIST_MAX (RL_STORE_BATCH_MAX * 21 + 3) /* "{" + n x ("-9223372036854775808,") + "}" */

/* A bigint[] literal "{1,2,3}" (sent as text and cast by the statement). */
static void i64_list(char out[I64_LIST_MAX], const int64_t *v, size_t n)
{
    size_t k = 0;
    out[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        k += (size_t)snprintf(out + k, I64_LIST_MAX - k, "%s%" PRId64, i ? "," : "", v[i]);
    }
    snprintf(out + k, I64_LIST_MAX - k, "}");
}

/* A text[] parameter in binary form; b must outlive the query. */
static enum err text_array(struct buf *b, const char *const *items, size_t n)
{
    struct bytes views[RL_STORE_BATCH_MAX * 8];
    if (n > ARRAY_LEN(views)) {
        return ERR_TOO_LARGE;
    }
    for (size_t i = 0; i < n; i++) {
        views[i] = bytes_str(items[i]);
    }
    return db_array_binary(b, DB_OID_TEXT, views, n);
}

static const struct db_stmt lease_stmt = {
    "rate_lease", "SELECT o_granted, o_total, o_start_ms FROM pds_rate_lease($1::text[],"
                  " $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])"};

enum err rl_store_lease(struct db *db, const struct rl_lease_req *req, size_t n,
                        struct rl_lease_res *res)
{
    if (n == 0 || n > RL_STORE_BATCH_MAX) {
        return ERR_INVALID;
    }
    const char *names[RL_STORE_BATCH_MAX], *keys[RL_STORE_BATCH_MAX];
    int64_t points[RL_STORE_BATCH_MAX], window[RL_STORE_BATCH_MAX];
    int64_t want[RL_STORE_BATCH_MAX], need[RL_STORE_BATCH_MAX];
    for (size_t i = 0; i < n; i++) {
        names[i] = req[i].name;
        keys[i] = req[i].key;
        points[i] = req[i].points;
        window[i] = req[i].window_ms;
        want[i] = req[i].want;
        need[i] = req[i].need;
    }
    struct buf nb, kb;
    buf_init(&nb, BUF_MAX_DEFAULT);
    buf_init(&kb, BUF_MAX_DEFAULT);
    char pl[I64_LIST_MAX], wl[I64_LIST_MAX], tl[I64_LIST_MAX], dl[I64_LIST_MAX];
    i64_list(pl, points, n);
    i64_list(wl, window, n);
    i64_list(tl, want, n);
    i64_list(dl, need, n);
    enum err e = text_array(&nb, names, n);
    if (!e) {
        e = text_array(&kb, keys, n);
    }
    PGresult *r = NULL;
    if (!e) {
        struct db_params p;
        db_params_init(&p);
        db_param_bytes(&p, buf_bytes(&nb));
        db_param_bytes(&p, buf_bytes(&kb));
        db_param_text(&p, pl);
        db_param_text(&p, wl);
        db_param_text(&p, tl);
        db_param_text(&p, dl);
        e = db_query_stmt(db, &lease_stmt, &p, &r);
    }
    if (!e && PQntuples(r) != (int)n) {
        e = ERR_DB;
    }
    for (size_t i = 0; !e && i < n; i++) {
        res[i].granted = db_col_i64(r, (int)i, 0);
        res[i].total = db_col_i64(r, (int)i, 1);
        res[i].start_ms = db_col_i64(r, (int)i, 2);
    }
    PQclear(r);
    buf_clear(&nb);
    buf_clear(&kb);
    return e;
}

static const struct db_stmt host_stmt = {
    "rate_host_events",
    "SELECT o_granted, round(o_used_second * 1000)::bigint, round(o_used_hour * 1000)::bigint,"
    " round(o_used_day * 1000)::bigint, o_now_ms"
    " FROM pds_host_events($1::bigint, $2::bigint, $3::bigint, $4::bigint[], $5::boolean)"};

enum err rl_store_host_events(struct db *db, const struct rl_host_events *q, int64_t *granted,
                              double used[3], int64_t *now_ms)
{
    char limits[I64_LIST_MAX];
    i64_list(limits, q->limits, 3);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, q->take);
    db_param_i64(&p, q->give_back);
    db_param_i64(&p, q->give_back_at_ms);
    db_param_text(&p, limits);
    db_param_bool(&p, q->force);
    PGresult *r;
    enum err e = db_query_stmt(db, &host_stmt, &p, &r);
    if (e) {
        return e;
    }
    *granted = db_col_i64(r, 0, 0);
    for (int i = 0; i < 3; i++) {
        used[i] = (double)db_col_i64(r, 0, 1 + i) / 1000.0; /* sent as milli-events */
    }
    if (now_ms) {
        *now_ms = db_col_i64(r, 0, 4);
    }
    PQclear(r);
    return ERR_OK;
}

enum err rl_store_process_demand(struct db *db, const char *process, double demand,
                                 double *total_demand, int *processes)
{
    char d[32];
    snprintf(d, sizeof d, "%.6f", demand);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, process);
    db_param_text(&p, d);
    PGresult *r;
    /* data-modifying CTEs run whether or not referenced; the final SELECT sees the table
     * as it was before them, hence the explicit freshness filter */
    enum err e = db_query(
        db,
        "WITH me AS (INSERT INTO host_budget_process (process, demand, seen_at)"
        " VALUES ($1, $2::float8, now()) ON CONFLICT (process) DO UPDATE"
        " SET demand = EXCLUDED.demand, seen_at = now() RETURNING demand),"
        " stale AS (DELETE FROM host_budget_process"
        " WHERE seen_at < now() - interval '10 seconds' AND process <> $1),"
        " stale_slowed AS (DELETE FROM host_budget_slowed"
        " WHERE seen_at < now() - interval '10 seconds'),"
        " others AS (SELECT coalesce(sum(demand), 0) AS demand, count(*) AS n"
        " FROM host_budget_process WHERE process <> $1"
        " AND seen_at >= now() - interval '10 seconds')"
        " SELECT round(1000 * ((SELECT demand FROM me) + others.demand))::bigint, 1 + others.n"
        " FROM others",
        &p, &r);
    if (e) {
        return e;
    }
    *total_demand = (double)db_col_i64(r, 0, 0) / 1000.0;
    *processes = (int)db_col_i64(r, 0, 1);
    PQclear(r);
    return ERR_OK;
}

enum err rl_store_process_leave(struct db *db, const char *process)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, process);
    enum err e = db_exec(db, "DELETE FROM host_budget_slowed WHERE process = $1", &p, NULL);
    if (!e) {
        e = db_exec(db, "DELETE FROM host_budget_process WHERE process = $1", &p, NULL);
    }
    return e;
}

enum err rl_store_slowed(struct db *db, const char *process, const struct rl_slowed *rows, size_t n)
{
    struct buf dids, nums;
    buf_init(&dids, BUF_MAX_HUGE);
    buf_init(&nums, BUF_MAX_HUGE);
    struct bytes *views = xmalloc((n ? n : 1) * sizeof *views);
    for (size_t i = 0; i < n; i++) {
        views[i] = bytes_str(rows[i].did);
    }
    enum err e = db_array_binary(&dids, DB_OID_TEXT, views, n);
    free(views);
    /* demand, share, refused as one flat text list read three at a time */
    for (size_t i = 0; i < n && !e; i++) {
        char t[96];
        int k = snprintf(t, sizeof t, "%s%.6f,%.6f,%" PRId64, i ? "," : "", rows[i].demand,
                         rows[i].share, rows[i].refused);
        e = buf_append(&nums, t, (size_t)k);
    }
    if (!e) {
        char *list = xprintf("{%.*s}", (int)nums.len, nums.ptr ? (const char *)nums.ptr : "");
        struct db_params p;
        db_params_init(&p);
        db_param_text(&p, process);
        db_param_bytes(&p, buf_bytes(&dids));
        db_param_text(&p, list);
        e = db_exec(
            db,
            "WITH v AS (SELECT $3::float8[] AS a), gone AS (DELETE FROM host_budget_slowed"
            " WHERE process = $1)"
            " INSERT INTO host_budget_slowed (did, process, demand, share, refused, seen_at)"
            " SELECT d, $1, v.a[3 * i - 2], v.a[3 * i - 1], v.a[3 * i]::bigint, now()"
            " FROM v, unnest($2::text[]) WITH ORDINALITY AS t (d, i)"
            " ON CONFLICT (did, process) DO UPDATE SET demand = EXCLUDED.demand,"
            " share = EXCLUDED.share, refused = EXCLUDED.refused, seen_at = now()",
            &p, NULL);
        free(list);
    }
    buf_clear(&dids);
    buf_clear(&nums);
    return e;
}

enum err rl_store_stats_add(struct db *db, const char *const *names, const int64_t *admitted,
                            const int64_t *refused, size_t n)
{
    if (n == 0) {
        return ERR_OK;
    }
    struct buf nb, lists;
    buf_init(&nb, BUF_MAX_HUGE);
    buf_init(&lists, BUF_MAX_HUGE);
    struct bytes *views = xmalloc(n * sizeof *views);
    for (size_t i = 0; i < n; i++) {
        views[i] = bytes_str(names[i]);
    }
    enum err e = db_array_binary(&nb, DB_OID_TEXT, views, n);
    free(views);
    char *a = NULL, *r = NULL;
    for (int which = 0; which < 2 && !e; which++) {
        const int64_t *v = which ? refused : admitted;
        lists.len = 0;
        e = buf_append(&lists, "{", 1);
        for (size_t i = 0; i < n && !e; i++) {
            char t[24];
            int k = snprintf(t, sizeof t, "%s%" PRId64, i ? "," : "", v[i]);
            e = buf_append(&lists, t, (size_t)k);
        }
        if (!e) {
            char *s = xprintf("%.*s}", (int)lists.len, (const char *)lists.ptr);
            *(which ? &r : &a) = s;
        }
    }
    if (!e) {
        struct db_params p;
        db_params_init(&p);
        db_param_bytes(&p, buf_bytes(&nb));
        db_param_text(&p, a);
        db_param_text(&p, r);
        e = db_exec(db, "SELECT pds_rate_stats_add($1::text[], $2::bigint[], $3::bigint[])", &p,
                    NULL);
    }
    free(a);
    free(r);
    buf_clear(&nb);
    buf_clear(&lists);
    return e;
}

enum err rl_store_sweep(struct db *db, int64_t *deleted)
{
    return db_exec(db,
                   "DELETE FROM rate_limit_counter WHERE ctid IN (SELECT ctid FROM"
                   " rate_limit_counter WHERE expires_at < now() LIMIT 10000)",
                   NULL, deleted);
}

enum err rl_store_active_accounts(struct db *db, int64_t *count)
{
    PGresult *r;
    enum err e = db_query(db,
                          "SELECT count(*) FROM account"
                          " WHERE takedown_ref IS NULL AND deactivated_at IS NULL",
                          NULL, &r);
    if (e) {
        return e;
    }
    *count = db_col_i64(r, 0, 0);
    PQclear(r);
    return ERR_OK;
}
