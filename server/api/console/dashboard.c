/* dashboard.c - the dashboard's figures (GET /admin/api/dashboard) and its two charts,
 * drawn by the server (GET /admin/chart/signups.svg, /admin/chart/writes.svg). Every figure
 * is read from PostgreSQL when asked, so each process of a host shows the same numbers;
 * only the subscriber count is this process's. */
#include "api/console/console.h"

#include <stdio.h>
#include <sys/statvfs.h>
#include <time.h>

#include "api/sync/subscribe.h"
#include "config/config.h"
#include "db/metrics.h"
#include "db/outbox.h"
#include "web/chart.h"
#include "web/page.h"

#define SIGNUP_DAYS     30
#define WRITE_MINUTES   60
#define CHART_WIDTH     560
#define CHART_HEIGHT    180
#define CHART_MAX_BYTES (256 << 10)
#define DAY_S           86400
#define MINUTE_S        60

static bool fs_space(const char *path, int64_t *free_b, int64_t *total_b)
{
    struct statvfs v;
    if (!path || statvfs(path, &v) != 0) {
        return false;
    }
    *free_b = (int64_t)v.f_bavail * (int64_t)v.f_frsize;
    *total_b = (int64_t)v.f_blocks * (int64_t)v.f_frsize;
    return true;
}

/* Counts per bucket of `step` seconds, the last bucket holding now: counts[n], oldest
 * first, from a query returning (bucket start as Unix seconds, count) and, in its first row
 * only, nothing else. sql takes $1 = the first bucket's start (Unix seconds), $2 = step. */
static int buckets(struct xrpc_req *rq, const char *sql, int64_t step, size_t n, int64_t *counts,
                   int64_t *first)
{
    int64_t now = (int64_t)time(NULL);
    *first = (now / step - (int64_t)n + 1) * step;
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, *first);
    db_param_i64(&p, step);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, sql, &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    memset(counts, 0, n * sizeof *counts);
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t at = db_col_i64(r, i, 0), k = (at - *first) / step;
        if (k >= 0 && (size_t)k < n) {
            counts[k] += db_col_i64(r, i, 1);
        }
    }
    return 0;
}

/* Bucket starts are whole multiples of the step in Unix time (UTC days, minutes). */
static const char signups_sql[] =
    "SELECT (floor(extract(epoch FROM created_at) / $2) * $2)::bigint AS b, count(*)"
    " FROM account WHERE created_at >= to_timestamp($1) GROUP BY b";
static const char writes_sql[] =
    "SELECT (floor(extract(epoch FROM created_at) / $2) * $2)::bigint AS b, count(*)"
    " FROM repo_seq WHERE created_at >= to_timestamp($1) AND event_type = 'commit' GROUP BY b";

static json_t *series_json(const int64_t *counts, size_t n, int64_t first, int64_t step,
                           const char *fmt)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        time_t t = (time_t)(first + (int64_t)i * step);
        struct tm tm;
        gmtime_r(&t, &tm);
        char label[32];
        strftime(label, sizeof label, fmt, &tm);
        json_array_append_new(a,
                              json_pack("{s:s,s:I}", "at", label, "count", (json_int_t)counts[i]));
    }
    return a;
}

static json_t *write_budget(void)
{
    double used, limit;
    if (!metrics_value(METRICS_WRITE_BUDGET_USED, NULL, &used) ||
        !metrics_value(METRICS_WRITE_BUDGET_LIMIT, NULL, &limit)) {
        return json_pack("{s:b}", "available", 0);
    }
    return json_pack("{s:b,s:f,s:f}", "available", 1, "used", used, "limit", limit);
}

