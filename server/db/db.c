/* db.c - libpq wrapper: lazy connect and reconnect, parameterised statements with binary
 * results, transactions, getters for PostgreSQL's binary layouts, per-thread handles. */
#include "db/db.h"

#include "db/metrics.h"

#include <assert.h>
#include <endian.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/log.h"
#include "db/metrics.h"

/* Type OIDs from PostgreSQL's catalog (pg_type.dat); stable across versions. */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_NAME = 19,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_JSON = 114,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_JSONB = 3802,
};

#define JSONB_BINARY_VERSION 1                 /* first byte of a jsonb value in binary format */
#define PG_EPOCH_UNIX_US     946684800000000LL /* 2000-01-01T00:00:00Z, PostgreSQL's epoch */
#define DB_RETRY_SLEEP_MS    500
#define SQL_LOG_PREFIX       60 /* characters of a failed statement quoted in the log */

void db_params_init(struct db_params *p)
{
    p->n = 0;
}

static void param_push(struct db_params *p, const char *v, int len, int fmt)
{
    if (p->n >= DB_PARAMS_MAX) {
        abort(); /* a statement with more parameters than DB_PARAMS_MAX is our bug */
    }
    p->values[p->n] = v;
    p->lengths[p->n] = len;
    p->formats[p->n] = fmt;
    p->n++;
}

void db_param_text(struct db_params *p, const char *s)
{
    param_push(p, s, 0, 0);
}

void db_param_textn(struct db_params *p, const char *s, size_t len)
{
    /* text parameters are read up to their NUL by libpq, so a length-limited view is passed
     * in binary format: the text type's binary form is its bytes. */
    param_push(p, s, (int)len, 1);
}

void db_param_bytes(struct db_params *p, struct bytes b)
{
    param_push(p, b.ptr ? (const char *)b.ptr : "", (int)b.len, 1);
}

void db_param_i64(struct db_params *p, int64_t v)
{
    if (p->n >= DB_PARAMS_MAX) {
        abort();
    }
    snprintf(p->_nums[p->n], sizeof p->_nums[p->n], "%lld", (long long)v);
    param_push(p, p->_nums[p->n], 0, 0);
}

void db_param_bool(struct db_params *p, bool v)
{
    param_push(p, v ? "true" : "false", 0, 0);
}

void db_init(struct db *db, const char *url)
{
    memset(db, 0, sizeof *db);
    db->_url = xstrndup(url, strlen(url));
}

/* Query metrics: latency, statements in flight (against the connections open: the pool's
 * use) and failures. Made once; updates are atomic adds. */
struct db_metrics {
    struct metrics_series *latency, *in_flight, *errors, *connections;
};

static const struct db_metrics *db_metrics(void)
{
    static struct db_metrics m;
    static _Atomic int ready;
    if (!ready) {
        m.latency = metrics_series(
            metrics_family("pds_db_query_duration_seconds", "Time one PostgreSQL statement took",
                           METRICS_HISTOGRAM, NULL, 0, metrics_latency_buckets,
                           metrics_latency_buckets_len),
            NULL);
        m.in_flight = metrics_gauge("pds_db_queries_in_flight",
                                    "PostgreSQL statements running now (connections in use)");
        m.errors =
            metrics_counter("pds_db_query_errors_total", "PostgreSQL statements that failed");
        m.connections = metrics_gauge("pds_db_connections_open",
                                      "PostgreSQL connections this process holds open");
        ready = 1;
    }
    return &m;
}

void db_clear(struct db *db)
{
    if (db->_conn) {
        PQfinish(db->_conn);
        metrics_move(db_metrics()->connections, -1);
    }
    if (db->_url) {
        explicit_bzero(db->_url, strlen(db->_url)); /* may hold a password */
        free(db->_url);
    }
    memset(db, 0, sizeof *db);
}

const char *db_url(const struct db *db)
{
    return db->_url ? db->_url : "";
}

/* libpq error text ends with a newline; the log wants one line. */
static const char *one_line(const char *msg, char *out, size_t cap)
{
    snprintf(out, cap, "%s", msg ? msg : "");
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/* Server NOTICEs ("relation already exists, skipping") are debug detail, not stderr noise. */
static void on_notice(void *arg, const char *message)
{
    char line[512];
    log_debug(NULL, "postgres: %s", one_line(message, line, sizeof line));
}

/* Opens the connection if there is none or it broke. Quiet: callers log. */
static enum err ensure_conn(struct db *db, char *why, size_t why_len)
{
    if (db->_conn && PQstatus(db->_conn) == CONNECTION_OK) {
        return ERR_OK;
    }
    if (db->_conn) {
        PQfinish(db->_conn);
        db->_conn = NULL;
        db->_in_tx = false; /* a broken connection's transaction is gone */
        metrics_move(db_metrics()->connections, -1);
    }
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", DB_CONNECT_TIMEOUT_S);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {db->_url, timeout, "pds", NULL};
    /* expand_dbname=1: dbname holds the full URL or conninfo; libpq applies keywords in
     * order, so our timeout and application name override the URL's. */
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        one_line(c ? PQerrorMessage(c) : "out of memory", why, why_len);
        PQfinish(c);
        return ERR_DB;
    }
    PQsetNoticeProcessor(c, on_notice, NULL);
    db->_conn = c;
    metrics_move(db_metrics()->connections, 1);
    db->_nprepared = 0; /* prepared statements die with their connection */
    return ERR_OK;
}

enum err db_connect_wait(struct db *db, int timeout_ms)
{
    char why[256] = "";
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (ensure_conn(db, why, sizeof why) == ERR_OK) {
            return ERR_OK;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms) {
            log_error(NULL, "could not connect to the database: %s", why);
            return ERR_DB;
        }
        log_info(NULL, "waiting for the database: %s", why);
        struct timespec nap = {0, DB_RETRY_SLEEP_MS * 1000000L};
        nanosleep(&nap, NULL);
    }
}

static void log_sql_error(struct db *db, const char *sql, const PGresult *r)
{
    char msg[512];
    const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!detail) {
        detail = one_line(PQerrorMessage(db->_conn), msg, sizeof msg);
    }
    /* Expected conflicts (duplicate keys, serialization retries) are the caller's to judge. */
    enum log_level lvl = strcmp(db->_sqlstate, "23505") == 0 || db_should_retry(db)
                             ? LOG_LEVEL_DEBUG
                             : LOG_LEVEL_ERROR;
    log_write(lvl, NULL, "sql error %s: %s [%.*s]", db->_sqlstate[0] ? db->_sqlstate : "-", detail,
              SQL_LOG_PREFIX, sql);
}

/* Prepares stmt on the current connection unless it already is. */
static PGresult *prepare(struct db *db, const struct db_stmt *stmt)
{
    for (int i = 0; i < db->_nprepared; i++) {
        if (db->_prepared[i] == stmt) {
            return NULL;
        }
    }
    PGresult *r = PQprepare(db->_conn, stmt->name, stmt->sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        return r; /* the caller reports it */
    }
    PQclear(r);
    if (db->_nprepared < DB_PREPARED_MAX) {
        db->_prepared[db->_nprepared++] = stmt;
    }
    return NULL;
}

static enum err run_stmt_timed(struct db *db, const char *sql, const struct db_stmt *stmt,
                               const struct db_params *p, bool script, PGresult **out);

static void (*latency_hook)(int64_t us);

void db_set_latency_hook(void (*fn)(int64_t us))
{
    latency_hook = fn;
}