/* GET /admin/api/dashboard */
int console_api_dashboard(struct xrpc_req *rq)
{
    struct console_session s;
    int st = console_session_require(rq, false, false, &s);
    if (st) {
        return st;
    }
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT count(*),"
                    " count(*) FILTER (WHERE takedown_ref IS NULL AND deactivated_at IS NULL),"
                    " count(*) FILTER (WHERE takedown_ref IS NOT NULL),"
                    " count(*) FILTER (WHERE deactivated_at IS NOT NULL AND takedown_ref IS NULL),"
                    " coalesce(sum(repo_bytes), 0)::bigint, coalesce(sum(blob_bytes), 0)::bigint,"
                    " (SELECT count(*) FROM blob), pg_database_size(current_database())"
                    " FROM account",
                    NULL, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    int64_t head = 0, pruned = 0;
    if (outbox_head(rq->db, &head, &pruned)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    int64_t signups[SIGNUP_DAYS], writes[WRITE_MINUTES], first_day, first_minute;
    if ((st = buckets(rq, signups_sql, DAY_S, SIGNUP_DAYS, signups, &first_day)) ||
        (st = buckets(rq, writes_sql, MINUTE_S, WRITE_MINUTES, writes, &first_minute))) {
        return st;
    }
    const struct config *cfg = rq->cfg;
    json_t *storage =
        json_pack("{s:I,s:I,s:I,s:I,s:s}", "repoBytes", (json_int_t)db_col_i64(r, 0, 4),
                  "blobBytes", (json_int_t)db_col_i64(r, 0, 5), "blobCount",
                  (json_int_t)db_col_i64(r, 0, 6), "databaseBytes", (json_int_t)db_col_i64(r, 0, 7),
                  "blobStore", cfg->blobstore_s3_bucket ? "s3" : "disk");
    int64_t fb, tb;
    if (fs_space(cfg->blobstore_s3_bucket ? cfg->data_dir : cfg->blobstore_disk, &fb, &tb)) {
        json_object_set_new(storage, "diskFreeBytes", json_integer(fb));
        json_object_set_new(storage, "diskTotalBytes", json_integer(tb));
    }
    json_t *relays = json_array();
    for (size_t i = 0; i < cfg->crawlers.len; i++) {
        json_array_append_new(relays, json_string(cfg->crawlers.items[i]));
    }
    json_t *out = json_pack(
        "{s:{s:I,s:I,s:I,s:I},s:o,s:o,s:o,s:{s:I,s:I},s:o,s:o,s:s}", "accounts", "total",
        (json_int_t)db_col_i64(r, 0, 0), "active", (json_int_t)db_col_i64(r, 0, 1), "takendown",
        (json_int_t)db_col_i64(r, 0, 2), "deactivated", (json_int_t)db_col_i64(r, 0, 3),
        "signupsPerDay", series_json(signups, SIGNUP_DAYS, first_day, DAY_S, "%Y-%m-%d"),
        "writesPerMinute", series_json(writes, WRITE_MINUTES, first_minute, MINUTE_S, "%H:%M"),
        "storage", storage, "firehose", "headSeq", (json_int_t)head, "subscribers",
        (json_int_t)sync_subscribe_count(), "writeBudget", write_budget(), "relays", relays,
        "hostname", cfg->hostname);
    return xrpc_reply_json(rq, 200, out);
}

static int chart(struct xrpc_req *rq, const char *title, const char *sql, int64_t step, size_t n,
                 const char *fmt)
{
    struct console_session s;
    int st = console_session_require(rq, false, false, &s);
    if (st) {
        return st;
    }
    int64_t counts[SIGNUP_DAYS > WRITE_MINUTES ? SIGNUP_DAYS : WRITE_MINUTES], first;
    if ((st = buckets(rq, sql, step, n, counts, &first))) {
        return st;
    }
    struct chart_point pts[SIGNUP_DAYS > WRITE_MINUTES ? SIGNUP_DAYS : WRITE_MINUTES];
    for (size_t i = 0; i < n; i++) {
        time_t t = (time_t)(first + (int64_t)i * step);
        struct tm tm;
        gmtime_r(&t, &tm);
        char *label = arena_alloc(rq->arena, 32);
        strftime(label, 32, fmt, &tm);
        pts[i] = (struct chart_point){label, (double)counts[i]};
    }
    struct buf svg;
    buf_init(&svg, CHART_MAX_BYTES);
    if (chart_bars_svg(title, pts, n, CHART_WIDTH, CHART_HEIGHT, &svg)) {
        buf_clear(&svg);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_buf(rq, 200, "image/svg+xml", &svg);
}

/* GET /admin/chart/signups.svg */
int console_chart_signups(struct xrpc_req *rq)
{
    return chart(rq, "Sign-ups per day (UTC), last 30 days", signups_sql, DAY_S, SIGNUP_DAYS,
                 "%b %d");
}

/* GET /admin/chart/writes.svg */
int console_chart_writes(struct xrpc_req *rq)
{
    return chart(rq, "Repository writes per minute (UTC), last hour", writes_sql, MINUTE_S,
                 WRITE_MINUTES, "%H:%M");
}