static int64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static enum err run_stmt(struct db *db, const char *sql, const struct db_stmt *stmt,
                         const struct db_params *p, bool script, PGresult **out)
{
    const struct db_metrics *m = db_metrics();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    metrics_move(m->in_flight, 1);
    enum err e = run_stmt_timed(db, sql, stmt, p, script, out);
    metrics_move(m->in_flight, -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_observe(m->latency,
                    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (e) {
        metrics_inc(m->errors);
    }
    return e;
}

static enum err run_stmt_timed(struct db *db, const char *sql, const struct db_stmt *stmt,
                               const struct db_params *p, bool script, PGresult **out)
{
    *out = NULL;
    db->_sqlstate[0] = '\0';
    char why[256];
    if (db->_conn && PQstatus(db->_conn) != CONNECTION_OK && db->_in_tx) {
        /* reconnecting would silently drop the transaction's earlier statements */
        snprintf(db->_sqlstate, sizeof db->_sqlstate, "08006");
        log_error(NULL, "database connection lost inside a transaction");
        return ERR_DB;
    }
    if (ensure_conn(db, why, sizeof why) != ERR_OK) {
        snprintf(db->_sqlstate, sizeof db->_sqlstate, "08001");
        log_error(NULL, "could not connect to the database: %s", why);
        return ERR_DB;
    }
    PGresult *r = NULL;
    int64_t started_us = latency_hook ? mono_us() : 0;
    if (stmt) {
        sql = stmt->sql;
        r = prepare(db, stmt);
        if (!r) {
            r = PQexecPrepared(db->_conn, stmt->name, p ? p->n : 0, p ? p->values : NULL,
                               p ? p->lengths : NULL, p ? p->formats : NULL, 1);
        }
    } else if (script) {
        r = PQexec(db->_conn, sql);
    } else {
        r = PQexecParams(db->_conn, sql, p ? p->n : 0, NULL, p ? p->values : NULL,
                         p ? p->lengths : NULL, p ? p->formats : NULL, 1);
    }
    if (latency_hook) {
        latency_hook(mono_us() - started_us);
    }
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        *out = r;
        return ERR_OK;
    }
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(db->_sqlstate, sizeof db->_sqlstate, "%s", state ? state : "");
    log_sql_error(db, sql, r);
    PQclear(r);
    return strcmp(db->_sqlstate, "23505") == 0 ? ERR_CONFLICT : ERR_DB;
}

static enum err run(struct db *db, const char *sql, const struct db_params *p, bool script,
                    PGresult **out)
{
    return run_stmt(db, sql, NULL, p, script, out);
}

enum err db_query(struct db *db, const char *sql, const struct db_params *p, PGresult **out)
{
    return run(db, sql, p, false, out);
}

enum err db_query_stmt(struct db *db, const struct db_stmt *stmt, const struct db_params *p,
                       PGresult **out)
{
    return run_stmt(db, NULL, stmt, p, false, out);
}

static void clear_result(void *r)
{
    PQclear(r);
}

enum err db_query_in(struct db *db, struct arena *a, const char *sql, const struct db_params *p,
                     PGresult **out)
{
    enum err e = run(db, sql, p, false, out);
    if (e == ERR_OK) {
        arena_defer(a, clear_result, *out);
    }
    return e;
}

enum err db_query_stmt_in(struct db *db, struct arena *a, const struct db_stmt *stmt,
                          const struct db_params *p, PGresult **out)
{
    enum err e = run_stmt(db, NULL, stmt, p, false, out);
    if (e == ERR_OK) {
        arena_defer(a, clear_result, *out);
    }
    return e;
}

enum err db_exec(struct db *db, const char *sql, const struct db_params *p, int64_t *affected)
{
    PGresult *r;
    enum err e = run(db, sql, p, false, &r);
    if (e == ERR_OK && affected) {
        const char *n = PQcmdTuples(r);
        *affected = n && *n ? strtoll(n, NULL, 10) : 0;
    }
    PQclear(r);
    return e;
}

enum err db_exec_script(struct db *db, const char *sql)
{
    PGresult *r;
    enum err e = run(db, sql, NULL, true, &r);
    PQclear(r);
    return e;
}

enum err db_begin(struct db *db)
{
    if (db->_in_tx) {
        log_error(NULL, "db_begin inside a transaction");
        return ERR_INTERNAL;
    }
    enum err e = db_exec(db, "BEGIN", NULL, NULL);
    if (e == ERR_OK) {
        db->_in_tx = true;
    }
    return e;
}

static void (*commit_hook)(void);

void db_set_commit_hook(void (*fn)(void))
{
    commit_hook = fn;
}

enum err db_commit(struct db *db)
{
    enum err e = db_exec(db, "COMMIT", NULL, NULL);
    db->_in_tx = false;
    if (!e && commit_hook) {
        commit_hook();
    }
    return e;
}

void db_rollback(struct db *db)
{
    if (!db->_in_tx) {
        return;
    }
    db->_in_tx = false;
    if (db->_conn && PQstatus(db->_conn) == CONNECTION_OK) {
        char state[DB_SQLSTATE_LEN + 1];
        memcpy(state, db->_sqlstate, sizeof state); /* keep the failure the caller reacts to */
        PGresult *r = PQexec(db->_conn, "ROLLBACK");
        PQclear(r);
        memcpy(db->_sqlstate, state, sizeof state);
    }
}

bool db_reusable(const struct db *db)
{
    return db->_conn && PQstatus(db->_conn) == CONNECTION_OK && !db->_in_tx &&
           PQtransactionStatus(db->_conn) == PQTRANS_IDLE;
}

bool db_in_tx(const struct db *db)
{
    return db->_in_tx;
}

const char *db_sqlstate(const struct db *db)
{
    return db->_sqlstate;
}

bool db_should_retry(const struct db *db)
{
    return strcmp(db->_sqlstate, "40001") == 0 || strcmp(db->_sqlstate, "40P01") == 0;
}

static void check_cell(const PGresult *r, int row, int col)
{
    assert(row >= 0 && row < PQntuples(r));
    assert(col >= 0 && col < PQnfields(r));
    (void)r;
    (void)row;
    (void)col;
}

bool db_col_null(const PGresult *r, int row, int col)
{
    check_cell(r, row, col);
    return PQgetisnull(r, row, col);
}

const char *db_col_text(const PGresult *r, int row, int col)
{
    check_cell(r, row, col);
    if (PQgetisnull(r, row, col)) {
        return NULL;
    }
    const char *v = PQgetvalue(r, row, col);
    if (PQfformat(r, col) == 1 && PQftype(r, col) == OID_JSONB && PQgetlength(r, row, col) > 0 &&
        v[0] == JSONB_BINARY_VERSION) {
        return v + 1;
    }
    return v; /* libpq NUL-terminates every value, binary ones included */
}

struct bytes db_col_bytes(const PGresult *r, int row, int col)
{
    check_cell(r, row, col);
    if (PQgetisnull(r, row, col)) {
        return (struct bytes){NULL, 0};
    }
    return bytes_of(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

static uint64_t be_read(const char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = v << 8 | (uint8_t)p[i];
    }
    return v;
}

int64_t db_col_i64(const PGresult *r, int row, int col)
{
    check_cell(r, row, col);
    if (PQgetisnull(r, row, col)) {
        return 0;
    }
    const char *v = PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col);
    if (PQfformat(r, col) == 0 || PQftype(r, col) == OID_TEXT || PQftype(r, col) == OID_VARCHAR) {
        return strtoll(v, NULL, 10);
    }
    switch (PQftype(r, col)) {
    case OID_INT2:
        return (int16_t)be_read(v, 2);
    case OID_INT4:
        return (int32_t)be_read(v, 4);
    case OID_INT8:
        return (int64_t)be_read(v, 8);
    default:
        assert(len == 8 || len == 4 || len == 2);
        return len == 8   ? (int64_t)be_read(v, 8)
               : len == 4 ? (int32_t)be_read(v, 4)
                          : (int16_t)be_read(v, len);
    }
}

bool db_col_bool(const PGresult *r, int row, int col)
{
    check_cell(r, row, col);
    if (PQgetisnull(r, row, col)) {
        return false;
    }
    const char *v = PQgetvalue(r, row, col);
    if (PQfformat(r, col) == 0) {
        return v[0] == 't';
    }
    return v[0] != 0;
}

int64_t db_col_time_us(const PGresult *r, int row, int col)
{
    check_cell(r, row, col);
    if (PQgetisnull(r, row, col)) {
        return 0;
    }
    assert(PQfformat(r, col) == 1 && PQgetlength(r, row, col) == 8);
    /* integer datetimes: microseconds since 2000-01-01 UTC */
    return (int64_t)be_read(PQgetvalue(r, row, col), 8) + PG_EPOCH_UNIX_US;
}

/* Per-thread handles. */

static char *thread_url;
static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void thread_db_free(void *p)
{
    struct db *db = p;
    db_clear(db);
    free(db);
}

static void thread_key_make(void)
{
    if (pthread_key_create(&thread_key, thread_db_free) != 0) {
        abort();
    }
}

void db_thread_set_url(const char *url)
{
    pthread_once(&thread_once, thread_key_make);
    free(thread_url);
    thread_url = xstrndup(url, strlen(url));
}

struct db *db_thread(void)
{
    pthread_once(&thread_once, thread_key_make);
    struct db *db = pthread_getspecific(thread_key);
    if (!db) {
        assert(thread_url && "db_thread_set_url must run first");
        db = xmalloc(sizeof *db);
        db_init(db, thread_url ? thread_url : "");
        if (pthread_setspecific(thread_key, db) != 0) {
            abort();
        }
    }
    return db;
}
